/*
 * vspgshadowtest.c: shadow runs, steps, events, dependencies and profiles
 * in the PostgreSQL store, and the queue and constraints of
 * sql/0007_shadow.sql
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vstestutils.h"
#include "postgres/vspg.h"
#include "shadow/vsmanifest.h"
#include "shadow/vsprofile.h"
#include "store/vsstore.h"
#include "util/vserror.h"

/* 2024-03-10 00:00:00 UTC */
#define DAY0_US (G_GINT64_CONSTANT(1710028800) * G_USEC_PER_SEC)
#define MIN_US (G_GINT64_CONSTANT(60) * G_USEC_PER_SEC)
#define SHA_A "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define TRICKY "it's {\"q\"}, \\back\\ NULL \xc3\xbc"

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

/* Start run @id with @script (NULL: "test", whose SHA-256 is SHA_A),
 * optimized from run @from (NULL: none). */
static void
startRunScript(vsStore *store, const char *id, const char *app, const char *version,
               gint64 started_us, const char *script, const char *from)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
                                                         script ? script : "test", -1);
    vsShadowRunRecord run = {
        .id = (char *)id, .app = (char *)app, .version = (char *)version,
        .base = (char *)"base-vm", .script_sha256 = sum,
        .script = (char *)(script ? script : "test"),
        .limits = (char *)"vcpus=1,cpu=50%,memory=524288K", .host = (char *)"h1",
        .started_us = started_us, .optimized_from = (char *)from,
    };

    ck_assert_msg(vsStoreStartShadowRun(store, &run, &error), "start '%s': %s", id,
                  error ? error->message : "");
}

static void
startRun(vsStore *store, const char *id, const char *app, const char *version,
         const char *host, gint64 started_us)
{
    g_autoptr(GError) error = NULL;
    vsShadowRunRecord run = {
        .id = (char *)id, .app = (char *)app, .version = (char *)version,
        .base = (char *)"base-vm", .script_sha256 = (char *)SHA_A, .script = (char *)"test",
        .limits = (char *)"vcpus=1,cpu=50%,memory=524288K", .host = (char *)host,
        .started_us = started_us,
    };

    ck_assert_msg(vsStoreStartShadowRun(store, &run, &error), "start '%s': %s", id,
                  error ? error->message : "");
}

static GArray *
stepArray(void)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(vsShadowStepRecord));

    g_array_set_clear_func(a, (GDestroyNotify)vsShadowStepRecordClear);
    return a;
}

static vsShadowStepRecord *
addStep(GArray *a, guint index, const char *name, gint64 start_us, gint64 end_us,
        double cpu_peak, guint64 memory_kib)
{
    vsShadowStepRecord st = { 0 };

    st.index = index;
    st.name = g_strdup(name);
    st.started_us = start_us;
    st.ended_us = end_us;
    st.has_exit_code = TRUE;
    st.exit_code = 0;
    st.stdout_text = g_strdup("ok\n");
    st.has_usage = TRUE;
    st.cpu_avg = cpu_peak / 2;
    st.cpu_peak = cpu_peak;
    st.memory_peak_kib = memory_kib;
    st.disk_read_bytes = 4096;
    st.disk_write_bytes = 8192 * index;
    st.samples = 3;
    g_array_append_val(a, st);
    return &g_array_index(a, vsShadowStepRecord, a->len - 1);
}

static void
recordSteps(vsStore *store, const char *id, GArray *steps)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vsStoreRecordShadowSteps(store, id, steps, &error), "steps of '%s': %s", id,
                  error ? error->message : "");
}

/* --- runs ------------------------------------------------------------------------ */

