/*
 * vsdeploycmdtest.c: "deploy" against a real PostgreSQL holding a profile
 * recorded through the store API, and libvirt's test driver
 * (tests/vsdeploydata/node.xml): the dry-run plan sized from the profile
 * or from the [deploy] defaults, and the errors (unknown base, taken name,
 * a base disk in use, no script, bad options).  A real deploy on the test
 * driver gets as far as the guest agent, which the test driver lacks, and
 * removes what it made.
 */
#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/vscli.h"
#include "store/vsstore.h"
#include "util/vserror.h"
#include "util/vsjson.h"
#include "vsdrivers.h"
#include "vstestutils.h"

#define DAY0_US (G_GINT64_CONSTANT(1710028800) * G_USEC_PER_SEC)
#define MIN_US (G_GINT64_CONSTANT(60) * G_USEC_PER_SEC)
#define SCRIPT "#!/bin/sh\n# step: files\nmkdir -p /opt/app\n# step: burn\nsleep 1\n" \
               "# step: config\necho x > /opt/app/conf\n"
#define OPTIMIZED "#!/bin/sh\n# group: 1\n# step: files\nmkdir -p /opt/app\n" \
                  "# group: 2\n# step: config\necho x > /opt/app/conf\n# step: unit\n" \
                  "touch /etc/init.d/app\n"

static vsTestPg *pg;
static char *db;
static char *tmp;
static char *uri;

static void
vsRecordRun(vsStore *store, const char *id, const char *version, gint64 at_us,
            const char *script, const char *from, double cpu_peak, guint64 memory_kib)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, script, -1);
    g_autoptr(GArray) steps = g_array_new(FALSE, TRUE, sizeof(vsShadowStepRecord));
    vsShadowRunRecord run = {
        .id = (char *)id, .app = (char *)"demo", .version = (char *)version,
        .base = (char *)"app-base", .script_sha256 = sum, .script = (char *)script,
        .limits = (char *)"vcpus=1,cpu=100%,memory=524288K", .host = (char *)"h1",
        .started_us = at_us, .optimized_from = (char *)from,
    };
    static const char *const names[] = { "files", "burn", "config" };

    g_array_set_clear_func(steps, (GDestroyNotify)vsShadowStepRecordClear);
    ck_assert_msg(vsStoreStartShadowRun(store, &run, &error), "%s", error ? error->message : "");
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        vsShadowStepRecord st = { 0 };

        st.index = i + 1;
        st.name = g_strdup(names[i]);
        st.started_us = at_us + i * MIN_US;
        st.ended_us = at_us + (i + 1) * MIN_US;
        st.has_exit_code = TRUE;
        st.has_usage = TRUE;
        /* the peaks are in the middle step */
        st.cpu_peak = i == 1 ? cpu_peak : 0.1;
        st.cpu_avg = st.cpu_peak / 2;
        st.memory_peak_kib = i == 1 ? memory_kib : 64 * 1024;
        st.samples = 3;
        g_array_append_val(steps, st);
    }
    ck_assert_msg(vsStoreRecordShadowSteps(store, id, steps, &error), "%s",
                  error ? error->message : "");
    ck_assert_msg(vsStoreFinishShadowRun(store, id, VS_SHADOW_SUCCEEDED, at_us + 10 * MIN_US,
                                         TRUE, 0, NULL, &error), "%s",
                  error ? error->message : "");
}

static void
vsSetup(void)
{
    g_autoptr(vsStore) store = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *conf = NULL;
    g_autofree char *text = NULL;
    const char *dropped[] = { "burn", NULL };
    vsShadowOptimization opt = {
        .original_run = (char *)"r2", .optimized_run = (char *)"r2-opt",
        .script = (char *)OPTIMIZED, .dropped = (GStrv)dropped, .groups = 2,
        .original_us = 180 * G_USEC_PER_SEC, .optimized_us = 120 * G_USEC_PER_SEC,
        .same_files = TRUE, .same_services = TRUE,
    };

    vsDriversInit();
    pg = vsTestPgStart();
    db = vsTestPgFreshDatabase(pg, "deploycmd");
    store = vsTestStoreOpenMigrated(db);
    /* two runs of 1.0: the peaks are the higher run's, 1.5 cores and 300 MiB */
    vsRecordRun(store, "r1", "1.0", DAY0_US, SCRIPT, NULL, 1.2, 250 * 1024);
    vsRecordRun(store, "r2", "1.0", DAY0_US + 60 * MIN_US, SCRIPT, NULL, 1.5, 300 * 1024);
    /* r2's verified optimization, which deploy prefers; its own check run
     * stays out of the profile */
    vsRecordRun(store, "r2-opt", "1.0", DAY0_US + 120 * MIN_US, OPTIMIZED, "r2", 3.9,
                4000 * 1024);
    ck_assert_msg(vsStoreRecordShadowOptimization(store, &opt, &error), "%s",
                  error ? error->message : "");

    tmp = vsTestMakeTempDir("vsdeploycmd-XXXXXX");
    conf = g_build_filename(tmp, "vs.conf", NULL);
    text = g_strdup_printf("[main]\ndatabase = %s\n[deploy]\npool = deploy-pool\nvcpus = 2\n"
                           "memory = 768M\n", db);
    ck_assert(g_file_set_contents(conf, text, -1, NULL));
    uri = g_strdup_printf("test://%s/tests/vsdeploydata/node.xml", vsTestSrcDir());
}

