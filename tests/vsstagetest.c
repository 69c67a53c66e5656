/*
 * vsstagetest.c: staging a script and running its steps on the tiny guest
 *
 * Boots the tiny guest (contrib/guest) under a private libvirtd and stages
 * a script through the agent as shadow runs and deploys do: the step files
 * and a stage directory arrive with their modes, a step's exit code,
 * stdout and stderr come back, "set -e" stops a step at its first failing
 * command, output past VS_STAGE_OUTPUT_MAX is cut and marked, steps of one
 * group run at the same time, and a step that outlives its deadline or a
 * cancellation is given up on promptly.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypervisor/vsguest.h"
#include "hypervisor/vshypervisor.h"
#include "shadow/vsstage.h"
#include "util/vserror.h"
#include "vsdrivers.h"
#include "vstestutils.h"

#define VS_GUEST_NAME "vs-stage"
#define VS_GUEST_MEMORY_KIB (256 * 1024)
#define VS_GUEST_BOOT_TIMEOUT_MS (120 * 1000)
#define VS_STEP_TIMEOUT_MS (60 * 1000)

static vsTestLibvirtd *vsDaemon;
static char *vsGuestDir;

static char *
vsRenderGuestXML(void)
{
    /* two vCPUs, so concurrent steps can really overlap */
    return vsTestTinyGuestXML(vsGuestDir, VS_GUEST_NAME, NULL, VS_GUEST_MEMORY_KIB, 2, 2);
}

/* Unchecked fixture: once in the parent; the guest outlives each forked
 * test and everything is removed even when one fails. */
static void
vsStageSetup(void)
{
    g_autofree char *builder = g_build_filename(vsTestSrcDir(), "contrib", "guest",
                                                "build-guest", NULL);
    g_autofree char *base = NULL;
    g_autofree char *overlay = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *name = NULL;
    g_autoptr(vsHypervisor) hv = NULL;
    g_autoptr(GError) error = NULL;
    gint64 start;

    vsDriversInit();
    vsDaemon = vsTestLibvirtdStart();
    vsGuestDir = g_build_filename(vsTestLibvirtdDir(vsDaemon), "guest", NULL);
    vsTestRun((const char *const[]){ builder, vsGuestDir, NULL });
    base = g_build_filename(vsGuestDir, "base.qcow2", NULL);
    hv = vsHypervisorOpen(vsTestLibvirtdURI(vsDaemon), NULL, &error);
    if (!hv || !vsHypervisorCreateOverlay(hv, base, vsGuestDir, "overlay.qcow2", &overlay, &error))
        ck_abort_msg("cannot make the guest's overlay: %s", error ? error->message : "");
    xml = vsRenderGuestXML();
    start = g_get_monotonic_time();
    if (!(name = vsHypervisorCreateDomainXML(hv, xml, FALSE, &error)) ||
        !vsGuestWaitForAgent(hv, VS_GUEST_NAME, VS_GUEST_BOOT_TIMEOUT_MS, &error))
        ck_abort_msg("cannot boot the tiny guest: %s", error ? error->message : "");
    printf("# guest boot to agent ping: %.1f s\n", (g_get_monotonic_time() - start) / 1e6);
}

static void
vsStageTeardown(void)
{
    vsTestLibvirtdStop(vsDaemon);
    vsDaemon = NULL;
    g_clear_pointer(&vsGuestDir, g_free);
}

static vsHypervisor *
vsOpen(void)
{
    g_autoptr(GError) error = NULL;
    vsHypervisor *hv = vsHypervisorOpen(vsTestLibvirtdURI(vsDaemon), NULL, &error);

    ck_assert_msg(hv != NULL, "%s", error ? error->message : "");
    return hv;
}

static char *
vsGuestOutput(vsHypervisor *hv, const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsGuestExecResult) res = vsGuestExec(hv, VS_GUEST_NAME, argv, NULL, 20000, &error);

    ck_assert_msg(res != NULL, "guest-exec %s: %s", argv[0], error ? error->message : "");
    ck_assert_msg(res->exit_code == 0, "%s exited with %d", argv[0], res->exit_code);
    return g_strndup(g_bytes_get_data(res->out, NULL), g_bytes_get_size(res->out));
}

static vsScript *
vsParse(const char *text)
{
    g_autoptr(GError) error = NULL;
    vsScript *script = vsScriptParse(text, strlen(text), "test.sh", &error);

    ck_assert_msg(script != NULL, "%s", error ? error->message : "");
    return script;
}

