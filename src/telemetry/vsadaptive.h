/*
 * vsadaptive.h: each domain's sampling interval from its recent volatility
 *
 * From seed 002: a volatile domain is sampled faster, a flat one slower.
 * Volatility is the coefficient of variation (stddev / mean) of the last
 * @window CPU rates; the interval moves linearly from max_interval (CV 0)
 * to min_interval (CV >= cv_high).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _vsAdaptiveConfig vsAdaptiveConfig;
struct _vsAdaptiveConfig {
    guint64 min_interval_ms;
    guint64 max_interval_ms;
    guint window;           /* rates considered, >= 2 */
    double cv_high;         /* a CV at or above this samples at min_interval */
};

/* min 5 s, max 60 s, window 12, cv_high 0.5 */
void vsAdaptiveConfigDefaults(vsAdaptiveConfig *cfg);

typedef struct _vsAdaptive vsAdaptive;

vsAdaptive *vsAdaptiveNew(const vsAdaptiveConfig *cfg);
void vsAdaptiveFree(vsAdaptive *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsAdaptive, vsAdaptiveFree)

/* Take a new rate of domain @uuid observed at @now_us; NaN rates are
 * ignored.  Schedules its next sample. */
void vsAdaptiveObserve(vsAdaptive *a, const char *uuid, double rate, gint64 now_us);
/* The interval chosen for @uuid: min_interval until its window is full,
 * so a new domain is learnt quickly. */
guint64 vsAdaptiveIntervalMs(vsAdaptive *a, const char *uuid);
/* TRUE when @uuid is due at @now_us (unknown domains are always due). */
gboolean vsAdaptiveIsDue(vsAdaptive *a, const char *uuid, gint64 now_us);
/* The volatility (CV) behind the interval, NaN before two rates. */
double vsAdaptiveVolatility(vsAdaptive *a, const char *uuid);
void vsAdaptiveForget(vsAdaptive *a, const char *uuid);

G_END_DECLS