static void
vsTeardown(void)
{
    vsTestPgStop(pg);
    vsTestRemoveTree(tmp);
    g_clear_pointer(&tmp, g_free);
    g_clear_pointer(&db, g_free);
    g_clear_pointer(&uri, g_free);
}

/* Run "virt-shadow --config ... -c URI ARGS..." in this process; its
 * stdout and stderr in @ret_out and @ret_err (may be NULL). */
static int
vsRun(char **ret_out, char **ret_err, ...)
{
    g_autofree char *conf = g_build_filename(tmp, "vs.conf", NULL);
    g_autofree char *state = g_build_filename(tmp, "state", NULL);
    g_autofree char *out_path = g_build_filename(tmp, "stdout", NULL);
    g_autofree char *err_path = g_build_filename(tmp, "stderr", NULL);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *arg;
    va_list ap;
    int saved_out, saved_err, fd_out, fd_err, rc;

    g_ptr_array_add(argv, (char *)"virt-shadow");
    g_ptr_array_add(argv, (char *)"--config");
    g_ptr_array_add(argv, conf);
    g_ptr_array_add(argv, (char *)"--state-dir");
    g_ptr_array_add(argv, state);
    g_ptr_array_add(argv, (char *)"-c");
    g_ptr_array_add(argv, uri);
    va_start(ap, ret_err);
    while ((arg = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (char *)arg);
    va_end(ap);
    g_ptr_array_add(argv, NULL);

    fflush(stdout);
    fflush(stderr);
    saved_out = dup(STDOUT_FILENO);
    saved_err = dup(STDERR_FILENO);
    fd_out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    fd_err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert(fd_out >= 0 && fd_err >= 0);
    dup2(fd_out, STDOUT_FILENO);
    dup2(fd_err, STDERR_FILENO);
    close(fd_out);
    close(fd_err);
    rc = vsCliMain((int)argv->len - 1, (char **)argv->pdata);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved_out);
    close(saved_err);
    if (ret_out)
        ck_assert(g_file_get_contents(out_path, ret_out, NULL, NULL));
    if (ret_err)
        ck_assert(g_file_get_contents(err_path, ret_err, NULL, NULL));
    return rc;
}

static gint64
vsJsonInt(const vsJson *json, const char *path)
{
    const vsJson *v = vsJsonPath(json, path);
    gint64 n = -1;

    ck_assert_msg(v && vsJsonGetInt64(v, &n), "no integer at %s", path);
    return n;
}

static const char *
vsJsonStr(const vsJson *json, const char *path)
{
    const vsJson *v = vsJsonPath(json, path);

    ck_assert_msg(v && vsJsonGetString(v), "no string at %s", path);
    return vsJsonGetString(v);
}

#define ASSERT_IN(text, part) ck_assert_msg(strstr(text, part), "'%s' not in: %s", part, text)

/* Sized from the profile: 1.5 cores x 1.2 -> 2 vCPUs, 300 MiB x 1.2 -> 360
 * MiB, room to twice that; the verified optimized script in its groups. */
