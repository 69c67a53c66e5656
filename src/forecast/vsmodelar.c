/*
 * vsmodelar.c: autoregression AR(p) with intercept, order by AIC
 *
 * Fit: ordinary least squares of y_t on (1, y_(t−1), ..., y_(t−p)), through
 * the normal equations (vslinalg.h).  The series is centred on its mean
 * first, which keeps the intercept column nearly orthogonal to the lags and
 * the equations well conditioned (memory in MiB has a large mean and a
 * small variance).  p runs over 1..min(12, n/10) and the lowest
 * AIC = N·ln(RSS/N) + 2(p+1) wins, every order being scored on the same
 * rows (those with pmax complete lags; pmax shrinks when gaps leave too
 * few); the chosen order is then refitted on every row it can use.
 *
 * The series is modelled as it is: no seasonal differencing, even when
 * opts->period is set.  Seasonality is the business of the holt-winters
 * and seasonal models, and the selector picks per series; differencing
 * here would double the noise of the many series with no real season.
 *
 * Missing (non-finite) observations: rows that touch one are skipped in the
 * fit; in the state (the last p values) and in update they are replaced by
 * the one-step forecast.  Multi-step forecasts iterate the recursion.  Time
 * stamps are ignored: one observation per step.  Updates before the first
 * successful fit are ignored.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "forecast/vslinalg.h"
#include "forecast/vsmodel.h"
#include "forecast/vsmodelar.h"
#include "util/vserror.h"

#define VS_AR_DIM (VS_AR_MAX_ORDER + 1)
/* Fewer observations per parameter than this and the order search stops. */
#define VS_AR_OBS_PER_LAG 10

typedef struct {
    gboolean fitted;
    guint p;
    double mean;                    /* subtracted before fitting */
    double c;                       /* intercept of the centred model */
    double phi[VS_AR_MAX_ORDER];
    double sigma2;                  /* residual variance of the fit */
    double hist[VS_AR_MAX_ORDER];   /* last p centred values, newest first */
} vsArModel;

/* Normal equations of the centred series for @p lags. */
typedef struct {
    guint dim;                      /* p + 1 */
    double xtx[VS_AR_DIM * VS_AR_DIM];
    double xty[VS_AR_DIM];
    double yty;
    gsize rows;
} vsArNormal;

static gpointer
vsModelArCreate(const vsModelOptions *opts)
{
    return g_new0(vsArModel, 1);
}

static void
vsModelArDestroy(gpointer model)
{
    g_free(model);
}

/* Two lags' columns, as SSE2 holds them (GCC/Clang vector extension). */
typedef double vsArPair __attribute__((vector_size(2 * sizeof(double))));

static inline vsArPair
vsArLoadPair(const double *at)
{
    vsArPair v;

    memcpy(&v, at, sizeof(v));
    return v;
}

/* One column of the normal equations over @rows: the sums of row[i] x
 * row[j] for the @pairs x 2 lags j from @j0 on (row[0] = 1, row[k] =
 * z[t - k]) into @xtx[j], and of row[i] x z[t] into @ret_xty.  Row by row
 * in order, as the equations were once summed whole, so every sum is
 * bit for bit the same; but each in a register, and two lags a vector.
 * The last pair may take one lag past p, which is read (z[-1] exists)
 * and dropped.  @pairs is a constant where this is inlined: its unused
 * accumulators vanish. */
static inline __attribute__((always_inline)) void
vsArColumn(const double *z, const guint *rows, gsize n_rows, guint i, guint j0, guint pairs,
           guint p, double *xtx, double *ret_xty)
{
    vsArPair a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 }, a4 = { 0 }, a5 = { 0 };
    double xty = 0.0, sums[2 * VS_AR_DIM];

    G_STATIC_ASSERT(VS_AR_MAX_ORDER <= 12);
    for (gsize k = 0; k < n_rows; k++) {
        gsize t = rows[k];
        double r = i ? z[t - i] : 1.0;
        vsArPair rr = { r, r };
        /* (z[t - j0 - 1], z[t - j0]): lanes swapped against the columns */
        const double *lags = z + t - j0 - 1;

        xty += r * z[t];
        a0 += rr * vsArLoadPair(lags);
        if (pairs > 1)
            a1 += rr * vsArLoadPair(lags - 2);
        if (pairs > 2)
            a2 += rr * vsArLoadPair(lags - 4);
        if (pairs > 3)
            a3 += rr * vsArLoadPair(lags - 6);
        if (pairs > 4)
            a4 += rr * vsArLoadPair(lags - 8);
        if (pairs > 5)
            a5 += rr * vsArLoadPair(lags - 10);
    }
    memcpy(sums, &a0, sizeof(a0));
    memcpy(sums + 2, &a1, sizeof(a1));
    memcpy(sums + 4, &a2, sizeof(a2));
    memcpy(sums + 6, &a3, sizeof(a3));
    memcpy(sums + 8, &a4, sizeof(a4));
    memcpy(sums + 10, &a5, sizeof(a5));
    for (guint k = 0; k < pairs; k++) {
        xtx[j0 + 2 * k] = sums[2 * k + 1];
        if (j0 + 2 * k + 1 <= p)
            xtx[j0 + 2 * k + 1] = sums[2 * k];
    }
    *ret_xty = xty;
}

