/*
 * vsmodeltest.c: the last, ewma, seasonal and vpa model drivers
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "forecast/vsmodel.h"
#include "forecast/vsmodelvpa.h"
#include "util/vserror.h"
#include "vstestutils.h"

#define DAY_S 86400.0
#define MIB 1048576.0
/* 2013-08-01 00:00 UTC, a multiple of a day */
#define T0 1375315200.0

/* A model of @driver with its driver, freed by g_autoptr. */
typedef struct {
    const vsModelDriver *driver;
    gpointer model;
} vsTestModel;

static vsTestModel *
vsTestModelNew(const vsModelDriver *driver, vsResourceKind resource, guint period)
{
    vsModelOptions opts = { .resource = resource, .step_s = 300, .period = period };
    vsTestModel *m = g_new0(vsTestModel, 1);

    m->driver = driver;
    m->model = driver->create(&opts);
    ck_assert_ptr_nonnull(m->model);
    return m;
}

static void
vsTestModelFree(vsTestModel *m)
{
    if (!m)
        return;
    m->driver->destroy(m->model);
    g_free(m);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsTestModel, vsTestModelFree)

static gboolean
vsTestFit(vsTestModel *m, const double *y, gsize n, GError **error)
{
    g_autofree double *t = g_new(double, n);
    vsSeries series = { .t = t, .y = y, .n = n };
    gsize i;

    for (i = 0; i < n; i++)
        t[i] = T0 + 300.0 * i;
    return m->driver->fit(m->model, &series, error);
}

static void
vsTestUpdate(vsTestModel *m, double t, double y)
{
    m->driver->update(m->model, t, y, NULL);
}

/* The one-step forecast, asserting there is one. */
static double
vsTestNext(vsTestModel *m)
{
    double point = NAN;

    ck_assert(m->driver->forecast(m->model, 1, NULL, &point));
    ck_assert(isfinite(point));
    return point;
}

static void
vsTestAssertDescribe(vsTestModel *m, const char *needle)
{
    g_autofree char *text = m->driver->describe(m->model);

    ck_assert_msg(strstr(text, needle), "'%s' lacks '%s'", text, needle);
}

/* --- last ----------------------------------------------------------------- */

