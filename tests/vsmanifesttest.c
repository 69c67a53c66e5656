/*
 * vsmanifesttest.c: the manifest command run for real (the host's sh and,
 * when present, busybox), parsing, the diff into file and service events,
 * and dpkg and rpm package lists with their diff
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "shadow/vsmanifest.h"
#include "util/vserror.h"
#include "vstestutils.h"

static vsManifest *
vsTestManifestFixture(const char *name)
{
    g_autofree char *text = vsTestFixture("vsmanifestdata", name);
    g_autoptr(GError) error = NULL;
    vsManifest *m = vsManifestParse(text, strlen(text), &error);

    ck_assert_msg(m, "%s: %s", name, error ? error->message : "");
    return m;
}

static void
vsTestAssertEvent(GPtrArray *events, guint i, vsEventType type, const char *path,
                  const char *detail)
{
    const vsEvent *e;

    ck_assert_msg(i < events->len, "event %u missing", i);
    e = g_ptr_array_index(events, i);
    ck_assert_msg(e->type == type && strcmp(e->path, path) == 0 && g_strcmp0(e->detail, detail) == 0,
                  "event %u: got %s %s '%s', expected %s %s '%s'", i,
                  vsEventTypeToString(e->type), e->path, e->detail,
                  vsEventTypeToString(type), path, detail);
}

START_TEST(test_parse)
{
    g_autoptr(vsManifest) m = vsTestManifestFixture("before.txt");
    const vsManifestEntry *e;

    ck_assert_uint_eq(g_hash_table_size(m->entries), 10);
    e = g_hash_table_lookup(m->entries, "/etc/hostname");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->type, VS_MANIFEST_FILE);
    ck_assert_uint_eq(e->mode, 0644);
    ck_assert_uint_eq(e->size, 12);
    ck_assert_int_eq(e->mtime, 1700000000);
    ck_assert_str_eq(e->sha256, "aaaa000000000000000000000000000000000000000000000000000000000001");
    e = g_hash_table_lookup(m->entries, "/usr/bin/big");
    ck_assert_ptr_null(e->sha256);
    ck_assert_int_eq(((vsManifestEntry *)g_hash_table_lookup(m->entries, "/bin/sh"))->type,
                     VS_MANIFEST_LINK);
    ck_assert_int_eq(((vsManifestEntry *)g_hash_table_lookup(m->entries, "/etc"))->type,
                     VS_MANIFEST_DIR);
    ck_assert_int_eq(((vsManifestEntry *)g_hash_table_lookup(m->entries, "/var/fifo"))->type,
                     VS_MANIFEST_OTHER);
}
END_TEST

static const struct {
    const char *text;
    const char *message;
} vsTestBadManifests[] = {
    { "41ed\t755\t4096\t1\t/\n81a4\t644\t12\t1700000000\n",
      "malformed manifest line 2 '81a4\t644\t12\t1700000000': expected 5 tab-separated fields" },
    { "zz\t644\t1\t1\t/a\n", "malformed manifest line 1 'zz\t644\t1\t1\t/a': invalid mode" },
    { "81a4\t644\t-1\t1\t/a\n", "malformed manifest line 1 '81a4\t644\t-1\t1\t/a': invalid size" },
    { "81a4\t644\t1\tnow\t/a\n", "malformed manifest line 1 '81a4\t644\t1\tnow\t/a': invalid mtime" },
    { "81a4\t644\t1\t1\ta\n", "malformed manifest line 1 '81a4\t644\t1\t1\ta': path is not absolute" },
    { "#sha256\nxyz  /a\n",
      "malformed manifest line 2 'xyz  /a': expected a sha256 and an absolute path" },
};

START_TEST(test_parse_bad)
{
    g_autoptr(GError) error = NULL;
    const char *text = vsTestBadManifests[_i].text;

    ck_assert_ptr_null(vsManifestParse(text, strlen(text), &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_str_eq(error->message, vsTestBadManifests[_i].message);
}
END_TEST

START_TEST(test_diff)
{
    g_autoptr(vsManifest) before = vsTestManifestFixture("before.txt");
    g_autoptr(vsManifest) after = vsTestManifestFixture("after.txt");
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GPtrArray) none = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    guint i = 0;

    vsManifestDiff(before, after, events);
    /* "/" changed its mtime only: a directory, so no event */
    vsTestAssertEvent(events, i++, VS_EVENT_FILE_MODIFIED, "/etc/hostname", "sha256");
    vsTestAssertEvent(events, i++, VS_EVENT_FILE_CREATED, "/etc/init.d/app", "f 0755 50");
    vsTestAssertEvent(events, i++, VS_EVENT_SERVICE_CREATED, "/etc/init.d/app", "init script");
    vsTestAssertEvent(events, i++, VS_EVENT_FILE_MODIFIED, "/etc/init.d/rcS", "mode 0755 -> 0700");
    vsTestAssertEvent(events, i++, VS_EVENT_SERVICE_MODIFIED, "/etc/init.d/rcS", "init script");
    vsTestAssertEvent(events, i++, VS_EVENT_FILE_DELETED, "/etc/old.conf", "f");
    vsTestAssertEvent(events, i++, VS_EVENT_FILE_CREATED, "/etc/systemd/system/app.service",
                      "f 0644 120");
    vsTestAssertEvent(events, i++, VS_EVENT_SERVICE_CREATED, "/etc/systemd/system/app.service",
                      "systemd unit");
    vsTestAssertEvent(events, i++, VS_EVENT_FILE_CREATED,
                      "/etc/systemd/system/multi-user.target.wants/app.service", "l 0777 31");
    vsTestAssertEvent(events, i++, VS_EVENT_SERVICE_CREATED,
                      "/etc/systemd/system/multi-user.target.wants/app.service",
                      "systemd unit enabled");
    vsTestAssertEvent(events, i++, VS_EVENT_FILE_CREATED, "/opt/app", "d 0755 4096");
    vsTestAssertEvent(events, i++, VS_EVENT_FILE_CREATED, "/opt/app/hello", "f 0644 6");
    vsTestAssertEvent(events, i++, VS_EVENT_FILE_MODIFIED, "/usr/bin/big",
                      "size 100000 -> 200000, mtime");
    vsTestAssertEvent(events, i++, VS_EVENT_FILE_MODIFIED, "/var/spool/cron/crontabs/root",
                      "size 20 -> 41, sha256, mtime");
    vsTestAssertEvent(events, i++, VS_EVENT_SERVICE_MODIFIED, "/var/spool/cron/crontabs/root",
                      "cron entry");
    ck_assert_uint_eq(events->len, i);

    vsManifestDiff(after, after, none);
    ck_assert_uint_eq(none->len, 0);
}
END_TEST

