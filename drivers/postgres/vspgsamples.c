/*
 * vspgsamples.c: samples, rollups and workload labels in PostgreSQL
 *
 * Batches arrive by binary COPY, one transaction each, recorded by id so a
 * replay from the spool never stores twice.  Housekeeping keeps the daily
 * partitions, retention and the 5-minute and 1-hour rollups.
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vspg.h"
#include "util/vserror.h"

#define VS_PG_US_PER_DAY (G_GINT64_CONSTANT(86400) * G_USEC_PER_SEC)
#define VS_PG_5M_US (G_GINT64_CONSTANT(300) * G_USEC_PER_SEC)
#define VS_PG_1H_US (G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC)
/* A batch may commit this long after its stored_at (transaction start):
 * maintenance looks back that far for late batches. */
#define VS_PG_LATE_SLACK "10 minutes"
/* COPY data goes out in chunks of this size. */
#define VS_PG_COPY_CHUNK (256 * 1024)

static gint64
vsPgFloorDiv(gint64 a, gint64 b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static gint64
vsPgFloorTo(gint64 us, gint64 step)
{
    return vsPgFloorDiv(us, step) * step;
}

char *
vsPgInt64(gint64 v)
{
    return g_strdup_printf("%" G_GINT64_FORMAT, v);
}

/* COPY binary format: a header, then per row a field count and per field
 * its length (-1: NULL) and value, all in network byte order.  Against the
 * text format, neither side prints or parses numbers and times: that was
 * most of our CPU time and a good part of the server's.  The header is the
 * signature, flags and extension length (0); the literal's NUL ends it. */
static const char vsPgCopyHeader[19] = "PGCOPY\n\377\r\n\0" "\0\0\0\0" "\0\0\0";
/* Unix microseconds of 2000-01-01, PostgreSQL's epoch. */
#define VS_PG_EPOCH_US (G_GINT64_CONSTANT(946684800) * G_USEC_PER_SEC)

/* g_string_append_len without the call (GLib < 2.76 does not inline it):
 * the buffer is sized for a chunk, so the copy nearly always fits. */
static inline void
vsPgCopyPut(GString *out, const void *data, gsize len)
{
    if (G_UNLIKELY(out->len + len >= out->allocated_len)) {
        g_string_append_len(out, data, len);
        return;
    }
    memcpy(out->str + out->len, data, len);
    out->len += len;
    out->str[out->len] = '\0';
}

static void
vsPgCopyPut16(GString *out, gint16 v)
{
    guint16 be = GUINT16_TO_BE((guint16)v);

    vsPgCopyPut(out, &be, sizeof(be));
}

static void
vsPgCopyPut32(GString *out, gint32 v)
{
    guint32 be = GUINT32_TO_BE((guint32)v);

    vsPgCopyPut(out, &be, sizeof(be));
}

static void
vsPgCopyPut64(GString *out, gint64 v)
{
    guint64 be = GUINT64_TO_BE((guint64)v);

    vsPgCopyPut(out, &be, sizeof(be));
}

static void
vsPgCopyNull(GString *out)
{
    vsPgCopyPut32(out, -1);
}

/* text, or jsonb with @prefix "\1" (its binary format version). */
static void
vsPgCopyText(GString *out, const char *prefix, const char *text)
{
    g_autofree char *valid = NULL;
    size_t len;

    if (!text) {
        vsPgCopyNull(out);
        return;
    }
    /* One bad name must not poison the whole batch (and the spool): the
     * server verifies the encoding of binary text too. */
    if (!g_utf8_validate(text, -1, NULL))
        text = valid = g_utf8_make_valid(text, -1);
    len = strlen(text);
    vsPgCopyPut32(out, (gint32)(strlen(prefix) + len));
    vsPgCopyPut(out, prefix, strlen(prefix));
    vsPgCopyPut(out, text, len);
}

/* real (float4).  NaN is unknown; infinities are no measurement either,
 * nor is a value beyond float4's range (the text format failed the batch). */
static void
vsPgCopyReal(GString *out, double v)
{
    float f = (float)v;
    guint32 bits;

    if (!isfinite(v) || !isfinite(f)) {
        vsPgCopyNull(out);
        return;
    }
    memcpy(&bits, &f, sizeof(bits));
    vsPgCopyPut32(out, 4);
    vsPgCopyPut32(out, (gint32)bits);
}

/* smallint, int or bigint by @max; negative is unknown. */
static void
vsPgCopyInt(GString *out, gint64 v, gint64 max)
{
    if (v < 0 || v > max) {
        vsPgCopyNull(out);
    } else if (max == G_MAXINT16) {
        vsPgCopyPut32(out, 2);
        vsPgCopyPut16(out, (gint16)v);
    } else if (max == G_MAXINT32) {
        vsPgCopyPut32(out, 4);
        vsPgCopyPut32(out, (gint32)v);
    } else {
        vsPgCopyPut32(out, 8);
        vsPgCopyPut64(out, v);
    }
}

static void
vsPgCopyBool(GString *out, gboolean v)
{
    guint8 b = v ? 1 : 0;

    vsPgCopyPut32(out, 1);
    vsPgCopyPut(out, &b, 1);
}

/* timestamptz from Unix microseconds (unsigned: no overflow to trap on). */
static void
vsPgCopyTime(GString *out, gint64 us)
{
    vsPgCopyPut32(out, 8);
    vsPgCopyPut64(out, (gint64)((guint64)us - (guint64)VS_PG_EPOCH_US));
}

/* uuid as its 16 bytes, accepting what the server's uuid_in does: braces,
 * either case, a hyphen after any group of four digits. */
static gboolean
vsPgCopyUuid(GString *out, const char *text, GError **error)
{
    const char *p = text;
    guint8 data[16];
    gboolean braces = *p == '{';
    guint i;

    if (braces)
        p++;
    for (i = 0; i < sizeof(data); i++) {
        if (!g_ascii_isxdigit(p[0]) || !g_ascii_isxdigit(p[1]))
            goto invalid;
        data[i] = g_ascii_xdigit_value(p[0]) << 4 | g_ascii_xdigit_value(p[1]);
        p += 2;
        if (*p == '-' && i % 2 == 1 && i < sizeof(data) - 1)
            p++;
    }
    if (braces && *p++ != '}')
        goto invalid;
    if (*p != '\0')
        goto invalid;
    vsPgCopyPut32(out, sizeof(data));
    vsPgCopyPut(out, data, sizeof(data));
    return TRUE;

 invalid:
    g_set_error(error, VS_ERROR, VS_ERROR_FAILED, "invalid domain UUID '%s'", text);
    return FALSE;
}

/* The error code for a failed statement: CONNECT once the connection is gone. */
static int
vsPgErrorCode(vsPgStore *s)
{
    return PQstatus(s->conn) == CONNECTION_OK ? VS_ERROR_FAILED : VS_ERROR_CONNECT;
}

/* Appends the COPY row of sample @x. */
typedef gboolean (*vsPgCopyRowFunc)(GString *out, vsPgStore *s, const char *host,
                                    const vsSample *x, GError **error);

/* Pointers to the samples of @samples, in their (time) order: the BRIN
 * on time stays tight. */
static GPtrArray *
vsPgSampleRows(GArray *samples)
{
    GPtrArray *rows = g_ptr_array_sized_new(samples->len);
    guint i;

    for (i = 0; i < samples->len; i++)
        g_ptr_array_add(rows, &g_array_index(samples, vsSample, i));
    return rows;
}

/* Run COPY @sql (binary) with a row per sample of @rows; the caller is in
 * a transaction and rolls back on failure.  Rows go out in chunks as they
 * are encoded, so the server inserts while we encode. */
static gboolean
vsPgCopyIn(vsPgStore *s, const char *sql, const char *host, GPtrArray *rows,
           vsPgCopyRowFunc row, const char *what, GError **error)
{
    g_autoptr(vsPgResult) res = NULL;
    g_autoptr(GString) data = g_string_sized_new(VS_PG_COPY_CHUNK + 4096);
    g_autoptr(GError) rowError = NULL;
    g_autofree char *msg = NULL;
    gboolean ok = TRUE;
    guint i;

    if (!(res = vsPgExec(s, sql, 0, NULL, PGRES_COPY_IN, what, error)))
        return FALSE;
    g_clear_pointer(&res, PQclear);

    g_string_append_len(data, vsPgCopyHeader, sizeof(vsPgCopyHeader));
    for (i = 0; i < rows->len && ok; i++) {
        if (!row(data, s, host, g_ptr_array_index(rows, i), &rowError)) {
            msg = g_strdup(rowError->message);
            ok = FALSE;
        } else if (data->len >= VS_PG_COPY_CHUNK) {
            ok = PQputCopyData(s->conn, data->str, (int)data->len) == 1;
            g_string_truncate(data, 0);
        }
    }
    if (ok) {
        vsPgCopyPut16(data, -1);    /* trailer */
        ok = PQputCopyData(s->conn, data->str, (int)data->len) == 1;
    }
    if (!ok && !msg)
        msg = vsPgFirstLine(PQerrorMessage(s->conn));
    if (PQputCopyEnd(s->conn, ok ? NULL : "aborted") != 1 && !msg)
        msg = vsPgFirstLine(PQerrorMessage(s->conn));

    /* Drain every result, keeping the first error. */
    while ((res = PQgetResult(s->conn))) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !msg)
            msg = vsPgResultError(s, res);
        g_clear_pointer(&res, PQclear);
        if (PQstatus(s->conn) != CONNECTION_OK)
            break;
    }
    if (msg) {
        g_set_error(error, VS_ERROR, vsPgErrorCode(s), "%s: %s", what, msg);
        return FALSE;
    }
    return TRUE;
}