START_TEST(test_dry_run_profile)
{
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(vsJson) json = NULL;

    ck_assert_int_eq(vsRun(&out, &err, "deploy", "demo", "--version", "1.0", "--base",
                           "app-base", "--name", "web7", "--dry-run", "--json", NULL), 0);
    ck_assert_msg((json = vsJsonParse(out, -1, NULL)), "%s", out);
    ck_assert_str_eq(vsJsonStr(json, "sized_by"), "profile");
    ck_assert_int_eq(vsJsonInt(json, "profile_runs"), 2);
    ck_assert_int_eq(vsJsonInt(json, "vcpus"), 2);
    ck_assert_int_eq(vsJsonInt(json, "max_vcpus"), 4);
    ck_assert_int_eq(vsJsonInt(json, "memory_kib"), 360 * 1024);
    ck_assert_int_eq(vsJsonInt(json, "max_memory_kib"), 720 * 1024);
    ck_assert_int_eq(vsJsonInt(json, "peak_memory_kib"), 300 * 1024);
    ck_assert_str_eq(vsJsonStr(json, "why_vcpus"),
                     "2 vCPUs: peak 1.50 cores x margin 1.2 = 1.80, rounded up");
    ck_assert_str_eq(vsJsonStr(json, "policy.mode"), "auto");
    ck_assert_int_eq(vsJsonInt(json, "policy.min_vcpus"), 2);
    ck_assert_int_eq(vsJsonInt(json, "policy.max_memory_kib"), 720 * 1024);
    /* node.xml: 4 CPUs x the default 4x overcommit, 8 GiB; web1 runs with
     * 2 vCPUs and 1 GiB */
    ck_assert_int_eq(vsJsonInt(json, "host_room.vcpus"), 16);
    ck_assert_int_eq(vsJsonInt(json, "host_room.used_vcpus"), 2);
    ck_assert_int_eq(vsJsonInt(json, "host_room.memory_kib"), 8 * 1024 * 1024);
    ck_assert_int_eq(vsJsonInt(json, "host_room.used_memory_kib"), 1024 * 1024);
    ck_assert_str_eq(vsJsonStr(json, "clone"), "linked");
    ck_assert_str_eq(vsJsonStr(json, "volume"), "web7.qcow2");
    ck_assert_str_eq(vsJsonStr(json, "base_disk"), "/deploy-pool/app-base.qcow2");
    ck_assert_str_eq(vsJsonStr(json, "script"), "optimized script of shadow run 'r2'");
    ck_assert(vsJsonGetBool(vsJsonObjectGet(json, "optimized")));
    /* "files" first, then "config" and "unit" together */
    ck_assert_uint_eq(vsJsonArrayLength(vsJsonObjectGet(json, "batches")), 2);
    ck_assert_uint_eq(vsJsonArrayLength(vsJsonArrayGet(vsJsonObjectGet(json, "batches"), 1)), 2);
    ck_assert_uint_eq(vsJsonArrayLength(vsJsonObjectGet(json, "script_steps")), 3);
    ck_assert_str_eq(vsJsonStr(vsJsonArrayGet(vsJsonObjectGet(json, "script_steps"), 2), "name"),
                     "unit");
    ck_assert_int_eq(vsJsonInt(vsJsonArrayGet(vsJsonObjectGet(json, "script_steps"), 2), "group"), 2);
    ck_assert_uint_eq(vsJsonArrayLength(vsJsonObjectGet(json, "steps")), 0);
    ck_assert(vsJsonGetType(vsJsonObjectGet(json, "failed")) == VS_JSON_NULL);

    /* the text plan, with a margin and a full copy */
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    ck_assert_int_eq(vsRun(&out, &err, "deploy", "demo", "--version", "1.0", "--base",
                           "app-base", "--name", "web7", "--dry-run", "--margin", "2",
                           "--clone", "full", NULL), 0);
    ASSERT_IN(out, "Plan to deploy app 'demo' version '1.0' as domain 'web7' (dry run");
    ASSERT_IN(out, "sized by: the profile of 2 shadow runs of app 'demo' version '1.0'");
    ASSERT_IN(out, "3 vCPUs: peak 1.50 cores x margin 2 = 3.00, rounded up; up to 6 live");
    ASSERT_IN(out, "600 MiB: peak 300 MiB x margin 2 = 600.0 MiB");
    ASSERT_IN(out, "full (a copy of the base disk), as volume 'web7.qcow2' in pool 'deploy-pool'");
    ASSERT_IN(out, "policy:   auto, vCPUs 3-6, memory 600 MiB-1.2 GiB");
    ASSERT_IN(out, "batch 2: steps 2 'config', 3 'unit' (concurrently)");
}
END_TEST

/* No profile of 2.0: the [deploy] defaults, and it says so. */
START_TEST(test_dry_run_defaults)
{
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(vsJson) json = NULL;

    ck_assert_int_eq(vsRun(&out, &err, "deploy", "demo", "--version", "2.0", "--base",
                           "app-base", "--name", "web7", "--dry-run", NULL), 0);
    ASSERT_IN(out, "sized by: the [deploy] defaults: no profile of app 'demo' version '2.0' exists");
    ASSERT_IN(out, "2 vCPUs: [deploy] vcpus (no profile); up to 4 live");
    ASSERT_IN(out, "768 MiB: [deploy] memory (no profile); up to 1.5 GiB live");
    ASSERT_IN(out, "script:   none stored for app 'demo' version '2.0' (a deploy needs --script FILE)");
    g_clear_pointer(&out, g_free);
    ck_assert_int_eq(vsRun(&out, NULL, "deploy", "demo", "--version", "2.0", "--base",
                           "app-base", "--name", "web7", "--dry-run", "--json", NULL), 0);
    ck_assert_msg((json = vsJsonParse(out, -1, NULL)), "%s", out);
    ck_assert_str_eq(vsJsonStr(json, "sized_by"), "defaults");
    ck_assert_int_eq(vsJsonInt(json, "vcpus"), 2);
    ck_assert_int_eq(vsJsonInt(json, "memory_kib"), 768 * 1024);
    ck_assert(vsJsonGetType(vsJsonObjectGet(json, "script")) == VS_JSON_NULL);
}
END_TEST

