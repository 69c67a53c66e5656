/*
 * vstrace.c: resource-usage traces for "virt-shadow backtest"
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forecast/vstrace.h"
#include "util/vserror.h"

/* The bitbrains columns we use, 0-based. */
enum {
    VS_BB_TIME,
    VS_BB_CORES,
    VS_BB_CAP_MHZ,
    VS_BB_USE_MHZ,
    VS_BB_USE_PCT,          /* unused: derived from the two above */
    VS_BB_MEM_CAP_KB,
    VS_BB_MEM_USE_KB,
    VS_BB_USED,             /* columns a row needs at least */
};

#define VS_TRACE_READ_CHUNK (256 * 1024)
#define VS_TRACE_MAX_HINT (256 * 1024 * 1024)

static const char *const vsTraceFormatNames[] = {
    [VS_TRACE_BITBRAINS] = "bitbrains",
    [VS_TRACE_CSV] = "csv",
    [VS_TRACE_PLAIN] = "plain",
};

gboolean
vsTraceFormatFromString(const char *text, vsTraceFormat *ret, GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(vsTraceFormatNames); i++) {
        if (g_strcmp0(text, vsTraceFormatNames[i]) == 0) {
            *ret = (vsTraceFormat)i;
            return TRUE;
        }
    }
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                "unknown trace format '%s' (expected bitbrains, csv or plain)",
                text ? text : "");
    return FALSE;
}

const char *
vsTraceFormatToString(vsTraceFormat format)
{
    if ((gsize)format >= G_N_ELEMENTS(vsTraceFormatNames))
        return "unknown";
    return vsTraceFormatNames[format];
}

void
vsTraceOptionsDefaults(vsTraceOptions *o)
{
    o->format = VS_TRACE_BITBRAINS;
    o->interval_s = 300;
    o->value_resource = VS_RESOURCE_CPU;
    o->step_s = 300;
    o->max_fill_slots = 24;
    o->max_warnings = 10;
    o->max_slots = (gsize)1 << 22;  /* 40 years of 5-min slots, ~140 MB */
}

void
vsTraceFree(vsTrace *t)
{
    if (!t)
        return;
    g_free(t->name);
    g_free(t->cpu);
    g_free(t->mem_mib);
    g_free(t->cpu_prov);
    g_free(t->mem_prov_mib);
    g_free(t->scored);
    g_strfreev(t->warnings);
    g_free(t);
}

/* --- one line --------------------------------------------------------------- */

/* Plain decimals ("747.1051929") without strtod, which takes half the time
 * of reading a trace otherwise.  Clinger's fast path: a mantissa below 2^53
 * and a power of ten up to 1e22 are exact doubles, so one IEEE division
 * rounds exactly as strtod does.  FALSE: let strtod decide. */
static gboolean
vsTraceFastDecimal(const char *p, const char *end, double *ret)
{
    static const double pow10[] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    };
    guint64 m = 0;
    guint digits = 0;
    gint frac = -1;     /* digits after the point; -1: no point yet */

    for (; p < end; p++) {
        if (g_ascii_isdigit(*p)) {
            if (++digits > 19)
                return FALSE;   /* m could overflow */
            m = m * 10 + (guint64)(*p - '0');
            if (frac >= 0)
                frac++;
        } else if (*p == '.' && frac < 0) {
            frac = 0;
        } else {
            return FALSE;
        }
    }
    if (digits == 0 || m > ((guint64)1 << 53) || frac >= (gint)G_N_ELEMENTS(pow10))
        return FALSE;
    *ret = (double)m / pow10[MAX(frac, 0)];
    return TRUE;
}

/* The number spanning [start, end), blanks (and \r) around it allowed.
 * strtod never passes @end: it is a separator, a blank or the NUL. */
static gboolean
vsTraceNumber(const char *start, const char *end, double *ret)
{
    char *stop = NULL;

    while (start < end && g_ascii_isspace(*start))
        start++;
    while (end > start && g_ascii_isspace(end[-1]))
        end--;
    if (start == end)
        return FALSE;
    if (vsTraceFastDecimal(start, end, ret))
        return TRUE;
    *ret = g_ascii_strtod(start, &stop);
    return stop == end;
}

