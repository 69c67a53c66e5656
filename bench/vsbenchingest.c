/*
 * vsbenchingest.c: sample ingest rate of the PostgreSQL store
 *
 * Starts a throwaway server (tests/vstestpg.c), migrates, and measures in
 * one run: writeSamples (binary COPY, 5,000 samples a batch) against
 * row-by-row INSERT of the same data (one transaction a batch).  Then, for
 * scale: COPY from two writers at once (one backend is one core: several
 * hosts' daemons use more), and COPY with a per-domain btree on the day
 * being written (what migration 0003 removed) to show what that index
 * costs, and what it buys a per-domain query of the live day.  Each is
 * the median of BENCH_ROUNDS rounds on emptied tables: the machine may be
 * busy with other work.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "vstestutils.h"
#include "postgres/vspg.h"
#include "store/vsstore.h"
#include "telemetry/vssample.h"
#include "util/vserror.h"

#define BENCH_DOMAINS 1000
#define BENCH_BATCH 5000
#define BENCH_COPY_SAMPLES 200000
#define BENCH_INSERT_SAMPLES 20000
#define BENCH_ROUNDS 3
#define BENCH_TARGET 200000

static void
die(const char *what, const GError *error)
{
    fprintf(stderr, "vsbenchingest: %s: %s\n", what, error ? error->message : "failed");
    exit(EXIT_FAILURE);
}

/* Scattered like real UUIDs: libvirt lists domains in no key order. */
static void
benchUuid(char *uuid, guint dom)
{
    g_snprintf(uuid, VS_UUID_STRLEN, "%08x-0000-4000-8000-%012u", dom * 2654435761u, dom);
}

/* @n samples, @domains at a time every 10 s from @start_us, like a sampler. */
static GPtrArray *
makeBatches(gint64 start_us, guint n)
{
    GPtrArray *batches = g_ptr_array_new_with_free_func((GDestroyNotify)vsSampleBatchFree);
    vsSampleBatch *b = NULL;
    guint i;

    for (i = 0; i < n; i++) {
        guint dom = i % BENCH_DOMAINS;
        vsSample x;

        if (!b || b->samples->len == BENCH_BATCH) {
            b = vsSampleBatchNew(0);
            g_ptr_array_add(batches, b);
        }
        vsSampleInit(&x);
        x.time_us = start_us + (gint64)(i / BENCH_DOMAINS) * 10 * G_USEC_PER_SEC;
        benchUuid(x.uuid, dom);
        x.name = g_strdup_printf("vm-%04u", dom);
        x.interval_s = 10;
        x.cpu_vcpus = (i % 400) / 100.0;
        x.cpu_per_vcpu = x.cpu_vcpus / 4;
        x.vcpus = 4;
        x.vcpus_max = 8;
        x.mem_used_kib = 2000000 + i % 100000;
        x.mem_current_kib = 4194304;
        x.mem_max_kib = 8388608;
        x.disk_rd_bps = i * 13.0;
        x.disk_wr_bps = i * 7.0;
        x.disk_rd_iops = i % 1000;
        x.disk_wr_iops = i % 500;
        x.net_rx_bps = i * 3.0;
        x.net_tx_bps = i * 5.0;
        x.labels = dom % 2 ? g_strdup("{\"app\": \"web\", \"team\": \"core\"}") : NULL;
        g_array_append_val(b->samples, x);
    }
    return batches;
}

static double
benchCopy(vsStore *store, GPtrArray *batches, guint n)
{
    gint64 t0 = g_get_monotonic_time();
    guint i;

    for (i = 0; i < batches->len; i++) {
        g_autoptr(GError) error = NULL;

        if (!vsStoreWriteSamples(store, "bench", g_ptr_array_index(batches, i), &error))
            die("COPY", error);
    }
    return n / ((g_get_monotonic_time() - t0) / 1e6);
}

typedef struct {
    vsStore *store;
    GPtrArray *batches;
    guint first;
} benchWriter;

/* Every other batch from @first on. */
static gpointer
benchWriterRun(gpointer opaque)
{
    benchWriter *w = opaque;
    guint i;

    for (i = w->first; i < w->batches->len; i += 2) {
        g_autoptr(GError) error = NULL;

        if (!vsStoreWriteSamples(w->store, "bench", g_ptr_array_index(w->batches, i), &error))
            die("COPY", error);
    }
    return NULL;
}

static double
benchCopyTwo(vsStore *a, vsStore *b, GPtrArray *batches, guint n)
{
    benchWriter wa = { a, batches, 0 };
    benchWriter wb = { b, batches, 1 };
    gint64 t0 = g_get_monotonic_time();
    GThread *thread = g_thread_new("writer", benchWriterRun, &wb);

    benchWriterRun(&wa);
    g_thread_join(thread);
    return n / ((g_get_monotonic_time() - t0) / 1e6);
}

