/*
 * vsmodelregress.c: demand regressed on the workload's inputs
 *
 * Seed 003: resource use correlated with the production input parameters
 * (request rate, job size, ...), so that known or announced inputs give
 * the demand before it arrives.  The model is
 *
 *     y = b0 + Σ b_i·x_i          (i = 1..opts->n_inputs)
 *
 * with no lagged y among the regressors: it answers "what will these
 * inputs cost", and a forecast from future inputs stays a function of those
 * inputs alone.  Autocorrelation is the ar model's job; the selector
 * picks per series.
 *
 * Estimation keeps the running means and co-moments of (x, y) (Welford's
 * update, O(k²) per observation, no cancellation on inputs with large
 * means), and solves the centred normal equations
 *     (Cxx + Λ)·b = Cxy,   b0 = ȳ − b·x̄
 * lazily, at the next forecast after new data.  Λ is a ridge of 1e-6 of
 * each input's own sum of squares (scale-free, negligible on healthy
 * data); a constant input gets a unit ridge and a zero coefficient.  It
 * keeps collinear inputs solvable.
 *
 * Only complete rows count: y and every x finite.  A row with complete x
 * and missing y still updates "the last seen inputs", which forecasts use
 * when no future inputs are given.  Time stamps are ignored.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "forecast/vslinalg.h"
#include "forecast/vsmodel.h"
#include "forecast/vsmodelregress.h"
#include "util/vserror.h"

#define VS_REGRESS_RIDGE 1e-6

typedef struct {
    guint k;                /* inputs */
    gboolean fitted;
    gboolean stale;         /* moments changed since the last solve */
    double count;           /* complete rows absorbed */
    double *mean;           /* k + 1: x̄_1..x̄_k, ȳ */
    double *comom;          /* (k+1)²: Σ (v − v̄)(v − v̄)ᵀ over v = (x, y) */
    double *coef;           /* k + 1: b0, b1..bk */
    double *last_x;         /* k: the last complete inputs seen */
    double *work;           /* k² + k: solver scratch */
    double *delta;          /* k + 1: update scratch */
} vsRegressModel;

static gpointer
vsModelRegressCreate(const vsModelOptions *opts)
{
    vsRegressModel *r = g_new0(vsRegressModel, 1);
    guint d = opts->n_inputs + 1;

    r->k = opts->n_inputs;
    r->mean = g_new0(double, d);
    r->comom = g_new0(double, d * d);
    r->coef = g_new0(double, d);
    r->last_x = g_new0(double, MAX(r->k, 1));
    r->work = g_new0(double, r->k * r->k + MAX(r->k, 1));
    r->delta = g_new0(double, d);
    return r;
}

static void
vsModelRegressDestroy(gpointer model)
{
    vsRegressModel *r = model;

    if (!r)
        return;
    g_free(r->mean);
    g_free(r->comom);
    g_free(r->coef);
    g_free(r->last_x);
    g_free(r->work);
    g_free(r->delta);
    g_free(r);
}

