/*
 * vsratestest.c: counters to rates, samples, batches and the roll-up
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "telemetry/vsrates.h"
#include "telemetry/vssample.h"
#include "vstestutils.h"

#define UUID_A "11111111-2222-3333-4444-555555555555"
#define UUID_B "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define SEC G_USEC_PER_SEC

static void
vsTestCounters(vsDomainCounters *c, const char *uuid)
{
    memset(c, 0, sizeof(*c));
    g_strlcpy(c->uuid, uuid, sizeof(c->uuid));
    c->name = (char *) "guest";
    c->present = VS_COUNTER_CPU_TIME | VS_COUNTER_VCPU_CURRENT | VS_COUNTER_VCPU_MAXIMUM |
        VS_COUNTER_BALLOON_CURRENT | VS_COUNTER_BALLOON_MAXIMUM |
        VS_COUNTER_BALLOON_AVAILABLE | VS_COUNTER_BALLOON_UNUSED |
        VS_COUNTER_BALLOON_RSS | VS_COUNTER_BLOCK | VS_COUNTER_NET;
    c->vcpu_current = 4;
    c->vcpu_maximum = 8;
    c->balloon_current_kib = 4096 * 1024;
    c->balloon_maximum_kib = 8192 * 1024;
    c->balloon_available_kib = 4000 * 1024;
    c->balloon_unused_kib = 1000 * 1024;
    c->balloon_rss_kib = 3500 * 1024;
}

static void
vsTestAssertNoNegative(const vsSample *s)
{
    const double rates[] = { s->cpu_vcpus, s->cpu_per_vcpu, s->disk_rd_bps, s->disk_wr_bps,
                             s->disk_rd_iops, s->disk_wr_iops, s->net_rx_bps, s->net_tx_bps };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(rates); i++)
        ck_assert_msg(isnan(rates[i]) || rates[i] >= 0, "rate %zu is %g", i, rates[i]);
    ck_assert(s->mem_used_kib >= -1);
}

static void
vsTestAssertNoRates(const vsSample *s)
{
    ck_assert(isnan(s->cpu_vcpus));
    ck_assert(isnan(s->cpu_per_vcpu));
    ck_assert(isnan(s->disk_rd_bps));
    ck_assert(isnan(s->disk_wr_bps));
    ck_assert(isnan(s->disk_rd_iops));
    ck_assert(isnan(s->disk_wr_iops));
    ck_assert(isnan(s->net_rx_bps));
    ck_assert(isnan(s->net_tx_bps));
}

START_TEST(test_first_sight)
{
    g_autoptr(vsRateTracker) t = vsRateTrackerNew();
    vsDomainCounters c;
    vsSample s;

    vsTestCounters(&c, UUID_A);
    vsSampleInit(&s);
    ck_assert(!vsRateTrackerUpdate(t, &c, 100 * SEC, &s));
    ck_assert_ptr_null(s.name);
    ck_assert(isnan(s.cpu_vcpus));
    ck_assert_int_eq(vsRateTrackerSize(t), 1);
    c.cpu_time_ns = 1000000000;
    ck_assert(vsRateTrackerUpdate(t, &c, 101 * SEC, &s));
    ck_assert_str_eq(s.uuid, UUID_A);
    ck_assert_str_eq(s.name, "guest");
    ck_assert(s.time_us == 101 * SEC);
    vsSampleClear(&s);
}
END_TEST

START_TEST(test_exact_rates)
{
    g_autoptr(vsRateTracker) t = vsRateTrackerNew();
    vsDomainCounters c;
    vsSample s;

    vsTestCounters(&c, UUID_A);
    c.cpu_time_ns = 5000000000ULL;
    c.block_rd_bytes = 1000;
    c.block_wr_reqs = 10;
    c.net_rx_bytes = 0;
    c.net_tx_bytes = 7;
    vsSampleInit(&s);
    ck_assert(!vsRateTrackerUpdate(t, &c, 10 * SEC, &s));

    c.cpu_time_ns += 4000000000ULL;     /* 4e9 ns over 2 s = 2 vCPUs */
    c.block_rd_bytes += 2 * 1048576;
    c.block_wr_bytes += 4096;
    c.block_rd_reqs += 6;
    c.block_wr_reqs += 20;
    c.net_rx_bytes += 3000;
    c.net_tx_bytes += 1;
    ck_assert(vsRateTrackerUpdate(t, &c, 12 * SEC, &s));

    ck_assert_double_eq(s.interval_s, 2.0);
    ck_assert_double_eq(s.cpu_vcpus, 2.0);
    ck_assert_double_eq(s.cpu_per_vcpu, 0.5);
    ck_assert_double_eq(s.disk_rd_bps, 1048576.0);
    ck_assert_double_eq(s.disk_wr_bps, 2048.0);
    ck_assert_double_eq(s.disk_rd_iops, 3.0);
    ck_assert_double_eq(s.disk_wr_iops, 10.0);
    ck_assert_double_eq(s.net_rx_bps, 1500.0);
    ck_assert_double_eq(s.net_tx_bps, 0.5);
    ck_assert_int_eq(s.vcpus, 4);
    ck_assert_int_eq(s.vcpus_max, 8);
    ck_assert_int_eq(s.mem_used_kib, 3000 * 1024);
    ck_assert(!s.mem_used_is_rss);
    ck_assert_int_eq(s.mem_current_kib, 4096 * 1024);
    ck_assert_int_eq(s.mem_max_kib, 8192 * 1024);
    vsSampleClear(&s);
}
END_TEST

