/*
 * vsconfigtest.c: virt-shadow.conf parsing
 */
#include <config.h>

#include <stdlib.h>

#include "util/vsconfig.h"
#include "util/vserror.h"
#include "vstestutils.h"

START_TEST(test_defaults)
{
    g_autoptr(vsConfig) cfg = vsConfigNew();

    ck_assert_str_eq(cfg->state_dir, VS_DEFAULT_STATE_DIR);
    ck_assert_ptr_null(cfg->database);
    ck_assert_str_eq(cfg->domain_type, "qemu");
    ck_assert_str_eq(cfg->embedded_db_user, "postgres");
    ck_assert_uint_eq(cfg->heartbeat_interval_ms, 10000);
    ck_assert_str_eq(cfg->shadow_pool, "/var/lib/libvirt/images/virt-shadow");
    ck_assert_double_eq(cfg->max_concurrent_shadows, 1);
    ck_assert_uint_eq(cfg->max_job_attempts, 3);
    ck_assert_double_eq(cfg->deploy_margin, 1.2);
    ck_assert_uint_eq(cfg->deploy_vcpus, 1);
    ck_assert_uint_eq(cfg->deploy_memory_bytes, G_GUINT64_CONSTANT(1) << 30);
    ck_assert_str_eq(cfg->deploy_clone, "linked");
    ck_assert_str_eq(cfg->deploy_pool, "/var/lib/libvirt/images");
}
END_TEST

START_TEST(test_full_file)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsConfig) cfg = vsConfigLoadData(
        "# comment\n[main]\nstate_dir = /srv/vs\ndatabase = postgresql://db/x\n"
        "log_level = debug\n[libvirt]\nuri = qemu+ssh://h/system\ndomain_type = kvm\n"
        "[daemon]\npid_file = /run/x.pid\nheartbeat_interval = 2m\n"
        "[forecast]\nstep = 10s\nseason = 1h\nhorizon = 2m\n"
        "[allocator]\ninterval = 30s\ncpu_overcommit = 2.5\nhost_cpus = 8\nhost_memory = 16G\n"
        "shrink_window = 5m\n[shadow]\npool = vs-overlays\nmax_concurrent_shadows = 3\n"
        "max_job_attempts = 5\n"
        "[deploy]\nmargin = 1.5\nvcpus = 2\nmemory = 2G\nclone = full\npool = prod\n",
        "t.conf", &error);

    ck_assert_msg(cfg != NULL, "%s", error ? error->message : "");
    ck_assert_str_eq(cfg->state_dir, "/srv/vs");
    ck_assert_str_eq(cfg->database, "postgresql://db/x");
    ck_assert_str_eq(cfg->log_level, "debug");
    ck_assert_str_eq(cfg->uri, "qemu+ssh://h/system");
    ck_assert_str_eq(cfg->domain_type, "kvm");
    ck_assert_str_eq(cfg->pid_file, "/run/x.pid");
    ck_assert_uint_eq(cfg->heartbeat_interval_ms, 120000);
    ck_assert_uint_eq(cfg->forecast_step_ms, 10000);
    ck_assert_uint_eq(cfg->forecast_season_ms, 3600000);
    ck_assert_uint_eq(cfg->forecast_horizon_ms, 120000);
    ck_assert_uint_eq(cfg->allocator_interval_ms, 30000);
    ck_assert_uint_eq(cfg->shrink_window_ms, 300000);
    ck_assert_double_eq(cfg->cpu_overcommit, 2.5);
    ck_assert_double_eq(cfg->memory_overcommit, 1);
    ck_assert_double_eq(cfg->host_cpus, 8);
    ck_assert_uint_eq(cfg->host_memory_bytes, G_GUINT64_CONSTANT(16) << 30);
    ck_assert_str_eq(cfg->shadow_pool, "vs-overlays");
    ck_assert_double_eq(cfg->max_concurrent_shadows, 3);
    ck_assert_uint_eq(cfg->max_job_attempts, 5);
    ck_assert_double_eq(cfg->deploy_margin, 1.5);
    ck_assert_uint_eq(cfg->deploy_vcpus, 2);
    ck_assert_uint_eq(cfg->deploy_memory_bytes, G_GUINT64_CONSTANT(2) << 30);
    ck_assert_str_eq(cfg->deploy_clone, "full");
    ck_assert_str_eq(cfg->deploy_pool, "prod");
    ck_assert_str_eq(cfg->path, "t.conf");
}
END_TEST

START_TEST(test_empty_value_unsets)
{
    g_autoptr(vsConfig) cfg = vsConfigLoadData("[main]\ndatabase =\n", "t.conf", NULL);

    ck_assert_ptr_nonnull(cfg);
    ck_assert_ptr_null(cfg->database);
}
END_TEST

typedef struct {
    const char *text;
    const char *message;    /* expected part of the error */
} vsBadConfig;