START_TEST(test_last)
{
    g_autoptr(vsTestModel) m = vsTestModelNew(&vsModelLast, VS_RESOURCE_CPU, 0);
    static const double y[] = { NAN, 5, NAN, 7, NAN };
    static const double missing[] = { NAN, NAN };
    g_autoptr(GError) error = NULL;
    double point[3];

    ck_assert_str_eq(vsModelLast.name, "last");
    ck_assert(!vsModelLast.forecast(m->model, 1, NULL, point));
    vsTestUpdate(m, 0, 1);
    vsTestUpdate(m, 300, 2);
    vsTestUpdate(m, 600, NAN);
    ck_assert(vsModelLast.forecast(m->model, 3, NULL, point));
    ck_assert_double_eq(point[0], 2);
    ck_assert_double_eq(point[2], 2);
    ck_assert(vsTestFit(m, y, G_N_ELEMENTS(y), &error));
    ck_assert_double_eq(vsTestNext(m), 7);
    vsTestAssertDescribe(m, "last");
    /* fit replaces everything: nothing observed, nothing to forecast */
    ck_assert(!vsTestFit(m, missing, G_N_ELEMENTS(missing), &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    g_clear_error(&error);
    ck_assert(!vsModelLast.forecast(m->model, 1, NULL, point));
}
END_TEST

/* --- ewma ----------------------------------------------------------------- */

START_TEST(test_ewma_update)
{
    g_autoptr(vsTestModel) m = vsTestModelNew(&vsModelEwma, VS_RESOURCE_CPU, 0);
    double point[2];

    ck_assert_str_eq(vsModelEwma.name, "ewma");
    ck_assert(!vsModelEwma.forecast(m->model, 1, NULL, point));
    /* unfitted, alpha is 0.3: 10, then 10 + 0.3 * (20 - 10) = 13 */
    vsTestUpdate(m, 0, 10);
    ck_assert_double_eq(vsTestNext(m), 10);
    vsTestUpdate(m, 300, 20);
    vsTestUpdate(m, 600, NAN);
    ck_assert(vsModelEwma.forecast(m->model, 2, NULL, point));
    ck_assert_double_eq_tol(point[0], 13, 1e-12);
    ck_assert_double_eq_tol(point[1], 13, 1e-12);
    vsTestAssertDescribe(m, "alpha=0.300 (default)");
}
END_TEST

START_TEST(test_ewma_fit)
{
    g_autoptr(vsTestModel) m = vsTestModelNew(&vsModelEwma, VS_RESOURCE_CPU, 0);
    g_autoptr(GError) error = NULL;
    double trend[50], zigzag[50];
    static const double missing[] = { NAN };
    gsize i;

    /* on a trend the freshest level errs least: alpha = 1, the last value */
    for (i = 0; i < G_N_ELEMENTS(trend); i++)
        trend[i] = i == 20 ? NAN : 10.0 * i;
    ck_assert(vsTestFit(m, trend, G_N_ELEMENTS(trend), &error));
    vsTestAssertDescribe(m, "alpha=1.000");
    ck_assert_double_eq(vsTestNext(m), 490);
    vsTestUpdate(m, 0, 42);
    ck_assert_double_eq(vsTestNext(m), 42);

    /* on a zigzag about 5, from 5, any reaction errs more: the smallest
     * alpha */
    for (i = 0; i < G_N_ELEMENTS(zigzag); i++)
        zigzag[i] = i == 0 ? 5 : 5 + (i % 2 ? 1 : -1);
    ck_assert(vsTestFit(m, zigzag, G_N_ELEMENTS(zigzag), &error));
    vsTestAssertDescribe(m, "alpha=0.001");
    ck_assert_double_eq_tol(vsTestNext(m), 5, 0.05);

    ck_assert(!vsTestFit(m, missing, G_N_ELEMENTS(missing), &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    g_clear_error(&error);
}
END_TEST

/* A local level (random walk plus noise, signal-to-noise 0.09): the
 * optimal alpha, (-q + sqrt(q^2 + 4q)) / 2 ~ 0.26, is well inside (0, 1). */
START_TEST(test_ewma_golden)
{
    g_autoptr(vsTestModel) m = vsTestModelNew(&vsModelEwma, VS_RESOURCE_CPU, 0);
    g_autoptr(GRand) r = g_rand_new_with_seed(1);
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    double y[2000], level = 0, alpha;
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(y); i++) {
        level += 0.3 * (g_rand_double(r) - 0.5);
        y[i] = level + (g_rand_double(r) - 0.5);
    }
    ck_assert(vsTestFit(m, y, G_N_ELEMENTS(y), &error));
    text = vsModelEwma.describe(m->model);
    ck_assert(sscanf(text, "ewma alpha=%lf", &alpha) == 1);
    ck_assert_msg(alpha > 0.05 && alpha < 0.8, "%s", text);
}
END_TEST

/* --- seasonal ------------------------------------------------------------- */

START_TEST(test_seasonal_given)
{
    g_autoptr(vsTestModel) m = vsTestModelNew(&vsModelSeasonal, VS_RESOURCE_CPU, 3);
    double point[4];
    int i;

    ck_assert_str_eq(vsModelSeasonal.name, "seasonal");
    ck_assert(!vsModelSeasonal.forecast(m->model, 1, NULL, point));
    /* half a season: the missing phases take the last value */
    vsTestUpdate(m, 0, 7);
    ck_assert(vsModelSeasonal.forecast(m->model, 3, NULL, point));
    ck_assert_double_eq(point[0], 7);
    ck_assert_double_eq(point[2], 7);
    for (i = 2; i <= 6; i++)
        vsTestUpdate(m, 300 * i, i);
    /* 7 2 3 | 4 5 6: the next steps repeat the last season */
    ck_assert(vsModelSeasonal.forecast(m->model, 4, NULL, point));
    ck_assert_double_eq(point[0], 4);
    ck_assert_double_eq(point[1], 5);
    ck_assert_double_eq(point[2], 6);
    ck_assert_double_eq(point[3], 4);
    /* a missing value keeps its phase's value from a season before */
    vsTestUpdate(m, 2100, NAN);
    ck_assert(vsModelSeasonal.forecast(m->model, 3, NULL, point));
    ck_assert_double_eq(point[0], 5);
    ck_assert_double_eq(point[1], 6);
    ck_assert_double_eq(point[2], 4);
    vsTestAssertDescribe(m, "seasonal period=3");
}
END_TEST

/* The largest value at the phase and next to it over the last three
 * seasons; a season older than that is forgotten. */
START_TEST(test_seasonal_peak)
{
    g_autoptr(vsTestModel) m = vsTestModelNew(&vsModelSeasonalPeak, VS_RESOURCE_MEMORY, 4);
    static const double y[] = { 1, 1, 9, 1,  1, 1, 1, 5,  2, 1, 1, 1 };
    double point[4];

    ck_assert(!vsModelSeasonalPeak.forecast(m->model, 1, NULL, point));
    for (guint i = 0; i < G_N_ELEMENTS(y); i++)
        vsTestUpdate(m, 300 * i, y[i]);
    ck_assert(vsModelSeasonalPeak.forecast(m->model, 4, NULL, point));
    ck_assert_double_eq(point[0], 5);   /* 5 at the phase before, a season back */
    ck_assert_double_eq(point[1], 9);   /* 9 next to it, three seasons back */
    ck_assert_double_eq(point[2], 9);
    ck_assert_double_eq(point[3], 9);
    /* three more steps: the 9 is four seasons back at the next phase */
    for (guint i = 0; i < 3; i++)
        vsTestUpdate(m, 300 * (12 + i), 1);
    ck_assert_double_eq(vsTestNext(m), 5);
    vsTestAssertDescribe(m, "seasonal-peak period=4 seasons=3");
}
END_TEST

/* An exactly periodic (not sinusoidal) series: the season is detected and
 * forecast exactly, two seasons ahead. */
START_TEST(test_seasonal_detected)
{
    g_autoptr(vsTestModel) m = vsTestModelNew(&vsModelSeasonal, VS_RESOURCE_CPU, 0);
    g_autoptr(GError) error = NULL;
    double y[24 * 30], point[48];
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(y); i++)
        y[i] = (i % 24) * (i % 24) % 17 + 0.5 * (i % 24 > 12);
    ck_assert(vsTestFit(m, y, G_N_ELEMENTS(y), &error));
    vsTestAssertDescribe(m, "period=24");
    ck_assert(vsModelSeasonal.forecast(m->model, 48, NULL, point));
    for (i = 0; i < 48; i++) {
        gsize step = G_N_ELEMENTS(y) + i;

        ck_assert_double_eq(point[i], (step % 24) * (step % 24) % 17 + 0.5 * (step % 24 > 12));
    }
    /* updates continue the season */
    vsTestUpdate(m, 0, 100);
    ck_assert(vsModelSeasonal.forecast(m->model, 25, NULL, point));
    ck_assert_double_eq(point[23], 100);
    ck_assert_double_eq(point[24], point[0]);
}
END_TEST

/* No season found: the last value. */
START_TEST(test_seasonal_none)
{
    g_autoptr(vsTestModel) m = vsTestModelNew(&vsModelSeasonal, VS_RESOURCE_CPU, 0);
    g_autoptr(GRand) r = g_rand_new_with_seed(2);
    g_autoptr(GError) error = NULL;
    static const double missing[] = { NAN, NAN };
    double y[1000], point[5];
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(y); i++)
        y[i] = g_rand_double(r);
    y[G_N_ELEMENTS(y) - 1] = NAN;
    ck_assert(vsTestFit(m, y, G_N_ELEMENTS(y), &error));
    vsTestAssertDescribe(m, "period=none");
    ck_assert(vsModelSeasonal.forecast(m->model, 5, NULL, point));
    for (i = 0; i < 5; i++)
        ck_assert_double_eq(point[i], y[G_N_ELEMENTS(y) - 2]);
    ck_assert(!vsTestFit(m, missing, G_N_ELEMENTS(missing), &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    g_clear_error(&error);
    ck_assert(!vsModelSeasonal.forecast(m->model, 1, NULL, point));
}
END_TEST

/* --- vpa histogram ---------------------------------------------------------- */

/* CPU buckets start at b(n) = 0.01 * (1.05^n - 1) / 0.05 = 0.2 * (1.05^n - 1):
 *   b(1) = 0.01, b(2) = 0.0205, b(4) = 0.04310125, b(5) = 0.0552563125,
 *   b(8) = 0.0954910888, b(9) = 0.1102656432, b(36) = 0.9583632272,
 *   b(37) = 1.0162813886 (1.05^37 = 6.0814069).
 * A value v >= 0.01 falls in floor(ln(5 v + 1) / ln 1.05):
 *   0.005 -> 0 (below the first bucket), 0.015 -> floor(1.48) = 1,
 *   0.05 -> floor(4.57) = 4, 0.1 -> floor(8.31) = 8, 1.0 -> floor(36.7) = 36. */
START_TEST(test_histogram_buckets)
{
    g_autoptr(vsVpaHistogram) h = vsVpaHistogramNew(VS_VPA_CPU_FIRST_BUCKET,
                                                    VS_VPA_CPU_MAX, VS_VPA_HALF_LIFE_S);
    g_autoptr(vsVpaHistogram) mem = vsVpaHistogramNew(VS_VPA_MEMORY_FIRST_BUCKET,
                                                      VS_VPA_MEMORY_MAX, VS_VPA_HALF_LIFE_S);

    /* ceil(ln(1000 * 0.05 / 0.01 + 1) / ln 1.05) + 1 = ceil(174.6) + 1 */
    ck_assert_uint_eq(vsVpaHistogramBuckets(h), 176);
    ck_assert_uint_eq(vsVpaHistogramBuckets(mem), 176);
    ck_assert_double_eq(vsVpaHistogramBucketStart(h, 0), 0);
    ck_assert_double_eq_tol(vsVpaHistogramBucketStart(h, 1), 0.01, 1e-12);
    ck_assert_double_eq_tol(vsVpaHistogramBucketStart(h, 5), 0.0552563125, 1e-12);
    ck_assert_double_eq_tol(vsVpaHistogramBucketStart(h, 37), 1.0162813886, 1e-9);
    ck_assert_uint_eq(vsVpaHistogramFindBucket(h, 0.005), 0);
    ck_assert_uint_eq(vsVpaHistogramFindBucket(h, 0.015), 1);
    ck_assert_uint_eq(vsVpaHistogramFindBucket(h, 0.05), 4);
    ck_assert_uint_eq(vsVpaHistogramFindBucket(h, 0.1), 8);
    ck_assert_uint_eq(vsVpaHistogramFindBucket(h, 1.0), 36);
    /* beyond the maximum: the last bucket */
    ck_assert_uint_eq(vsVpaHistogramFindBucket(h, 1e9), 175);
    ck_assert(vsVpaHistogramIsEmpty(h));
    ck_assert_double_eq(vsVpaHistogramPercentile(h, 0.9), 0);
    ck_assert(isnan(vsVpaHistogramReference(h)));
}
END_TEST

/* Weights 1, 2, 3, 4 at 0.005, 0.015, 0.1, 1.0, all at t_ref (factor 1):
 * the cumulative weights are 1, 3, 6, 10 in buckets 0, 1, 8, 36.
 *   P10: 1 >= 0.1 * 10 in bucket 0      -> its upper edge b(1) = 0.01
 *   P20: 3 >= 2 in bucket 1             -> b(2) = 0.0205
 *   P50: 6 >= 5 in bucket 8             -> b(9) = 0.1102656432
 *   P60: 6 >= 6 in bucket 8             -> b(9)
 *   P90: the walk stops at the last non-empty bucket, 36 -> b(37) = 1.0162813886 */
START_TEST(test_histogram_percentiles)
{
    g_autoptr(vsVpaHistogram) h = vsVpaHistogramNew(VS_VPA_CPU_FIRST_BUCKET,
                                                    VS_VPA_CPU_MAX, VS_VPA_HALF_LIFE_S);

    vsVpaHistogramAdd(h, 0.005, 1, T0);
    vsVpaHistogramAdd(h, 0.015, 2, T0);
    vsVpaHistogramAdd(h, 0.1, 3, T0);
    vsVpaHistogramAdd(h, 1.0, 4, T0);
    ck_assert_double_eq(vsVpaHistogramReference(h), T0);
    ck_assert_double_eq_tol(vsVpaHistogramTotal(h), 10, 1e-12);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 0.1), 0.01, 1e-12);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 0.2), 0.0205, 1e-12);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 0.5), 0.1102656432, 1e-9);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 0.6), 0.1102656432, 1e-9);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 0.9), 1.0162813886, 1e-9);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 1.0), 1.0162813886, 1e-9);
    /* removing the 1.0s leaves 1, 3, 6 of 6: P90 now in bucket 8 */
    vsVpaHistogramSubtract(h, 1.0, 4, T0);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 0.9), 0.1102656432, 1e-9);
    /* removal never goes below zero */
    vsVpaHistogramSubtract(h, 0.1, 100, T0);
    ck_assert_double_eq_tol(vsVpaHistogramTotal(h), 3, 1e-12);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 1.0), 0.0205, 1e-12);
}
END_TEST