START_TEST(test_run_lifecycle)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sh_runs");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GPtrArray) running = NULL;
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GError) e3 = NULL;
    g_autoptr(GError) e4 = NULL;
    g_autoptr(GError) e5 = NULL;
    g_autoptr(GError) error = NULL;
    vsShadowRunRecord *r;
    vsShadowRunRecord bad = {
        .id = (char *)"r9", .app = (char *)"demo", .version = (char *)"1.0",
        .base = (char *)"b", .script_sha256 = (char *)"ABC", .script = (char *)"test",
        .limits = (char *)"vcpus=1",
        .host = (char *)"h1", .started_us = DAY0_US,
    };

    startRun(store, "r1", "demo", "1.0", "h1", DAY0_US);
    startRun(store, "r2", "demo", "1.0", "h2", DAY0_US + MIN_US);
    startRun(store, "r3", "demo", "2.0", "h1", DAY0_US + 2 * MIN_US);
    /* the app and its versions are made once */
    vsTestPgAssertQuery(db, "SELECT count(*) FROM apps", "1");
    vsTestPgAssertQuery(db, "SELECT string_agg(version, ',' ORDER BY version) FROM app_versions",
                        "1.0,2.0");
    vsTestPgAssertQuery(db, "SELECT state || ' ' || limits FROM shadow_runs WHERE id = 'r1'",
                        "running vcpus=1,cpu=50%,memory=524288K");

    /* taken ids, bad ids and bad checksums are refused, naming them */
    {
        vsShadowRunRecord again = bad;

        again.id = (char *)"r1";
        again.script_sha256 = (char *)SHA_A;
        ck_assert(!vsStoreStartShadowRun(store, &again, &e1));
        ck_assert_str_eq(e1->message, "shadow run 'r1' is already recorded");
        again.id = (char *)"../x";
        ck_assert(!vsStoreStartShadowRun(store, &again, &e2));
        ck_assert_int_eq(e2->code, VS_ERROR_INVALID);
        ck_assert_str_eq(e2->message, "invalid shadow run id '../x'");
    }
    ck_assert(!vsStoreStartShadowRun(store, &bad, &e3));
    ck_assert_str_eq(e3->message, "invalid script SHA-256 'ABC' for shadow run 'r9'");
    /* the script is kept, and must be the one the SHA-256 names */
    {
        g_autoptr(GError) f1 = NULL;
        g_autoptr(GError) f2 = NULL;
        g_autoptr(GError) f3 = NULL;
        vsShadowRunRecord other = bad;

        other.script_sha256 = (char *)SHA_A;
        other.script = NULL;
        ck_assert(!vsStoreStartShadowRun(store, &other, &f1));
        ck_assert_str_eq(f1->message, "shadow run 'r9' has no script");
        other.script = (char *)"not test";
        ck_assert(!vsStoreStartShadowRun(store, &other, &f2));
        ck_assert_str_eq(f2->message, "script SHA-256 '" SHA_A "' of shadow run 'r9' is not "
                         "its script's");
        other.script = (char *)"test";
        other.optimized_from = (char *)"nosuch";
        ck_assert(!vsStoreStartShadowRun(store, &other, &f3));
        ck_assert(g_error_matches(f3, VS_ERROR, VS_ERROR_NOT_FOUND));
        ck_assert_str_eq(f3->message, "shadow run 'r9' is optimized from run 'nosuch', which "
                         "is not recorded");
    }
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_runs", "3");
    vsTestPgAssertQuery(db, "SELECT script || ' ' || (optimized_from IS NULL) FROM shadow_runs"
                        " WHERE id = 'r2'", "test true");

    /* gc's view: what is still running, per host, oldest first */
    ck_assert(vsStoreListRunningShadowRuns(store, "h1", &running, &error));
    ck_assert_uint_eq(running->len, 2);
    r = g_ptr_array_index(running, 0);
    ck_assert_str_eq(r->id, "r1");
    ck_assert_str_eq(r->app, "demo");
    ck_assert_str_eq(r->version, "1.0");
    ck_assert_str_eq(r->base, "base-vm");
    ck_assert_str_eq(r->script_sha256, SHA_A);
    ck_assert_str_eq(r->script, "test");
    ck_assert_ptr_null(r->optimized_from);
    ck_assert_str_eq(r->host, "h1");
    ck_assert_int_eq(r->state, VS_SHADOW_RUNNING);
    ck_assert_int_eq(r->started_us, DAY0_US);
    ck_assert_str_eq(((vsShadowRunRecord *)g_ptr_array_index(running, 1))->id, "r3");
    g_clear_pointer(&running, g_ptr_array_unref);
    ck_assert(vsStoreListRunningShadowRuns(store, NULL, &running, &error));
    ck_assert_uint_eq(running->len, 3);
    g_clear_pointer(&running, g_ptr_array_unref);

    /* closing: once, with the end state, exit code and message */
    ck_assert(vsStoreFinishShadowRun(store, "r1", VS_SHADOW_SUCCEEDED, DAY0_US + 5 * MIN_US,
                                     TRUE, 0, NULL, &error));
    ck_assert(vsStoreFinishShadowRun(store, "r3", VS_SHADOW_KILLED, DAY0_US, FALSE, 0,
                                     "killed: " TRICKY, &error));
    ck_assert(!vsStoreFinishShadowRun(store, "r1", VS_SHADOW_FAILED, DAY0_US, TRUE, 1, NULL,
                                      &e4));
    ck_assert(g_error_matches(e4, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(e4->message, "no shadow run 'r1' is running");
    ck_assert(!vsStoreFinishShadowRun(store, "r2", VS_SHADOW_RUNNING, DAY0_US, FALSE, 0, NULL,
                                      &e5));
    ck_assert_int_eq(e5->code, VS_ERROR_INVALID);
    vsTestPgAssertQuery(db, "SELECT state || ' ' || exit_code || ' ' ||"
                        " extract(epoch FROM ended_at - started_at)::int"
                        " FROM shadow_runs WHERE id = 'r1'", "succeeded 0 300");
    /* an end before the start is the start; no exit code is NULL */
    vsTestPgAssertQuery(db, "SELECT (ended_at = started_at)::text || ' ' ||"
                        " coalesce(exit_code::text, 'none') || ' ' || error"
                        " FROM shadow_runs WHERE id = 'r3'", "true none killed: " TRICKY);
    ck_assert(vsStoreListRunningShadowRuns(store, "h1", &running, &error));
    ck_assert_uint_eq(running->len, 0);
}
END_TEST

/* --- steps, events, dependencies -------------------------------------------------- */

static GPtrArray *
someEvents(void)
{
    GPtrArray *events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    vsEvent *pkg;

    g_ptr_array_add(events, vsEventNew(VS_EVENT_FILE_CREATED, "/opt/app", NULL));
    g_ptr_array_add(events, vsEventNew(VS_EVENT_FILE_CREATED, "/opt/app/" TRICKY, "size 3"));
    g_ptr_array_add(events, vsEventNew(VS_EVENT_SERVICE_CREATED, "/etc/init.d/app",
                                       "init script"));
    pkg = vsEventNew(VS_EVENT_PACKAGE_INSTALLED, "libfoo", "1.2-3");
    pkg->depends = g_strsplit("libc6,zlib1g|libz", ",", -1);
    g_ptr_array_add(events, pkg);
    return events;
}

START_TEST(test_steps_events)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sh_steps");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) steps = stepArray();
    g_autoptr(GPtrArray) events = someEvents();
    g_autoptr(GPtrArray) fewer = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GError) e3 = NULL;
    g_autoptr(GError) e4 = NULL;
    g_autoptr(GError) e5 = NULL;
    vsShadowStepRecord *st;

    startRun(store, "s1", "demo", "1.0", "h1", DAY0_US);

    /* a step recorded when it starts: no end, exit code or usage yet */
    st = addStep(steps, 1, "unpack", DAY0_US, 0, 0, 0);
    st->has_exit_code = FALSE;
    st->has_usage = FALSE;
    g_clear_pointer(&st->stdout_text, g_free);
    recordSteps(store, "s1", steps);
    vsTestPgAssertQuery(db, "SELECT name || ' ' || (ended_at IS NULL) || ' ' ||"
                        " (exit_code IS NULL) || ' ' || (avg_cpu IS NULL) || ' ' ||"
                        " (stdout IS NULL) || ' ' || samples FROM shadow_steps",
                        "unpack true true true true 0");

    /* and completed when it ends, with a second step in the same batch */
    g_array_set_size(steps, 0);
    st = addStep(steps, 1, "unpack", DAY0_US, DAY0_US + 2 * G_USEC_PER_SEC, 1.5, 65536);
    st->stdout_text = (g_free(st->stdout_text), g_strdup(TRICKY "[truncated]"));
    st->stdout_truncated = TRUE;
    st->stderr_text = g_strdup("warning\n");
    st = addStep(steps, 2, "burn cpu", DAY0_US + 2 * G_USEC_PER_SEC,
                 DAY0_US + 9 * G_USEC_PER_SEC, 0.98, 131072);
    st->estimated = TRUE;
    st->exit_code = 3;
    recordSteps(store, "s1", steps);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_steps", "2");
    vsTestPgAssertQuery(db, "SELECT stdout || '|' || stdout_truncated || '|' || stderr ||"
                        " stderr_truncated || '|' || avg_cpu || '|' || peak_cpu || '|' ||"
                        " peak_memory_kib || '|' || disk_write_bytes || '|' ||"
                        " extract(epoch FROM ended_at - started_at)::int"
                        " FROM shadow_steps WHERE idx = 1",
                        TRICKY "[truncated]|true|warning\nfalse|0.75|1.5|65536|8192|2");
    vsTestPgAssertQuery(db, "SELECT exit_code || ' ' || estimated FROM shadow_steps"
                        " WHERE idx = 2", "3 true");

    /* bad batches send nothing */
    g_array_set_size(steps, 0);
    addStep(steps, 0, "zero", DAY0_US, DAY0_US, 0, 0);
    ck_assert(!vsStoreRecordShadowSteps(store, "s1", steps, &e1));
    ck_assert_str_eq(e1->message, "invalid step index '0' for shadow run 's1'");
    g_array_set_size(steps, 0);
    addStep(steps, 3, "a", DAY0_US, DAY0_US, 0, 0);
    addStep(steps, 3, "b", DAY0_US, DAY0_US, 0, 0);
    ck_assert(!vsStoreRecordShadowSteps(store, "s1", steps, &e2));
    ck_assert_str_eq(e2->message, "step 3 of shadow run 's1' given twice");
    g_array_set_size(steps, 0);
    addStep(steps, 4, "backwards", DAY0_US, DAY0_US - 1, 0, 0);
    ck_assert(!vsStoreRecordShadowSteps(store, "s1", steps, &e3));
    ck_assert_str_eq(e3->message, "step 4 of shadow run 's1' ends before it starts");
    g_array_set_size(steps, 0);
    addStep(steps, 1, "elsewhere", DAY0_US, DAY0_US, 0, 0);
    ck_assert(!vsStoreRecordShadowSteps(store, "nosuch", steps, &e4));
    ck_assert(g_error_matches(e4, VS_ERROR, VS_ERROR_NOT_FOUND));
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_steps", "2");

    /* events in execution order, with the package's dependencies */
    ck_assert_msg(vsStoreRecordShadowEvents(store, "s1", 1, DAY0_US + 2 * G_USEC_PER_SEC,
                                            events, &error), "%s", error ? error->message : "");
    vsTestPgAssertQuery(db, "SELECT string_agg(type || ':' || path, ',' ORDER BY id)"
                        " FROM shadow_events WHERE run_id = 's1' AND step_idx = 1",
                        "file-created:/opt/app,file-created:/opt/app/" TRICKY ","
                        "service-created:/etc/init.d/app,package-installed:libfoo");
    vsTestPgAssertQuery(db, "SELECT detail FROM shadow_events WHERE path = 'libfoo'", "1.2-3");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_events WHERE detail IS NULL", "1");
    vsTestPgAssertQuery(db, "SELECT string_agg(package || '>' || depends_on, ','"
                        " ORDER BY depends_on) FROM shadow_dependencies",
                        "libfoo>libc6,libfoo>zlib1g|libz");
    vsTestPgAssertQuery(db, "SELECT count(DISTINCT at) FROM shadow_events", "1");

    /* recording a step's events again replaces them, dependencies too */
    g_ptr_array_add(fewer, vsEventNew(VS_EVENT_FILE_DELETED, "/tmp/x", NULL));
    ck_assert(vsStoreRecordShadowEvents(store, "s1", 1, DAY0_US, fewer, &error));
    vsTestPgAssertQuery(db, "SELECT string_agg(type || ':' || path, ',') FROM shadow_events",
                        "file-deleted:/tmp/x");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_dependencies", "0");
    /* a step with no event records none; another step's are kept */
    ck_assert(vsStoreRecordShadowEvents(store, "s1", 2, DAY0_US, NULL, &error));
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_events", "1");

    /* a step that was never recorded has no events */
    ck_assert(!vsStoreRecordShadowEvents(store, "s1", 7, DAY0_US, events, &e5));
    ck_assert(g_error_matches(e5, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(e5->message, "cannot record the events of step 7 of shadow run 's1': "
                     "step 7 is not recorded");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_events", "1");
}
END_TEST

/* --- profiles -------------------------------------------------------------------- */

/* A run of @version with a CPU step and a memory step, @scale apart. */
static void
profileRun(vsStore *store, const char *id, const char *version, gint64 start_us,
           vsShadowState state, double scale)
{
    g_autoptr(GArray) steps = stepArray();
    g_autoptr(GError) error = NULL;

    startRun(store, id, "web", version, "h1", start_us);
    addStep(steps, 1, "install", start_us, start_us + 10 * G_USEC_PER_SEC, 2.0 * scale,
            100000);
    addStep(steps, 2, "warm cache", start_us + 10 * G_USEC_PER_SEC,
            start_us + 14 * G_USEC_PER_SEC, 0.5, (guint64)(400000 * scale));
    /* a step that never got a usage is not part of the profile */
    addStep(steps, 3, "unsampled", start_us + 14 * G_USEC_PER_SEC,
            start_us + 15 * G_USEC_PER_SEC, 0, 0)->has_usage = FALSE;
    recordSteps(store, id, steps);
    if (state != VS_SHADOW_RUNNING)
        ck_assert(vsStoreFinishShadowRun(store, id, state, start_us + MIN_US, TRUE, 0, NULL,
                                         &error));
}

/* Step @step of run @run of @p. */
static vsProfileUsage *
profileStep(vsShadowProfile *p, guint run, guint step)
{
    GPtrArray *steps = g_ptr_array_index(p->runs, run);

    ck_assert_uint_lt(step, steps->len);
    return g_ptr_array_index(steps, step);
}

static vsShadowProfile *
readProfile(vsStore *store, const char *version, guint max_runs)
{
    g_autoptr(GError) error = NULL;
    vsShadowProfile *profile = NULL;

    ck_assert_msg(vsStoreReadShadowProfile(store, "web", version, max_runs, &profile, &error),
                  "%s", error ? error->message : "");
    return profile;
}

START_TEST(test_profile)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sh_profile");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsShadowProfile) p = NULL;
    g_autoptr(GPtrArray) agg = NULL;
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GError) e3 = NULL;
    vsShadowProfile *none = NULL;
    vsProfileUsage *u;
    vsProfileAggregate *a;

    profileRun(store, "v2-old", "2.0", DAY0_US, VS_SHADOW_SUCCEEDED, 3);
    profileRun(store, "v1-a", "1.0", DAY0_US + 10 * MIN_US, VS_SHADOW_SUCCEEDED, 1);
    profileRun(store, "v1-b", "1.0", DAY0_US + 20 * MIN_US, VS_SHADOW_SUCCEEDED, 2);
    profileRun(store, "v1-failed", "1.0", DAY0_US + 30 * MIN_US, VS_SHADOW_FAILED, 5);
    profileRun(store, "v1-running", "1.0", DAY0_US + 40 * MIN_US, VS_SHADOW_RUNNING, 5);
    /* a succeeded run whose steps were lost still counts as a run */
    startRun(store, "v1-empty", "web", "1.0", "h1", DAY0_US + 5 * MIN_US);
    ck_assert(vsStoreFinishShadowRun(store, "v1-empty", VS_SHADOW_SUCCEEDED, DAY0_US + 6 * MIN_US,
                                     TRUE, 0, NULL, NULL));

    /* the succeeded runs of 1.0, newest first, failed and running ones left out */
    p = readProfile(store, "1.0", 10);
    ck_assert_str_eq(p->app, "web");
    ck_assert_str_eq(p->version, "1.0");
    ck_assert_uint_eq(p->run_ids->len, 3);
    ck_assert_str_eq(g_ptr_array_index(p->run_ids, 0), "v1-b");
    ck_assert_str_eq(g_ptr_array_index(p->run_ids, 1), "v1-a");
    ck_assert_str_eq(g_ptr_array_index(p->run_ids, 2), "v1-empty");
    ck_assert_uint_eq(p->runs->len, 3);
    ck_assert_uint_eq(((GPtrArray *)g_ptr_array_index(p->runs, 0))->len, 2);
    ck_assert_uint_eq(((GPtrArray *)g_ptr_array_index(p->runs, 2))->len, 0);
    u = profileStep(p, 0, 0);
    ck_assert_uint_eq(u->index, 1);
    ck_assert_str_eq(u->name, "install");
    ck_assert_int_eq(u->duration_us, 10 * G_USEC_PER_SEC);
    vsTestAssertDouble(u->cpu_avg, 2.0, "cpu_avg");
    vsTestAssertDouble(u->cpu_peak, 4.0, "cpu_peak");
    ck_assert_uint_eq(u->memory_peak_kib, 100000);
    ck_assert_uint_eq(u->disk_read_bytes, 4096);
    ck_assert_uint_eq(u->disk_write_bytes, 8192);
    ck_assert_uint_eq(u->samples, 3);
    ck_assert(!u->estimated);
    u = profileStep(p, 1, 1);
    ck_assert_str_eq(u->name, "warm cache");
    ck_assert_uint_eq(u->memory_peak_kib, 400000);

    /* what "profile show" does with it: the CPU step peaks on CPU, the
     * memory step on memory */
    agg = vsProfileAggregateRuns((GPtrArray *const *)p->runs->pdata, p->runs->len);
    ck_assert_uint_eq(agg->len, 2);
    a = g_ptr_array_index(agg, 0);
    ck_assert_str_eq(a->name, "install");
    ck_assert_uint_eq(a->runs, 2);
    vsTestAssertDouble(a->cpu_peak.mean, 3.0, "install cpu peak mean");
    vsTestAssertDouble(a->cpu_peak.peak, 4.0, "install cpu peak");
    vsTestAssertDouble(a->cpu_peak.spread, 2.0, "install cpu spread");
    a = g_ptr_array_index(agg, 1);
    vsTestAssertDouble(a->memory_peak_kib.peak, 800000, "warm cache memory peak");
    g_clear_pointer(&p, vsShadowProfileFree);

    /* at most max_runs */
    p = readProfile(store, "1.0", 1);
    ck_assert_uint_eq(p->run_ids->len, 1);
    ck_assert_str_eq(g_ptr_array_index(p->run_ids, 0), "v1-b");
    g_clear_pointer(&p, vsShadowProfileFree);

    /* no version: the one with the newest succeeded run */
    p = readProfile(store, NULL, 5);
    ck_assert_str_eq(p->version, "1.0");
    g_clear_pointer(&p, vsShadowProfileFree);
    p = readProfile(store, "2.0", 5);
    ck_assert_uint_eq(p->run_ids->len, 1);
    u = profileStep(p, 0, 0);
    vsTestAssertDouble(u->cpu_peak, 6.0, "2.0 cpu_peak");

    ck_assert(!vsStoreReadShadowProfile(store, "nosuch", NULL, 5, &none, &e1));
    ck_assert(g_error_matches(e1, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(e1->message, "app 'nosuch' has no succeeded shadow run");
    ck_assert(!vsStoreReadShadowProfile(store, "web", "3.0", 5, &none, &e2));
    ck_assert_str_eq(e2->message, "app 'web' version '3.0' has no succeeded shadow run");
    ck_assert(!vsStoreReadShadowProfile(store, "web", "1.0", 0, &none, &e3));
    ck_assert_int_eq(e3->code, VS_ERROR_INVALID);
    ck_assert_ptr_null(none);
}
END_TEST

/* --- what the profile commands read ----------------------------------------------- */

START_TEST(test_run_steps)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sh_read");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) steps = stepArray();
    g_autoptr(GPtrArray) events = someEvents();
    g_autoptr(GPtrArray) later = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GPtrArray) read = NULL;
    g_autoptr(GPtrArray) none = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) e1 = NULL;
    vsShadowStepEvents *se;
    vsEvent *ev;
    vsShadowStepRecord *st;

    startRun(store, "s1", "demo", "1.0", "h1", DAY0_US);
    /* recorded out of order, read back in index order */
    st = addStep(steps, 3, "last", DAY0_US + 5 * G_USEC_PER_SEC, 0, 0, 0);
    st->has_usage = FALSE;
    st->has_exit_code = FALSE;
    addStep(steps, 1, "files", DAY0_US, DAY0_US + 2 * G_USEC_PER_SEC, 1.5, 65536);
    st = addStep(steps, 2, "noop", DAY0_US + 2 * G_USEC_PER_SEC, DAY0_US + 5 * G_USEC_PER_SEC,
                 0.1, 1000);
    st->exit_code = 4;
    st->stderr_text = g_strdup("oops\n");
    st->stderr_truncated = TRUE;
    recordSteps(store, "s1", steps);
    ck_assert(vsStoreRecordShadowEvents(store, "s1", 1, DAY0_US, events, &error));
    g_ptr_array_add(later, vsEventNew(VS_EVENT_FILE_MODIFIED, "/opt/app", "mode 0755 -> 0700"));
    ck_assert(vsStoreRecordShadowEvents(store, "s1", 3, DAY0_US, later, &error));

    ck_assert_msg(vsStoreReadShadowRunSteps(store, "s1", &read, &error), "%s",
                  error ? error->message : "");
    ck_assert_uint_eq(read->len, 3);
    se = g_ptr_array_index(read, 0);
    ck_assert_uint_eq(se->step.index, 1);
    ck_assert_str_eq(se->step.name, "files");
    ck_assert_int_eq(se->step.started_us, DAY0_US);
    ck_assert_int_eq(se->step.ended_us, DAY0_US + 2 * G_USEC_PER_SEC);
    ck_assert(se->step.has_usage);
    vsTestAssertDouble(se->step.cpu_peak, 1.5, "cpu_peak");
    vsTestAssertDouble(se->step.cpu_avg, 0.75, "cpu_avg");
    ck_assert_uint_eq(se->step.memory_peak_kib, 65536);
    ck_assert_uint_eq(se->step.disk_write_bytes, 8192);
    ck_assert_uint_eq(se->step.samples, 3);
    ck_assert_str_eq(se->step.stdout_text, "ok\n");
    /* the events in the order they were recorded, with the dependencies
     * back on their package's event */
    ck_assert_uint_eq(se->events->len, 4);
    ev = g_ptr_array_index(se->events, 0);
    ck_assert_int_eq(ev->type, VS_EVENT_FILE_CREATED);
    ck_assert_str_eq(ev->path, "/opt/app");
    ck_assert_ptr_null(ev->detail);
    ck_assert_ptr_null(ev->depends);
    ev = g_ptr_array_index(se->events, 1);
    ck_assert_str_eq(ev->path, "/opt/app/" TRICKY);
    ck_assert_str_eq(ev->detail, "size 3");
    ev = g_ptr_array_index(se->events, 2);
    ck_assert_int_eq(ev->type, VS_EVENT_SERVICE_CREATED);
    ck_assert_str_eq(ev->detail, "init script");
    ev = g_ptr_array_index(se->events, 3);
    ck_assert_int_eq(ev->type, VS_EVENT_PACKAGE_INSTALLED);
    ck_assert_str_eq(ev->path, "libfoo");
    ck_assert_ptr_nonnull(ev->depends);
    ck_assert_uint_eq(g_strv_length(ev->depends), 2);
    ck_assert_str_eq(ev->depends[0], "libc6");
    ck_assert_str_eq(ev->depends[1], "zlib1g|libz");
    se = g_ptr_array_index(read, 1);
    ck_assert_str_eq(se->step.name, "noop");
    ck_assert(se->step.has_exit_code);
    ck_assert_int_eq(se->step.exit_code, 4);
    ck_assert_str_eq(se->step.stderr_text, "oops\n");
    ck_assert(se->step.stderr_truncated);
    ck_assert_uint_eq(se->events->len, 0);
    se = g_ptr_array_index(read, 2);
    ck_assert_uint_eq(se->step.index, 3);
    ck_assert(!se->step.has_usage);
    ck_assert(!se->step.has_exit_code);
    ck_assert_int_eq(se->step.ended_us, 0);
    ck_assert_uint_eq(se->events->len, 1);
    ev = g_ptr_array_index(se->events, 0);
    ck_assert_int_eq(ev->type, VS_EVENT_FILE_MODIFIED);

    ck_assert(!vsStoreReadShadowRunSteps(store, "nosuch", &none, &e1));
    ck_assert(g_error_matches(e1, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(e1->message, "no shadow run 'nosuch' is recorded");
    ck_assert_ptr_null(none);
}
END_TEST

START_TEST(test_versions_runs)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sh_versions");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GPtrArray) versions = NULL;
    g_autoptr(GPtrArray) runs = NULL;
    g_autoptr(GPtrArray) none = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    vsShadowVersion *v;
    vsShadowRunRecord *r;

    startRun(store, "a1", "web", "1.0", "h1", DAY0_US);
    startRun(store, "a2", "web", "1.0", "h1", DAY0_US + MIN_US);
    startRun(store, "b1", "web", "2.0", "h1", DAY0_US + 2 * MIN_US);
    startRunScript(store, "a1-opt", "web", "1.0", DAY0_US + 3 * MIN_US, "echo hi\n", "a1");
    startRun(store, "x1", "other", "1.0", "h1", DAY0_US);
    ck_assert(vsStoreFinishShadowRun(store, "a1", VS_SHADOW_SUCCEEDED, DAY0_US + 1, TRUE, 0,
                                     NULL, &error));
    ck_assert(vsStoreFinishShadowRun(store, "a2", VS_SHADOW_FAILED, DAY0_US + MIN_US + 5, TRUE,
                                     2, "step 'x' failed", &error));

    /* versions, oldest first; the optimization check is no run of its version */
    ck_assert_msg(vsStoreListAppVersions(store, "web", &versions, &error), "%s",
                  error ? error->message : "");
    ck_assert_uint_eq(versions->len, 2);
    v = g_ptr_array_index(versions, 0);
    ck_assert_str_eq(v->version, "1.0");
    ck_assert_uint_eq(v->runs, 2);
    ck_assert_uint_eq(v->succeeded, 1);
    ck_assert_int_eq(v->latest_us, DAY0_US + MIN_US);
    v = g_ptr_array_index(versions, 1);
    ck_assert_str_eq(v->version, "2.0");
    ck_assert_uint_eq(v->runs, 1);
    ck_assert_uint_eq(v->succeeded, 0);
    ck_assert(!vsStoreListAppVersions(store, "nosuch", &none, &e1));
    ck_assert(g_error_matches(e1, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(e1->message, "app 'nosuch' is not stored");

    /* a version's runs, newest first, every state, with script and origin */
    ck_assert(vsStoreListShadowRuns(store, "web", "1.0", &runs, &error));
    ck_assert_uint_eq(runs->len, 3);
    r = g_ptr_array_index(runs, 0);
    ck_assert_str_eq(r->id, "a1-opt");
    ck_assert_str_eq(r->script, "echo hi\n");
    ck_assert_str_eq(r->optimized_from, "a1");
    ck_assert_int_eq(r->state, VS_SHADOW_RUNNING);
    ck_assert_int_eq(r->ended_us, 0);
    r = g_ptr_array_index(runs, 1);
    ck_assert_str_eq(r->id, "a2");
    ck_assert_int_eq(r->state, VS_SHADOW_FAILED);
    ck_assert(r->has_exit_code);
    ck_assert_int_eq(r->exit_code, 2);
    ck_assert_str_eq(r->error, "step 'x' failed");
    ck_assert_int_eq(r->ended_us, DAY0_US + MIN_US + 5);
    r = g_ptr_array_index(runs, 2);
    ck_assert_str_eq(r->id, "a1");
    ck_assert_int_eq(r->state, VS_SHADOW_SUCCEEDED);
    ck_assert_ptr_null(r->optimized_from);
    ck_assert_ptr_null(r->error);
    g_clear_pointer(&runs, g_ptr_array_unref);
    ck_assert(vsStoreListShadowRuns(store, "web", NULL, &runs, &error));
    ck_assert_uint_eq(runs->len, 4);
    ck_assert(!vsStoreListShadowRuns(store, "web", "3.0", &none, &e2));
    ck_assert(g_error_matches(e2, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(e2->message, "app 'web' version '3.0' has no shadow run");
}
END_TEST

static void
finishOk(vsStore *store, const char *id, gint64 at_us)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vsStoreFinishShadowRun(store, id, VS_SHADOW_SUCCEEDED, at_us, TRUE, 0, NULL,
                                         &error), "%s", error ? error->message : "");
}

static void
recordOptimization(vsStore *store, const char *orig, const char *opt_run, const char *script,
                   gboolean same)
{
    g_autoptr(GError) error = NULL;
    const char *dropped[] = { "noop", "sleep 1", NULL };
    vsShadowOptimization opt = {
        .original_run = (char *)orig, .optimized_run = (char *)opt_run,
        .script = (char *)script, .dropped = (GStrv)dropped, .groups = 2,
        .original_us = 14 * G_USEC_PER_SEC, .optimized_us = 9 * G_USEC_PER_SEC,
        .same_files = same, .same_services = TRUE,
        .differences = same ? NULL : (char *)"file /x: created in the original, untouched "
                                             "in the optimized run",
    };

    ck_assert_msg(vsStoreRecordShadowOptimization(store, &opt, &error), "%s",
                  error ? error->message : "");
}

START_TEST(test_optimization)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sh_optimize");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsShadowProfile) p = NULL;
    g_autoptr(GPtrArray) opts = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_autofree char *run_id = NULL;
    gboolean optimized = TRUE;
    vsShadowOptimization *o;

    profileRun(store, "orig", "1.0", DAY0_US, VS_SHADOW_SUCCEEDED, 1);
    /* the check of an optimized script is no part of the profile, even
     * when it is the newest succeeded run */
    startRunScript(store, "orig-opt1", "web", "1.0", DAY0_US + 10 * MIN_US, "# opt 1\n", "orig");
    finishOk(store, "orig-opt1", DAY0_US + 11 * MIN_US);
    p = readProfile(store, "1.0", 10);
    ck_assert_uint_eq(p->run_ids->len, 1);
    ck_assert_str_eq(g_ptr_array_index(p->run_ids, 0), "orig");

    /* without a verified optimization, deploy gets the original script */
    ck_assert(vsStoreReadShadowScript(store, "web", "1.0", &text, &optimized, &run_id, &error));
    ck_assert_str_eq(text, "test");
    ck_assert(!optimized);
    ck_assert_str_eq(run_id, "orig");
    g_clear_pointer(&text, g_free);
    g_clear_pointer(&run_id, g_free);

    /* one that ended in another state is stored, but not used */
    recordOptimization(store, "orig", "orig-opt1", "# opt 1\n", FALSE);
    ck_assert(vsStoreReadShadowScript(store, "web", NULL, &text, &optimized, NULL, &error));
    ck_assert_str_eq(text, "test");
    ck_assert(!optimized);
    g_clear_pointer(&text, g_free);

    /* nor one whose run did not succeed */
    startRunScript(store, "orig-opt2", "web", "1.0", DAY0_US + 20 * MIN_US, "# opt 2\n", "orig");
    ck_assert(vsStoreFinishShadowRun(store, "orig-opt2", VS_SHADOW_FAILED,
                                     DAY0_US + 21 * MIN_US, TRUE, 1, NULL, &error));
    recordOptimization(store, "orig", "orig-opt2", "# opt 2\n", TRUE);
    ck_assert(vsStoreReadShadowScript(store, "web", "1.0", &text, &optimized, NULL, &error));
    ck_assert(!optimized);
    g_clear_pointer(&text, g_free);

    /* a verified one is */
    startRunScript(store, "orig-opt3", "web", "1.0", DAY0_US + 30 * MIN_US, "# opt 3\n", "orig");
    finishOk(store, "orig-opt3", DAY0_US + 31 * MIN_US);
    recordOptimization(store, "orig", "orig-opt3", "# opt 3\n", TRUE);
    ck_assert(vsStoreReadShadowScript(store, "web", "1.0", &text, &optimized, &run_id, &error));
    ck_assert_str_eq(text, "# opt 3\n");
    ck_assert(optimized);
    ck_assert_str_eq(run_id, "orig");
    g_clear_pointer(&text, g_free);
    g_clear_pointer(&run_id, g_free);

    /* read back, newest first */
    ck_assert(vsStoreListShadowOptimizations(store, "orig", &opts, &error));
    ck_assert_uint_eq(opts->len, 3);
    o = g_ptr_array_index(opts, 0);
    ck_assert_str_eq(o->optimized_run, "orig-opt3");
    ck_assert_str_eq(o->original_run, "orig");
    ck_assert_str_eq(o->script, "# opt 3\n");
    ck_assert_uint_eq(g_strv_length(o->dropped), 2);
    ck_assert_str_eq(o->dropped[1], "sleep 1");
    ck_assert_uint_eq(o->groups, 2);
    ck_assert_int_eq(o->original_us, 14 * G_USEC_PER_SEC);
    ck_assert_int_eq(o->optimized_us, 9 * G_USEC_PER_SEC);
    ck_assert_str_eq(o->differences, "");
    ck_assert_int_eq(o->optimized_state, VS_SHADOW_SUCCEEDED);
    ck_assert(o->created_us > 0);
    ck_assert(vsShadowOptimizationVerified(o));
    o = g_ptr_array_index(opts, 1);
    ck_assert_int_eq(o->optimized_state, VS_SHADOW_FAILED);
    ck_assert(!vsShadowOptimizationVerified(o));
    o = g_ptr_array_index(opts, 2);
    ck_assert(!o->same_files);
    ck_assert(!vsShadowOptimizationVerified(o));
    ck_assert_str_eq(o->differences, "file /x: created in the original, untouched in the "
                     "optimized run");
    g_clear_pointer(&opts, g_ptr_array_unref);
    ck_assert(vsStoreListShadowOptimizations(store, "orig-opt3", &opts, &error));
    ck_assert_uint_eq(opts->len, 0);

    /* refused: twice, a run not optimized from the original, unknown runs,
     * no script */
    {
        g_autoptr(GError) f1 = NULL;
        g_autoptr(GError) f2 = NULL;
        g_autoptr(GError) f3 = NULL;
        g_autoptr(GError) f4 = NULL;
        g_autoptr(GError) f5 = NULL;
        g_autoptr(GError) f6 = NULL;
        vsShadowOptimization bad = {
            .original_run = (char *)"orig", .optimized_run = (char *)"orig-opt3",
            .script = (char *)"x",
        };

        ck_assert(!vsStoreRecordShadowOptimization(store, &bad, &f1));
        ck_assert_str_eq(f1->message, "the optimization checked by shadow run 'orig-opt3' is "
                         "already recorded");
        startRun(store, "plain", "web", "1.0", "h1", DAY0_US + 40 * MIN_US);
        bad.optimized_run = (char *)"plain";
        ck_assert(!vsStoreRecordShadowOptimization(store, &bad, &f2));
        ck_assert_int_eq(f2->code, VS_ERROR_INVALID);
        ck_assert_str_eq(f2->message, "shadow run 'plain' is not optimized from run 'orig'");
        bad.optimized_run = (char *)"nosuch";
        ck_assert(!vsStoreRecordShadowOptimization(store, &bad, &f3));
        ck_assert(g_error_matches(f3, VS_ERROR, VS_ERROR_NOT_FOUND));
        ck_assert_str_eq(f3->message, "no shadow run 'nosuch' is recorded");
        bad.optimized_run = (char *)"orig-opt3";
        bad.original_run = (char *)"gone";
        ck_assert(!vsStoreRecordShadowOptimization(store, &bad, &f4));
        ck_assert_str_eq(f4->message, "no shadow run 'gone' is recorded");
        bad.original_run = (char *)"orig";
        bad.script = (char *)"";
        ck_assert(!vsStoreRecordShadowOptimization(store, &bad, &f5));
        ck_assert_int_eq(f5->code, VS_ERROR_INVALID);
        bad.script = (char *)"x";
        bad.optimized_us = -1;
        ck_assert(!vsStoreRecordShadowOptimization(store, &bad, &f6));
        ck_assert_int_eq(f6->code, VS_ERROR_INVALID);
    }
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_optimizations", "3");

    /* no succeeded run: no script */
    {
        g_autoptr(GError) f1 = NULL;
        char *none = NULL;

        startRun(store, "only-running", "web", "2.0", "h1", DAY0_US);
        ck_assert(!vsStoreReadShadowScript(store, "web", "2.0", &none, &optimized, NULL, &f1));
        ck_assert(g_error_matches(f1, VS_ERROR, VS_ERROR_NOT_FOUND));
        ck_assert_str_eq(f1->message, "app 'web' version '2.0' has no succeeded shadow run");
        ck_assert_ptr_null(none);
    }
}
END_TEST

/* --- the schema's own rules ------------------------------------------------------- */

static vsPgConn *
testConnect(const char *conninfo)
{
    vsPgConn *conn = PQconnectdb(conninfo);

    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "%s", PQerrorMessage(conn));
    return conn;
}

