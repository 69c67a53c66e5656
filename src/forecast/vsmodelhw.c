/*
 * vsmodelhw.c: additive Holt-Winters (additive trend, additive season)
 *
 * The model and its fit follow statsmodels' ExponentialSmoothing(trend='add',
 * seasonal='add', initialization_method='heuristic'), the holt-winters
 * baseline of research/rightsizing-baselines.md:
 *
 *  - Error-correction form, with e = y − (l + b + s):
 *      l ← l + b + α·e,  b ← b + α·β·e,  s ← s + γ·e
 *    which is statsmodels' recursion rewritten (its seasonal update uses
 *    the level and trend before the observation, as here).
 *  - α ∈ [√eps, 1−√eps], β ≤ α, γ ≤ 1−α: statsmodels' box, searched through
 *    a logistic map so the optimiser runs unbounded.
 *  - Initial seasonals by the heuristic (2×m centred moving average over
 *    the first min(5, n/m) cycles, mean detrended value per position,
 *    centred), then held fixed, as the baseline does.
 *  - α, β, γ minimise the one-step-ahead SSE.  The initial level and trend
 *    are not searched: the residuals are affine in them, so for each
 *    (α, β, γ) the best pair is solved exactly (a 2×2 least squares from
 *    two impulse recursions run alongside).  statsmodels reaches the same
 *    pair by optimising them; here the search is 3-D instead of 5-D.
 *  - The search is Nelder-Mead on a fixed budget (vsHwOptimise).  It is
 *    scale-free, unlike statsmodels' L-BFGS-B whose absolute tolerances
 *    stop it at its starting point on series of small numbers (CPU in
 *    cores); on those our fit is the one statsmodels finds once the series
 *    is scaled to unit variance (bench/vsbenchhw.c shows both).
 *
 * With opts->period < 2 the model is Holt's linear trend (no season,
 * γ = 0).  Period detection belongs to the caller (vsPeriodDetect).
 *
 * Missing (non-finite) observations are imputed with the one-step forecast,
 * in the fit and in update: the state evolves as if the forecast had come
 * true, and the SSE does not count them.  The heuristic initialisation
 * carries the last value forward over them.
 *
 * Time stamps are ignored: the caller feeds one observation per step.
 * Updates before the first successful fit are ignored.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "forecast/vsmodel.h"
#include "forecast/vsmodelhw.h"
#include "forecast/vsoptim.h"
#include "util/vserror.h"

/* statsmodels' LOWER_BOUND, sqrt(DBL_EPSILON): α never reaches 0 or 1. */
#define VS_HW_EPS 1.4901161193847656e-08
/* The heuristic regresses the level on 10 points. */
#define VS_HW_MIN_OBS 10

typedef struct {
    guint period;           /* m; 0 = no season */
    guint ring;             /* MAX(period, 1): season slots */
    gboolean fitted;
    double alpha, beta, gamma;
    double sse;             /* in-sample SSE at the fit */
    guint evals;            /* objective evaluations of the fit */
    gboolean warm;          /* @u holds the last fit's parameters */
    double u[3];            /* unconstrained (α, β, γ) of the last fit */
    double level, trend;
    double *season;         /* @ring seasonals, indexed by step mod ring */
    guint pos;              /* slot of the next observation */
} vsHwModel;

/* Two doubles as one vector (GCC/Clang extension: an SSE2 register on
 * x86-64); aligned like a double so g_new() storage is always fine. */
typedef double vsHwPair __attribute__((vector_size(2 * sizeof(double)), aligned(sizeof(double))));

/* What the objective needs; nothing is allocated per evaluation. */
typedef struct {
    const double *y;
    gsize n;
    guint ring;
    gboolean seasonal;
    gboolean dense;         /* no missing observations */
    const double *s0;       /* heuristic initial seasonals */
    double l0, b0;          /* heuristic initial level and trend */
    double *work;           /* @ring seasonals: of the model (gaps) ... */
    vsHwPair *pairs;        /* ... of its impulse responses, or of both */
} vsHwProblem;

static gpointer
vsModelHwCreate(const vsModelOptions *opts)
{
    vsHwModel *hw = g_new0(vsHwModel, 1);

    hw->period = opts->period >= 2 ? opts->period : 0;
    hw->ring = MAX(hw->period, 1);
    hw->season = g_new0(double, hw->ring);
    return hw;
}

static void
vsModelHwDestroy(gpointer model)
{
    vsHwModel *hw = model;

    if (!hw)
        return;
    g_free(hw->season);
    g_free(hw);
}