static void
vsStage(vsHypervisor *hv, const vsScript *script, const char *stage_dir)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vsStageScript(hv, VS_GUEST_NAME, script, stage_dir, NULL, 60000, NULL, &error),
                  "%s", error ? error->message : "");
}

/* Run steps @indexes of @script; they must all end. */
static GPtrArray *
vsRunSteps(vsHypervisor *hv, const vsScript *script, const guint *indexes, gsize n,
           gboolean have_stage)
{
    g_autoptr(GError) error = NULL;
    GPtrArray *res = vsStageRunSteps(hv, VS_GUEST_NAME, script, indexes, n, NULL, have_stage,
                                     VS_STEP_TIMEOUT_MS, NULL, NULL, NULL, &error);

    ck_assert_msg(res != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(res->len, n);
    return res;
}

static void
vsWriteFile(const char *path, const char *text, int mode)
{
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    ck_assert_int_eq(chmod(path, mode), 0);
}

/* The step files land with mode 0700 and "set -e"; the stage directory's
 * files keep their relative paths and modes; staging again replaces what
 * was there; a symlink in the stage directory is refused naming it. */
START_TEST(test_stage)
{
    g_autoptr(vsHypervisor) hv = vsOpen();
    g_autoptr(GError) error = NULL;
    g_autoptr(vsScript) script = vsParse("# step: one\necho one\n# step: two\necho two\n");
    g_autoptr(vsScript) single = vsParse("echo again\n");
    g_autofree char *dir = vsTestMakeTempDir("vs-stage-XXXXXX");
    g_autofree char *sub = g_build_filename(dir, "conf.d", NULL);
    g_autofree char *tool = g_build_filename(dir, "tool.sh", NULL);
    g_autofree char *conf = g_build_filename(sub, "app.conf", NULL);
    g_autofree char *link = g_build_filename(dir, "link", NULL);
    g_autofree char *step1 = NULL;
    g_autofree char *modes = NULL;
    g_autofree char *listing = NULL;
    g_autofree char *confs = NULL;
    g_autofree char *expect = NULL;

    ck_assert_int_eq(mkdir(sub, 0755), 0);
    vsWriteFile(tool, "#!/bin/sh\necho tool\n", 0750);
    vsWriteFile(conf, "key=value\n", 0640);
    vsStage(hv, script, dir);

    step1 = vsGuestOutput(hv, (const char *const[]){ "/bin/cat", VS_STAGE_GUEST_DIR "/steps/001", NULL });
    ck_assert_str_eq(step1, "#!/bin/sh\nset -e\necho one\n");
    modes = vsGuestOutput(hv, (const char *const[]){
        "/bin/stat", "-c", "%a %n", VS_STAGE_GUEST_DIR "/steps/001", VS_STAGE_GUEST_DIR "/steps/002",
        VS_STAGE_GUEST_DIR "/stage/tool.sh", VS_STAGE_GUEST_DIR "/stage/conf.d/app.conf", NULL });
    ck_assert_str_eq(modes,
                     "700 " VS_STAGE_GUEST_DIR "/steps/001\n"
                     "700 " VS_STAGE_GUEST_DIR "/steps/002\n"
                     "750 " VS_STAGE_GUEST_DIR "/stage/tool.sh\n"
                     "640 " VS_STAGE_GUEST_DIR "/stage/conf.d/app.conf\n");
    confs = vsGuestOutput(hv, (const char *const[]){ "/bin/cat", VS_STAGE_GUEST_DIR "/stage/conf.d/app.conf", NULL });
    ck_assert_str_eq(confs, "key=value\n");

    /* a second staging holds its own step and nothing of the first */
    vsStage(hv, single, NULL);
    listing = vsGuestOutput(hv, (const char *const[]){ "/bin/ls", VS_STAGE_GUEST_DIR, VS_STAGE_GUEST_DIR "/steps", NULL });
    ck_assert_str_eq(listing, VS_STAGE_GUEST_DIR ":\nsteps\n\n" VS_STAGE_GUEST_DIR "/steps:\n001\n");

    ck_assert_int_eq(symlink("tool.sh", link), 0);
    ck_assert(!vsStageScript(hv, VS_GUEST_NAME, script, dir, NULL, 60000, NULL, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    expect = g_strdup_printf("cannot stage '%s': it is a symbolic link, not a regular file or directory",
                             link);
    ck_assert_str_eq(error->message, expect);
    vsTestRemoveTree(dir);
}
END_TEST

/* A step's exit code, stdout and stderr; "set -e" ends a step at its first
 * failing command; a step runs in the stage directory with VS_STAGE and
 * VS_STEP set; a step killed by a signal says which. */
START_TEST(test_step_results)
{
    g_autoptr(vsHypervisor) hv = vsOpen();
    g_autoptr(vsScript) script = vsParse(
        "# step: speak\necho out; echo err >&2; exit 3\n"
        "# step: stop early\nfalse\necho not reached\n"
        "# step: where\npwd; echo \"$VS_STAGE|$VS_STEP\"; cat data.txt\n"
        "# step: killed\nkill -9 $$\n");
    g_autofree char *dir = vsTestMakeTempDir("vs-stage-XXXXXX");
    g_autofree char *data = g_build_filename(dir, "data.txt", NULL);
    g_autoptr(GPtrArray) speak = NULL;
    g_autoptr(GPtrArray) stop = NULL;
    g_autoptr(GPtrArray) where = NULL;
    g_autoptr(GPtrArray) killed = NULL;
    vsStageStepResult *r;

    vsWriteFile(data, "staged data\n", 0644);
    vsStage(hv, script, dir);

    speak = vsRunSteps(hv, script, (const guint[]){ 1 }, 1, TRUE);
    r = g_ptr_array_index(speak, 0);
    ck_assert_uint_eq(r->index, 1);
    ck_assert_int_eq(r->exit_code, 3);
    ck_assert_int_eq(r->signal, 0);
    ck_assert_str_eq(r->out, "out\n");
    ck_assert_str_eq(r->err, "err\n");
    ck_assert(!r->out_truncated && !r->err_truncated);
    ck_assert(r->started_us > 0 && r->ended_us >= r->started_us);

    stop = vsRunSteps(hv, script, (const guint[]){ 2 }, 1, TRUE);
    r = g_ptr_array_index(stop, 0);
    ck_assert_int_eq(r->exit_code, 1);
    ck_assert_str_eq(r->out, "");

    where = vsRunSteps(hv, script, (const guint[]){ 3 }, 1, TRUE);
    r = g_ptr_array_index(where, 0);
    ck_assert_int_eq(r->exit_code, 0);
    ck_assert_str_eq(r->out, VS_STAGE_GUEST_DIR "/stage\n" VS_STAGE_GUEST_DIR "/stage|where\nstaged data\n");

    killed = vsRunSteps(hv, script, (const guint[]){ 4 }, 1, TRUE);
    r = g_ptr_array_index(killed, 0);
    ck_assert_int_eq(r->exit_code, -1);
    ck_assert_int_eq(r->signal, 9);
    vsTestRemoveTree(dir);
}
END_TEST

/* Output past VS_STAGE_OUTPUT_MAX is cut there and marked; what is kept is
 * valid UTF-8 even when the guest printed invalid bytes. */
START_TEST(test_truncation)
{
    g_autoptr(vsHypervisor) hv = vsOpen();
    g_autoptr(vsScript) script = vsParse(
        "# step: loud\nhead -c 200000 /dev/zero | tr '\\000' x\nprintf 'bad \\377 byte' >&2\n");
    g_autoptr(GPtrArray) res = NULL;
    vsStageStepResult *r;

    vsStage(hv, script, NULL);
    res = vsRunSteps(hv, script, (const guint[]){ 1 }, 1, FALSE);
    r = g_ptr_array_index(res, 0);
    ck_assert_int_eq(r->exit_code, 0);
    ck_assert_uint_eq(strlen(r->out), VS_STAGE_OUTPUT_MAX);
    ck_assert(r->out_truncated);
    ck_assert_uint_eq(strspn(r->out, "x"), VS_STAGE_OUTPUT_MAX);
    ck_assert(!r->err_truncated);
    ck_assert(g_utf8_validate(r->err, -1, NULL));
    ck_assert_str_eq(r->err, "bad \xef\xbf\xbd byte");
}
END_TEST

typedef struct {
    guint calls;
    gint64 started[3];
} vsStarted;

static void
vsOnStarted(guint index, gint64 started_us, gpointer opaque)
{
    vsStarted *st = opaque;

    ck_assert(index >= 1 && index <= 2);
    st->started[index] = started_us;
    st->calls++;
}

/* Two steps of 2 s each, run together, end in about 2 s, not 4: their
 * spans overlap. */
START_TEST(test_concurrent)
{
    g_autoptr(vsHypervisor) hv = vsOpen();
    g_autoptr(GError) error = NULL;
    g_autoptr(vsScript) script = vsParse("# step: a\nsleep 2; echo a\n# step: b\nsleep 2; echo b\n");
    g_autoptr(GPtrArray) res = NULL;
    vsStarted st = { 0 };
    vsStageStepResult *a, *b;
    gint64 start;
    double took;

    vsStage(hv, script, NULL);
    start = g_get_monotonic_time();
    res = vsStageRunSteps(hv, VS_GUEST_NAME, script, (const guint[]){ 2, 1 }, 2, NULL, FALSE,
                          VS_STEP_TIMEOUT_MS, NULL, vsOnStarted, &st, &error);
    took = (g_get_monotonic_time() - start) / 1e6;
    ck_assert_msg(res != NULL, "%s", error ? error->message : "");
    printf("# two concurrent 2 s steps took %.2f s\n", took);
    ck_assert_uint_eq(st.calls, 2);
    /* in @indexes' order */
    b = g_ptr_array_index(res, 0);
    a = g_ptr_array_index(res, 1);
    ck_assert_uint_eq(b->index, 2);
    ck_assert_uint_eq(a->index, 1);
    ck_assert_str_eq(a->out, "a\n");
    ck_assert_str_eq(b->out, "b\n");
    ck_assert_int_eq(st.started[1], a->started_us);
    ck_assert_int_eq(st.started[2], b->started_us);
    ck_assert_msg(took < 3.5, "concurrent steps took %.2f s", took);
    ck_assert(a->started_us < b->ended_us && b->started_us < a->ended_us);
    ck_assert(a->ended_us - a->started_us >= 2000000);
}
END_TEST

static gpointer
vsCancelLater(gpointer opaque)
{
    g_usleep(500 * 1000);
    g_cancellable_cancel(opaque);
    return NULL;
}

/* A step past the deadline is a timeout naming it, and a cancellation is
 * seen within a poll: neither waits for the step. */
START_TEST(test_timeout_and_cancel)
{
    g_autoptr(vsHypervisor) hv = vsOpen();
    g_autoptr(GError) error = NULL;
    g_autoptr(vsScript) script = vsParse("# step: forever\nsleep 30\n");
    g_autoptr(GCancellable) cancel = g_cancellable_new();
    g_autoptr(GPtrArray) res = NULL;
    g_autoptr(GThread) thread = NULL;
    gint64 start;

    vsStage(hv, script, NULL);
    start = g_get_monotonic_time();
    res = vsStageRunSteps(hv, VS_GUEST_NAME, script, (const guint[]){ 1 }, 1, NULL, FALSE,
                          1500, NULL, NULL, NULL, &error);
    ck_assert_ptr_null(res);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_TIMEOUT));
    ck_assert_str_eq(error->message, "step 1 'forever' in domain '" VS_GUEST_NAME
                     "' did not finish within 1500 ms");
    ck_assert(g_get_monotonic_time() - start < 5 * G_USEC_PER_SEC);
    g_clear_error(&error);

    start = g_get_monotonic_time();
    thread = g_thread_new("cancel", vsCancelLater, cancel);
    res = vsStageRunSteps(hv, VS_GUEST_NAME, script, (const guint[]){ 1 }, 1, NULL, FALSE,
                          VS_STEP_TIMEOUT_MS, cancel, NULL, NULL, &error);
    ck_assert_ptr_null(res);
    ck_assert(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
    ck_assert(g_get_monotonic_time() - start < 3 * G_USEC_PER_SEC);
    g_thread_join(g_steal_pointer(&thread));
    g_clear_error(&error);

    /* an index the script does not have */
    res = vsStageRunSteps(hv, VS_GUEST_NAME, script, (const guint[]){ 7 }, 1, NULL, FALSE,
                          VS_STEP_TIMEOUT_MS, NULL, NULL, NULL, &error);
    ck_assert_ptr_null(res);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_str_eq(error->message, "script 'test.sh' has no step 7");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("stage");
    TCase *tc = tcase_create("tiny-guest");

    tcase_add_unchecked_fixture(tc, vsStageSetup, vsStageTeardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_stage);
    tcase_add_test(tc, test_step_results);
    tcase_add_test(tc, test_truncation);
    tcase_add_test(tc, test_concurrent);
    tcase_add_test(tc, test_timeout_and_cancel);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
