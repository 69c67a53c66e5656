/*
 * vsforecastertest.c: conformal intervals, model selection and the backtest
 */
#include <config.h>

#include <math.h>

#include "forecast/vsbacktest.h"
#include "forecast/vsforecaster.h"
#include "forecast/vsselect.h"
#include "vstestutils.h"

#define STEP 300.0
#define DAY 288

static double
gaussian(GRand *rng)
{
    /* Box-Muller: two uniforms in (0, 1] */
    double u = 1 - g_rand_double(rng), v = g_rand_double(rng);

    return sqrt(-2 * log(u)) * cos(2 * G_PI * v);
}

/* On i.i.d. Gaussian data a 90 % interval covers 90 % (within 3 points),
 * and a 99 % bound is exceeded about 1 % of the time. */
START_TEST(test_coverage_iid)
{
    g_autoptr(GRand) rng = g_rand_new_with_seed(7 + _i);
    vsModelOptions opts = { .resource = VS_RESOURCE_CPU, .step_s = STEP };
    g_autoptr(vsForecaster) f = vsForecasterNew(&vsModelEwma, &opts, 1, 2, 2000);
    guint inside = 0, above = 0, n = 0;
    double hist[500];

    for (guint i = 0; i < G_N_ELEMENTS(hist); i++)
        hist[i] = 10 + gaussian(rng);
    ck_assert(vsForecasterFit(f, &(vsSeries){ .y = hist, .n = G_N_ELEMENTS(hist) }, NULL));
    for (guint i = 0; i < 20000; i++) {
        double y = 10 + gaussian(rng);
        double point, lo, hi, q99;

        if (i >= 2000) {
            ck_assert(vsForecasterPredict(f, 1, 0.9, &point, &lo, &hi));
            ck_assert(vsForecasterQuantile(f, 1, 0.99, &q99));
            ck_assert(lo <= point && point <= hi && hi <= q99);
            inside += y >= lo && y <= hi;
            above += y > q99;
            n++;
        }
        vsForecasterObserve(f, i * STEP, y, NULL);
    }
    ck_assert_msg(fabs((double)inside / n - 0.9) <= 0.03, "90%% interval covered %.3f",
                  (double)inside / n);
    ck_assert_msg(fabs((double)above / n - 0.01) <= 0.005, "99%% bound exceeded %.4f",
                  (double)above / n);
}
END_TEST

/* Errors are scored per horizon: a model that lags shows larger errors
 * two steps ahead than one. */
START_TEST(test_errors_per_horizon)
{
    vsModelOptions opts = { .resource = VS_RESOURCE_CPU, .step_s = STEP };
    g_autoptr(vsForecaster) f = vsForecasterNew(&vsModelLast, &opts, 1, 2, 100);
    double y0 = 0;

    ck_assert(vsForecasterFit(f, &(vsSeries){ .y = &y0, .n = 1 }, NULL));
    for (guint i = 1; i <= 50; i++)
        vsForecasterObserve(f, i * STEP, i, NULL);     /* a ramp */
    ck_assert_uint_eq(vsForecasterErrors(f, 1), 50);
    ck_assert_uint_eq(vsForecasterErrors(f, 2), 49);
    ck_assert_double_eq_tol(vsForecasterMae(f, 1), 1, 1e-9);
    ck_assert_double_eq_tol(vsForecasterMae(f, 2), 2, 1e-9);
}
END_TEST

/* A missing value is not scored and does not reach a forecast. */
START_TEST(test_missing_values)
{
    vsModelOptions opts = { .resource = VS_RESOURCE_CPU, .step_s = STEP };
    g_autoptr(vsForecaster) f = vsForecasterNew(&vsModelLast, &opts, 1, 1, 100);
    double y0 = 5, point, lo, hi;

    ck_assert(vsForecasterFit(f, &(vsSeries){ .y = &y0, .n = 1 }, NULL));
    vsForecasterObserve(f, STEP, NAN, NULL);
    ck_assert_uint_eq(vsForecasterErrors(f, 1), 0);
    ck_assert(vsForecasterPredict(f, 1, 0.9, &point, &lo, &hi));
    ck_assert(isfinite(point));
}
END_TEST

