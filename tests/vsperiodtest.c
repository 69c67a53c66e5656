/*
 * vsperiodtest.c: period detection on seasons, noise, walks, gaps and zeros
 */
#include <config.h>

#include <math.h>

#include "forecast/vsperiod.h"
#include "vstestutils.h"

/* A month of 5-minute steps. */
#define N 8640
#define DAY 288

/* Standard normal draws (Box-Muller) from a seeded generator. */
static double
vsTestGauss(GRand *r)
{
    double u = g_rand_double(r), v = g_rand_double(r);

    return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * G_PI * v);
}

/* sin(2 pi t / period) plus unit Gaussian noise: the season holds a third
 * of the variance. */
static double *
vsTestNoisySine(double period, guint32 seed)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(seed);
    double *y = g_new(double, N);
    gsize i;

    for (i = 0; i < N; i++)
        y[i] = sin(2.0 * G_PI * i / period) + vsTestGauss(r);
    return y;
}

static void
vsTestAssertPeriod(const double *y, gsize n, guint max_period, double expected)
{
    double strength = -1;
    guint period = vsPeriodDetect(y, n, 2, max_period, &strength);

    ck_assert_msg(fabs(period - expected) <= 0.02 * expected,
                  "period %u, expected %g", period, expected);
    ck_assert(strength > 0 && strength <= 1);
}

static void
vsTestAssertNone(const double *y, gsize n, const char *what)
{
    double strength = -1;
    guint period = vsPeriodDetect(y, n, 2, n / 2, &strength);

    ck_assert_msg(period == 0, "%s: period %u (strength %.3f)", what, period, strength);
    ck_assert(strength == 0);
}

static const double vsTestPeriods[] = { 24, 100, DAY, 2016 };

START_TEST(test_sine)
{
    double period = vsTestPeriods[_i];
    guint32 seed;

    for (seed = 1; seed <= 3; seed++) {
        g_autofree double *y = vsTestNoisySine(period, seed);

        /* the full range, and the seasonal model's (a week at most) */
        vsTestAssertPeriod(y, N, N / 2, period);
        vsTestAssertPeriod(y, N, 2016, period);
    }
}
END_TEST

/* A non-integer season refines to the nearest lag. */
START_TEST(test_fractional)
{
    g_autofree double *y = vsTestNoisySine(137.4, 7);

    vsTestAssertPeriod(y, N, N / 2, 137.4);
}
END_TEST

/* A nightly job: 20 minutes of load a day over faint noise.  Its
 * fundamental line is weak, its harmonics are many. */
START_TEST(test_nightly_job)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(11);
    g_autofree double *y = g_new(double, N);
    guint period;
    gsize i;

    for (i = 0; i < N; i++)
        y[i] = (i % DAY >= 24 && i % DAY < 28 ? 3.0 : 0.0) + 0.3 * fabs(vsTestGauss(r));
    period = vsPeriodDetect(y, N, 2, 2016, NULL);
    ck_assert_uint_eq(period, DAY);
}
END_TEST

START_TEST(test_white_noise)
{
    guint32 seed;

    for (seed = 1; seed <= 10; seed++) {
        g_autoptr(GRand) r = g_rand_new_with_seed(seed);
        g_autofree double *y = g_new(double, N);
        gsize i;

        for (i = 0; i < N; i++)
            y[i] = vsTestGauss(r);
        vsTestAssertNone(y, N, "white noise");
    }
}
END_TEST

START_TEST(test_random_walk)
{
    guint32 seed;

    for (seed = 1; seed <= 10; seed++) {
        g_autoptr(GRand) r = g_rand_new_with_seed(100 + seed);
        g_autofree double *y = g_new(double, N);
        double level = 0;
        gsize i;

        for (i = 0; i < N; i++)
            y[i] = level += vsTestGauss(r);
        vsTestAssertNone(y, N, "random walk");
    }
}
END_TEST

/* A trend and strongly coloured noise (AR(1), phi = 0.99) have smooth
 * spectra: no line, no period. */