/* SQLSTATE of @sql on @conn, "" when it succeeded. */
static char *
sqlState(vsPgConn *conn, const char *sql)
{
    g_autoptr(vsPgResult) res = PQexec(conn, sql);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    return g_strdup(state ? state : "");
}

#define VS_TEST_DEQUEUE \
    "SELECT id FROM shadow_jobs" \
    " WHERE (state = 'queued' AND due_at <= now())" \
    "    OR (state = 'leased' AND lease_until < now())" \
    " ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED"

static char *
dequeue(vsPgConn *conn)
{
    g_autoptr(vsPgResult) res = PQexec(conn, VS_TEST_DEQUEUE);

    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    return PQntuples(res) ? g_strdup(PQgetvalue(res, 0, 0)) : g_strdup("none");
}

START_TEST(test_schema)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sh_schema");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsPgConn) a = testConnect(db);
    g_autoptr(vsPgConn) b = testConnect(db);
    g_autoptr(vsPgConn) c = testConnect(db);
    g_autofree char *s1 = NULL;
    g_autofree char *s2 = NULL;
    g_autofree char *s3 = NULL;
    g_autofree char *s4 = NULL;
    g_autofree char *s5 = NULL;
    g_autofree char *s6 = NULL;
    g_autofree char *s7 = NULL;
    g_autofree char *j1 = NULL;
    g_autofree char *j2 = NULL;
    g_autofree char *j3 = NULL;
    g_autofree char *j4 = NULL;

    startRun(store, "q1", "demo", "1.0", "h1", DAY0_US);
    /* the run-id rules hold even for SQL written by hand: 23514 is check_violation */
    s1 = sqlState(a, "INSERT INTO shadow_runs (id, app_version_id, base, script_sha256,"
                  " script, limits, host, started_at) SELECT '../x', app_version_id, base,"
                  " script_sha256, script, limits, host, started_at FROM shadow_runs");
    ck_assert_str_eq(s1, "23514");
    s2 = sqlState(a, "UPDATE shadow_runs SET state = 'exploded', ended_at = now()");
    ck_assert_str_eq(s2, "23514");
    /* an ended run has an end; a running one none */
    s3 = sqlState(a, "UPDATE shadow_runs SET state = 'failed'");
    ck_assert_str_eq(s3, "23514");
    s4 = sqlState(a, "INSERT INTO apps (name) VALUES ('demo')");
    ck_assert_str_eq(s4, "23505");

    /* a schedule and its queue: one job per slot */
    vsTestPgQuery(db, "INSERT INTO shadow_schedules (app_version_id, base, script, every, next_at)"
                  " SELECT id, 'base-vm', 'echo hi', 'daily', now() FROM app_versions");
    vsTestPgQuery(db, "INSERT INTO shadow_jobs (schedule_id, due_at) SELECT id, t FROM"
                  " shadow_schedules, (VALUES (now() - interval '2 hours'),"
                  " (now() - interval '1 hour'), (now() + interval '1 hour')) AS v(t)");
    s5 = sqlState(a, "INSERT INTO shadow_jobs (schedule_id, due_at)"
                  " SELECT schedule_id, due_at FROM shadow_jobs LIMIT 1");
    ck_assert_str_eq(s5, "23505");
    /* a lease needs its holder and its end */
    s6 = sqlState(a, "UPDATE shadow_jobs SET state = 'leased'");
    ck_assert_str_eq(s6, "23514");

    /* two controllers dequeue at once: each gets a job of its own, and a
     * third finds none, as the job left is not due yet */
    g_free(sqlState(a, "BEGIN"));
    g_free(sqlState(b, "BEGIN"));
    j1 = dequeue(a);
    j2 = dequeue(b);
    ck_assert_str_ne(j1, "none");
    ck_assert_str_ne(j2, "none");
    ck_assert_str_ne(j1, j2);
    j3 = dequeue(c);
    ck_assert_str_eq(j3, "none");
    /* a lease that ran out makes the job due again */
    {
        g_autofree char *lease = g_strdup_printf(
            "UPDATE shadow_jobs SET state = 'leased', leased_by = 'ha',"
            " lease_until = now() - interval '1 second', attempts = attempts + 1"
            " WHERE id = %s", j1);

        s7 = sqlState(a, lease);
        ck_assert_str_eq(s7, "");
    }
    g_free(sqlState(a, "COMMIT"));
    g_free(sqlState(b, "ROLLBACK"));
    j4 = dequeue(b);
    ck_assert_str_eq(j4, j1);       /* picked up again, the oldest due first */
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_jobs WHERE state = 'leased'"
                        " AND lease_until < now()", "1");
}
END_TEST

static Suite *
pgShadowSuite(void)
{
    Suite *s = suite_create("pgshadow");
    TCase *tc = tcase_create("server");

    tcase_add_unchecked_fixture(tc, pgSetup, pgTeardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_run_lifecycle);
    tcase_add_test(tc, test_steps_events);
    tcase_add_test(tc, test_profile);
    tcase_add_test(tc, test_run_steps);
    tcase_add_test(tc, test_versions_runs);
    tcase_add_test(tc, test_optimization);
    tcase_add_test(tc, test_schema);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    vsStoreRegisterDriver(&vsPgStoreDriver);
    return vsTestRunSuite(pgShadowSuite());
}
