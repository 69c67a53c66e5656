/*
 * vsmigrationtest.c: migration file names, status and compatibility
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "vstestutils.h"
#include "store/vsmigration.h"
#include "util/vserror.h"

static GPtrArray *
knownList(void)
{
    GPtrArray *known = g_ptr_array_new_with_free_func((GDestroyNotify)vsMigrationFree);

    g_ptr_array_add(known, vsMigrationNew(1, "0001_init", "CREATE TABLE a (x int);\n"));
    g_ptr_array_add(known, vsMigrationNew(2, "0002_foo", "CREATE TABLE b (x int);\n"));
    g_ptr_array_add(known, vsMigrationNew(3, "0003_bar", "CREATE TABLE c (x int);\n"));
    return known;
}

static GPtrArray *
appliedNew(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)vsAppliedMigrationFree);
}

static void
applyRow(GPtrArray *applied, vsMigration *m)
{
    g_ptr_array_add(applied, vsAppliedMigrationNew(m->version, m->name, m->checksum,
                                                   1700000000 + m->version));
}

static vsMigrationStatus *
statusAt(GPtrArray *status, guint i)
{
    return g_ptr_array_index(status, i);
}

START_TEST(test_parse_good)
{
    static const struct { const char *file; int version; const char *name; } cases[] = {
        { "0001_init.sql", 1, "0001_init" },
        { "0042_add_host_index.sql", 42, "0042_add_host_index" },
        { "9999_x9.sql", 9999, "9999_x9" },
        { "0010__.sql", 10, "0010__" },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *name = NULL;
        int version = -1;

        ck_assert_msg(vsMigrationParseFileName(cases[i].file, &version, &name, &error),
                      "%s: %s", cases[i].file, error ? error->message : "");
        ck_assert_int_eq(version, cases[i].version);
        ck_assert_str_eq(name, cases[i].name);
    }
}
END_TEST

START_TEST(test_parse_bad)
{
    static const char *const bad[] = {
        "", "init.sql", "001_init.sql", "00001_init.sql", "0001init.sql",
        "0001_.sql", "0001_Init.sql", "0001_in-it.sql", "0001_init.SQL",
        "0001_init.sql~", "0001_init", "0000_zero.sql", "abcd_init.sql",
        "0001_init.sql.bak", "0001_in it.sql", "/0001_init.sql",
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        char *name = NULL;
        int version = -1;

        ck_assert_msg(!vsMigrationParseFileName(bad[i], &version, &name, &error),
                      "'%s' accepted", bad[i]);
        ck_assert_ptr_null(name);
        ck_assert_int_eq(version, -1);
        ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
        ck_assert_ptr_nonnull(strstr(error->message, bad[i]));
        ck_assert(!g_str_has_suffix(error->message, "."));
    }
}
END_TEST

START_TEST(test_fresh_database)
{
    g_autoptr(GPtrArray) known = knownList();
    g_autoptr(GPtrArray) applied = appliedNew();
    g_autoptr(GPtrArray) status = vsMigrationCompare(known, applied);
    g_autoptr(GPtrArray) pending = NULL;
    g_autoptr(GError) error = NULL;
    guint i;

    ck_assert_uint_eq(status->len, 3);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(statusAt(status, i)->version, (int)i + 1);
        ck_assert_int_eq(statusAt(status, i)->state, VS_MIGRATION_PENDING);
        ck_assert_int_eq(statusAt(status, i)->applied_at, 0);
    }
    ck_assert(vsMigrationCheckCompatible(status, &error));
    pending = vsMigrationPending(known, status);
    ck_assert_uint_eq(pending->len, 3);
    for (i = 0; i < 3; i++)
        ck_assert_ptr_eq(g_ptr_array_index(pending, i), g_ptr_array_index(known, i));
}
END_TEST

START_TEST(test_partially_applied)
{
    g_autoptr(GPtrArray) known = knownList();
    g_autoptr(GPtrArray) applied = appliedNew();
    g_autoptr(GPtrArray) status = NULL;
    g_autoptr(GPtrArray) pending = NULL;
    g_autoptr(GError) error = NULL;

    applyRow(applied, g_ptr_array_index(known, 0));
    status = vsMigrationCompare(known, applied);
    ck_assert_uint_eq(status->len, 3);
    ck_assert_int_eq(statusAt(status, 0)->state, VS_MIGRATION_APPLIED);
    ck_assert_int_eq(statusAt(status, 0)->applied_at, 1700000001);
    ck_assert_str_eq(statusAt(status, 0)->name, "0001_init");
    ck_assert_int_eq(statusAt(status, 1)->state, VS_MIGRATION_PENDING);
    ck_assert_int_eq(statusAt(status, 2)->state, VS_MIGRATION_PENDING);
    ck_assert(vsMigrationCheckCompatible(status, &error));
    pending = vsMigrationPending(known, status);
    ck_assert_uint_eq(pending->len, 2);
    ck_assert_int_eq(((vsMigration *)g_ptr_array_index(pending, 0))->version, 2);
    ck_assert_int_eq(((vsMigration *)g_ptr_array_index(pending, 1))->version, 3);
}
END_TEST

START_TEST(test_all_applied)
{
    g_autoptr(GPtrArray) known = knownList();
    g_autoptr(GPtrArray) applied = appliedNew();
    g_autoptr(GPtrArray) status = NULL;
    g_autoptr(GPtrArray) pending = NULL;
    g_autoptr(GError) error = NULL;
    guint i;

    /* Rows in any order. */
    applyRow(applied, g_ptr_array_index(known, 2));
    applyRow(applied, g_ptr_array_index(known, 0));
    applyRow(applied, g_ptr_array_index(known, 1));
    status = vsMigrationCompare(known, applied);
    ck_assert_uint_eq(status->len, 3);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(statusAt(status, i)->version, (int)i + 1);
        ck_assert_int_eq(statusAt(status, i)->state, VS_MIGRATION_APPLIED);
    }
    ck_assert(vsMigrationCheckCompatible(status, &error));
    pending = vsMigrationPending(known, status);
    ck_assert_uint_eq(pending->len, 0);
}
END_TEST

