/*
 * vspgsamplestest.c: samples, rollups and labels in the PostgreSQL store
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vstestutils.h"
#include "postgres/vspg.h"
#include "store/vsstore.h"
#include "telemetry/vssample.h"
#include "util/vserror.h"

#define UUID_A "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define UUID_B "0b5c3f9e-7d1a-4f3b-9e8c-2a6d4b1c0e7f"
/* 2024-03-10 00:00:00 UTC */
#define DAY0_US (G_GINT64_CONSTANT(1710028800) * G_USEC_PER_SEC)
#define MIN_US (G_GINT64_CONSTANT(60) * G_USEC_PER_SEC)
#define HOUR_US (60 * MIN_US)
#define DAY_US (24 * HOUR_US)
#define DAY_MS (G_GUINT64_CONSTANT(86400000))

static vsTestPg *pg;

static void
pgSetup(void)
{
    pg = vsTestPgStart();
}

static void
pgTeardown(void)
{
    vsTestPgStop(pg);
    pg = NULL;
}

static vsSample *
addSample(vsSampleBatch *b, gint64 time_us, const char *uuid, const char *name)
{
    vsSample x;

    vsSampleInit(&x);
    x.time_us = time_us;
    g_strlcpy(x.uuid, uuid, sizeof(x.uuid));
    x.name = g_strdup(name);
    g_array_append_val(b->samples, x);
    return &g_array_index(b->samples, vsSample, b->samples->len - 1);
}

static void
writeBatch(vsStore *store, const vsSampleBatch *b)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vsStoreWriteSamples(store, "h1", b, &error), "write: %s",
                  error ? error->message : "");
}

static void
maintain(vsStore *store, gint64 now_us, guint64 raw_ms, guint64 rollup_ms)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vsStoreMaintainSamples(store, now_us, 2, raw_ms, rollup_ms, &error),
                  "maintain: %s", error ? error->message : "");
}

/* Stored as real (float4): compare at that precision; NaN equals NaN. */
static void
assertReal(double got, double expect, const char *what)
{
    if (isnan(expect)) {
        ck_assert_msg(isnan(got), "%s: got %g, expected unknown", what, got);
        return;
    }
    ck_assert_msg((float)got == (float)expect, "%s: got %.9g, expected %.9g",
                  what, got, expect);
}

static void
assertSampleEqual(const vsSample *got, const vsSample *expect)
{
    ck_assert_int_eq(got->time_us, expect->time_us);
    ck_assert_str_eq(got->uuid, expect->uuid);
    ck_assert_str_eq(got->name, expect->name);
    assertReal(got->interval_s, expect->interval_s, "interval_s");
    assertReal(got->cpu_vcpus, expect->cpu_vcpus, "cpu_vcpus");
    assertReal(got->cpu_per_vcpu, expect->cpu_per_vcpu, "cpu_per_vcpu");
    ck_assert_int_eq(got->vcpus, expect->vcpus);
    ck_assert_int_eq(got->vcpus_max, expect->vcpus_max);
    ck_assert_int_eq(got->mem_used_kib, expect->mem_used_kib);
    ck_assert_int_eq(got->mem_used_is_rss, expect->mem_used_is_rss);
    ck_assert_int_eq(got->mem_current_kib, expect->mem_current_kib);
    ck_assert_int_eq(got->mem_max_kib, expect->mem_max_kib);
    assertReal(got->disk_rd_bps, expect->disk_rd_bps, "disk_rd_bps");
    assertReal(got->disk_wr_bps, expect->disk_wr_bps, "disk_wr_bps");
    assertReal(got->disk_rd_iops, expect->disk_rd_iops, "disk_rd_iops");
    assertReal(got->disk_wr_iops, expect->disk_wr_iops, "disk_wr_iops");
    assertReal(got->net_rx_bps, expect->net_rx_bps, "net_rx_bps");
    assertReal(got->net_tx_bps, expect->net_tx_bps, "net_tx_bps");
    ck_assert_msg(g_strcmp0(got->labels, expect->labels) == 0, "labels '%s', expected '%s'",
                  got->labels, expect->labels);
}

