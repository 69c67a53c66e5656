/*
 * vsmodelquantile.c: a quantile of the recent values, as a model
 *
 * VPA's idea without VPA's constants: a histogram of the series with
 * exponentially fading weights, read at any quantile.  It forecasts no
 * movement, only a level that is exceeded a known share of the time, which
 * makes it an allocation in its own right; the selector runs several
 * (quantile, half-life) pairs and lets each series' costs pick.
 */
#include <config.h>

#include <math.h>

#include "util/vserror.h"
#include "vsmodelvpa.h"

#define VS_QUANTILE_DEFAULT 0.95
#define VS_QUANTILE_HALF_LIFE_S (24 * 3600.0)
/* Memory is in MiB here: buckets from 1 MiB, 5 % wide, to 1 PiB. */
#define VS_QUANTILE_MEMORY_FIRST_MIB 1.0
#define VS_QUANTILE_MEMORY_MAX_MIB 1e9

typedef struct {
    vsModelOptions opts;
    vsVpaHistogram *hist;
    double quantile;
    double half_life_s;
    double n;               /* observations so far */
} vsModelQuantileState;

static vsVpaHistogram *
vsModelQuantileHistogram(const vsModelQuantileState *m)
{
    if (m->opts.resource == VS_RESOURCE_MEMORY)
        return vsVpaHistogramNew(VS_QUANTILE_MEMORY_FIRST_MIB, VS_QUANTILE_MEMORY_MAX_MIB,
                                 m->half_life_s);
    return vsVpaHistogramNew(VS_VPA_CPU_FIRST_BUCKET, VS_VPA_CPU_MAX, m->half_life_s);
}

static gpointer
vsModelQuantileCreate(const vsModelOptions *opts)
{
    vsModelQuantileState *m = g_new0(vsModelQuantileState, 1);

    m->opts = *opts;
    m->quantile = opts->quantile > 0 && opts->quantile <= 1 ? opts->quantile : VS_QUANTILE_DEFAULT;
    m->half_life_s = opts->half_life_s > 0 ? opts->half_life_s : VS_QUANTILE_HALF_LIFE_S;
    m->hist = vsModelQuantileHistogram(m);
    return m;
}

static void
vsModelQuantileDestroy(gpointer model)
{
    vsModelQuantileState *m = model;

    vsVpaHistogramFree(m->hist);
    g_free(m);
}

static void
vsModelQuantileUpdate(gpointer model, double t, double y, const double *x)
{
    vsModelQuantileState *m = model;

    if (!isfinite(y) || y < 0)
        return;
    vsVpaHistogramAdd(m->hist, y, 1, t);
    m->n++;
}

static gboolean
vsModelQuantileFit(gpointer model, const vsSeries *series, GError **error)
{
    vsModelQuantileState *m = model;

    vsVpaHistogramFree(m->hist);
    m->hist = vsModelQuantileHistogram(m);
    m->n = 0;
    for (gsize i = 0; i < series->n; i++)
        vsModelQuantileUpdate(m, series->t ? series->t[i] : i * m->opts.step_s, series->y[i],
                              NULL);
    if (m->n == 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "quantile: no values to learn from");
        return FALSE;
    }
    return TRUE;
}

static gboolean
vsModelQuantileForecast(gpointer model, guint horizon, const double *future_x, double *point)
{
    vsModelQuantileState *m = model;
    double level;

    if (m->n == 0)
        return FALSE;
    level = vsVpaHistogramPercentile(m->hist, m->quantile);
    for (guint h = 0; h < horizon; h++)
        point[h] = level;
    return TRUE;
}

static char *
vsModelQuantileDescribe(gpointer model)
{
    vsModelQuantileState *m = model;

    return g_strdup_printf("quantile q=%.3g half-life=%gh", m->quantile, m->half_life_s / 3600);
}

const vsModelDriver vsModelQuantile = {
    .name = "quantile",
    .create = vsModelQuantileCreate,
    .destroy = vsModelQuantileDestroy,
    .fit = vsModelQuantileFit,
    .update = vsModelQuantileUpdate,
    .forecast = vsModelQuantileForecast,
    .describe = vsModelQuantileDescribe,
};
