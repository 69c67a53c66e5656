/*
 * vspgscheduletest.c: shadow schedules and their job queue in a real
 * PostgreSQL, with two connections standing for two controllers
 */
#include <config.h>

#include <string.h>

#include "vstestutils.h"
#include "postgres/vspg.h"
#include "store/vsstore.h"
#include "util/vserror.h"

#define SHA_A "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  /* of "test" */
#define HOUR_US (G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC)

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
addSchedule(vsStore *store, const char *app, const char *every, gint64 next_us)
{
    g_autoptr(GError) error = NULL;
    vsShadowScheduleRecord sched = {
        .app = (char *)app, .version = (char *)"1.0", .base = (char *)"base-vm",
        .script = (char *)"echo hi\n", .every = (char *)every, .next_us = next_us,
        .enabled = TRUE,
    };

    ck_assert_msg(vsStoreAddShadowSchedule(store, &sched, &error), "%s",
                  error ? error->message : "");
    ck_assert_int_gt(sched.id, 0);
    ck_assert_int_gt(sched.created_us, 0);
    return sched.id;
}

static gboolean
enqueue(vsStore *store, gint64 id, gint64 due_us, gint64 next_us)
{
    g_autoptr(GError) error = NULL;
    gboolean made = FALSE;

    ck_assert_msg(vsStoreEnqueueShadowJob(store, id, due_us, next_us, &made, &error), "%s",
                  error ? error->message : "");
    return made;
}

#define MAX_ATTEMPTS 3

static vsShadowJobRecord *
leaseMax(vsStore *store, const char *host, guint lease_s, guint max_attempts)
{
    g_autoptr(GError) error = NULL;
    vsShadowJobRecord *job = NULL;

    ck_assert_msg(vsStoreLeaseShadowJob(store, host, lease_s, max_attempts, &job, &error), "%s",
                  error ? error->message : "");
    return job;
}

static vsShadowJobRecord *
lease(vsStore *store, const char *host, guint lease_s)
{
    return leaseMax(store, host, lease_s, MAX_ATTEMPTS);
}

/* The ids of the jobs failExhaustedShadowJobs closed, "" for none. */
static char *
failExhausted(vsStore *store, guint max_attempts)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) ids = NULL;
    g_autoptr(GString) text = g_string_new(NULL);

    ck_assert_msg(vsStoreFailExhaustedShadowJobs(store, max_attempts, &ids, &error), "%s",
                  error ? error->message : "");
    for (guint i = 0; i < ids->len; i++)
        g_string_append_printf(text, "%s%" G_GINT64_FORMAT, i ? " " : "",
                               g_array_index(ids, gint64, i));
    return g_string_free(g_steal_pointer(&text), FALSE);
}