/* Labels in jsonb's own output form, so they round-trip byte for byte. */
#define TRICKY_LABELS "{\"app\": \"we\\\"b\\\\x\\ny\\tz\", \"team\": \"\xc3\xbc\xe2\x82\xac\xf0\x9f\x90\xa7\"}"
#define TRICKY_NAME "vm \"q\" \\back\nnew\ttab \xc3\xbc"

START_TEST(test_roundtrip)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "roundtrip");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsSampleBatch) b = vsSampleBatchNew(0);
    g_autoptr(GArray) got = NULL;
    g_autoptr(GError) error = NULL;
    vsSample *full;
    vsSample *tricky;
    guint i;

    /* pointers only after the last append: the array may move */
    addSample(b, DAY0_US + 10 * G_USEC_PER_SEC + 123456, UUID_A, "vm1");
    addSample(b, DAY0_US + 20 * G_USEC_PER_SEC, UUID_A, "vm1");     /* all unknown */
    addSample(b, DAY0_US + 30 * G_USEC_PER_SEC, UUID_B, TRICKY_NAME);
    full = &g_array_index(b->samples, vsSample, 0);
    tricky = &g_array_index(b->samples, vsSample, 2);
    full->interval_s = 10.0;
    full->cpu_vcpus = 1.75;
    full->cpu_per_vcpu = 0.4375;
    full->vcpus = 4;
    full->vcpus_max = 8;
    full->mem_used_kib = G_GINT64_CONSTANT(3) << 32;
    full->mem_used_is_rss = TRUE;
    full->mem_current_kib = 4194304;
    full->mem_max_kib = 8388608;
    full->disk_rd_bps = 1.5e6;
    full->disk_wr_bps = 0.1;
    full->disk_rd_iops = 123.25;
    full->disk_wr_iops = 0;
    full->net_rx_bps = 9.87654321e9;
    full->net_tx_bps = 1e-3;
    full->labels = g_strdup("{\"app\": \"db\"}");
    tricky->labels = g_strdup(TRICKY_LABELS);
    tricky->cpu_vcpus = 0.5;
    tricky->mem_used_kib = 1024;    /* is_rss FALSE with a value */
    writeBatch(store, b);

    /* by UUID (upper case too), half-open range */
    got = vsStoreQuerySamples(store, UUID_A, DAY0_US, DAY0_US + 20 * G_USEC_PER_SEC, &error);
    ck_assert_msg(got != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(got->len, 1);
    assertSampleEqual(&g_array_index(got, vsSample, 0), full);
    g_clear_pointer(&got, g_array_unref);

    got = vsStoreQuerySamples(store, "C7A5FDBD-CDAF-9455-926A-D65C16DB1809",
                              DAY0_US, DAY0_US + DAY_US, &error);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(got->len, 2);
    for (i = 0; i < got->len; i++)
        assertSampleEqual(&g_array_index(got, vsSample, i),
                          &g_array_index(b->samples, vsSample, i));
    g_clear_pointer(&got, g_array_unref);

    /* by name, with every character COPY must escape */
    got = vsStoreQuerySamples(store, TRICKY_NAME, DAY0_US, DAY0_US + DAY_US, &error);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(got->len, 1);
    assertSampleEqual(&g_array_index(got, vsSample, 0), tricky);
    g_clear_pointer(&got, g_array_unref);
    vsTestPgAssertQuery(db, "SELECT l.labels->>'app' FROM samples s"
                    " JOIN sample_label_sets l ON l.id = s.label_set"
                    " WHERE domain_uuid = '" UUID_B "'",
                "we\"b\\x\ny\tz");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples WHERE host = 'h1'", "3");
    vsTestPgAssertQuery(db, "SELECT (mem_used_is_rss IS NULL)::text FROM samples"
                    " WHERE domain_uuid = '" UUID_A "' AND cpu_vcpus IS NULL", "true");

    got = vsStoreQuerySamples(store, "nosuchvm", DAY0_US, DAY0_US + DAY_US, &error);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(got->len, 0);
}
END_TEST

/* A label set is stored once, however it is spelt and whichever
 * connection meets it first. */