START_TEST(test_service_kind)
{
    ck_assert_str_eq(vsManifestServiceKind("/lib/systemd/system/a.timer"), "systemd unit");
    ck_assert_str_eq(vsManifestServiceKind("/usr/lib/systemd/system/a.service"), "systemd unit");
    ck_assert_str_eq(vsManifestServiceKind("/etc/systemd/system/timers.target.wants/a.timer"),
                     "systemd unit enabled");
    ck_assert_ptr_null(vsManifestServiceKind("/etc/systemd/system/a.socket"));
    ck_assert_ptr_null(vsManifestServiceKind("/etc/systemd/system/x/y/a.service"));
    ck_assert_ptr_null(vsManifestServiceKind("/etc/systemd/systemx/a.service"));
    ck_assert_str_eq(vsManifestServiceKind("/etc/crontab"), "cron entry");
    ck_assert_str_eq(vsManifestServiceKind("/etc/cron.d/app"), "cron entry");
    ck_assert_str_eq(vsManifestServiceKind("/etc/cron.daily/app"), "cron job");
    ck_assert_ptr_null(vsManifestServiceKind("/etc/init.d"));
    ck_assert_ptr_null(vsManifestServiceKind("/etc/init.d/sub/x"));
    ck_assert_ptr_null(vsManifestServiceKind("/opt/app/app.service"));
}
END_TEST