/* Clamped, so the search sees a flat plateau, not an endless slope, past
 * p = 2e-9 and p = 1 - 2e-9. */
static double
vsHwLogistic(double u)
{
    return 1.0 / (1.0 + exp(-CLAMP(u, -20.0, 20.0)));
}

static double
vsHwLogit(double p)
{
    return log(p / (1.0 - p));
}

/* statsmodels' to_restricted: β ≤ α and γ ≤ 1 − α by construction. */
static void
vsHwParams(const double *u, gboolean seasonal, double *a, double *b, double *g)
{
    *a = VS_HW_EPS + vsHwLogistic(u[0]) * (1.0 - 2.0 * VS_HW_EPS);
    *b = vsHwLogistic(u[1]) * *a;
    *g = seasonal ? vsHwLogistic(u[2]) * (1.0 - *a) : 0.0;
}

/* --- heuristic initialisation ------------------------------------------- */

/* Ordinary least squares of @v[0..9] on 1..10: intercept and slope. */
static void
vsHwLine10(const double *v, double *ret_level, double *ret_trend)
{
    double mean = 0.0, sxy = 0.0;
    guint i;

    for (i = 0; i < VS_HW_MIN_OBS; i++)
        mean += v[i] / VS_HW_MIN_OBS;
    for (i = 0; i < VS_HW_MIN_OBS; i++)
        sxy += (i + 1 - 5.5) * (v[i] - mean);
    *ret_trend = sxy / 82.5;            /* Σ (x − 5.5)² for x = 1..10 */
    *ret_level = mean - 5.5 * *ret_trend;
}

/* @y[0..len) with missing values carried forward into @out; leading ones
 * take the first value observed in @y[0..n). */
static void
vsHwFilled(const double *y, gsize n, gsize len, double *out)
{
    double last = 0.0;
    gsize i;

    for (i = 0; i < n; i++) {
        if (isfinite(y[i])) {
            last = y[i];
            break;
        }
    }
    for (i = 0; i < len; i++) {
        if (isfinite(y[i]))
            last = y[i];
        out[i] = last;
    }
}

/* How much of the series the heuristic reads: min(5, n/m) cycles, or more
 * if that leaves fewer than 10 moving-average points. */
static gsize
vsHwHeuristicLength(gsize n, guint m)
{
    gsize min_obs = VS_HW_MIN_OBS + 2 * (m / 2);
    gsize cycles;

    if (m == 0)
        return MIN(n, VS_HW_MIN_OBS);
    cycles = MAX(MIN(5, n / m), (min_obs + m - 1) / m);
    return MIN(cycles * m, n);
}

/* The centred moving average at @i (2×m for even m), from prefix sums. */
static double
vsHwCentredMean(const double *prefix, gsize i, guint m)
{
    gsize h = m / 2;

    if (m % 2)
        return (prefix[i + h + 1] - prefix[i - h]) / m;
    return ((prefix[i + h] - prefix[i - h]) + (prefix[i + h + 1] - prefix[i - h + 1]))
        / (2.0 * m);
}

/* statsmodels' _initialization_heuristic for trend='add', seasonal='add',
 * on the @len = vsHwHeuristicLength() first (filled) observations. */
static void
vsHwHeuristicSeasonal(const double *y, gsize len, guint m, double *s0,
                      double *ret_level, double *ret_trend)
{
    gsize h = m / 2, first = h, last = len - 1 - h, i;
    g_autofree double *prefix = g_new(double, len + 1);
    g_autofree double *ma = g_new(double, len);     /* valid in [first, last] */
    g_autofree guint *count = g_new0(guint, m);
    double mean = 0.0;
    guint j;

    prefix[0] = 0.0;
    for (i = 0; i < len; i++)
        prefix[i + 1] = prefix[i] + y[i];
    memset(s0, 0, m * sizeof(double));
    for (i = first; i <= last; i++) {
        ma[i] = vsHwCentredMean(prefix, i, m);
        s0[i % m] += y[i] - ma[i];
        count[i % m]++;
    }
    for (j = 0; j < m; j++) {
        s0[j] = count[j] ? s0[j] / count[j] : 0.0;
        mean += s0[j] / m;
    }
    for (j = 0; j < m; j++)
        s0[j] -= mean;
    vsHwLine10(ma + first, ret_level, ret_trend);
}

/* --- the objective --------------------------------------------------------- */