/* Split @line at @sep; the first @max fields' bounds go to @starts/@ends.
 * Returns the field count (saturating). */
static guint
vsTraceSplit(const char *line, char sep, const char **starts, const char **ends,
             guint max)
{
    const char *p = line;
    guint n = 0;

    for (;;) {
        const char *q = sep ? strchr(p, sep) : NULL;
        const char *e = q ? q : p + strlen(p);

        if (n < max) {
            starts[n] = p;
            ends[n] = e;
        }
        if (n < G_MAXUINT)
            n++;
        if (!q)
            return n;
        p = q + 1;
    }
}

static char
vsTraceSeparator(vsTraceFormat format)
{
    switch (format) {
    case VS_TRACE_BITBRAINS:
        return ';';
    case VS_TRACE_CSV:
        return ',';
    case VS_TRACE_PLAIN:
        break;
    }
    return '\0';
}

static vsTraceLineResult
vsTraceBad(const char **ret_reason, const char *reason)
{
    if (ret_reason)
        *ret_reason = reason;
    return VS_TRACE_LINE_BAD;
}

/* Every value must be a finite number >= 0. */
static vsTraceLineResult
vsTraceCheckValues(const double *v, guint n, const char **ret_reason)
{
    for (guint i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return vsTraceBad(ret_reason, "NaN or infinite value");
        if (v[i] < 0)
            return vsTraceBad(ret_reason, "negative value");
    }
    return VS_TRACE_LINE_OK;
}

static vsTraceLineResult
vsTraceParseBitbrains(const char *line, guint n_fields, vsTraceRow *row,
                      const char **ret_reason)
{
    const char *starts[VS_BB_USED];
    const char *ends[VS_BB_USED];
    double v[VS_BB_USED];
    guint n = vsTraceSplit(line, ';', starts, ends, VS_BB_USED);
    vsTraceLineResult res;

    if (n < VS_BB_USED || (n_fields && n != n_fields))
        return vsTraceBad(ret_reason, "wrong column count");
    for (guint i = 0; i < VS_BB_USED; i++) {
        if (i == VS_BB_USE_PCT) {
            v[i] = 0;       /* not used, not checked */
            continue;
        }
        if (!vsTraceNumber(starts[i], ends[i], &v[i]))
            return vsTraceBad(ret_reason, "unparsable number");
    }
    /* Padding is all zeros; test it first so it is never "bad". */
    if (v[VS_BB_CORES] == 0 || v[VS_BB_CAP_MHZ] == 0)
        return VS_TRACE_LINE_PADDING;
    if ((res = vsTraceCheckValues(v, VS_BB_USED, ret_reason)) != VS_TRACE_LINE_OK)
        return res;

    row->t = v[VS_BB_TIME];
    /* The rules' formula, in their order, so results match bit for bit. */
    row->cpu = v[VS_BB_USE_MHZ] / (v[VS_BB_CAP_MHZ] / v[VS_BB_CORES]);
    row->mem_mib = v[VS_BB_MEM_USE_KB] / 1024;
    row->cpu_prov = v[VS_BB_CORES];
    row->mem_prov_mib = v[VS_BB_MEM_CAP_KB] / 1024;
    return VS_TRACE_LINE_OK;
}

/* csv (time, value) and plain (value): one resource. */
static vsTraceLineResult
vsTraceParseValue(const vsTraceOptions *o, const char *line, vsTraceRow *row,
                  const char **ret_reason)
{
    const char *starts[2];
    const char *ends[2];
    double v[2] = { NAN, NAN };
    guint want = o->format == VS_TRACE_CSV ? 2 : 1;
    guint n = vsTraceSplit(line, vsTraceSeparator(o->format), starts, ends, 2);
    vsTraceLineResult res;

    if (n != want)
        return vsTraceBad(ret_reason, "wrong column count");
    for (guint i = 0; i < n; i++) {
        if (!vsTraceNumber(starts[i], ends[i], &v[i]))
            return vsTraceBad(ret_reason, "unparsable number");
    }
    if ((res = vsTraceCheckValues(v, n, ret_reason)) != VS_TRACE_LINE_OK)
        return res;

    row->t = n == 2 ? v[0] : NAN;
    row->cpu = row->mem_mib = row->cpu_prov = row->mem_prov_mib = NAN;
    if (o->value_resource == VS_RESOURCE_MEMORY)
        row->mem_mib = v[n - 1];
    else
        row->cpu = v[n - 1];
    return VS_TRACE_LINE_OK;
}