START_TEST(test_restart)
{
    g_autoptr(vsRateTracker) t = vsRateTrackerNew();
    vsDomainCounters c;
    vsSample s;

    vsTestCounters(&c, UUID_A);
    c.cpu_time_ns = 900000000000ULL;
    c.block_rd_bytes = 1000;
    c.block_wr_bytes = 1ULL << 40;
    c.net_rx_bytes = 1ULL << 30;
    c.net_tx_bytes = 50;
    vsSampleInit(&s);
    vsRateTrackerUpdate(t, &c, 10 * SEC, &s);

    /* restart: cpu.time and most counters start over; one read is already
     * past its old value and must not be trusted either */
    c.cpu_time_ns = 1000000;
    c.block_rd_bytes = 5000;
    c.block_wr_bytes = 0;
    c.net_rx_bytes = 10;
    c.net_tx_bytes = 0;
    ck_assert(vsRateTrackerUpdate(t, &c, 15 * SEC, &s));
    vsTestAssertNoNegative(&s);
    vsTestAssertNoRates(&s);
    ck_assert_double_eq(s.interval_s, 5.0);
    ck_assert_int_eq(s.mem_used_kib, 3000 * 1024);
    vsSampleClear(&s);

    /* the next interval measures again from the new baseline */
    vsSampleInit(&s);
    c.cpu_time_ns += 5000000000ULL;
    c.block_rd_bytes += 500;
    ck_assert(vsRateTrackerUpdate(t, &c, 20 * SEC, &s));
    ck_assert_double_eq(s.cpu_vcpus, 1.0);
    ck_assert_double_eq(s.disk_rd_bps, 100.0);
    ck_assert_double_eq(s.net_rx_bps, 0.0);
    vsSampleClear(&s);
}
END_TEST

START_TEST(test_counter_reset)
{
    g_autoptr(vsRateTracker) t = vsRateTrackerNew();
    vsDomainCounters c;
    vsSample s;

    vsTestCounters(&c, UUID_A);
    c.block_rd_bytes = 10000;
    c.net_tx_bytes = 10000;
    vsSampleInit(&s);
    vsRateTrackerUpdate(t, &c, 0, &s);

    /* a disk and a NIC unplugged: only their sums go back */
    c.cpu_time_ns = 1000000000;
    c.block_rd_bytes = 10;
    c.block_wr_bytes = 100;
    c.net_tx_bytes = 0;
    c.net_rx_bytes = 100;
    ck_assert(vsRateTrackerUpdate(t, &c, 1 * SEC, &s));
    vsTestAssertNoNegative(&s);
    ck_assert(isnan(s.disk_rd_bps));
    ck_assert_double_eq(s.disk_wr_bps, 100.0);
    ck_assert(isnan(s.net_tx_bps));
    ck_assert_double_eq(s.net_rx_bps, 100.0);
    ck_assert_double_eq(s.cpu_vcpus, 1.0);
    vsSampleClear(&s);
}
END_TEST

