/*
 * vstracetest.c: trace readers (bitbrains, csv, plain) and their grid
 */
#include <config.h>

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "forecast/vstrace.h"
#include "util/vserror.h"
#include "vstestutils.h"

#define T0 1375308000.0     /* a slot boundary in the fixtures */

static char *
vsTestTraceFixture(const char *name)
{
    return g_build_filename(vsTestSrcDir(), "tests", "vstracedata", name, NULL);
}

static vsTrace *
vsTestTraceRead(const char *name, vsTraceFormat format)
{
    g_autofree char *path = vsTestTraceFixture(name);
    g_autoptr(GError) error = NULL;
    vsTraceOptions o;
    vsTrace *t;

    vsTraceOptionsDefaults(&o);
    o.format = format;
    t = vsTraceRead(path, &o, &error);
    ck_assert_msg(t, "%s: %s", name, error ? error->message : "");
    return t;
}

static guint
vsTestWarnings(const vsTrace *t)
{
    return t->warnings ? g_strv_length(t->warnings) : 0;
}

/* Slot @i of @t: usage and provisioned sizes. */
static void
vsTestAssertSlot(const vsTrace *t, gsize i, double cpu, double mem,
                 double cpu_prov, double mem_prov, gboolean scored)
{
    ck_assert_msg(i < t->n, "slot %zu of %zu", i, t->n);
    ck_assert_double_eq_tol(t->cpu[i], cpu, 1e-12);
    ck_assert_double_eq_tol(t->mem_mib[i], mem, 1e-9);
    ck_assert_double_eq(t->cpu_prov[i], cpu_prov);
    ck_assert_double_eq(t->mem_prov_mib[i], mem_prov);
    ck_assert_int_eq(t->scored[i], scored);
}

START_TEST(test_format_names)
{
    g_autoptr(GError) error = NULL;
    vsTraceFormat f = VS_TRACE_PLAIN;

    ck_assert(vsTraceFormatFromString("bitbrains", &f, NULL));
    ck_assert_int_eq(f, VS_TRACE_BITBRAINS);
    ck_assert(vsTraceFormatFromString("csv", &f, NULL));
    ck_assert_int_eq(f, VS_TRACE_CSV);
    ck_assert(vsTraceFormatFromString("plain", &f, NULL));
    ck_assert_int_eq(f, VS_TRACE_PLAIN);
    ck_assert_str_eq(vsTraceFormatToString(VS_TRACE_CSV), "csv");

    ck_assert(!vsTraceFormatFromString("xml", &f, &error));
    ck_assert_int_eq(f, VS_TRACE_PLAIN);    /* untouched on failure */
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_str_eq(error->message,
                     "unknown trace format 'xml' (expected bitbrains, csv or plain)");
    g_clear_error(&error);
    ck_assert(!vsTraceFormatFromString(NULL, &f, &error));
}
END_TEST

START_TEST(test_defaults)
{
    vsTraceOptions o;

    vsTraceOptionsDefaults(&o);
    ck_assert_int_eq(o.format, VS_TRACE_BITBRAINS);
    ck_assert_double_eq(o.step_s, 300);
    ck_assert_double_eq(o.interval_s, 300);
    ck_assert_uint_eq(o.max_fill_slots, 24);
    ck_assert_uint_eq(o.max_warnings, 10);
    ck_assert_int_eq(o.value_resource, VS_RESOURCE_CPU);
}
END_TEST