START_TEST(test_command)
{
    const char *roots[] = { "/opt", "/etc", NULL };
    g_auto(GStrv) def = vsManifestCommand(NULL);
    g_auto(GStrv) two = vsManifestCommand(roots);

    ck_assert_uint_eq(g_strv_length(def), 5);
    ck_assert_str_eq(def[0], "/bin/sh");
    ck_assert_str_eq(def[1], "-c");
    ck_assert_str_eq(def[2], vsManifestArgv[2]);
    ck_assert_str_eq(def[3], "sh");
    ck_assert_str_eq(def[4], "/");
    ck_assert_uint_eq(g_strv_length(two), 6);
    ck_assert_str_eq(two[5], "/etc");
    /* every excluded path is pruned by the script */
    for (gsize i = 0; vsManifestExcluded[i]; i++) {
        g_autofree char *prune = g_strdup_printf("-path %s ", vsManifestExcluded[i]);

        ck_assert_msg(strstr(vsManifestArgv[2], prune), "%s not pruned", vsManifestExcluded[i]);
    }
}
END_TEST

/* Run the manifest command over @root, with @path as PATH (NULL: the
 * caller's), and parse what it prints. */
static vsManifest *
vsTestScan(const char *root, const char *shell, const char *path)
{
    const char *roots[] = { root, NULL };
    g_auto(GStrv) argv = vsManifestCommand(roots);
    g_auto(GStrv) env = g_get_environ();
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;
    vsManifest *m;
    int status;

    if (shell) {
        /* "busybox sh -c ...": the applet name goes first */
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();

        g_strv_builder_add(b, shell);
        g_strv_builder_add(b, "sh");
        g_strv_builder_addv(b, (const char **)argv + 1);
        g_strfreev(argv);
        argv = g_strv_builder_end(b);
    }
    if (path)
        env = g_environ_setenv(env, "PATH", path, TRUE);
    ck_assert_msg(g_spawn_sync(NULL, argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status,
                               &error), "%s", error ? error->message : "");
    ck_assert_msg(g_spawn_check_wait_status(status, NULL), "manifest command failed");
    m = vsManifestParse(out, strlen(out), &error);
    ck_assert_msg(m, "%s\n%s", error ? error->message : "", out);
    return m;
}

