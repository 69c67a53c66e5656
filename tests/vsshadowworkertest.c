/*
 * vsshadowworkertest.c: the daemon's scheduled shadow runs, on a real
 * PostgreSQL and libvirt's test driver
 *
 *   - a due schedule becomes exactly one job across two enqueuers running
 *     at once;
 *   - gc closes as killed this host's runs left 'running' whose domain is
 *     gone, and no others;
 *   - the worker leases a due job and runs it with the real runner: on the
 *     test driver the shadow cannot boot (no guest agent), so the job ends
 *     'failed' with its run recorded as failed, and nothing is left;
 *   - the worker gives up a job whose lease ran out max_attempts times:
 *     failed with the reason, never run again.
 */
#include <config.h>

#include <libvirt/libvirt.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string.h>

#include "vstestutils.h"
#include "daemon/vsshadowworker.h"
#include "vsdrivers.h"
#include "postgres/vspg.h"
#include "shadow/vsgc.h"
#include "shadow/vsrunlock.h"
#include "store/vsstore.h"
#include "util/vserror.h"

#define MIN_US (G_GINT64_CONSTANT(60) * G_USEC_PER_SEC)
#define SHA_A "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static vsTestPg *pg;

static void
pgSetup(void)
{
    pg = vsTestPgStart();
}

static void
pgTeardown(void)
{
    vsTestPgStop(pg);
    pg = NULL;
}

static gint64
addSchedule(vsStore *store, const char *base, const char *every, gint64 next_us)
{
    g_autoptr(GError) error = NULL;
    vsShadowScheduleRecord sched = {
        .app = (char *)"app", .version = (char *)"1.0", .base = (char *)base,
        .script = (char *)"#!/bin/sh\n# step: hello\necho hello\n", .every = (char *)every,
        .next_us = next_us, .enabled = TRUE,
    };

    ck_assert_msg(vsStoreAddShadowSchedule(store, &sched, &error), "%s",
                  error ? error->message : "");
    return sched.id;
}

typedef struct {
    const char *db;
    gint64 now_us;
    guint enqueued;
} vsEnqueuer;

static gpointer
enqueueThread(gpointer opaque)
{
    vsEnqueuer *e = opaque;
    g_autoptr(GError) error = NULL;
    g_autoptr(vsStore) store = vsStoreOpen(&(vsStoreTarget){ .url = (char *)e->db }, FALSE,
                                           &error);

    g_assert(store);
    if (!vsShadowWorkerEnqueueDue(store, e->now_us, &e->enqueued, &error))
        g_error("enqueue: %s", error->message);
    return NULL;
}

START_TEST(test_enqueue_once)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sw_enqueue");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GPtrArray) all = NULL;
    gint64 now = g_get_real_time();
    vsEnqueuer e[2] = { { db, now, 0 }, { db, now, 0 } };
    GThread *threads[2];

    /* due three days ago (missed slots run once), due now, not due yet */
    addSchedule(store, "b", "daily", now - 3 * 1440 * MIN_US);
    addSchedule(store, "b", "*/5 * * * *", now - MIN_US);
    addSchedule(store, "b", "weekly", now + MIN_US);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 2; i++)
            threads[i] = g_thread_new("enqueue", enqueueThread, &e[i]);
        for (int i = 0; i < 2; i++)
            g_thread_join(threads[i]);
        /* the first round makes the two jobs between both; later ones none */
        ck_assert_uint_eq(e[0].enqueued + e[1].enqueued, round == 0 ? 2 : 0);
    }
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_jobs", "2");
    vsTestPgAssertQuery(db, "SELECT count(DISTINCT schedule_id) FROM shadow_jobs", "2");
    ck_assert(vsStoreListShadowSchedules(store, 0, &all, NULL));
    for (guint i = 0; i < all->len; i++) {
        const vsShadowScheduleRecord *s = g_ptr_array_index(all, i);

        /* moved on past now, onto a due time of its own; the one not due
         * is left alone */
        if (i == 2) {
            ck_assert_int_eq(s->next_us, now + MIN_US);
        } else {
            ck_assert_int_gt(s->next_us, now);
            ck_assert_int_eq(s->next_us % MIN_US, 0);
        }
    }
}
END_TEST

