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

static void
startRun(vsStore *store, const char *id, const char *app, const char *version,
         const char *host, gint64 started_us)
{
    g_autoptr(GError) error = NULL;
    vsShadowRunRecord run = {
        .id = (char *)id, .app = (char *)app, .version = (char *)version,
        .base = (char *)"base-vm", .script_sha256 = (char *)SHA_A,
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
        .base = (char *)"b", .script_sha256 = (char *)"ABC", .limits = (char *)"vcpus=1",
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
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_runs", "3");

    /* gc's view: what is still running, per host, oldest first */
    ck_assert(vsStoreListRunningShadowRuns(store, "h1", &running, &error));
    ck_assert_uint_eq(running->len, 2);
    r = g_ptr_array_index(running, 0);
    ck_assert_str_eq(r->id, "r1");
    ck_assert_str_eq(r->app, "demo");
    ck_assert_str_eq(r->version, "1.0");
    ck_assert_str_eq(r->base, "base-vm");
    ck_assert_str_eq(r->script_sha256, SHA_A);
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
                  " limits, host, started_at) SELECT '../x', app_version_id, base,"
                  " script_sha256, limits, host, started_at FROM shadow_runs");
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