/* A daily pattern: the selector finds the period, settles on a model that
 * follows the pattern, and allocates above use nearly always with little
 * slack. */
START_TEST(test_selector_seasonal)
{
    g_autoptr(GRand) rng = g_rand_new_with_seed(42);
    vsSelectorConfig cfg;
    g_autoptr(vsSelector) s = NULL;
    guint under = 0, scored = 0;
    double alloc = NAN, slack = 0, total = 0;
    const char *model;

    vsSelectorConfigDefaults(&cfg, VS_RESOURCE_CPU, STEP);
    s = vsSelectorNew(&cfg, NULL);
    for (guint i = 0; i < 14 * DAY; i++) {
        double y = 2 + sin(2 * G_PI * i / DAY) + 0.05 * gaussian(rng);

        if (i >= 8 * DAY && !isnan(alloc)) {
            under += y > alloc;
            slack += MAX(alloc - y, 0);
            total += alloc;
            scored++;
        }
        vsSelectorObserve(s, i * STEP, y, NULL);
        if (!vsSelectorAllocate(s, &alloc))
            alloc = NAN;
    }
    model = vsSelectorModel(s);
    ck_assert_uint_eq(scored, 6 * DAY);
    ck_assert_msg(abs((int)vsSelectorPeriod(s) - DAY) <= DAY / 50, "period %u",
                  vsSelectorPeriod(s));
    ck_assert_msg(g_str_equal(model, "seasonal") || g_str_equal(model, "holt-winters") ||
                  g_str_equal(model, "ar"), "chose %s", model);
    ck_assert_msg(under <= scored / 50, "%u of %u slots under-provisioned", under, scored);
    ck_assert_msg(slack / total < 0.15, "slack %.3f", slack / total);
}
END_TEST

/* Bursts that start at random and last a while: with the burst floor,
 * the selector covers a burst from its third step on and costs less,
 * under-provisioning and slack together, than it can without. */
START_TEST(test_selector_burst_floor)
{
    double cost[2];

    for (int on = 0; on <= 1; on++) {
        g_autoptr(GRand) rng = g_rand_new_with_seed(7);
        vsSelectorConfig cfg;
        g_autoptr(vsSelector) s = NULL;
        double alloc = NAN;
        guint left = 0;
        double height = 0;

        vsSelectorConfigDefaults(&cfg, VS_RESOURCE_CPU, STEP);
        cfg.burst_gain = on ? 1.2 : 0;
        s = vsSelectorNew(&cfg, NULL);
        cost[on] = 0;
        for (guint i = 0; i < 10 * DAY; i++) {
            double y;

            if (left == 0 && g_rand_double(rng) < 0.01) {
                left = 12;
                height = g_rand_double_range(rng, 1, 10);
            }
            y = (left > 0 ? height : 0.5) * g_rand_double_range(rng, 0.95, 1.05);
            left -= left > 0;
            if (i >= 7 * DAY && !isnan(alloc))
                cost[on] += y > alloc ? cfg.under_cost : (alloc - y) / 0.5;
            vsSelectorObserve(s, i * STEP, y, NULL);
            if (!vsSelectorAllocate(s, &alloc))
                alloc = NAN;
        }
    }
    ck_assert_msg(cost[1] < 0.9 * cost[0], "cost %.0f with the floor, %.0f without",
                  cost[1], cost[0]);
}
END_TEST

/* Memory a job takes at the same phase of every season, with noise and
 * edges that wander by part of a step: once the season is found, the
 * seasons' peak allocates it, and gives most of it back in between. */