static void
execOrDie(PGconn *conn, const char *sql)
{
    g_autoptr(vsPgResult) res = PQexec(conn, sql);

    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "vsbenchingest: %s: %s", sql, PQerrorMessage(conn));
        exit(EXIT_FAILURE);
    }
}

static char *
fmtDouble(double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    return isnan(v) ? NULL : g_strdup(g_ascii_formatd(buf, sizeof(buf), "%.9g", v));
}

static char *
fmtInt(gint64 v)
{
    return v < 0 ? NULL : g_strdup_printf("%" G_GINT64_FORMAT, v);
}

/* The naive way: one parameterized INSERT per sample (the label sets exist:
 * COPY ran first). */
static double
benchInsert(PGconn *conn, GPtrArray *batches, guint n)
{
    const char *sql =
        "INSERT INTO samples (at, domain_uuid, domain_name, host, interval_s, cpu_vcpus,"
        " cpu_per_vcpu, vcpus, vcpus_max, mem_used_kib, mem_used_is_rss, mem_current_kib,"
        " mem_max_kib, disk_rd_bps, disk_wr_bps, disk_rd_iops, disk_wr_iops, net_rx_bps,"
        " net_tx_bps, label_set) VALUES ('epoch'::timestamptz + $1::bigint * interval '1 us',"
        " $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,"
        " (SELECT id FROM sample_label_sets WHERE labels = $20::jsonb))";
    gint64 t0 = g_get_monotonic_time();
    guint i, j;

    for (i = 0; i < batches->len; i++) {
        vsSampleBatch *b = g_ptr_array_index(batches, i);

        execOrDie(conn, "BEGIN");
        for (j = 0; j < b->samples->len; j++) {
            vsSample *x = &g_array_index(b->samples, vsSample, j);
            char *v[20] = {
                fmtInt(x->time_us), g_strdup(x->uuid), g_strdup(x->name),
                g_strdup("bench"), fmtDouble(x->interval_s), fmtDouble(x->cpu_vcpus),
                fmtDouble(x->cpu_per_vcpu), fmtInt(x->vcpus), fmtInt(x->vcpus_max),
                fmtInt(x->mem_used_kib), g_strdup(x->mem_used_is_rss ? "t" : "f"),
                fmtInt(x->mem_current_kib), fmtInt(x->mem_max_kib),
                fmtDouble(x->disk_rd_bps), fmtDouble(x->disk_wr_bps),
                fmtDouble(x->disk_rd_iops), fmtDouble(x->disk_wr_iops),
                fmtDouble(x->net_rx_bps), fmtDouble(x->net_tx_bps), g_strdup(x->labels),
            };
            g_autoptr(vsPgResult) res = PQexecParams(conn, sql, 20, NULL,
                                                     (const char *const *)v,
                                                     NULL, NULL, 0);
            guint k;

            for (k = 0; k < G_N_ELEMENTS(v); k++)
                g_free(v[k]);
            if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                fprintf(stderr, "vsbenchingest: INSERT: %s", PQerrorMessage(conn));
                exit(EXIT_FAILURE);
            }
        }
        execOrDie(conn, "COMMIT");
    }
    return n / ((g_get_monotonic_time() - t0) / 1e6);
}

/* A fresh migrated database with today's partitions. */
static vsStore *
openDatabase(vsTestPg *pg, const char *name, char **ret_conninfo)
{
    g_autofree char *db = vsTestPgCreateDatabase(pg, name);
    vsStoreTarget target = { .url = db };
    g_autoptr(GError) error = NULL;
    vsStore *store;

    if (!(store = vsStoreOpen(&target, FALSE, &error)))
        die("open", error);
    if (!vsStoreMigrate(store, NULL, &error))
        die("migrate", error);
    if (!vsStoreMaintainSamples(store, g_get_real_time(), 2, 0, 0, &error))
        die("maintain", error);
    *ret_conninfo = g_steal_pointer(&db);
    return store;
}

