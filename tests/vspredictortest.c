/*
 * vspredictortest.c: the daemon's forecasts and their feedback loop
 */
#include <config.h>

#include <math.h>

#include "forecast/vspredictor.h"
#include "vstestutils.h"

#define STEP_US (G_GINT64_CONSTANT(300) * G_USEC_PER_SEC)
#define DAY 288
#define UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"

static void
addLabelledSample(vsPredictor *p, gint64 at_us, double cpu, double mem_mib,
                  const char *labels)
{
    vsSample x;

    vsSampleInit(&x);
    x.labels = g_strdup(labels);
    x.time_us = at_us;
    g_strlcpy(x.uuid, UUID, sizeof(x.uuid));
    x.name = g_strdup("vm1");
    x.cpu_vcpus = cpu;
    x.mem_used_kib = (gint64)(mem_mib * 1024);
    vsPredictorAddSample(p, &x);
    vsSampleClear(&x);
}

static void
addSample(vsPredictor *p, gint64 at_us, double cpu, double mem_mib)
{
    addLabelledSample(p, at_us, cpu, mem_mib, NULL);
}

static double
cpuAt(guint slot)
{
    return 1 + 0.5 * sin(2 * G_PI * slot / DAY);
}

/* Five days of a smooth daily pattern, two samples a slot: forecasts
 * appear once there is enough history, each later gets its actual, the
 * rolling error is small and nothing is an anomaly; then a spike is. */
START_TEST(test_feedback_and_anomaly)
{
    g_autoptr(vsPredictor) p = vsPredictorNew(300, 86400, 300, DAY);
    gint64 t0 = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC / STEP_US * STEP_US;
    guint forecasts = 0, actuals = 0, anomalies = 0;
    double mae = NAN;

    for (guint slot = 0; slot < 5 * DAY + 1; slot++) {
        gint64 start = t0 + slot * STEP_US;
        double cpu = slot == 5 * DAY ? 20 : cpuAt(slot);
        g_autoptr(vsPredictorOutput) out = NULL;

        addSample(p, start + STEP_US / 2, cpu, 1024);
        addSample(p, start + STEP_US, cpu, 1024);
        if (!(out = vsPredictorAdvance(p, start + STEP_US)))
            continue;
        for (guint i = 0; i < out->forecasts->len; i++) {
            const vsForecastRecord *r = &g_array_index(out->forecasts, vsForecastRecord, i);

            ck_assert_str_eq(r->uuid, UUID);
            ck_assert(isfinite(r->point));
            if (isnan(r->actual)) {
                forecasts++;
                /* always for the slot after the one that just closed */
                ck_assert_int_eq(r->at_us, start + STEP_US);
            } else {
                actuals++;
                ck_assert_int_eq(r->at_us, start);
            }
        }
        for (guint i = 0; i < out->errors->len; i++) {
            const vsForecastError *e = &g_array_index(out->errors, vsForecastError, i);

            if (e->resource == VS_RESOURCE_CPU)
                mae = slot < 5 * DAY ? e->mae : mae;
        }
        for (guint i = 0; i < out->anomalies->len; i++) {
            const vsAnomaly *a = &g_array_index(out->anomalies, vsAnomaly, i);

            ck_assert_int_eq(a->resource, VS_RESOURCE_CPU);
            ck_assert_int_eq(a->at_us, t0 + 5 * DAY * STEP_US);
            ck_assert_double_eq(a->value, 20);
            ck_assert(a->upper99 < 20);
            anomalies++;
        }
    }
    ck_assert_msg(forecasts > DAY, "%u forecasts", forecasts);
    /* every forecast but the last two (one per resource) got its actual */
    ck_assert_uint_eq(actuals, forecasts - 2);
    ck_assert_msg(mae < 0.05, "rolling MAE %g on a smooth series", mae);
    ck_assert_uint_eq(anomalies, 1);
    ck_assert_uint_eq(vsPredictorDomains(p), 1);
    vsPredictorExpire(p, t0 + 6 * DAY * STEP_US);
    ck_assert_uint_eq(vsPredictorDomains(p), 0);
}
END_TEST