START_TEST(test_schedules)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sc_sched");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GPtrArray) due = NULL;
    gint64 now = g_get_real_time();
    gint64 a, b;
    vsShadowScheduleRecord bad = {
        .app = (char *)"app", .version = (char *)"1", .base = (char *)"b",
        .script = (char *)"x", .every = (char *)"61 * * * *", .next_us = now,
    };
    const vsShadowScheduleRecord *first;

    a = addSchedule(store, "app", "daily", now - HOUR_US);
    b = addSchedule(store, "other", "0 3 * * 1-5", now + HOUR_US);
    ck_assert(!vsStoreAddShadowSchedule(store, &bad, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_str_eq(error->message, "invalid schedule '61 * * * *': bad minute '61' "
                     "(expected *, N, N-M, lists and /STEP within 0-59)");
    g_clear_error(&error);
    bad.every = (char *)"daily";
    bad.script = (char *)"";
    ck_assert(!vsStoreAddShadowSchedule(store, &bad, &error));
    ck_assert_str_eq(error->message, "shadow schedule has no script");
    g_clear_error(&error);

    ck_assert(vsStoreListShadowSchedules(store, 0, &all, &error));
    ck_assert_uint_eq(all->len, 2);
    first = g_ptr_array_index(all, 0);
    ck_assert_int_eq(first->id, a);
    ck_assert_str_eq(first->app, "app");
    ck_assert_str_eq(first->version, "1.0");
    ck_assert_str_eq(first->base, "base-vm");
    ck_assert_str_eq(first->script, "echo hi\n");
    ck_assert_ptr_null(first->limits);
    ck_assert_str_eq(first->every, "daily");
    ck_assert_int_eq(first->next_us, now - HOUR_US);
    ck_assert(first->enabled);
    ck_assert_ptr_null(first->last_state);
    /* only the due one */
    ck_assert(vsStoreListShadowSchedules(store, now, &due, &error));
    ck_assert_uint_eq(due->len, 1);
    ck_assert_int_eq(((vsShadowScheduleRecord *)g_ptr_array_index(due, 0))->id, a);

    ck_assert(vsStoreRemoveShadowSchedule(store, b, &error));
    ck_assert(!vsStoreRemoveShadowSchedule(store, b, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    g_clear_pointer(&all, g_ptr_array_unref);
    ck_assert(vsStoreListShadowSchedules(store, 0, &all, NULL));
    ck_assert_uint_eq(all->len, 1);
}
END_TEST

/* Two controllers enqueueing the same slot make one job between them. */
START_TEST(test_enqueue_once)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sc_enqueue");
    g_autoptr(vsStore) one = vsTestStoreOpenMigrated(db);
    g_autoptr(vsStore) two = vsTestStoreOpenMigrated(db);
    g_autoptr(GPtrArray) all = NULL;
    gint64 now = g_get_real_time();
    gint64 due = now - HOUR_US, next = now + 23 * HOUR_US;
    gint64 id = addSchedule(one, "app", "daily", due);
    g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM shadow_jobs WHERE schedule_id = %"
                                           G_GINT64_FORMAT, id);
    const vsShadowScheduleRecord *sched;

    ck_assert(enqueue(one, id, due, next));
    ck_assert(!enqueue(two, id, due, next));
    ck_assert(!enqueue(one, id, due, next));
    vsTestPgAssertQuery(db, sql, "1");
    ck_assert(vsStoreListShadowSchedules(two, 0, &all, NULL));
    sched = g_ptr_array_index(all, 0);
    ck_assert_int_eq(sched->next_us, next);
    ck_assert_str_eq(sched->last_state, "queued");
    ck_assert_int_eq(sched->last_due_us, due);
    /* a schedule gone is nothing to enqueue */
    ck_assert(!enqueue(two, id + 100, due, next));
}
END_TEST

/* Lock rows with @sql (SELECT ... FOR UPDATE) in a transaction of
 * @holder's, until it commits. */
static void
holdRows(PGconn *holder, const char *sql)
{
    g_autoptr(vsPgResult) res = NULL;

    ck_assert_int_eq(PQstatus(holder), CONNECTION_OK);
    res = PQexec(holder, "BEGIN");
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    g_clear_pointer(&res, PQclear);
    res = PQexec(holder, sql);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
}

/* Job A is held (FOR UPDATE) by a third session: leasing skips it. */
START_TEST(test_lease_skip_locked)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sc_lease");
    g_autoptr(vsStore) one = vsTestStoreOpenMigrated(db);
    g_autoptr(vsStore) two = vsTestStoreOpenMigrated(db);
    g_autoptr(vsPgConn) holder = PQconnectdb(db);
    g_autoptr(vsPgResult) res = NULL;
    g_autoptr(vsShadowJobRecord) j1 = NULL;
    g_autoptr(vsShadowJobRecord) j2 = NULL;
    g_autoptr(vsShadowJobRecord) j3 = NULL;
    g_autoptr(vsShadowJobRecord) none = NULL;
    gint64 now = g_get_real_time();
    gint64 a = addSchedule(one, "app", "daily", now);
    gint64 b = addSchedule(one, "app", "weekly", now);
    gint64 c = addSchedule(one, "app", "0 * * * *", now);
    g_autofree char *hold = NULL;

    ck_assert(enqueue(one, a, now - 3 * HOUR_US, now + HOUR_US));
    ck_assert(enqueue(one, b, now - 2 * HOUR_US, now + HOUR_US));
    ck_assert(enqueue(one, c, now - 1 * HOUR_US, now + HOUR_US));
    /* not due yet: never leased */
    ck_assert(enqueue(one, c, now + HOUR_US, now + 2 * HOUR_US));

    hold = g_strdup_printf("SELECT id FROM shadow_jobs WHERE schedule_id = %" G_GINT64_FORMAT
                           " FOR UPDATE", a);
    holdRows(holder, hold);

    j1 = lease(one, "host-one", 60);
    j2 = lease(two, "host-two", 60);
    ck_assert_ptr_nonnull(j1);
    ck_assert_ptr_nonnull(j2);
    ck_assert_int_eq(j1->schedule_id, b);
    ck_assert_int_eq(j2->schedule_id, c);
    ck_assert_int_eq(j1->due_us, now - 2 * HOUR_US);
    ck_assert_uint_eq(j1->attempts, 1);
    ck_assert_str_eq(j1->app, "app");
    ck_assert_str_eq(j1->version, "1.0");
    ck_assert_str_eq(j1->base, "base-vm");
    ck_assert_str_eq(j1->script, "echo hi\n");
    ck_assert_int_gt(j1->lease_until_us, now);
    none = lease(two, "host-two", 60);
    ck_assert_ptr_null(none);

    res = PQexec(holder, "COMMIT");
    g_clear_pointer(&res, PQclear);
    j3 = lease(two, "host-two", 60);
    ck_assert_ptr_nonnull(j3);
    ck_assert_int_eq(j3->schedule_id, a);
    g_clear_pointer(&none, vsShadowJobRecordFree);
    none = lease(one, "host-one", 60);
    ck_assert_ptr_null(none);
}
END_TEST

