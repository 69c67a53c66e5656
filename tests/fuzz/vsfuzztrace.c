/*
 * vsfuzztrace.c: fuzz target for the trace parser
 *
 * libFuzzer:  clang -fsanitize=fuzzer,address -DVS_FUZZ_LIBFUZZER ...
 * Otherwise main() runs the target once per file named on the command line
 * (a directory stands for its files), or over tests/vstracedata by default,
 * so "make check" keeps it building and running.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "forecast/vstrace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The first byte picks format and resource; the rest is the file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(vsTrace) t = NULL;
    vsTraceOptions o;

    if (size == 0)
        return 0;
    vsTraceOptionsDefaults(&o);
    o.format = (vsTraceFormat)(data[0] % 3);
    o.value_resource = (data[0] / 3) % 2 ? VS_RESOURCE_MEMORY : VS_RESOURCE_CPU;
    o.max_fill_slots = data[0] / 6 % 30;
    o.max_slots = 1 << 16;      /* bounded memory per input */
    t = vsTraceParse("fuzz", (const char *)data + 1, size - 1, &o, NULL);
    return 0;
}

#ifndef VS_FUZZ_LIBFUZZER
/* Every format on the whole file. */
static int
vsFuzzFile(const char *path)
{
    g_autofree char *data = NULL;
    g_autofree guint8 *input = NULL;
    gsize len;

    if (!g_file_get_contents(path, &data, &len, NULL)) {
        fprintf(stderr, "cannot read '%s'\n", path);
        return 1;
    }
    input = g_malloc(len + 1);
    memcpy(input + 1, data, len);
    for (guint8 b = 0; b < 6; b++) {
        input[0] = b;
        LLVMFuzzerTestOneInput(input, len + 1);
    }
    return 0;
}

static int
vsFuzzPath(const char *path)
{
    g_autoptr(GDir) dir = NULL;
    const char *name;
    int ret = 0;

    if (!g_file_test(path, G_FILE_TEST_IS_DIR))
        return vsFuzzFile(path);
    if (!(dir = g_dir_open(path, 0, NULL)))
        return 1;
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, name, NULL);

        ret |= vsFuzzPath(child);
    }
    return ret;
}

int
main(int argc, char **argv)
{
    const char *srcdir = g_getenv("VS_TEST_SRCDIR");
    g_autofree char *fixtures = NULL;
    int ret = 0;

    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            ret |= vsFuzzPath(argv[i]);
        return ret;
    }
    fixtures = g_build_filename(srcdir ? srcdir : VS_TEST_SRCDIR, "tests", "vstracedata", NULL);
    return vsFuzzPath(fixtures);
}
#endif