START_TEST(test_parse_line)
{
    vsTraceOptions o;
    vsTraceRow row;
    const char *reason = NULL;

    vsTraceOptionsDefaults(&o);
    ck_assert_int_eq(vsTraceParseLine(&o, "1375308010;\t2;\t5851.9989;\t747.1051929;\t12.7;"
                                      "\t8388608.0;\t1308620.0;\t0;\t1;\t11;\t27.2\r",
                                      11, &row, &reason), VS_TRACE_LINE_OK);
    ck_assert_double_eq(row.t, 1375308010);
    ck_assert_double_eq(row.cpu, 747.1051929 / (5851.9989 / 2));   /* bit for bit */
    ck_assert_double_eq(row.mem_mib, 1308620.0 / 1024);
    ck_assert_double_eq(row.cpu_prov, 2);
    ck_assert_double_eq(row.mem_prov_mib, 8192);

    /* lenient about blanks after ';', any column count >= 7 without header */
    ck_assert_int_eq(vsTraceParseLine(&o, "1;2;4;1;x;8;4", 0, &row, &reason),
                     VS_TRACE_LINE_OK);
    ck_assert_double_eq(row.cpu, 0.5);
    ck_assert_int_eq(vsTraceParseLine(&o, "1;2;4;1;x;8", 0, &row, &reason),
                     VS_TRACE_LINE_BAD);
    ck_assert_str_eq(reason, "wrong column count");
    ck_assert_int_eq(vsTraceParseLine(&o, "1;2;4;1;x;8;4", 11, &row, &reason),
                     VS_TRACE_LINE_BAD);

    ck_assert_int_eq(vsTraceParseLine(&o, "1;0;4;1;x;8;4", 0, &row, &reason),
                     VS_TRACE_LINE_PADDING);
    ck_assert_int_eq(vsTraceParseLine(&o, "1;2;0.0;1;x;8;4", 0, &row, &reason),
                     VS_TRACE_LINE_PADDING);
    ck_assert_int_eq(vsTraceParseLine(&o, "1;2;4;1 1;x;8;4", 0, &row, &reason),
                     VS_TRACE_LINE_BAD);
    ck_assert_str_eq(reason, "unparsable number");
    ck_assert_int_eq(vsTraceParseLine(&o, "1;2;4;1;x;8;-0.5", 0, &row, &reason),
                     VS_TRACE_LINE_BAD);
    ck_assert_str_eq(reason, "negative value");
    ck_assert_int_eq(vsTraceParseLine(&o, "1;2;4;1;x;NaN;4", 0, &row, &reason),
                     VS_TRACE_LINE_BAD);
    ck_assert_str_eq(reason, "NaN or infinite value");
    ck_assert_int_eq(vsTraceParseLine(&o, "1;2;4;1e999;x;8;4", 0, &row, &reason),
                     VS_TRACE_LINE_BAD);
    ck_assert_str_eq(reason, "NaN or infinite value");

    o.format = VS_TRACE_CSV;
    o.value_resource = VS_RESOURCE_MEMORY;
    ck_assert_int_eq(vsTraceParseLine(&o, " 12.5 , 3e2 ", 0, &row, &reason),
                     VS_TRACE_LINE_OK);
    ck_assert_double_eq(row.t, 12.5);
    ck_assert_double_eq(row.mem_mib, 300);
    ck_assert(isnan(row.cpu));
    ck_assert_int_eq(vsTraceParseLine(&o, "12,3,4", 0, &row, &reason), VS_TRACE_LINE_BAD);
    ck_assert_int_eq(vsTraceParseLine(&o, "12;3", 0, &row, &reason), VS_TRACE_LINE_BAD);

    o.format = VS_TRACE_PLAIN;
    o.value_resource = VS_RESOURCE_CPU;
    ck_assert_int_eq(vsTraceParseLine(&o, "0.25", 0, &row, &reason), VS_TRACE_LINE_OK);
    ck_assert_double_eq(row.cpu, 0.25);
    ck_assert(isnan(row.mem_mib));
    ck_assert_int_eq(vsTraceParseLine(&o, "1,2", 0, &row, &reason), VS_TRACE_LINE_BAD);
    ck_assert_int_eq(vsTraceParseLine(&o, "inf", 0, &row, &reason), VS_TRACE_LINE_BAD);
}
END_TEST