START_TEST(test_label_sets_shared)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "labelsets");
    g_autoptr(vsStore) first = vsTestStoreOpenMigrated(db);
    g_autoptr(vsStore) second = vsTestStoreOpenMigrated(db);
    g_autoptr(vsSampleBatch) a = vsSampleBatchNew(0);
    g_autoptr(vsSampleBatch) b = vsSampleBatchNew(0);

    addSample(a, DAY0_US, UUID_A, "vm1")->labels = g_strdup("{\"app\": \"db\", \"n\": \"1\"}");
    addSample(a, DAY0_US, UUID_B, "vm2")->labels = g_strdup("{\"app\": \"db\", \"n\": \"1\"}");
    writeBatch(first, a);
    addSample(b, DAY0_US + HOUR_US, UUID_A, "vm1")->labels = g_strdup("{\"n\":\"1\",\"app\":\"db\"}");
    addSample(b, DAY0_US + HOUR_US, UUID_B, "vm2")->labels = g_strdup("{\"app\": \"web\"}");
    writeBatch(second, b);

    vsTestPgAssertQuery(db, "SELECT count(*) FROM sample_label_sets", "2");
    vsTestPgAssertQuery(db, "SELECT string_agg(l.labels->>'app', ' ' ORDER BY s.at, s.domain_name)"
                    " FROM samples s JOIN sample_label_sets l ON l.id = s.label_set",
                "db db db web");
}
END_TEST

START_TEST(test_replay_and_failure)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "replay");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsSampleBatch) b = vsSampleBatchNew(0);
    g_autoptr(vsSampleBatch) bad = vsSampleBatchNew(0);
    g_autoptr(vsSampleBatch) empty = vsSampleBatchNew(0);
    g_autoptr(GError) error = NULL;
    int i;

    for (i = 0; i < 100; i++)
        addSample(b, DAY0_US + i * 10 * G_USEC_PER_SEC, UUID_A, "vm1")->cpu_vcpus = i;
    /* the top bit set: stored as a negative bigint */
    b->id = G_GUINT64_CONSTANT(0xfedcba9876543210);
    writeBatch(store, b);
    writeBatch(store, b);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples", "100");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM sample_batches", "1");

    /* A failed batch leaves nothing behind, not even its id. */
    addSample(bad, DAY0_US, UUID_B, "vm2");
    addSample(bad, DAY0_US, "not-a-uuid", "vm3");
    ck_assert(!vsStoreWriteSamples(store, "h1", bad, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_FAILED));
    ck_assert_msg(!strchr(error->message, '\n'), "%s", error->message);
    ck_assert_msg(g_str_has_prefix(error->message, "cannot store sample batch '"), "%s",
                  error->message);
    g_clear_error(&error);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples", "100");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM sample_batches", "1");
    /* the connection is usable afterwards */
    g_array_remove_index(bad->samples, 1);
    writeBatch(store, bad);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples", "101");

    writeBatch(store, empty);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM sample_batches", "3");

    empty->rollup_s = 60;
    ck_assert(!vsStoreWriteSamples(store, "h1", empty, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
}
END_TEST

/* Values the binary COPY encodes itself: every UUID spelling the server
 * accepts, times around both epochs, numbers beyond their column. */
START_TEST(test_binary_edges)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "edges");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsSampleBatch) b = vsSampleBatchNew(0);
    g_autoptr(vsSampleBatch) b5 = vsSampleBatchNew(300);
    g_autoptr(GArray) got = NULL;
    g_autoptr(GError) error = NULL;
    /* 1999-12-31 23:59:59.999999 and 1969-12-31 23:59:59.5 UTC */
    gint64 before2000 = G_GINT64_CONSTANT(946684799999999);
    gint64 before1970 = -G_USEC_PER_SEC / 2;
    vsSample *x;

    x = addSample(b, before2000, "{C7A5FDBDCDAF9455926AD65C16DB1809}", "vm1");
    x->cpu_vcpus = 1e39;                /* beyond real: unknown */
    x->disk_rd_bps = INFINITY;
    x->disk_wr_bps = 1e-50;             /* below real: zero */
    x->vcpus = G_MAXINT16;
    x->vcpus_max = G_MAXINT16 + 1;      /* beyond smallint: unknown */
    x->mem_used_kib = 0;
    x->mem_max_kib = G_MAXINT64;
    x = addSample(b, before1970, "c7a5fdbdcdaf9455926ad65c16db1809", "bad \xff name");
    x->net_rx_bps = -2.5;
    x->labels = g_strdup("{}");
    x = addSample(b, DAY0_US, "c7a5fdbd-cdaf9455-926Ad65c-16db1809", "vm1");
    writeBatch(store, b);

    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples WHERE domain_uuid = '" UUID_A "'", "3");
    vsTestPgAssertQuery(db, "SELECT string_agg((extract(epoch FROM at) * 1000000)::bigint::text, ' '"
                    " ORDER BY at) FROM samples", "-500000 946684799999999 1710028800000000");
    vsTestPgAssertQuery(db, "SELECT concat_ws(' ', cpu_vcpus IS NULL, disk_rd_bps IS NULL, disk_wr_bps,"
                    " vcpus, vcpus_max IS NULL, mem_used_kib, mem_used_is_rss, mem_max_kib,"
                    " label_set IS NULL) FROM samples WHERE at < '2000-01-01' AND at > '1990-01-01'",
                    "t t 0 32767 t 0 f 9223372036854775807 t");
    /* the invalid byte replaced, not the batch refused */
    vsTestPgAssertQuery(db, "SELECT concat_ws(' ', domain_name, net_rx_bps,"
                    " (SELECT labels::text FROM sample_label_sets WHERE id = label_set),"
                    " mem_used_is_rss IS NULL) FROM samples WHERE at < '1970-01-01'",
                "bad \xef\xbf\xbd name -2.5 {} t");

    got = vsStoreQuerySamples(store, UUID_A, before1970, before1970 + 1, &error);
    ck_assert_msg(got != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(got->len, 1);
    ck_assert_int_eq(g_array_index(got, vsSample, 0).time_us, before1970);

    /* a rollup batch takes the same encoders */
    x = addSample(b5, DAY0_US + 5 * MIN_US, "0B5C3F9E-7D1A-4F3B-9E8C-2A6D4B1C0E7F", "vm2");
    x->cpu_vcpus = NAN;
    x->mem_used_kib = 7;
    writeBatch(store, b5);
    vsTestPgAssertQuery(db, "SELECT concat_ws(' ', domain_uuid, n, cpu_avg IS NULL, mem_used_max)"
                    " FROM samples_5m", UUID_B " 1 t 7");

    /* braces must pair, hyphens sit between groups of four digits */
    g_clear_pointer(&b, vsSampleBatchFree);
    b = vsSampleBatchNew(0);
    addSample(b, DAY0_US, "{c7a5fdbdcdaf9455926ad65c16db1809", "vm1");
    ck_assert(!vsStoreWriteSamples(store, "h1", b, &error));
    ck_assert_msg(g_error_matches(error, VS_ERROR, VS_ERROR_FAILED), "%s", error->message);
    ck_assert_msg(strstr(error->message, "invalid domain UUID"), "%s", error->message);
    g_clear_error(&error);
    g_strlcpy(g_array_index(b->samples, vsSample, 0).uuid, "c7a-5fdbdcdaf9455926ad65c16db1809",
              VS_UUID_STRLEN);
    ck_assert(!vsStoreWriteSamples(store, "h1", b, &error));
    g_clear_error(&error);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples", "3");
}
END_TEST