/* The six sums of the profiled SSE: residuals of the model from the
 * heuristic state (e0) and of its responses to a unit initial level (e1)
 * and trend (e2). */
typedef struct {
    double s00, s01, s02, s11, s12, s22;
} vsHwSums;

/* One pass of the three recursions, in error-correction form, for series
 * with gaps.  Season by season, so the slot index needs no wrap test; the
 * two impulse responses share a vector (they never see y). */
static void
vsHwRunGaps(vsHwProblem *f, double a, double b, double g, vsHwSums *ret)
{
    const double ab = a * b;
    const vsHwPair zero = { 0.0, 0.0 };
    double *s0 = f->work;
    vsHwPair *si = f->pairs;
    double l0 = f->l0, b0 = f->b0;
    vsHwPair li = { 1.0, 0.0 }, bi = { 0.0, 1.0 };
    double s00 = 0.0, s12 = 0.0;
    vsHwPair s0i = zero, sii = zero;
    gsize start, j;

    memcpy(s0, f->s0, f->ring * sizeof(double));
    for (j = 0; j < f->ring; j++)
        si[j] = zero;
    for (start = 0; start < f->n; start += f->ring) {
        const double *y = f->y + start;
        gsize len = MIN(f->ring, f->n - start);

        for (j = 0; j < len; j++) {
            double p0 = l0 + b0;
            vsHwPair pi = li + bi;
            double e0 = 0.0;
            vsHwPair ei = zero;

            if (isfinite(y[j])) {
                e0 = y[j] - s0[j] - p0;
                ei = -si[j] - pi;
            }
            l0 = p0 + a * e0;
            b0 += ab * e0;
            s0[j] += g * e0;
            li = pi + a * ei;
            bi += ab * ei;
            si[j] += g * ei;
            s00 += e0 * e0;
            s0i += e0 * ei;
            sii += ei * ei;
            s12 += ei[0] * ei[1];
        }
    }
    *ret = (vsHwSums){ .s00 = s00, .s01 = s0i[0], .s02 = s0i[1],
                       .s11 = sii[0], .s12 = s12, .s22 = sii[1] };
}

/* The hot loop, for series without gaps.  The system is then time-invariant
 * (the season ring rotates the same way every step), and the response to a
 * unit initial trend is the running sum of the response to a unit initial
 * level (e2_t = Σ_(k≤t) e1_k: after one step the two states differ by the
 * initial trend state itself).  So only two recursions run, the model (lane
 * 0) and the level response (lane 1), in one vector.  The updates are
 * regrouped from l ← p + α·e (four dependent operations a step) to
 *     l ← (1−α)·l + α·(y−s) + (1−α)·b,   b ← αβ·(y−s) − αβ·l + (1−αβ)·b
 * whose longest chain is three: the loop is bound by that latency. */
static void
vsHwRunDense(vsHwProblem *f, double a, double b, double g, vsHwSums *ret)
{
    const double ab = a * b, ac = 1.0 - a, bc = 1.0 - ab;
    vsHwPair *s = f->pairs;
    vsHwPair l = { f->l0, 1.0 }, tr = { f->b0, 0.0 };
    vsHwPair s0x = { 0.0, 0.0 }, sx2 = { 0.0, 0.0 };
    double e2 = 0.0, s11 = 0.0, s22 = 0.0;
    gsize start, j;

    for (j = 0; j < f->ring; j++)
        s[j] = (vsHwPair){ f->s0[j], 0.0 };
    for (start = 0; start < f->n; start += f->ring) {
        const double *y = f->y + start;
        gsize len = MIN(f->ring, f->n - start);

        for (j = 0; j < len; j++) {
            vsHwPair ys = (vsHwPair){ y[j], 0.0 } - s[j];
            vsHwPair e = ys - (l + tr);
            vsHwPair next = (ac * l + a * ys) + ac * tr;

            tr = (ab * ys - ab * l) + bc * tr;
            l = next;
            s[j] += g * e;
            e2 += e[1];
            s0x += e * e[0];            /* (s00, s01) */
            s11 += e[1] * e[1];
            sx2 += e * e2;              /* (s02, s12) */
            s22 += e2 * e2;
        }
    }
    *ret = (vsHwSums){ .s00 = s0x[0], .s01 = s0x[1], .s02 = sx2[0],
                       .s11 = s11, .s12 = sx2[1], .s22 = s22 };
}

/* Residuals are e0 + dl·e1 + db·e2, so the best corrections (dl, db) to the
 * initial level and trend are a 2×2 least squares.  Returns the SSE there. */