static void
vsPgRollback(vsPgStore *s)
{
    if (PQstatus(s->conn) == CONNECTION_OK)
        PQclear(PQexec(s->conn, "ROLLBACK"));
}

#define VS_PG_RAW_COLUMNS \
    "at, domain_uuid, domain_name, host, interval_s, cpu_vcpus, cpu_per_vcpu," \
    " vcpus, vcpus_max, mem_used_kib, mem_used_is_rss, mem_current_kib, mem_max_kib," \
    " disk_rd_bps, disk_wr_bps, disk_rd_iops, disk_wr_iops, net_rx_bps, net_tx_bps," \
    " label_set"

/* Fields in the order of VS_PG_RAW_COLUMNS. */
static gboolean
vsPgAppendRawRow(GString *out, vsPgStore *s, const char *host, const vsSample *x,
                 GError **error)
{
    vsPgCopyPut16(out, 20);
    vsPgCopyTime(out, x->time_us);
    if (!vsPgCopyUuid(out, x->uuid, error))
        return FALSE;
    vsPgCopyText(out, "", x->name ? x->name : "");
    vsPgCopyText(out, "", host);
    vsPgCopyReal(out, x->interval_s);
    vsPgCopyReal(out, x->cpu_vcpus);
    vsPgCopyReal(out, x->cpu_per_vcpu);
    vsPgCopyInt(out, x->vcpus, G_MAXINT16);
    vsPgCopyInt(out, x->vcpus_max, G_MAXINT16);
    vsPgCopyInt(out, x->mem_used_kib, G_MAXINT64);
    /* the flag qualifies a value: unknown without one */
    if (x->mem_used_kib < 0)
        vsPgCopyNull(out);
    else
        vsPgCopyBool(out, x->mem_used_is_rss);
    vsPgCopyInt(out, x->mem_current_kib, G_MAXINT64);
    vsPgCopyInt(out, x->mem_max_kib, G_MAXINT64);
    vsPgCopyReal(out, x->disk_rd_bps);
    vsPgCopyReal(out, x->disk_wr_bps);
    vsPgCopyReal(out, x->disk_rd_iops);
    vsPgCopyReal(out, x->disk_wr_iops);
    vsPgCopyReal(out, x->net_rx_bps);
    vsPgCopyReal(out, x->net_tx_bps);
    /* resolved before the COPY (vsPgResolveLabelSets) */
    vsPgCopyInt(out, x->labels ? GPOINTER_TO_INT(g_hash_table_lookup(s->labelSets, x->labels)) : -1,
                G_MAXINT32);
    return TRUE;
}