/* The decimal fast path must agree with strtod on every input, bit for bit. */
START_TEST(test_numbers_match_strtod)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(4242);
    static const char *const odd[] = {
        "9007199254740993", "9007199254740992.5", "0.1", "1e22", "123456789012345678901",
        "00012.5000", ".5", "5.", "0x10", "4.9e-324", "1.7976931348623157e308",
        "12345678901234567.8", "0.0000000000000000000000001",
    };
    vsTraceOptions o;

    vsTraceOptionsDefaults(&o);
    o.format = VS_TRACE_PLAIN;
    for (guint i = 0; i < 20000 + G_N_ELEMENTS(odd); i++) {
        g_autoptr(GString) s = g_string_new(NULL);
        vsTraceRow row;
        const char *reason;
        double want;

        if (i < G_N_ELEMENTS(odd)) {
            g_string_assign(s, odd[i]);
        } else {
            guint digits = g_rand_int_range(rand, 1, 24);
            gint point = g_rand_int_range(rand, -1, digits + 1);

            for (guint d = 0; d < digits; d++) {
                if ((gint)d == point)
                    g_string_append_c(s, '.');
                g_string_append_c(s, '0' + g_rand_int_range(rand, 0, 10));
            }
        }
        want = g_ascii_strtod(s->str, NULL);
        ck_assert_int_eq(vsTraceParseLine(&o, s->str, 0, &row, &reason), VS_TRACE_LINE_OK);
        ck_assert_msg(row.cpu == want, "'%s': %.17g != %.17g", s->str, row.cpu, want);
    }
}
END_TEST

/* Padding, two rows in a slot, a gap of 2 slots, one of 25 (> 2 h, not
 * scored) and one of exactly 24 (filled, scored). */
START_TEST(test_bitbrains_grid)
{
    g_autoptr(vsTrace) t = vsTestTraceRead("bitbrains-valid.csv", VS_TRACE_BITBRAINS);

    ck_assert_str_eq(t->name, "bitbrains-valid");
    ck_assert_uint_eq(t->rows, 6);
    ck_assert_uint_eq(t->padding_rows, 4);
    ck_assert_uint_eq(t->skipped_rows, 0);
    ck_assert_ptr_null(t->warnings);
    ck_assert_double_eq(t->start_t, T0);
    ck_assert_double_eq(t->step_s, 300);
    ck_assert_uint_eq(t->n, 56);
    ck_assert_uint_eq(t->filled_slots, 2 + 24);
    ck_assert_uint_eq(t->unscored_slots, 25);

    /* slot 0: mean of 0.5 and 1.0 cores, 1024 and 2048 MiB */
    vsTestAssertSlot(t, 0, 0.75, 1536, 2, 4096, TRUE);
    vsTestAssertSlot(t, 1, 1.5, 1024, 4, 8192, TRUE);
    vsTestAssertSlot(t, 2, 1.5, 1024, 4, 8192, TRUE);       /* filled */
    vsTestAssertSlot(t, 3, 1.5, 1024, 4, 8192, TRUE);
    vsTestAssertSlot(t, 4, 0.5, 512, 4, 8192, TRUE);
    for (gsize i = 5; i < 30; i++)
        vsTestAssertSlot(t, i, 0.5, 512, 4, 8192, FALSE);   /* long gap */
    vsTestAssertSlot(t, 30, 0.2, 256, 2, 2048, TRUE);
    for (gsize i = 31; i < 55; i++)
        vsTestAssertSlot(t, i, 0.2, 256, 2, 2048, TRUE);    /* exactly 24 */
    vsTestAssertSlot(t, 55, 0.4, 512, 2, 2048, TRUE);
}
END_TEST

START_TEST(test_max_fill_slots)
{
    g_autofree char *path = vsTestTraceFixture("bitbrains-valid.csv");
    g_autoptr(vsTrace) t = NULL;
    vsTraceOptions o;

    vsTraceOptionsDefaults(&o);
    o.max_fill_slots = 25;
    t = vsTraceRead(path, &o, NULL);
    ck_assert_uint_eq(t->filled_slots, 51);
    ck_assert_uint_eq(t->unscored_slots, 0);
    g_clear_pointer(&t, vsTraceFree);

    o.max_fill_slots = 0;
    t = vsTraceRead(path, &o, NULL);
    ck_assert_uint_eq(t->filled_slots, 0);
    ck_assert_uint_eq(t->unscored_slots, 51);
    ck_assert_int_eq(t->scored[2], 0);
    ck_assert_int_eq(t->scored[4], 1);
}
END_TEST