static double
vsHwProfiledSse(vsHwProblem *f, double a, double b, double g,
                double *ret_dl, double *ret_db)
{
    vsHwSums q;
    double det, dl = 0.0, db = 0.0, sse;

    if (f->dense)
        vsHwRunDense(f, a, b, g, &q);
    else
        vsHwRunGaps(f, a, b, g, &q);
    det = q.s11 * q.s22 - q.s12 * q.s12;
    if (det > 1e-12 * q.s11 * q.s22) {
        dl = (q.s02 * q.s12 - q.s01 * q.s22) / det;
        db = (q.s01 * q.s12 - q.s02 * q.s11) / det;
    } else if (q.s11 > 0.0) {
        dl = -q.s01 / q.s11;        /* the trend is not identifiable: level only */
    }
    sse = q.s00 + dl * q.s01 + db * q.s02;
    if (!isfinite(sse) || !isfinite(q.s00))
        return HUGE_VAL;            /* the recursion blew up: unusable (α, β, γ) */
    if (ret_dl)
        *ret_dl = dl;
    if (ret_db)
        *ret_db = db;
    return MAX(sse, 0.0);           /* rounding can take a perfect fit below 0 */
}

static double
vsHwObjective(const double *u, gpointer opaque)
{
    vsHwProblem *f = opaque;
    double a, b, g;

    vsHwParams(u, f->seasonal, &a, &b, &g);
    return vsHwProfiledSse(f, a, b, g, NULL, NULL);
}

/* Search (α, β, γ) by Nelder-Mead from statsmodels' own starting point
 * (α = 0.5/m, β = 0.1·α, γ = 0.05·(1−α)).  The budget is the point: on
 * the Bitbrains week-long series 60 evaluations land within 0.1% of the
 * SSE a 4x longer search reaches (bench/vsbenchhw.c), at ~9 µs each. */
static guint
vsHwOptimise(vsHwProblem *f, guint period, double *u, gboolean warm)
{
    const vsOptimOptions nm = {
        .step = 2.0, .max_evals = 60, .ftol = 1e-5, .fabs_tol = 1e-300, .xtol = 0.2,
    };
    /* a refit on a day's more data starts where the last one ended, with
     * a smaller simplex and half the budget: the optimum moves little */
    const vsOptimOptions again = {
        .step = 0.5, .max_evals = 30, .ftol = 1e-5, .fabs_tol = 1e-300, .xtol = 0.2,
    };
    double a = 0.5 / MAX(period, 1);
    guint evals;

    if (!warm) {
        u[0] = vsHwLogit((a - VS_HW_EPS) / (1.0 - 2.0 * VS_HW_EPS));
        u[1] = vsHwLogit(0.1);
        u[2] = vsHwLogit(0.05);
    }
    vsOptimNelderMead(vsHwObjective, f, u, f->seasonal ? 3 : 2, warm ? &again : &nm, &evals);
    return evals;
}

/* --- driver ---------------------------------------------------------------- */

static gsize
vsHwCountObserved(const double *y, gsize n)
{
    gsize i, count = 0;

    for (i = 0; i < n; i++)
        count += isfinite(y[i]) ? 1 : 0;
    return count;
}

static gboolean
vsHwCheckLength(const vsHwModel *hw, const vsSeries *series, GError **error)
{
    guint m = hw->period;

    if (vsHwCountObserved(series->y, series->n) < VS_HW_MIN_OBS) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "holt-winters needs at least %u observations", VS_HW_MIN_OBS);
        return FALSE;
    }
    if (m && (series->n < 2 * (gsize)m || series->n < VS_HW_MIN_OBS + 2 * (m / 2))) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "holt-winters needs two full cycles of period %u, got %zu observations",
                    m, series->n);
        return FALSE;
    }
    return TRUE;
}

/* Run the fitted recursion over the series to reach the final state. */
static void
vsHwRunFinal(vsHwModel *hw, const vsHwProblem *f, double l0, double b0)
{
    gsize i;

    memcpy(hw->season, f->s0, hw->ring * sizeof(double));
    hw->level = l0;
    hw->trend = b0;
    hw->pos = 0;
    hw->fitted = TRUE;
    for (i = 0; i < f->n; i++) {
        double *s = &hw->season[hw->pos];
        double e = isfinite(f->y[i]) ? f->y[i] - (hw->level + hw->trend + *s) : 0.0;

        hw->level += hw->trend + hw->alpha * e;
        hw->trend += hw->alpha * hw->beta * e;
        *s += hw->gamma * e;
        if (++hw->pos == hw->ring)
            hw->pos = 0;
    }
}

