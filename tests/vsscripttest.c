/*
 * vsscripttest.c: splitting install scripts into steps, the files and argv
 * steps become, rendering back, and the errors for bad scripts
 */
#include <config.h>

#include <string.h>

#include "shadow/vsscript.h"
#include "util/vserror.h"
#include "vstestutils.h"

static const vsScriptStep *
vsTestStep(const vsScript *s, guint i)
{
    ck_assert_uint_lt(i, s->steps->len);
    return g_ptr_array_index(s->steps, i);
}

static vsScript *
vsTestParseFixture(const char *name)
{
    g_autofree char *text = vsTestFixture("vsscriptdata", name);
    g_autoptr(GError) error = NULL;
    vsScript *s = vsScriptParse(text, strlen(text), name, &error);

    ck_assert_msg(s, "%s: %s", name, error ? error->message : "");
    return s;
}

/* The error of parsing @text, which must fail with VS_ERROR_INVALID. */
static char *
vsTestParseError(const char *text)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsScript) s = vsScriptParse(text, strlen(text), "t.sh", &error);

    ck_assert_ptr_null(s);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    return g_strdup(error->message);
}

START_TEST(test_marked)
{
    g_autoptr(vsScript) s = vsTestParseFixture("marked.sh");

    ck_assert(s->marked);
    ck_assert_str_eq(s->interpreter, "/bin/sh");
    ck_assert_ptr_null(s->interpreter_arg);
    ck_assert_uint_eq(s->steps->len, 5);
    /* "umask 022" before the first marker makes a prologue */
    ck_assert_str_eq(vsTestStep(s, 0)->name, "prologue");
    ck_assert_uint_eq(vsTestStep(s, 0)->index, 1);
    ck_assert_uint_eq(vsTestStep(s, 0)->line, 2);
    ck_assert_str_eq(vsTestStep(s, 0)->text, "# install demo-app: the e2e test's script\numask 022\n\n");
    ck_assert_str_eq(vsTestStep(s, 1)->name, "files");
    ck_assert_uint_eq(vsTestStep(s, 1)->line, 5);
    ck_assert_str_eq(vsTestStep(s, 1)->text,
                     "mkdir -p /opt/app/bin\necho 'hello' > /opt/app/bin/hello\n\n");
    ck_assert_str_eq(vsTestStep(s, 2)->name, "service");
    ck_assert_uint_eq(vsTestStep(s, 2)->line, 9);
    /* the name is trimmed */
    ck_assert_str_eq(vsTestStep(s, 3)->name, "burn cpu");
    ck_assert_uint_eq(vsTestStep(s, 3)->line, 12);
    ck_assert_str_eq(vsTestStep(s, 4)->name, "noop");
    ck_assert_uint_eq(vsTestStep(s, 4)->index, 5);
    ck_assert_str_eq(vsTestStep(s, 4)->text, "true\n");
    ck_assert_ptr_eq(vsScriptFindStep(s, "noop"), vsTestStep(s, 4));
    ck_assert_ptr_null(vsScriptFindStep(s, "nope"));
}
END_TEST

START_TEST(test_lines)
{
    g_autoptr(vsScript) s = vsTestParseFixture("lines.sh");

    ck_assert(!s->marked);
    ck_assert_str_eq(s->interpreter, "/usr/bin/env");
    ck_assert_str_eq(s->interpreter_arg, "bash");
    ck_assert(vsScriptIsShell(s));
    ck_assert_uint_eq(s->steps->len, 5);
    ck_assert_str_eq(vsTestStep(s, 0)->name, "mkdir -p /opt/app");
    ck_assert_uint_eq(vsTestStep(s, 0)->line, 3);
    /* a continued line is one step; its name joins the words */
    ck_assert_str_eq(vsTestStep(s, 1)->name, "apt-get install -y nginx");
    ck_assert_str_eq(vsTestStep(s, 1)->text, "apt-get install -y \\\n    nginx\n");
    ck_assert_uint_eq(vsTestStep(s, 1)->line, 5);
    /* a repeated line gets a numbered name */
    ck_assert_str_eq(vsTestStep(s, 2)->name, "apt-get update");
    ck_assert_uint_eq(vsTestStep(s, 2)->line, 8);
    ck_assert_str_eq(vsTestStep(s, 3)->name, "apt-get update (2)");
    /* long names are cut to VS_SCRIPT_NAME_MAX characters */
    ck_assert_uint_eq(g_utf8_strlen(vsTestStep(s, 4)->name, -1), VS_SCRIPT_NAME_MAX);
    ck_assert(g_str_has_suffix(vsTestStep(s, 4)->name, "..."));
    ck_assert(g_str_has_prefix(vsTestStep(s, 4)->name, "echo a-very-long"));
}
END_TEST

