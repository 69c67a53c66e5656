/*
 * vshint.h: announced demand (seed 002)
 *
 * A workload may say ahead of time what it will need: "4 vCPUs and 2 GiB
 * from +5m for 10m".  During its window a hint raises the floor under the
 * forecast, and since the allocator acts a lead time ahead, the allocation
 * lands by the window's start.  Hints never lift a target past the policy.
 */
#pragma once

#include <glib.h>

#include "telemetry/vssample.h"

G_BEGIN_DECLS

typedef struct _vsHint vsHint;
struct _vsHint {
    gint64 id;                  /* the store's; 0 before it is stored */
    char uuid[VS_UUID_STRLEN];
    char *name;
    guint vcpus;                /* 0: says nothing of CPU */
    guint64 memory_kib;         /* 0: says nothing of memory */
    gint64 start_us;            /* window [start, end) */
    gint64 end_us;
    char *reason;               /* may be NULL */
    gint64 created_us;
    gboolean cancelled;
};

/* Init zeroes it; Clear frees the strings. */
void vsHintInit(vsHint *hint);
void vsHintClear(vsHint *hint);
