/*
 * vsbenchcycle.c: the CPU time of one sampling cycle
 *
 * "The CPU time to turn one bulk-stats result for 10,000 domains into rates
 * and batched rows, excluding libvirt's own time."  The bulk result is
 * synthesized (about 40 typed parameters per domain, as QEMU gives them),
 * so no RPC or XDR decoding is measured.  One cycle is what the sampler
 * does after virConnectGetAllDomainStats returns: typed params ->
 * vsDomainCounters -> vsRateTracker -> vsSample rows in a vsSampleBatch.
 *
 * The baseline, in the same run, takes the generic route the driver's
 * getAllDomainStats offers: every param into a GHashTable of GVariants,
 * then the counters looked up by name from it.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <libvirt/libvirt.h>

#include "vstestutils.h"
#include "libvirt/vslibvirt.h"
#include "telemetry/vsrates.h"
#include "telemetry/vssample.h"

#define BENCH_DOMAINS 10000
#define BENCH_CYCLES 20
#define BENCH_TARGET_MS 20.0
#define BENCH_INTERVAL_US (10 * G_USEC_PER_SEC)

typedef struct {
    char uuid[VS_UUID_STRLEN];
    char *name;
    virTypedParameterPtr params;
    int nparams;
} benchRecord;

static void
benchAdd(int ret)
{
    if (ret < 0) {
        fprintf(stderr, "vsbenchcycle: cannot build typed parameters\n");
        exit(EXIT_FAILURE);
    }
}

#define ADD(kind, field, value) \
    benchAdd(virTypedParamsAdd##kind(&r->params, &r->nparams, &max, field, value))

/* One domain as QEMU reports it for state, cpu-total, balloon, vcpu,
 * block and interface: 4 vCPUs, 2 disks, 1 NIC. */
static void
benchRecordInit(benchRecord *r, guint i)
{
    char field[VIR_TYPED_PARAM_FIELD_LENGTH];
    int max = 0;
    guint d;

    g_snprintf(r->uuid, sizeof(r->uuid), "%08x-5a4d-4c3e-8b2a-%012x", i, i * 7919);
    r->name = g_strdup_printf("vm-%05u", i);

    ADD(Int, "state.state", VIR_DOMAIN_RUNNING);
    ADD(Int, "state.reason", 1);
    ADD(ULLong, "cpu.time", 1000000000ULL * (i % 1000));
    ADD(ULLong, "cpu.user", 400000000ULL * (i % 1000));
    ADD(ULLong, "cpu.system", 100000000ULL * (i % 1000));
    ADD(ULLong, "balloon.current", 4194304);
    ADD(ULLong, "balloon.maximum", 8388608);
    ADD(ULLong, "balloon.swap_in", 0);
    ADD(ULLong, "balloon.swap_out", 0);
    ADD(ULLong, "balloon.major_fault", 120);
    ADD(ULLong, "balloon.minor_fault", 90000);
    ADD(ULLong, "balloon.unused", 1048576 + i);
    ADD(ULLong, "balloon.available", 4000000 + i);
    ADD(ULLong, "balloon.usable", 2000000);
    ADD(ULLong, "balloon.last-update", 1700000000);
    ADD(ULLong, "balloon.rss", 3500000);
    ADD(UInt, "vcpu.current", 4);
    ADD(UInt, "vcpu.maximum", 8);
    for (d = 0; d < 4; d++) {
        g_snprintf(field, sizeof(field), "vcpu.%u.state", d);
        ADD(Int, field, 1);
        g_snprintf(field, sizeof(field), "vcpu.%u.time", d);
        ADD(ULLong, field, 250000000ULL * (i % 1000));
        g_snprintf(field, sizeof(field), "vcpu.%u.wait", d);
        ADD(ULLong, field, 1000);
    }
    ADD(UInt, "block.count", 2);
    for (d = 0; d < 2; d++) {
        static const char *const counters[] = {
            "rd.reqs", "rd.bytes", "rd.times", "wr.reqs", "wr.bytes", "wr.times",
            "allocation", "capacity",
        };
        g_autofree char *path = g_strdup_printf("/var/lib/libvirt/images/vm-%05u-%u.qcow2", i, d);
        guint k;

        g_snprintf(field, sizeof(field), "block.%u.name", d);
        ADD(String, field, d == 0 ? "vda" : "vdb");
        g_snprintf(field, sizeof(field), "block.%u.path", d);
        ADD(String, field, path);
        for (k = 0; k < G_N_ELEMENTS(counters); k++) {
            g_snprintf(field, sizeof(field), "block.%u.%s", d, counters[k]);
            ADD(ULLong, field, 1000ULL * (i + k + 1));
        }
    }
    ADD(UInt, "net.count", 1);
    ADD(String, "net.0.name", "vnet0");
    ADD(ULLong, "net.0.rx.bytes", 123456ULL * (i + 1));
    ADD(ULLong, "net.0.rx.pkts", 1000);
    ADD(ULLong, "net.0.rx.errs", 0);
    ADD(ULLong, "net.0.rx.drop", 0);
    ADD(ULLong, "net.0.tx.bytes", 654321ULL * (i + 1));
    ADD(ULLong, "net.0.tx.pkts", 900);
    ADD(ULLong, "net.0.tx.errs", 0);
    ADD(ULLong, "net.0.tx.drop", 0);
}

