/*
 * vsmodelseasonal.c: seasonal naive
 *
 * The forecast for a step is the value observed one season before it (or
 * whole seasons before, beyond one season ahead).  The season is
 * opts->period, or detected at fit (vsperiod.h); without one the model is
 * the last value.  A ring of the last season's values makes an update O(1)
 * and a forecast O(horizon).
 *
 * "seasonal-peak" forecasts the peak of the last few seasons (opts->seasons)
 * at the step's phase and its two neighbours.  Its errors are mostly below
 * zero, so its upper bounds follow the season's shape rather than standing
 * at its top: memory that a daily job takes every afternoon is given back
 * in the morning, while a demand that starts a little earlier or later
 * than last time is still covered.
 */
#include <config.h>

#include <math.h>

#include "util/vserror.h"
#include "vsmodel.h"
#include "vsperiod.h"

/* The longest season detected: a week of 5-minute steps. */
#define VS_MODEL_SEASONAL_MAX_PERIOD 2016
/* "seasonal-peak": seasons looked back by default */
#define VS_MODEL_SEASONAL_PEAK_SEASONS 3

typedef struct {
    guint given;            /* opts->period, 0 to detect */
    guint period;           /* season in use, 0 for none (last value) */
    guint seasons;          /* seasons kept: 1, or the peak's */
    double strength;        /* of a detected season, else 0 */
    guint size;             /* ring length: seasons x period, or seasons */
    double *ring;           /* value at each phase of the last season, NaN
                             * while it has none (values kept are finite):
                             * no second array for a step to miss in */
    guint64 steps;          /* observations taken, missing ones included */
    gboolean seen;
    double last;            /* the last observed value */
} vsModelSeasonalState;

/* Empty the ring and size it for @period (0: last value). */
static void
vsModelSeasonalReset(vsModelSeasonalState *m, guint period)
{
    g_free(m->ring);
    m->period = period;
    m->size = MAX(period, 1) * m->seasons;
    m->ring = g_new(double, m->size);
    for (guint i = 0; i < m->size; i++)
        m->ring[i] = NAN;
    m->steps = 0;
    m->seen = FALSE;
    m->strength = 0;
}

static gpointer
vsModelSeasonalCreate(const vsModelOptions *opts)
{
    vsModelSeasonalState *m = g_new0(vsModelSeasonalState, 1);

    m->given = opts->period;
    m->seasons = 1;
    vsModelSeasonalReset(m, opts->period);
    return m;
}

static gpointer
vsModelSeasonalPeakCreate(const vsModelOptions *opts)
{
    vsModelSeasonalState *m = g_new0(vsModelSeasonalState, 1);

    m->given = opts->period;
    m->seasons = opts->seasons ? opts->seasons : VS_MODEL_SEASONAL_PEAK_SEASONS;
    vsModelSeasonalReset(m, opts->period);
    return m;
}

static void
vsModelSeasonalDestroy(gpointer model)
{
    vsModelSeasonalState *m = model;

    if (!m)
        return;
    g_free(m->ring);
    g_free(m);
}

/* A missing value keeps the phase's value from the seasons before, or
 * takes the last value when the phase has none yet. */
static void
vsModelSeasonalUpdate(gpointer model, double t, double y, const double *x)
{
    vsModelSeasonalState *m = model;
    guint phase = m->steps++ % m->size;
    guint before = (phase + m->size - MAX(m->period, 1)) % m->size;

    if (isfinite(y)) {
        m->ring[phase] = y;
        m->last = y;
        m->seen = TRUE;
    } else if (m->seen) {
        m->ring[phase] = !isnan(m->ring[before]) ? m->ring[before] : m->last;
    }
}