/* Without a profile and without --dry-run, deploy still goes ahead with
 * the defaults, says so, and on the test driver stops at the guest agent,
 * removing what it made. */
START_TEST(test_deploy_defaults_no_agent)
{
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autofree char *script = g_build_filename(tmp, "install.sh", NULL);

    ck_assert(g_file_set_contents(script, SCRIPT, -1, NULL));
    ck_assert_int_eq(vsRun(&out, &err, "deploy", "demo", "--version", "2.0", "--base",
                           "app-base", "--name", "web7", "--script", script, NULL), 1);
    ASSERT_IN(out, "No profile of app 'demo' version '2.0': sizing by the [deploy] defaults");
    ASSERT_IN(err, "guest agent of domain 'web7'");
    ck_assert_msg(!strstr(err, "removing what was made failed"), "%s", err);
}
END_TEST

START_TEST(test_errors)
{
    g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e5 = NULL, *e6 = NULL;
    g_autofree char *e7 = NULL, *e8 = NULL, *e9 = NULL;

    ck_assert_int_eq(vsRun(NULL, &e1, "deploy", "demo", "--version", "1.0", "--base", "nosuch",
                           "--name", "web7", NULL), 1);
    ASSERT_IN(e1, "base domain 'nosuch' not found");
    ck_assert_int_eq(vsRun(NULL, &e2, "deploy", "demo", "--version", "1.0", "--base",
                           "app-base", "--name", "web1", "--dry-run", NULL), 1);
    ASSERT_IN(e2, "domain 'web1' already exists: choose another --name");
    ck_assert_int_eq(vsRun(NULL, &e3, "deploy", "demo", "--version", "1.0", "--base",
                           "busy-base", "--name", "web7", NULL), 1);
    ASSERT_IN(e3, "disk '/deploy-pool/web1.qcow2' of base domain 'busy-base' is in use by "
                  "running domain 'web1': shut it down first");
    ck_assert_int_eq(vsRun(NULL, &e4, "deploy", "demo", "--version", "2.0", "--base",
                           "app-base", "--name", "web7", NULL), 1);
    ASSERT_IN(e4, "no install script for app 'demo' version '2.0': it has no succeeded shadow "
                  "run; give --script FILE");
    ck_assert_int_eq(vsRun(NULL, &e5, "deploy", "demo", "--version", "1.0", "--base",
                           "app-base", "--name", "web7", "--script", "/nonexistent/x.sh", NULL), 1);
    ASSERT_IN(e5, "/nonexistent/x.sh");
    ck_assert_int_eq(vsRun(NULL, &e6, "deploy", "demo", "--version", "1.0", "--base",
                           "app-base", "--name", "web7", "--margin", "0.5", NULL), 2);
    ASSERT_IN(e6, "invalid margin '0.5' for --margin");
    ck_assert_int_eq(vsRun(NULL, &e7, "deploy", "demo", "--base", "app-base", "--name", "web7",
                           NULL), 2);
    ASSERT_IN(e7, "deploy needs --version V");
    ck_assert_int_eq(vsRun(NULL, &e8, "deploy", "demo", "--version", "1.0", "--base",
                           "app-base", "--name", "../web7", NULL), 2);
    ASSERT_IN(e8, "invalid domain name '../web7' for --name");
    /* 300 MiB x 30 is more than the 7 GiB web1 leaves; the plan fails too */
    ck_assert_int_eq(vsRun(NULL, &e9, "deploy", "demo", "--version", "1.0", "--base",
                           "app-base", "--name", "web7", "--margin", "30", "--dry-run", NULL), 1);
    ASSERT_IN(e9, "no room on this host for domain 'web7': it needs 45 vCPUs and 8.8 GiB; 14 of "
                  "16 vCPUs and 7 GiB of 8 GiB are free");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("deploycmd");
    TCase *tc = tcase_create("deploycmd");

    tcase_add_unchecked_fixture(tc, vsSetup, vsTeardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_dry_run_profile);
    tcase_add_test(tc, test_dry_run_defaults);
    tcase_add_test(tc, test_deploy_defaults_no_agent);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
