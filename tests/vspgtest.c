/*
 * vspgtest.c: the PostgreSQL store driver against a real server
 */
#include <config.h>

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vstestutils.h"
#include "postgres/vspg.h"
#include "store/vsmigration.h"
#include "store/vsstore.h"
#include "util/vserror.h"

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

static vsStore *
openUrl(const char *conninfo)
{
    vsStoreTarget target = { .url = (char *)conninfo };
    g_autoptr(GError) error = NULL;
    vsStore *store = vsStoreOpen(&target, FALSE, &error);

    ck_assert_msg(store != NULL, "open: %s", error ? error->message : "");
    return store;
}

static guint
builtinCount(void)
{
    g_autoptr(GPtrArray) known = vsMigrationsBuiltin(NULL);

    ck_assert_ptr_nonnull(known);
    return known->len;
}

static guint
migrationRows(const char *conninfo)
{
    g_autofree char *n = vsTestPgQuery(conninfo, "SELECT count(*) FROM vs_schema_migrations");

    return (guint)atoi(n);
}

START_TEST(test_migrate_fresh)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "fresh");
    g_autoptr(vsStore) store = openUrl(db);
    g_autoptr(GPtrArray) known = vsMigrationsBuiltin(NULL);
    g_autoptr(GPtrArray) status = NULL;
    g_autoptr(GError) error = NULL;
    guint applied = 999;
    guint i;

    /* A fresh database is not usable yet and says what to do. */
    ck_assert(!vsStoreCheckSchema(store, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_SCHEMA));
    ck_assert_ptr_nonnull(strstr(error->message, "virt-shadow db migrate"));
    g_clear_error(&error);

    ck_assert_msg(vsStoreMigrate(store, &applied, &error), "%s",
                  error ? error->message : "");
    ck_assert_uint_eq(applied, known->len);
    ck_assert_uint_eq(migrationRows(db), known->len);
    for (i = 0; i < known->len; i++) {
        vsMigration *m = g_ptr_array_index(known, i);
        g_autofree char *sql = g_strdup_printf("SELECT checksum || ' ' || name FROM"
                                               " vs_schema_migrations WHERE version = %d",
                                               m->version);
        g_autofree char *row = vsTestPgQuery(db, sql);
        g_autofree char *expect = g_strdup_printf("%s %s", m->checksum, m->name);

        ck_assert_str_eq(row, expect);
    }
    /* 0001 created its tables. */
    g_free(vsTestPgQuery(db, "SELECT count(*) FROM hosts"));
    g_free(vsTestPgQuery(db, "SELECT count(*) FROM domain_events"));

    status = vsStoreMigrationStatus(store, &error);
    ck_assert_ptr_nonnull(status);
    ck_assert_uint_eq(status->len, known->len);
    for (i = 0; i < status->len; i++) {
        vsMigrationStatus *s = g_ptr_array_index(status, i);

        ck_assert_int_eq(s->state, VS_MIGRATION_APPLIED);
        ck_assert_int_gt(s->applied_at, 1600000000);
        ck_assert_int_le(s->applied_at, g_get_real_time() / G_USEC_PER_SEC + 5);
    }
    ck_assert_msg(vsStoreCheckSchema(store, &error), "%s", error ? error->message : "");
}
END_TEST

START_TEST(test_migrate_twice)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "twice");
    g_autoptr(vsStore) store = openUrl(db);
    g_autoptr(GError) error = NULL;
    guint applied = 999;

    ck_assert(vsStoreMigrate(store, &applied, &error));
    ck_assert_uint_eq(applied, builtinCount());
    ck_assert_msg(vsStoreMigrate(store, &applied, &error), "%s",
                  error ? error->message : "");
    ck_assert_uint_eq(applied, 0);
    ck_assert_uint_eq(migrationRows(db), builtinCount());
}
END_TEST

