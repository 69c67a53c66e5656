/*
 * vsrates.h: cumulative counters in, per-interval rates out
 *
 * Keeps each domain's previous counters.  The first sight of a domain, and
 * the interval after a reset (a counter going backwards: the domain
 * restarted), yield no rate for the affected counters, never a negative one.
 */
#pragma once

#include "telemetry/vssample.h"

G_BEGIN_DECLS

typedef struct _vsRateTracker vsRateTracker;

vsRateTracker *vsRateTrackerNew(void);
void vsRateTrackerFree(vsRateTracker *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsRateTracker, vsRateTrackerFree)

/* Record @c seen at @now_us.  When the domain was seen before, fill @ret
 * (vsSampleInit'ed by the caller) with rates since then and return TRUE;
 * the first sight returns FALSE.  Fields whose counter is missing now or
 * before, or went backwards, stay unknown.  Memory values need no history
 * and are filled whenever present. */
gboolean vsRateTrackerUpdate(vsRateTracker *t, const vsDomainCounters *c,
                             gint64 now_us, vsSample *ret);

/* Forget domains not seen since @before_us (they were undefined). */
guint vsRateTrackerExpire(vsRateTracker *t, gint64 before_us);

guint vsRateTrackerSize(vsRateTracker *t);

G_END_DECLS