START_TEST(test_random_never_negative)
{
    g_autoptr(vsRateTracker) t = vsRateTrackerNew();
    GRand *rand = g_rand_new_with_seed(42);
    vsDomainCounters c;
    gint64 now = 0;
    guint i;

    vsTestCounters(&c, UUID_A);
    for (i = 0; i < 2000; i++) {
        vsSample s;
        guint64 *counters[] = { &c.cpu_time_ns, &c.block_rd_bytes, &c.block_wr_bytes,
                                &c.block_rd_reqs, &c.block_wr_reqs, &c.net_rx_bytes,
                                &c.net_tx_bytes };
        gsize k;

        /* mostly growth, sometimes a reset, sometimes the clock steps back */
        for (k = 0; k < G_N_ELEMENTS(counters); k++) {
            if (g_rand_int_range(rand, 0, 10) == 0)
                *counters[k] = g_rand_int_range(rand, 0, 1000);
            else
                *counters[k] += g_rand_int_range(rand, 0, 1000000);
        }
        c.present ^= g_rand_int_range(rand, 0, 20) == 0 ? VS_COUNTER_BLOCK : 0;
        c.balloon_unused_kib = g_rand_int_range(rand, 0, 5000 * 1024);
        now += g_rand_int_range(rand, -SEC, 10 * SEC);

        vsSampleInit(&s);
        vsRateTrackerUpdate(t, &c, now, &s);
        vsTestAssertNoNegative(&s);
        ck_assert(isnan(s.interval_s) || s.interval_s > 0);
        vsSampleClear(&s);
    }
    g_rand_free(rand);
}
END_TEST

START_TEST(test_missing_fields)
{
    g_autoptr(vsRateTracker) t = vsRateTrackerNew();
    vsDomainCounters c;
    vsSample s;

    memset(&c, 0, sizeof(c));
    g_strlcpy(c.uuid, UUID_B, sizeof(c.uuid));
    c.present = VS_COUNTER_CPU_TIME | VS_COUNTER_NET;
    vsSampleInit(&s);
    vsRateTrackerUpdate(t, &c, 0, &s);

    /* the block sums appear only now: no history, no rate */
    c.present |= VS_COUNTER_BLOCK;
    c.block_rd_bytes = 100;
    c.cpu_time_ns = 500000000;
    ck_assert(vsRateTrackerUpdate(t, &c, 1 * SEC, &s));
    ck_assert_ptr_null(s.name);
    ck_assert_double_eq(s.cpu_vcpus, 0.5);
    ck_assert(isnan(s.cpu_per_vcpu));
    ck_assert(isnan(s.disk_rd_bps));
    ck_assert(isnan(s.disk_wr_iops));
    ck_assert_double_eq(s.net_rx_bps, 0.0);
    ck_assert_int_eq(s.vcpus, -1);
    ck_assert_int_eq(s.vcpus_max, -1);
    ck_assert_int_eq(s.mem_used_kib, -1);
    ck_assert(!s.mem_used_is_rss);
    ck_assert_int_eq(s.mem_current_kib, -1);
    ck_assert_int_eq(s.mem_max_kib, -1);
    vsSampleClear(&s);

    /* cpu.time gone now: unknown, not zero */
    vsSampleInit(&s);
    c.present &= ~VS_COUNTER_CPU_TIME;
    ck_assert(vsRateTrackerUpdate(t, &c, 2 * SEC, &s));
    ck_assert(isnan(s.cpu_vcpus));
    ck_assert_double_eq(s.disk_rd_bps, 0.0);
    vsSampleClear(&s);
}
END_TEST

START_TEST(test_rss_fallback)
{
    g_autoptr(vsRateTracker) t = vsRateTrackerNew();
    vsDomainCounters c;
    vsSample s;

    vsTestCounters(&c, UUID_A);
    c.present &= ~(VS_COUNTER_BALLOON_AVAILABLE | VS_COUNTER_BALLOON_UNUSED);
    vsSampleInit(&s);
    vsRateTrackerUpdate(t, &c, 0, &s);
    ck_assert(vsRateTrackerUpdate(t, &c, 1 * SEC, &s));
    ck_assert_int_eq(s.mem_used_kib, 3500 * 1024);
    ck_assert(s.mem_used_is_rss);
    vsSampleClear(&s);

    /* nonsense balloon stats (unused > available) fall back too */
    vsSampleInit(&s);
    c.present |= VS_COUNTER_BALLOON_AVAILABLE | VS_COUNTER_BALLOON_UNUSED;
    c.balloon_unused_kib = c.balloon_available_kib + 1;
    ck_assert(vsRateTrackerUpdate(t, &c, 2 * SEC, &s));
    ck_assert_int_eq(s.mem_used_kib, 3500 * 1024);
    ck_assert(s.mem_used_is_rss);
    vsSampleClear(&s);
}
END_TEST