/* A 5-minute sample carries its bucket's end as time (vsSampleBatchRollUp);
 * it stands for one observation: avg = max = p95.  Fields in the order of
 * VS_PG_ROLLUP_COLUMNS. */
static gboolean
vsPgAppend5mRow(GString *out, vsPgStore *s G_GNUC_UNUSED, const char *host G_GNUC_UNUSED,
                const vsSample *x, GError **error)
{
    double cpu = x->cpu_vcpus;
    gint64 mem = x->mem_used_kib;

    vsPgCopyPut16(out, 15);
    vsPgCopyTime(out, vsPgFloorTo(x->time_us - 1, VS_PG_5M_US));
    if (!vsPgCopyUuid(out, x->uuid, error))
        return FALSE;
    vsPgCopyText(out, "", x->name ? x->name : "");
    vsPgCopyInt(out, 1, G_MAXINT32);
    vsPgCopyReal(out, cpu);
    vsPgCopyReal(out, cpu);
    vsPgCopyReal(out, cpu);
    vsPgCopyInt(out, mem, G_MAXINT64);
    vsPgCopyInt(out, mem, G_MAXINT64);
    vsPgCopyInt(out, mem, G_MAXINT64);
    vsPgCopyInt(out, x->mem_current_kib, G_MAXINT64);
    vsPgCopyReal(out, x->disk_rd_bps);
    vsPgCopyReal(out, x->disk_wr_bps);
    vsPgCopyReal(out, x->net_rx_bps);
    vsPgCopyReal(out, x->net_tx_bps);
    return TRUE;
}

#define VS_PG_ROLLUP_COLUMNS \
    "bucket, domain_uuid, domain_name, n, cpu_avg, cpu_max, cpu_p95," \
    " mem_used_avg, mem_used_max, mem_used_p95, mem_current_avg," \
    " disk_rd_bps_avg, disk_wr_bps_avg, net_rx_bps_avg, net_tx_bps_avg"

/* Average of column c over rows weighted by n, ignoring NULLs. */
#define VS_PG_WAVG(c) \
    "sum(" c "::float8 * n) / nullif(sum(n) FILTER (WHERE " c " IS NOT NULL), 0)"
/* Merge an existing rollup row (t) with a new one (EXCLUDED). */
#define VS_PG_MERGE_AVG(c) \
    c " = CASE WHEN t." c " IS NULL THEN EXCLUDED." c \
    " WHEN EXCLUDED." c " IS NULL THEN t." c \
    " ELSE (t." c "::float8 * t.n + EXCLUDED." c "::float8 * EXCLUDED.n)" \
    " / (t.n + EXCLUDED.n) END"
#define VS_PG_MERGE_MAX(c) c " = greatest(t." c ", EXCLUDED." c ")"

/* Rollup rows of a batch, grouped (a batch may repeat a bucket) and merged
 * into what is there: the rest of that bucket may have been stored raw. */
#define VS_PG_MERGE_5M \
    "INSERT INTO samples_5m AS t (" VS_PG_ROLLUP_COLUMNS ")" \
    " SELECT bucket, domain_uuid, (array_agg(domain_name))[1], sum(n)," \
    VS_PG_WAVG("cpu_avg") ", max(cpu_max), max(cpu_p95)," \
    VS_PG_WAVG("mem_used_avg") ", max(mem_used_max), max(mem_used_p95)," \
    VS_PG_WAVG("mem_current_avg") "," VS_PG_WAVG("disk_rd_bps_avg") "," \
    VS_PG_WAVG("disk_wr_bps_avg") "," VS_PG_WAVG("net_rx_bps_avg") "," \
    VS_PG_WAVG("net_tx_bps_avg") \
    " FROM vs_samples_5m_in GROUP BY domain_uuid, bucket" \
    " ON CONFLICT (domain_uuid, bucket) DO UPDATE SET" \
    " domain_name = EXCLUDED.domain_name," \
    VS_PG_MERGE_AVG("cpu_avg") "," VS_PG_MERGE_MAX("cpu_max") "," \
    VS_PG_MERGE_MAX("cpu_p95") "," VS_PG_MERGE_AVG("mem_used_avg") "," \
    VS_PG_MERGE_MAX("mem_used_max") "," VS_PG_MERGE_MAX("mem_used_p95") "," \
    VS_PG_MERGE_AVG("mem_current_avg") "," VS_PG_MERGE_AVG("disk_rd_bps_avg") "," \
    VS_PG_MERGE_AVG("disk_wr_bps_avg") "," VS_PG_MERGE_AVG("net_rx_bps_avg") "," \
    VS_PG_MERGE_AVG("net_tx_bps_avg") "," \
    " n = t.n + EXCLUDED.n"