static gboolean
vsModelSeasonalFit(gpointer model, const vsSeries *series, GError **error)
{
    vsModelSeasonalState *m = model;
    guint period = m->given;
    double strength = 0;
    gsize i;

    if (period == 0)
        period = vsPeriodDetect(series->y, series->n, 2,
                                MIN(series->n / 2, VS_MODEL_SEASONAL_MAX_PERIOD),
                                &strength);
    vsModelSeasonalReset(m, period);
    m->strength = strength;
    for (i = 0; i < series->n; i++)
        vsModelSeasonalUpdate(m, series->t ? series->t[i] : 0, series->y[i], NULL);
    if (!m->seen) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "model '%s' has no observation among %" G_GSIZE_FORMAT " values",
                    m->seasons > 1 ? "seasonal-peak" : "seasonal", series->n);
        return FALSE;
    }
    return TRUE;
}

/* Step k ahead falls on phase (steps - 1 + k) mod size, which still holds
 * the value of the latest season there. */
static gboolean
vsModelSeasonalForecast(gpointer model, guint horizon, const double *future_x,
                        double *point)
{
    vsModelSeasonalState *m = model;
    guint k;

    if (!m->seen)
        return FALSE;
    for (k = 1; k <= horizon; k++) {
        guint phase = (m->steps - 1 + k) % m->size;

        point[k - 1] = !isnan(m->ring[phase]) ? m->ring[phase] : m->last;
    }
    return TRUE;
}

/* The value at step @idx of the series, NaN when the ring no longer (or
 * never) held it. */
static double
vsModelSeasonalAt(const vsModelSeasonalState *m, gint64 idx)
{
    gint64 newest = (gint64)m->steps - 1;

    if (idx < 0 || idx > newest || idx <= newest - (gint64)m->size)
        return NAN;
    return m->ring[idx % m->size];
}

/* Step k ahead: the largest value the seasons kept saw at its phase or
 * next to it. */
static gboolean
vsModelSeasonalPeakForecast(gpointer model, guint horizon, const double *future_x,
                            double *point)
{
    vsModelSeasonalState *m = model;
    gint64 period = MAX(m->period, 1);

    if (!m->seen)
        return FALSE;
    for (guint k = 1; k <= horizon; k++) {
        gint64 at = (gint64)m->steps - 1 + k;
        double peak = -INFINITY;

        for (guint back = 1; back <= m->seasons; back++) {
            for (int d = -1; d <= 1; d++) {
                double v = vsModelSeasonalAt(m, at - back * period + d);

                if (v > peak)
                    peak = v;
            }
        }
        point[k - 1] = isfinite(peak) ? peak : m->last;
    }
    return TRUE;
}

static char *
vsModelSeasonalPeakDescribe(gpointer model)
{
    vsModelSeasonalState *m = model;

    return g_strdup_printf("seasonal-peak period=%u seasons=%u", m->period, m->seasons);
}

static char *
vsModelSeasonalDescribe(gpointer model)
{
    vsModelSeasonalState *m = model;

    if (m->period == 0)
        return g_strdup("seasonal period=none (last value)");
    if (m->given)
        return g_strdup_printf("seasonal period=%u", m->period);
    return g_strdup_printf("seasonal period=%u strength=%.2f (detected)",
                           m->period, m->strength);
}

const vsModelDriver vsModelSeasonal = {
    .name = "seasonal",
    .create = vsModelSeasonalCreate,
    .destroy = vsModelSeasonalDestroy,
    .fit = vsModelSeasonalFit,
    .update = vsModelSeasonalUpdate,
    .forecast = vsModelSeasonalForecast,
    .describe = vsModelSeasonalDescribe,
};

const vsModelDriver vsModelSeasonalPeak = {
    .name = "seasonal-peak",
    .create = vsModelSeasonalPeakCreate,
    .destroy = vsModelSeasonalDestroy,
    .fit = vsModelSeasonalFit,
    .update = vsModelSeasonalUpdate,
    .forecast = vsModelSeasonalPeakForecast,
    .describe = vsModelSeasonalPeakDescribe,
};