START_TEST(test_status_fresh)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "status");
    g_autoptr(vsStore) store = openUrl(db);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) status = vsStoreMigrationStatus(store, &error);
    guint i;

    ck_assert_msg(status != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(status->len, builtinCount());
    for (i = 0; i < status->len; i++)
        ck_assert_int_eq(((vsMigrationStatus *)g_ptr_array_index(status, i))->state,
                         VS_MIGRATION_PENDING);
    /* Reading the status created the (empty) bookkeeping table. */
    ck_assert_uint_eq(migrationRows(db), 0);
}
END_TEST

START_TEST(test_newer_refused)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "newer");
    g_autoptr(vsStore) store = openUrl(db);
    g_autoptr(GPtrArray) status = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *expect = NULL;
    vsMigrationStatus *last;
    guint applied = 999;

    ck_assert(vsStoreMigrate(store, &applied, &error));
    g_free(vsTestPgQuery(db, "INSERT INTO vs_schema_migrations (version, name, checksum)"
                     " VALUES (9999, '9999_future', 'abc')"));

    expect = g_strdup_printf("database schema is at version 9999 but this virt-shadow"
                             " knows only up to %d: upgrade virt-shadow",
                             (int)builtinCount());
    applied = 999;
    ck_assert(!vsStoreMigrate(store, &applied, &error));
    ck_assert_uint_eq(applied, 999);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_SCHEMA));
    ck_assert_str_eq(error->message, expect);
    g_clear_error(&error);

    ck_assert(!vsStoreCheckSchema(store, &error));
    ck_assert_str_eq(error->message, expect);
    g_clear_error(&error);

    status = vsStoreMigrationStatus(store, &error);
    ck_assert_ptr_nonnull(status);
    last = g_ptr_array_index(status, status->len - 1);
    ck_assert_int_eq(last->version, 9999);
    ck_assert_int_eq(last->state, VS_MIGRATION_UNKNOWN);
}
END_TEST

START_TEST(test_newer_refused_before_applying)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "newer0");
    g_autoptr(vsStore) store = openUrl(db);
    g_autoptr(GPtrArray) status = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *hosts = NULL;

    /* Only a future row: nothing of ours may be applied. */
    status = vsStoreMigrationStatus(store, &error);
    ck_assert_ptr_nonnull(status);
    g_free(vsTestPgQuery(db, "INSERT INTO vs_schema_migrations (version, name, checksum)"
                     " VALUES (9999, '9999_future', 'abc')"));
    ck_assert(!vsStoreMigrate(store, NULL, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_SCHEMA));
    ck_assert_uint_eq(migrationRows(db), 1);
    hosts = vsTestPgQuery(db, "SELECT to_regclass('hosts') IS NULL");
    ck_assert_str_eq(hosts, "t");
}
END_TEST

START_TEST(test_tampered_refused)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "tampered");
    g_autoptr(vsStore) store = openUrl(db);
    g_autoptr(GPtrArray) known = vsMigrationsBuiltin(NULL);
    g_autoptr(GPtrArray) status = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *expect = NULL;
    vsMigration *first = g_ptr_array_index(known, 0);

    ck_assert(vsStoreMigrate(store, NULL, &error));
    g_free(vsTestPgQuery(db, "UPDATE vs_schema_migrations SET checksum = 'tampered'"
                     " WHERE version = 1"));

    expect = g_strdup_printf("migration '%s' was edited after it was applied (checksum mismatch)",
                             first->name);
    ck_assert(!vsStoreMigrate(store, NULL, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_SCHEMA));
    ck_assert_str_eq(error->message, expect);
    g_clear_error(&error);
    ck_assert(!vsStoreCheckSchema(store, &error));
    ck_assert_str_eq(error->message, expect);
    g_clear_error(&error);

    status = vsStoreMigrationStatus(store, &error);
    ck_assert_ptr_nonnull(status);
    ck_assert_int_eq(((vsMigrationStatus *)g_ptr_array_index(status, 0))->state,
                     VS_MIGRATION_EDITED);
}
END_TEST

typedef struct {
    const char *conninfo;
    GMutex *mutex;
    GCond *cond;
    int *ready;
    gboolean ok;
    char *message;
} migrateJob;