static const vsBadConfig vsBadConfigs[] = {
    { "[main]\nbogus = 1\n", "unknown key 'bogus' in group [main]" },
    { "[nope]\n", "unknown group [nope]" },
    { "[nope]\nx = 1\n", "unknown key 'x' in group [nope]" },
    { "[main\n", "config file 't.conf'" },
    { "[main]\nlog_level = loud\n", "invalid log level 'loud'" },
    { "[libvirt]\ndomain_type = xen\n", "invalid domain type 'xen'" },
    { "[main]\nstate_dir = relative/dir\n", "path 'relative/dir' is not absolute" },
    { "[daemon]\nheartbeat_interval = soon\n", "[daemon] heartbeat_interval: invalid duration 'soon'" },
    { "[allocator]\ncpu_overcommit = lots\n", "[allocator] cpu_overcommit: invalid number 'lots'" },
    { "[allocator]\nhost_cpus = -2\n", "invalid number '-2'" },
    { "[allocator]\nmemory_overcommit = 0\n", "memory_overcommit must be above 0" },
    { "[forecast]\nstep = 7s\n", "[forecast] step must be whole seconds and divide season" },
    { "[forecast]\nstep = 1500ms\nseason = 6s\n", "[forecast] step must be whole seconds" },
    { "[forecast]\nstep = 1h\nseason = 2h\n", "into 4 to 8640 slots" },
    { "[forecast]\nstep = 1s\n", "into 4 to 8640 slots" },
    { "[forecast]\nhorizon = 13h\n", "[forecast] horizon must be whole seconds and at most half" },
    { "[forecast]\nhorizon = 1500ms\n", "[forecast] horizon must be whole seconds" },
    { "[shadow]\npool = images/shadows\n", "[shadow] pool: invalid pool 'images/shadows' (expected a "
                                            "storage pool name or an absolute directory)" },
    { "[shadow]\npool = -x\n", "invalid pool '-x'" },
    { "[shadow]\npool =\n", "invalid pool ''" },
    { "[shadow]\nmax_concurrent_shadows = 1.5\n", "[shadow] max_concurrent_shadows: invalid count "
                                                   "'1.5' (expected a whole number from 0 to 64)" },
    { "[shadow]\nmax_concurrent_shadows = 65\n", "invalid count '65'" },
    { "[shadow]\nmax_concurrent_shadows = -1\n", "invalid count '-1'" },
    { "[shadow]\nmax_job_attempts = 0\n", "[shadow] max_job_attempts: invalid count '0' "
                                            "(expected a whole number from 1 to 100)" },
    { "[shadow]\nmax_job_attempts = 101\n", "invalid count '101'" },
    { "[deploy]\nclone = thin\n", "[deploy] clone: invalid clone kind 'thin' (expected linked or full)" },
    { "[deploy]\nvcpus = two\n", "[deploy] vcpus: invalid count 'two'" },
    { "[deploy]\nvcpus = 0\n", "[deploy] margin must be at least 1, vcpus at least 1" },
    { "[deploy]\nmargin = 0.8\n", "[deploy] margin must be at least 1" },
    { "[deploy]\nmemory = 64M\n", "memory at least 128M" },
    { "[deploy]\npool = a/b\n", "[deploy] pool: invalid pool 'a/b'" },
};

START_TEST(test_bad_config)
{
    const vsBadConfig *bad = &vsBadConfigs[_i];
    g_autoptr(GError) error = NULL;
    g_autoptr(vsConfig) cfg = vsConfigLoadData(bad->text, "t.conf", &error);

    ck_assert_ptr_null(cfg);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_msg(strstr(error->message, bad->message), "'%s' lacks '%s'",
                  error->message, bad->message);
    ck_assert_msg(strstr(error->message, "t.conf"), "'%s' does not name the file", error->message);
}
END_TEST

START_TEST(test_missing_file)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsConfig) optional = vsConfigLoad("/nonexistent/vs.conf", FALSE, &error);
    g_autoptr(vsConfig) required = NULL;

    ck_assert_ptr_nonnull(optional);
    ck_assert_ptr_null(optional->path);
    required = vsConfigLoad("/nonexistent/vs.conf", TRUE, &error);
    ck_assert_ptr_null(required);
    ck_assert(strstr(error->message, "/nonexistent/vs.conf"));
}
END_TEST

START_TEST(test_uri_precedence)
{
    g_autoptr(vsConfig) cfg = vsConfigNew();

    g_setenv("LIBVIRT_DEFAULT_URI", "test:///env", TRUE);
    ck_assert_str_eq(vsConfigResolveURI(cfg, NULL), "test:///env");
    cfg->uri = g_strdup("test:///config");
    ck_assert_str_eq(vsConfigResolveURI(cfg, NULL), "test:///config");
    ck_assert_str_eq(vsConfigResolveURI(cfg, "test:///option"), "test:///option");
    g_unsetenv("LIBVIRT_DEFAULT_URI");
    g_clear_pointer(&cfg->uri, g_free);
    ck_assert_ptr_null(vsConfigResolveURI(cfg, NULL));
}
END_TEST

START_TEST(test_database_precedence)
{
    g_autoptr(vsConfig) cfg = vsConfigNew();

    g_unsetenv("VIRT_SHADOW_DATABASE");
    ck_assert_ptr_null(vsConfigResolveDatabase(cfg));
    g_setenv("VIRT_SHADOW_DATABASE", "postgresql://env/x", TRUE);
    ck_assert_str_eq(vsConfigResolveDatabase(cfg), "postgresql://env/x");
    cfg->database = g_strdup("postgresql://config/x");
    ck_assert_str_eq(vsConfigResolveDatabase(cfg), "postgresql://config/x");
    g_unsetenv("VIRT_SHADOW_DATABASE");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");

    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_full_file);
    tcase_add_test(tc, test_empty_value_unsets);
    tcase_add_loop_test(tc, test_bad_config, 0, G_N_ELEMENTS(vsBadConfigs));
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_uri_precedence);
    tcase_add_test(tc, test_database_precedence);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