START_TEST(test_rollup_batch)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "rollupbatch");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsSampleBatch) b = vsSampleBatchNew(300);
    g_autoptr(vsSampleBatch) b2 = vsSampleBatchNew(300);
    vsSample *x;

    /* time is the bucket's end: bucket 10:00 */
    x = addSample(b, DAY0_US + 10 * HOUR_US + 5 * MIN_US, UUID_A, "vm1");
    x->cpu_vcpus = 2;
    x->mem_used_kib = 1000;
    x->mem_current_kib = 2000;
    x->net_rx_bps = 10;
    x = addSample(b, DAY0_US + 10 * HOUR_US + 10 * MIN_US, UUID_A, "vm1");
    x->cpu_vcpus = 3;
    writeBatch(store, b);
    writeBatch(store, b);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples", "0");
    vsTestPgAssertQuery(db, "SELECT string_agg(to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI') || ' ' || n"
                    " || ' ' || cpu_avg || ' ' || cpu_max || ' ' || cpu_p95 || ' ' ||"
                    " coalesce(mem_used_avg::text, '-') || ' ' || coalesce(mem_current_avg::text, '-')"
                    " || ' ' || coalesce(net_rx_bps_avg::text, '-'), ', ' ORDER BY bucket)"
                    " FROM samples_5m",
                "10:00 1 2 2 2 1000 2000 10, 10:05 1 3 3 3 - - -");

    /* Another batch for the same bucket (twice in itself) merges, weighted
     * by n: (1000 + 2 * 4000) / 3. */
    x = addSample(b2, DAY0_US + 10 * HOUR_US + 5 * MIN_US, UUID_A, "vm1");
    x->cpu_vcpus = 5;
    x->mem_used_kib = 4000;
    x = addSample(b2, DAY0_US + 10 * HOUR_US + 5 * MIN_US, UUID_A, "vm1");
    x->cpu_vcpus = 8;
    x->mem_used_kib = 4000;
    writeBatch(store, b2);
    vsTestPgAssertQuery(db, "SELECT n || ' ' || cpu_avg || ' ' || cpu_max || ' ' || mem_used_avg"
                    " || ' ' || mem_used_max FROM samples_5m"
                    " WHERE bucket = '2024-03-10 10:00:00+00'",
                "3 5 8 3000 4000");
}
END_TEST