START_TEST(test_no_wall_time)
{
    g_autoptr(vsRateTracker) t = vsRateTrackerNew();
    vsDomainCounters c;
    vsSample s;

    vsTestCounters(&c, UUID_A);
    vsSampleInit(&s);
    vsRateTrackerUpdate(t, &c, 10 * SEC, &s);
    c.cpu_time_ns = 1000000000;
    ck_assert(vsRateTrackerUpdate(t, &c, 10 * SEC, &s));
    vsTestAssertNoRates(&s);
    ck_assert(isnan(s.interval_s));
    ck_assert_int_eq(s.mem_used_kib, 3000 * 1024);
    vsSampleClear(&s);

    /* the clock stepped back */
    vsSampleInit(&s);
    c.cpu_time_ns *= 2;
    ck_assert(vsRateTrackerUpdate(t, &c, 5 * SEC, &s));
    vsTestAssertNoRates(&s);
    vsSampleClear(&s);
}
END_TEST

START_TEST(test_expire)
{
    g_autoptr(vsRateTracker) t = vsRateTrackerNew();
    vsDomainCounters a, b;
    vsSample s;

    vsTestCounters(&a, UUID_A);
    vsTestCounters(&b, UUID_B);
    vsSampleInit(&s);
    vsRateTrackerUpdate(t, &a, 10 * SEC, &s);
    vsRateTrackerUpdate(t, &b, 10 * SEC, &s);
    ck_assert(vsRateTrackerUpdate(t, &a, 20 * SEC, &s));
    vsSampleClear(&s);
    ck_assert_uint_eq(vsRateTrackerSize(t), 2);

    ck_assert_uint_eq(vsRateTrackerExpire(t, 10 * SEC), 0);
    ck_assert_uint_eq(vsRateTrackerExpire(t, 15 * SEC), 1);
    ck_assert_uint_eq(vsRateTrackerSize(t), 1);

    /* B is a stranger again */
    vsSampleInit(&s);
    ck_assert(!vsRateTrackerUpdate(t, &b, 30 * SEC, &s));
    ck_assert(vsRateTrackerUpdate(t, &a, 30 * SEC, &s));
    vsSampleClear(&s);
}
END_TEST

START_TEST(test_many_domains)
{
    g_autoptr(vsRateTracker) t = vsRateTrackerNew();
    g_autoptr(GArray) counters = g_array_sized_new(FALSE, TRUE, sizeof(vsDomainCounters), 10000);
    guint cycle, i, rates = 0;

    g_array_set_size(counters, 10000);
    for (i = 0; i < counters->len; i++) {
        vsDomainCounters *c = &g_array_index(counters, vsDomainCounters, i);

        vsTestCounters(c, UUID_A);
        g_snprintf(c->uuid, sizeof(c->uuid), "00000000-0000-0000-0000-%012u", i);
    }
    for (cycle = 0; cycle < 3; cycle++) {
        for (i = 0; i < counters->len; i++) {
            vsDomainCounters *c = &g_array_index(counters, vsDomainCounters, i);
            vsSample s;

            c->cpu_time_ns += (guint64) i * 1000;
            vsSampleInit(&s);
            if (vsRateTrackerUpdate(t, c, (gint64) cycle * SEC, &s)) {
                ck_assert_double_eq_tol(s.cpu_vcpus, i * 1e-6, 1e-12);
                rates++;
            }
            vsSampleClear(&s);
        }
    }
    ck_assert_uint_eq(vsRateTrackerSize(t), 10000);
    ck_assert_uint_eq(rates, 20000);
}
END_TEST

/* --- samples and batches ---------------------------------------------------- */