START_TEST(test_no_final_newline)
{
    const char *text = "echo one\necho two";
    g_autoptr(GError) error = NULL;
    g_autoptr(vsScript) s = vsScriptParse(text, strlen(text), "t.sh", &error);

    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->steps->len, 2);
    ck_assert_str_eq(vsTestStep(s, 1)->text, "echo two\n");
    ck_assert_str_eq(s->interpreter, VS_SCRIPT_DEFAULT_INTERPRETER);
}
END_TEST

START_TEST(test_blank_prologue)
{
    const char *text = "#!/bin/bash\n# header comment\n\n# step: a\ntrue\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(vsScript) s = vsScriptParse(text, strlen(text), "t.sh", &error);

    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->steps->len, 1);
    ck_assert_str_eq(vsTestStep(s, 0)->name, "a");
    ck_assert_uint_eq(vsTestStep(s, 0)->index, 1);
}
END_TEST

START_TEST(test_step_file_and_argv)
{
    g_autoptr(vsScript) sh = vsTestParseFixture("marked.sh");
    g_autoptr(vsScript) env = vsTestParseFixture("lines.sh");
    const char *py_text = "#!/usr/bin/python3 -u\nprint(1)\n";
    g_autoptr(vsScript) py = vsScriptParse(py_text, strlen(py_text), "t.py", NULL);
    g_autofree char *file = vsScriptStepFile(sh, vsTestStep(sh, 4));
    g_autofree char *file2 = vsScriptStepFile(env, vsTestStep(env, 0));
    g_autofree char *file3 = vsScriptStepFile(py, vsTestStep(py, 0));
    g_auto(GStrv) argv = vsScriptStepArgv(sh, "/tmp/vs/step-5");
    g_auto(GStrv) argv2 = vsScriptStepArgv(env, "/tmp/vs/step-1");

    ck_assert_str_eq(file, "#!/bin/sh\nset -e\ntrue\n");
    ck_assert_str_eq(file2, "#!/usr/bin/env bash\nset -e\nmkdir -p /opt/app\n");
    /* not a shell: no "set -e" */
    ck_assert(!vsScriptIsShell(py));
    ck_assert_str_eq(file3, "#!/usr/bin/python3 -u\nprint(1)\n");
    ck_assert_uint_eq(g_strv_length(argv), 2);
    ck_assert_str_eq(argv[0], "/bin/sh");
    ck_assert_str_eq(argv[1], "/tmp/vs/step-5");
    ck_assert_uint_eq(g_strv_length(argv2), 3);
    ck_assert_str_eq(argv2[0], "/usr/bin/env");
    ck_assert_str_eq(argv2[1], "bash");
    ck_assert_str_eq(argv2[2], "/tmp/vs/step-1");
}
END_TEST