START_TEST(test_maintain_partitions)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "partitions");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsSampleBatch) b = vsSampleBatchNew(0);
    gint64 now = DAY0_US + 12 * HOUR_US;

    /* Before any partition exists: everything lands in the default one. */
    addSample(b, DAY0_US + HOUR_US, UUID_A, "vm1");
    addSample(b, DAY0_US + 2 * HOUR_US, UUID_A, "vm1");
    addSample(b, DAY0_US - 30 * DAY_US, UUID_A, "vm1");     /* too old */
    addSample(b, DAY0_US + 10 * DAY_US, UUID_A, "vm1");     /* far ahead */
    writeBatch(store, b);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples_default", "4");

    maintain(store, now, 7 * DAY_MS, 30 * DAY_MS);
    vsTestPgAssertQuery(db, "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_inherits i"
                    " JOIN pg_class c ON c.oid = i.inhrelid"
                    " WHERE i.inhparent = 'samples'::regclass",
                "samples_20240309 samples_20240310 samples_20240311 samples_20240312"
                " samples_default");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples_20240310", "2");
    /* the old row fell to the retention; the future one waits */
    vsTestPgAssertQuery(db, "SELECT string_agg(at::date::text, ' ') FROM samples_default", "2024-03-20");
    /* the live day has only the BRIN; a day that is over also gets its
     * per-domain btree */
    vsTestPgAssertQuery(db, "SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes"
                    " WHERE tablename = 'samples_20240310'", "samples_20240310_at_idx");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM pg_indexes"
                    " WHERE indexname = 'samples_20240309_domain_at_idx'", "1");

    /* idempotent */
    maintain(store, now, 7 * DAY_MS, 30 * DAY_MS);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'samples'::regclass", "5");

    /* Ten days on: the 20th moves out of the default partition, days
     * older than a week are dropped. */
    maintain(store, now + 10 * DAY_US, 7 * DAY_MS, 30 * DAY_MS);
    vsTestPgAssertQuery(db, "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_inherits i"
                    " JOIN pg_class c ON c.oid = i.inhrelid"
                    " WHERE i.inhparent = 'samples'::regclass",
                "samples_20240319 samples_20240320 samples_20240321 samples_20240322"
                " samples_default");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples_20240320", "1");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples_default", "0");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples", "1");
}
END_TEST

static void
addLoad(vsSampleBatch *b, gint64 time_us, double cpu, gint64 mem)
{
    vsSample *x = addSample(b, time_us, UUID_A, "vm1");

    x->cpu_vcpus = cpu;
    x->mem_used_kib = mem;
    x->mem_current_kib = 100000;
    x->disk_rd_bps = cpu * 10;
}

#define ROLLUP_5M_ROWS \
    "SELECT string_agg(to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI') || ' ' || n || ' '" \
    " || cpu_avg || ' ' || cpu_max || ' ' || cpu_p95 || ' ' || mem_used_avg || ' '" \
    " || mem_used_max || ' ' || mem_used_p95 || ' ' || mem_current_avg || ' '" \
    " || disk_rd_bps_avg, ', ' ORDER BY bucket) FROM samples_5m"