START_TEST(test_sample_init_copy)
{
    vsSample s, copy;

    vsSampleInit(&s);
    ck_assert(isnan(s.interval_s) && isnan(s.cpu_vcpus) && isnan(s.net_tx_bps));
    ck_assert_int_eq(s.vcpus, -1);
    ck_assert_int_eq(s.mem_used_kib, -1);
    ck_assert(!s.mem_used_is_rss);
    ck_assert_str_eq(s.uuid, "");
    ck_assert(s.time_us == 0);
    s.name = g_strdup("web1");
    s.labels = g_strdup("{\"tier\": \"web\"}");
    s.cpu_vcpus = 1.5;

    vsSampleCopy(&copy, &s);
    ck_assert_ptr_ne(copy.name, s.name);
    ck_assert_str_eq(copy.name, "web1");
    ck_assert_str_eq(copy.labels, s.labels);
    ck_assert_double_eq(copy.cpu_vcpus, 1.5);
    vsSampleClear(&s);
    ck_assert_ptr_null(s.name);
    ck_assert_str_eq(copy.name, "web1");
    vsSampleClear(&copy);
    vsSampleClear(NULL);
}
END_TEST

START_TEST(test_batch_ids)
{
    g_autoptr(vsSampleBatch) a = vsSampleBatchNew(0);
    g_autoptr(vsSampleBatch) b = vsSampleBatchNew(0);
    vsDomainCounters c = { .name = g_strdup("x") };

    ck_assert(a->id != 0);
    ck_assert(a->id != b->id);
    ck_assert(a->id <= G_MAXINT64);
    ck_assert_uint_eq(a->rollup_s, 0);
    ck_assert_uint_eq(a->samples->len, 0);
    vsDomainCountersClear(&c);
    ck_assert_ptr_null(c.name);
    vsSampleBatchFree(NULL);
}
END_TEST

static void
vsTestAddSample(vsSampleBatch *b, const char *uuid, gint64 time_us, double interval_s,
                double cpu, gint64 mem, const char *name)
{
    vsSample s;

    vsSampleInit(&s);
    g_strlcpy(s.uuid, uuid, sizeof(s.uuid));
    s.time_us = time_us;
    s.interval_s = interval_s;
    s.cpu_vcpus = cpu;
    s.mem_used_kib = mem;
    s.name = g_strdup(name);
    g_array_append_val(b->samples, s);
}

static const vsSample *
vsTestSampleAt(const vsSampleBatch *b, guint i)
{
    return &g_array_index(b->samples, vsSample, i);
}

START_TEST(test_rollup_weights)
{
    g_autoptr(vsSampleBatch) raw = vsSampleBatchNew(0);
    g_autoptr(vsSampleBatch) up = NULL;
    const vsSample *s;

    /* newest first, to prove order does not pick the name */
    vsTestAddSample(raw, UUID_A, 1000 * SEC, 30, 3.0, 1000, "new-name");
    vsTestAddSample(raw, UUID_A, 960 * SEC, 10, 1.0, 3000, "old-name");
    vsTestAddSample(raw, UUID_A, 970 * SEC, 10, NAN, -1, "mid-name");
    g_array_index(raw->samples, vsSample, 1).vcpus = 2;
    g_array_index(raw->samples, vsSample, 1).mem_used_is_rss = TRUE;
    g_array_index(raw->samples, vsSample, 1).disk_rd_bps = 7.0;
    g_array_index(raw->samples, vsSample, 0).vcpus = 1;
    g_array_index(raw->samples, vsSample, 0).labels = g_strdup("{\"a\": 1}");

    up = vsSampleBatchRollUp(raw);
    ck_assert_uint_eq(up->rollup_s, 300);
    ck_assert(up->id != raw->id);
    ck_assert_uint_eq(up->samples->len, 1);
    s = vsTestSampleAt(up, 0);
    ck_assert_str_eq(s->uuid, UUID_A);
    ck_assert(s->time_us == 1200 * SEC);
    ck_assert_double_eq(s->interval_s, 50.0);
    ck_assert_double_eq(s->cpu_vcpus, 2.5);             /* (1*10 + 3*30) / 40 */
    ck_assert_int_eq(s->mem_used_kib, 1500);            /* (3000*10 + 1000*30) / 40 */
    ck_assert_double_eq(s->disk_rd_bps, 7.0);           /* the only known member */
    ck_assert(isnan(s->net_rx_bps));                    /* nobody knew it */
    ck_assert_int_eq(s->mem_current_kib, -1);
    ck_assert_int_eq(s->vcpus, 2);
    ck_assert_int_eq(s->vcpus_max, -1);
    ck_assert(s->mem_used_is_rss);
    ck_assert_str_eq(s->name, "new-name");
    ck_assert_str_eq(s->labels, "{\"a\": 1}");
}
END_TEST