static void
startRun(vsStore *store, const char *id, const char *host)
{
    g_autoptr(GError) error = NULL;
    vsShadowRunRecord run = {
        .id = (char *)id, .app = (char *)"app", .version = (char *)"1.0",
        .base = (char *)"base-vm", .script_sha256 = (char *)SHA_A, .script = (char *)"test", /* SHA_A */
        .limits = (char *)"vcpus=1", .host = (char *)host, .started_us = g_get_real_time(),
    };

    ck_assert_msg(vsStoreStartShadowRun(store, &run, &error), "%s", error ? error->message : "");
}

static char *
runState(const char *db, const char *id)
{
    g_autofree char *sql = g_strdup_printf("SELECT state FROM shadow_runs WHERE id = '%s'", id);

    return vsTestPgQuery(db, sql);
}

static void
assertRunIds(GPtrArray *runs, const char *expect, gboolean closed)
{
    g_autoptr(GString) got = g_string_new(NULL);

    for (guint i = 0; i < runs->len; i++) {
        const vsGcRun *run = g_ptr_array_index(runs, i);

        g_string_append_printf(got, "%s%s", i ? " " : "", run->id);
        ck_assert_msg(!run->error, "%s", run->error);
        ck_assert_str_eq(run->app, "app");
    }
    ck_assert_str_eq(got->str, expect);
    (void)closed;
}

/* tests/vsshadowgcdata/node.xml has shadows r1 (running) and r2 (defined). */
START_TEST(test_gc_closes_stale_runs)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sw_gc");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autofree char *uri = g_strdup_printf("test://%s/tests/vsshadowgcdata/node.xml",
                                           vsTestSrcDir());
    g_autoptr(GError) error = NULL;
    g_autoptr(vsHypervisor) hv = vsHypervisorOpen(uri, NULL, &error);
    g_autoptr(vsGcResult) dry = NULL;
    g_autoptr(vsGcResult) one = NULL;
    g_autoptr(vsGcResult) all = NULL;
    vsGcOptions opts = { .pool = "vs-shadow-pool", .host = "h1", .dry_run = TRUE };
    g_autofree char *s = NULL;

    ck_assert_msg(hv, "%s", error ? error->message : "");
    startRun(store, "r1", "h1");    /* its domain is there */
    startRun(store, "r5", "h1");    /* no domain: killed */
    startRun(store, "r6", "h2");    /* another host's */

    ck_assert_msg(vsGcCollect(hv, store, &opts, &dry, &error), "%s", error ? error->message : "");
    /* r1's domain would go too, so r1 would be closed */
    assertRunIds(dry->runs, "r1 r5", FALSE);
    ck_assert_uint_eq(vsGcResultFailed(dry), 0);
    s = runState(db, "r5");
    ck_assert_str_eq(s, "running");
    g_clear_pointer(&s, g_free);

    /* only r5's: r1 keeps its domain, and stays running */
    opts.dry_run = FALSE;
    opts.run = "r5";
    ck_assert_msg(vsGcCollect(hv, store, &opts, &one, &error), "%s", error ? error->message : "");
    assertRunIds(one->runs, "r5", TRUE);
    ck_assert_uint_eq(one->items->len, 0);
    s = runState(db, "r5");
    ck_assert_str_eq(s, "killed");
    g_clear_pointer(&s, g_free);
    s = runState(db, "r1");
    ck_assert_str_eq(s, "running");
    g_clear_pointer(&s, g_free);
    vsTestPgAssertQuery(db, "SELECT error FROM shadow_runs WHERE id = 'r5'",
                        "its process was gone: closed by gc");

    /* everything: r1's domain goes, and r1 is closed; h2's run is not ours */
    opts.run = NULL;
    ck_assert_msg(vsGcCollect(hv, store, &opts, &all, &error), "%s", error ? error->message : "");
    assertRunIds(all->runs, "r1", TRUE);
    ck_assert_uint_eq(vsGcResultFailed(all), 0);
    s = runState(db, "r1");
    ck_assert_str_eq(s, "killed");
    g_clear_pointer(&s, g_free);
    s = runState(db, "r6");
    ck_assert_str_eq(s, "running");
}
END_TEST

