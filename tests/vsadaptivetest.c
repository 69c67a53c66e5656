/*
 * vsadaptivetest.c: sampling intervals from volatility
 */
#include <config.h>

#include <math.h>

#include "telemetry/vsadaptive.h"
#include "vstestutils.h"

#define SEC G_USEC_PER_SEC

static vsAdaptive *
vsTestAdaptiveNew(void)
{
    vsAdaptiveConfig cfg;

    vsAdaptiveConfigDefaults(&cfg);
    return vsAdaptiveNew(&cfg);
}

/* Feed @n rates of @uuid, one every 5 s from @start; returns the last time. */
static gint64
vsTestFeed(vsAdaptive *a, const char *uuid, const double *series, guint len,
           guint n, gint64 start)
{
    gint64 now = start;
    guint i;

    for (i = 0; i < n; i++) {
        now = start + (gint64) i * 5 * SEC;
        vsAdaptiveObserve(a, uuid, series[i % len], now);
    }
    return now;
}

static const double vsFlat[] = { 0.5 };
static const double vsVolatile[] = { 0.1, 0.9 };
static const double vsNoisy[] = { 0.45, 0.55 };

START_TEST(test_defaults)
{
    vsAdaptiveConfig cfg;

    vsAdaptiveConfigDefaults(&cfg);
    ck_assert_uint_eq(cfg.min_interval_ms, 5000);
    ck_assert_uint_eq(cfg.max_interval_ms, 60000);
    ck_assert_uint_eq(cfg.window, 12);
    ck_assert_double_eq(cfg.cv_high, 0.5);
}
END_TEST

START_TEST(test_volatility_orders_intervals)
{
    g_autoptr(vsAdaptive) a = vsTestAdaptiveNew();
    guint64 flat, noisy, volatil;

    vsTestFeed(a, "flat", vsFlat, 1, 12, 0);
    vsTestFeed(a, "noisy", vsNoisy, 2, 12, 0);
    vsTestFeed(a, "volatile", vsVolatile, 2, 12, 0);
    flat = vsAdaptiveIntervalMs(a, "flat");
    noisy = vsAdaptiveIntervalMs(a, "noisy");
    volatil = vsAdaptiveIntervalMs(a, "volatile");

    ck_assert_uint_lt(volatil, noisy);
    ck_assert_uint_lt(noisy, flat);
    ck_assert_uint_eq(flat, 60000);
    ck_assert_uint_eq(volatil, 5000);             /* CV 0.8 >= cv_high */
    ck_assert_uint_eq(noisy, 49000);              /* CV 0.1: 60 - 55 * 0.2 */
    ck_assert_double_eq_tol(vsAdaptiveVolatility(a, "flat"), 0.0, 1e-12);
    ck_assert_double_eq_tol(vsAdaptiveVolatility(a, "noisy"), 0.1, 1e-9);
    ck_assert_double_eq_tol(vsAdaptiveVolatility(a, "volatile"), 0.8, 1e-9);
}
END_TEST

START_TEST(test_warm_up)
{
    g_autoptr(vsAdaptive) a = vsTestAdaptiveNew();

    ck_assert(isnan(vsAdaptiveVolatility(a, "d")));
    ck_assert_uint_eq(vsAdaptiveIntervalMs(a, "d"), 5000);
    vsTestFeed(a, "d", vsFlat, 1, 1, 0);
    ck_assert(isnan(vsAdaptiveVolatility(a, "d")));
    vsTestFeed(a, "d", vsFlat, 1, 10, 5 * SEC);
    ck_assert_double_eq(vsAdaptiveVolatility(a, "d"), 0.0);
    ck_assert_uint_eq(vsAdaptiveIntervalMs(a, "d"), 5000);      /* 11 of 12 */
    vsAdaptiveObserve(a, "d", 0.5, 100 * SEC);
    ck_assert_uint_eq(vsAdaptiveIntervalMs(a, "d"), 60000);
}
END_TEST