static gpointer
migrateThread(gpointer opaque)
{
    migrateJob *job = opaque;
    vsStoreTarget target = { .url = (char *)job->conninfo };
    g_autoptr(GError) error = NULL;
    g_autoptr(vsStore) store = vsStoreOpen(&target, FALSE, &error);

    /* Start together, to collide. */
    g_mutex_lock(job->mutex);
    (*job->ready)--;
    g_cond_broadcast(job->cond);
    while (*job->ready > 0)
        g_cond_wait(job->cond, job->mutex);
    g_mutex_unlock(job->mutex);

    job->ok = store && vsStoreMigrate(store, NULL, &error);
    if (!job->ok)
        job->message = g_strdup(error ? error->message : "no error");
    return NULL;
}

START_TEST(test_concurrent_migrate)
{
    int round;

    for (round = 0; round < 5; round++) {
        g_autofree char *tag = g_strdup_printf("conc%d", round);
        g_autofree char *db = vsTestPgFreshDatabase(pg, tag);
        migrateJob jobs[4] = { 0 };
        GThread *threads[4];
        GMutex mutex;
        GCond cond;
        int ready = G_N_ELEMENTS(jobs);
        size_t i;

        g_mutex_init(&mutex);
        g_cond_init(&cond);
        for (i = 0; i < G_N_ELEMENTS(jobs); i++) {
            jobs[i].conninfo = db;
            jobs[i].mutex = &mutex;
            jobs[i].cond = &cond;
            jobs[i].ready = &ready;
            threads[i] = g_thread_new("migrate", migrateThread, &jobs[i]);
        }
        for (i = 0; i < G_N_ELEMENTS(jobs); i++)
            g_thread_join(threads[i]);
        g_mutex_clear(&mutex);
        g_cond_clear(&cond);

        for (i = 0; i < G_N_ELEMENTS(jobs); i++) {
            g_autofree char *message = jobs[i].message;

            ck_assert_msg(jobs[i].ok, "round %d job %zu: %s", round, i, message);
        }
        ck_assert_uint_eq(migrationRows(db), builtinCount());
    }
}
END_TEST

static void
assertConnectError(const GError *error, const char *prefix)
{
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT), "%s", error->message);
    ck_assert_msg(g_str_has_prefix(error->message, prefix), "%s", error->message);
    ck_assert_msg(!strchr(error->message, '\n'), "%s", error->message);
    ck_assert_msg(!strstr(error->message, "s3cret"), "%s", error->message);
    ck_assert(!g_str_has_suffix(error->message, "."));
}

START_TEST(test_unreachable)
{
    g_autofree char *dir = vsTestMakeTempDir("vspgnone-XXXXXX");
    g_autofree char *url = g_strdup_printf("host=%s dbname=x password=s3cret", dir);
    g_autofree char *prefix = g_strdup_printf("cannot connect to database on socket '%s': ", dir);
    vsStoreTarget target = { .url = url };
    g_autoptr(GError) error = NULL;
    vsStore *store;

    store = vsStoreOpen(&target, FALSE, &error);
    ck_assert_ptr_null(store);
    assertConnectError(error, prefix);
    g_clear_error(&error);
    vsTestRemoveTree(dir);

    target.url = (char *)"postgresql://vs:s3cret@127.0.0.1:1/x";
    store = vsStoreOpen(&target, FALSE, &error);
    ck_assert_ptr_null(store);
    assertConnectError(error, "cannot connect to database at host '127.0.0.1:1': ");
    g_clear_error(&error);

    /* Even a url libpq cannot parse must not echo the password. */
    target.url = (char *)"postgresql://vs:s3cret@127.0.0.1:1/x?bogus%zz=1";
    store = vsStoreOpen(&target, FALSE, &error);
    ck_assert_ptr_null(store);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_msg(!strstr(error->message, "s3cret"), "%s", error->message);
}
END_TEST