START_TEST(test_selector_memory_season)
{
    g_autoptr(GRand) rng = g_rand_new_with_seed(7);
    vsSelectorConfig cfg;
    g_autoptr(vsSelector) s = NULL;
    const guint period = 12;
    guint under = 0, between = 0;
    double alloc[3] = { NAN, NAN, NAN }, held = 0;

    vsSelectorConfigSeason(&cfg, VS_RESOURCE_MEMORY, 5, 5 * period);
    ck_assert_uint_eq(cfg.lead_steps + cfg.window_steps, 2);
    s = vsSelectorNew(&cfg, NULL);
    for (guint i = 0; i < 40 * period; i++) {
        guint phase = i % period;
        /* 64 MiB from 2 s into phase 0 for about 20 s: phases 0 and 4 in part */
        double start = 2 + g_rand_double_range(rng, -0.5, 0.8);
        double end = start + 20 + g_rand_double(rng);
        double busy = CLAMP(MIN(end, 5.0 * (phase + 1)) - MAX(start, 5.0 * phase), 0, 5) / 5;
        double y = 58 + 0.7 * gaussian(rng) + 64 * busy;
        /* what was allocated for this step, two steps before it */
        double a = alloc[i % 3];

        if (i >= 20 * period && !isnan(a)) {
            under += y > a;
            if (phase >= 6 && phase <= 10) {
                held += a;
                between++;
            }
        }
        vsSelectorObserve(s, i * 5, y, NULL);
        if (!vsSelectorAllocate(s, &alloc[(i + 2) % 3]))
            alloc[(i + 2) % 3] = NAN;
    }
    ck_assert_uint_eq(vsSelectorPeriod(s), period);
    ck_assert_str_eq(vsSelectorModel(s), "seasonal-peak");
    ck_assert_uint_eq(under, 0);
    /* the flat peak would hold about 125 MiB between the bursts */
    ck_assert_msg(held / between < 70, "%.1f MiB held between bursts", held / between);
}
END_TEST

/* A refit due with no budget left waits for the next observation, three
 * times at most; with one left it happens, and takes it. */
START_TEST(test_selector_refit_budget)
{
    vsSelectorConfig cfg;
    g_autoptr(vsSelector) s = NULL;
    guint left = 0, i = 0;

    vsSelectorConfigDefaults(&cfg, VS_RESOURCE_CPU, STEP);
    s = vsSelectorNew(&cfg, NULL);
#define OBSERVE() vsSelectorObserve(s, i * STEP, 1 + sin(2 * G_PI * i / DAY), NULL), i++
    while (i + 1 < cfg.min_history_steps)
        OBSERVE();
    ck_assert_ptr_null(vsSelectorModel(s));
    vsSelectorBudgetRefit(s, &left);
    OBSERVE();
    ck_assert_ptr_null(vsSelectorModel(s));
    left = 2;
    vsSelectorBudgetRefit(s, &left);
    ck_assert_uint_eq(left, 1);
    OBSERVE();
    ck_assert_ptr_nonnull(vsSelectorModel(s));
    ck_assert_uint_eq(vsSelectorRefits(s), 1);
    /* not due again for a day: nothing taken */
    vsSelectorBudgetRefit(s, &left);
    ck_assert_uint_eq(left, 1);

    /* a day on, with no budget: put off three times, then done anyway */
    while (vsSelectorRefits(s) == 1 && i < cfg.min_history_steps + cfg.refit_steps)
        OBSERVE();
    ck_assert_uint_eq(vsSelectorRefits(s), 1);
    left = 0;
    for (guint k = 0; k < 4; k++) {
        vsSelectorBudgetRefit(s, &left);
        OBSERVE();
        ck_assert_uint_eq(vsSelectorRefits(s), 1 + (k == 3));
    }
#undef OBSERVE
}
END_TEST

/* With workload inputs, the input-conditioned regression is a candidate:
 * demand that follows its input is forecast from it. */
START_TEST(test_selector_inputs)
{
    const vsModelDriver *const only[] = { &vsModelRegression, NULL };
    vsSelectorConfig cfg;
    g_autoptr(vsSelector) s = NULL;
    double point = NAN, lo, hi, x = 0;

    vsSelectorConfigDefaults(&cfg, VS_RESOURCE_CPU, STEP);
    cfg.model.n_inputs = 1;
    cfg.n_quantiles = 0;
    s = vsSelectorNew(&cfg, only);
    for (guint i = 0; i < 4 * DAY; i++) {
        /* a request rate that wanders, and CPU that follows it */
        x = 100 + 50 * sin(i / 37.0) + 30 * cos(i / 11.0);
        vsSelectorObserve(s, i * STEP, 0.5 + 0.01 * x, &x);
    }
    ck_assert_str_eq(vsSelectorModel(s), "regression");
    ck_assert(vsSelectorPredict(s, 0.9, &point, &lo, &hi));
    /* the last inputs persist: the forecast is what they call for */
    ck_assert_msg(fabs(point - (0.5 + 0.01 * x)) < 1e-3, "forecast %g for %g", point,
                  0.5 + 0.01 * x);
}
END_TEST