vsTraceLineResult
vsTraceParseLine(const vsTraceOptions *o, const char *line, guint n_fields,
                 vsTraceRow *ret_row, const char **ret_reason)
{
    vsTraceRow row;
    vsTraceLineResult res;

    if (o->format == VS_TRACE_BITBRAINS)
        res = vsTraceParseBitbrains(line, n_fields, &row, ret_reason);
    else
        res = vsTraceParseValue(o, line, &row, ret_reason);
    if (res == VS_TRACE_LINE_OK)
        *ret_row = row;
    return res;
}

/* --- a whole file ------------------------------------------------------------ */

typedef struct _vsTraceReader vsTraceReader;
struct _vsTraceReader {
    const vsTraceOptions *o;
    const char *source;
    GArray *rows;           /* vsTraceRow, time strictly increasing */
    GPtrArray *warnings;
    guint skipped;
    guint padding;
    guint n_fields;         /* bitbrains: the header's column count */
    guint64 index;          /* plain: value lines so far */
    gboolean seen_first;
};

static void
vsTraceSkip(vsTraceReader *r, guint lineno, const char *reason)
{
    r->skipped++;
    /* A cap per file, so 150 broken files cannot flood stderr. */
    if (r->skipped <= r->o->max_warnings)
        g_ptr_array_add(r->warnings,
                        g_strdup_printf("%s:%u: %s", r->source, lineno, reason));
}

static gboolean
vsTraceBlank(const char *line)
{
    while (g_ascii_isspace(*line))
        line++;
    return *line == '\0';
}

/* The first non-empty line is a header when its first field is no number. */
static gboolean
vsTraceIsHeader(vsTraceReader *r, const char *line)
{
    char sep = vsTraceSeparator(r->o->format);
    const char *start;
    const char *end;
    double v;
    guint n = vsTraceSplit(line, sep, &start, &end, 1);

    if (vsTraceNumber(start, end, &v))
        return FALSE;
    if (r->o->format == VS_TRACE_BITBRAINS)
        r->n_fields = n;
    return TRUE;
}

static void
vsTraceLine(vsTraceReader *r, const char *line, guint lineno)
{
    const char *reason = NULL;
    vsTraceRow row;
    vsTraceLineResult res;

    if (vsTraceBlank(line))
        return;
    if (!r->seen_first) {
        r->seen_first = TRUE;
        if (vsTraceIsHeader(r, line))
            return;
    }

    res = vsTraceParseLine(r->o, line, r->n_fields, &row, &reason);
    if (r->o->format == VS_TRACE_PLAIN)
        row.t = (double)r->index++ * r->o->interval_s;
    if (res == VS_TRACE_LINE_PADDING) {
        r->padding++;
        return;
    }
    if (res == VS_TRACE_LINE_BAD) {
        vsTraceSkip(r, lineno, reason);
        return;
    }
    if (r->rows->len > 0) {
        double last = g_array_index(r->rows, vsTraceRow, r->rows->len - 1).t;

        if (row.t == last) {
            vsTraceSkip(r, lineno, "duplicate timestamp");
            return;
        }
        if (row.t < last) {
            vsTraceSkip(r, lineno, "time going backwards");
            return;
        }
    }
    g_array_append_val(r->rows, row);
}

/* Feed @r every line of @data; a reused buffer gives strtod its NUL. */
static void
vsTraceLines(vsTraceReader *r, const char *data, gsize len)
{
    const char *p = data;
    const char *end = data + len;
    gsize cap = 256;
    g_autofree char *buf = g_malloc(cap);
    guint lineno = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', end - p);
        gsize n = (nl ? nl : end) - p;

        if (n + 1 > cap) {
            cap = n + 1;
            buf = g_realloc(buf, cap);
        }
        memcpy(buf, p, n);
        buf[n] = '\0';
        p = nl ? nl + 1 : end;
        vsTraceLine(r, buf, ++lineno);
    }
}