/* Stored history warms a new domain up: it forecasts at the first slot. */
START_TEST(test_warm_from_history)
{
    g_autoptr(vsPredictor) p = vsPredictorNew(300, 86400, 300, DAY);
    g_autoptr(GArray) history = g_array_new(FALSE, FALSE, sizeof(vsHistoryPoint));
    gint64 t0 = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC / STEP_US * STEP_US;
    gint64 now = t0 + 3 * DAY * STEP_US;
    g_autoptr(vsPredictorOutput) out = NULL;
    guint forecasts = 0;

    for (guint slot = 0; slot < 3 * DAY; slot++) {
        vsHistoryPoint h = { t0 + slot * STEP_US, cpuAt(slot), 1024 };

        /* an hour the rollups lack is a gap, not an hour less */
        if (slot < 2 * DAY + 100 || slot >= 2 * DAY + 112)
            g_array_append_val(history, h);
    }
    addSample(p, now + STEP_US / 2, cpuAt(3 * DAY), 1024);
    vsPredictorWarm(p, UUID, history);
    out = vsPredictorAdvance(p, now + STEP_US);
    ck_assert_ptr_nonnull(out);
    for (guint i = 0; i < out->forecasts->len; i++) {
        const vsForecastRecord *r = &g_array_index(out->forecasts, vsForecastRecord, i);

        if (!isnan(r->actual))
            continue;
        forecasts++;
        if (r->resource == VS_RESOURCE_CPU)
            ck_assert_msg(fabs(r->point - cpuAt(3 * DAY + 1)) < 0.05,
                          "forecast %g, expected %g", r->point, cpuAt(3 * DAY + 1));
    }
    ck_assert_uint_eq(forecasts, 2);
}
END_TEST

/* What the allocator reads: an allocation that covers the open slot and
 * the next on a regular series, and the forecast's quality. */
START_TEST(test_lookup)
{
    g_autoptr(vsPredictor) p = vsPredictorNew(300, 86400, 300, DAY);
    gint64 t0 = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC / STEP_US * STEP_US;
    guint slots = 4 * DAY;
    vsPredictorView v;

    for (guint slot = 0; slot < slots; slot++) {
        g_autoptr(vsPredictorOutput) out = NULL;

        addSample(p, t0 + slot * STEP_US + STEP_US / 2, cpuAt(slot), 1024);
        out = vsPredictorAdvance(p, t0 + (slot + 1) * STEP_US);
    }
    ck_assert(!vsPredictorLookup(p, "00000000-0000-0000-0000-000000000000",
                                 VS_RESOURCE_CPU, &v));
    ck_assert(vsPredictorLookup(p, UUID, VS_RESOURCE_CPU, &v));
    ck_assert_uint_eq(v.slots, slots);
    ck_assert_ptr_nonnull(v.model);
    ck_assert_double_eq_tol(v.last, cpuAt(slots - 1), 1e-6);
    /* noise-free: the allocation is the forecast, within rounding */
    ck_assert_msg(v.allocation >= 0.999 * MAX(cpuAt(slots), cpuAt(slots + 1)),
                  "allocation %g for %g then %g", v.allocation, cpuAt(slots), cpuAt(slots + 1));
    ck_assert_msg(v.allocation < 1.5 * MAX(cpuAt(slots), cpuAt(slots + 1)),
                  "allocation %g for %g then %g", v.allocation, cpuAt(slots), cpuAt(slots + 1));
    ck_assert_msg(v.mase < 1, "MASE %g", v.mase);
    /* noise-free: no interval to speak of */
    ck_assert(isnan(v.lower90) || (v.lower90 <= v.point && v.point <= v.upper90));
}
END_TEST

/* Numeric labels are the domain's workload inputs, averaged per slot and
 * fed to the forecasters (the regression among them) along with demand:
 * forecasts keep following demand.  (Without announced future inputs the
 * regression assumes the last ones persist; vsforecastertest checks that
 * it forecasts from them.) */
START_TEST(test_labels_as_inputs)
{
    g_autoptr(vsPredictor) p = vsPredictorNew(300, 86400, 300, DAY);
    gint64 t0 = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC / STEP_US * STEP_US;
    double mae = NAN;

    for (guint slot = 0; slot < 4 * DAY; slot++) {
        gint64 start = t0 + slot * STEP_US;
        double rps = 100 + 50 * sin(slot / 37.0) + 30 * cos(slot / 11.0);
        g_autofree char *labels = g_strdup_printf("{\"app\": \"web\", \"rps\": \"%.3f\"}", rps);
        g_autoptr(vsPredictorOutput) out = NULL;

        addLabelledSample(p, start + STEP_US, 0.5 + 0.01 * rps, 1024, labels);
        if (!(out = vsPredictorAdvance(p, start + STEP_US)))
            continue;
        for (guint i = 0; i < out->errors->len; i++) {
            const vsForecastError *e = &g_array_index(out->errors, vsForecastError, i);

            if (e->resource == VS_RESOURCE_CPU)
                mae = e->mae;
        }
    }
    /* demand moves by up to ~0.05 vCPU a slot */
    ck_assert_msg(mae < 0.05, "rolling MAE %g", mae);
}
END_TEST

/* A daily hour of 3 GiB: a predictor whose horizon is 20 minutes sizes
 * for it 20 minutes ahead, one whose horizon is a slot does not yet. */