START_TEST(test_describe_version)
{
    g_autoptr(vsStore) store = openUrl(vsTestPgConninfo(pg));
    g_autofree char *where = vsStoreDescribe(store);
    g_autofree char *expect = g_strdup_printf("socket '%s'", vsTestPgSocketDir(pg));
    g_autoptr(GError) error = NULL;
    g_autofree char *version = vsStoreServerVersion(store, &error);
    g_autoptr(GRegex) re = g_regex_new("^[0-9]+(\\.[0-9]+)*$", 0, 0, NULL);

    ck_assert_str_eq(where, expect);
    ck_assert_msg(version != NULL, "%s", error ? error->message : "");
    ck_assert_msg(g_regex_match(re, version, 0, NULL), "version '%s'", version);
}
END_TEST

START_TEST(test_heartbeat_events)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "rows");
    g_autoptr(vsStore) store = openUrl(db);
    g_autoptr(GError) error = NULL;
    g_autofree char *row = NULL;
    g_autofree char *started = NULL;
    g_autofree char *started2 = NULL;

    ck_assert(vsStoreMigrate(store, NULL, &error));

    ck_assert_msg(vsStoreHostHeartbeat(store, "h1", "qemu:///system", "0.1", &error),
                  "%s", error ? error->message : "");
    row = vsTestPgQuery(db, "SELECT uri || ' ' || version || ' ' ||"
                    " (heartbeat_at >= started_at)::text FROM hosts WHERE name = 'h1'");
    ck_assert_str_eq(row, "qemu:///system 0.1 true");
    started = vsTestPgQuery(db, "SELECT started_at FROM hosts WHERE name = 'h1'");
    g_clear_pointer(&row, g_free);

    ck_assert(vsStoreHostHeartbeat(store, "h1", "qemu+ssh://x/system", "0.2", &error));
    row = vsTestPgQuery(db, "SELECT count(*) || ' ' || max(uri) || ' ' || max(version) FROM hosts");
    ck_assert_str_eq(row, "1 qemu+ssh://x/system 0.2");
    /* Only the first heartbeat of a process marks its start. */
    started2 = vsTestPgQuery(db, "SELECT started_at FROM hosts WHERE name = 'h1'");
    ck_assert_str_eq(started, started2);
    g_clear_pointer(&row, g_free);

    ck_assert_msg(vsStoreRecordDomainEvent(store, G_GINT64_CONSTANT(1700000000123456), "h1",
                                           "c7a5fdbd-cdaf-9455-926a-d65c16db1809",
                                           "vm1", "started", 1, &error),
                  "%s", error ? error->message : "");
    ck_assert(vsStoreRecordDomainEvent(store, G_GINT64_CONSTANT(1700000001000000), "h1",
                                       NULL, "vm2", "stopped", 0, &error));
    row = vsTestPgQuery(db, "SELECT (extract(epoch FROM at) * 1000000)::bigint || ' ' || host"
                    " || ' ' || domain_uuid || ' ' || domain_name || ' ' || event"
                    " || ' ' || detail FROM domain_events WHERE domain_name = 'vm1'");
    ck_assert_str_eq(row, "1700000000123456 h1 c7a5fdbd-cdaf-9455-926a-d65c16db1809 vm1 started 1");
    g_clear_pointer(&row, g_free);
    row = vsTestPgQuery(db, "SELECT (domain_uuid IS NULL)::text || ' ' || event || ' ' || detail"
                    " FROM domain_events WHERE domain_name = 'vm2'");
    ck_assert_str_eq(row, "true stopped 0");

    /* Bad input is an error, not a crash. */
    ck_assert(!vsStoreRecordDomainEvent(store, 0, "h1", "not-a-uuid", "vm3", "x", 0, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_FAILED));
    ck_assert(!strchr(error->message, '\n'));
}
END_TEST

START_TEST(test_reconnect_after_outage)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "outage");
    g_autoptr(vsStore) store = openUrl(db);
    g_autoptr(GError) error = NULL;

    ck_assert(vsStoreMigrate(store, NULL, &error));
    vsTestPgKill(pg);
    ck_assert(!vsStoreHostHeartbeat(store, "h1", NULL, NULL, &error));
    ck_assert_msg(!strchr(error->message, '\n'), "%s", error->message);
    g_clear_error(&error);
    vsTestPgRestart(pg);
    ck_assert_msg(vsStoreHostHeartbeat(store, "h1", NULL, NULL, &error), "%s",
                  error ? error->message : "");
}
END_TEST