/* "dir/12.csv.gz" -> "12" */
static char *
vsTraceName(const char *source)
{
    g_autofree char *base = g_path_get_basename(source);
    char *dot;

    if (g_str_has_suffix(base, ".gz"))
        base[strlen(base) - 3] = '\0';
    dot = strrchr(base, '.');
    if (dot && dot != base)
        *dot = '\0';
    return g_steal_pointer(&base);
}

static gboolean
vsTraceCheckOptions(const vsTraceOptions *o, GError **error)
{
    if ((gsize)o->format >= G_N_ELEMENTS(vsTraceFormatNames)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "unknown trace format %d",
                    (int)o->format);
        return FALSE;
    }
    if (!isfinite(o->step_s) || o->step_s <= 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid trace step '%g' (expected seconds > 0)", o->step_s);
        return FALSE;
    }
    if (o->format == VS_TRACE_PLAIN && (!isfinite(o->interval_s) || o->interval_s <= 0)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid trace interval '%g' (expected seconds > 0)", o->interval_s);
        return FALSE;
    }
    return TRUE;
}

/* --- the grid ----------------------------------------------------------------- */

/* Average @rows into the grid's slots; provisioned sizes take the last row. */
static void
vsTraceAccumulate(vsTrace *t, const GArray *rows, double first_slot, guint *count)
{
    for (guint i = 0; i < rows->len; i++) {
        const vsTraceRow *row = &g_array_index(rows, vsTraceRow, i);
        gsize k = (gsize)(floor(row->t / t->step_s) - first_slot);

        k = MIN(k, t->n - 1);   /* cannot happen: rows are sorted */
        count[k]++;
        if (t->cpu)
            t->cpu[k] += row->cpu;
        if (t->mem_mib)
            t->mem_mib[k] += row->mem_mib;
        if (t->cpu_prov)
            t->cpu_prov[k] = row->cpu_prov;
        if (t->mem_prov_mib)
            t->mem_prov_mib[k] = row->mem_prov_mib;
    }
}

static void
vsTraceCopySlot(double *v, gsize to, gsize from)
{
    if (v)
        v[to] = v[from];
}

/* Means, then forward fill: a gap of more than max_fill_slots empty slots is
 * filled too (policies see it) but not scored. */
static void
vsTraceFill(vsTrace *t, const guint *count, guint max_fill_slots)
{
    gsize i = 0;

    while (i < t->n) {
        gsize j = i;
        gboolean scored;

        if (count[i] > 0) {
            if (t->cpu)
                t->cpu[i] /= count[i];
            if (t->mem_mib)
                t->mem_mib[i] /= count[i];
            t->scored[i++] = 1;
            continue;
        }
        /* Slot 0 always has a row, so i > 0 and the gap ends before n. */
        while (j < t->n && count[j] == 0)
            j++;
        scored = j - i <= max_fill_slots;
        for (; i < j; i++) {
            vsTraceCopySlot(t->cpu, i, i - 1);
            vsTraceCopySlot(t->mem_mib, i, i - 1);
            vsTraceCopySlot(t->cpu_prov, i, i - 1);
            vsTraceCopySlot(t->mem_prov_mib, i, i - 1);
            t->scored[i] = scored;
            if (scored)
                t->filled_slots++;
            else
                t->unscored_slots++;
        }
    }
}