/* Accumulate the rows t >= @first (>= @p) whose target and @p lags are
 * observed.  @z[-1] must be readable. */
static void
vsArAccumulate(const double *z, gsize n, guint p, gsize first, vsArNormal *ne)
{
    g_autofree guint *rows = g_new(guint, n);
    gsize n_rows = 0, run = 0;
    guint d = p + 1;

    memset(ne, 0, sizeof(*ne));
    ne->dim = d;
    for (gsize t = first - p; t < n; t++) {
        /* z[t] and the p before it observed: a run of p + 1 */
        run = isfinite(z[t]) ? run + 1 : 0;
        if (t < first || run <= p)
            continue;
        rows[n_rows++] = t;
        ne->yty += z[t] * z[t];
    }
    ne->rows = n_rows;
    /* 1 x 1 summed once a row: exact */
    ne->xtx[0] = n_rows;
    for (guint i = 0; i < d; i++) {
        guint j0 = MAX(i, 1), pairs = (p - j0 + 2) / 2;
        double *xtx = ne->xtx + i * d;

        /* pairs >= 1: j0 <= p */
        switch (pairs) {
        case 1:
            vsArColumn(z, rows, n_rows, i, j0, 1, p, xtx, &ne->xty[i]);
            break;
        case 2:
            vsArColumn(z, rows, n_rows, i, j0, 2, p, xtx, &ne->xty[i]);
            break;
        case 3:
            vsArColumn(z, rows, n_rows, i, j0, 3, p, xtx, &ne->xty[i]);
            break;
        case 4:
            vsArColumn(z, rows, n_rows, i, j0, 4, p, xtx, &ne->xty[i]);
            break;
        case 5:
            vsArColumn(z, rows, n_rows, i, j0, 5, p, xtx, &ne->xty[i]);
            break;
        default:
            vsArColumn(z, rows, n_rows, i, j0, 6, p, xtx, &ne->xty[i]);
            break;
        }
    }
}

/* Solve the leading (@p+1)-square block of @ne into @ret_b; returns the
 * RSS.  A ridge of 1e-10 of the lags' mean sum of squares keeps a constant
 * series (all lags zero once centred) solvable: its coefficients come out 0. */
static double
vsArSolve(const vsArNormal *ne, guint p, double *ret_b)
{
    guint d = p + 1, i, j;
    double a[VS_AR_DIM * VS_AR_DIM];
    double trace = 0.0, ridge, rss;

    for (i = 0; i < d; i++) {
        for (j = i; j < d; j++)
            a[i * d + j] = a[j * d + i] = ne->xtx[i * ne->dim + j];
        ret_b[i] = ne->xty[i];
    }
    for (i = 1; i < d; i++)
        trace += a[i * d + i];
    ridge = trace > 0.0 ? 1e-10 * trace / p : 1.0;
    for (i = 1; i < d; i++)
        a[i * d + i] += ridge;
    if (!vsLinalgSolveSpd(a, ret_b, d, NULL)) {
        memset(ret_b, 0, d * sizeof(double));       /* cannot happen with rows > 0 */
        ret_b[0] = ne->rows ? ne->xty[0] / ne->rows : 0.0;
    }
    rss = ne->yty;
    for (i = 0; i < d; i++)
        rss -= ret_b[i] * ne->xty[i];
    return rss < 0.0 ? 0.0 : rss;       /* rounding below 0; NaN stays NaN */
}

/* The order with the lowest AIC, all scored on the rows of @ne (pmax lags). */
static guint
vsArSelectOrder(const vsArNormal *ne, guint pmax)
{
    double b[VS_AR_DIM];
    double best = HUGE_VAL;
    guint p, best_p = 1;

    for (p = 1; p <= pmax; p++) {
        double rss = vsArSolve(ne, p, b);
        /* a perfect fit has RSS 0 up to rounding: floor it so ln stays finite */
        double aic = ne->rows * log(MAX(rss / ne->rows, 1e-300)) + 2.0 * (p + 1);

        if (aic < best) {
            best = aic;
            best_p = p;
        }
    }
    return best_p;
}

static double
vsArPredict(const vsArModel *ar, const double *hist)
{
    double v = ar->c;
    guint i;

    for (i = 0; i < ar->p; i++)
        v += ar->phi[i] * hist[i];
    return v;
}

/* Push centred @z as the newest value. */
static void
vsArPush(double *hist, guint p, double z)
{
    memmove(hist + 1, hist, (p - 1) * sizeof(double));
    hist[0] = z;
}

static double
vsArMean(const double *y, gsize n, gsize *ret_count)
{
    double sum = 0.0;
    gsize i, count = 0;

    for (i = 0; i < n; i++) {
        if (isfinite(y[i])) {
            sum += y[i];
            count++;
        }
    }
    *ret_count = count;
    return count ? sum / count : 0.0;
}

