/*
 * vsformattest.c: vsStringAppendVprintf writes what g_string_append_printf
 * writes, over random and built doubles (exact ties, signed zeros, the
 * 2^52 edge, infinities, NaN), unsigned ints, strings, "%%", mixed
 * formats and formats left to printf, in the C locale the tests run in
 * (vsformat.h says what differs in others)
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "util/vsformat.h"
#include "vstestutils.h"

#define VS_TEST_RANDOM 200000

/* Mismatches are counted, not asserted one by one (ck_assert marks a point
 * per call, which costs more than the formatting); the first is kept. */
typedef struct {
    guint checked;
    guint mismatches;
    char *first;
} vsTally;

static void
vsTallyClear(vsTally *t)
{
    g_clear_pointer(&t->first, g_free);
}

static void
vsTallyAssert(vsTally *t)
{
    ck_assert_msg(t->mismatches == 0, "%u of %u differ from printf, the first: %s",
                  t->mismatches, t->checked, t->first);
    vsTallyClear(t);
}

/* @fmt with the arguments both ways, each appended to the same prefix;
 * @value names the arguments in a failure. */
static void G_GNUC_PRINTF(3, 4)
vsTallyCheck(vsTally *t, const char *value, const char *fmt, ...)
{
    g_autoptr(GString) got = g_string_new("<");
    g_autoptr(GString) want = g_string_new("<");
    va_list ap, aq;

    va_start(ap, fmt);
    va_copy(aq, ap);
    vsStringAppendVprintf(got, fmt, ap);
    g_string_append_vprintf(want, fmt, aq);
    va_end(aq);
    va_end(ap);
    t->checked++;
    if (g_str_equal(got->str, want->str))
        return;
    if (t->mismatches++ == 0)
        t->first = g_strdup_printf("%s with \"%s\": vsformat \"%s\", printf \"%s\"",
                                   value, fmt, got->str + 1, want->str + 1);
}

/* @x through every "%.Nf" written without printf: N up to 3. */
static void
vsTallyDouble(vsTally *t, double x)
{
    char value[64];

    g_snprintf(value, sizeof(value), "%.17g (%a)", x, x);
    vsTallyCheck(t, value, "%.0f", x);
    vsTallyCheck(t, value, "%.1f", x);
    vsTallyCheck(t, value, "%.2f", x);
    vsTallyCheck(t, value, "%.3f", x);
}

/* @x and its neighbours either side: a tie and the doubles just off it. */
static void
vsTallyAround(vsTally *t, double x)
{
    vsTallyDouble(t, x);
    vsTallyDouble(t, nextafter(x, INFINITY));
    vsTallyDouble(t, nextafter(x, -INFINITY));
}

START_TEST(test_fixed_edges)
{
    static const double values[] = {
        0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.25, 0.75, 0.125, 0.375, 0.0625,
        0.1875, 0.0005, 0.0015, 0.0025, -0.0004, -0.004, -0.04, -0.4, -0.0005, -0.005,
        -0.05, 1e-300, -1e-300, 4.9406564584124654e-324, -4.9406564584124654e-324,
        2.2250738585072014e-308, 2.675, 1.005, 0.045, 1.0005, 9.9995, 99.995, 999.5,
        0.9995, 0.995, 0.95, 0.9999, 1e6, 123456789.125, 1e15, -1e15, 1e15 + 0.5,
        0x1p52 - 1, 0x1p52 - 0.5, -(0x1p52 - 0.5), 0x1p52 - 0.25, 0x1p51 + 0.5,
        0x1p52, 0x1p52 + 1, 0x1p53, 0x1p53 + 2, 0x1p63, 0x1p64, 1e20, 1e300, -1e300,
        G_MAXDOUBLE, -G_MAXDOUBLE, INFINITY, -INFINITY, NAN, -NAN,
    };
    vsTally t = { 0 };

    for (guint i = 0; i < G_N_ELEMENTS(values); i++)
        vsTallyAround(&t, values[i]);
    vsTallyAssert(&t);
}
END_TEST