START_TEST(test_bitbrains_bad_rows)
{
    g_autoptr(vsTrace) t = vsTestTraceRead("bitbrains-bad.csv", VS_TRACE_BITBRAINS);
    g_autofree char *path = vsTestTraceFixture("bitbrains-bad.csv");
    static const char *const want[] = {
        "3: wrong column count", "4: wrong column count", "5: unparsable number",
        "6: unparsable number", "7: unparsable number", "8: NaN or infinite value",
        "9: NaN or infinite value", "10: negative value", "11: duplicate timestamp",
        "12: time going backwards",
    };

    ck_assert_uint_eq(t->rows, 2);
    ck_assert_uint_eq(t->skipped_rows, 10);
    ck_assert_uint_eq(t->padding_rows, 0);
    ck_assert_uint_eq(vsTestWarnings(t), 10);
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        g_autofree char *line = g_strdup_printf("%s:%s", path, want[i]);

        ck_assert_str_eq(t->warnings[i], line);
    }
    ck_assert_uint_eq(t->n, 2);
    vsTestAssertSlot(t, 0, 0.5, 1024, 2, 2048, TRUE);
    vsTestAssertSlot(t, 1, 1.0, 2048, 2, 2048, TRUE);
}
END_TEST

/* At most max_warnings per file, then one summary line. */
START_TEST(test_warnings_capped)
{
    g_autofree char *path = vsTestTraceFixture("bitbrains-bad.csv");
    g_autoptr(vsTrace) t = NULL;
    g_autofree char *summary = g_strdup_printf("%s: 7 more skipped rows", path);
    vsTraceOptions o;

    vsTraceOptionsDefaults(&o);
    o.max_warnings = 3;
    t = vsTraceRead(path, &o, NULL);
    ck_assert_uint_eq(t->skipped_rows, 10);
    ck_assert_uint_eq(vsTestWarnings(t), 4);
    ck_assert(g_str_has_suffix(t->warnings[2], ":5: unparsable number"));
    ck_assert_str_eq(t->warnings[3], summary);
    g_clear_pointer(&t, vsTraceFree);

    o.max_warnings = 0;
    t = vsTraceRead(path, &o, NULL);
    ck_assert_uint_eq(vsTestWarnings(t), 1);
}
END_TEST

START_TEST(test_csv)
{
    g_autoptr(vsTrace) h = vsTestTraceRead("csv-header.csv", VS_TRACE_CSV);
    g_autoptr(vsTrace) n = vsTestTraceRead("csv-noheader.csv", VS_TRACE_CSV);
    g_autofree char *path = vsTestTraceFixture("csv-header.csv");
    g_autoptr(vsTrace) m = NULL;
    vsTraceOptions o;

    for (guint k = 0; k < 2; k++) {
        vsTrace *t = k ? n : h;

        ck_assert_uint_eq(t->rows, 3);
        ck_assert_uint_eq(t->skipped_rows, 0);
        ck_assert_uint_eq(t->n, 3);
        ck_assert_double_eq(t->start_t, T0);
        ck_assert_ptr_null(t->mem_mib);
        ck_assert_ptr_null(t->cpu_prov);
        ck_assert_ptr_null(t->mem_prov_mib);
        ck_assert_double_eq(t->cpu[0], 2.0);    /* 1.5 and 2.5 in one slot */
        ck_assert_double_eq(t->cpu[1], 2.0);    /* filled */
        ck_assert_double_eq(t->cpu[2], 4.0);
        ck_assert_uint_eq(t->filled_slots, 1);
    }

    vsTraceOptionsDefaults(&o);
    o.format = VS_TRACE_CSV;
    o.value_resource = VS_RESOURCE_MEMORY;
    m = vsTraceRead(path, &o, NULL);
    ck_assert_ptr_null(m->cpu);
    ck_assert_double_eq(m->mem_mib[2], 4.0);
}
END_TEST