static gboolean
vsTraceGrid(vsTrace *t, const char *source, const GArray *rows,
            const vsTraceOptions *o, GError **error)
{
    g_autofree guint *count = NULL;
    gboolean has_cpu, has_mem;
    double first, last, span;

    t->start_t = NAN;
    if (rows->len == 0)
        return TRUE;

    first = floor(g_array_index(rows, vsTraceRow, 0).t / o->step_s);
    last = floor(g_array_index(rows, vsTraceRow, rows->len - 1).t / o->step_s);
    span = last - first + 1;
    if (!(span >= 1 && span <= (double)o->max_slots)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "trace '%s' spans %.0f slots of %g s (at most %" G_GSIZE_FORMAT ")",
                    source, span, o->step_s, o->max_slots);
        return FALSE;
    }

    t->n = (gsize)span;
    t->start_t = first * o->step_s;
    has_cpu = o->format == VS_TRACE_BITBRAINS || o->value_resource == VS_RESOURCE_CPU;
    has_mem = o->format == VS_TRACE_BITBRAINS || o->value_resource == VS_RESOURCE_MEMORY;
    if (has_cpu)
        t->cpu = g_new0(double, t->n);
    if (has_mem)
        t->mem_mib = g_new0(double, t->n);
    if (o->format == VS_TRACE_BITBRAINS) {
        t->cpu_prov = g_new0(double, t->n);
        t->mem_prov_mib = g_new0(double, t->n);
    }
    t->scored = g_new0(guint8, t->n);
    count = g_new0(guint, t->n);

    vsTraceAccumulate(t, rows, first, count);
    vsTraceFill(t, count, o->max_fill_slots);
    return TRUE;
}

/* The reader's warnings, with a summary of those over the cap; consumes them. */
static char **
vsTraceTakeWarnings(vsTraceReader *r)
{
    GPtrArray *w = g_steal_pointer(&r->warnings);

    if (r->skipped > r->o->max_warnings)
        g_ptr_array_add(w, g_strdup_printf("%s: %u more skipped rows", r->source,
                                           r->skipped - r->o->max_warnings));
    if (w->len == 0) {
        g_ptr_array_unref(w);
        return NULL;
    }
    g_ptr_array_add(w, NULL);
    return (char **)g_ptr_array_free(w, FALSE);
}

vsTrace *
vsTraceParse(const char *source, const char *data, gsize len,
             const vsTraceOptions *o, GError **error)
{
    g_autoptr(vsTrace) t = NULL;
    g_autoptr(GArray) rows = NULL;
    vsTraceReader r = { 0 };

    if (!vsTraceCheckOptions(o, error))
        return NULL;

    /* Bitbrains rows take about 130 bytes: one allocation in the usual case. */
    rows = g_array_sized_new(FALSE, FALSE, sizeof(vsTraceRow), len / 64 + 16);
    r.o = o;
    r.source = source;
    r.rows = rows;
    r.warnings = g_ptr_array_new_with_free_func(g_free);
    vsTraceLines(&r, data, len);

    t = g_new0(vsTrace, 1);
    t->name = vsTraceName(source);
    t->step_s = o->step_s;
    t->rows = rows->len;
    t->skipped_rows = r.skipped;
    t->padding_rows = r.padding;
    t->warnings = vsTraceTakeWarnings(&r);
    if (!vsTraceGrid(t, source, rows, o, error))
        return NULL;
    return g_steal_pointer(&t);
}

/* --- files -------------------------------------------------------------------- */

/* GByteArray counts in guint: refuse what it cannot hold, never abort. */
static gboolean
vsTraceCheckSize(const char *path, gsize len, GError **error)
{
    if (len <= G_MAXUINT / 2)
        return TRUE;
    g_set_error(error, VS_ERROR, VS_ERROR_IO, "trace '%s' is too large", path);
    return FALSE;
}

/* The whole file at @path. */
static GByteArray *
vsTraceSlurp(const char *path, GError **error)
{
    g_autoptr(GByteArray) buf = NULL;
    struct stat st;
    int fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
    int err = 0;

    if (fd < 0 || fstat(fd, &st) < 0) {
        err = errno;
    } else if (S_ISDIR(st.st_mode)) {
        err = EISDIR;
    } else {
        buf = g_byte_array_sized_new(st.st_size > 0 ? (guint)MIN(st.st_size, G_MAXINT) + 1 : 4096);
        for (;;) {
            gsize len = buf->len;
            gssize got;

            if (len > G_MAXUINT / 2) {
                err = EFBIG;    /* more than GByteArray holds */
                break;
            }

            g_byte_array_set_size(buf, len + VS_TRACE_READ_CHUNK);
            got = read(fd, buf->data + len, VS_TRACE_READ_CHUNK);
            g_byte_array_set_size(buf, len + MAX(got, 0));
            if (got == 0)
                break;
            if (got < 0 && errno != EINTR) {
                err = errno;
                break;
            }
        }
    }
    if (fd >= 0)
        close(fd);
    if (err) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot read trace '%s': %s",
                    path, g_strerror(err));
        return NULL;
    }
    return g_steal_pointer(&buf);
}

