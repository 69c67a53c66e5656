/*
 * vsspooltest.c: tests for the on-disk sample spool
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "vstestutils.h"
#include "telemetry/vsspool.h"
#include "util/vserror.h"

#define MAGIC_LE "PSSV"     /* 0x56535350 as stored */
#define T0_US ((gint64) 1699999800 * G_USEC_PER_SEC)    /* a 5-minute boundary */


/* --- helpers ---------------------------------------------------------------- */

/* Bitwise CRC-32 (zlib's), independent of the spool's table. */
static guint32
testCrc32(const guint8 *data, gsize len)
{
    guint32 c = 0xFFFFFFFFu;

    for (gsize i = 0; i < len; i++) {
        c ^= data[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
    }
    return ~c;
}

static guint32
getU32(const guint8 *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (guint32) p[3] << 24;
}

static void
setU32(guint8 *p, guint32 v)
{
    for (int i = 0; i < 4; i++)
        p[i] = v >> (8 * i);
}

static double
doubleFromBits(guint64 bits)
{
    double v;

    memcpy(&v, &bits, sizeof(v));
    return v;
}

static void
fillSample(vsSample *smp, gint64 time_us, guint dom)
{
    vsSampleInit(smp);
    smp->time_us = time_us;
    g_snprintf(smp->uuid, sizeof(smp->uuid), "00000000-0000-4000-8000-%012x", dom);
    smp->name = g_strdup_printf("guest-%u", dom);
    smp->interval_s = 10;
    smp->cpu_vcpus = (dom + 1) * 0.5;
    smp->cpu_per_vcpu = 0.25;
    smp->vcpus = 2;
    smp->vcpus_max = 4;
    smp->mem_used_kib = 1024 * (dom + 1);
    smp->mem_current_kib = 4096;
    smp->mem_max_kib = 8192;
    smp->disk_rd_bps = 100.5;
    smp->disk_wr_bps = 200.25;
    smp->disk_rd_iops = 3;
    smp->disk_wr_iops = 4;
    smp->net_rx_bps = 5e6;
    smp->net_tx_bps = 6e-3;
    smp->labels = g_strdup("{\"tier\":\"web\"}");
}

/* @ndom domains sampled at @time_us. */
static vsSampleBatch *
makeBatch(guint ndom, gint64 time_us)
{
    vsSampleBatch *b = vsSampleBatchNew(0);

    g_array_set_size(b->samples, ndom);
    for (guint i = 0; i < ndom; i++)
        fillSample(&g_array_index(b->samples, vsSample, i), time_us, i);
    return b;
}

static vsSampleBatch *
copyBatch(const vsSampleBatch *b)
{
    vsSampleBatch *c = vsSampleBatchNew(b->rollup_s);

    c->id = b->id;
    g_array_set_size(c->samples, b->samples->len);
    for (guint i = 0; i < b->samples->len; i++)
        vsSampleCopy(&g_array_index(c->samples, vsSample, i),
                     &g_array_index(b->samples, vsSample, i));
    return c;
}

static GPtrArray *
newBatchList(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify) vsSampleBatchFree);
}

static void
assertSameDouble(double a, double b, const char *field)
{
    ck_assert_msg(memcmp(&a, &b, sizeof(a)) == 0, "%s: %g != %g", field, a, b);
}

static void
assertSampleEqual(const vsSample *a, const vsSample *b)
{
    ck_assert_int_eq(a->time_us, b->time_us);
    ck_assert_str_eq(a->uuid, b->uuid);
    ck_assert_pstr_eq(a->name, b->name);
    assertSameDouble(a->interval_s, b->interval_s, "interval_s");
    assertSameDouble(a->cpu_vcpus, b->cpu_vcpus, "cpu_vcpus");
    assertSameDouble(a->cpu_per_vcpu, b->cpu_per_vcpu, "cpu_per_vcpu");
    ck_assert_int_eq(a->vcpus, b->vcpus);
    ck_assert_int_eq(a->vcpus_max, b->vcpus_max);
    ck_assert_int_eq(a->mem_used_kib, b->mem_used_kib);
    ck_assert_int_eq(a->mem_used_is_rss, b->mem_used_is_rss);
    ck_assert_int_eq(a->mem_current_kib, b->mem_current_kib);
    ck_assert_int_eq(a->mem_max_kib, b->mem_max_kib);
    assertSameDouble(a->disk_rd_bps, b->disk_rd_bps, "disk_rd_bps");
    assertSameDouble(a->disk_wr_bps, b->disk_wr_bps, "disk_wr_bps");
    assertSameDouble(a->disk_rd_iops, b->disk_rd_iops, "disk_rd_iops");
    assertSameDouble(a->disk_wr_iops, b->disk_wr_iops, "disk_wr_iops");
    assertSameDouble(a->net_rx_bps, b->net_rx_bps, "net_rx_bps");
    assertSameDouble(a->net_tx_bps, b->net_tx_bps, "net_tx_bps");
    ck_assert_pstr_eq(a->labels, b->labels);
}

