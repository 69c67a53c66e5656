/*
 * vsmodelseasonal.c: seasonal naive
 *
 * The forecast for a step is the value observed one season before it (or
 * whole seasons before, beyond one season ahead).  The season is
 * opts->period, or detected at fit (vsperiod.h); without one the model is
 * the last value.  A ring of the last season's values makes an update O(1)
 * and a forecast O(horizon).
 */
#include <config.h>

#include <math.h>

#include "util/vserror.h"
#include "vsmodel.h"
#include "vsperiod.h"

/* The longest season detected: a week of 5-minute steps. */
#define VS_MODEL_SEASONAL_MAX_PERIOD 2016

typedef struct {
    guint given;            /* opts->period, 0 to detect */
    guint period;           /* season in use, 0 for none (last value) */
    double strength;        /* of a detected season, else 0 */
    guint size;             /* ring length: period, or 1 */
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
    m->size = MAX(period, 1);
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

/* A missing value keeps the phase's value from a season before, or takes
 * the last value when the phase has none yet. */
static void
vsModelSeasonalUpdate(gpointer model, double t, double y, const double *x)
{
    vsModelSeasonalState *m = model;
    guint phase = m->steps++ % m->size;

    if (isfinite(y)) {
        m->ring[phase] = y;
        m->last = y;
        m->seen = TRUE;
    } else if (isnan(m->ring[phase]) && m->seen) {
        m->ring[phase] = m->last;
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
                    "model 'seasonal' has no observation among %" G_GSIZE_FORMAT " values",
                    series->n);
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