#undef ADD

/* Between cycles (untimed): every cumulative counter grows. */
static void
benchAdvance(benchRecord *recs, guint n)
{
    guint i;
    int k;

    for (i = 0; i < n; i++) {
        for (k = 0; k < recs[i].nparams; k++) {
            virTypedParameterPtr p = &recs[i].params[k];

            if (p->type == VIR_TYPED_PARAM_ULLONG && !g_str_has_prefix(p->field, "balloon."))
                p->value.ul += 5000000ULL + (i % 97) * 1000;
        }
    }
}

static double
benchPeakRssMiB(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;       /* KiB on Linux */
}

static int
benchCompareDouble(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
benchMedian(double *v, guint n)
{
    qsort(v, n, sizeof(*v), benchCompareDouble);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static GArray *
benchCountersNew(guint n)
{
    GArray *ret = g_array_sized_new(FALSE, TRUE, sizeof(vsDomainCounters), n);

    g_array_set_clear_func(ret, (GDestroyNotify)vsDomainCountersClear);
    g_array_set_size(ret, n);
    return ret;
}

/* --- the fast path: what vsVirDriverCollectCounters does -------------------- */

static GArray *
benchFastConvert(benchRecord *recs, guint n)
{
    GArray *ret = benchCountersNew(n);
    guint i;

    for (i = 0; i < n; i++) {
        vsDomainCounters *c = &g_array_index(ret, vsDomainCounters, i);

        /* stands for virDomainGetUUIDString / virDomainGetName + strdup */
        memcpy(c->uuid, recs[i].uuid, sizeof(c->uuid));
        c->name = g_strdup(recs[i].name);
        vsVirStatsParamsToCounters(recs[i].params, recs[i].nparams, c);
    }
    return ret;
}

/* --- the baseline: params -> GHashTable of GVariant -> lookups ------------- */

static GPtrArray *
benchGenericStats(benchRecord *recs, guint n)
{
    GPtrArray *ret = g_ptr_array_new_full(n, (GDestroyNotify)vsDomainStatsFree);
    guint i;
    int k;

    for (i = 0; i < n; i++) {
        vsDomainStats *ds = vsDomainStatsNew(recs[i].name, recs[i].uuid);

        for (k = 0; k < recs[i].nparams; k++) {
            const virTypedParameter *param = &recs[i].params[k];
            GVariant *v = vsVirTypedParamToVariant(param);

            if (v)
                g_hash_table_replace(ds->fields, g_strdup(param->field),
                                     g_variant_ref_sink(v));
        }
        g_ptr_array_add(ret, ds);
    }
    return ret;
}

static const struct {
    const char *key;
    gsize offset;
    guint32 bit;
} benchGenericScalars[] = {
    { "cpu.time", G_STRUCT_OFFSET(vsDomainCounters, cpu_time_ns), VS_COUNTER_CPU_TIME },
    { "balloon.current", G_STRUCT_OFFSET(vsDomainCounters, balloon_current_kib), VS_COUNTER_BALLOON_CURRENT },
    { "balloon.maximum", G_STRUCT_OFFSET(vsDomainCounters, balloon_maximum_kib), VS_COUNTER_BALLOON_MAXIMUM },
    { "balloon.available", G_STRUCT_OFFSET(vsDomainCounters, balloon_available_kib), VS_COUNTER_BALLOON_AVAILABLE },
    { "balloon.unused", G_STRUCT_OFFSET(vsDomainCounters, balloon_unused_kib), VS_COUNTER_BALLOON_UNUSED },
    { "balloon.usable", G_STRUCT_OFFSET(vsDomainCounters, balloon_usable_kib), VS_COUNTER_BALLOON_USABLE },
    { "balloon.rss", G_STRUCT_OFFSET(vsDomainCounters, balloon_rss_kib), VS_COUNTER_BALLOON_RSS },
    { "balloon.last-update", G_STRUCT_OFFSET(vsDomainCounters, balloon_last_update), VS_COUNTER_BALLOON_LAST_UPDATE },
};

/* Sum "<group>.N.<what>" over N < "<group>.count". */
static gboolean
benchGenericSum(const vsDomainStats *st, const char *group, const char *what,
                guint64 *sum)
{
    char key[VIR_TYPED_PARAM_FIELD_LENGTH];
    guint64 count = 0;
    gboolean any = FALSE;
    guint64 n;
    guint64 v;

    g_snprintf(key, sizeof(key), "%s.count", group);
    if (!vsDomainStatsGetUInt64(st, key, &count))
        return FALSE;
    for (n = 0; n < count; n++) {
        g_snprintf(key, sizeof(key), "%s.%" G_GUINT64_FORMAT ".%s", group, n, what);
        if (vsDomainStatsGetUInt64(st, key, &v)) {
            *sum += v;
            any = TRUE;
        }
    }
    return any;
}

static GArray *
benchGenericConvert(benchRecord *recs, guint n)
{
    g_autoptr(GPtrArray) stats = benchGenericStats(recs, n);
    GArray *ret = benchCountersNew(n);
    guint i;
    guint k;

    for (i = 0; i < n; i++) {
        const vsDomainStats *st = g_ptr_array_index(stats, i);
        vsDomainCounters *c = &g_array_index(ret, vsDomainCounters, i);
        guint64 v;
        gboolean block = FALSE;
        gboolean net = FALSE;

        g_strlcpy(c->uuid, st->uuid, sizeof(c->uuid));
        c->name = g_strdup(st->name);
        if (vsDomainStatsGetUInt64(st, "state.state", &v)) {
            c->state = (int)v;
            c->present |= VS_COUNTER_STATE;
        }
        if (vsDomainStatsGetUInt64(st, "vcpu.current", &v)) {
            c->vcpu_current = (guint32)v;
            c->present |= VS_COUNTER_VCPU_CURRENT;
        }
        if (vsDomainStatsGetUInt64(st, "vcpu.maximum", &v)) {
            c->vcpu_maximum = (guint32)v;
            c->present |= VS_COUNTER_VCPU_MAXIMUM;
        }
        for (k = 0; k < G_N_ELEMENTS(benchGenericScalars); k++) {
            if (vsDomainStatsGetUInt64(st, benchGenericScalars[k].key,
                                       G_STRUCT_MEMBER_P(c, benchGenericScalars[k].offset)))
                c->present |= benchGenericScalars[k].bit;
        }
        block |= benchGenericSum(st, "block", "rd.bytes", &c->block_rd_bytes);
        block |= benchGenericSum(st, "block", "wr.bytes", &c->block_wr_bytes);
        block |= benchGenericSum(st, "block", "rd.reqs", &c->block_rd_reqs);
        block |= benchGenericSum(st, "block", "wr.reqs", &c->block_wr_reqs);
        net |= benchGenericSum(st, "net", "rx.bytes", &c->net_rx_bytes);
        net |= benchGenericSum(st, "net", "tx.bytes", &c->net_tx_bytes);
        if (block)
            c->present |= VS_COUNTER_BLOCK;
        if (net)
            c->present |= VS_COUNTER_NET;
    }
    return ret;
}

/* --- the rest of the cycle, shared ------------------------------------------ */

/* As the sampler does it: rates, and a row per domain seen before. */
static guint
benchRates(vsRateTracker *t, GArray *counters, gint64 now_us)
{
    g_autoptr(vsSampleBatch) batch = vsSampleBatchNew(0);
    guint i;

    for (i = 0; i < counters->len; i++) {
        vsSample s;

        vsSampleInit(&s);
        if (!vsRateTrackerUpdate(t, &g_array_index(counters, vsDomainCounters, i),
                                 now_us, &s)) {
            vsSampleClear(&s);
            continue;
        }
        g_array_append_val(batch->samples, s);
    }
    /* the batch would go to the store now; freeing it is part of the cycle */
    return batch->samples->len;
}

typedef GArray *(*benchConvertFunc)(benchRecord *recs, guint n);

/* One timed cycle; returns CPU ms, the conversion's share in *@convert_ms. */
static double
benchCycle(benchConvertFunc convert, benchRecord *recs, vsRateTracker *t,
           gint64 now_us, guint *rows, double *convert_ms)
{
    double start = (vsTestCpuSeconds() * 1e3);
    double mid;
    g_autoptr(GArray) counters = convert(recs, BENCH_DOMAINS);

    mid = (vsTestCpuSeconds() * 1e3);
    *rows = benchRates(t, counters, now_us);
    g_clear_pointer(&counters, g_array_unref);
    *convert_ms = mid - start;
    return (vsTestCpuSeconds() * 1e3) - start;
}

static gboolean
benchSameCounters(const vsDomainCounters *a, const vsDomainCounters *b)
{
    return g_str_equal(a->uuid, b->uuid) && g_str_equal(a->name, b->name) &&
        a->state == b->state && a->present == b->present &&
        a->cpu_time_ns == b->cpu_time_ns &&
        a->vcpu_current == b->vcpu_current && a->vcpu_maximum == b->vcpu_maximum &&
        a->balloon_current_kib == b->balloon_current_kib &&
        a->balloon_maximum_kib == b->balloon_maximum_kib &&
        a->balloon_available_kib == b->balloon_available_kib &&
        a->balloon_unused_kib == b->balloon_unused_kib &&
        a->balloon_usable_kib == b->balloon_usable_kib &&
        a->balloon_rss_kib == b->balloon_rss_kib &&
        a->balloon_last_update == b->balloon_last_update &&
        a->block_rd_bytes == b->block_rd_bytes && a->block_wr_bytes == b->block_wr_bytes &&
        a->block_rd_reqs == b->block_rd_reqs && a->block_wr_reqs == b->block_wr_reqs &&
        a->net_rx_bytes == b->net_rx_bytes && a->net_tx_bytes == b->net_tx_bytes;
}

/* Both routes must agree, or the comparison means nothing. */
static void
benchCheckSame(benchRecord *recs)
{
    g_autoptr(GArray) fast = benchFastConvert(recs, BENCH_DOMAINS);
    g_autoptr(GArray) slow = benchGenericConvert(recs, BENCH_DOMAINS);
    const guint32 all = (VS_COUNTER_STATE << 1) - 1;
    guint i;

    for (i = 0; i < BENCH_DOMAINS; i++) {
        const vsDomainCounters *a = &g_array_index(fast, vsDomainCounters, i);
        const vsDomainCounters *b = &g_array_index(slow, vsDomainCounters, i);

        if (!benchSameCounters(a, b) || a->present != all) {
            fprintf(stderr, "vsbenchcycle: the two routes disagree on '%s'\n", a->name);
            exit(EXIT_FAILURE);
        }
    }
}

int
main(void)
{
    g_autoptr(vsRateTracker) fastTracker = vsRateTrackerNew();
    g_autoptr(vsRateTracker) slowTracker = vsRateTrackerNew();
    benchRecord *recs = g_new0(benchRecord, BENCH_DOMAINS);
    double fastMs[BENCH_CYCLES];
    double fastConvMs[BENCH_CYCLES];
    double slowMs[BENCH_CYCLES];
    double slowConvMs[BENCH_CYCLES];
    double rssStart;
    double rssRecords;
    double rssTracked;
    double conv;
    double fast;
    double slow;
    double fastConv;
    double slowConv;
    gint64 now_us = 1700000000LL * G_USEC_PER_SEC;
    guint rows = 0;
    guint nparams = 0;
    guint i;

    /* the virTypedParamsAdd* helpers touch libvirt's thread-local error */
    if (virInitialize() < 0) {
        fprintf(stderr, "vsbenchcycle: cannot initialize libvirt\n");
        return EXIT_FAILURE;
    }
    rssStart = benchPeakRssMiB();
    for (i = 0; i < BENCH_DOMAINS; i++) {
        benchRecordInit(&recs[i], i);
        nparams += recs[i].nparams;
    }
    rssRecords = benchPeakRssMiB();

    /* Cycle 1 primes the trackers: no rows yet. */
    benchCycle(benchFastConvert, recs, fastTracker, now_us, &rows, &conv);
    if (rows != 0 || vsRateTrackerSize(fastTracker) != BENCH_DOMAINS) {
        fprintf(stderr, "vsbenchcycle: priming went wrong\n");
        return EXIT_FAILURE;
    }
    rssTracked = benchPeakRssMiB();
    /* after the measurement: the generic route's hash tables are large */
    benchCheckSame(recs);
    benchCycle(benchGenericConvert, recs, slowTracker, now_us, &rows, &conv);

    for (i = 0; i < BENCH_CYCLES; i++) {
        now_us += BENCH_INTERVAL_US;
        benchAdvance(recs, BENCH_DOMAINS);
        /* alternate the order so neither route always runs on a warm cache */
        if (i % 2 == 0) {
            fastMs[i] = benchCycle(benchFastConvert, recs, fastTracker, now_us,
                                   &rows, &fastConvMs[i]);
            slowMs[i] = benchCycle(benchGenericConvert, recs, slowTracker, now_us,
                                   &rows, &slowConvMs[i]);
        } else {
            slowMs[i] = benchCycle(benchGenericConvert, recs, slowTracker, now_us,
                                   &rows, &slowConvMs[i]);
            fastMs[i] = benchCycle(benchFastConvert, recs, fastTracker, now_us,
                                   &rows, &fastConvMs[i]);
        }
        if (rows != BENCH_DOMAINS) {
            fprintf(stderr, "vsbenchcycle: cycle %u made %u rows\n", i + 2, rows);
            return EXIT_FAILURE;
        }
    }

    fast = benchMedian(fastMs, BENCH_CYCLES);
    slow = benchMedian(slowMs, BENCH_CYCLES);
    fastConv = benchMedian(fastConvMs, BENCH_CYCLES);
    slowConv = benchMedian(slowConvMs, BENCH_CYCLES);

    printf("cycle: %u domains, %.2f ms CPU per cycle (median of %u), target < %.0f ms%s\n",
           BENCH_DOMAINS, fast, BENCH_CYCLES, BENCH_TARGET_MS,
           fast < BENCH_TARGET_MS ? "" : "  ** MISSED **");
    printf("  input: %.1f typed params per domain (synthesized, libvirt time excluded)\n",
           (double)nparams / BENCH_DOMAINS);
    printf("  of which params -> counters: %.2f ms; rates + batch rows: %.2f ms\n",
           fastConv, fast - fastConv);
    printf("baseline (generic: params -> GHashTable of GVariant -> lookups): "
           "%.2f ms per cycle, of which conversion %.2f ms\n", slow, slowConv);
    printf("ratio: whole cycle %.1fx faster, conversion alone %.1fx faster\n",
           slow / fast, slowConv / fastConv);
    printf("peak RSS of this bench process (ru_maxrss), not virt-shadowd's: "
           "%.1f MiB at start, %.1f MiB with the synthetic input, "
           "%.1f MiB after priming the tracker with %u domains "
           "(tracker + one cycle's arrays: ~%.1f MiB)\n",
           rssStart, rssRecords, rssTracked, BENCH_DOMAINS, rssTracked - rssRecords);

    for (i = 0; i < BENCH_DOMAINS; i++) {
        virTypedParamsFree(recs[i].params, recs[i].nparams);
        g_free(recs[i].name);
    }
    g_free(recs);
    return EXIT_SUCCESS;
}