static void
assertBatchEqual(const vsSampleBatch *a, const vsSampleBatch *b)
{
    ck_assert_uint_eq(a->id, b->id);
    ck_assert_uint_eq(a->rollup_s, b->rollup_s);
    ck_assert_uint_eq(a->samples->len, b->samples->len);
    for (guint i = 0; i < a->samples->len; i++)
        assertSampleEqual(&g_array_index(a->samples, vsSample, i),
                          &g_array_index(b->samples, vsSample, i));
}

/* What a replay callback saw; refuses call number @fail_at (1-based). */
typedef struct {
    GPtrArray *batches;
    guint calls;
    guint fail_at;
} Collector;

static void
collectorInit(Collector *c, guint fail_at)
{
    c->batches = newBatchList();
    c->calls = 0;
    c->fail_at = fail_at;
}

static gboolean
collect(const vsSampleBatch *b, gpointer opaque, GError **error)
{
    Collector *c = opaque;

    if (++c->calls == c->fail_at) {
        g_set_error(error, VS_ERROR, VS_ERROR_CONNECT, "store down");
        return FALSE;
    }
    g_ptr_array_add(c->batches, copyBatch(b));
    return TRUE;
}

static vsSpool *
openOk(const char *dir, guint64 max_bytes)
{
    g_autoptr(GError) error = NULL;
    vsSpool *s = vsSpoolOpen(dir, max_bytes, &error);

    ck_assert_msg(s != NULL, "cannot open spool: %s", error ? error->message : "?");
    return s;
}

static void
appendOk(vsSpool *s, const vsSampleBatch *b)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vsSpoolAppend(s, b, &error), "append failed: %s",
                  error ? error->message : "?");
}

static void
replayOk(vsSpool *s, Collector *c, guint expect)
{
    g_autoptr(GError) error = NULL;
    guint n = 12345;

    ck_assert_msg(vsSpoolReplay(s, collect, c, &n, &error), "replay failed: %s",
                  error ? error->message : "?");
    ck_assert_uint_eq(n, expect);
    ck_assert_uint_eq(c->batches->len, expect);
    ck_assert_uint_eq(vsSpoolBatches(s), 0);
    ck_assert_uint_eq(vsSpoolBytes(s), 0);
}

/* The segment files in @dir, sorted. */
static GPtrArray *
listSegments(const char *dir)
{
    GPtrArray *ret = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    ck_assert_ptr_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".seg"))
            g_ptr_array_add(ret, g_build_filename(dir, name, NULL));
    }
    g_ptr_array_sort(ret, (GCompareFunc) g_strcmp0);
    return ret;
}

static guint64
diskBytes(const char *dir)
{
    g_autoptr(GPtrArray) segs = listSegments(dir);
    guint64 total = 0;

    for (guint i = 0; i < segs->len; i++) {
        GStatBuf st;

        ck_assert_int_eq(g_stat(g_ptr_array_index(segs, i), &st), 0);
        total += st.st_size;
    }
    return total;
}

static guint
countWarnings(GStrv warnings, const char *needle)
{
    guint n = 0;

    for (gsize i = 0; warnings && warnings[i]; i++) {
        if (strstr(warnings[i], needle))
            n++;
    }
    return n;
}

static void
readFile(const char *path, guint8 **ret_data, gsize *ret_len)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(g_file_get_contents(path, (char **) ret_data, ret_len, &error),
                  "%s", error ? error->message : "?");
}

static void
writeFile(const char *path, const guint8 *data, gsize len)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(g_file_set_contents(path, (const char *) data, len, &error),
                  "%s", error ? error->message : "?");
}

/* The one segment of @dir, after appending @n batches of @ndom domains to a
 * fresh spool there; @ret_offsets gets each record's offset. */
static char *
writeSegment(const char *dir, GPtrArray *batches, guint n, guint ndom,
             gsize *ret_offsets)
{
    g_autoptr(vsSpool) s = openOk(dir, 64 << 20);
    g_autoptr(GPtrArray) segs = NULL;

    for (guint i = 0; i < n; i++) {
        vsSampleBatch *b = makeBatch(ndom, T0_US + (gint64) i * 10 * G_USEC_PER_SEC);

        ret_offsets[i] = vsSpoolBytes(s);
        appendOk(s, b);
        g_ptr_array_add(batches, b);
    }
    ret_offsets[n] = vsSpoolBytes(s);
    segs = listSegments(dir);
    ck_assert_uint_eq(segs->len, 1);
    return g_strdup(g_ptr_array_index(segs, 0));
}


/* --- round trip ----------------------------------------------------------- */