#define ROLLUP_1H_ROWS \
    "SELECT string_agg(to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI') || ' ' || n || ' '" \
    " || cpu_avg || ' ' || cpu_max || ' ' || cpu_p95 || ' ' || mem_used_avg || ' '" \
    " || mem_used_max || ' ' || mem_used_p95, ', ' ORDER BY bucket) FROM samples_1h"

START_TEST(test_maintain_rollups)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "rollups");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsSampleBatch) b = vsSampleBatchNew(0);
    g_autoptr(vsSampleBatch) late = vsSampleBatchNew(0);
    g_autoptr(vsSampleBatch) open = vsSampleBatchNew(0);
    g_autoptr(vsSampleBatch) r5 = vsSampleBatchNew(300);
    gint64 ten = DAY0_US + 10 * HOUR_US;
    gint64 now = DAY0_US + 12 * HOUR_US + 2 * MIN_US;
    int i;

    /* bucket 10:00: cpu 1..10, mem 1000..10000; bucket 10:05: cpu 20, 30 */
    for (i = 1; i <= 10; i++)
        addLoad(b, ten + i * 20 * G_USEC_PER_SEC, i, i * 1000);
    addLoad(b, ten + 5 * MIN_US, 20, 20000);
    addLoad(b, ten + 5 * MIN_US + 30 * G_USEC_PER_SEC, 30, 30000);
    /* the open bucket 12:00 */
    addLoad(open, DAY0_US + 12 * HOUR_US + MIN_US, 7, 7000);
    writeBatch(store, b);
    writeBatch(store, open);

    maintain(store, now, 7 * DAY_MS, 30 * DAY_MS);
    vsTestPgAssertQuery(db, ROLLUP_5M_ROWS,
                "10:00 10 5.5 10 9.55 5500 10000 9550 100000 55,"
                " 10:05 2 25 30 29.5 25000 30000 29500 100000 250");
    /* weighted by n: (55 + 50) / 12; p95 the largest 5-minute p95 */
    vsTestPgAssertQuery(db, ROLLUP_1H_ROWS, "10:00 12 8.75 30 29.5 8750 30000 29500");

    /* A late batch re-rolls its (old) bucket and hour. */
    addLoad(late, ten + 4 * MIN_US, 100, 100000);
    writeBatch(store, late);
    maintain(store, now, 7 * DAY_MS, 30 * DAY_MS);
    vsTestPgAssertQuery(db, "SELECT n || ' ' || cpu_max FROM samples_5m"
                    " WHERE bucket = '2024-03-10 10:00:00+00'", "11 100");
    vsTestPgAssertQuery(db, "SELECT n || ' ' || cpu_max FROM samples_1h", "13 100");

    /* A controller's own 5-minute batch changes its hour. */
    addLoad(r5, DAY0_US + 11 * HOUR_US + 5 * MIN_US, 4, 4000);
    writeBatch(store, r5);
    maintain(store, now, 7 * DAY_MS, 30 * DAY_MS);
    vsTestPgAssertQuery(db, "SELECT string_agg(to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI') || ' ' || n,"
                    " ', ' ORDER BY bucket) FROM samples_1h", "10:00 13, 11:00 1");

    /* The 12:00 bucket closes at 12:05; its hour is still open. */
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples_5m WHERE bucket >= '2024-03-10 12:00:00+00'", "0");
    maintain(store, now + 5 * MIN_US, 7 * DAY_MS, 30 * DAY_MS);
    vsTestPgAssertQuery(db, "SELECT n || ' ' || cpu_avg FROM samples_5m"
                    " WHERE bucket = '2024-03-10 12:00:00+00'", "1 7");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples_1h WHERE bucket >= '2024-03-10 12:00:00+00'", "0");
    maintain(store, now + HOUR_US, 7 * DAY_MS, 30 * DAY_MS);
    vsTestPgAssertQuery(db, "SELECT n FROM samples_1h WHERE bucket = '2024-03-10 12:00:00+00'", "1");

    /* Past every retention: nothing is left. */
    maintain(store, now + 60 * DAY_US, 7 * DAY_MS, 30 * DAY_MS);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples", "0");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples_5m", "0");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples_1h", "0");
}
END_TEST