START_TEST(test_plain)
{
    g_autofree char *path = vsTestTraceFixture("plain.txt");
    g_autoptr(vsTrace) t = vsTestTraceRead("plain.txt", VS_TRACE_PLAIN);
    g_autoptr(vsTrace) half = NULL;
    vsTraceOptions o;

    ck_assert_str_eq(t->name, "plain");
    ck_assert_uint_eq(t->rows, 4);
    ck_assert_uint_eq(t->skipped_rows, 1);     /* "garbage" still takes its time */
    ck_assert(g_str_has_suffix(t->warnings[0], "plain.txt:4: unparsable number"));
    ck_assert_double_eq(t->start_t, 0);
    ck_assert_uint_eq(t->n, 5);
    ck_assert_double_eq(t->cpu[0], 1);
    ck_assert_double_eq(t->cpu[1], 2);
    ck_assert_double_eq(t->cpu[2], 2);
    ck_assert_double_eq(t->cpu[3], 4);
    ck_assert_double_eq(t->cpu[4], 5);
    ck_assert_uint_eq(t->filled_slots, 1);

    /* two values per slot */
    vsTraceOptionsDefaults(&o);
    o.format = VS_TRACE_PLAIN;
    o.interval_s = 150;
    half = vsTraceRead(path, &o, NULL);
    ck_assert_uint_eq(half->n, 3);
    ck_assert_double_eq(half->cpu[0], 1.5);
    ck_assert_double_eq(half->cpu[1], 4);
    ck_assert_double_eq(half->cpu[2], 5);
}
END_TEST

