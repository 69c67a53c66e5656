/*
 * vsmodelewma.c: exponentially weighted moving average (simple exponential
 * smoothing)
 *
 * level += alpha * (y - level); every horizon gets the level.  fit picks
 * alpha in (0, 1] minimising the squared one-step-ahead errors: a coarse
 * grid first (the error curve can have several dips), then golden-section
 * search around the best grid point.
 */
#include <config.h>

#include <math.h>

#include "util/vserror.h"
#include "vsmodel.h"

/* alpha before any fit, and the smallest alpha searched */
#define VS_MODEL_EWMA_DEFAULT_ALPHA 0.3
#define VS_MODEL_EWMA_MIN_ALPHA 1e-3
/* golden-section steps: the bracket shrinks to 0.618^16 ~ 5e-4 of a grid
 * cell, an alpha within 3e-5: finer buys nothing but fit time, which the
 * backtest pays daily for every series */
#define VS_MODEL_EWMA_GOLDEN_STEPS 16

static const double vsModelEwmaGrid[] = {
    VS_MODEL_EWMA_MIN_ALPHA, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35,
    0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0,
};

typedef struct {
    double alpha;
    gboolean fitted;        /* alpha came from data */
    gboolean seen;
    double level;
} vsModelEwmaState;

static gpointer
vsModelEwmaCreate(const vsModelOptions *opts)
{
    vsModelEwmaState *m = g_new0(vsModelEwmaState, 1);

    m->alpha = VS_MODEL_EWMA_DEFAULT_ALPHA;
    return m;
}

static void
vsModelEwmaDestroy(gpointer model)
{
    g_free(model);
}

/* The first observation is the initial level; missing ones change
 * nothing. */
static void
vsModelEwmaUpdate(gpointer model, double t, double y, const double *x)
{
    vsModelEwmaState *m = model;

    if (!isfinite(y))
        return;
    if (!m->seen) {
        m->level = y;
        m->seen = TRUE;
        return;
    }
    m->level += m->alpha * (y - m->level);
}

/* Sum of squared one-step-ahead errors of @alpha on @y. */
static double
vsModelEwmaSse(const double *y, gsize n, double alpha)
{
    gboolean seen = FALSE;
    double level = 0, sse = 0;
    gsize i;

    for (i = 0; i < n; i++) {
        double e;

        if (!isfinite(y[i]))
            continue;
        if (!seen) {
            level = y[i];
            seen = TRUE;
            continue;
        }
        e = y[i] - level;
        sse += e * e;
        level += alpha * e;
    }
    return sse;
}

/* Golden-section search for the minimum of the SSE on [@lo, @hi]. */
static double
vsModelEwmaGolden(const double *y, gsize n, double lo, double hi)
{
    const double g = (sqrt(5.0) - 1) / 2;
    double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
    double fa = vsModelEwmaSse(y, n, a), fb = vsModelEwmaSse(y, n, b);
    guint i;

    for (i = 0; i < VS_MODEL_EWMA_GOLDEN_STEPS; i++) {
        if (fa <= fb) {
            hi = b;
            b = a;
            fb = fa;
            a = hi - g * (hi - lo);
            fa = vsModelEwmaSse(y, n, a);
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + g * (hi - lo);
            fb = vsModelEwmaSse(y, n, b);
        }
    }
    return fa <= fb ? a : b;
}

/* The alpha minimising the SSE: the best grid point, refined between its
 * neighbours, kept unless the refinement does better.  Ties (a constant
 * series) go to the largest alpha, the plainest model. */
static double
vsModelEwmaBestAlpha(const double *y, gsize n)
{
    guint count = G_N_ELEMENTS(vsModelEwmaGrid), best = count - 1, i;
    double best_sse = vsModelEwmaSse(y, n, vsModelEwmaGrid[best]), refined;

    for (i = count - 1; i-- > 0;) {
        double sse = vsModelEwmaSse(y, n, vsModelEwmaGrid[i]);

        if (sse < best_sse) {
            best = i;
            best_sse = sse;
        }
    }
    refined = vsModelEwmaGolden(y, n, vsModelEwmaGrid[best > 0 ? best - 1 : 0],
                                vsModelEwmaGrid[MIN(best + 1, count - 1)]);
    if (vsModelEwmaSse(y, n, refined) < best_sse)
        return refined;
    return vsModelEwmaGrid[best];
}

static gboolean
vsModelEwmaFit(gpointer model, const vsSeries *series, GError **error)
{
    vsModelEwmaState *m = model;
    gsize finite = 0, i;

    for (i = 0; i < series->n; i++)
        finite += isfinite(series->y[i]);
    m->seen = FALSE;
    m->fitted = FALSE;
    m->alpha = VS_MODEL_EWMA_DEFAULT_ALPHA;
    if (finite == 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "model 'ewma' has no observation among %" G_GSIZE_FORMAT " values",
                    series->n);
        return FALSE;
    }
    /* two one-step errors at least, or alpha means nothing */
    if (finite >= 3) {
        m->alpha = vsModelEwmaBestAlpha(series->y, series->n);
        m->fitted = TRUE;
    }
    for (i = 0; i < series->n; i++)
        vsModelEwmaUpdate(m, series->t ? series->t[i] : 0, series->y[i], NULL);
    return TRUE;
}

static gboolean
vsModelEwmaForecast(gpointer model, guint horizon, const double *future_x,
                    double *point)
{
    vsModelEwmaState *m = model;
    guint i;

    if (!m->seen)
        return FALSE;
    for (i = 0; i < horizon; i++)
        point[i] = m->level;
    return TRUE;
}

static char *
vsModelEwmaDescribe(gpointer model)
{
    vsModelEwmaState *m = model;

    return g_strdup_printf("ewma alpha=%.3f%s", m->alpha, m->fitted ? "" : " (default)");
}

const vsModelDriver vsModelEwma = {
    .name = "ewma",
    .create = vsModelEwmaCreate,
    .destroy = vsModelEwmaDestroy,
    .fit = vsModelEwmaFit,
    .update = vsModelEwmaUpdate,
    .forecast = vsModelEwmaForecast,
    .describe = vsModelEwmaDescribe,
};
