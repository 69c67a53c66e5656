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

/* Whether @hint counts at @now_us: not cancelled and @now_us in
 * [start - @lead_us, end), so that an allocator acting @lead_us ahead
 * has the allocation in place when the window opens. */
gboolean vsHintActive(const vsHint *hint, gint64 lead_us, gint64 now_us);

/* The floor the active hints among @hints[0..n) put on a domain at
 * @now_us: the largest vCPUs and memory (KiB) any of them asks for, 0 for
 * what none says.  Always writes both; TRUE when at least one hint counts.
 * The caller passes one domain's hints; policy bounds are not applied here. */
gboolean vsHintFloor(const vsHint *hints, gsize n, gint64 lead_us, gint64 now_us,
                     guint *ret_vcpus, guint64 *ret_memory_kib);

G_END_DECLS