static gboolean
vsModelHwFit(gpointer model, const vsSeries *series, GError **error)
{
    vsHwModel *hw = model;
    gsize init_len = vsHwHeuristicLength(series->n, hw->period);
    g_autofree double *filled = NULL;
    g_autofree double *s0 = g_new0(double, hw->ring);
    g_autofree double *work = g_new(double, hw->ring);
    g_autofree vsHwPair *pairs = g_new(vsHwPair, hw->ring);
    vsHwProblem f = { .y = series->y, .n = series->n, .ring = hw->ring,
                      .seasonal = hw->period > 0, .s0 = s0, .work = work,
                      .pairs = pairs };
    double u[3], dl, db;

    hw->fitted = FALSE;
    if (!vsHwCheckLength(hw, series, error))
        return FALSE;
    f.dense = vsHwCountObserved(series->y, series->n) == series->n;

    filled = g_new(double, init_len);
    vsHwFilled(series->y, series->n, init_len, filled);
    if (hw->period)
        vsHwHeuristicSeasonal(filled, init_len, hw->period, s0, &f.l0, &f.b0);
    else
        vsHwLine10(filled, &f.l0, &f.b0);

    memcpy(u, hw->u, sizeof(u));
    hw->evals = vsHwOptimise(&f, hw->period, u, hw->warm);
    vsHwParams(u, f.seasonal, &hw->alpha, &hw->beta, &hw->gamma);
    dl = db = 0.0;
    hw->sse = vsHwProfiledSse(&f, hw->alpha, hw->beta, hw->gamma, &dl, &db);
    if (hw->sse == HUGE_VAL) {
        hw->warm = FALSE;
        g_set_error_literal(error, VS_ERROR, VS_ERROR_INVALID,
                            "holt-winters overflows on this series");
        return FALSE;
    }
    memcpy(hw->u, u, sizeof(u));
    hw->warm = TRUE;
    vsHwRunFinal(hw, &f, f.l0 + dl, f.b0 + db);
    return TRUE;
}

static void
vsModelHwUpdate(gpointer model, double t, double y, const double *x)
{
    vsHwModel *hw = model;
    double *s;
    double e;

    if (!hw->fitted)
        return;
    s = &hw->season[hw->pos];
    e = isfinite(y) ? y - (hw->level + hw->trend + *s) : 0.0;
    hw->level += hw->trend + hw->alpha * e;
    hw->trend += hw->alpha * hw->beta * e;
    *s += hw->gamma * e;
    if (++hw->pos == hw->ring)
        hw->pos = 0;
}

static gboolean
vsModelHwForecast(gpointer model, guint horizon, const double *future_x, double *point)
{
    vsHwModel *hw = model;
    guint h;

    if (!hw->fitted)
        return FALSE;
    /* At h = m, 2m, ... this takes the seasonal as updated by the last
     * observation; statsmodels' forecast() takes the one before that update
     * there (a quirk), and nowhere else differs. */
    for (h = 1; h <= horizon; h++) {
        double v = hw->level + h * hw->trend + hw->season[(hw->pos + h - 1) % hw->ring];

        if (!isfinite(v))
            return FALSE;
        point[h - 1] = v;
    }
    return TRUE;
}

static char *
vsModelHwDescribe(gpointer model)
{
    vsHwModel *hw = model;

    if (!hw->fitted)
        return g_strdup_printf("holt-winters period=%u (not fitted)", hw->period);
    return g_strdup_printf("holt-winters alpha=%.3g beta=%.3g gamma=%.3g period=%u",
                           hw->alpha, hw->beta, hw->gamma, hw->period);
}

gboolean
vsModelHwGetInfo(gpointer model, vsModelHwInfo *ret)
{
    vsHwModel *hw = model;

    if (!hw->fitted)
        return FALSE;
    ret->alpha = hw->alpha;
    ret->beta = hw->beta;
    ret->gamma = hw->gamma;
    ret->sse = hw->sse;
    ret->period = hw->period;
    ret->evals = hw->evals;
    return TRUE;
}

const vsModelDriver vsModelHoltWinters = {
    .name = "holt-winters",
    .create = vsModelHwCreate,
    .destroy = vsModelHwDestroy,
    .fit = vsModelHwFit,
    .update = vsModelHwUpdate,
    .forecast = vsModelHwForecast,
    .describe = vsModelHwDescribe,
};