/* A run whose lock is held (as vsShadowRun holds it) is in progress: gc
 * leaves its row open and its domain alone; once the lock is dropped, gc
 * closes it and removes its lock file. */
START_TEST(test_gc_leaves_runs_in_progress)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sw_gc_lock");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autofree char *uri = g_strdup_printf("test://%s/tests/vsshadowgcdata/node.xml",
                                           vsTestSrcDir());
    g_autofree char *tmp = vsTestMakeTempDir("vs-runlock-XXXXXX");
    g_autofree char *locks = g_build_filename(tmp, "shadow-runs", NULL);
    g_autofree char *r5lock = g_build_filename(locks, "r5.lock", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(vsHypervisor) hv = vsHypervisorOpen(uri, NULL, &error);
    g_autoptr(vsGcResult) held = NULL;
    g_autoptr(vsGcResult) freed = NULL;
    vsGcOptions opts = { .pool = "vs-shadow-pool", .host = "h1", .lock_dir = locks };
    g_autofree char *s = NULL;
    int r1fd, r5fd;
    struct stat st;

    ck_assert_msg(hv, "%s", error ? error->message : "");
    startRun(store, "r1", "h1");    /* its domain is there */
    startRun(store, "r5", "h1");    /* no domain yet: still cloning */
    r1fd = vsRunLockAcquire(locks, "r1", &error);
    ck_assert_msg(r1fd >= 0, "%s", error ? error->message : "");
    r5fd = vsRunLockAcquire(locks, "r5", &error);
    ck_assert_msg(r5fd >= 0, "%s", error ? error->message : "");
    ck_assert_int_eq(stat(locks, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    ck_assert_int_eq(stat(r5lock, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_int_lt(vsRunLockAcquire(locks, "r5", &error), 0);
    ck_assert_msg(strstr(error->message, "another process runs it"), "%s", error->message);
    g_clear_error(&error);

    ck_assert_msg(vsGcCollect(hv, store, &opts, &held, &error), "%s", error ? error->message : "");
    ck_assert_uint_eq(vsGcResultFailed(held), 0);
    ck_assert_uint_eq(held->runs->len, 1);
    ck_assert_str_eq(((vsGcRun *)g_ptr_array_index(held->runs, 0))->id, "r5");
    ck_assert(((vsGcRun *)g_ptr_array_index(held->runs, 0))->in_progress);
    for (guint i = 0; i < held->items->len; i++) {
        vsGcItem *item = g_ptr_array_index(held->items, i);

        if (g_strcmp0(item->run_id, "r1") == 0)
            ck_assert(item->in_progress);
    }
    s = runState(db, "r5");
    ck_assert_str_eq(s, "running");
    g_clear_pointer(&s, g_free);
    s = runState(db, "r1");
    ck_assert_str_eq(s, "running");
    g_clear_pointer(&s, g_free);
    ck_assert(g_file_test(r5lock, G_FILE_TEST_EXISTS));

    /* as when its process is killed: the lock goes, the file stays */
    close(r1fd);
    close(r5fd);
    ck_assert_msg(vsGcCollect(hv, store, &opts, &freed, &error), "%s", error ? error->message : "");
    ck_assert_uint_eq(vsGcResultFailed(freed), 0);
    assertRunIds(freed->runs, "r1 r5", TRUE);
    s = runState(db, "r5");
    ck_assert_str_eq(s, "killed");
    g_clear_pointer(&s, g_free);
    s = runState(db, "r1");
    ck_assert_str_eq(s, "killed");
    ck_assert(!g_file_test(r5lock, G_FILE_TEST_EXISTS));
    vsTestRemoveTree(tmp);
}
END_TEST

/* The runner takes a base volume by its path on this host: a real file. */
static char *
makeBase(const char *dir)
{
    char *path = g_build_filename(dir, "base.img", NULL);
    g_autofree char *zeros = g_malloc0(1 << 20);
    g_autoptr(GError) error = NULL;

    ck_assert_msg(g_file_set_contents(path, zeros, 1 << 20, &error), "%s",
                  error ? error->message : "");
    return path;
}

typedef struct {
    vsStore *store;
    char *state;
    char *run_id;
} vsJobWatch;

static gboolean
jobClosed(gpointer opaque)
{
    vsJobWatch *w = opaque;
    g_autoptr(GPtrArray) all = NULL;
    const vsShadowScheduleRecord *s;

    ck_assert(vsStoreListShadowSchedules(w->store, 0, &all, NULL));
    s = g_ptr_array_index(all, 0);
    if (g_strcmp0(s->last_state, "done") != 0 && g_strcmp0(s->last_state, "failed") != 0)
        return FALSE;
    w->state = g_strdup(s->last_state);
    w->run_id = g_strdup(s->last_run_id);
    return TRUE;
}

START_TEST(test_worker_runs_job)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sw_worker");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsHypervisor) hv = NULL;
    g_autoptr(GPtrArray) shadows = NULL;
    g_autoptr(GPtrArray) overlays = NULL;
    g_autoptr(GError) error = NULL;
    vsStoreTarget target = { .url = db };
    vsShadowWorkerConfig cfg = {
        .host = "h1", .uri = "test:///default", .pool = "default-pool",
        .max_concurrent = 1, .interval_ms = 200, .lease_s = 3,
    };
    vsJobWatch watch = { .store = store };
    g_autoptr(vsShadowWorker) worker = NULL;
    g_autofree char *sql = NULL;
    g_autofree char *dir = vsTestMakeTempDir("vs-worker-XXXXXX");
    g_autofree char *base = NULL;
    virConnectPtr keep = virConnectOpen("test:///default");
    gint64 now = g_get_real_time();

    /* test:///default lives while a connection to it does: the worker's
     * come and go, this one stays for the checks at the end */
    ck_assert_ptr_nonnull(keep);
    base = makeBase(dir);
    /* yearly, due a minute ago: one job, then not again for a year */
    addSchedule(store, base, "0 0 1 1 *", now - MIN_US);
    worker = vsShadowWorkerStart(&target, &cfg);
    ck_assert_msg(vsTestPoll(jobClosed, &watch, 60000, 100), "the job was not run");
    ck_assert_str_eq(watch.state, "failed");
    ck_assert_msg(watch.run_id, "the job has no run");
    sql = g_strdup_printf("SELECT state || ' ' || host FROM shadow_runs WHERE id = '%s'",
                          watch.run_id);
    vsTestPgAssertQuery(db, sql, "failed h1");
    g_free(sql);
    sql = g_strdup_printf("SELECT error FROM shadow_runs WHERE id = '%s'", watch.run_id);
    {
        g_autofree char *why = vsTestPgQuery(db, sql);

        /* the shadow was made, and failed on its way up */
        ck_assert_msg(why && !g_str_equal(why, "(null)"), "the run has no error");
        fprintf(stderr, "the run failed as expected: %s\n", why);
    }
    vsTestPgAssertQuery(db, "SELECT count(*) || ' ' || min(attempts) || ' ' || min(leased_by)"
                        " FROM shadow_jobs", "1 1 h1");
    /* the job says why it failed: its run's error */
    g_free(sql);
    sql = g_strdup_printf("SELECT last_error = error FROM shadow_jobs j JOIN shadow_runs r"
                          " ON r.id = j.run_id WHERE r.id = '%s'", watch.run_id);
    vsTestPgAssertQuery(db, sql, "t");
    g_clear_pointer(&worker, vsShadowWorkerStop);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_jobs WHERE state <> 'failed'", "0");

    /* nothing is left: no shadow domain, no overlay */
    hv = vsHypervisorOpen("test:///default", NULL, &error);
    ck_assert_msg(hv, "%s", error ? error->message : "");
    shadows = vsHypervisorListShadowDomains(hv, &error);
    ck_assert_msg(shadows, "%s", error ? error->message : "");
    ck_assert_uint_eq(shadows->len, 0);
    overlays = vsHypervisorListVolumesByPrefix(hv, "default-pool", "vs-shadow-", &error);
    ck_assert_msg(overlays, "%s", error ? error->message : "");
    ck_assert_uint_eq(overlays->len, 0);
    g_free(watch.state);
    g_free(watch.run_id);
    virConnectClose(keep);
    vsTestRemoveTree(dir);
}
END_TEST

START_TEST(test_worker_gives_up)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sw_gives_up");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GError) error = NULL;
    vsStoreTarget target = { .url = db };
    vsShadowWorkerConfig cfg = {
        .host = "h1", .uri = "test:///default", .pool = "default-pool",
        .max_concurrent = 1, .interval_ms = 200, .lease_s = 3, .max_attempts = 2,
    };
    vsJobWatch watch = { .store = store };
    g_autoptr(vsShadowWorker) worker = NULL;
    gint64 now = g_get_real_time();
    /* not due again for a year: the one job is enqueued here */
    gint64 id = addSchedule(store, "/nonexistent/base.qcow2", "0 0 1 1 *",
                            now + 366 * 1440 * MIN_US);
    gboolean made = FALSE;

    ck_assert(vsStoreEnqueueShadowJob(store, id, now - MIN_US, now + 366 * 1440 * MIN_US, &made,
                                      &error));
    ck_assert(made);
    /* two controllers leased it and died */
    for (guint i = 0; i < 2; i++) {
        g_autoptr(vsShadowJobRecord) job = NULL;

        ck_assert(vsStoreLeaseShadowJob(store, "dead", 60, 2, &job, &error));
        ck_assert_ptr_nonnull(job);
        g_free(vsTestPgQuery(db, "UPDATE shadow_jobs SET lease_until = now() - interval '1 s'"));
    }
    worker = vsShadowWorkerStart(&target, &cfg);
    ck_assert_msg(vsTestPoll(jobClosed, &watch, 30000, 100), "the job was not given up");
    g_clear_pointer(&worker, vsShadowWorkerStop);
    ck_assert_str_eq(watch.state, "failed");
    ck_assert_ptr_null(watch.run_id);
    vsTestPgAssertQuery(db, "SELECT attempts || ' ' || leased_by || ' ' || last_error"
                        " FROM shadow_jobs", "2 dead gave up after 2 attempts: the lease of"
                        " host 'dead' ran out without the job being closed");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_runs", "0");
    g_free(watch.state);
}
END_TEST

/* "virt-shadow ARGS..." on database @db: its exit code, stdout and stderr. */
static int
runCli(const char *db, char **ret_out, char **ret_err, ...)
{
    g_autofree char *bin = g_build_filename(vsTestBuildDir(), "virt-shadow", NULL);
    g_autofree char *dbenv = g_strdup_printf("VIRT_SHADOW_DATABASE=%s", db);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    const char *envp[] = { dbenv, "PATH=/usr/bin:/bin", NULL };
    const char *arg;
    va_list ap;
    int status = 0;

    g_ptr_array_add(argv, bin);
    g_ptr_array_add(argv, (char *)"--config");
    g_ptr_array_add(argv, (char *)"/dev/null");
    va_start(ap, ret_err);
    while ((arg = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (char *)arg);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    ck_assert_msg(g_spawn_sync(NULL, (char **)argv->pdata, (char **)envp, G_SPAWN_DEFAULT, NULL,
                               NULL, ret_out, ret_err, &status, &error),
                  "%s", error ? error->message : "");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(test_cli)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sw_cli");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autofree char *dir = vsTestMakeTempDir("vs-sched-cli-XXXXXX");
    g_autofree char *script = g_build_filename(dir, "install.sh", NULL);
    g_autoptr(GPtrArray) all = NULL;
    const vsShadowScheduleRecord *s;
    char *out = NULL, *err = NULL;
    gint64 before = g_get_real_time();

    ck_assert(g_file_set_contents(script, "#!/bin/sh\n# step: a\ntrue\n", -1, NULL));
    /* test:///default has domain 'test'; "base-vm" it has not */
    ck_assert_int_eq(runCli(db, &out, &err, "-c", "test:///default", "shadow", "schedule", "add",
                            "myapp", "--version", "2.1", "--base", "base-vm", "--script", script,
                            "--every", "daily", NULL), 1);
    ck_assert_msg(strstr(err, "base 'base-vm' is neither a domain nor an absolute volume path"),
                  "%s", err);
    g_free(out);
    g_free(err);
    ck_assert_int_eq(runCli(db, &out, &err, "-c", "test:///default", "shadow", "schedule", "add",
                            "myapp", "--version", "2.1", "--base", "/nonexistent/base.qcow2",
                            "--script", script, "--every", "daily", NULL), 1);
    ck_assert_msg(strstr(err, "base volume '/nonexistent/base.qcow2' does not exist"), "%s", err);
    g_free(out);
    g_free(err);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_schedules", "0");
    ck_assert_int_eq(runCli(db, &out, &err, "-c", "test:///default", "shadow", "schedule", "add",
                            "myapp", "--version", "2.1", "--base", "test", "--script", script,
                            "--every", "30 2 * * *", "--limits", "memory=256M", "--stage", dir,
                            "--network", "isolated", "--timeout", "10m", NULL), 0);
    ck_assert_msg(g_str_has_prefix(out, "Added shadow schedule 1 for myapp 2.1, every "
                                        "'30 2 * * *': first due "), "%s", out);
    g_free(out);
    g_free(err);
    ck_assert(vsStoreListShadowSchedules(store, 0, &all, NULL));
    ck_assert_uint_eq(all->len, 1);
    s = g_ptr_array_index(all, 0);
    ck_assert_str_eq(s->script, "#!/bin/sh\n# step: a\ntrue\n");
    ck_assert_msg(g_str_has_prefix(s->limits, "vcpus=1,"), "%s", s->limits);
    ck_assert_msg(strstr(s->limits, "memory=262144K") || strstr(s->limits, "memory=256M"), "%s",
                  s->limits);
    ck_assert_str_eq(s->base, "test");
    ck_assert_str_eq(s->stage_dir, dir);
    ck_assert_str_eq(s->network, "isolated");
    ck_assert_uint_eq(s->timeout_s, 600);
    ck_assert_int_gt(s->next_us, before);
    ck_assert_int_eq(s->next_us % (1440 * MIN_US), (2 * 60 + 30) * MIN_US);

    ck_assert_int_eq(runCli(db, &out, &err, "shadow", "schedule", "list", "--json", NULL), 0);
    ck_assert_msg(strstr(out, "\"every\": \"30 2 * * *\"") && strstr(out, "\"app\": \"myapp\""),
                  "%s", out);
    ck_assert_msg(strstr(out, "\"network\": \"isolated\"") && strstr(out, "\"timeout_s\": 600"),
                  "%s", out);
    {
        g_autofree char *stage = g_strdup_printf("\"stage\": \"%s\"", dir);

        ck_assert_msg(strstr(out, stage), "%s", out);
    }
    g_free(out);
    g_free(err);
    ck_assert_int_eq(runCli(db, &out, &err, "shadow", "schedule", "list", NULL), 0);
    ck_assert_msg(strstr(out, "myapp") && strstr(out, "30 2 * * *"), "%s", out);
    ck_assert_msg(strstr(out, "network=isolated timeout=600s stage="), "%s", out);
    g_free(out);
    g_free(err);

    /* the run options are checked as shadow run checks them */
    ck_assert_int_eq(runCli(db, &out, &err, "shadow", "schedule", "add", "myapp", "--version",
                            "1", "--base", "b", "--script", script, "--every", "daily",
                            "--timeout", "soon", NULL), 2);
    ck_assert_msg(strstr(err, "invalid --timeout 'soon'"), "%s", err);
    g_free(out);
    g_free(err);
    ck_assert_int_eq(runCli(db, &out, &err, "shadow", "schedule", "add", "myapp", "--version",
                            "1", "--base", "b", "--script", script, "--every", "daily",
                            "--network", "", NULL), 2);
    ck_assert_msg(strstr(err, "invalid --network ''"), "%s", err);
    g_free(out);
    g_free(err);
    ck_assert_int_eq(runCli(db, &out, &err, "shadow", "schedule", "add", "myapp", "--version",
                            "1", "--base", "b", "--script", script, "--every", "daily",
                            "--stage", script, NULL), 1);
    ck_assert_msg(strstr(err, "stage directory"), "%s", err);
    g_free(out);
    g_free(err);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_schedules", "1");
    /* libvirt out of reach: added, with a warning that the base is not checked */
    ck_assert_int_eq(runCli(db, &out, &err, "-c",
                            "qemu+unix:///system?socket=/nonexistent/libvirt-sock", "shadow",
                            "schedule", "add", "myapp", "--version", "1", "--base", "b",
                            "--script", script, "--every", "daily", NULL), 0);
    ck_assert_msg(strstr(err, "warning: base 'b' is not checked"), "%s", err);
    g_free(out);
    g_free(err);
    ck_assert(vsStoreRemoveShadowSchedule(store, 2, NULL));

    /* bad input: usage errors (2) name the bad thing; a missing script is 1 */
    ck_assert_int_eq(runCli(db, &out, &err, "shadow", "schedule", "add", "myapp", "--version",
                            "2.1", "--base", "b", "--script", script, "--every", "daily 2",
                            NULL), 2);
    ck_assert_msg(strstr(err, "invalid schedule 'daily 2'"), "%s", err);
    g_free(out);
    g_free(err);
    ck_assert_int_eq(runCli(db, &out, &err, "shadow", "schedule", "add", "myapp", "--base",
                            "b", "--script", script, "--every", "daily", NULL), 2);
    ck_assert_msg(strstr(err, "missing --version"), "%s", err);
    g_free(out);
    g_free(err);
    ck_assert_int_eq(runCli(db, &out, &err, "shadow", "schedule", "add", "myapp", "--version",
                            "1", "--base", "b", "--script", "/nonexistent.sh", "--every",
                            "daily", NULL), 1);
    ck_assert_msg(strstr(err, "cannot read script '/nonexistent.sh'"), "%s", err);
    g_free(out);
    g_free(err);
    ck_assert_int_eq(runCli(db, &out, &err, "shadow", "schedule", "add", "myapp", "--version",
                            "1", "--base", "b", "--script", script, "--every", "daily",
                            "--limits", "cpu=150%", NULL), 2);
    ck_assert_msg(strstr(err, "cpu=150%"), "%s", err);
    g_free(out);
    g_free(err);

    ck_assert_int_eq(runCli(db, &out, &err, "shadow", "schedule", "remove", "x", NULL), 2);
    g_free(out);
    g_free(err);
    ck_assert_int_eq(runCli(db, &out, &err, "shadow", "schedule", "remove", "7", NULL), 1);
    ck_assert_msg(strstr(err, "no shadow schedule 7"), "%s", err);
    g_free(out);
    g_free(err);
    ck_assert_int_eq(runCli(db, &out, &err, "shadow", "schedule", "remove", "1", NULL), 0);
    ck_assert_str_eq(out, "Removed shadow schedule 1\n");
    g_free(out);
    g_free(err);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_schedules", "0");
    vsTestRemoveTree(dir);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("shadowworker");
    TCase *tc = tcase_create("server");

    vsDriversInit();
    tcase_add_unchecked_fixture(tc, pgSetup, pgTeardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_enqueue_once);
    tcase_add_test(tc, test_gc_closes_stale_runs);
    tcase_add_test(tc, test_gc_leaves_runs_in_progress);
    tcase_add_test(tc, test_worker_runs_job);
    tcase_add_test(tc, test_worker_gives_up);
    tcase_add_test(tc, test_cli);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
