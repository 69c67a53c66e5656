/*
 * vsadaptive.c: each domain's sampling interval from its recent volatility
 */
#include <config.h>

#include <math.h>

#include "vsadaptive.h"

/* Below this a mean or a stddev counts as zero. */
#define VS_ADAPTIVE_EPSILON 1e-9

typedef struct {
    gint64 last_us;             /* last observation */
    guint64 interval_ms;        /* chosen at the last observation */
    guint count;                /* rates held, <= window */
    guint head;                 /* next slot to write */
    double rates[];             /* ring of window rates */
} vsAdaptiveDomain;

struct _vsAdaptive {
    vsAdaptiveConfig cfg;
    GHashTable *domains;        /* uuid -> vsAdaptiveDomain */
};

void
vsAdaptiveConfigDefaults(vsAdaptiveConfig *cfg)
{
    cfg->min_interval_ms = 5000;
    cfg->max_interval_ms = 60000;
    cfg->window = 12;
    cfg->cv_high = 0.5;
}

vsAdaptive *
vsAdaptiveNew(const vsAdaptiveConfig *cfg)
{
    vsAdaptive *a = g_new0(vsAdaptive, 1);

    a->cfg = *cfg;
    /* keep the arithmetic sane whatever the configuration said */
    a->cfg.window = MAX(a->cfg.window, 2);
    a->cfg.max_interval_ms = MAX(a->cfg.max_interval_ms, a->cfg.min_interval_ms);
    if (!(a->cfg.cv_high > 0))
        a->cfg.cv_high = 0.5;
    a->domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return a;
}

void
vsAdaptiveFree(vsAdaptive *a)
{
    if (!a)
        return;
    g_hash_table_unref(a->domains);
    g_free(a);
}

static double
vsAdaptiveCV(const vsAdaptive *a, const vsAdaptiveDomain *d)
{
    double mean = 0, var = 0, stddev;
    guint i;

    if (d->count < 2)
        return NAN;
    for (i = 0; i < d->count; i++)
        mean += d->rates[i];
    mean /= d->count;
    for (i = 0; i < d->count; i++)
        var += (d->rates[i] - mean) * (d->rates[i] - mean);
    stddev = sqrt(var / d->count);

    /* an idle domain: flat if it stays idle, volatile if it wakes up */
    if (fabs(mean) < VS_ADAPTIVE_EPSILON)
        return stddev < VS_ADAPTIVE_EPSILON ? 0 : a->cfg.cv_high;
    return stddev / fabs(mean);
}

static guint64
vsAdaptiveChoose(const vsAdaptive *a, const vsAdaptiveDomain *d)
{
    double span = (double) (a->cfg.max_interval_ms - a->cfg.min_interval_ms);
    double cv;

    if (d->count < a->cfg.window)
        return a->cfg.min_interval_ms;
    cv = vsAdaptiveCV(a, d);
    if (isnan(cv))
        return a->cfg.min_interval_ms;
    return a->cfg.max_interval_ms - (guint64) llround(span * CLAMP(cv / a->cfg.cv_high, 0, 1));
}

static vsAdaptiveDomain *
vsAdaptiveLookup(vsAdaptive *a, const char *uuid)
{
    vsAdaptiveDomain *d = g_hash_table_lookup(a->domains, uuid);

    if (!d) {
        d = g_malloc0(sizeof(*d) + a->cfg.window * sizeof(double));
        d->interval_ms = a->cfg.min_interval_ms;
        g_hash_table_insert(a->domains, g_strdup(uuid), d);
    }
    return d;
}

void
vsAdaptiveObserve(vsAdaptive *a, const char *uuid, double rate, gint64 now_us)
{
    vsAdaptiveDomain *d = vsAdaptiveLookup(a, uuid);

    /* an unmeasurable rate still was a sample: it schedules, not counts */
    if (isfinite(rate)) {
        d->rates[d->head] = rate;
        d->head = (d->head + 1) % a->cfg.window;
        d->count = MIN(d->count + 1, a->cfg.window);
    }
    d->last_us = now_us;
    d->interval_ms = vsAdaptiveChoose(a, d);
}

guint64
vsAdaptiveIntervalMs(vsAdaptive *a, const char *uuid)
{
    vsAdaptiveDomain *d = g_hash_table_lookup(a->domains, uuid);

    return d ? d->interval_ms : a->cfg.min_interval_ms;
}

gboolean
vsAdaptiveIsDue(vsAdaptive *a, const char *uuid, gint64 now_us)
{
    vsAdaptiveDomain *d = g_hash_table_lookup(a->domains, uuid);

    if (!d)
        return TRUE;
    return now_us >= d->last_us + (gint64) d->interval_ms * 1000;
}

double
vsAdaptiveVolatility(vsAdaptive *a, const char *uuid)
{
    vsAdaptiveDomain *d = g_hash_table_lookup(a->domains, uuid);

    return d ? vsAdaptiveCV(a, d) : NAN;
}

void
vsAdaptiveForget(vsAdaptive *a, const char *uuid)
{
    g_hash_table_remove(a->domains, uuid);
}