/* Written in place, so an existing file keeps its mode. */
static void
vsTestWrite(const char *dir, const char *name, const char *text, gsize len)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void
vsTestRealScan(const char *shell, gboolean busybox)
{
    g_autofree char *tmp = vsTestMakeTempDir("vsmanifest-XXXXXX");
    g_autofree char *root = g_build_filename(tmp, "root", NULL);
    g_autofree char *bin = g_build_filename(tmp, "bin", NULL);
    g_autofree char *weird = g_build_filename(root, "we\nird", NULL);
    g_autofree char *etc = g_build_filename(root, "etc", NULL);
    g_autofree char *link = g_build_filename(root, "etc", "link", NULL);
    g_autofree char *big = g_malloc0(VS_MANIFEST_HASH_MAX + 1);
    g_autofree char *p_hello = g_build_filename(root, "etc", "hello", NULL);
    g_autofree char *p_big = g_build_filename(root, "big", NULL);
    g_autofree char *p_edge = g_build_filename(root, "edge", NULL);
    g_autoptr(vsManifest) before = NULL;
    g_autoptr(vsManifest) after = NULL;
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    const vsManifestEntry *e;

    ck_assert_int_eq(g_mkdir_with_parents(etc, 0755), 0);
    ck_assert_int_eq(g_mkdir_with_parents(weird, 0755), 0);
    if (busybox) {
        static const char *const applets[] = { "find", "stat", "sha256sum" };

        ck_assert_int_eq(g_mkdir_with_parents(bin, 0755), 0);
        for (gsize i = 0; i < G_N_ELEMENTS(applets); i++) {
            g_autofree char *a = g_build_filename(bin, applets[i], NULL);

            ck_assert_int_eq(symlink("/bin/busybox", a), 0);
        }
    }
    vsTestWrite(etc, "hello", "hello\n", 6);
    vsTestWrite(weird, "hidden", "x", 1);
    vsTestWrite(root, "big", big, VS_MANIFEST_HASH_MAX + 1);
    vsTestWrite(root, "edge", big, VS_MANIFEST_HASH_MAX);
    ck_assert_int_eq(symlink("hello", link), 0);
    ck_assert_int_eq(g_chmod(p_hello, 0640), 0);

    before = vsTestScan(root, shell, busybox ? bin : NULL);
    /* root, etc, etc/hello, etc/link, big, edge; the weird directory is skipped */
    ck_assert_uint_eq(g_hash_table_size(before->entries), 6);
    e = g_hash_table_lookup(before->entries, p_hello);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->type, VS_MANIFEST_FILE);
    ck_assert_uint_eq(e->mode, 0640);
    ck_assert_uint_eq(e->size, 6);
    ck_assert_str_eq(e->sha256, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
    e = g_hash_table_lookup(before->entries, link);
    ck_assert_int_eq(e->type, VS_MANIFEST_LINK);
    ck_assert_ptr_null(e->sha256);
    ck_assert_int_eq(((vsManifestEntry *)g_hash_table_lookup(before->entries, etc))->type,
                     VS_MANIFEST_DIR);
    ck_assert_ptr_null(((vsManifestEntry *)g_hash_table_lookup(before->entries, p_big))->sha256);
    ck_assert_ptr_nonnull(((vsManifestEntry *)g_hash_table_lookup(before->entries, p_edge))->sha256);

    vsTestWrite(etc, "hello", "HELLO\n", 6);
    vsTestWrite(etc, "new", "n", 1);
    ck_assert_int_eq(g_unlink(p_big), 0);
    after = vsTestScan(root, shell, busybox ? bin : NULL);
    vsManifestDiff(before, after, events);
    ck_assert_uint_eq(events->len, 3);
    ck_assert_int_eq(((vsEvent *)g_ptr_array_index(events, 0))->type, VS_EVENT_FILE_DELETED);
    ck_assert_str_eq(((vsEvent *)g_ptr_array_index(events, 0))->path, p_big);
    ck_assert_int_eq(((vsEvent *)g_ptr_array_index(events, 1))->type, VS_EVENT_FILE_MODIFIED);
    ck_assert_str_eq(((vsEvent *)g_ptr_array_index(events, 1))->path, p_hello);
    /* same size; the mtime may or may not have moved within the second */
    ck_assert(g_str_has_prefix(((vsEvent *)g_ptr_array_index(events, 1))->detail, "sha256"));
    ck_assert_int_eq(((vsEvent *)g_ptr_array_index(events, 2))->type, VS_EVENT_FILE_CREATED);
    ck_assert_str_eq(((vsEvent *)g_ptr_array_index(events, 2))->detail, "f 0644 1");
    vsTestRemoveTree(tmp);
}

START_TEST(test_real_sh)
{
    vsTestRealScan(NULL, FALSE);
}
END_TEST

/* The tiny guest's tools: busybox find, stat and sha256sum. */
START_TEST(test_real_busybox)
{
    if (!g_file_test("/bin/busybox", G_FILE_TEST_IS_EXECUTABLE)) {
        /* build-guest needs busybox-static anyway; say so rather than skip quietly */
        ck_abort_msg("/bin/busybox is missing (install busybox-static)");
    }
    vsTestRealScan("/bin/busybox", TRUE);
}
END_TEST

