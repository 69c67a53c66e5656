/*
 * vsutiltest.c: sizes, durations, units
 */
#include <config.h>

#include "util/vserror.h"
#include "util/vsutil.h"
#include "vstestutils.h"

typedef struct {
    const char *text;
    guint64 expect;
} vsCase;

static const vsCase vsSizes[] = {
    { "0", 0 }, { "1024", 1024 }, { "1K", 1024 }, { "1KiB", 1024 }, { "1kb", 1000 },
    { "512M", 512ULL << 20 }, { "4G", 4ULL << 30 }, { "1.5G", 3ULL << 29 }, { "2 TiB", 2ULL << 40 },
    { "7b", 7 },
};

START_TEST(test_size)
{
    guint64 v = 1;
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vsParseSize(vsSizes[_i].text, 1, &v, &error), "%s", vsSizes[_i].text);
    ck_assert_uint_eq(v, vsSizes[_i].expect);
}
END_TEST

START_TEST(test_size_default_unit)
{
    guint64 v = 0;

    ck_assert(vsParseSize("3", 1024, &v, NULL));
    ck_assert_uint_eq(v, 3072);
}
END_TEST

static const char *const vsBadSizes[] = { "", "M", "-1", "12Q", "1e99T", "abc", "1..2M" };

START_TEST(test_size_bad)
{
    guint64 v = 42;
    g_autoptr(GError) error = NULL;

    ck_assert(!vsParseSize(vsBadSizes[_i], 1, &v, &error));
    ck_assert_uint_eq(v, 42);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert(strstr(error->message, "invalid size"));
}
END_TEST

static const vsCase vsDurations[] = {
    { "30", 30000 }, { "30s", 30000 }, { "250ms", 250 }, { "5m", 300000 }, { "1h", 3600000 },
    { "7d", 7 * 86400000ULL }, { "1.5h", 5400000 }, { "2w", 14 * 86400000ULL },
};

START_TEST(test_duration)
{
    guint64 v = 1;

    ck_assert_msg(vsParseDuration(vsDurations[_i].text, &v, NULL), "%s", vsDurations[_i].text);
    ck_assert_uint_eq(v, vsDurations[_i].expect);
}
END_TEST

START_TEST(test_duration_bad)
{
    guint64 v = 9;
    g_autoptr(GError) error = NULL;

    ck_assert(!vsParseDuration("soon", &v, &error));
    ck_assert_uint_eq(v, 9);
    ck_assert(strstr(error->message, "'soon'"));
    ck_assert(!vsParseDuration("5 parsecs", &v, NULL));
}
END_TEST

START_TEST(test_scale_kib)
{
    guint64 kib = 0;

    ck_assert(vsScaleToKiB(262144, NULL, &kib, NULL));
    ck_assert_uint_eq(kib, 262144);
    ck_assert(vsScaleToKiB(256, "MiB", &kib, NULL));
    ck_assert_uint_eq(kib, 262144);
    ck_assert(vsScaleToKiB(2, "G", &kib, NULL));
    ck_assert_uint_eq(kib, 2097152);
    ck_assert(vsScaleToKiB(268435456, "bytes", &kib, NULL));
    ck_assert_uint_eq(kib, 262144);
    ck_assert(!vsScaleToKiB(1, "furlongs", &kib, NULL));
    ck_assert(!vsScaleToKiB(G_MAXUINT64 / 2, "TiB", &kib, NULL));
}
END_TEST

START_TEST(test_format_kib)
{
    g_autofree char *a = vsFormatKiB(262144);
    g_autofree char *b = vsFormatKiB(1536 * 1024);
    g_autofree char *c = vsFormatKiB(100);

    ck_assert_str_eq(a, "256 MiB");
    ck_assert_str_eq(b, "1.5 GiB");
    ck_assert_str_eq(c, "100 KiB");
}
END_TEST

START_TEST(test_writable_dir)
{
    g_autofree char *dir = vsTestMakeTempDir("vsutil-XXXXXX");
    g_autofree char *missing = g_build_filename(dir, "a", "b", NULL);
    g_autoptr(GError) error = NULL;

    ck_assert(vsCheckWritableDir(dir, NULL));
    ck_assert(!vsCheckWritableDir(missing, &error));
    ck_assert(strstr(error->message, missing));
    ck_assert(vsMakeDirs(missing, 0700, NULL));
    ck_assert(vsCheckWritableDir(missing, NULL));
    vsTestRemoveTree(dir);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("util");

    tcase_add_loop_test(tc, test_size, 0, G_N_ELEMENTS(vsSizes));
    tcase_add_test(tc, test_size_default_unit);
    tcase_add_loop_test(tc, test_size_bad, 0, G_N_ELEMENTS(vsBadSizes));
    tcase_add_loop_test(tc, test_duration, 0, G_N_ELEMENTS(vsDurations));
    tcase_add_test(tc, test_duration_bad);
    tcase_add_test(tc, test_scale_kib);
    tcase_add_test(tc, test_format_kib);
    tcase_add_test(tc, test_writable_dir);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