static gboolean
takenOver(gpointer opaque)
{
    vsShadowJobRecord **ret = ((gpointer *)opaque)[1];

    *ret = lease(((gpointer *)opaque)[0], "host-two", 60);
    return *ret != NULL;
}

/* A crashed controller's job is picked up once its lease runs out; the
 * first controller then holds nothing. */
START_TEST(test_lease_expiry_and_renew)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sc_expiry");
    g_autoptr(vsStore) one = vsTestStoreOpenMigrated(db);
    g_autoptr(vsStore) two = vsTestStoreOpenMigrated(db);
    g_autoptr(vsShadowJobRecord) first = NULL;
    g_autoptr(vsShadowJobRecord) again = NULL;
    g_autoptr(vsShadowJobRecord) none = NULL;
    g_autoptr(GError) error = NULL;
    gint64 now = g_get_real_time();
    gint64 id = addSchedule(one, "app", "daily", now);
    g_autofree char *until = NULL;
    g_autofree char *sql = NULL;
    gpointer args[2];

    ck_assert(enqueue(one, id, now - HOUR_US, now + HOUR_US));
    first = lease(one, "host-one", 1);
    ck_assert_ptr_nonnull(first);
    /* renewed for an hour: not taken over when the first second is up */
    ck_assert_msg(vsStoreRenewShadowJob(one, first->id, "host-one", 3600, &error), "%s",
                  error ? error->message : "");
    sql = g_strdup_printf("SELECT lease_until > now() + interval '3500 s' FROM shadow_jobs"
                          " WHERE id = %" G_GINT64_FORMAT, first->id);
    vsTestPgAssertQuery(db, sql, "t");
    ck_assert(!vsStoreRenewShadowJob(two, first->id, "host-two", 10, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(error->message, "shadow job 1 is not leased by host 'host-two'");
    g_clear_error(&error);
    none = lease(two, "host-two", 60);
    ck_assert_ptr_null(none);
    ck_assert(!vsStoreRenewShadowJob(one, first->id, "host-one", 0, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    g_clear_error(&error);

    /* back to one second, then "crash" */
    ck_assert(vsStoreRenewShadowJob(one, first->id, "host-one", 1, NULL));
    args[0] = two;
    args[1] = &again;
    ck_assert_msg(vsTestPoll(takenOver, args, 10000, 100), "the expired lease was not taken over");
    ck_assert_int_eq(again->id, first->id);
    ck_assert_uint_eq(again->attempts, 2);
    until = g_strdup_printf("SELECT leased_by FROM shadow_jobs WHERE id = %" G_GINT64_FORMAT,
                            first->id);
    vsTestPgAssertQuery(db, until, "host-two");
    /* the first controller comes back: it holds the job no more */
    ck_assert(!vsStoreRenewShadowJob(one, first->id, "host-one", 60, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    g_clear_error(&error);
    ck_assert(!vsStoreFinishShadowJob(one, first->id, "host-one", TRUE, NULL, NULL, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    g_clear_error(&error);
    ck_assert(vsStoreFinishShadowJob(two, first->id, "host-two", FALSE, NULL, NULL, &error));
}
END_TEST

START_TEST(test_finish)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sc_finish");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsShadowJobRecord) j1 = NULL;
    g_autoptr(vsShadowJobRecord) j2 = NULL;
    g_autoptr(vsShadowJobRecord) none = NULL;
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GError) error = NULL;
    gint64 now = g_get_real_time();
    gint64 a = addSchedule(store, "app", "daily", now);
    gint64 b = addSchedule(store, "app", "weekly", now);
    vsShadowRunRecord run = {
        .id = (char *)"run-1", .app = (char *)"app", .version = (char *)"1.0",
        .base = (char *)"base-vm", .script_sha256 = (char *)SHA_A, .script = (char *)"test",
        .limits = (char *)"vcpus=1", .host = (char *)"host-one", .started_us = now,
    };
    const vsShadowScheduleRecord *s;

    ck_assert(enqueue(store, a, now - 2 * HOUR_US, now + HOUR_US));
    ck_assert(enqueue(store, b, now - HOUR_US, now + HOUR_US));
    j1 = lease(store, "host-one", 60);
    j2 = lease(store, "host-one", 60);
    ck_assert_msg(vsStoreStartShadowRun(store, &run, &error), "%s", error ? error->message : "");
    ck_assert(vsStoreFinishShadowJob(store, j1->id, "host-one", TRUE, "run-1", NULL, &error));
    ck_assert(vsStoreFinishShadowJob(store, j2->id, "host-one", FALSE, NULL,
                                     "failed to start: base 'b' is gone", &error));
    /* closed jobs are neither closed again nor leased */
    ck_assert(!vsStoreFinishShadowJob(store, j2->id, "host-one", TRUE, NULL, NULL, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    g_clear_error(&error);
    ck_assert(!vsStoreFinishShadowJob(store, j2->id, "host-one", TRUE, "bad id!", NULL, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    g_clear_error(&error);
    none = lease(store, "host-one", 60);
    ck_assert_ptr_null(none);

    ck_assert(vsStoreListShadowSchedules(store, 0, &all, NULL));
    s = g_ptr_array_index(all, 0);
    ck_assert_str_eq(s->last_state, "done");
    ck_assert_str_eq(s->last_run_id, "run-1");
    ck_assert_ptr_null(s->last_error);
    s = g_ptr_array_index(all, 1);
    ck_assert_str_eq(s->last_state, "failed");
    ck_assert_ptr_null(s->last_run_id);
    ck_assert_str_eq(s->last_error, "failed to start: base 'b' is gone");
    /* removing a schedule removes its jobs, not its runs */
    ck_assert(vsStoreRemoveShadowSchedule(store, a, NULL));
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_jobs", "1");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_runs", "1");
}
END_TEST

/* A schedule's run options come back from the list and with its jobs. */
START_TEST(test_options)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sc_options");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsShadowJobRecord) job = NULL;
    g_autoptr(vsShadowJobRecord) plain = NULL;
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GError) error = NULL;
    gint64 now = g_get_real_time();
    vsShadowScheduleRecord sched = {
        .app = (char *)"app", .version = (char *)"2.0", .base = (char *)"/var/lib/base.qcow2",
        .script = (char *)"echo hi\n", .limits = (char *)"vcpus=2,memory=262144K",
        .stage_dir = (char *)"/srv/app files", .network = (char *)"isolated", .timeout_s = 600,
        .every = (char *)"daily", .next_us = now, .enabled = TRUE,
    };
    const vsShadowScheduleRecord *s;
    gint64 other;

    ck_assert_msg(vsStoreAddShadowSchedule(store, &sched, &error), "%s",
                  error ? error->message : "");
    other = addSchedule(store, "app", "weekly", now);
    ck_assert(vsStoreListShadowSchedules(store, 0, &all, &error));
    ck_assert_uint_eq(all->len, 2);
    s = g_ptr_array_index(all, 0);
    ck_assert_str_eq(s->stage_dir, "/srv/app files");
    ck_assert_str_eq(s->network, "isolated");
    ck_assert_uint_eq(s->timeout_s, 600);
    ck_assert_str_eq(s->limits, "vcpus=2,memory=262144K");
    s = g_ptr_array_index(all, 1);
    ck_assert_ptr_null(s->stage_dir);
    ck_assert_ptr_null(s->network);
    ck_assert_uint_eq(s->timeout_s, 0);

    ck_assert(enqueue(store, sched.id, now - 2 * HOUR_US, now + HOUR_US));
    ck_assert(enqueue(store, other, now - HOUR_US, now + HOUR_US));
    job = lease(store, "host-one", 60);
    ck_assert_int_eq(job->schedule_id, sched.id);
    ck_assert_str_eq(job->stage_dir, "/srv/app files");
    ck_assert_str_eq(job->network, "isolated");
    ck_assert_uint_eq(job->timeout_s, 600);
    plain = lease(store, "host-one", 60);
    ck_assert_int_eq(plain->schedule_id, other);
    ck_assert_ptr_null(plain->stage_dir);
    ck_assert_ptr_null(plain->network);
    ck_assert_uint_eq(plain->timeout_s, 0);

    /* the schema refuses a relative stage */
    sched.stage_dir = (char *)"relative/dir";
    ck_assert(!vsStoreAddShadowSchedule(store, &sched, &error));
    g_clear_error(&error);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM shadow_schedules", "2");
}
END_TEST

/* A job whose lease runs out at each of its max attempts is failed, with
 * a reason, and never leased again; the closing skips a locked job. */
START_TEST(test_attempts_bound)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "sc_attempts");
    g_autoptr(vsStore) one = vsTestStoreOpenMigrated(db);
    g_autoptr(vsStore) two = vsTestStoreOpenMigrated(db);
    g_autoptr(vsPgConn) holder = PQconnectdb(db);
    g_autoptr(vsPgResult) res = NULL;
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GError) error = NULL;
    gint64 now = g_get_real_time();
    gint64 id = addSchedule(one, "app", "daily", now);
    const char *expire = "UPDATE shadow_jobs SET lease_until = now() - interval '1 second'"
                         " WHERE state = 'leased'";
    const vsShadowScheduleRecord *s;
    g_autofree char *ids = NULL;

    ck_assert(enqueue(one, id, now - HOUR_US, now + HOUR_US));
    for (guint attempt = 1; attempt <= 2; attempt++) {
        g_autoptr(vsShadowJobRecord) job = leaseMax(attempt == 1 ? one : two, "h", 60, 2);
        g_autofree char *none = NULL;

        ck_assert_ptr_nonnull(job);
        ck_assert_uint_eq(job->attempts, attempt);
        /* while held it is neither leased nor failed */
        ck_assert_ptr_null(leaseMax(one, "h", 60, 2));
        none = failExhausted(one, 2);
        ck_assert_str_eq(none, "");
        /* "crash": the lease runs out */
        g_free(vsTestPgQuery(db, expire));
    }
    /* the last attempt's lease ran out: not leased a third time */
    ck_assert_ptr_null(leaseMax(two, "h", 60, 2));
    vsTestPgAssertQuery(db, "SELECT state || ' ' || attempts FROM shadow_jobs", "leased 2");

    /* locked by another session: left alone */
    holdRows(holder, "SELECT id FROM shadow_jobs FOR UPDATE");
    ids = failExhausted(one, 2);
    ck_assert_str_eq(ids, "");
    res = PQexec(holder, "COMMIT");
    g_clear_pointer(&res, PQclear);
    g_free(ids);

    /* now it is given up, with its reason */
    ids = failExhausted(two, 2);
    ck_assert_str_eq(ids, "1");
    g_free(ids);
    ids = failExhausted(two, 2);
    ck_assert_str_eq(ids, "");
    ck_assert_ptr_null(leaseMax(one, "h", 60, 5));
    vsTestPgAssertQuery(db, "SELECT state || ' ' || attempts || ' ' || last_error FROM shadow_jobs",
                        "failed 2 gave up after 2 attempts: the lease of host 'h' ran out"
                        " without the job being closed");
    ck_assert(vsStoreListShadowSchedules(one, 0, &all, &error));
    s = g_ptr_array_index(all, 0);
    ck_assert_str_eq(s->last_state, "failed");
    ck_assert_msg(g_str_has_prefix(s->last_error, "gave up after 2 attempts"), "%s",
                  s->last_error);
    /* a bound of 0 is refused */
    ck_assert(!vsStoreFailExhaustedShadowJobs(one, 0, NULL, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pgschedule");
    TCase *tc = tcase_create("server");

    vsStoreRegisterDriver(&vsPgStoreDriver);
    tcase_add_unchecked_fixture(tc, pgSetup, pgTeardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_schedules);
    tcase_add_test(tc, test_enqueue_once);
    tcase_add_test(tc, test_lease_skip_locked);
    tcase_add_test(tc, test_lease_expiry_and_renew);
    tcase_add_test(tc, test_finish);
    tcase_add_test(tc, test_options);
    tcase_add_test(tc, test_attempts_bound);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