/* Decompress gzip @raw in big chunks. */
static GByteArray *
vsTraceGunzip(const char *path, GByteArray *raw, GError **error)
{
    g_autoptr(GZlibDecompressor) gz = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
    g_autoptr(GInputStream) mem = g_memory_input_stream_new_from_data(raw->data, raw->len, NULL);
    g_autoptr(GInputStream) in = g_converter_input_stream_new(mem, G_CONVERTER(gz));
    g_autoptr(GByteArray) out = NULL;
    g_autoptr(GError) err = NULL;
    guint32 isize = 0;

    /* The trailer holds the size mod 2^32: a hint, bounded against bombs. */
    if (raw->len >= 4)
        memcpy(&isize, raw->data + raw->len - 4, 4);
    isize = GUINT32_FROM_LE(isize);
    out = g_byte_array_sized_new(MIN(MIN((gsize)isize, (gsize)16 * raw->len),
                                     VS_TRACE_MAX_HINT) + 1);

    for (;;) {
        gsize len = out->len;
        gssize got;

        if (!vsTraceCheckSize(path, len, error))
            return NULL;

        g_byte_array_set_size(out, len + VS_TRACE_READ_CHUNK);
        got = g_input_stream_read(in, out->data + len, VS_TRACE_READ_CHUNK, NULL, &err);
        g_byte_array_set_size(out, len + MAX(got, 0));
        if (got == 0)
            break;
        if (got < 0) {
            g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot decompress trace '%s': %s",
                        path, err->message);
            return NULL;
        }
    }
    return g_steal_pointer(&out);
}

vsTrace *
vsTraceRead(const char *path, const vsTraceOptions *o, GError **error)
{
    g_autoptr(GByteArray) raw = NULL;
    g_autoptr(GByteArray) text = NULL;

    if (!vsTraceCheckOptions(o, error))
        return NULL;
    if (!(raw = vsTraceSlurp(path, error)))
        return NULL;
    if (raw->len >= 2 && raw->data[0] == 0x1f && raw->data[1] == 0x8b) {
        if (!(text = vsTraceGunzip(path, raw, error)))
            return NULL;
    } else {
        text = g_steal_pointer(&raw);
    }
    return vsTraceParse(path, (const char *)text->data, text->len, o, error);
}

int
vsTraceNaturalCompare(const char *a, const char *b)
{
    const char *pa = a;
    const char *pb = b;

    while (*pa && *pb) {
        if (g_ascii_isdigit(*pa) && g_ascii_isdigit(*pb)) {
            const char *ea, *eb;
            gsize la, lb;
            int c;

            while (*pa == '0' && g_ascii_isdigit(pa[1]))
                pa++;
            while (*pb == '0' && g_ascii_isdigit(pb[1]))
                pb++;
            for (ea = pa; g_ascii_isdigit(*ea); ea++);
            for (eb = pb; g_ascii_isdigit(*eb); eb++);
            la = ea - pa;
            lb = eb - pb;
            /* a longer run (without leading zeros) is a larger number */
            if (la != lb)
                return la < lb ? -1 : 1;
            if ((c = memcmp(pa, pb, la)) != 0)
                return c;
            pa = ea;
            pb = eb;
            continue;
        }
        if (*pa != *pb)
            return (guchar)*pa < (guchar)*pb ? -1 : 1;
        pa++;
        pb++;
    }
    if (*pa || *pb)
        return *pa ? 1 : -1;
    return strcmp(a, b);    /* "01" and "1": still a total order */
}

static gint
vsTraceComparePaths(gconstpointer a, gconstpointer b)
{
    return vsTraceNaturalCompare(*(const char *const *)a, *(const char *const *)b);
}