/* Values that a careless serialiser loses. */
static vsSampleBatch *
makeAwkwardBatch(void)
{
    vsSampleBatch *b = vsSampleBatchNew(0);
    vsSample *smp;

    g_array_set_size(b->samples, 4);
    smp = &g_array_index(b->samples, vsSample, 0);
    vsSampleInit(smp);          /* all unknown: NaN, -1, NULL strings */
    smp->time_us = -1234567;

    smp = &g_array_index(b->samples, vsSample, 1);
    fillSample(smp, G_MAXINT64, 7);
    g_free(smp->name);
    smp->name = g_strdup("");
    g_clear_pointer(&smp->labels, g_free);
    smp->cpu_vcpus = doubleFromBits(G_GUINT64_CONSTANT(0x7ff8000000001234));
    smp->cpu_per_vcpu = -0.0;
    smp->disk_rd_bps = INFINITY;
    smp->disk_wr_bps = -INFINITY;
    smp->net_rx_bps = 4.9e-324;
    smp->mem_used_is_rss = TRUE;
    smp->mem_used_kib = G_MININT64;
    smp->vcpus = G_MININT32;

    smp = &g_array_index(b->samples, vsSample, 2);
    fillSample(smp, 0, 8);
    g_free(smp->labels);
    smp->labels = g_strdup("");
    memset(smp->uuid, 'f', VS_UUID_STRLEN - 1);

    smp = &g_array_index(b->samples, vsSample, 3);
    fillSample(smp, 1, 9);
    g_free(smp->name);
    smp->name = g_strdup("gäst \xe2\x9c\x93 \"quoted\"");
    return b;
}

START_TEST(test_roundtrip)
{
    g_autofree char *tmp = vsTestMakeTempDir("vsspooltest-XXXXXX");
    g_autofree char *dir = g_build_filename(tmp, "state", "spool", NULL);
    g_autoptr(GPtrArray) in = newBatchList();
    g_autoptr(vsSpool) s = openOk(dir, 64 << 20);
    g_autoptr(GPtrArray) segs = NULL;
    Collector c;
    GStatBuf st;

    ck_assert_int_eq(g_stat(dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);

    g_ptr_array_add(in, makeAwkwardBatch());
    g_ptr_array_add(in, vsSampleBatchNew(0));           /* no samples at all */
    g_ptr_array_add(in, makeBatch(3, T0_US));
    g_ptr_array_add(in, vsSampleBatchRollUp(g_ptr_array_index(in, 2)));
    g_ptr_array_add(in, makeBatch(50, T0_US + 10 * G_USEC_PER_SEC));
    for (guint i = 0; i < in->len; i++)
        appendOk(s, g_ptr_array_index(in, i));

    ck_assert_uint_eq(vsSpoolBatches(s), in->len);
    ck_assert_uint_eq(vsSpoolBytes(s), diskBytes(dir));
    ck_assert_uint_gt(vsSpoolBytes(s), 0);

    collectorInit(&c, 0);
    replayOk(s, &c, in->len);
    for (guint i = 0; i < in->len; i++)
        assertBatchEqual(g_ptr_array_index(c.batches, i), g_ptr_array_index(in, i));
    segs = listSegments(dir);
    ck_assert_uint_eq(segs->len, 0);
    ck_assert_ptr_null(vsSpoolTakeWarnings(s));

    /* replaying an empty spool is a no-op */
    g_ptr_array_set_size(c.batches, 0);
    replayOk(s, &c, 0);
    ck_assert_uint_eq(c.calls, in->len);

    g_ptr_array_unref(c.batches);
    vsTestRemoveTree(tmp);
}
END_TEST

/* The record format is the documented one, checksum included. */
START_TEST(test_format)
{
    g_autofree char *dir = vsTestMakeTempDir("vsspooltest-XXXXXX");
    g_autoptr(GPtrArray) in = newBatchList();
    gsize offsets[3];
    g_autofree char *path = writeSegment(dir, in, 2, 2, offsets);
    g_autofree guint8 *data = NULL;
    vsSampleBatch *b0 = g_ptr_array_index(in, 0);
    gsize len;

    ck_assert_uint_eq(testCrc32((const guint8 *) "123456789", 9), 0xCBF43926);
    ck_assert_str_eq(strrchr(path, '/') + 1, "0000000000000001.seg");
    readFile(path, &data, &len);
    ck_assert_uint_eq(len, offsets[2]);
    for (guint i = 0; i < 2; i++) {
        const guint8 *h = data + offsets[i];
        guint32 plen = getU32(h + 4);

        ck_assert_int_eq(memcmp(h, MAGIC_LE, 4), 0);
        ck_assert_uint_eq(offsets[i] + 16 + plen, offsets[i + 1]);
        ck_assert_uint_eq(getU32(h + 8), testCrc32(h + 16, plen));
        ck_assert_uint_eq(getU32(h + 12), 0);
    }
    /* payload: id u64, rollup_s u32, count u32, first sample's time */
    ck_assert_uint_eq(getU32(data + 16) | (guint64) getU32(data + 20) << 32, b0->id);
    ck_assert_uint_eq(getU32(data + 24), 0);
    ck_assert_uint_eq(getU32(data + 28), 2);
    ck_assert_uint_eq(getU32(data + 32) | (guint64) getU32(data + 36) << 32, T0_US);
    vsTestRemoveTree(dir);
}
END_TEST


/* --- replay that stops ---------------------------------------------------- */

START_TEST(test_replay_stops)
{
    g_autofree char *dir = vsTestMakeTempDir("vsspooltest-XXXXXX");
    g_autoptr(GPtrArray) in = newBatchList();
    g_autoptr(vsSpool) s = openOk(dir, 64 << 10);    /* 8 KiB segments */
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) segs = NULL;
    Collector c;
    guint n = 999;

    for (guint i = 0; i < 12; i++) {
        g_ptr_array_add(in, makeBatch(10, T0_US + (gint64) i * 10 * G_USEC_PER_SEC));
        appendOk(s, g_ptr_array_index(in, i));
    }
    /* 5 batches a segment */
    segs = listSegments(dir);
    ck_assert_uint_eq(segs->len, 3);

    /* refused at once: nothing changes */
    collectorInit(&c, 1);
    ck_assert(!vsSpoolReplay(s, collect, &c, &n, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT));
    ck_assert_uint_eq(n, 999);
    ck_assert_uint_eq(vsSpoolBatches(s), 12);
    g_clear_error(&error);
    g_ptr_array_unref(c.batches);

    /* refused at the 7th, inside the second segment: 6 stored, 6 kept */
    collectorInit(&c, 7);
    ck_assert(!vsSpoolReplay(s, collect, &c, &n, &error));
    ck_assert_str_eq(error->message, "store down");
    ck_assert_uint_eq(c.batches->len, 6);
    ck_assert_uint_eq(vsSpoolBatches(s), 6);
    ck_assert_uint_eq(vsSpoolBytes(s), diskBytes(dir));

    /* a newer batch goes after what is left */
    g_ptr_array_add(in, makeBatch(10, T0_US + 12 * 10 * G_USEC_PER_SEC));
    appendOk(s, g_ptr_array_index(in, 12));
    c.fail_at = 0;
    ck_assert(vsSpoolReplay(s, collect, &c, &n, NULL));
    ck_assert_uint_eq(n, 7);
    ck_assert_uint_eq(c.batches->len, in->len);
    for (guint i = 0; i < in->len; i++)
        assertBatchEqual(g_ptr_array_index(c.batches, i), g_ptr_array_index(in, i));
    g_clear_pointer(&segs, g_ptr_array_unref);
    segs = listSegments(dir);
    ck_assert_uint_eq(segs->len, 0);
    ck_assert_ptr_null(vsSpoolTakeWarnings(s));

    g_ptr_array_unref(c.batches);
    vsTestRemoveTree(dir);
}
END_TEST


