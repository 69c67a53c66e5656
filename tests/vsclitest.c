/*
 * vsclitest.c: the command-line option parser
 */
#include <config.h>

#include "cli/vscli.h"
#include "util/vserror.h"
#include "vstestutils.h"

static const vsCliOption vsTestOptions[] = {
    { "all", 'a', VS_OPT_FLAG, NULL, "all" },
    { "since", 's', VS_OPT_STRING, "DURATION", "since" },
    { NULL }
};

static vsCliArgs *
vsParse(GError **error, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *arg;
    va_list ap;

    va_start(ap, error);
    while ((arg = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (gpointer)arg);
    va_end(ap);
    return vsCliParseArgs(vsTestOptions, (int)argv->len, (char **)argv->pdata, error);
}

START_TEST(test_mixed)
{
    g_autoptr(vsCliArgs) args = vsParse(NULL, "dom1", "--since", "1h", "-a", "dom2", "--json", NULL);

    ck_assert_ptr_nonnull(args);
    ck_assert(vsCliArgsHas(args, "all"));
    ck_assert(vsCliArgsHas(args, "json"));
    ck_assert(!vsCliArgsHas(args, "quiet"));
    ck_assert_str_eq(vsCliArgsGet(args, "since"), "1h");
    ck_assert_uint_eq(args->positional->len, 2);
    ck_assert_str_eq(vsCliArgsPositional(args, 0), "dom1");
    ck_assert_str_eq(vsCliArgsPositional(args, 1), "dom2");
    ck_assert_ptr_null(vsCliArgsPositional(args, 2));
}
END_TEST

START_TEST(test_equals_and_short)
{
    g_autoptr(vsCliArgs) a = vsParse(NULL, "--since=5m", NULL);
    g_autoptr(vsCliArgs) b = vsParse(NULL, "-s", "7d", NULL);
    g_autoptr(vsCliArgs) c = vsParse(NULL, "--since=", NULL);

    ck_assert_str_eq(vsCliArgsGet(a, "since"), "5m");
    ck_assert_str_eq(vsCliArgsGet(b, "since"), "7d");
    ck_assert_str_eq(vsCliArgsGet(c, "since"), "");
}
END_TEST

START_TEST(test_double_dash)
{
    g_autoptr(vsCliArgs) args = vsParse(NULL, "--", "--all", "-", NULL);

    ck_assert(!vsCliArgsHas(args, "all"));
    ck_assert_uint_eq(args->positional->len, 2);
    ck_assert_str_eq(vsCliArgsPositional(args, 0), "--all");
    ck_assert_str_eq(vsCliArgsPositional(args, 1), "-");
}
END_TEST

typedef struct {
    const char *argv[4];
    const char *message;
} vsBadArgs;

static const vsBadArgs vsBadArgv[] = {
    { { "--frob", NULL }, "unknown option '--frob'" },
    { { "-z", NULL }, "unknown option '-z'" },
    { { "-as", NULL }, "unknown option '-as' (short options cannot be combined)" },
    { { "--since", NULL }, "option '--since' needs a value DURATION" },
    { { "--all=yes", NULL }, "option '--all' does not take a value" },
};

START_TEST(test_bad)
{
    const vsBadArgs *bad = &vsBadArgv[_i];
    g_autoptr(GError) error = NULL;
    guint argc = 0;
    g_autoptr(vsCliArgs) args = NULL;

    while (bad->argv[argc])
        argc++;
    args = vsCliParseArgs(vsTestOptions, (int)argc, (char **)bad->argv, &error);
    ck_assert_ptr_null(args);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_USAGE));
    ck_assert_str_eq(error->message, bad->message);
    ck_assert_int_eq(vsErrorExitCode(error), VS_EXIT_USAGE);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, test_mixed);
    tcase_add_test(tc, test_equals_and_short);
    tcase_add_test(tc, test_double_dash);
    tcase_add_loop_test(tc, test_bad, 0, G_N_ELEMENTS(vsBadArgv));
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
