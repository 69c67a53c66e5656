/*
 * vsbenchtrace.c: reading the shared Bitbrains traces for "backtest"
 *
 * Measures in one run, median of BENCH_ROUNDS: vsTraceReadPaths over the
 * directory (all cores), vsTraceRead file by file (one core), and the
 * baseline of gunzip alone (GZlibDecompressor, no parsing) on one core.
 * The directory is argv[1], else ../shared/traces/bitbrains-rnd/2013-8 next
 * to the source tree; without it the bench says so and passes.
 */
#include <config.h>

#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

#include "forecast/vstrace.h"
#include "vstestutils.h"

#define BENCH_ROUNDS 3
#define BENCH_TARGET_S 2.0

static void
die(const char *what, const GError *error)
{
    fprintf(stderr, "vsbenchtrace: %s: %s\n", what, error ? error->message : "failed");
    exit(EXIT_FAILURE);
}

static int
cmpDouble(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double
median(double *v, guint n)
{
    qsort(v, n, sizeof(double), cmpDouble);
    return v[n / 2];
}

static GPtrArray *
listFiles(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        if (name[0] != '.')
            g_ptr_array_add(files, g_build_filename(dir, name, NULL));
    }
    return files;
}

/* The baseline: decompress every file, parse nothing; returns bytes. */
static guint64
gunzipAll(GPtrArray *files)
{
    guint64 total = 0;
    g_autofree char *buf = g_malloc(256 * 1024);

    for (guint i = 0; i < files->len; i++) {
        g_autoptr(GFile) file = g_file_new_for_path(files->pdata[i]);
        g_autoptr(GError) error = NULL;
        g_autoptr(GFileInputStream) raw = g_file_read(file, NULL, &error);
        g_autoptr(GZlibDecompressor) gz = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
        g_autoptr(GInputStream) in = NULL;
        gssize got;

        if (!raw)
            die("gunzip", error);
        in = g_converter_input_stream_new(G_INPUT_STREAM(raw), G_CONVERTER(gz));
        while ((got = g_input_stream_read(in, buf, 256 * 1024, NULL, &error)) > 0)
            total += got;
        if (got < 0)
            die("gunzip", error);
    }
    return total;
}

int
main(int argc, char **argv)
{
    g_autofree char *dir = argc > 1 ? g_strdup(argv[1])
        : g_build_filename(vsTestSrcDir(), "..", "shared", "traces", "bitbrains-rnd", "2013-8", NULL);
    const char *paths[] = { dir, NULL };
    g_autoptr(GPtrArray) files = NULL;
    double par[BENCH_ROUNDS], ser[BENCH_ROUNDS], base[BENCH_ROUNDS];
    guint64 bytes = 0;
    guint rows = 0, padding = 0, skipped = 0, shortvms = 0;
    vsTraceOptions o;

    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        printf("trace read: no traces in '%s', skipped\n", dir);
        return EXIT_SUCCESS;
    }
    files = listFiles(dir);
    vsTraceOptionsDefaults(&o);

    for (guint r = 0; r < BENCH_ROUNDS; r++) {
        g_autoptr(GPtrArray) traces = NULL;
        g_autoptr(GError) error = NULL;
        gint64 t0 = g_get_monotonic_time();

        if (!(traces = vsTraceReadPaths(paths, &o, &skipped, &error)))
            die(dir, error);
        par[r] = (g_get_monotonic_time() - t0) / 1e6;

        t0 = g_get_monotonic_time();
        for (guint i = 0; i < files->len; i++) {
            g_autoptr(vsTrace) t = vsTraceRead(files->pdata[i], &o, &error);

            if (!t)
                die(files->pdata[i], error);
        }
        ser[r] = (g_get_monotonic_time() - t0) / 1e6;

        t0 = g_get_monotonic_time();
        bytes = gunzipAll(files);
        base[r] = (g_get_monotonic_time() - t0) / 1e6;

        rows = padding = shortvms = 0;
        for (guint i = 0; i < traces->len; i++) {
            const vsTrace *t = traces->pdata[i];

            rows += t->rows;
            padding += t->padding_rows;
            shortvms += t->n < 2304;
        }
    }

    printf("trace read: %u files, %.1f MB of text, %u rows, %u padding, %u skipped, "
           "%u VMs < 8 days\n", files->len, bytes / 1e6, rows, padding, skipped, shortvms);
    printf("  vsTraceReadPaths (%u cores): %.3f s (median of %u), target < %.1f s%s\n",
           g_get_num_processors(), median(par, BENCH_ROUNDS), BENCH_ROUNDS, BENCH_TARGET_S,
           median(par, BENCH_ROUNDS) < BENCH_TARGET_S ? "" : "  MISSED");
    printf("  vsTraceRead one core: %.3f s; baseline gunzip alone: %.3f s (ratio %.2f)\n",
           median(ser, BENCH_ROUNDS), median(base, BENCH_ROUNDS),
           median(ser, BENCH_ROUNDS) / median(base, BENCH_ROUNDS));
    return EXIT_SUCCESS;
}