/* The files of @dir in natural order; an error when there are none. */
static GPtrArray *
vsTraceListDir(const char *dir, GError **error)
{
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = NULL;
    g_autoptr(GError) err = NULL;
    const char *name;

    if (!(d = g_dir_open(dir, 0, &err))) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot list trace directory '%s': %s",
                    dir, err->message);
        return NULL;
    }
    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = NULL;

        if (name[0] == '.')
            continue;
        path = g_build_filename(dir, name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR))
            continue;
        g_ptr_array_add(files, g_steal_pointer(&path));
    }
    if (files->len == 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                    "no trace files in directory '%s'", dir);
        return NULL;
    }
    g_ptr_array_sort(files, vsTraceComparePaths);
    return g_steal_pointer(&files);
}

/* One file of vsTraceReadPaths. */
typedef struct _vsTraceJob vsTraceJob;
struct _vsTraceJob {
    const char *path;
    vsTrace *trace;
    GError *error;
};

/* The files left to read, shared by the worker threads. */
typedef struct _vsTraceWork vsTraceWork;
struct _vsTraceWork {
    vsTraceJob *jobs;
    guint n;
    gint next;              /* atomic: the next job to take */
    const vsTraceOptions *o;
};

static gpointer
vsTraceWorker(gpointer data)
{
    vsTraceWork *w = data;
    guint i;

    while ((i = (guint)g_atomic_int_add(&w->next, 1)) < w->n)
        w->jobs[i].trace = vsTraceRead(w->jobs[i].path, w->o, &w->jobs[i].error);
    return NULL;
}

/* Files are independent: decompress and parse them on every core.  Plain
 * joined threads, not a GThreadPool, whose idle threads outlive the call. */
static void
vsTraceReadAll(vsTraceJob *jobs, guint n, const vsTraceOptions *o)
{
    vsTraceWork w = { jobs, n, 0, o };
    guint extra = MIN((guint)g_get_num_processors(), n);
    g_autoptr(GPtrArray) threads = g_ptr_array_new();

    for (guint i = 1; i < extra; i++) {
        GThread *th = g_thread_try_new("vs-trace", vsTraceWorker, &w, NULL);

        if (!th)
            break;          /* fewer threads, same result */
        g_ptr_array_add(threads, th);
    }
    vsTraceWorker(&w);
    for (guint i = 0; i < threads->len; i++)
        g_thread_join(threads->pdata[i]);
}

/* Append @path, or the files of directory @path, to @files. */
static gboolean
vsTraceExpandPath(GPtrArray *files, const char *path, GError **error)
{
    g_autoptr(GPtrArray) listed = NULL;

    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_ptr_array_add(files, g_strdup(path));
        return TRUE;
    }
    if (!(listed = vsTraceListDir(path, error)))
        return FALSE;
    for (guint i = 0; i < listed->len; i++)
        g_ptr_array_add(files, g_steal_pointer(&listed->pdata[i]));
    return TRUE;
}

GPtrArray *
vsTraceReadPaths(const char *const *paths, const vsTraceOptions *o,
                 guint *ret_skipped_rows, GError **error)
{
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) traces = NULL;
    g_autofree vsTraceJob *jobs = NULL;
    GError *first_error = NULL;
    guint skipped = 0;

    if (!paths || !paths[0]) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "no trace paths given");
        return NULL;
    }
    if (!vsTraceCheckOptions(o, error))
        return NULL;
    for (gsize i = 0; paths[i]; i++) {
        if (!vsTraceExpandPath(files, paths[i], error))
            return NULL;
    }

    jobs = g_new0(vsTraceJob, files->len);
    for (guint i = 0; i < files->len; i++)
        jobs[i].path = files->pdata[i];
    vsTraceReadAll(jobs, files->len, o);

    /* Keep the order of @paths; the first failure in that order wins. */
    traces = g_ptr_array_new_full(files->len, (GDestroyNotify)vsTraceFree);
    for (guint i = 0; i < files->len; i++) {
        if (jobs[i].error && !first_error)
            first_error = g_steal_pointer(&jobs[i].error);
        g_clear_error(&jobs[i].error);
        if (jobs[i].trace) {
            skipped += jobs[i].trace->skipped_rows;
            g_ptr_array_add(traces, jobs[i].trace);
        }
    }
    if (first_error) {
        g_propagate_error(error, first_error);
        return NULL;
    }
    if (ret_skipped_rows)
        *ret_skipped_rows = skipped;
    return g_steal_pointer(&traces);
}