START_TEST(test_edited)
{
    g_autoptr(GPtrArray) known = knownList();
    g_autoptr(GPtrArray) applied = appliedNew();
    g_autoptr(GPtrArray) status = NULL;
    g_autoptr(GError) error = NULL;

    applyRow(applied, g_ptr_array_index(known, 0));
    g_ptr_array_add(applied, vsAppliedMigrationNew(2, "0002_foo", "deadbeef", 1));
    status = vsMigrationCompare(known, applied);
    ck_assert_int_eq(statusAt(status, 0)->state, VS_MIGRATION_APPLIED);
    ck_assert_int_eq(statusAt(status, 1)->state, VS_MIGRATION_EDITED);
    ck_assert_int_eq(statusAt(status, 2)->state, VS_MIGRATION_PENDING);
    ck_assert(!vsMigrationCheckCompatible(status, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_SCHEMA));
    ck_assert_str_eq(error->message,
                     "migration '0002_foo' was edited after it was applied (checksum mismatch)");
}
END_TEST

START_TEST(test_newer_database)
{
    g_autoptr(GPtrArray) known = knownList();
    g_autoptr(GPtrArray) applied = appliedNew();
    g_autoptr(GPtrArray) status = NULL;
    g_autoptr(GError) error = NULL;
    guint i;

    for (i = 0; i < 3; i++)
        applyRow(applied, g_ptr_array_index(known, i));
    g_ptr_array_add(applied, vsAppliedMigrationNew(7, "0007_future", "abc", 7));
    status = vsMigrationCompare(known, applied);
    ck_assert_uint_eq(status->len, 4);
    ck_assert_int_eq(statusAt(status, 3)->version, 7);
    ck_assert_str_eq(statusAt(status, 3)->name, "0007_future");
    ck_assert_int_eq(statusAt(status, 3)->state, VS_MIGRATION_UNKNOWN);
    ck_assert(!vsMigrationCheckCompatible(status, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_SCHEMA));
    ck_assert_str_eq(error->message,
                     "database schema is at version 7 but this virt-shadow knows only up to 3: upgrade virt-shadow");
}
END_TEST