/* Magnitudes from 1e-6 to 1e15, both signs, uniform in the exponent. */
START_TEST(test_fixed_random)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(20261127);
    vsTally t = { 0 };

    for (guint i = 0; i < VS_TEST_RANDOM; i++) {
        double x = pow(10, g_rand_double_range(rand, -6, 15));

        vsTallyDouble(&t, g_rand_boolean(rand) ? -x : x);
    }
    vsTallyAssert(&t);
}
END_TEST

/* Every exact tie "%.Nf" can meet: x 10^N ends in .5 only when x is
 * k + odd / 2^(N+1), so k + odd/2, odd/4, odd/8 and odd/16, with k small
 * and up to 2^48, and the doubles either side of each. */
START_TEST(test_fixed_ties)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(52);
    vsTally t = { 0 };

    for (guint i = 0; i < VS_TEST_RANDOM / 8; i++) {
        guint bits = g_rand_int_range(rand, 1, 5);
        guint64 k = i < 4096 ? i / 16 : g_rand_int(rand) | (guint64)g_rand_int(rand) << 32;
        double frac = (2 * g_rand_int_range(rand, 0, 1 << (bits - 1)) + 1) / (double)(1 << bits);
        double x;

        if (i >= 4096)
            k >>= g_rand_int_range(rand, 16, 64);
        x = (double)k + frac;
        vsTallyAround(&t, g_rand_boolean(rand) ? -x : x);
    }
    vsTallyAssert(&t);
}
END_TEST

/* Any double at all: the bits at random, mostly far beyond 2^52 or far
 * below 1e-3, and subnormals, NaNs with payloads and infinities. */
START_TEST(test_fixed_bits)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(64);
    vsTally t = { 0 };

    for (guint i = 0; i < VS_TEST_RANDOM / 8; i++) {
        guint64 bits = g_rand_int(rand) | (guint64)g_rand_int(rand) << 32;
        double x;

        /* half of them with an exponent near 2^0, where the digits are */
        if (i % 2)
            bits = (bits & ~(G_GUINT64_CONSTANT(0x7ff) << 52)) |
                   (guint64)g_rand_int_range(rand, 1023 - 40, 1023 + 54) << 52;
        memcpy(&x, &bits, sizeof(x));
        vsTallyDouble(&t, x);
    }
    vsTallyAssert(&t);
}
END_TEST

START_TEST(test_uint)
{
    static const guint values[] = { 0, 1, 9, 10, 11, 99, 100, 4294967, 1000000000,
                                    G_MAXUINT - 1, G_MAXUINT };
    g_autoptr(GRand) rand = g_rand_new_with_seed(32);
    vsTally t = { 0 };
    char value[32];

    for (guint i = 0; i < G_N_ELEMENTS(values) + 10000; i++) {
        guint n = i < G_N_ELEMENTS(values) ? values[i] : g_rand_int(rand) >> (i % 32);

        g_snprintf(value, sizeof(value), "%u", n);
        vsTallyCheck(&t, value, "%u", n);
        vsTallyCheck(&t, value, "[%u]", n);
    }
    vsTallyAssert(&t);
}
END_TEST

START_TEST(test_format_uint)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(6420);

    for (guint i = 0; i < 10000; i++) {
        guint64 n = i == 0 ? 0 : i == 1 ? G_MAXUINT64 : (g_rand_int(rand) |
                    (guint64)g_rand_int(rand) << 32) >> (i % 64);
        char buf[24] = "";
        char *end = buf + sizeof(buf) - 1;
        char *start = vsFormatUInt(n, end);
        g_autofree char *want = g_strdup_printf("%" G_GUINT64_FORMAT, n);

        if (!g_str_equal(start, want))
            ck_abort_msg("%s: vsFormatUInt \"%s\"", want, start);
        ck_assert(start >= buf + sizeof(buf) - 21);
    }
}
END_TEST

/* A NULL argument the compiler cannot see, so "%s" of it is no warning. */
static const char *
vsTestNull(void)
{
    static const char *volatile null;

    return null;
}