START_TEST(test_reopen)
{
    g_autofree char *dir = vsTestMakeTempDir("vsspooltest-XXXXXX");
    g_autoptr(GPtrArray) in = newBatchList();
    g_autofree char *stale = g_build_filename(dir, "0000000000000009.seg.tmp", NULL);
    g_autofree char *other = g_build_filename(dir, "notes.seg", NULL);
    vsSpool *s = openOk(dir, 64 << 20);
    g_autoptr(GPtrArray) segs = NULL;
    guint64 bytes;
    Collector c;

    for (guint i = 0; i < 3; i++) {
        g_ptr_array_add(in, makeBatch(4, T0_US + (gint64) i * 10 * G_USEC_PER_SEC));
        appendOk(s, g_ptr_array_index(in, i));
    }
    bytes = vsSpoolBytes(s);
    vsSpoolFree(s);
    writeFile(stale, (const guint8 *) "half a rewrite", 14);
    writeFile(other, (const guint8 *) "not ours", 8);

    s = openOk(dir, 64 << 20);
    ck_assert_uint_eq(vsSpoolBatches(s), 3);
    ck_assert_uint_eq(vsSpoolBytes(s), bytes);
    ck_assert(!g_file_test(stale, G_FILE_TEST_EXISTS));

    /* a reopened spool appends to a fresh segment, never after a torn tail */
    g_ptr_array_add(in, makeBatch(4, T0_US + 30 * G_USEC_PER_SEC));
    appendOk(s, g_ptr_array_index(in, 3));
    segs = listSegments(dir);
    ck_assert_uint_eq(segs->len, 3);                    /* two + notes.seg */

    collectorInit(&c, 0);
    replayOk(s, &c, 4);
    for (guint i = 0; i < in->len; i++)
        assertBatchEqual(g_ptr_array_index(c.batches, i), g_ptr_array_index(in, i));
    ck_assert(g_file_test(other, G_FILE_TEST_EXISTS));
    ck_assert_ptr_null(vsSpoolTakeWarnings(s));

    g_ptr_array_unref(c.batches);
    vsSpoolFree(s);
    vsTestRemoveTree(dir);
}
END_TEST


/* --- damage --------------------------------------------------------------- */