START_TEST(test_parse_memory)
{
    static const char data[] = "t,v\n600,1\n900,2";     /* no final newline */
    static const char header_only[] = "timestamp,value\r\n\r\n";
    g_autoptr(vsTrace) t = NULL;
    g_autoptr(GError) error = NULL;
    vsTraceOptions o;

    vsTraceOptionsDefaults(&o);
    o.format = VS_TRACE_CSV;
    t = vsTraceParse("mem/x.csv", data, strlen(data), &o, &error);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->name, "x");
    ck_assert_uint_eq(t->n, 2);
    ck_assert_double_eq(t->start_t, 600);
    g_clear_pointer(&t, vsTraceFree);

    /* no valid row: an empty trace, not an error */
    t = vsTraceParse("empty", header_only, strlen(header_only), &o, &error);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->n, 0);
    ck_assert(isnan(t->start_t));
    ck_assert_ptr_null(t->cpu);
    ck_assert_ptr_null(t->scored);
    g_clear_pointer(&t, vsTraceFree);
    t = vsTraceParse("nothing", "", 0, &o, &error);
    ck_assert_uint_eq(t->n, 0);
    g_clear_pointer(&t, vsTraceFree);

    /* a grid too long for max_slots */
    o.max_slots = 1000;
    t = vsTraceParse("far.csv", "0,1\n3e9,1\n", 10, &o, &error);
    ck_assert_ptr_null(t);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_msg(strstr(error->message, "'far.csv'"), "%s", error->message);
    g_clear_error(&error);

    o.step_s = 0;
    ck_assert_ptr_null(vsTraceParse("x", data, strlen(data), &o, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
}
END_TEST

/* Write @data gzip-compressed to @path. */
static void
vsTestGzip(const char *path, const char *data, gsize len)
{
    g_autoptr(GZlibCompressor) gz = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
    g_autoptr(GInputStream) mem = g_memory_input_stream_new_from_data(data, len, NULL);
    g_autoptr(GInputStream) in = g_converter_input_stream_new(mem, G_CONVERTER(gz));
    g_autoptr(GOutputStream) out = NULL;
    g_autoptr(GFile) file = g_file_new_for_path(path);
    g_autoptr(GError) error = NULL;

    out = G_OUTPUT_STREAM(g_file_replace(file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error));
    ck_assert_msg(out, "%s", error ? error->message : "");
    ck_assert(g_output_stream_splice(out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                     NULL, &error) >= 0);
}

static gboolean
vsTestTracesEqual(const vsTrace *a, const vsTrace *b)
{
    return a->n == b->n && a->rows == b->rows && a->padding_rows == b->padding_rows &&
        memcmp(a->cpu, b->cpu, a->n * sizeof(double)) == 0 &&
        memcmp(a->mem_mib, b->mem_mib, a->n * sizeof(double)) == 0 &&
        memcmp(a->mem_prov_mib, b->mem_prov_mib, a->n * sizeof(double)) == 0 &&
        memcmp(a->scored, b->scored, a->n) == 0;
}

START_TEST(test_gzip)
{
    g_autofree char *dir = vsTestMakeTempDir("vstrace-XXXXXX");
    g_autofree char *src = vsTestTraceFixture("bitbrains-valid.csv");
    g_autofree char *gz = g_build_filename(dir, "7.csv.gz", NULL);
    g_autofree char *cut = g_build_filename(dir, "cut.csv.gz", NULL);
    g_autofree char *data = NULL;
    g_autofree char *packed = NULL;
    g_autoptr(vsTrace) plain = vsTestTraceRead("bitbrains-valid.csv", VS_TRACE_BITBRAINS);
    g_autoptr(vsTrace) t = NULL;
    g_autoptr(GError) error = NULL;
    gsize len, packed_len;
    vsTraceOptions o;

    vsTraceOptionsDefaults(&o);
    ck_assert(g_file_get_contents(src, &data, &len, NULL));
    vsTestGzip(gz, data, len);
    t = vsTraceRead(gz, &o, &error);
    ck_assert_msg(t, "%s", error ? error->message : "");
    ck_assert_str_eq(t->name, "7");
    ck_assert(vsTestTracesEqual(t, plain));

    /* a truncated archive is an error naming the file, never a short trace */
    ck_assert(g_file_get_contents(gz, &packed, &packed_len, NULL));
    ck_assert(g_file_set_contents(cut, packed, packed_len / 2, NULL));
    ck_assert_ptr_null(vsTraceRead(cut, &o, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_IO));
    ck_assert_msg(strstr(error->message, cut), "%s", error->message);
    g_clear_error(&error);

    /* gzip magic, garbage after it */
    ck_assert(g_file_set_contents(cut, "\x1f\x8bgarbage", -1, NULL));
    ck_assert_ptr_null(vsTraceRead(cut, &o, &error));
    ck_assert_msg(strstr(error->message, cut), "%s", error->message);
    vsTestRemoveTree(dir);
}
END_TEST

START_TEST(test_read_errors)
{
    g_autofree char *dir = vsTestMakeTempDir("vstrace-XXXXXX");
    g_autofree char *missing = g_build_filename(dir, "missing.csv", NULL);
    g_autofree char *msg = NULL;
    g_autoptr(GError) error = NULL;
    const char *paths[] = { dir, NULL };
    vsTraceOptions o;

    vsTraceOptionsDefaults(&o);
    ck_assert_ptr_null(vsTraceRead(missing, &o, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_IO));
    msg = g_strdup_printf("cannot read trace '%s': No such file or directory", missing);
    ck_assert_str_eq(error->message, msg);
    g_clear_error(&error);

    ck_assert_ptr_null(vsTraceRead(dir, &o, &error));
    ck_assert_msg(strstr(error->message, dir), "%s", error->message);
    g_clear_error(&error);

    /* an empty directory */
    ck_assert_ptr_null(vsTraceReadPaths(paths, &o, NULL, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    g_free(msg);
    msg = g_strdup_printf("no trace files in directory '%s'", dir);
    ck_assert_str_eq(error->message, msg);
    g_clear_error(&error);

    paths[0] = NULL;
    ck_assert_ptr_null(vsTraceReadPaths(paths, &o, NULL, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_USAGE));
    vsTestRemoveTree(dir);
}
END_TEST

START_TEST(test_read_paths)
{
    g_autofree char *dir = vsTestTraceFixture("dir");
    g_autofree char *bad = vsTestTraceFixture("bitbrains-bad.csv");
    g_autofree char *missing = vsTestTraceFixture("missing.csv");
    const char *paths[] = { dir, bad, NULL };
    const char *broken[] = { dir, missing, bad, NULL };
    g_autoptr(GPtrArray) traces = NULL;
    g_autoptr(GError) error = NULL;
    guint skipped = 12345;
    vsTraceOptions o;

    vsTraceOptionsDefaults(&o);
    o.format = VS_TRACE_CSV;
    traces = vsTraceReadPaths(paths, &o, &skipped, &error);
    ck_assert_msg(traces, "%s", error ? error->message : "");
    /* natural order, no dot files, no subdirectories; then the file */
    ck_assert_uint_eq(traces->len, 4);
    ck_assert_str_eq(((vsTrace *)traces->pdata[0])->name, "1");
    ck_assert_str_eq(((vsTrace *)traces->pdata[1])->name, "2");
    ck_assert_str_eq(((vsTrace *)traces->pdata[2])->name, "10");
    ck_assert_double_eq(((vsTrace *)traces->pdata[2])->cpu[1], 10);
    /* bitbrains rows are malformed csv (header, then 12 data lines) */
    ck_assert_str_eq(((vsTrace *)traces->pdata[3])->name, "bitbrains-bad");
    ck_assert_uint_eq(skipped, 12);

    skipped = 12345;
    ck_assert_ptr_null(vsTraceReadPaths(broken, &o, &skipped, &error));
    ck_assert_uint_eq(skipped, 12345);      /* untouched on failure */
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_IO));
    ck_assert_msg(strstr(error->message, missing), "%s", error->message);
}
END_TEST

START_TEST(test_natural_order)
{
    ck_assert_int_lt(vsTraceNaturalCompare("2.csv.gz", "10.csv.gz"), 0);
    ck_assert_int_gt(vsTraceNaturalCompare("100.csv.gz", "99.csv.gz"), 0);
    ck_assert_int_lt(vsTraceNaturalCompare("vm9", "vm10"), 0);
    ck_assert_int_lt(vsTraceNaturalCompare("a", "b"), 0);
    ck_assert_int_lt(vsTraceNaturalCompare("a", "a1"), 0);
    ck_assert_int_eq(vsTraceNaturalCompare("x7", "x7"), 0);
    ck_assert_int_ne(vsTraceNaturalCompare("x07", "x7"), 0);
    ck_assert_int_eq(vsTraceNaturalCompare("x07", "x7"), -vsTraceNaturalCompare("x7", "x07"));
}
END_TEST

/* --- robustness: mutated fixtures never crash, counts stay sane ----------- */

static void
vsTestMutate(GRand *rand, GByteArray *buf)
{
    static const char special[] = ";\t\n\r,.-+e0123456789 \0";
    guint edits = g_rand_int_range(rand, 1, 9);

    for (guint e = 0; e < edits; e++) {
        guint op = g_rand_int_range(rand, 0, 8);
        guint pos = buf->len ? g_rand_int_range(rand, 0, buf->len) : 0;
        guint8 c = g_rand_boolean(rand) ? (guint8)g_rand_int_range(rand, 0, 256)
            : (guint8)special[g_rand_int_range(rand, 0, sizeof(special))];
        guint run;

        switch (op) {
        case 0:             /* flip a byte */
        case 1:
        case 2:
            if (buf->len)
                buf->data[pos] = c;
            break;
        case 3:             /* truncate */
            g_byte_array_set_size(buf, pos);
            break;
        case 4:             /* insert a byte */
        case 5:
            g_array_insert_val((GArray *)buf, pos, c);
            break;
        case 6:             /* delete a run */
            run = g_rand_int_range(rand, 1, 40);
            g_byte_array_remove_range(buf, pos, MIN(buf->len - pos, run));
            break;
        default: {          /* duplicate a run (repeats rows, times go back) */
            g_autofree guint8 *copy = NULL;

            run = g_rand_int_range(rand, 1, 200);
            run = MIN(buf->len - pos, run);
            copy = g_memdup2(buf->data + pos, run);
            g_array_insert_vals((GArray *)buf, pos, copy, run);
            break;
        }
        }
    }
}

static void
vsTestAssertSane(const vsTrace *t, const vsTraceOptions *o, gsize lines)
{
    guint unscored = 0;

    ck_assert_uint_le((gsize)t->rows + t->skipped_rows + t->padding_rows, lines);
    ck_assert_uint_le(vsTestWarnings(t), o->max_warnings + 1);
    ck_assert_uint_eq(t->n == 0, t->rows == 0);
    if (t->n == 0)
        return;
    ck_assert_uint_le(t->n, o->max_slots);
    ck_assert(isfinite(t->start_t) && t->start_t >= 0);
    ck_assert(t->scored[0] && t->scored[t->n - 1]);
    for (gsize i = 0; i < t->n; i++) {
        if (!t->scored[i])
            unscored++;
        if (t->cpu)
            ck_assert(isfinite(t->cpu[i]) && t->cpu[i] >= 0);
        if (t->mem_mib)
            ck_assert(isfinite(t->mem_mib[i]) && t->mem_mib[i] >= 0);
    }
    ck_assert_uint_eq(unscored, t->unscored_slots);
    ck_assert_uint_le((gsize)t->filled_slots + t->unscored_slots, t->n - 1);
}

START_TEST(test_random_mutations)
{
    static const char *const fixtures[] = {
        "bitbrains-valid.csv", "bitbrains-bad.csv", "csv-header.csv", "plain.txt",
    };
    g_autoptr(GRand) rand = g_rand_new_with_seed(20130801);
    GByteArray *orig[G_N_ELEMENTS(fixtures)];
    guint parsed = 0;
    vsTraceOptions o;

    for (guint f = 0; f < G_N_ELEMENTS(fixtures); f++) {
        g_autofree char *path = vsTestTraceFixture(fixtures[f]);
        char *data;
        gsize len;

        ck_assert(g_file_get_contents(path, &data, &len, NULL));
        orig[f] = g_byte_array_new_take((guint8 *)data, len);
    }
    vsTraceOptionsDefaults(&o);
    o.max_slots = 1 << 16;      /* a flipped timestamp digit spans years */
    o.max_warnings = 3;

    for (guint i = 0; i < 4000; i++) {
        guint f = i % G_N_ELEMENTS(fixtures);
        g_autoptr(GByteArray) buf = g_byte_array_new();
        g_autoptr(vsTrace) t = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *exact = NULL;
        gsize lines = 1;

        g_byte_array_append(buf, orig[f]->data, orig[f]->len);
        vsTestMutate(rand, buf);
        for (guint k = 0; k < buf->len; k++)
            lines += buf->data[k] == '\n';
        o.format = (vsTraceFormat)g_rand_int_range(rand, 0, 3);
        o.value_resource = g_rand_boolean(rand) ? VS_RESOURCE_CPU : VS_RESOURCE_MEMORY;

        /* an exact-size copy, so an overread is caught by ASan or valgrind */
        exact = g_memdup2(buf->data, buf->len);
        t = vsTraceParse(fixtures[f], exact, buf->len, &o, &error);
        if (!t) {
            ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
            ck_assert(strstr(error->message, fixtures[f]));
            continue;
        }
        parsed++;
        vsTestAssertSane(t, &o, lines);
    }
    ck_assert_uint_gt(parsed, 3000);
    for (guint f = 0; f < G_N_ELEMENTS(fixtures); f++)
        g_byte_array_unref(orig[f]);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("trace");

    tcase_add_test(tc, test_format_names);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_parse_line);
    tcase_add_test(tc, test_numbers_match_strtod);
    tcase_add_test(tc, test_bitbrains_grid);
    tcase_add_test(tc, test_max_fill_slots);
    tcase_add_test(tc, test_bitbrains_bad_rows);
    tcase_add_test(tc, test_warnings_capped);
    tcase_add_test(tc, test_csv);
    tcase_add_test(tc, test_plain);
    tcase_add_test(tc, test_parse_memory);
    tcase_add_test(tc, test_gzip);
    tcase_add_test(tc, test_read_errors);
    tcase_add_test(tc, test_read_paths);
    tcase_add_test(tc, test_natural_order);
    tcase_add_test(tc, test_random_mutations);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