START_TEST(test_string)
{
    static const char *const values[] = {
        "", "a", "cores", "%", "%s", "%d %.2f", "100%%", "h\xc3\xa9t\xc3\xa9rog\xc3\xa8ne",
    };
    vsTally t = { 0 };

    for (guint i = 0; i < G_N_ELEMENTS(values); i++) {
        vsTallyCheck(&t, values[i], "%s", values[i]);
        vsTallyCheck(&t, values[i], "(%s)(%s)", values[i], values[i]);
    }
    vsTallyCheck(&t, "NULL", "%s", vsTestNull());
    vsTallyCheck(&t, "NULL", "x %s y", vsTestNull());
    vsTallyAssert(&t);
}
END_TEST

START_TEST(test_percent)
{
    vsTally t = { 0 };

    vsTallyCheck(&t, "-", "%%");
    vsTallyCheck(&t, "-", "100%%");
    vsTallyCheck(&t, "-", "%%%%");
    vsTallyCheck(&t, "-", "%%s%%u%%.2f");
    vsTallyCheck(&t, "-", "%s", "");
    vsTallyCheck(&t, "-", "no conversion");
    vsTallyAssert(&t);
}
END_TEST

START_TEST(test_mixed)
{
    vsTally t = { 0 };

    vsTallyCheck(&t, "x, 0.125, 7", "a %s b %.2f%% c %u d", "x", 0.125, 7u);
    vsTallyCheck(&t, "2.5 x4", "%.0f%.1f%.2f%.3f", 2.5, 2.5, 2.5, 2.5);
    vsTallyCheck(&t, "-0.0004, NULL, 0", "%.3f|%s|%u|%%", -0.0004, vsTestNull(), 0u);
    vsTallyCheck(&t, "reason",
                 "the forecast upper bound %.2f cores at +%s over the target "
                 "utilisation %.2f needs %s", 3.14159, "5m", 0.7, "4 vCPUs");
    vsTallyCheck(&t, "inf, nan", "%.2f %.0f", INFINITY, NAN);
    vsTallyCheck(&t, "2^53", "%.3f and %u", 0x1p53, G_MAXUINT);
    vsTallyAssert(&t);
}
END_TEST

/* Anything else goes to printf whole, the simple conversions with it. */
START_TEST(test_fallback)
{
    vsTally t = { 0 };

    vsTallyCheck(&t, "-42", "%d", -42);
    vsTallyCheck(&t, "2.675", "%5.2f", 2.675);
    vsTallyCheck(&t, "0.1", "%g", 0.1);
    vsTallyCheck(&t, "0.00005", "%.4f", 0.00005);
    vsTallyCheck(&t, "1/3", "%.10f", 1.0 / 3);
    vsTallyCheck(&t, "2.5", "%.2F", 2.5);
    vsTallyCheck(&t, "2.5", "%f", 2.5);
    vsTallyCheck(&t, "2.5", "%+.1f", 2.5);
    vsTallyCheck(&t, "ab", "%-4s|", "ab");
    vsTallyCheck(&t, "ab", "%.1s", "ab");
    vsTallyCheck(&t, "255", "%x %lu", 255u, 255ul);
    vsTallyCheck(&t, "x, 7, 0.125", "%s %u %.2f %d", "x", 7u, 0.125, 7);
    vsTallyCheck(&t, "1e-5", "%.2e and %.2f", 1e-5, 1e-5);
    vsTallyAssert(&t);
}
END_TEST

/* Appends, and the variadic form is the same. */
START_TEST(test_append)
{
    g_autoptr(GString) s = g_string_new("use ");

    vsStringAppendPrintf(s, "%.2f of %s", 0.625, "4 vCPUs");
    vsStringAppendPrintf(s, ", %u%%", 50u);
    ck_assert_str_eq(s->str, "use 0.62 of 4 vCPUs, 50%");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("format");

    tcase_add_test(tc, test_fixed_edges);
    tcase_add_test(tc, test_fixed_random);
    tcase_add_test(tc, test_fixed_ties);
    tcase_add_test(tc, test_fixed_bits);
    tcase_add_test(tc, test_uint);
    tcase_add_test(tc, test_format_uint);
    tcase_add_test(tc, test_string);
    tcase_add_test(tc, test_percent);
    tcase_add_test(tc, test_mixed);
    tcase_add_test(tc, test_fallback);
    tcase_add_test(tc, test_append);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