/* How many bytes of the last record survive the crash. */
static const gsize tornKeep[] = { 0, 2, 8, 16, 17, 100 };

START_TEST(test_torn)
{
    g_autofree char *dir = vsTestMakeTempDir("vsspooltest-XXXXXX");
    g_autoptr(GPtrArray) in = newBatchList();
    gsize offsets[4];
    g_autofree char *path = writeSegment(dir, in, 3, 5, offsets);
    g_autofree char *expect = NULL;
    g_auto(GStrv) warnings = NULL;
    g_autoptr(vsSpool) s = NULL;
    Collector c;

    ck_assert_uint_lt(offsets[2] + tornKeep[_i], offsets[3]);
    ck_assert_int_eq(truncate(path, offsets[2] + tornKeep[_i]), 0);

    s = openOk(dir, 64 << 20);
    ck_assert_uint_eq(vsSpoolBatches(s), tornKeep[_i] > 0 ? 3 : 2);
    collectorInit(&c, 0);
    replayOk(s, &c, 2);
    for (guint i = 0; i < 2; i++)
        assertBatchEqual(g_ptr_array_index(c.batches, i), g_ptr_array_index(in, i));

    warnings = vsSpoolTakeWarnings(s);
    if (tornKeep[_i] == 0) {
        ck_assert_ptr_null(warnings);
    } else {
        expect = g_strdup_printf("spool '%s': torn record at offset %zu skipped",
                                 path, offsets[2]);
        ck_assert_ptr_nonnull(warnings);
        ck_assert_str_eq(warnings[0], expect);
        ck_assert_ptr_null(warnings[1]);
    }
    ck_assert(!g_file_test(path, G_FILE_TEST_EXISTS));

    g_ptr_array_unref(c.batches);
    vsTestRemoveTree(dir);
}
END_TEST

typedef enum {
    DAMAGE_PAYLOAD_BYTE,
    DAMAGE_HEADER,
    DAMAGE_MAGIC,
    DAMAGE_HUGE_LENGTH,
    DAMAGE_LONGER,
    DAMAGE_SHORTER,
    DAMAGE_CRC,
    DAMAGE_UNDECODABLE,     /* checksum fine, contents not */
    DAMAGE_LAST
} Damage;

/* Damage the record at @rec of @data. */
static void
damageRecord(guint8 *data, gsize rec, Damage how)
{
    guint8 *h = data + rec;
    guint32 plen = getU32(h + 4);

    switch (how) {
    case DAMAGE_PAYLOAD_BYTE:
        h[16 + plen / 2] ^= 0x40;
        break;
    case DAMAGE_HEADER:
        memset(h, 0xAA, 16);
        break;
    case DAMAGE_MAGIC:
        h[1] = 'X';
        break;
    case DAMAGE_HUGE_LENGTH:
        setU32(h + 4, 0xFFFFFFF0u);
        break;
    case DAMAGE_LONGER:
        setU32(h + 4, plen + 1);
        break;
    case DAMAGE_SHORTER:
        setU32(h + 4, plen - 8);
        break;
    case DAMAGE_CRC:
        h[9] ^= 1;
        break;
    case DAMAGE_UNDECODABLE:
        setU32(h + 16 + 12, getU32(h + 16 + 12) + 1);  /* one sample too many */
        setU32(h + 8, testCrc32(h + 16, plen));
        break;
    case DAMAGE_LAST:
        break;
    }
}

START_TEST(test_corrupt)
{
    g_autofree char *dir = vsTestMakeTempDir("vsspooltest-XXXXXX");
    g_autoptr(GPtrArray) in = newBatchList();
    gsize offsets[6];
    g_autofree char *path = writeSegment(dir, in, 5, 4, offsets);
    g_autofree char *expect = g_strdup_printf("spool '%s': corrupt record at offset %zu skipped",
                                              path, offsets[1]);
    g_autofree guint8 *data = NULL;
    g_auto(GStrv) warnings = NULL;
    g_autoptr(vsSpool) s = NULL;
    Collector c;
    gsize len;

    readFile(path, &data, &len);
    damageRecord(data, offsets[1], _i);
    writeFile(path, data, len);

    s = openOk(dir, 64 << 20);
    collectorInit(&c, 0);
    replayOk(s, &c, 4);
    for (guint i = 0, j = 0; i < 5; i++) {
        if (i == 1)
            continue;
        assertBatchEqual(g_ptr_array_index(c.batches, j++), g_ptr_array_index(in, i));
    }
    warnings = vsSpoolTakeWarnings(s);
    ck_assert_ptr_nonnull(warnings);
    ck_assert_msg(g_str_has_prefix(warnings[0], expect), "unexpected warning '%s'",
                  warnings[0]);
    ck_assert_ptr_null(warnings[1]);

    g_ptr_array_unref(c.batches);
    vsTestRemoveTree(dir);
}
END_TEST