/* Replay the series to get the last p values, missing ones imputed. */
static void
vsArReplay(vsArModel *ar, const double *z, gsize n)
{
    gsize t;

    memset(ar->hist, 0, sizeof(ar->hist));
    for (t = 0; t < n; t++)
        vsArPush(ar->hist, ar->p,
                 isfinite(z[t]) ? z[t] : (t >= ar->p ? vsArPredict(ar, ar->hist) : 0.0));
}

static gboolean
vsModelArFit(gpointer model, const vsSeries *series, GError **error)
{
    vsArModel *ar = model;
    gsize n = series->n, count, t;
    guint pmax = (guint)MIN(VS_AR_MAX_ORDER, n / VS_AR_OBS_PER_LAG);
    g_autofree double *buf = NULL;
    double *z;
    vsArNormal ne;
    double b[VS_AR_DIM];
    guint i;

    ar->fitted = FALSE;
    ar->mean = vsArMean(series->y, n, &count);
    if (pmax < 1 || count < VS_AR_OBS_PER_LAG) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "ar needs at least %u observations, got %zu", VS_AR_OBS_PER_LAG, count);
        return FALSE;
    }
    /* z[-1] for vsArAccumulate */
    buf = g_new0(double, n + 1);
    z = buf + 1;
    for (t = 0; t < n; t++)
        z[t] = series->y[t] - ar->mean;

    /* Frequent gaps leave few rows with many complete lags: lower the
     * ceiling until there are two rows per parameter. */
    for (;; pmax--) {
        vsArAccumulate(z, n, pmax, pmax, &ne);
        if (ne.rows >= 2 * (gsize)(pmax + 1))
            break;
        if (pmax == 1) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "ar needs 4 pairs of consecutive observations, got %zu", ne.rows);
            return FALSE;
        }
    }
    ar->p = vsArSelectOrder(&ne, pmax);
    vsArAccumulate(z, n, ar->p, ar->p, &ne);
    ar->sigma2 = vsArSolve(&ne, ar->p, b) / (double)MAX(ne.rows - (ar->p + 1), 1);
    if (!isfinite(ar->sigma2)) {
        g_set_error_literal(error, VS_ERROR, VS_ERROR_INVALID, "ar overflows on this series");
        return FALSE;
    }
    ar->c = b[0];
    for (i = 0; i < ar->p; i++)
        ar->phi[i] = b[i + 1];
    vsArReplay(ar, z, n);
    ar->fitted = TRUE;
    return TRUE;
}

static void
vsModelArUpdate(gpointer model, double t, double y, const double *x)
{
    vsArModel *ar = model;

    if (!ar->fitted)
        return;
    vsArPush(ar->hist, ar->p, isfinite(y) ? y - ar->mean : vsArPredict(ar, ar->hist));
}

static gboolean
vsModelArForecast(gpointer model, guint horizon, const double *future_x, double *point)
{
    vsArModel *ar = model;
    double hist[VS_AR_MAX_ORDER];
    guint h;

    if (!ar->fitted)
        return FALSE;
    memcpy(hist, ar->hist, sizeof(hist));
    for (h = 0; h < horizon; h++) {
        double z = vsArPredict(ar, hist);

        if (!isfinite(z + ar->mean))
            return FALSE;       /* an explosive fit overflowed */
        point[h] = z + ar->mean;
        vsArPush(hist, ar->p, z);
    }
    return TRUE;
}

static char *
vsModelArDescribe(gpointer model)
{
    vsArModel *ar = model;
    g_autoptr(GString) s = g_string_new("ar");
    guint i;

    if (!ar->fitted) {
        g_string_append(s, " (not fitted)");
        return g_string_free(g_steal_pointer(&s), FALSE);
    }
    g_string_append_printf(s, " p=%u mean=%.4g phi=", ar->p, ar->mean);
    for (i = 0; i < ar->p; i++)
        g_string_append_printf(s, "%s%.3f", i ? "," : "", ar->phi[i]);
    g_string_append_printf(s, " sigma=%.3g", sqrt(ar->sigma2));
    return g_string_free(g_steal_pointer(&s), FALSE);
}

guint
vsModelArGetCoefficients(gpointer model, double *ret_intercept, double *ret_phi)
{
    vsArModel *ar = model;
    double sum = 0.0;
    guint i;

    if (!ar->fitted)
        return 0;
    for (i = 0; i < ar->p; i++) {
        ret_phi[i] = ar->phi[i];
        sum += ar->phi[i];
    }
    /* c + Σφ·(y − μ) + μ  =  (c + μ·(1 − Σφ)) + Σφ·y */
    *ret_intercept = ar->c + ar->mean * (1.0 - sum);
    return ar->p;
}

const vsModelDriver vsModelAr = {
    .name = "ar",
    .create = vsModelArCreate,
    .destroy = vsModelArDestroy,
    .fit = vsModelArFit,
    .update = vsModelArUpdate,
    .forecast = vsModelArForecast,
    .describe = vsModelArDescribe,
};