/* A sample a day later weighs twice as much: with 0.05 at T0 (weight 1) and
 * 1.0 at T0 + 24 h (weight 2), a third of the weight is in bucket 4.
 *   P33: 1 >= 0.99   -> b(5) = 0.0552563125
 *   P34: 1 <  1.02   -> b(37) = 1.0162813886
 * Without decay the two would split the weight evenly (P50 in bucket 4). */
START_TEST(test_histogram_decay)
{
    g_autoptr(vsVpaHistogram) h = vsVpaHistogramNew(VS_VPA_CPU_FIRST_BUCKET,
                                                    VS_VPA_CPU_MAX, VS_VPA_HALF_LIFE_S);
    g_autoptr(vsVpaHistogram) flat = vsVpaHistogramNew(VS_VPA_CPU_FIRST_BUCKET,
                                                       VS_VPA_CPU_MAX, 0);

    vsVpaHistogramAdd(h, 0.05, 1, T0);
    vsVpaHistogramAdd(h, 1.0, 1, T0 + DAY_S);
    ck_assert_double_eq_tol(vsVpaHistogramTotal(h), 3, 1e-12);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 0.33), 0.0552563125, 1e-12);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 0.34), 1.0162813886, 1e-9);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 0.5), 1.0162813886, 1e-9);
    vsVpaHistogramAdd(flat, 0.05, 1, T0);
    vsVpaHistogramAdd(flat, 1.0, 1, T0 + DAY_S);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(flat, 0.5), 0.0552563125, 1e-12);
    /* t_ref is the multiple of a day nearest the first sample */
    ck_assert_double_eq(vsVpaHistogramReference(h), T0);
}
END_TEST