START_TEST(test_trend_and_ar)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(5);
    g_autofree double *trend = g_new(double, N);
    g_autofree double *ar = g_new(double, N);
    double state = 0;
    gsize i;

    for (i = 0; i < N; i++) {
        trend[i] = 0.01 * i + vsTestGauss(r);
        ar[i] = state = 0.99 * state + vsTestGauss(r);
    }
    vsTestAssertNone(trend, N, "trend");
    vsTestAssertNone(ar, N, "AR(0.99)");
}
END_TEST

/* A few huge spikes at random times must not make a period out of the
 * distance between two of them. */
START_TEST(test_spikes)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(9);
    g_autofree double *y = g_new(double, N);
    gsize i;

    for (i = 0; i < N; i++) {
        double e = vsTestGauss(r);

        /* log-normal: heavy-tailed like real CPU use */
        y[i] = exp(2.0 * e);
    }
    vsTestAssertNone(y, N, "heavy-tailed noise");
}
END_TEST

/* A daily season (clipped at 0, as usage is) with 10% of values missing at
 * random, a missing day, and four days of zeros. */
START_TEST(test_gaps_and_zeros)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(3);
    g_autofree double *y = g_new(double, N);
    gsize i;

    for (i = 0; i < N; i++) {
        y[i] = MAX(0.0, 2.0 + sin(2.0 * G_PI * i / DAY) + 0.5 * vsTestGauss(r));
        if (i >= 10 * DAY && i < 14 * DAY)
            y[i] = 0;
        if ((i >= 20 * DAY && i < 21 * DAY) || g_rand_double(r) < 0.1)
            y[i] = NAN;
    }
    vsTestAssertPeriod(y, N, 2016, DAY);
}
END_TEST

/* Mostly zero: rare random bursts carry no season; the same bursts every
 * day at the same time do. */
START_TEST(test_mostly_zero)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(4);
    g_autofree double *sparse = g_new0(double, N);
    g_autofree double *daily = g_new0(double, N);
    gsize i;

    for (i = 0; i < N; i++) {
        if (g_rand_double(r) < 0.02)
            sparse[i] = 10.0 * fabs(vsTestGauss(r));
        if (i % DAY >= 100 && i % DAY < 103)
            daily[i] = 5.0 + fabs(vsTestGauss(r));
    }
    vsTestAssertNone(sparse, N, "sparse bursts");
    ck_assert_uint_eq(vsPeriodDetect(daily, N, 2, 2016, NULL), DAY);
}
END_TEST

START_TEST(test_degenerate)
{
    g_autofree double *y = g_new(double, N);
    double strength = -1;
    gsize i;

    for (i = 0; i < N; i++)
        y[i] = 42.0;
    vsTestAssertNone(y, N, "constant");
    for (i = 0; i < N; i++)
        y[i] = 0.0;
    vsTestAssertNone(y, N, "zeros");
    for (i = 0; i < N; i++)
        y[i] = NAN;
    vsTestAssertNone(y, N, "all missing");
    /* too short for any season, and an empty range */
    ck_assert_uint_eq(vsPeriodDetect(y, 5, 2, 2, &strength), 0);
    ck_assert_uint_eq(vsPeriodDetect(NULL, 0, 2, 100, &strength), 0);
    for (i = 0; i < N; i++)
        y[i] = i % 10;
    ck_assert_uint_eq(vsPeriodDetect(y, N, 20, 10, &strength), 0);
    ck_assert(strength == 0);
    /* a clean sawtooth is found, strength optional */
    ck_assert_uint_eq(vsPeriodDetect(y, N, 2, 100, NULL), 10);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("period");
    TCase *tc = tcase_create("period");

    tcase_add_loop_test(tc, test_sine, 0, G_N_ELEMENTS(vsTestPeriods));
    tcase_add_test(tc, test_fractional);
    tcase_add_test(tc, test_nightly_job);
    tcase_add_test(tc, test_white_noise);
    tcase_add_test(tc, test_random_walk);
    tcase_add_test(tc, test_trend_and_ar);
    tcase_add_test(tc, test_spikes);
    tcase_add_test(tc, test_gaps_and_zeros);
    tcase_add_test(tc, test_mostly_zero);
    tcase_add_test(tc, test_degenerate);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