/* A valid record after garbage is found and replayed. */
START_TEST(test_resync)
{
    g_autofree char *dir = vsTestMakeTempDir("vsspooltest-XXXXXX");
    g_autoptr(GPtrArray) in = newBatchList();
    gsize offsets[3];
    g_autofree char *path = writeSegment(dir, in, 2, 3, offsets);
    g_autofree guint8 *data = NULL;
    g_autoptr(GByteArray) mangled = g_byte_array_new();
    g_autoptr(GRand) rand = g_rand_new_with_seed(7);
    g_auto(GStrv) warnings = NULL;
    g_autoptr(vsSpool) s = NULL;
    Collector c;
    gsize len;

    readFile(path, &data, &len);
    /* garbage full of magic numbers and a false start, then the records */
    for (guint i = 0; i < 300; i++) {
        guint8 byte = g_rand_int(rand);

        g_byte_array_append(mangled, i % 37 == 0 ? (const guint8 *) MAGIC_LE : &byte,
                            i % 37 == 0 ? 4 : 1);
    }
    g_byte_array_append(mangled, data, 20);
    g_byte_array_append(mangled, data, len);
    writeFile(path, mangled->data, mangled->len);

    s = openOk(dir, 64 << 20);
    collectorInit(&c, 0);
    replayOk(s, &c, 2);
    assertBatchEqual(g_ptr_array_index(c.batches, 0), g_ptr_array_index(in, 0));
    assertBatchEqual(g_ptr_array_index(c.batches, 1), g_ptr_array_index(in, 1));
    warnings = vsSpoolTakeWarnings(s);
    ck_assert_uint_eq(countWarnings(warnings, "corrupt record at offset 0 skipped"), 1);
    ck_assert_uint_eq(g_strv_length(warnings), 1);

    g_ptr_array_unref(c.batches);
    vsTestRemoveTree(dir);
}
END_TEST

typedef enum {
    GARBAGE_RANDOM,
    GARBAGE_EMPTY,
    GARBAGE_SHORT,
    GARBAGE_HUGE_LENGTH,
    GARBAGE_ONLY_MAGIC,
    GARBAGE_CLAIMS_MORE,
    GARBAGE_NO_SAMPLES,     /* valid checksums, payloads that do not decode */
    GARBAGE_LONG_STRING,
    GARBAGE_LONG_UUID,
    GARBAGE_TRAILING,       /* a whole batch, then bytes that belong to none */
    GARBAGE_LAST
} Garbage;

/* A record with a correct header around @payload. */
static void
appendRecord(GByteArray *out, const guint8 *payload, guint32 len)
{
    guint8 h[16] = { 0 };

    setU32(h, 0x56535350u);
    setU32(h + 4, len);
    setU32(h + 8, testCrc32(payload, len));
    g_byte_array_append(out, h, sizeof(h));
    g_byte_array_append(out, payload, len);
}

static GByteArray *
makeGarbage(Garbage kind)
{
    GByteArray *out = g_byte_array_new();
    g_autoptr(GRand) rand = g_rand_new_with_seed(42 + kind);
    guint8 p[64] = { 1, 0, 0, 0, 0, 0, 0, 0 };      /* id 1, rollup 0 */

    switch (kind) {
    case GARBAGE_RANDOM:
        for (guint i = 0; i < 65536; i++) {
            guint8 byte = g_rand_int(rand);

            g_byte_array_append(out, &byte, 1);
        }
        break;
    case GARBAGE_EMPTY:
    case GARBAGE_LAST:
        break;
    case GARBAGE_SHORT:
        g_byte_array_append(out, (const guint8 *) "VSSP-ish", 8);
        break;
    case GARBAGE_HUGE_LENGTH:
        g_byte_array_append(out, (const guint8 *) MAGIC_LE "\xff\xff\xff\xff", 8);
        g_byte_array_append(out, p, sizeof(p));
        break;
    case GARBAGE_ONLY_MAGIC:
        for (guint i = 0; i < 1024; i++)
            g_byte_array_append(out, (const guint8 *) MAGIC_LE, 4);
        break;
    case GARBAGE_CLAIMS_MORE:
        g_byte_array_append(out, (const guint8 *) MAGIC_LE "\x00\x10\x00\x00", 8);
        g_byte_array_append(out, p, 20);
        break;
    case GARBAGE_NO_SAMPLES:
        setU32(p + 12, 0xFFFFFFFFu);            /* count, and nothing follows */
        appendRecord(out, p, 16);
        appendRecord(out, p, 8);                /* too short for a header */
        appendRecord(out, p, 0);
        break;
    case GARBAGE_LONG_STRING:
        setU32(p + 12, 1);
        setU32(p + 24, 4);                      /* uuid "abcd" */
        memcpy(p + 28, "abcd", 4);
        setU32(p + 32, 0xFFFFFFF0u);            /* name runs far past the end */
        appendRecord(out, p, sizeof(p));
        break;
    case GARBAGE_LONG_UUID:
        setU32(p + 12, 1);
        setU32(p + 24, 37);                     /* one more than a uuid holds */
        memset(p + 28, 'a', 36);
        appendRecord(out, p, sizeof(p));
        break;
    case GARBAGE_TRAILING:
        appendRecord(out, p, 20);               /* count 0, and 4 bytes more */
        break;
    }
    return out;
}