START_TEST(test_dpkg)
{
    g_autofree char *t1 = vsTestFixture("vsmanifestdata", "dpkg-before.txt");
    g_autofree char *t2 = vsTestFixture("vsmanifestdata", "dpkg-after.txt");
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) before = vsPackagesParseDpkg(t1, &error);
    g_autoptr(GHashTable) after = vsPackagesParseDpkg(t2, &error);
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    const vsPackage *p;
    const vsEvent *e;
    g_autofree char *deps = NULL;

    ck_assert_ptr_nonnull(before);
    ck_assert_ptr_nonnull(after);
    /* "gone" is only config files */
    ck_assert_uint_eq(g_hash_table_size(before), 3);
    ck_assert(!g_hash_table_contains(before, "gone"));
    p = g_hash_table_lookup(before, "zlib1g");
    ck_assert_str_eq(p->version, "1:1.2.13.dfsg-1");
    ck_assert_uint_eq(g_strv_length(p->depends), 1);
    ck_assert_str_eq(p->depends[0], "libc6");
    ck_assert(g_hash_table_contains(after, "held"));
    p = g_hash_table_lookup(after, "nginx");
    deps = g_strjoinv(",", p->depends);
    /* Pre-Depends first; folded lines joined; versions, arch and alternatives */
    ck_assert_str_eq(deps, "dpkg,nginx-common,libc6,libssl3|libssl1.1,zlib1g");

    vsPackagesDiff(before, after, events);
    vsTestAssertEvent(events, 0, VS_EVENT_PACKAGE_INSTALLED, "held", "3");
    vsTestAssertEvent(events, 1, VS_EVENT_PACKAGE_UPGRADED, "libc6", "2.36-9 -> 2.36-9+deb12u1");
    vsTestAssertEvent(events, 2, VS_EVENT_PACKAGE_INSTALLED, "nginx", "1.22.1-9");
    vsTestAssertEvent(events, 3, VS_EVENT_PACKAGE_REMOVED, "oldtool", "1.0");
    ck_assert_uint_eq(events->len, 4);
    e = g_ptr_array_index(events, 2);
    ck_assert_uint_eq(g_strv_length(e->depends), 5);
    e = g_ptr_array_index(events, 3);
    ck_assert_ptr_null(e->depends);
}
END_TEST

START_TEST(test_dpkg_bad)
{
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GError) e3 = NULL;

    ck_assert_ptr_null(vsPackagesParseDpkg("Package: a\nStatus: install ok installed\n\n"
                                           "Version: 1\nStatus: install ok installed\n", &e1));
    ck_assert_str_eq(e1->message, "dpkg status stanza ending at line 5 has no Package field");
    ck_assert_ptr_null(vsPackagesParseDpkg("Package: a\nthis is not a field\n", &e2));
    ck_assert_str_eq(e2->message, "dpkg status line 2 'this is not a field': expected 'Field: value'");
    ck_assert_ptr_null(vsPackagesParseDpkg(" folded\n", &e3));
    ck_assert_str_eq(e3->message, "dpkg status line 1: continuation without a field");
}
END_TEST

START_TEST(test_rpm_list)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) before = vsPackagesParseList("bash\t5.1.8-6.el9\nzlib\t1.2.11-40.el9\n", &error);
    g_autoptr(GHashTable) after = vsPackagesParseList("bash\t5.1.8-9.el9\nzlib\t1.2.11-40.el9\n"
                                                      "httpd\t2.4.57-5.el9\n", &error);
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) bad = NULL;

    ck_assert_ptr_nonnull(before);
    ck_assert_ptr_nonnull(after);
    vsPackagesDiff(before, after, events);
    ck_assert_uint_eq(events->len, 2);
    vsTestAssertEvent(events, 0, VS_EVENT_PACKAGE_UPGRADED, "bash", "5.1.8-6.el9 -> 5.1.8-9.el9");
    vsTestAssertEvent(events, 1, VS_EVENT_PACKAGE_INSTALLED, "httpd", "2.4.57-5.el9");
    ck_assert_ptr_null(vsPackagesParseList("bash\n", &bad));
    ck_assert_str_eq(bad->message,
                     "package list line 1 'bash': expected NAME<TAB>VERSION[<TAB>REQUIRES]");
    g_clear_error(&bad);
    ck_assert_ptr_null(vsPackagesParseList("bash\t1\ta,\textra\n", &bad));
    ck_assert_str_eq(bad->message, "package list line 1 'bash\t1\ta,\textra': expected "
                                   "NAME<TAB>VERSION[<TAB>REQUIRES]");
}
END_TEST

static void
vsTestAssertDepends(GHashTable *packages, const char *name, const char *version,
                    const char *depends)
{
    const vsPackage *p = g_hash_table_lookup(packages, name);
    g_autofree char *joined = NULL;

    ck_assert_msg(p, "package %s missing", name);
    ck_assert_str_eq(p->version, version);
    ck_assert_ptr_nonnull(p->depends);
    joined = g_strjoinv(" ", p->depends);
    ck_assert_str_eq(joined, depends);
}

