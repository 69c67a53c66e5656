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
#include <string.h>

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

/* Alphas scored side by side in one pass over the series: the recursion
 * is bound by its latency, so independent ones come almost free.  Each
 * lane does exactly what a pass of its own would.  Four pairs, as SSE2
 * has them (GCC/Clang vector extension), each named, so that they stay
 * in registers. */
#define VS_MODEL_EWMA_LANES 8

typedef double vsEwmaPair __attribute__((vector_size(2 * sizeof(double))));

/* Sums of squared one-step-ahead errors on @y of the @n_alpha (at most
 * VS_MODEL_EWMA_LANES) alphas in @alpha, into @ret_sse. */
static void
vsModelEwmaSse(const double *y, gsize n, const double *alpha, guint n_alpha, double *ret_sse)
{
    double lanes[VS_MODEL_EWMA_LANES] = { 0 };
    vsEwmaPair a0, a1, a2, a3, l0, l1, l2, l3;
    vsEwmaPair s0 = { 0 }, s1 = { 0 }, s2 = { 0 }, s3 = { 0 };
    gsize i = 0;

    memcpy(lanes, alpha, n_alpha * sizeof(double));
    a0 = (vsEwmaPair){ lanes[0], lanes[1] };
    a1 = (vsEwmaPair){ lanes[2], lanes[3] };
    a2 = (vsEwmaPair){ lanes[4], lanes[5] };
    a3 = (vsEwmaPair){ lanes[6], lanes[7] };
    /* the first observation is the initial level */
    while (i < n && !isfinite(y[i]))
        i++;
    l0 = l1 = l2 = l3 = (vsEwmaPair){ i < n ? y[i] : 0, i < n ? y[i] : 0 };
    for (i++; i < n; i++) {
        vsEwmaPair v = { y[i], y[i] }, e0, e1, e2, e3;

        if (!isfinite(y[i]))
            continue;
        e0 = v - l0;
        e1 = v - l1;
        e2 = v - l2;
        e3 = v - l3;
        s0 += e0 * e0;
        s1 += e1 * e1;
        s2 += e2 * e2;
        s3 += e3 * e3;
        l0 += a0 * e0;
        l1 += a1 * e1;
        l2 += a2 * e2;
        l3 += a3 * e3;
    }
    memcpy(lanes, &s0, sizeof(s0));
    memcpy(lanes + 2, &s1, sizeof(s1));
    memcpy(lanes + 4, &s2, sizeof(s2));
    memcpy(lanes + 6, &s3, sizeof(s3));
    memcpy(ret_sse, lanes, n_alpha * sizeof(double));
}

/* A golden-section bracket: lo < a < b < hi, with the SSEs at a and b. */
typedef struct {
    double lo, hi, a, b, fa, fb;
} vsEwmaBracket;

/* Narrow @k towards a (@left) or b; returns the new inner point, whose
 * SSE is then due in fa (@left) or fb. */
static double
vsModelEwmaNarrow(vsEwmaBracket *k, gboolean left)
{
    const double g = (sqrt(5.0) - 1) / 2;

    if (left) {
        k->hi = k->b;
        k->b = k->a;
        k->fb = k->fa;
        k->a = k->hi - g * (k->hi - k->lo);
        return k->a;
    }
    k->lo = k->a;
    k->a = k->b;
    k->fa = k->fb;
    k->b = k->lo + g * (k->hi - k->lo);
    return k->b;
}

/* Steps a pass looks ahead: 7 points, every way three steps can go. */
#define VS_MODEL_EWMA_AHEAD 3

/* Golden-section search for the minimum of the SSE on [@lo, @hi]; its
 * SSE in @ret_sse.  A pass scores every point the next few steps may
 * take, then the steps are taken one by one as ever, each finding its
 * point's SSE among them. */
static double
vsModelEwmaGolden(const double *y, gsize n, double lo, double hi, double *ret_sse)
{
    const double g = (sqrt(5.0) - 1) / 2;
    vsEwmaBracket k = { .lo = lo, .hi = hi };
    double x[2], f[2];
    guint done = 0;

    k.a = hi - g * (hi - lo);
    k.b = lo + g * (hi - lo);
    x[0] = k.a;
    x[1] = k.b;
    vsModelEwmaSse(y, n, x, 2, f);
    k.fa = f[0];
    k.fb = f[1];
    while (done < VS_MODEL_EWMA_GOLDEN_STEPS) {
        guint ahead = MIN(VS_MODEL_EWMA_AHEAD, VS_MODEL_EWMA_GOLDEN_STEPS - done);
        double pts[(1 << VS_MODEL_EWMA_AHEAD) - 1], sse[G_N_ELEMENTS(pts)];
        guint n_pts = 0;

        /* the first step's way is known; then every way */
        for (guint len = 1; len <= ahead; len++) {
            for (guint ways = 0; ways < 1u << (len - 1); ways++) {
                vsEwmaBracket t = k;

                for (guint step = 0; step < len; step++)
                    pts[n_pts] = vsModelEwmaNarrow(&t, step ? (ways >> (step - 1)) & 1
                                                            : t.fa <= t.fb);
                n_pts++;
            }
        }
        vsModelEwmaSse(y, n, pts, n_pts, sse);
        for (guint step = 0; step < ahead; step++) {
            gboolean left = k.fa <= k.fb;
            double p = vsModelEwmaNarrow(&k, left);
            guint i = 0;

            while (i < n_pts && pts[i] != p)
                i++;
            if (i == n_pts)
                vsModelEwmaSse(y, n, &p, 1, &sse[--i]);     /* cannot happen */
            if (left)
                k.fa = sse[i];
            else
                k.fb = sse[i];
        }
        done += ahead;
    }
    *ret_sse = k.fa <= k.fb ? k.fa : k.fb;
    return k.fa <= k.fb ? k.a : k.b;
}

/* The alpha minimising the SSE: the best grid point, refined between its
 * neighbours, kept unless the refinement does better.  Ties (a constant
 * series) go to the largest alpha, the plainest model. */
static double
vsModelEwmaBestAlpha(const double *y, gsize n)
{
    guint count = G_N_ELEMENTS(vsModelEwmaGrid), best = count - 1, i;
    double sse[G_N_ELEMENTS(vsModelEwmaGrid)];
    double best_sse, refined, refined_sse;

    for (i = 0; i < count; i += VS_MODEL_EWMA_LANES)
        vsModelEwmaSse(y, n, vsModelEwmaGrid + i, MIN(VS_MODEL_EWMA_LANES, count - i), sse + i);
    best_sse = sse[best];
    for (i = count - 1; i-- > 0;) {
        if (sse[i] < best_sse) {
            best = i;
            best_sse = sse[i];
        }
    }
    refined = vsModelEwmaGolden(y, n, vsModelEwmaGrid[best > 0 ? best - 1 : 0],
                                vsModelEwmaGrid[MIN(best + 1, count - 1)], &refined_sse);
    if (refined_sse < best_sse)
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