START_TEST(test_garbage)
{
    g_autofree char *dir = vsTestMakeTempDir("vsspooltest-XXXXXX");
    g_autofree char *path = g_build_filename(dir, "0000000000000001.seg", NULL);
    g_autoptr(GByteArray) garbage = makeGarbage(_i);
    g_autoptr(vsSampleBatch) real = makeBatch(2, T0_US);
    g_auto(GStrv) warnings = NULL;
    g_autoptr(vsSpool) s = NULL;
    Collector c;

    writeFile(path, garbage->data, garbage->len);
    s = openOk(dir, 64 << 20);
    ck_assert_uint_eq(vsSpoolBytes(s), garbage->len);
    ck_assert_ptr_null(vsSpoolTakeWarnings(s));         /* open counts quietly */
    appendOk(s, real);

    collectorInit(&c, 0);
    replayOk(s, &c, 1);
    assertBatchEqual(g_ptr_array_index(c.batches, 0), real);
    ck_assert(!g_file_test(path, G_FILE_TEST_EXISTS));

    warnings = vsSpoolTakeWarnings(s);
    if (_i == GARBAGE_EMPTY) {
        ck_assert_ptr_null(warnings);
    } else {
        g_autofree char *prefix = g_strdup_printf("spool '%s': ", path);

        ck_assert_ptr_nonnull(warnings);
        for (gsize i = 0; warnings[i]; i++)
            ck_assert_msg(g_str_has_prefix(warnings[i], prefix), "warning '%s'",
                          warnings[i]);
        ck_assert_uint_eq(countWarnings(warnings, "corrupt record") +
                          countWarnings(warnings, "torn record"),
                          g_strv_length(warnings));
    }

    g_ptr_array_unref(c.batches);
    vsTestRemoveTree(dir);
}
END_TEST


/* --- the bound ------------------------------------------------------------- */

START_TEST(test_bound_rollup)
{
    const guint64 max = 32 << 10;
    const guint nbatches = 300, ndom = 3;
    g_autofree char *dir = vsTestMakeTempDir("vsspooltest-XXXXXX");
    g_autoptr(GPtrArray) in = newBatchList();
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(vsSpool) s = openOk(dir, max);
    g_autoptr(GHashTable) covered = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint rolled = 0, first_raw;
    Collector c;

    for (guint i = 0; i < nbatches; i++) {
        g_auto(GStrv) w = NULL;

        g_ptr_array_add(in, makeBatch(ndom, T0_US + (gint64) (i + 1) * 10 * G_USEC_PER_SEC));
        appendOk(s, g_ptr_array_index(in, i));
        ck_assert_uint_le(vsSpoolBytes(s), max);
        ck_assert_uint_eq(vsSpoolBytes(s), diskBytes(dir));
        w = vsSpoolTakeWarnings(s);
        for (gsize k = 0; w && w[k]; k++)
            g_ptr_array_add(warnings, g_strdup(w[k]));
    }
    g_ptr_array_add(warnings, NULL);
    ck_assert_uint_gt(countWarnings((GStrv) warnings->pdata,
                                    "spool over its 32 KiB bound: rolled "), 0);
    ck_assert_uint_gt(countWarnings((GStrv) warnings->pdata, "five-minute samples"), 0);
    ck_assert_uint_eq(countWarnings((GStrv) warnings->pdata, "dropped"), 0);

    collectorInit(&c, 0);
    replayOk(s, &c, vsSpoolBatches(s));

    /* rolled-up batches first, covering the oldest times */
    while (rolled < c.batches->len &&
           ((vsSampleBatch *) g_ptr_array_index(c.batches, rolled))->rollup_s == 300)
        rolled++;
    ck_assert_uint_gt(rolled, 0);
    ck_assert_uint_lt(rolled, c.batches->len);
    first_raw = nbatches - (c.batches->len - rolled);
    ck_assert_uint_gt(first_raw, 0);

    /* then the newest raw batches, intact and in order */
    for (guint i = rolled; i < c.batches->len; i++)
        assertBatchEqual(g_ptr_array_index(c.batches, i),
                         g_ptr_array_index(in, first_raw + i - rolled));

    /* every (domain, 5 minutes) before them survives as an average */
    for (guint i = 0; i < rolled; i++) {
        vsSampleBatch *b = g_ptr_array_index(c.batches, i);

        for (guint k = 0; k < b->samples->len; k++) {
            vsSample *smp = &g_array_index(b->samples, vsSample, k);
            guint dom = strtoul(smp->uuid + 24, NULL, 16);

            ck_assert_int_eq(smp->time_us % (300 * G_USEC_PER_SEC), 0);
            ck_assert(smp->cpu_vcpus == (dom + 1) * 0.5);
            g_hash_table_add(covered, g_strdup_printf("%u@%" G_GINT64_FORMAT, dom,
                                                      smp->time_us));
        }
    }
    for (guint i = 0; i < first_raw; i++) {
        vsSampleBatch *b = g_ptr_array_index(in, i);
        gint64 t = g_array_index(b->samples, vsSample, 0).time_us;
        gint64 end = (t / (300 * G_USEC_PER_SEC) + 1) * 300 * G_USEC_PER_SEC;

        for (guint dom = 0; dom < ndom; dom++) {
            g_autofree char *key = g_strdup_printf("%u@%" G_GINT64_FORMAT, dom, end);

            ck_assert_msg(g_hash_table_contains(covered, key), "lost %s", key);
        }
    }

    g_ptr_array_unref(c.batches);
    vsTestRemoveTree(dir);
}
END_TEST