/* Ids of the batch's label sets, created as needed, each in its own
 * transaction before the batch's: an id in the cache always exists. */
static gboolean
vsPgResolveLabelSets(vsPgStore *s, const vsSampleBatch *batch, const char *what,
                     GError **error)
{
    for (guint i = 0; i < batch->samples->len; i++) {
        const char *labels = g_array_index(batch->samples, vsSample, i).labels;
        const char *params[] = { labels };
        g_autoptr(vsPgResult) res = NULL;

        if (!labels || g_hash_table_contains(s->labelSets, labels))
            continue;
        /* DO UPDATE, not NOTHING: RETURNING then yields the existing row */
        if (!(res = vsPgExec(s,
                             "INSERT INTO sample_label_sets (labels) VALUES ($1::jsonb)"
                             " ON CONFLICT (labels) DO UPDATE SET labels = EXCLUDED.labels"
                             " RETURNING id",
                             1, params, PGRES_TUPLES_OK, what, error)))
            return FALSE;
        g_hash_table_insert(s->labelSets, g_strdup(labels),
                            GINT_TO_POINTER(atoi(PQgetvalue(res, 0, 0))));
    }
    return TRUE;
}

static gboolean
vsPgWriteSamplesLocked(vsPgStore *s, const char *host, const vsSampleBatch *batch,
                       const char *what, GError **error)
{
    g_autoptr(vsPgResult) res = NULL;
    g_autoptr(GPtrArray) rows = NULL;
    /* bigint is signed: the id is stored as its two's complement */
    g_autofree char *id = vsPgInt64((gint64)batch->id);
    g_autofree char *rollup = g_strdup_printf("%u", batch->rollup_s);
    g_autofree char *first = NULL;
    g_autofree char *last = NULL;
    const char *params[4];
    gint64 lo = G_MAXINT64;
    gint64 hi = G_MININT64;
    guint i;

    for (i = 0; i < batch->samples->len; i++) {
        const vsSample *x = &g_array_index(batch->samples, vsSample, i);

        lo = MIN(lo, x->time_us);
        hi = MAX(hi, x->time_us);
    }
    if (batch->samples->len > 0) {
        first = vsPgInt64(lo);
        last = vsPgInt64(hi);
    }
    params[0] = id;
    params[1] = rollup;
    params[2] = first;
    params[3] = last;
    if (!(res = vsPgExec(s,
                         "INSERT INTO sample_batches (id, rollup_s, first_at, last_at)"
                         " VALUES ($1::bigint, $2::int, " VS_PG_TS(3) ", " VS_PG_TS(4) ")"
                         " ON CONFLICT (id) DO NOTHING",
                         4, params, PGRES_COMMAND_OK, what, error)))
        return FALSE;
    /* Stored before: a replay after an ambiguous commit. */
    if (strcmp(PQcmdTuples(res), "1") != 0 || batch->samples->len == 0)
        return TRUE;

    if (batch->rollup_s == 0) {
        rows = vsPgSampleRows(batch->samples);
        return vsPgCopyIn(s, "COPY samples (" VS_PG_RAW_COLUMNS ") FROM STDIN (FORMAT binary)",
                          host, rows, vsPgAppendRawRow, what, error);
    }

    /* COPY cannot upsert: stage in a temp table, then merge. */
    rows = vsPgSampleRows(batch->samples);
    return vsPgExecCommand(s,
                           "CREATE TEMP TABLE IF NOT EXISTS vs_samples_5m_in"
                           " (LIKE samples_5m) ON COMMIT DELETE ROWS",
                           0, NULL, PGRES_COMMAND_OK, what, error) &&
           vsPgCopyIn(s, "COPY vs_samples_5m_in (" VS_PG_ROLLUP_COLUMNS ")"
                      " FROM STDIN (FORMAT binary)",
                      host, rows, vsPgAppend5mRow, what, error) &&
           vsPgExecCommand(s, VS_PG_MERGE_5M, 0, NULL, PGRES_COMMAND_OK, what, error);
}

gboolean
vsPgWriteSamples(gpointer priv, const char *host, const vsSampleBatch *batch,
                 GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot store sample batch '%016" G_GINT64_MODIFIER
                                            "x'", batch->id);

    if (batch->rollup_s != 0 && batch->rollup_s != 300) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "%s: unsupported rollup interval '%u'", what, batch->rollup_s);
        return FALSE;
    }
    if (!vsPgCheckConnection(s, error) ||
        !vsPgResolveLabelSets(s, batch, what, error))
        return FALSE;
    if (!vsPgExecCommand(s, "BEGIN", 0, NULL, PGRES_COMMAND_OK, what, error))
        return FALSE;
    if (!vsPgWriteSamplesLocked(s, host, batch, what, error) ||
        !vsPgExecCommand(s, "COMMIT", 0, NULL, PGRES_COMMAND_OK, what, error)) {
        vsPgRollback(s);
        return FALSE;
    }
    return TRUE;
}