/* The Requires of the rpm query: package names kept (once, in order),
 * files, rpmlib(), sonames and capabilities dropped, plain rich "or"
 * dependencies as alternatives; keys skipped, same-name packages merged. */
START_TEST(test_rpm_requires)
{
    static const char text[] =
        "httpd\t2.4.57-5.el9\t/bin/sh,httpd-core,httpd-core,system-logos-httpd,"
        "rpmlib(CompressedFileNames),libc.so.6(GLIBC_2.34)(64bit),libapr-1.so.0()(64bit),"
        "libfoo.so.1,libfoo.so,config(httpd),perl(Foo::Bar),(mod_http2 or mod_lua >= 2.4),"
        "(a if b),(c and d),(e or f(x)),(g),(),libsomething,\n"
        "filesystem\t3.16-2.el9\t\n"
        "gpg-pubkey\tfd431d51-4ae0493b\t\n"
        "gpg-pubkey\t5a6340b3-6229229e\t\n"
        "kernel-core\t5.14.0-362.el9\tcoreutils,\n"
        "kernel-core\t5.14.0-284.el9\tcoreutils,dracut,\n"
        "nodeps\t1:0.1-1\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) packages = vsPackagesParseList(text, &error);

    ck_assert_msg(packages, "%s", error ? error->message : "");
    ck_assert_uint_eq(g_hash_table_size(packages), 4);
    vsTestAssertDepends(packages, "httpd", "2.4.57-5.el9",
                        "httpd-core system-logos-httpd mod_http2|mod_lua g libsomething");
    vsTestAssertDepends(packages, "filesystem", "3.16-2.el9", "");
    vsTestAssertDepends(packages, "kernel-core", "5.14.0-284.el9, 5.14.0-362.el9",
                        "coreutils dracut");
    vsTestAssertDepends(packages, "nodeps", "1:0.1-1", "");
    ck_assert(!g_hash_table_contains(packages, "gpg-pubkey"));
}
END_TEST

static void
vsTestAddEntry(vsManifest *m, const char *path, vsManifestType type)
{
    vsManifestEntry *e = g_new0(vsManifestEntry, 1);

    e->path = g_strdup(path);
    e->type = type;
    g_hash_table_replace(m->entries, e->path, e);
}

/* When the runner queries rpm: it has to be there, and its database or
 * itself must have changed. */
START_TEST(test_rpm_find)
{
    g_autoptr(vsManifest) m = vsManifestNew();

    ck_assert_ptr_null(vsPackagesRpmFind(m));
    vsTestAddEntry(m, "/usr/bin/rpm", VS_MANIFEST_DIR);
    ck_assert_ptr_null(vsPackagesRpmFind(m));
    /* busybox's applet */
    vsTestAddEntry(m, "/bin/rpm", VS_MANIFEST_LINK);
    ck_assert_ptr_null(vsPackagesRpmFind(m));
    vsTestAddEntry(m, "/bin/rpm", VS_MANIFEST_FILE);
    ck_assert_str_eq(vsPackagesRpmFind(m), "/bin/rpm");
    vsTestAddEntry(m, "/usr/bin/rpm", VS_MANIFEST_FILE);
    ck_assert_str_eq(vsPackagesRpmFind(m), "/usr/bin/rpm");

    ck_assert(vsPackagesRpmTouched("/var/lib/rpm"));
    ck_assert(vsPackagesRpmTouched("/var/lib/rpm/Packages"));
    ck_assert(vsPackagesRpmTouched("/usr/lib/sysimage/rpm/rpmdb.sqlite-wal"));
    ck_assert(vsPackagesRpmTouched("/usr/bin/rpm"));
    ck_assert(vsPackagesRpmTouched("/bin/rpm"));
    ck_assert(!vsPackagesRpmTouched("/var/lib/rpm-state/x"));
    ck_assert(!vsPackagesRpmTouched("/var/lib"));
    ck_assert(!vsPackagesRpmTouched("/usr/bin/rpmbuild"));
    ck_assert(!vsPackagesRpmTouched("/var/lib/dpkg/status"));
}
END_TEST

/* The exact query the runner sends, against a real rpm database: a
 * package built with rpmbuild, with an epoch and every kind of Requires,
 * registered (--justdb) in a database of the test's own.  Needs rpm and
 * rpmbuild (contrib/install-deps): fails without them. */