/* --- vpa model --------------------------------------------------------------- */

START_TEST(test_vpa_cpu)
{
    g_autoptr(vsTestModel) m = vsTestModelNew(&vsModelVpa, VS_RESOURCE_CPU, 0);
    static const double missing[] = { NAN, -1 };
    g_autoptr(GError) error = NULL;
    double point[3];

    ck_assert_str_eq(vsModelVpa.name, "vpa");
    ck_assert(!vsModelVpa.forecast(m->model, 1, NULL, point));
    /* one sample of 0.05 cores: 1.15 x b(5) = 0.063544759375 for every
     * horizon */
    vsTestUpdate(m, T0, 0.05);
    ck_assert(vsModelVpa.forecast(m->model, 3, NULL, point));
    ck_assert_double_eq_tol(point[0], 0.063544759375, 1e-12);
    ck_assert_double_eq(point[2], point[0]);
    /* a duplicate time is dropped, as VPA drops it */
    vsTestUpdate(m, T0, 1.0);
    ck_assert_double_eq_tol(vsTestNext(m), 0.063544759375, 1e-12);
    /* missing and negative usage are invalid */
    vsTestUpdate(m, T0 + 300, NAN);
    vsTestUpdate(m, T0 + 600, -1);
    ck_assert_double_eq_tol(vsVpaHistogramTotal(vsModelVpaHistogram(m->model)), 1, 1e-12);
    vsTestAssertDescribe(m, "vpa cpu half-life=24h target=0.064");
    ck_assert(!vsTestFit(m, missing, G_N_ELEMENTS(missing), &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    g_clear_error(&error);
    ck_assert(!vsModelVpa.forecast(m->model, 1, NULL, point));
}
END_TEST

/* The same data 1,000 days later (t_ref a whole number of days further)
 * gives bit-identical targets at every step, across the 2 rescalings that
 * 300 days of hourly samples force (t_ref moves when a sample is more than
 * 100 half-lives past it). */
START_TEST(test_vpa_rescale)
{
    g_autoptr(vsTestModel) a = vsTestModelNew(&vsModelVpa, VS_RESOURCE_CPU, 0);
    g_autoptr(vsTestModel) b = vsTestModelNew(&vsModelVpa, VS_RESOURCE_CPU, 0);
    g_autoptr(GRand) r = g_rand_new_with_seed(6);
    guint i, shifts = 0;
    double ref = NAN;

    for (i = 0; i < 300 * 24; i++) {
        double t = T0 + 3600.0 * i;
        /* a slow drift, so the target keeps moving */
        double y = 0.2 + 0.1 * sin(i / 500.0) + 0.05 * g_rand_double(r);
        double now;

        vsTestUpdate(a, t, y);
        vsTestUpdate(b, t + 1000 * DAY_S, y);
        ck_assert_double_eq(vsTestNext(a), vsTestNext(b));
        now = vsVpaHistogramReference(vsModelVpaHistogram(a->model));
        shifts += i > 0 && now != ref;
        ref = now;
    }
    ck_assert_uint_eq(shifts, 2);
    ck_assert_double_eq(vsVpaHistogramReference(vsModelVpaHistogram(b->model)),
                        ref + 1000 * DAY_S);
}
END_TEST

/* Memory peaks in bytes; buckets b(n) = 1e7 * (1.05^n - 1) / 0.05:
 *   100 MiB = 104857600 B: floor(ln(1.524288) / ln 1.05) = 8,  b(9) = 110265643.2 B
 *   200 MiB = 209715200 B: floor(ln(2.048576) / ln 1.05) = 14, b(15) = 215785635.9 B
 *   300 MiB = 314572800 B: floor(ln(2.572864) / ln 1.05) = 19, b(20) = 330659541.0 B
 *   0 MiB: bucket 0, b(1) = 1e7 B
 * A target is 1.15 x P90 / 2^20 MiB. */
#define VS_TEST_B9 110265643.19570325
#define VS_TEST_B15 215785635.88227376
#define VS_TEST_B20 330659541.0288844

START_TEST(test_vpa_memory_peaks)
{
    g_autoptr(vsTestModel) m = vsTestModelNew(&vsModelVpa, VS_RESOURCE_MEMORY, 0);
    const vsVpaHistogram *h = vsModelVpaHistogram(m->model);

    /* the first interval is [T0, T0 + 24 h), its peak stamped T0 + 24 h */
    vsTestUpdate(m, T0, 100);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 0.5), VS_TEST_B9, 1e-3);
    /* a higher sample replaces the peak: 200 alone, weight 1 */
    vsTestUpdate(m, T0 + 3600, 200);
    ck_assert_double_eq_tol(vsVpaHistogramTotal(h), 1, 1e-12);
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 0.01), VS_TEST_B15, 1e-3);
    /* a lower one does nothing */
    vsTestUpdate(m, T0 + 7200, 150);
    ck_assert_double_eq_tol(vsVpaHistogramTotal(h), 1, 1e-12);
    ck_assert_double_eq_tol(vsTestNext(m), 1.15 * VS_TEST_B15 / MIB, 1e-9);
    /* T0 + 24 h opens the next interval, stamped T0 + 48 h: weight 2 */
    vsTestUpdate(m, T0 + DAY_S, 100);
    ck_assert_double_eq_tol(vsVpaHistogramTotal(h), 3, 1e-12);
    /* P50: 2 of 3 in bucket 8 */
    ck_assert_double_eq_tol(vsVpaHistogramPercentile(h, 0.5), VS_TEST_B9, 1e-3);
    ck_assert_double_eq_tol(vsTestNext(m), 1.15 * VS_TEST_B15 / MIB, 1e-9);
    ck_assert_double_eq(vsVpaHistogramReference(h), T0 + DAY_S);
    /* 4.5 days later: the interval [T0 + 5 d, T0 + 6 d), stamped T0 + 6 d,
     * weighs 2^5 */
    vsTestUpdate(m, T0 + 5.5 * DAY_S, 300);
    ck_assert_double_eq_tol(vsVpaHistogramTotal(h), 3 + 32, 1e-9);
    ck_assert_double_eq_tol(vsTestNext(m), 1.15 * VS_TEST_B20 / MIB, 1e-9);
    vsTestAssertDescribe(m, "vpa memory interval=24h zero-peak-quirk=on");
}
END_TEST