/* --- embedded cluster ----------------------------------------------------- */

static char *embeddedDir;
static vsStoreTarget embeddedTarget;

static void
embeddedSetup(void)
{
    embeddedDir = vsTestMakeTempDir("vspgemb-XXXXXX");
    /* The server user must be able to walk down to STATE_DIR/pg. */
    g_chmod(embeddedDir, 0711);
    embeddedTarget.state_dir = g_build_filename(embeddedDir, "state dir", NULL);
}

static void
embeddedTeardown(void)
{
    g_autoptr(GError) error = NULL;

    /* Also after a failed test: no server may outlive the suite. */
    if (!vsStoreEmbeddedStop(&embeddedTarget, &error))
        fprintf(stderr, "teardown: %s\n", error->message);
    vsTestRemoveTree(embeddedDir);
    g_clear_pointer(&embeddedDir, g_free);
    vsStoreTargetClear(&embeddedTarget);
}

static void
assertEmbeddedState(vsStoreEmbeddedState expect)
{
    vsStoreEmbeddedState state = vsStoreEmbeddedGetState(&embeddedTarget);

    ck_assert_msg(state == expect, "state %s, expected %s",
                  vsStoreEmbeddedStateToString(state),
                  vsStoreEmbeddedStateToString(expect));
}

START_TEST(test_embedded)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsStore) store = NULL;
    g_autofree char *pgDir = g_build_filename(embeddedTarget.state_dir, "pg", NULL);
    g_autofree char *data = g_build_filename(pgDir, "data", NULL);
    g_autofree char *run = g_build_filename(pgDir, "run", NULL);
    g_autofree char *where = NULL;
    g_autofree char *expect = NULL;
    guint applied = 0;
    GStatBuf st;

    assertEmbeddedState(VS_STORE_EMBEDDED_ABSENT);
    store = vsStoreOpen(&embeddedTarget, FALSE, &error);
    ck_assert_ptr_null(store);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT));
    ck_assert_msg(strstr(error->message, "'virt-shadow db start'"), "%s", error->message);
    g_clear_error(&error);

    /* First use: initdb, start, create the database. */
    store = vsStoreOpen(&embeddedTarget, TRUE, &error);
    ck_assert_msg(store != NULL, "%s", error ? error->message : "");
    ck_assert(g_file_test(data, G_FILE_TEST_IS_DIR));
    ck_assert_int_eq(g_stat(pgDir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    if (geteuid() == 0)
        ck_assert_int_ne(st.st_uid, 0);
    ck_assert_int_eq(g_stat(embeddedTarget.state_dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0011, 0011);
    where = vsStoreDescribe(store);
    expect = g_strdup_printf("socket '%s'", run);
    ck_assert_str_eq(where, expect);
    ck_assert_msg(vsStoreMigrate(store, &applied, &error), "%s",
                  error ? error->message : "");
    ck_assert_uint_eq(applied, builtinCount());
    assertEmbeddedState(VS_STORE_EMBEDDED_RUNNING);

    /* Starting a running cluster is fine. */
    ck_assert_msg(vsStoreEmbeddedStart(&embeddedTarget, &error), "%s",
                  error ? error->message : "");
    g_clear_pointer(&store, vsStoreFree);

    ck_assert_msg(vsStoreEmbeddedStop(&embeddedTarget, &error), "%s",
                  error ? error->message : "");
    assertEmbeddedState(VS_STORE_EMBEDDED_STOPPED);
    /* Stopping a stopped cluster is fine too. */
    ck_assert(vsStoreEmbeddedStop(&embeddedTarget, &error));

    store = vsStoreOpen(&embeddedTarget, FALSE, &error);
    ck_assert_ptr_null(store);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT));
    ck_assert_msg(strstr(error->message, "is not running: run 'virt-shadow db start'"),
                  "%s", error->message);
    ck_assert_msg(strstr(error->message, data), "%s", error->message);
    g_clear_error(&error);

    ck_assert_msg(vsStoreEmbeddedStart(&embeddedTarget, &error), "%s",
                  error ? error->message : "");
    assertEmbeddedState(VS_STORE_EMBEDDED_RUNNING);
    store = vsStoreOpen(&embeddedTarget, FALSE, &error);
    ck_assert_msg(store != NULL, "%s", error ? error->message : "");
    /* The data survived the restart. */
    ck_assert_msg(vsStoreCheckSchema(store, &error), "%s", error ? error->message : "");
    ck_assert(vsStoreHostHeartbeat(store, "h1", NULL, NULL, &error));
}
END_TEST