START_TEST(test_render_roundtrip)
{
    g_autoptr(vsScript) s = vsTestParseFixture("lines.sh");
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GString) again = g_string_new(NULL);
    g_autoptr(vsScript) back = NULL;
    g_autoptr(GError) error = NULL;

    /* groups survive the round trip */
    ((vsScriptStep *)vsTestStep(s, 1))->group = 1;
    ((vsScriptStep *)vsTestStep(s, 2))->group = 1;
    ((vsScriptStep *)vsTestStep(s, 3))->group = 2;
    vsScriptRender(s, out);
    ck_assert(g_str_has_prefix(out->str,
                               "#!/usr/bin/env bash\n# step: mkdir -p /opt/app\nmkdir -p /opt/app\n"
                               "# group: 1 (steps 2 3 may run concurrently)\n# step: apt-get install -y nginx\n"));
    ck_assert_ptr_nonnull(strstr(out->str, "\n# group: 2\n# step: apt-get update (2)\n"));
    back = vsScriptParse(out->str, out->len, "rendered", &error);
    ck_assert_msg(back, "%s", error ? error->message : "");
    ck_assert(back->marked);
    ck_assert_str_eq(back->interpreter_arg, "bash");
    ck_assert_uint_eq(back->steps->len, s->steps->len);
    for (guint i = 0; i < s->steps->len; i++) {
        ck_assert_str_eq(vsTestStep(back, i)->name, vsTestStep(s, i)->name);
        ck_assert_str_eq(vsTestStep(back, i)->text, vsTestStep(s, i)->text);
        ck_assert_uint_eq(vsTestStep(back, i)->group, vsTestStep(s, i)->group);
    }
    vsScriptRender(back, again);
    ck_assert_str_eq(again->str, out->str);
}
END_TEST

START_TEST(test_errors)
{
    char *msg;

    msg = vsTestParseError("");
    ck_assert_str_eq(msg, "'t.sh' has no steps");
    g_free(msg);
    msg = vsTestParseError("#!/bin/sh\n\n# only comments\n   \n");
    ck_assert_str_eq(msg, "'t.sh' has no steps");
    g_free(msg);
    msg = vsTestParseError("# step: a\ntrue\n# step: b\ntrue\n# step: a\nfalse\n");
    ck_assert_str_eq(msg, "'t.sh' line 5: duplicate step name 'a' (first at line 1)");
    g_free(msg);
    msg = vsTestParseError("# step: a\ntrue\n#step:   \ntrue\n");
    ck_assert_str_eq(msg, "'t.sh' line 3: step marker without a name");
    g_free(msg);
    msg = vsTestParseError("#!sh\ntrue\n");
    ck_assert_str_eq(msg, "'t.sh' line 1: interpreter 'sh' is not an absolute path");
    g_free(msg);
    msg = vsTestParseError("# step: a\ntrue\n# group: x\n");
    ck_assert_str_eq(msg, "'t.sh' line 3: invalid group 'x'");
    g_free(msg);
    msg = vsTestParseError("# step: a\ntrue\n# group: 1\nfalse\n# step: b\n");
    ck_assert_str_eq(msg, "'t.sh' line 4: command between a group line and the next step marker");
    g_free(msg);
}
END_TEST

START_TEST(test_bad_bytes)
{
    static const char nul[] = "echo a\necho b\0c\n";
    static const char latin1[] = "echo a\n\necho caf\xe9\n";
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;

    ck_assert_ptr_null(vsScriptParse(nul, sizeof(nul) - 1, "nul.sh", &e1));
    ck_assert_str_eq(e1->message, "'nul.sh' line 2: NUL byte in script");
    ck_assert_ptr_null(vsScriptParse(latin1, sizeof(latin1) - 1, "latin1.sh", &e2));
    ck_assert_str_eq(e2->message, "'latin1.sh' line 3: invalid UTF-8");
}
END_TEST

START_TEST(test_load)
{
    g_autofree char *path = g_build_filename(vsTestSrcDir(), "tests", "vsscriptdata", "marked.sh", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(vsScript) s = vsScriptLoad(path, &error);
    g_autoptr(vsScript) missing = NULL;

    ck_assert_msg(s, "%s", error ? error->message : "");
    ck_assert_str_eq(s->filename, path);
    ck_assert_uint_eq(s->steps->len, 5);
    missing = vsScriptLoad("/nonexistent/install.sh", &error);
    ck_assert_ptr_null(missing);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert(g_str_has_prefix(error->message, "cannot read script '/nonexistent/install.sh': "));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("script");
    TCase *tc = tcase_create("script");

    tcase_add_test(tc, test_marked);
    tcase_add_test(tc, test_lines);
    tcase_add_test(tc, test_no_final_newline);
    tcase_add_test(tc, test_blank_prologue);
    tcase_add_test(tc, test_step_file_and_argv);
    tcase_add_test(tc, test_render_roundtrip);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_bad_bytes);
    tcase_add_test(tc, test_load);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