START_TEST(test_nan_ignored)
{
    g_autoptr(vsAdaptive) a = vsTestAdaptiveNew();

    vsTestFeed(a, "d", vsFlat, 1, 11, 0);
    vsAdaptiveObserve(a, "d", NAN, 60 * SEC);
    ck_assert_uint_eq(vsAdaptiveIntervalMs(a, "d"), 5000);      /* still warming up */
    ck_assert(!vsAdaptiveIsDue(a, "d", 64 * SEC));              /* but it scheduled */
    ck_assert(vsAdaptiveIsDue(a, "d", 65 * SEC));
    vsAdaptiveObserve(a, "d", 0.5, 65 * SEC);
    ck_assert_uint_eq(vsAdaptiveIntervalMs(a, "d"), 60000);
}
END_TEST

START_TEST(test_window_slides)
{
    g_autoptr(vsAdaptive) a = vsTestAdaptiveNew();
    gint64 now;

    /* volatile history pushed out by twelve flat rates */
    now = vsTestFeed(a, "d", vsVolatile, 2, 12, 0);
    ck_assert_uint_eq(vsAdaptiveIntervalMs(a, "d"), 5000);
    vsTestFeed(a, "d", vsFlat, 1, 11, now + 5 * SEC);
    ck_assert_uint_lt(vsAdaptiveIntervalMs(a, "d"), 60000);
    vsAdaptiveObserve(a, "d", 0.5, now + 100 * SEC);
    ck_assert_uint_eq(vsAdaptiveIntervalMs(a, "d"), 60000);
}
END_TEST

START_TEST(test_due)
{
    g_autoptr(vsAdaptive) a = vsTestAdaptiveNew();
    gint64 last;

    ck_assert(vsAdaptiveIsDue(a, "new", 0));
    last = vsTestFeed(a, "flat", vsFlat, 1, 12, 1000 * SEC);
    ck_assert(!vsAdaptiveIsDue(a, "flat", last));
    ck_assert(!vsAdaptiveIsDue(a, "flat", last + 60 * SEC - 1));
    ck_assert(vsAdaptiveIsDue(a, "flat", last + 60 * SEC));

    last = vsTestFeed(a, "volatile", vsVolatile, 2, 12, 1000 * SEC);
    ck_assert(!vsAdaptiveIsDue(a, "volatile", last + 5 * SEC - 1));
    ck_assert(vsAdaptiveIsDue(a, "volatile", last + 5 * SEC));

    vsAdaptiveForget(a, "flat");
    ck_assert(vsAdaptiveIsDue(a, "flat", last));
    ck_assert(isnan(vsAdaptiveVolatility(a, "flat")));
    vsAdaptiveForget(a, "never-seen");
}
END_TEST

START_TEST(test_idle)
{
    g_autoptr(vsAdaptive) a = vsTestAdaptiveNew();
    static const double idle[] = { 0 };
    static const double waking[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1e-3 };

    vsTestFeed(a, "idle", idle, 1, 12, 0);
    ck_assert_double_eq(vsAdaptiveVolatility(a, "idle"), 0.0);
    ck_assert_uint_eq(vsAdaptiveIntervalMs(a, "idle"), 60000);
    vsTestFeed(a, "waking", waking, 12, 12, 0);
    ck_assert_uint_eq(vsAdaptiveIntervalMs(a, "waking"), 5000);
}
END_TEST

START_TEST(test_config_clamped)
{
    vsAdaptiveConfig cfg = { .min_interval_ms = 10000, .max_interval_ms = 1000,
                             .window = 0, .cv_high = 0 };
    g_autoptr(vsAdaptive) a = vsAdaptiveNew(&cfg);

    vsTestFeed(a, "d", vsVolatile, 2, 2, 0);
    ck_assert_uint_eq(vsAdaptiveIntervalMs(a, "d"), 10000);
    vsTestFeed(a, "e", vsFlat, 1, 2, 0);
    ck_assert_uint_eq(vsAdaptiveIntervalMs(a, "e"), 10000);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("adaptive");
    TCase *tc = tcase_create("adaptive");

    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_volatility_orders_intervals);
    tcase_add_test(tc, test_warm_up);
    tcase_add_test(tc, test_nan_ignored);
    tcase_add_test(tc, test_window_slides);
    tcase_add_test(tc, test_due);
    tcase_add_test(tc, test_idle);
    tcase_add_test(tc, test_config_clamped);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
