/*
 * vsmodelfittest.c: the fitted models (holt-winters, ar, regression) and
 * their helpers (vslinalg, vsoptim)
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "forecast/vslinalg.h"
#include "forecast/vsmodel.h"
#include "forecast/vsmodelar.h"
#include "forecast/vsmodelhw.h"
#include "forecast/vsmodelregress.h"
#include "forecast/vsoptim.h"
#include "util/vserror.h"
#include "vstestutils.h"

/* --- helpers ------------------------------------------------------------------ */

static double
testGauss(GRand *rand)
{
    /* Box-Muller; 1 − u keeps log away from 0 */
    double u = 1.0 - g_rand_double(rand), v = g_rand_double(rand);

    return sqrt(-2.0 * log(u)) * cos(2.0 * G_PI * v);
}

static gpointer
testFit(const vsModelDriver *drv, const vsModelOptions *opts, const double *y,
        const double *x, gsize n)
{
    vsSeries s = { .t = NULL, .y = y, .x = x, .n = n };
    g_autoptr(GError) error = NULL;
    gpointer model = drv->create(opts);

    if (!drv->fit(model, &s, &error))
        ck_abort_msg("%s fit failed: %s", drv->name, error->message);
    return model;
}

static void
testFitFails(const vsModelDriver *drv, const vsModelOptions *opts, const double *y,
             const double *x, gsize n)
{
    vsSeries s = { .t = NULL, .y = y, .x = x, .n = n };
    g_autoptr(GError) error = NULL;
    gpointer model = drv->create(opts);
    double point[1];

    ck_assert(!drv->fit(model, &s, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert(!drv->forecast(model, 1, NULL, point));
    drv->destroy(model);
}

/* A day-long season with sharp edges (not a sine) plus a trend. */
static double
testSeasonal(gsize t, guint m)
{
    guint pos = t % m;
    double season = pos < m / 3 ? -2.0 : pos < m / 2 ? 5.0 : 0.5 * sin(2 * G_PI * pos / m);

    return 20.0 + 0.003 * t + season;
}

/* --- vslinalg ------------------------------------------------------------------ */

START_TEST(test_linalg_solve)
{
    double a[9] = { 2, 1, -1, -3, -1, 2, -2, 1, 2 };
    double b[3] = { 8, -11, -3 };
    /* the classic Cholesky example: L = [2 0 0; 6 1 0; -8 5 3] */
    double spd[9] = { 4, 12, -16, 12, 37, -43, -16, -43, 98 };
    double c[3] = { -20, -43, 192 };       /* spd · (1, 2, 3) */
    g_autoptr(GError) error = NULL;

    ck_assert(vsLinalgSolve(a, b, 3, &error));
    ck_assert_double_eq_tol(b[0], 2.0, 1e-12);
    ck_assert_double_eq_tol(b[1], 3.0, 1e-12);
    ck_assert_double_eq_tol(b[2], -1.0, 1e-12);

    ck_assert(vsLinalgSolveSpd(spd, c, 3, &error));
    ck_assert_double_eq_tol(spd[0], 2.0, 1e-12);
    ck_assert_double_eq_tol(spd[3], 6.0, 1e-12);
    ck_assert_double_eq_tol(spd[8], 3.0, 1e-12);
    ck_assert_double_eq_tol(c[0], 1.0, 1e-10);
    ck_assert_double_eq_tol(c[1], 2.0, 1e-10);
    ck_assert_double_eq_tol(c[2], 3.0, 1e-10);
}
END_TEST

START_TEST(test_linalg_singular)
{
    double a[9] = { 1, 2, 3, 2, 4, 6, 1, 1, 1 };
    double b[3] = { 1, 2, 3 };
    double psd[4] = { 1, 1, 1, 1 };
    double c[2] = { 1, 1 };
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) error2 = NULL;

    ck_assert(!vsLinalgSolve(a, b, 3, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_ptr_nonnull(strstr(error->message, "singular"));
    ck_assert(!vsLinalgSolveSpd(psd, c, 2, &error2));
    ck_assert(g_error_matches(error2, VS_ERROR, VS_ERROR_INVALID));
}
END_TEST

/* --- vsoptim ------------------------------------------------------------------- */

static double
testRosenbrock(const double *x, gpointer opaque)
{
    guint *calls = opaque;

    (*calls)++;
    return 100.0 * pow(x[1] - x[0] * x[0], 2) + pow(1.0 - x[0], 2);
}

START_TEST(test_optim_rosenbrock)
{
    const vsOptimOptions opts = { .step = 0.5, .max_evals = 2000, .ftol = 1e-12,
                                  .fabs_tol = 1e-14, .xtol = 1e-7 };
    double x[2] = { -1.2, 1.0 };
    guint calls = 0, evals = 0;
    double f = vsOptimNelderMead(testRosenbrock, &calls, x, 2, &opts, &evals);

    ck_assert_double_lt(f, 1e-8);
    ck_assert_double_eq_tol(x[0], 1.0, 1e-3);
    ck_assert_double_eq_tol(x[1], 1.0, 1e-3);
    ck_assert_uint_eq(calls, evals);
    ck_assert_uint_le(evals, 2000 + 2);     /* a step may finish after the cap */
}
END_TEST

/* --- holt-winters -------------------------------------------------------------- */

START_TEST(test_hw_exact_seasonal)
{
    const guint m = 288;
    const gsize n = 4 * m;
    const vsModelOptions opts = { .step_s = 300, .period = m };
    g_autofree double *y = g_new(double, n + 2 * m);
    g_autofree double *point = g_new(double, 2 * m);
    gpointer model;
    gsize t;
    guint h;

    for (t = 0; t < n + 2 * m; t++)
        y[t] = testSeasonal(t, m);
    model = testFit(&vsModelHoltWinters, &opts, y, NULL, n);
    ck_assert(vsModelHoltWinters.forecast(model, 2 * m, NULL, point));
    for (h = 0; h < 2 * m; h++)
        ck_assert_double_eq_tol(point[h], y[n + h], 1e-6);
    vsModelHoltWinters.destroy(model);
}
END_TEST

START_TEST(test_hw_params_in_box)
{
    const guint m = 24;
    const gsize n = 14 * m;
    const vsModelOptions opts = { .step_s = 300, .period = m };
    g_autoptr(GRand) rand = g_rand_new_with_seed(7);
    g_autofree double *y = g_new(double, n);
    g_autofree char *desc = NULL;
    vsModelHwInfo info = { 0 };
    gpointer model;
    gsize t;

    for (t = 0; t < n; t++)
        y[t] = testSeasonal(t, m) + 0.5 * testGauss(rand);
    model = testFit(&vsModelHoltWinters, &opts, y, NULL, n);
    ck_assert(vsModelHwGetInfo(model, &info));
    ck_assert_uint_eq(info.period, m);
    ck_assert(info.alpha > 0 && info.alpha < 1);
    ck_assert(info.beta > 0 && info.beta <= info.alpha);
    ck_assert(info.gamma > 0 && info.gamma <= 1 - info.alpha);
    ck_assert(isfinite(info.sse) && info.sse > 0);
    desc = vsModelHoltWinters.describe(model);
    ck_assert_ptr_nonnull(strstr(desc, "holt-winters alpha="));
    ck_assert_ptr_nonnull(strstr(desc, "period=24"));
    vsModelHoltWinters.destroy(model);
}
END_TEST

/* Mean absolute error of the forecast over the next @h observations. */
static double
testMae(const double *actual, const double *fc, guint h)
{
    double sum = 0;
    guint i;

    for (i = 0; i < h; i++)
        sum += fabs(actual[i] - fc[i]);
    return sum / h;
}

START_TEST(test_hw_beats_seasonal_naive)
{
    const guint m = 48;
    const gsize n = 10 * m;
    const vsModelOptions opts = { .step_s = 300, .period = m };
    g_autoptr(GRand) rand = g_rand_new_with_seed(42);
    g_autofree double *y = g_new(double, n + 2 * m);
    g_autofree double *point = g_new(double, 2 * m);
    g_autofree double *naive = g_new(double, 2 * m);
    double mae_hw, mae_naive;
    gpointer model;
    gsize t;
    guint h;

    for (t = 0; t < n + 2 * m; t++)
        y[t] = testSeasonal(t, m) + testGauss(rand);
    for (h = 0; h < 2 * m; h++)
        naive[h] = y[n - m + h % m];
    model = testFit(&vsModelHoltWinters, &opts, y, NULL, n);
    ck_assert(vsModelHoltWinters.forecast(model, 2 * m, NULL, point));
    mae_hw = testMae(y + n, point, 2 * m);
    mae_naive = testMae(y + n, naive, 2 * m);
    /* smoothing averages the noise out; the naive forecast keeps all of it */
    ck_assert_double_lt(mae_hw, 0.9 * mae_naive);
    ck_assert_double_lt(mae_hw, 1.2);           /* noise MAE is 0.8 */
    vsModelHoltWinters.destroy(model);
}
END_TEST

/* After update(y) the forecasts follow the error-correction recursion:
 * F'_h = F_(h+1) + e·(α + h·α·β + γ·[h ≡ 0 mod m]), e = y − F_1. */
START_TEST(test_hw_update_recursion)
{
    const guint m = 24;
    const gsize n = 8 * m;
    const vsModelOptions opts = { .step_s = 300, .period = m };
    g_autoptr(GRand) rand = g_rand_new_with_seed(3);
    g_autofree double *y = g_new(double, n + 5);
    double before[2 * 24 + 1], after[2 * 24];
    vsModelHwInfo info;
    gpointer model;
    gsize t;
    guint k, h;

    for (t = 0; t < n + 5; t++)
        y[t] = testSeasonal(t, m) + 0.3 * testGauss(rand);
    model = testFit(&vsModelHoltWinters, &opts, y, NULL, n);
    ck_assert(vsModelHwGetInfo(model, &info));
    for (k = 0; k < 5; k++) {
        double obs = k == 2 ? NAN : y[n + k];   /* a missing one: e = 0 */
        double e;

        ck_assert(vsModelHoltWinters.forecast(model, 2 * m + 1, NULL, before));
        e = isnan(obs) ? 0.0 : obs - before[0];
        vsModelHoltWinters.update(model, 0, obs, NULL);
        ck_assert(vsModelHoltWinters.forecast(model, 2 * m, NULL, after));
        for (h = 1; h <= 2 * m; h++) {
            double expect = before[h] + e * (info.alpha + h * info.alpha * info.beta +
                                             (h % m == 0 ? info.gamma : 0.0));

            ck_assert_double_eq_tol(after[h - 1], expect, 1e-9);
        }
    }
    vsModelHoltWinters.destroy(model);
}
END_TEST

/* Fitting on more data equals fitting on less and updating, when the
 * parameters agree: checked through an exact series, whose fit is exact
 * whatever the parameters. */
START_TEST(test_hw_update_matches_fit)
{
    const guint m = 24;
    const gsize n = 6 * m;
    const vsModelOptions opts = { .step_s = 300, .period = m };
    g_autofree double *y = g_new(double, n + m + m);
    double a[24], b[24];
    gpointer short_fit, long_fit;
    gsize t;
    guint h;

    for (t = 0; t < n + 2 * m; t++)
        y[t] = testSeasonal(t, m);
    short_fit = testFit(&vsModelHoltWinters, &opts, y, NULL, n);
    long_fit = testFit(&vsModelHoltWinters, &opts, y, NULL, n + m);
    for (t = n; t < n + m; t++)
        vsModelHoltWinters.update(short_fit, 0, y[t], NULL);
    ck_assert(vsModelHoltWinters.forecast(short_fit, m, NULL, a));
    ck_assert(vsModelHoltWinters.forecast(long_fit, m, NULL, b));
    for (h = 0; h < m; h++) {
        ck_assert_double_eq_tol(a[h], b[h], 1e-6);
        ck_assert_double_eq_tol(a[h], y[n + m + h], 1e-6);
    }
    vsModelHoltWinters.destroy(short_fit);
    vsModelHoltWinters.destroy(long_fit);
}
END_TEST

START_TEST(test_hw_missing)
{
    const guint m = 24;
    const gsize n = 8 * m;
    const vsModelOptions opts = { .step_s = 300, .period = m };
    g_autofree double *y = g_new(double, n);
    double point[48];
    gpointer model;
    gsize t;
    guint h;

    for (t = 0; t < n; t++)
        y[t] = (t % 17 == 3 || t == 0) ? NAN : testSeasonal(t, m);
    model = testFit(&vsModelHoltWinters, &opts, y, NULL, n);
    ck_assert(vsModelHoltWinters.forecast(model, 48, NULL, point));
    for (h = 0; h < 48; h++) {
        ck_assert(isfinite(point[h]));
        ck_assert_double_eq_tol(point[h], testSeasonal(n + h, m), 0.05);
    }
    vsModelHoltWinters.update(model, 0, INFINITY, NULL);
    ck_assert(vsModelHoltWinters.forecast(model, 1, NULL, point));
    ck_assert(isfinite(point[0]));
    vsModelHoltWinters.destroy(model);
}
END_TEST

/* A missing last observation takes the slow path (gaps); the fit must be
 * the fast path's on the series without it, plus one imputed step. */
START_TEST(test_hw_gap_path_matches_dense)
{
    const guint m = 24;
    const gsize n = 8 * m;
    const vsModelOptions opts = { .step_s = 300, .period = m };
    g_autoptr(GRand) rand = g_rand_new_with_seed(9);
    g_autofree double *y = g_new(double, n);
    double a[24], b[24];
    vsModelHwInfo dense, gaps;
    gpointer short_fit, gap_fit;
    gsize t;
    guint h;

    for (t = 0; t < n; t++)
        y[t] = testSeasonal(t, m) + 0.3 * testGauss(rand);
    y[n - 1] = NAN;
    short_fit = testFit(&vsModelHoltWinters, &opts, y, NULL, n - 1);
    gap_fit = testFit(&vsModelHoltWinters, &opts, y, NULL, n);
    ck_assert(vsModelHwGetInfo(short_fit, &dense));
    ck_assert(vsModelHwGetInfo(gap_fit, &gaps));
    ck_assert_double_eq_tol(gaps.sse, dense.sse, 1e-9 * dense.sse);
    ck_assert_double_eq_tol(gaps.alpha, dense.alpha, 1e-6);
    vsModelHoltWinters.update(short_fit, 0, NAN, NULL);
    ck_assert(vsModelHoltWinters.forecast(short_fit, m, NULL, a));
    ck_assert(vsModelHoltWinters.forecast(gap_fit, m, NULL, b));
    for (h = 0; h < m; h++)
        ck_assert_double_eq_tol(a[h], b[h], 1e-6);
    vsModelHoltWinters.destroy(short_fit);
    vsModelHoltWinters.destroy(gap_fit);
}
END_TEST

START_TEST(test_hw_too_short)
{
    const vsModelOptions opts = { .step_s = 300, .period = 288 };
    const vsModelOptions holt = { .step_s = 300, .period = 0 };
    g_autofree double *y = g_new(double, 2 * 288);
    gpointer model;
    double point[1];
    gsize t;

    for (t = 0; t < 2 * 288; t++)
        y[t] = t % 7;
    testFitFails(&vsModelHoltWinters, &opts, y, NULL, 2 * 288 - 1);
    testFitFails(&vsModelHoltWinters, &holt, y, NULL, 9);
    for (t = 0; t < 20; t++)
        y[t] = NAN;
    testFitFails(&vsModelHoltWinters, &holt, y, NULL, 20);
    for (t = 0; t < 20; t++)
        y[t] = (t % 2 ? -1 : 1) * 1e300;     /* squares overflow */
    testFitFails(&vsModelHoltWinters, &holt, y, NULL, 20);

    /* not fitted: no forecast, updates ignored */
    model = vsModelHoltWinters.create(&opts);
    vsModelHoltWinters.update(model, 0, 1.0, NULL);
    ck_assert(!vsModelHoltWinters.forecast(model, 1, NULL, point));
    vsModelHoltWinters.destroy(model);
    vsModelHoltWinters.destroy(NULL);
}
END_TEST

START_TEST(test_hw_no_period_is_holt)
{
    const vsModelOptions opts = { .step_s = 60, .period = 0 };
    double y[100], point[10];
    vsModelHwInfo info;
    gpointer model;
    guint t, h;

    for (t = 0; t < 100; t++)
        y[t] = 5.0 + 0.5 * t;
    model = testFit(&vsModelHoltWinters, &opts, y, NULL, 100);
    ck_assert(vsModelHwGetInfo(model, &info));
    ck_assert_uint_eq(info.period, 0);
    ck_assert_double_eq(info.gamma, 0.0);
    ck_assert(vsModelHoltWinters.forecast(model, 10, NULL, point));
    for (h = 0; h < 10; h++)
        ck_assert_double_eq_tol(point[h], 5.0 + 0.5 * (100 + h), 1e-6);
    vsModelHoltWinters.destroy(model);
}
END_TEST

/* --- ar ------------------------------------------------------------------------ */

/* y_t = 2 + 0.6·y_(t−1) − 0.3·y_(t−2) + N(0, 1); mean 2 / 0.7. */
static double *
testAr2(gsize n, guint32 seed)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
    double *y = g_new(double, n);
    double y1 = 0, y2 = 0;
    gsize t;

    for (t = 0; t < n + 500; t++) {
        double v = 2.0 + 0.6 * y1 - 0.3 * y2 + testGauss(rand);

        y2 = y1;
        y1 = v;
        if (t >= 500)           /* burn-in */
            y[t - 500] = v;
    }
    return y;
}

START_TEST(test_ar_recovers_ar2)
{
    const vsModelOptions opts = { .step_s = 300 };
    const gsize n = 5000;
    g_autofree double *y = testAr2(n, 11);
    g_autofree char *desc = NULL;
    double c, phi[VS_AR_MAX_ORDER], point[200];
    double mean = 0;
    gpointer model;
    guint p, i;

    model = testFit(&vsModelAr, &opts, y, NULL, n);
    p = vsModelArGetCoefficients(model, &c, phi);
    ck_assert_uint_ge(p, 2);
    ck_assert_uint_le(p, 4);
    ck_assert_double_eq_tol(phi[0], 0.6, 0.05);
    ck_assert_double_eq_tol(phi[1], -0.3, 0.05);
    for (i = 2; i < p; i++)
        ck_assert_double_eq_tol(phi[i], 0.0, 0.05);
    ck_assert_double_eq_tol(c, 2.0, 0.2);

    /* long-range forecasts converge to the mean */
    for (i = 0; i < n; i++)
        mean += y[i] / n;
    ck_assert(vsModelAr.forecast(model, 200, NULL, point));
    ck_assert_double_eq_tol(point[199], mean, 0.05);
    ck_assert_double_eq_tol(point[199], 2.0 / 0.7, 0.1);
    desc = vsModelAr.describe(model);
    ck_assert_ptr_nonnull(strstr(desc, "ar p="));
    vsModelAr.destroy(model);
}
END_TEST

START_TEST(test_ar_picks_order_two)
{
    const vsModelOptions opts = { .step_s = 300 };
    double c, phi[VS_AR_MAX_ORDER];
    guint seed, twos = 0;

    /* AIC overfits now and then; it must pick 2 most of the time */
    for (seed = 1; seed <= 10; seed++) {
        g_autofree double *y = testAr2(5000, seed);
        gpointer model = testFit(&vsModelAr, &opts, y, NULL, 5000);

        twos += vsModelArGetCoefficients(model, &c, phi) == 2;
        vsModelAr.destroy(model);
    }
    ck_assert_uint_ge(twos, 6);
}
END_TEST

START_TEST(test_ar_update)
{
    const vsModelOptions opts = { .step_s = 300 };
    g_autofree double *y = testAr2(1000, 5);
    double c, phi[VS_AR_MAX_ORDER], point[3], expect;
    gpointer model = testFit(&vsModelAr, &opts, y, NULL, 1000);
    guint p = vsModelArGetCoefficients(model, &c, phi);
    double hist[VS_AR_MAX_ORDER + 2];
    guint i;

    /* feed 1.5 then a missing value: the gap takes the one-step forecast */
    for (i = 0; i < p; i++)
        hist[i] = y[999 - i];
    vsModelAr.update(model, 0, 1.5, NULL);
    memmove(hist + 1, hist, p * sizeof(double));
    hist[0] = 1.5;
    expect = c;
    for (i = 0; i < p; i++)
        expect += phi[i] * hist[i];
    ck_assert(vsModelAr.forecast(model, 3, NULL, point));
    ck_assert_double_eq_tol(point[0], expect, 1e-9);
    expect = point[1];
    vsModelAr.update(model, 0, NAN, NULL);
    ck_assert(vsModelAr.forecast(model, 2, NULL, point));
    ck_assert_double_eq_tol(point[0], expect, 1e-9);
    ck_assert_double_eq_tol(point[1], point[2], 1e-9);
    vsModelAr.destroy(model);
}
END_TEST

START_TEST(test_ar_degenerate)
{
    const vsModelOptions opts = { .step_s = 300 };
    double y[200], point[5];
    gpointer model;
    guint t;

    for (t = 0; t < 200; t++)
        y[t] = 4096.0;
    model = testFit(&vsModelAr, &opts, y, NULL, 200);
    ck_assert(vsModelAr.forecast(model, 5, NULL, point));
    for (t = 0; t < 5; t++)
        ck_assert_double_eq_tol(point[t], 4096.0, 1e-9);
    vsModelAr.destroy(model);

    /* missing values are skipped */
    for (t = 0; t < 200; t++)
        y[t] = t % 5 == 0 ? NAN : 1.0 + (t % 3);
    model = testFit(&vsModelAr, &opts, y, NULL, 200);
    ck_assert(vsModelAr.forecast(model, 5, NULL, point));
    for (t = 0; t < 5; t++)
        ck_assert(isfinite(point[t]));
    vsModelAr.destroy(model);

    testFitFails(&vsModelAr, &opts, y, NULL, 9);
}
END_TEST

/* --- regression ------------------------------------------------------------------ */

/* y = 3 + 2·x1 − 0.5·x2 + N(0, 0.1²) */
static void
testRegressData(gsize n, guint32 seed, double *x, double *y)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
    gsize t;

    for (t = 0; t < n; t++) {
        x[2 * t] = g_rand_double_range(rand, 0, 10);
        x[2 * t + 1] = g_rand_double_range(rand, 1000, 1100);   /* large mean */
        y[t] = 3.0 + 2.0 * x[2 * t] - 0.5 * x[2 * t + 1] + 0.1 * testGauss(rand);
    }
}

START_TEST(test_regress_recovers)
{
    const vsModelOptions opts = { .step_s = 300, .n_inputs = 2 };
    const gsize n = 2000;
    g_autofree double *x = g_new(double, 2 * n);
    g_autofree double *y = g_new(double, n);
    g_autofree char *desc = NULL;
    const double future[6] = { 1, 1000, 5, 1050, 9, 1100 };
    double coef[3], point[3];
    gpointer model;
    guint h;

    testRegressData(n, 21, x, y);
    model = testFit(&vsModelRegression, &opts, y, x, n);
    ck_assert(vsModelRegressionGetCoefficients(model, coef));
    ck_assert_double_eq_tol(coef[1], 2.0, 0.01);
    ck_assert_double_eq_tol(coef[2], -0.5, 0.01);
    ck_assert_double_eq_tol(coef[0], 3.0, 1.0);     /* far from the data's x2 ~ 1050 */

    ck_assert(vsModelRegression.forecast(model, 3, future, point));
    for (h = 0; h < 3; h++) {
        double x1 = future[2 * h], x2 = future[2 * h + 1];

        ck_assert_double_eq_tol(point[h], coef[0] + coef[1] * x1 + coef[2] * x2, 1e-9);
        ck_assert_double_eq_tol(point[h], 3.0 + 2.0 * x1 - 0.5 * x2, 0.05);
    }
    /* no future inputs: the last seen persist */
    ck_assert(vsModelRegression.forecast(model, 2, NULL, point));
    ck_assert_double_eq_tol(point[0], point[1], 1e-12);
    ck_assert_double_eq_tol(point[0], 3.0 + 2.0 * x[2 * n - 2] - 0.5 * x[2 * n - 1], 0.05);
    desc = vsModelRegression.describe(model);
    ck_assert_ptr_nonnull(strstr(desc, "regression inputs=2"));
    vsModelRegression.destroy(model);
}
END_TEST

START_TEST(test_regress_update_equals_fit)
{
    const vsModelOptions opts = { .step_s = 300, .n_inputs = 2 };
    const gsize n = 600;
    g_autofree double *x = g_new(double, 2 * n);
    g_autofree double *y = g_new(double, n);
    double a[3], b[3];
    gpointer part, whole;
    gsize t;

    testRegressData(n, 8, x, y);
    y[450] = NAN;                           /* skipped by both */
    part = testFit(&vsModelRegression, &opts, y, x, n / 2);
    for (t = n / 2; t < n; t++)
        vsModelRegression.update(part, 0, y[t], x + 2 * t);
    vsModelRegression.update(part, 0, 1e6, NULL);  /* no inputs: not absorbed */
    whole = testFit(&vsModelRegression, &opts, y, x, n);
    ck_assert(vsModelRegressionGetCoefficients(part, a));
    ck_assert(vsModelRegressionGetCoefficients(whole, b));
    for (t = 0; t < 3; t++)
        ck_assert_double_eq_tol(a[t], b[t], 1e-9);
    vsModelRegression.destroy(part);
    vsModelRegression.destroy(whole);
}
END_TEST

START_TEST(test_regress_needs_inputs)
{
    const vsModelOptions none = { .step_s = 300, .n_inputs = 0 };
    const vsModelOptions two = { .step_s = 300, .n_inputs = 2 };
    double x[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    double y[4] = { 1, 2, 3, NAN };
    double point[1];
    gpointer model;

    testFitFails(&vsModelRegression, &none, y, NULL, 4);
    testFitFails(&vsModelRegression, &two, y, NULL, 4);    /* no x */
    testFitFails(&vsModelRegression, &two, y, x, 4);       /* 3 complete rows < 4 */

    /* a constant input: coefficient 0, still solvable */
    {
        double cx[20], cy[10];
        guint t;

        for (t = 0; t < 10; t++) {
            cx[2 * t] = t;
            cx[2 * t + 1] = 7.0;
            cy[t] = 1.0 + 0.5 * t;
        }
        model = testFit(&vsModelRegression, &two, cy, cx, 10);
        ck_assert(vsModelRegression.forecast(model, 1, (double[]){ 20, 7 }, point));
        ck_assert_double_eq_tol(point[0], 11.0, 1e-4);
        vsModelRegression.destroy(model);
    }
    vsModelRegression.destroy(NULL);
}
END_TEST

START_TEST(test_driver_names)
{
    ck_assert_str_eq(vsModelHoltWinters.name, "holt-winters");
    ck_assert_str_eq(vsModelAr.name, "ar");
    ck_assert_str_eq(vsModelRegression.name, "regression");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("modelfit");
    TCase *tc = tcase_create("modelfit");

    tcase_add_test(tc, test_linalg_solve);
    tcase_add_test(tc, test_linalg_singular);
    tcase_add_test(tc, test_optim_rosenbrock);
    tcase_add_test(tc, test_hw_exact_seasonal);
    tcase_add_test(tc, test_hw_params_in_box);
    tcase_add_test(tc, test_hw_beats_seasonal_naive);
    tcase_add_test(tc, test_hw_update_recursion);
    tcase_add_test(tc, test_hw_update_matches_fit);
    tcase_add_test(tc, test_hw_missing);
    tcase_add_test(tc, test_hw_gap_path_matches_dense);
    tcase_add_test(tc, test_hw_too_short);
    tcase_add_test(tc, test_hw_no_period_is_holt);
    tcase_add_test(tc, test_ar_recovers_ar2);
    tcase_add_test(tc, test_ar_picks_order_two);
    tcase_add_test(tc, test_ar_update);
    tcase_add_test(tc, test_ar_degenerate);
    tcase_add_test(tc, test_regress_recovers);
    tcase_add_test(tc, test_regress_update_equals_fit);
    tcase_add_test(tc, test_regress_needs_inputs);
    tcase_add_test(tc, test_driver_names);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