START_TEST(test_horizon)
{
    static const double horizons[] = { 300, 1200 };
    gint64 t0 = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC / STEP_US * STEP_US;
    double alloc[2];

    for (guint h = 0; h < G_N_ELEMENTS(horizons); h++) {
        g_autoptr(vsPredictor) p = vsPredictorNew(300, 86400, horizons[h], DAY);
        /* the slot before the last day's burst opens 4 slots before it */
        guint last = 5 * DAY + 196;
        vsPredictorView v;

        for (guint slot = 0; slot < last; slot++) {
            gint64 start = t0 + slot * STEP_US;
            double mem = (slot % DAY >= 200 && slot % DAY < 212 ? 3072 : 1024) + slot % 7;
            g_autoptr(vsPredictorOutput) out = NULL;

            addSample(p, start + STEP_US, 0.5, mem);
            out = vsPredictorAdvance(p, start + STEP_US);
        }
        ck_assert(vsPredictorLookup(p, UUID, VS_RESOURCE_MEMORY, &v));
        ck_assert_double_eq(v.ahead_s, horizons[h]);
        alloc[h] = v.allocation;
    }
    ck_assert_msg(alloc[0] < 2048, "%.0f MiB a slot ahead", alloc[0]);
    ck_assert_msg(alloc[1] >= 3072, "%.0f MiB four slots ahead", alloc[1]);
}
END_TEST

/* Spread over 15-second intervals, each domain's slots start at its own
 * multiple of 15 s within the step, so each interval forecasts one domain
 * of twenty, not all twenty at the step's end. */
START_TEST(test_spread)
{
    g_autoptr(vsPredictor) p = vsPredictorNew(300, 86400, 300, DAY);
    const gint64 every_us = 15 * G_USEC_PER_SEC;
    gint64 t0 = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC / STEP_US * STEP_US;
    guint forecasts = 0, most = 0;

    vsPredictorSpread(p, 15);
    for (gint64 now = t0 + every_us; now <= t0 + (2 * DAY + 12) * STEP_US; now += every_us) {
        g_autoptr(vsPredictorOutput) out = NULL;
        guint made = 0;

        for (guint i = 0; i < 20; i++) {
            vsSample x;

            vsSampleInit(&x);
            g_snprintf(x.uuid, sizeof(x.uuid), "%08x-f6a4-8304-79aa-97f2502e193f", 1000 + i);
            x.name = g_strdup_printf("vm%u", i);
            x.time_us = now;
            x.cpu_vcpus = cpuAt((now - t0) / STEP_US);
            x.mem_used_kib = 1 << 20;
            vsPredictorAddSample(p, &x);
            vsSampleClear(&x);
        }
        if (!(out = vsPredictorAdvance(p, now)))
            continue;
        for (guint i = 0; i < out->forecasts->len; i++) {
            const vsForecastRecord *r = &g_array_index(out->forecasts, vsForecastRecord, i);
            guint64 id = g_ascii_strtoull(r->uuid, NULL, 16);

            if (!isnan(r->actual))
                continue;
            ck_assert_int_eq((r->at_us - t0) % STEP_US, (gint64)(id % 20) * every_us);
            made++;
        }
        forecasts += made;
        most = MAX(most, made);
    }
    ck_assert_msg(forecasts > 20 * 2 * 12, "%u forecasts", forecasts);
    /* one domain's CPU and memory */
    ck_assert_uint_eq(most, 2);
}
END_TEST

/* A slot is its mean CPU and its peak memory: a burst of memory late in a
 * slot is that slot's. */
START_TEST(test_slot_mean_and_peak)
{
    g_autoptr(vsPredictor) p = vsPredictorNew(300, 86400, 300, DAY);
    gint64 t0 = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC / STEP_US * STEP_US;
    g_autoptr(vsPredictorOutput) out = NULL;
    vsPredictorView cpu, mem;

    addSample(p, t0 + STEP_US / 3, 1, 1000);
    addSample(p, t0 + 2 * STEP_US / 3, 3, 3000);
    addSample(p, t0 + STEP_US, 2, 1100);
    out = vsPredictorAdvance(p, t0 + STEP_US);
    ck_assert(vsPredictorLookup(p, UUID, VS_RESOURCE_CPU, &cpu));
    ck_assert(vsPredictorLookup(p, UUID, VS_RESOURCE_MEMORY, &mem));
    ck_assert_double_eq_tol(cpu.last, 2, 1e-9);
    ck_assert_double_eq_tol(mem.last, 3000, 1e-9);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("predictor");
    TCase *tc = tcase_create("predictor");

    tcase_add_test(tc, test_feedback_and_anomaly);
    tcase_add_test(tc, test_warm_from_history);
    tcase_add_test(tc, test_lookup);
    tcase_add_test(tc, test_labels_as_inputs);
    tcase_add_test(tc, test_horizon);
    tcase_add_test(tc, test_spread);
    tcase_add_test(tc, test_slot_mean_and_peak);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