/* An interval opened by a 0 keeps its peak of 0 whatever follows (VPA's
 * "oldMaxMem != 0" guard); without the quirk the 300 MiB replaces it. */
START_TEST(test_vpa_zero_peak)
{
    vsModelVpaConfig saved, fixed;
    g_autoptr(vsTestModel) quirk = vsTestModelNew(&vsModelVpa, VS_RESOURCE_MEMORY, 0);
    g_autoptr(vsTestModel) fix = NULL;

    vsModelVpaGetConfig(&saved);
    ck_assert_double_eq(saved.memory_interval_s, DAY_S);
    ck_assert(saved.zero_peak_quirk);
    fixed = saved;
    fixed.zero_peak_quirk = FALSE;
    vsModelVpaSetConfig(&fixed);
    fix = vsTestModelNew(&vsModelVpa, VS_RESOURCE_MEMORY, 0);
    vsModelVpaSetConfig(NULL);

    vsTestUpdate(quirk, T0, 0);
    vsTestUpdate(quirk, T0 + 300, 300);
    vsTestUpdate(fix, T0, 0);
    vsTestUpdate(fix, T0 + 300, 300);
    /* 1.15 x b(1) = 1.15e7 B */
    ck_assert_double_eq_tol(vsTestNext(quirk), 1.15e7 / MIB, 1e-9);
    ck_assert_double_eq_tol(vsTestNext(fix), 1.15 * VS_TEST_B20 / MIB, 1e-9);
    ck_assert_double_eq_tol(vsVpaHistogramTotal(vsModelVpaHistogram(fix->model)), 1, 1e-12);
    /* the next interval starts afresh */
    vsTestUpdate(quirk, T0 + DAY_S, 300);
    ck_assert_double_eq_tol(vsTestNext(quirk), 1.15 * VS_TEST_B20 / MIB, 1e-9);
    vsModelVpaGetConfig(&fixed);
    ck_assert(fixed.zero_peak_quirk);
}
END_TEST