static int
benchCompareDouble(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

static double
benchMedian(double *v, guint n)
{
    qsort(v, n, sizeof(*v), benchCompareDouble);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Milliseconds to read one domain's samples of the live day (median of 5). */
static double
benchQuery(vsStore *store, gint64 start)
{
    double ms[5];
    char uuid[VS_UUID_STRLEN];
    guint i;

    benchUuid(uuid, 7);
    for (i = 0; i < G_N_ELEMENTS(ms); i++) {
        g_autoptr(GError) error = NULL;
        gint64 t0 = g_get_monotonic_time();
        g_autoptr(GArray) rows = vsStoreQuerySamples(store, uuid, start, G_MAXINT64, &error);

        if (!rows || rows->len != BENCH_COPY_SAMPLES / BENCH_DOMAINS)
            die("query", error);
        ms[i] = (g_get_monotonic_time() - t0) / 1e3;
    }
    return benchMedian(ms, G_N_ELEMENTS(ms));
}

int
main(void)
{
    vsTestPg *pg;
    g_autofree char *db = NULL;
    g_autofree char *db2 = NULL;
    g_autoptr(vsStore) store = NULL;
    g_autoptr(vsStore) store2 = NULL;
    g_autoptr(vsStore) second = NULL;
    g_autoptr(vsPgConn) conn = NULL;
    g_autoptr(vsPgConn) conn2 = NULL;
    g_autoptr(GPtrArray) copyData = NULL;
    g_autoptr(GPtrArray) insertData = NULL;
    /* an hour back: every sample falls into yesterday's or today's partition */
    gint64 start = g_get_real_time() - G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC;
    vsStoreTarget target = { 0 };
    g_autoptr(GError) error = NULL;
    double copyRates[BENCH_ROUNDS], insertRates[BENCH_ROUNDS];
    double twoRates[BENCH_ROUNDS], btreeRates[BENCH_ROUNDS];
    double copyRate, insertRate, twoRate, btreeRate, brinQuery, btreeQuery;
    guint i;

    vsStoreRegisterDriver(&vsPgStoreDriver);
    pg = vsTestPgStart();
    store = openDatabase(pg, "bench", &db);
    store2 = openDatabase(pg, "bench_btree", &db2);
    target.url = db;
    if (!(second = vsStoreOpen(&target, FALSE, &error)))
        die("open", error);
    conn = PQconnectdb(db);
    conn2 = PQconnectdb(db2);
    if (PQstatus(conn) != CONNECTION_OK || PQstatus(conn2) != CONNECTION_OK)
        die("connect", NULL);
    execOrDie(conn2, "CREATE INDEX samples_domain_uuid_idx ON samples (domain_uuid)");

    copyData = makeBatches(start, BENCH_COPY_SAMPLES);
    insertData = makeBatches(start, BENCH_INSERT_SAMPLES);

    for (i = 0; i < BENCH_ROUNDS; i++) {
        /* Empty tables (the batch ids too: the same batches are written
         * again) and no dirty buffers from the phase before. */
        execOrDie(conn, "TRUNCATE samples, sample_batches");
        execOrDie(conn, "CHECKPOINT");
        copyRates[i] = benchCopy(store, copyData, BENCH_COPY_SAMPLES);
        execOrDie(conn, "CHECKPOINT");
        insertRates[i] = benchInsert(conn, insertData, BENCH_INSERT_SAMPLES);

        execOrDie(conn, "TRUNCATE samples, sample_batches");
        execOrDie(conn, "CHECKPOINT");
        twoRates[i] = benchCopyTwo(store, second, copyData, BENCH_COPY_SAMPLES);

        execOrDie(conn2, "TRUNCATE samples, sample_batches");
        execOrDie(conn2, "CHECKPOINT");
        btreeRates[i] = benchCopy(store2, copyData, BENCH_COPY_SAMPLES);
    }
    copyRate = benchMedian(copyRates, BENCH_ROUNDS);
    insertRate = benchMedian(insertRates, BENCH_ROUNDS);
    twoRate = benchMedian(twoRates, BENCH_ROUNDS);
    btreeRate = benchMedian(btreeRates, BENCH_ROUNDS);
    brinQuery = benchQuery(store, start);
    btreeQuery = benchQuery(store2, start);

    printf("ingest: COPY %.0f samples/s, INSERT %.0f samples/s, ratio %.1fx"
           " (target >= %d samples/s: %s)\n",
           copyRate, insertRate, copyRate / insertRate, BENCH_TARGET,
           copyRate >= BENCH_TARGET ? "met" : "NOT met");
    printf("  COPY from 2 writers at once: %.0f samples/s (target: %s)\n",
           twoRate, twoRate >= BENCH_TARGET ? "met" : "NOT met");
    printf("  COPY with a domain_uuid btree on the live day: %.0f samples/s (%+.0f%%)\n",
           btreeRate, (btreeRate / copyRate - 1) * 100);
    printf("  one domain's live-day samples (%u rows): %.1f ms by BRIN, %.1f ms by btree\n",
           BENCH_COPY_SAMPLES / BENCH_DOMAINS, brinQuery, btreeQuery);
    printf("  medians of %d rounds; %d samples a batch, %d domains\n",
           BENCH_ROUNDS, BENCH_BATCH, BENCH_DOMAINS);

    g_clear_pointer(&store, vsStoreFree);
    g_clear_pointer(&store2, vsStoreFree);
    g_clear_pointer(&second, vsStoreFree);
    g_clear_pointer(&conn, PQfinish);
    g_clear_pointer(&conn2, PQfinish);
    vsTestPgStop(pg);
    return EXIT_SUCCESS;
}