static gboolean
vsRegressFinite(const double *v, guint n)
{
    guint i;

    for (i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return FALSE;
    return TRUE;
}

static void
vsRegressReset(vsRegressModel *r)
{
    guint d = r->k + 1;

    r->count = 0;
    memset(r->mean, 0, d * sizeof(double));
    memset(r->comom, 0, d * d * sizeof(double));
}

/* Welford: one complete row (x, y) into the means and co-moments. */
static void
vsRegressAbsorb(vsRegressModel *r, const double *x, double y)
{
    guint d = r->k + 1, i, j;
    double *delta = r->delta;
    double w;

    r->count += 1.0;
    w = (r->count - 1.0) / r->count;
    for (i = 0; i < d; i++) {
        delta[i] = (i < r->k ? x[i] : y) - r->mean[i];
        r->mean[i] += delta[i] / r->count;
    }
    for (i = 0; i < d; i++)
        for (j = i; j < d; j++)
            r->comom[i * d + j] += w * delta[i] * delta[j];
    r->stale = TRUE;
}

/* Take one observation: complete inputs become the last seen, complete
 * rows are absorbed. */
static void
vsRegressObserve(vsRegressModel *r, const double *x, double y)
{
    if (!x || !vsRegressFinite(x, r->k))
        return;
    memcpy(r->last_x, x, r->k * sizeof(double));
    if (isfinite(y))
        vsRegressAbsorb(r, x, y);
}

/* Solve the ridge-regularised centred normal equations into r->coef. */
static void
vsRegressSolve(vsRegressModel *r)
{
    guint d = r->k + 1, k = r->k, i, j;
    double *a = r->work, *b = r->work + k * k;

    for (i = 0; i < k; i++) {
        double cii = r->comom[i * d + i];

        for (j = i; j < k; j++)
            a[i * k + j] = a[j * k + i] = r->comom[i * d + j];
        a[i * k + i] += cii > 0.0 ? VS_REGRESS_RIDGE * cii : 1.0;
        b[i] = r->comom[i * d + k];
    }
    if (!vsLinalgSolveSpd(a, b, k, NULL))
        memset(b, 0, k * sizeof(double));   /* unreachable with the ridge */
    r->coef[0] = r->mean[k];
    for (i = 0; i < k; i++) {
        r->coef[i + 1] = b[i];
        r->coef[0] -= b[i] * r->mean[i];
    }
    r->stale = FALSE;
}

static gboolean
vsModelRegressFit(gpointer model, const vsSeries *series, GError **error)
{
    vsRegressModel *r = model;
    gsize t;

    r->fitted = FALSE;
    if (r->k == 0 || !series->x) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "regression needs input covariates (n_inputs %u)", r->k);
        return FALSE;
    }
    vsRegressReset(r);
    for (t = 0; t < series->n; t++)
        vsRegressObserve(r, series->x + t * r->k, series->y[t]);
    if (r->count < r->k + 2) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "regression needs %u complete rows, got %.0f", r->k + 2, r->count);
        return FALSE;
    }
    vsRegressSolve(r);
    if (!vsRegressFinite(r->coef, r->k + 1)) {
        g_set_error_literal(error, VS_ERROR, VS_ERROR_INVALID,
                            "regression overflows on this series");
        return FALSE;
    }
    r->fitted = TRUE;
    return TRUE;
}

static void
vsModelRegressUpdate(gpointer model, double t, double y, const double *x)
{
    vsRegressModel *r = model;

    if (r->fitted)
        vsRegressObserve(r, x, y);
}

static double
vsRegressPredict(const vsRegressModel *r, const double *x)
{
    double v = r->coef[0];
    guint i;

    for (i = 0; i < r->k; i++)
        v += r->coef[i + 1] * x[i];
    return v;
}

static gboolean
vsModelRegressForecast(gpointer model, guint horizon, const double *future_x, double *point)
{
    vsRegressModel *r = model;
    guint h;

    if (!r->fitted)
        return FALSE;
    if (r->stale)
        vsRegressSolve(r);
    for (h = 0; h < horizon; h++) {
        const double *x = future_x ? future_x + (gsize)h * r->k : r->last_x;
        double v;

        if (!vsRegressFinite(x, r->k))
            x = r->last_x;      /* a gap in the announced inputs: assume they persist */
        v = vsRegressPredict(r, x);
        if (!isfinite(v))
            return FALSE;
        point[h] = v;
    }
    return TRUE;
}

static char *
vsModelRegressDescribe(gpointer model)
{
    vsRegressModel *r = model;
    g_autoptr(GString) s = g_string_new("regression");
    guint i;

    if (!r->fitted) {
        g_string_append_printf(s, " inputs=%u (not fitted)", r->k);
        return g_string_free(g_steal_pointer(&s), FALSE);
    }
    if (r->stale)
        vsRegressSolve(r);
    g_string_append_printf(s, " inputs=%u rows=%.0f b0=%.4g b=", r->k, r->count, r->coef[0]);
    for (i = 0; i < r->k; i++)
        g_string_append_printf(s, "%s%.4g", i ? "," : "", r->coef[i + 1]);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

gboolean
vsModelRegressionGetCoefficients(gpointer model, double *ret_coef)
{
    vsRegressModel *r = model;

    if (!r->fitted)
        return FALSE;
    if (r->stale)
        vsRegressSolve(r);
    memcpy(ret_coef, r->coef, (r->k + 1) * sizeof(double));
    return TRUE;
}

const vsModelDriver vsModelRegression = {
    .name = "regression",
    .create = vsModelRegressCreate,
    .destroy = vsModelRegressDestroy,
    .fit = vsModelRegressFit,
    .update = vsModelRegressUpdate,
    .forecast = vsModelRegressForecast,
    .describe = vsModelRegressDescribe,
};