/* vpa-1h aggregates memory per hour; fit is reset plus updates. */
START_TEST(test_vpa_1h_and_fit)
{
    g_autoptr(vsTestModel) day = vsTestModelNew(&vsModelVpa, VS_RESOURCE_MEMORY, 0);
    g_autoptr(vsTestModel) hour = vsTestModelNew(&vsModelVpa1h, VS_RESOURCE_MEMORY, 0);
    g_autoptr(vsTestModel) fed = vsTestModelNew(&vsModelVpa, VS_RESOURCE_MEMORY, 0);
    g_autoptr(GError) error = NULL;
    double y[12 * 30];
    gsize i;

    ck_assert_str_eq(vsModelVpa1h.name, "vpa-1h");
    /* 30 hours of 5-minute samples, 100 MiB with a 300 MiB minute */
    for (i = 0; i < G_N_ELEMENTS(y); i++)
        y[i] = i == 5 ? 300 : 100;
    ck_assert(vsTestFit(day, y, G_N_ELEMENTS(y), &error));
    ck_assert(vsTestFit(hour, y, G_N_ELEMENTS(y), &error));
    for (i = 0; i < G_N_ELEMENTS(y); i++)
        vsTestUpdate(fed, T0 + 300.0 * i, y[i]);
    /* two daily peaks: 300 MiB (weight 1) and 100 MiB (weight 2), P90 in
     * the 300 MiB bucket ... */
    ck_assert_double_eq_tol(vsTestNext(day), 1.15 * VS_TEST_B20 / MIB, 1e-9);
    ck_assert_double_eq(vsTestNext(fed), vsTestNext(day));
    /* ... but 30 hourly peaks, one of them 300 MiB: P90 at 100 MiB */
    ck_assert_double_eq_tol(vsTestNext(hour), 1.15 * VS_TEST_B9 / MIB, 1e-9);
    vsTestAssertDescribe(hour, "vpa-1h memory interval=1h");
    /* refitting replaces the state */
    ck_assert(vsTestFit(day, y + 12, 24, &error));
    ck_assert_double_eq_tol(vsTestNext(day), 1.15 * VS_TEST_B9 / MIB, 1e-9);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");

    tcase_add_test(tc, test_last);
    tcase_add_test(tc, test_ewma_update);
    tcase_add_test(tc, test_ewma_fit);
    tcase_add_test(tc, test_ewma_golden);
    tcase_add_test(tc, test_seasonal_given);
    tcase_add_test(tc, test_seasonal_detected);
    tcase_add_test(tc, test_seasonal_none);
    tcase_add_test(tc, test_seasonal_peak);
    tcase_add_test(tc, test_histogram_buckets);
    tcase_add_test(tc, test_histogram_percentiles);
    tcase_add_test(tc, test_histogram_decay);
    tcase_add_test(tc, test_vpa_cpu);
    tcase_add_test(tc, test_vpa_rescale);
    tcase_add_test(tc, test_vpa_memory_peaks);
    tcase_add_test(tc, test_vpa_zero_peak);
    tcase_add_test(tc, test_vpa_1h_and_fit);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