START_TEST(test_rollup_buckets)
{
    g_autoptr(vsSampleBatch) raw = vsSampleBatchNew(0);
    g_autoptr(vsSampleBatch) up = NULL;

    vsTestAddSample(raw, UUID_B, 300 * SEC, 10, 4.0, 10, "b");         /* bucket 300..600 */
    vsTestAddSample(raw, UUID_B, 300 * SEC - 1, 10, 2.0, 10, "b");     /* bucket 0..300 */
    vsTestAddSample(raw, UUID_A, 599 * SEC, 10, 1.0, 10, "a");         /* bucket 300..600 */
    vsTestAddSample(raw, UUID_A, 0, 10, 8.0, 10, "a");                 /* bucket 0..300 */
    vsTestAddSample(raw, UUID_B, 599 * SEC, 30, 8.0, 10, "b");         /* bucket 300..600 */

    up = vsSampleBatchRollUp(raw);
    ck_assert_uint_eq(up->samples->len, 4);
    ck_assert_str_eq(vsTestSampleAt(up, 0)->uuid, UUID_A);
    ck_assert(vsTestSampleAt(up, 0)->time_us == 300 * SEC);
    ck_assert_double_eq(vsTestSampleAt(up, 0)->cpu_vcpus, 8.0);
    ck_assert_str_eq(vsTestSampleAt(up, 1)->uuid, UUID_B);
    ck_assert(vsTestSampleAt(up, 1)->time_us == 300 * SEC);
    ck_assert_double_eq(vsTestSampleAt(up, 1)->cpu_vcpus, 2.0);
    ck_assert_str_eq(vsTestSampleAt(up, 2)->uuid, UUID_A);
    ck_assert(vsTestSampleAt(up, 2)->time_us == 600 * SEC);
    ck_assert_double_eq(vsTestSampleAt(up, 2)->cpu_vcpus, 1.0);
    ck_assert_str_eq(vsTestSampleAt(up, 3)->uuid, UUID_B);
    ck_assert(vsTestSampleAt(up, 3)->time_us == 600 * SEC);
    ck_assert_double_eq(vsTestSampleAt(up, 3)->cpu_vcpus, 7.0);   /* (4*10 + 8*30) / 40 */
    ck_assert_double_eq(vsTestSampleAt(up, 3)->interval_s, 40.0);
}
END_TEST

START_TEST(test_rollup_empty)
{
    g_autoptr(vsSampleBatch) raw = vsSampleBatchNew(0);
    g_autoptr(vsSampleBatch) up = vsSampleBatchRollUp(raw);

    ck_assert_uint_eq(up->samples->len, 0);
    ck_assert_uint_eq(up->rollup_s, 300);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("rates");
    TCase *rates = tcase_create("rates");
    TCase *samples = tcase_create("samples");

    tcase_add_test(rates, test_first_sight);
    tcase_add_test(rates, test_exact_rates);
    tcase_add_test(rates, test_restart);
    tcase_add_test(rates, test_counter_reset);
    tcase_add_test(rates, test_random_never_negative);
    tcase_add_test(rates, test_missing_fields);
    tcase_add_test(rates, test_rss_fallback);
    tcase_add_test(rates, test_no_wall_time);
    tcase_add_test(rates, test_expire);
    tcase_add_test(rates, test_many_domains);
    tcase_set_timeout(rates, 60);
    suite_add_tcase(s, rates);

    tcase_add_test(samples, test_sample_init_copy);
    tcase_add_test(samples, test_batch_ids);
    tcase_add_test(samples, test_rollup_weights);
    tcase_add_test(samples, test_rollup_buckets);
    tcase_add_test(samples, test_rollup_empty);
    suite_add_tcase(s, samples);
    return vsTestRunSuite(s);
}