/* When rolling up cannot help, the oldest batches go, and say so. */
START_TEST(test_bound_drop)
{
    const guint64 max = 4 << 10;
    g_autofree char *dir = vsTestMakeTempDir("vsspooltest-XXXXXX");
    g_autoptr(GPtrArray) in = newBatchList();
    g_autoptr(vsSpool) s = openOk(dir, max);
    g_auto(GStrv) warnings = NULL;
    Collector c;
    gint64 last = G_MININT64;
    vsSampleBatch *newest;

    /* one sample per domain and 5 minutes: nothing to average */
    for (guint i = 0; i < 30; i++) {
        g_ptr_array_add(in, makeBatch(4, T0_US + (gint64) i * 300 * G_USEC_PER_SEC));
        appendOk(s, g_ptr_array_index(in, i));
        ck_assert_uint_le(vsSpoolBytes(s), max);
    }
    warnings = vsSpoolTakeWarnings(s);
    ck_assert_uint_gt(countWarnings(warnings, "spool over its 4 KiB bound with nothing "
                                    "left to roll up: dropped the oldest batch (4 samples)"),
                      0);

    collectorInit(&c, 0);
    ck_assert(vsSpoolReplay(s, collect, &c, NULL, NULL));
    ck_assert_uint_gt(c.batches->len, 0);
    ck_assert_uint_lt(c.batches->len, 30);
    for (guint i = 0; i < c.batches->len; i++) {
        vsSampleBatch *b = g_ptr_array_index(c.batches, i);
        gint64 t = g_array_index(b->samples, vsSample, 0).time_us;

        ck_assert_uint_eq(b->samples->len, 4);
        ck_assert_int_gt(t, last);
        last = t;
    }
    /* the newest data is kept */
    newest = g_ptr_array_index(in, 29);
    ck_assert_int_eq(last, g_array_index(newest->samples, vsSample, 0).time_us +
                     300 * G_USEC_PER_SEC);

    g_ptr_array_unref(c.batches);
    vsTestRemoveTree(dir);
}
END_TEST


/* --- locking -------------------------------------------------------------- */

START_TEST(test_locked)
{
    g_autofree char *dir = vsTestMakeTempDir("vsspooltest-XXXXXX");
    g_autofree char *expect = g_strdup_printf("spool '%s' is in use by another process", dir);
    g_autoptr(vsSpool) first = openOk(dir, 1 << 20);
    g_autoptr(vsSpool) second = NULL;
    g_autoptr(GError) error = NULL;

    second = vsSpoolOpen(dir, 1 << 20, &error);
    ck_assert_ptr_null(second);
    ck_assert_ptr_nonnull(error);
    ck_assert_str_eq(error->message, expect);

    g_clear_pointer(&first, vsSpoolFree);
    second = openOk(dir, 1 << 20);
    ck_assert_ptr_nonnull(second);
    vsTestRemoveTree(dir);
}
END_TEST


static Suite *
vsSpoolSuite(void)
{
    Suite *s = suite_create("spool");
    TCase *basic = tcase_create("basic");
    TCase *damage = tcase_create("damage");
    TCase *bound = tcase_create("bound");

    tcase_add_test(basic, test_roundtrip);
    tcase_add_test(basic, test_format);
    tcase_add_test(basic, test_replay_stops);
    tcase_add_test(basic, test_reopen);
    tcase_add_test(basic, test_locked);
    suite_add_tcase(s, basic);

    tcase_add_loop_test(damage, test_torn, 0, G_N_ELEMENTS(tornKeep));
    tcase_add_loop_test(damage, test_corrupt, 0, DAMAGE_LAST);
    tcase_add_test(damage, test_resync);
    tcase_add_loop_test(damage, test_garbage, 0, GARBAGE_LAST);
    suite_add_tcase(s, damage);

    tcase_set_timeout(bound, 60);
    tcase_add_test(bound, test_bound_rollup);
    tcase_add_test(bound, test_bound_drop);
    suite_add_tcase(s, bound);

    return s;
}


int
main(void)
{
    return vsTestRunSuite(vsSpoolSuite());
}