START_TEST(test_rpm_real)
{
    static const char spec[] =
        "Name: vs-demo\nVersion: 1.2\nRelease: 3\nEpoch: 2\nSummary: demo\nLicense: MIT\n"
        "BuildArch: noarch\n"
        "Requires: /bin/sh, vs-base >= 1.0, libc.so.6(GLIBC_2.2.5)(64bit), perl(Foo::Bar)\n"
        "Requires: (vs-a or vs-b), vs-c\n"
        "%description\ndemo\n%files\n";
    g_autofree char *rpm = g_find_program_in_path("rpm");
    g_autofree char *rpmbuild = g_find_program_in_path("rpmbuild");
    g_autofree char *dir = vsTestMakeTempDir("vs-rpm-XXXXXX");
    g_autofree char *spec_path = g_build_filename(dir, "demo.spec", NULL);
    g_autofree char *top = g_strdup_printf("_topdir %s/top", dir);
    g_autofree char *rpmdir = g_strdup_printf("_rpmdir %s/out", dir);
    g_autofree char *db = g_build_filename(dir, "db", NULL);
    g_autofree char *package = g_build_filename(dir, "out", "noarch", "vs-demo-1.2-3.noarch.rpm",
                                                NULL);
    g_autofree char *out = NULL;
    g_auto(GStrv) argv = NULL;
    g_autoptr(GHashTable) packages = NULL;
    g_autoptr(GError) error = NULL;

    ck_assert_msg(rpm && rpmbuild, "rpm and rpmbuild are needed (contrib/install-deps)");
    ck_assert(g_file_set_contents(spec_path, spec, -1, NULL));
    g_free(vsTestRunOut((const char *const[]){ rpmbuild, "-bb", "--quiet", "--define", top,
                                               "--define", rpmdir, spec_path, NULL }));
    g_free(vsTestRunOut((const char *const[]){ rpm, "--dbpath", db, "--initdb", NULL }));
    g_free(vsTestRunOut((const char *const[]){ rpm, "--dbpath", db, "-i", "--nodeps", "--justdb",
                                               package, NULL }));

    argv = vsPackagesRpmCommand(rpm, (const char *const[]){ "--dbpath", db, NULL });
    ck_assert_str_eq(argv[0], rpm);
    ck_assert_str_eq(argv[3], vsPackagesRpmQuery[0]);
    out = vsTestRunOut((const char *const *)argv);
    packages = vsPackagesParseList(out, &error);
    ck_assert_msg(packages, "%s: %s", error ? error->message : "", out);
    ck_assert_uint_eq(g_hash_table_size(packages), 1);
    /* rpm sorts the Requires names */
    vsTestAssertDepends(packages, "vs-demo", "2:1.2-3", "vs-a|vs-b vs-base vs-c");
    vsTestRemoveTree(dir);
}
END_TEST

START_TEST(test_event_types)
{
    for (int i = 0; i < VS_EVENT_LAST; i++) {
        vsEventType t;

        ck_assert(vsEventTypeFromString(vsEventTypeToString((vsEventType)i), &t));
        ck_assert_int_eq(t, i);
    }
    ck_assert(!vsEventTypeFromString("file-touched", &(vsEventType){ 0 }));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("manifest");

    /* the modes of the files the real scans create */
    umask(022);

    tcase_add_test(tc, test_parse);
    tcase_add_loop_test(tc, test_parse_bad, 0, G_N_ELEMENTS(vsTestBadManifests));
    tcase_add_test(tc, test_diff);
    tcase_add_test(tc, test_service_kind);
    tcase_add_test(tc, test_command);
    tcase_add_test(tc, test_real_sh);
    tcase_add_test(tc, test_real_busybox);
    tcase_add_test(tc, test_dpkg);
    tcase_add_test(tc, test_dpkg_bad);
    tcase_add_test(tc, test_rpm_list);
    tcase_add_test(tc, test_rpm_requires);
    tcase_add_test(tc, test_rpm_find);
    tcase_add_test(tc, test_rpm_real);
    tcase_add_test(tc, test_event_types);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