START_TEST(test_state_strings)
{
    ck_assert_str_eq(vsMigrationStateToString(VS_MIGRATION_PENDING), "pending");
    ck_assert_str_eq(vsMigrationStateToString(VS_MIGRATION_APPLIED), "applied");
    ck_assert_str_eq(vsMigrationStateToString(VS_MIGRATION_EDITED), "edited");
    ck_assert_str_eq(vsMigrationStateToString(VS_MIGRATION_UNKNOWN), "unknown");
    vsMigrationFree(NULL);
    vsAppliedMigrationFree(NULL);
    vsMigrationStatusFree(NULL);
}
END_TEST

START_TEST(test_builtin)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = vsMigrationsBuiltin(&error);
    g_autofree char *path = NULL;
    g_autofree char *contents = NULL;
    g_autofree char *sum = NULL;
    vsMigration *first;
    guint i;

    ck_assert_msg(list != NULL, "%s", error ? error->message : "");
    ck_assert_uint_ge(list->len, 1);
    for (i = 0; i < list->len; i++) {
        vsMigration *m = g_ptr_array_index(list, i);
        g_autofree char *file = g_strconcat(m->name, ".sql", NULL);
        g_autofree char *name = NULL;
        int version;

        if (i > 0)
            ck_assert_int_gt(m->version, ((vsMigration *)g_ptr_array_index(list, i - 1))->version);
        ck_assert(vsMigrationParseFileName(file, &version, &name, NULL));
        ck_assert_int_eq(version, m->version);
        ck_assert_uint_eq(strlen(m->checksum), 64);
        ck_assert_uint_eq(strspn(m->checksum, "0123456789abcdef"), 64);
        ck_assert_ptr_nonnull(m->sql);
    }

    /* The checksum is the file's, as shipped in sql/. */
    first = g_ptr_array_index(list, 0);
    ck_assert_str_eq(first->name, "0001_init");
    path = g_build_filename(vsTestSrcDir(), "sql", "0001_init.sql", NULL);
    ck_assert(g_file_get_contents(path, &contents, NULL, NULL));
    sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, contents, -1);
    ck_assert_str_eq(first->checksum, sum);
    ck_assert_str_eq(first->sql, contents);
}
END_TEST

/* Every file in sql/ is compiled in, as it is, and versions have no gaps:
 * a migration left out of vsresources.gresource.xml fails here. */
START_TEST(test_builtin_matches_sql_dir)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = vsMigrationsBuiltin(&error);
    g_autofree char *dir = g_build_filename(vsTestSrcDir(), "sql", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
    guint files = 0;
    const char *file;

    ck_assert_msg(list && d, "%s", error ? error->message : "");
    for (guint i = 0; i < list->len; i++)
        ck_assert_int_eq(((vsMigration *)g_ptr_array_index(list, i))->version, (int)i + 1);
    while ((file = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, file, NULL);
        g_autofree char *contents = NULL;
        g_autofree char *name = NULL;
        int version;

        if (!g_str_has_suffix(file, ".sql"))
            continue;
        files++;
        ck_assert_msg(vsMigrationParseFileName(file, &version, &name, NULL), "%s", file);
        ck_assert_msg(version >= 1 && (guint)version <= list->len, "'%s' is not compiled in", file);
        ck_assert(g_file_get_contents(path, &contents, NULL, NULL));
        ck_assert_str_eq(((vsMigration *)g_ptr_array_index(list, version - 1))->sql, contents);
    }
    ck_assert_uint_eq(files, list->len);
}
END_TEST

static Suite *
migrationSuite(void)
{
    Suite *s = suite_create("migration");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_parse_good);
    tcase_add_test(tc, test_parse_bad);
    tcase_add_test(tc, test_fresh_database);
    tcase_add_test(tc, test_partially_applied);
    tcase_add_test(tc, test_all_applied);
    tcase_add_test(tc, test_edited);
    tcase_add_test(tc, test_newer_database);
    tcase_add_test(tc, test_state_strings);
    tcase_add_test(tc, test_builtin);
    tcase_add_test(tc, test_builtin_matches_sql_dir);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return vsTestRunSuite(migrationSuite());
}