/* "2024-01-31" for the UTC day of @us. */
static char *
vsPgDay(gint64 us)
{
    g_autoptr(GDateTime) dt =
        g_date_time_new_from_unix_utc(vsPgFloorDiv(us, G_USEC_PER_SEC));

    return dt ? g_date_time_format(dt, "%Y-%m-%d") : g_strdup("1970-01-01");
}

typedef struct {
    gint64 lo;
    gint64 hi;
} vsPgRange;

static gint
vsPgRangeCompare(gconstpointer a, gconstpointer b)
{
    const vsPgRange *x = a;
    const vsPgRange *y = b;

    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and coalesce overlapping or touching ranges, dropping empty ones. */
static void
vsPgRangesMerge(GArray *ranges)
{
    guint i;
    guint out = 0;

    g_array_sort(ranges, vsPgRangeCompare);
    for (i = 0; i < ranges->len; i++) {
        vsPgRange r = g_array_index(ranges, vsPgRange, i);

        if (r.lo >= r.hi)
            continue;
        if (out > 0 && r.lo <= g_array_index(ranges, vsPgRange, out - 1).hi) {
            vsPgRange *prev = &g_array_index(ranges, vsPgRange, out - 1);

            prev->hi = MAX(prev->hi, r.hi);
            continue;
        }
        g_array_index(ranges, vsPgRange, out++) = r;
    }
    g_array_set_size(ranges, out);
}

#define VS_PG_ROLLUP_5M \
    "INSERT INTO samples_5m (" VS_PG_ROLLUP_COLUMNS ")" \
    " SELECT date_bin('5 minutes', at, '2000-01-01 00:00:00+00'), domain_uuid," \
    " (array_agg(domain_name ORDER BY at DESC))[1], count(*)," \
    " avg(cpu_vcpus), max(cpu_vcpus)," \
    " percentile_cont(0.95) WITHIN GROUP (ORDER BY cpu_vcpus)," \
    " round(avg(mem_used_kib)), max(mem_used_kib)," \
    " round(percentile_cont(0.95) WITHIN GROUP (ORDER BY mem_used_kib))," \
    " round(avg(mem_current_kib)), avg(disk_rd_bps), avg(disk_wr_bps)," \
    " avg(net_rx_bps), avg(net_tx_bps)" \
    " FROM samples WHERE at >= " VS_PG_TS(1) " AND at < " VS_PG_TS(2) \
    " GROUP BY 1, 2" \
    " ON CONFLICT (domain_uuid, bucket) DO UPDATE SET" \
    " domain_name = EXCLUDED.domain_name, n = EXCLUDED.n," \
    " cpu_avg = EXCLUDED.cpu_avg, cpu_max = EXCLUDED.cpu_max, cpu_p95 = EXCLUDED.cpu_p95," \
    " mem_used_avg = EXCLUDED.mem_used_avg, mem_used_max = EXCLUDED.mem_used_max," \
    " mem_used_p95 = EXCLUDED.mem_used_p95, mem_current_avg = EXCLUDED.mem_current_avg," \
    " disk_rd_bps_avg = EXCLUDED.disk_rd_bps_avg, disk_wr_bps_avg = EXCLUDED.disk_wr_bps_avg," \
    " net_rx_bps_avg = EXCLUDED.net_rx_bps_avg, net_tx_bps_avg = EXCLUDED.net_tx_bps_avg"

/* The hour from its 5-minute rows: averages weighted by n, p95 the largest
 * 5-minute p95 (an upper bound: the raw samples may be gone). */
#define VS_PG_ROLLUP_1H \
    "INSERT INTO samples_1h (" VS_PG_ROLLUP_COLUMNS ")" \
    " SELECT date_bin('1 hour', bucket, '2000-01-01 00:00:00+00'), domain_uuid," \
    " (array_agg(domain_name ORDER BY bucket DESC))[1], sum(n)," \
    VS_PG_WAVG("cpu_avg") ", max(cpu_max), max(cpu_p95)," \
    " round(" VS_PG_WAVG("mem_used_avg") "), max(mem_used_max), max(mem_used_p95)," \
    " round(" VS_PG_WAVG("mem_current_avg") ")," VS_PG_WAVG("disk_rd_bps_avg") "," \
    VS_PG_WAVG("disk_wr_bps_avg") "," VS_PG_WAVG("net_rx_bps_avg") "," \
    VS_PG_WAVG("net_tx_bps_avg") \
    " FROM samples_5m WHERE bucket >= " VS_PG_TS(1) " AND bucket < " VS_PG_TS(2) \
    " GROUP BY 1, 2" \
    " ON CONFLICT (domain_uuid, bucket) DO UPDATE SET" \
    " domain_name = EXCLUDED.domain_name, n = EXCLUDED.n," \
    " cpu_avg = EXCLUDED.cpu_avg, cpu_max = EXCLUDED.cpu_max, cpu_p95 = EXCLUDED.cpu_p95," \
    " mem_used_avg = EXCLUDED.mem_used_avg, mem_used_max = EXCLUDED.mem_used_max," \
    " mem_used_p95 = EXCLUDED.mem_used_p95, mem_current_avg = EXCLUDED.mem_current_avg," \
    " disk_rd_bps_avg = EXCLUDED.disk_rd_bps_avg, disk_wr_bps_avg = EXCLUDED.disk_wr_bps_avg," \
    " net_rx_bps_avg = EXCLUDED.net_rx_bps_avg, net_tx_bps_avg = EXCLUDED.net_tx_bps_avg"

static gboolean
vsPgRollupRanges(vsPgStore *s, const char *sql, GArray *ranges, const char *what,
                 GError **error)
{
    guint i;

    vsPgRangesMerge(ranges);
    for (i = 0; i < ranges->len; i++) {
        vsPgRange *r = &g_array_index(ranges, vsPgRange, i);
        g_autofree char *lo = vsPgInt64(r->lo);
        g_autofree char *hi = vsPgInt64(r->hi);
        const char *params[] = { lo, hi };

        if (!vsPgExecCommand(s, sql, 2, params, PGRES_COMMAND_OK, what, error))
            return FALSE;
    }
    return TRUE;
}

gint64
vsPgGetUs(PGresult *res, int row, int col, gint64 fallback)
{
    if (PQgetisnull(res, row, col))
        return fallback;
    return g_ascii_strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Roll up, in one transaction holding the state row: the 5-minute buckets
 * closed since the last run and those late batches touched, then the hours
 * their 5-minute rows belong to. */
static gboolean
vsPgRollupLocked(vsPgStore *s, gint64 now_us, guint64 rollup_retention_ms,
                 guint64 raw_retention_ms, const char *what, GError **error)
{
    g_autoptr(vsPgResult) state = NULL;
    g_autoptr(vsPgResult) late = NULL;
    g_autoptr(GArray) r5 = g_array_new(FALSE, FALSE, sizeof(vsPgRange));
    g_autoptr(GArray) r1h = g_array_new(FALSE, FALSE, sizeof(vsPgRange));
    gint64 closed = vsPgFloorTo(now_us, VS_PG_5M_US);
    gint64 closedHour = vsPgFloorTo(now_us, VS_PG_1H_US);
    gint64 rolled;
    g_autofree char *closedStr = vsPgInt64(closed);
    g_autofree char *rolledStr = NULL;
    guint i;

    if (!(state = vsPgExec(s,
                           "SELECT " VS_PG_US("rolled_until") ","
                           " (SELECT " VS_PG_US("min(first_at)")
                           "  FROM sample_batches WHERE rollup_s = 0),"
                           " batches_until IS NULL"
                           " FROM sample_rollup_state FOR UPDATE",
                           0, NULL, PGRES_TUPLES_OK, what, error)))
        return FALSE;
    if (PQntuples(state) != 1) {
        g_set_error(error, VS_ERROR, VS_ERROR_SCHEMA,
                    "%s: table 'sample_rollup_state' has no row", what);
        return FALSE;
    }
    /* First run: from the oldest stored batch. */
    rolled = vsPgGetUs(state, 0, 0,
                       vsPgFloorTo(vsPgGetUs(state, 0, 1, closed), VS_PG_5M_US));
    rolledStr = vsPgInt64(rolled);
    if (rolled < closed)
        g_array_append_val(r5, ((vsPgRange){ rolled, closed }));

    {
        const char *params[] = { rolledStr };

        /* Batches stored since the last run (with slack for slow commits)
         * holding samples of buckets already rolled up. */
        if (!(late = vsPgExec(s,
                              "SELECT rollup_s, " VS_PG_US("first_at") ", " VS_PG_US("last_at")
                              " FROM sample_batches, sample_rollup_state st"
                              " WHERE first_at IS NOT NULL"
                              "   AND (st.batches_until IS NULL OR"
                              "        stored_at >= st.batches_until - interval '"
                              VS_PG_LATE_SLACK "')"
                              "   AND first_at < " VS_PG_TS(1),
                              1, params, PGRES_TUPLES_OK, what, error)))
            return FALSE;
    }
    for (i = 0; i < (guint)PQntuples(late); i++) {
        int rollup_s = atoi(PQgetvalue(late, i, 0));
        gint64 first = vsPgGetUs(late, i, 1, 0);
        gint64 last = vsPgGetUs(late, i, 2, 0);
        vsPgRange r;

        if (rollup_s == 0) {
            r.lo = vsPgFloorTo(first, VS_PG_5M_US);
            r.hi = MIN(vsPgFloorTo(last, VS_PG_5M_US) + VS_PG_5M_US, rolled);
            g_array_append_val(r5, r);
        } else {
            /* Stored into samples_5m directly: only its hours change. */
            r.lo = vsPgFloorTo(first - 1, VS_PG_5M_US);
            r.hi = vsPgFloorTo(last - 1, VS_PG_5M_US) + VS_PG_5M_US;
            g_array_append_val(r1h, r);
        }
    }
    for (i = 0; i < r5->len; i++)
        g_array_append_val(r1h, g_array_index(r5, vsPgRange, i));
    if (!vsPgRollupRanges(s, VS_PG_ROLLUP_5M, r5, what, error))
        return FALSE;

    /* Whole hours, and only closed ones: an open hour is done by the run
     * whose 5-minute range reaches its end. */
    for (i = 0; i < r1h->len; i++) {
        vsPgRange *r = &g_array_index(r1h, vsPgRange, i);

        r->lo = vsPgFloorTo(r->lo, VS_PG_1H_US);
        r->hi = MIN(vsPgFloorTo(r->hi - 1, VS_PG_1H_US) + VS_PG_1H_US, closedHour);
    }
    if (!vsPgRollupRanges(s, VS_PG_ROLLUP_1H, r1h, what, error))
        return FALSE;

    {
        const char *params[] = { closedStr };

        if (!vsPgExecCommand(s,
                             "UPDATE sample_rollup_state SET"
                             " rolled_until = greatest(rolled_until, " VS_PG_TS(1) "),"
                             " batches_until = now()",
                             1, params, PGRES_COMMAND_OK, what, error))
            return FALSE;
    }

    if (rollup_retention_ms > 0) {
        g_autofree char *cutoff = vsPgInt64(now_us - (gint64)rollup_retention_ms * 1000);
        const char *params[] = { cutoff };

        if (!vsPgExecCommand(s, "DELETE FROM samples_5m WHERE bucket < " VS_PG_TS(1),
                             1, params, PGRES_COMMAND_OK, what, error) ||
            !vsPgExecCommand(s, "DELETE FROM samples_1h WHERE bucket < " VS_PG_TS(1),
                             1, params, PGRES_COMMAND_OK, what, error))
            return FALSE;
    }
    if (rollup_retention_ms > 0 && raw_retention_ms > 0) {
        /* A replayed batch older than both retentions would be dropped
         * anyway: its id need not be remembered. */
        g_autofree char *cutoff =
            vsPgInt64(now_us - (gint64)MAX(rollup_retention_ms, raw_retention_ms) * 1000);
        const char *params[] = { cutoff };

        if (!vsPgExecCommand(s, "DELETE FROM sample_batches WHERE stored_at < " VS_PG_TS(1),
                             1, params, PGRES_COMMAND_OK, what, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
vsPgMaintainSamples(gpointer priv, gint64 now_us, guint days_ahead,
                    guint64 raw_retention_ms, guint64 rollup_retention_ms,
                    GError **error)
{
    vsPgStore *s = priv;
    const char *what = "cannot maintain samples";
    g_autofree char *yesterday = vsPgDay(now_us - VS_PG_US_PER_DAY);
    g_autofree char *today = vsPgDay(now_us);
    g_autofree char *days = g_strdup_printf("%u", days_ahead + 2);
    const char *ensureParams[] = { yesterday, days };

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    /* Each step commits on its own: partition DDL takes strong locks that
     * must not wait behind the rollups. */
    if (!vsPgExecCommand(s, "SELECT vs_samples_ensure_partitions($1::date, $2::int)",
                         2, ensureParams, PGRES_TUPLES_OK, what, error))
        return FALSE;
    if (!vsPgExecCommand(s, "SELECT vs_samples_index_closed($1::date)",
                         1, (const char *[]){ today }, PGRES_TUPLES_OK, what, error))
        return FALSE;
    /* 0 keeps raw samples forever. */
    if (raw_retention_ms > 0) {
        g_autofree char *day = vsPgDay(now_us - (gint64)raw_retention_ms * 1000);
        const char *params[] = { day };

        if (!vsPgExecCommand(s, "SELECT vs_samples_drop_before($1::date)",
                             1, params, PGRES_TUPLES_OK, what, error))
            return FALSE;
    }

    if (!vsPgExecCommand(s, "BEGIN", 0, NULL, PGRES_COMMAND_OK, what, error))
        return FALSE;
    if (!vsPgRollupLocked(s, now_us, rollup_retention_ms, raw_retention_ms, what, error) ||
        !vsPgExecCommand(s, "COMMIT", 0, NULL, PGRES_COMMAND_OK, what, error)) {
        vsPgRollback(s);
        return FALSE;
    }
    return vsPgExpireForecasts(s, now_us, raw_retention_ms, rollup_retention_ms, what, error);
}

double
vsPgGetDouble(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NAN : g_ascii_strtod(PQgetvalue(res, row, col), NULL);
}

static void
vsPgSampleFromRow(PGresult *res, int row, vsSample *x)
{
    vsSampleInit(x);
    x->time_us = vsPgGetUs(res, row, 0, 0);
    g_strlcpy(x->uuid, PQgetvalue(res, row, 1), sizeof(x->uuid));
    x->name = g_strdup(PQgetvalue(res, row, 2));
    x->interval_s = vsPgGetDouble(res, row, 3);
    x->cpu_vcpus = vsPgGetDouble(res, row, 4);
    x->cpu_per_vcpu = vsPgGetDouble(res, row, 5);
    x->vcpus = (gint32)vsPgGetUs(res, row, 6, -1);
    x->vcpus_max = (gint32)vsPgGetUs(res, row, 7, -1);
    x->mem_used_kib = vsPgGetUs(res, row, 8, -1);
    x->mem_used_is_rss = !PQgetisnull(res, row, 9) && PQgetvalue(res, row, 9)[0] == 't';
    x->mem_current_kib = vsPgGetUs(res, row, 10, -1);
    x->mem_max_kib = vsPgGetUs(res, row, 11, -1);
    x->disk_rd_bps = vsPgGetDouble(res, row, 12);
    x->disk_wr_bps = vsPgGetDouble(res, row, 13);
    x->disk_rd_iops = vsPgGetDouble(res, row, 14);
    x->disk_wr_iops = vsPgGetDouble(res, row, 15);
    x->net_rx_bps = vsPgGetDouble(res, row, 16);
    x->net_tx_bps = vsPgGetDouble(res, row, 17);
    x->labels = PQgetisnull(res, row, 18) ? NULL : g_strdup(PQgetvalue(res, row, 18));
}

#define VS_PG_SAMPLE_COLUMNS \
    VS_PG_US("at") ", domain_uuid::text, domain_name, interval_s, cpu_vcpus, cpu_per_vcpu," \
    " vcpus, vcpus_max, mem_used_kib, mem_used_is_rss, mem_current_kib, mem_max_kib," \
    " disk_rd_bps, disk_wr_bps, disk_rd_iops, disk_wr_iops, net_rx_bps, net_tx_bps," \
    " (SELECT l.labels::text FROM sample_label_sets l WHERE l.id = label_set)"

GArray *
vsPgQuerySamples(gpointer priv, const char *domain, gint64 since_us, gint64 until_us,
                 GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *since = vsPgInt64(since_us);
    /* G_MAXINT64 means "no end": it is out of range for a timestamp */
    g_autofree char *until = until_us == G_MAXINT64 ? NULL : vsPgInt64(until_us);
    g_autofree char *what = g_strdup_printf("cannot read samples of domain '%s'", domain);
    g_autoptr(vsPgResult) res = NULL;
    /* A UUID first (its btree and the BRIN on at serve it), then a name,
     * like virsh. */
    gboolean byUuid = g_uuid_string_is_valid(domain);
    GArray *list;

    if (!vsPgCheckConnection(s, error))
        return NULL;
    for (;;) {
        const char *params[] = { since, until, domain };

        res = vsPgExec(s,
                       byUuid ?
                       "SELECT " VS_PG_SAMPLE_COLUMNS " FROM samples"
                       " WHERE at >= " VS_PG_TS(1) " AND ($2::bigint IS NULL OR at < " VS_PG_TS(2) ")"
                       "   AND domain_uuid = $3::uuid ORDER BY at" :
                       "SELECT " VS_PG_SAMPLE_COLUMNS " FROM samples"
                       " WHERE at >= " VS_PG_TS(1) " AND ($2::bigint IS NULL OR at < " VS_PG_TS(2) ")"
                       "   AND domain_name = $3 ORDER BY at",
                       3, params, PGRES_TUPLES_OK, what, error);
        if (!res)
            return NULL;
        if (PQntuples(res) > 0 || !byUuid)
            break;
        /* a name that looks like a UUID */
        byUuid = FALSE;
        g_clear_pointer(&res, PQclear);
    }

    list = g_array_sized_new(FALSE, FALSE, sizeof(vsSample), PQntuples(res));
    g_array_set_clear_func(list, (GDestroyNotify)vsSampleClear);
    g_array_set_size(list, PQntuples(res));
    for (int i = 0; i < PQntuples(res); i++)
        vsPgSampleFromRow(res, i, &g_array_index(list, vsSample, i));
    return list;
}

gboolean
vsPgSetDomainLabels(gpointer priv, const char *uuid, const char *name,
                    const char *labels_json, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot set labels of domain '%s'",
                                            name ? name : uuid);
    g_autoptr(vsPgResult) res = NULL;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!labels_json) {
        const char *params[] = { uuid };

        return vsPgExecCommand(s, "DELETE FROM domain_labels WHERE domain_uuid = $1::uuid",
                               1, params, PGRES_COMMAND_OK, what, error);
    }

    {
        const char *params[] = { labels_json };
        g_autoptr(GError) local = NULL;

        /* The server's parser decides what is JSON. */
        res = vsPgExec(s,
                       "SELECT jsonb_typeof(j) = 'object' AND NOT EXISTS ("
                       " SELECT 1 FROM jsonb_each(CASE WHEN jsonb_typeof(j) = 'object'"
                       " THEN j END) e WHERE jsonb_typeof(e.value) <> 'string')"
                       " FROM (SELECT $1::jsonb AS j) v",
                       1, params, PGRES_TUPLES_OK, what, &local);
        if (!res) {
            if (local->code == VS_ERROR_CONNECT) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
            }
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "invalid labels for domain '%s': %s", name ? name : uuid,
                        local->message + strlen(what) + 2);
            return FALSE;
        }
        if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "invalid labels for domain '%s': expected a JSON object of strings",
                        name ? name : uuid);
            return FALSE;
        }
    }

    {
        const char *params[] = { uuid, name, labels_json };

        return vsPgExecCommand(s,
                               "INSERT INTO domain_labels (domain_uuid, domain_name, labels,"
                               " updated_at) VALUES ($1::uuid, $2, $3::jsonb, now())"
                               " ON CONFLICT (domain_uuid) DO UPDATE SET"
                               " domain_name = EXCLUDED.domain_name,"
                               " labels = EXCLUDED.labels, updated_at = now()",
                               3, params, PGRES_COMMAND_OK, what, error);
    }
}

GHashTable *
vsPgGetDomainLabels(gpointer priv, GError **error)
{
    vsPgStore *s = priv;
    g_autoptr(vsPgResult) res = NULL;
    GHashTable *labels;

    if (!vsPgCheckConnection(s, error))
        return NULL;
    if (!(res = vsPgExec(s, "SELECT domain_uuid::text, labels::text FROM domain_labels",
                         0, NULL, PGRES_TUPLES_OK, "cannot read domain labels", error)))
        return NULL;
    labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (int i = 0; i < PQntuples(res); i++)
        g_hash_table_insert(labels, g_strdup(PQgetvalue(res, i, 0)),
                            g_strdup(PQgetvalue(res, i, 1)));
    return labels;
}