START_TEST(test_percentile_like_numpy)
{
    double v[] = { 4, NAN, 1, 3, 2 };
    double w[] = { 4, NAN, 1, 3, 2 };
    double e[] = { NAN };

    /* numpy.percentile([1, 2, 3, 4], 90) == 3.7 */
    ck_assert_double_eq_tol(vsPercentile(v, G_N_ELEMENTS(v), 0.9), 3.7, 1e-12);
    ck_assert_double_eq_tol(vsPercentile(w, G_N_ELEMENTS(w), 0.5), 2.5, 1e-12);
    ck_assert(isnan(vsPercentile(e, 1, 0.5)));
}
END_TEST

/* The baselines follow the reference rules on a series whose answers are
 * known: constant use, provisioned twice that. */
START_TEST(test_backtest_constant)
{
    gsize n = 9 * DAY;
    g_autofree double *use = g_new(double, n);
    g_autofree double *prov = g_new(double, n);
    vsBacktestSeries s = { .resource = VS_RESOURCE_CPU, .step_s = STEP, .n = n,
                           .use = use, .prov = prov };
    vsBacktestOptions o;
    vsBacktestResult r;
    g_autoptr(GError) error = NULL;

    for (gsize i = 0; i < n; i++) {
        use[i] = 1;
        prov[i] = 2;
    }
    vsBacktestOptionsDefaults(&o);
    ck_assert_msg(vsBacktestRun(&s, &o, &r, &error), "%s", error ? error->message : "");
    /* static: 2 for 1 used */
    ck_assert_double_eq_tol(r.score[VS_POLICY_STATIC].slack, 0.5, 1e-12);
    ck_assert_double_eq_tol(r.score[VS_POLICY_STATIC].underprov, 0, 1e-12);
    /* peak24h: exactly the use */
    ck_assert_double_eq_tol(r.score[VS_POLICY_PEAK24H].slack, 0, 1e-12);
    ck_assert_uint_eq(r.score[VS_POLICY_PEAK24H].scored, 2 * DAY);
    /* reactive: 2 is 50 % used, above 30 %: it never moves */
    ck_assert_double_eq_tol(r.score[VS_POLICY_REACTIVE].slack, 0.5, 1e-12);
    ck_assert_double_eq_tol(r.score[VS_POLICY_REACTIVE].resizes_per_day, 0, 1e-12);
    /* vpa: 1.15 x the upper edge of 1's bucket */
    ck_assert(r.score[VS_POLICY_VPA].slack > 0.13 && r.score[VS_POLICY_VPA].slack < 0.2);
    ck_assert_double_eq_tol(r.score[VS_POLICY_VPA].underprov, 0, 1e-12);
    ck_assert_double_eq_tol(r.score[VS_POLICY_VIRT_SHADOW].underprov, 0, 1e-12);
    vsBacktestResultClear(&r);

    /* too short */
    s.n = 7 * DAY;
    ck_assert(!vsBacktestRun(&s, &o, &r, &error));
    ck_assert(strstr(error->message, "days of data"));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("forecaster");
    TCase *tc = tcase_create("forecaster");

    tcase_add_loop_test(tc, test_coverage_iid, 0, 3);
    tcase_add_test(tc, test_errors_per_horizon);
    tcase_add_test(tc, test_missing_values);
    tcase_add_test(tc, test_selector_seasonal);
    tcase_add_test(tc, test_selector_burst_floor);
    tcase_add_test(tc, test_selector_inputs);
    tcase_add_test(tc, test_selector_memory_season);
    tcase_add_test(tc, test_selector_refit_budget);
    tcase_add_test(tc, test_percentile_like_numpy);
    tcase_add_test(tc, test_backtest_constant);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