START_TEST(test_embedded_start_failure)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *pgDir = g_build_filename(embeddedTarget.state_dir, "pg", NULL);
    g_autofree char *conf = g_build_filename(pgDir, "data", "postgresql.conf", NULL);
    g_autofree char *data = g_build_filename(pgDir, "data", NULL);
    FILE *fp;

    ck_assert_msg(vsStoreEmbeddedStart(&embeddedTarget, &error), "%s",
                  error ? error->message : "");
    ck_assert(vsStoreEmbeddedStop(&embeddedTarget, &error));

    /* A broken setting: the error names the data dir and the log. */
    fp = fopen(conf, "a");
    ck_assert_ptr_nonnull(fp);
    fputs("shared_buffers = 'bogus'\n", fp);
    fclose(fp);
    ck_assert(!vsStoreEmbeddedStart(&embeddedTarget, &error));
    ck_assert_msg(strstr(error->message, data), "%s", error->message);
    ck_assert_msg(strstr(error->message, "server.log"), "%s", error->message);
    ck_assert_msg(strstr(error->message, "shared_buffers"), "%s", error->message);
    ck_assert_msg(!strchr(error->message, '\n'), "%s", error->message);
    assertEmbeddedState(VS_STORE_EMBEDDED_STOPPED);
}
END_TEST

static Suite *
pgSuite(void)
{
    Suite *s = suite_create("pg");
    TCase *tc = tcase_create("server");
    TCase *emb = tcase_create("embedded");

    tcase_add_unchecked_fixture(tc, pgSetup, pgTeardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_migrate_fresh);
    tcase_add_test(tc, test_migrate_twice);
    tcase_add_test(tc, test_status_fresh);
    tcase_add_test(tc, test_newer_refused);
    tcase_add_test(tc, test_newer_refused_before_applying);
    tcase_add_test(tc, test_tampered_refused);
    tcase_add_test(tc, test_concurrent_migrate);
    tcase_add_test(tc, test_unreachable);
    tcase_add_test(tc, test_describe_version);
    tcase_add_test(tc, test_heartbeat_events);
    suite_add_tcase(s, tc);

    {
        /* Its own server: the outage must not affect other tests. */
        TCase *outage = tcase_create("outage");

        tcase_add_unchecked_fixture(outage, pgSetup, pgTeardown);
        tcase_set_timeout(outage, 120);
        tcase_add_test(outage, test_reconnect_after_outage);
        suite_add_tcase(s, outage);
    }

    /* One state dir per test: checked fixtures run in the forked test, so
     * they are unchecked here and the teardown stops what a test left. */
    tcase_add_unchecked_fixture(emb, embeddedSetup, embeddedTeardown);
    tcase_set_timeout(emb, 300);
    tcase_add_test(emb, test_embedded);
    suite_add_tcase(s, emb);

    {
        TCase *fail = tcase_create("embedded-failure");

        tcase_add_unchecked_fixture(fail, embeddedSetup, embeddedTeardown);
        tcase_set_timeout(fail, 300);
        tcase_add_test(fail, test_embedded_start_failure);
        suite_add_tcase(s, fail);
    }
    return s;
}

int
main(void)
{
    vsStoreRegisterDriver(&vsPgStoreDriver);
    return vsTestRunSuite(pgSuite());
}