START_TEST(test_labels)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "labels");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GHashTable) labels = NULL;
    g_autoptr(GError) error = NULL;
    const char *bad[] = {
        "{\"app\": ", "[\"a\"]", "{\"n\": 1}", "\"app\"", "", "{\"a\": \"b\"} x",
    };
    size_t i;

    labels = vsStoreGetDomainLabels(store, &error);
    ck_assert_ptr_nonnull(labels);
    ck_assert_uint_eq(g_hash_table_size(labels), 0);
    g_clear_pointer(&labels, g_hash_table_unref);

    ck_assert_msg(vsStoreSetDomainLabels(store, UUID_A, "vm1", "{\"app\":\"db\"}", &error),
                  "%s", error ? error->message : "");
    ck_assert(vsStoreSetDomainLabels(store, UUID_B, "vm2", TRICKY_LABELS, &error));
    ck_assert(vsStoreSetDomainLabels(store, UUID_A, "vm1", "{\"app\": \"web\", \"tier\": \"1\"}",
                                     &error));
    labels = vsStoreGetDomainLabels(store, &error);
    ck_assert_uint_eq(g_hash_table_size(labels), 2);
    ck_assert_str_eq(g_hash_table_lookup(labels, UUID_A), "{\"app\": \"web\", \"tier\": \"1\"}");
    ck_assert_str_eq(g_hash_table_lookup(labels, UUID_B), TRICKY_LABELS);
    g_clear_pointer(&labels, g_hash_table_unref);

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        ck_assert(!vsStoreSetDomainLabels(store, UUID_A, "vm1", bad[i], &error));
        ck_assert_msg(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID), "%s: %s",
                      bad[i], error->message);
        ck_assert_msg(g_str_has_prefix(error->message, "invalid labels for domain 'vm1': "),
                      "%s", error->message);
        ck_assert_msg(!strchr(error->message, '\n'), "%s", error->message);
        g_clear_error(&error);
    }

    ck_assert(vsStoreSetDomainLabels(store, UUID_B, "vm2", NULL, &error));
    ck_assert(vsStoreSetDomainLabels(store, UUID_B, "vm2", NULL, &error));
    labels = vsStoreGetDomainLabels(store, &error);
    ck_assert_uint_eq(g_hash_table_size(labels), 1);
    ck_assert_str_eq(g_hash_table_lookup(labels, UUID_A), "{\"app\": \"web\", \"tier\": \"1\"}");
}
END_TEST

START_TEST(test_write_outage)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "outage");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsSampleBatch) b = vsSampleBatchNew(0);
    g_autoptr(GError) error = NULL;
    int i;

    for (i = 0; i < 1000; i++)
        addSample(b, DAY0_US + i * G_USEC_PER_SEC, UUID_A, "vm1");
    vsTestPgKill(pg);
    ck_assert(!vsStoreWriteSamples(store, "h1", b, &error));
    ck_assert_msg(g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT), "%s", error->message);
    ck_assert_msg(!strchr(error->message, '\n'), "%s", error->message);
    g_clear_error(&error);
    /* still down: the reconnect fails the same way */
    ck_assert(!vsStoreWriteSamples(store, "h1", b, &error));
    ck_assert_msg(g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT), "%s", error->message);
    g_clear_error(&error);

    vsTestPgRestart(pg);
    writeBatch(store, b);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples", "1000");
}
END_TEST

static Suite *
pgSamplesSuite(void)
{
    Suite *s = suite_create("pgsamples");
    TCase *tc = tcase_create("server");
    TCase *outage = tcase_create("outage");

    tcase_add_unchecked_fixture(tc, pgSetup, pgTeardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_label_sets_shared);
    tcase_add_test(tc, test_replay_and_failure);
    tcase_add_test(tc, test_binary_edges);
    tcase_add_test(tc, test_rollup_batch);
    tcase_add_test(tc, test_maintain_partitions);
    tcase_add_test(tc, test_maintain_rollups);
    tcase_add_test(tc, test_labels);
    suite_add_tcase(s, tc);

    /* Its own server: the outage must not affect other tests. */
    tcase_add_unchecked_fixture(outage, pgSetup, pgTeardown);
    tcase_set_timeout(outage, 120);
    tcase_add_test(outage, test_write_outage);
    suite_add_tcase(s, outage);
    return s;
}

int
main(void)
{
    vsStoreRegisterDriver(&vsPgStoreDriver);
    return vsTestRunSuite(pgSamplesSuite());
}
