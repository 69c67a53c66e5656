/*
 * vshookspooltest.c: the libvirt hook (the real script) and the daemon's
 * reader of its spool
 */
#include <config.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "vstestutils.h"
#include "daemon/vshookspool.h"
#include "util/vserror.h"

#define UUID_A "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define DOMAIN_XML \
    "<domain type='kvm' id='3'>\n" \
    "  <name>web 1</name>\n" \
    "  <uuid>C7A5FDBD-cdaf-9455-926a-d65c16db1809</uuid>\n" \
    "  <metadata><other:x xmlns:other='urn:x'><uuid>not-this-one</uuid></other:x></metadata>\n" \
    "  <memory unit='KiB'>1048576</memory>\n" \
    "</domain>\n"

typedef struct {
    int status;
    char *out;
    char *err;
} hookRun;

static void
hookRunClear(hookRun *r)
{
    g_free(r->out);
    g_free(r->err);
}

/* Run the hook from the source tree as libvirtd would. */
static void
runHook(const char *spool, const char *xml, hookRun *ret, const char *first_arg, ...)
{
    g_autofree char *hook = g_build_filename(vsTestSrcDir(), "contrib", "hooks", "qemu.d",
                                             "virt-shadow", NULL);
    g_autoptr(GSubprocessLauncher) l =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                  G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GSubprocess) p = NULL;
    g_autoptr(GError) error = NULL;
    va_list ap;

    g_ptr_array_add(argv, hook);
    va_start(ap, first_arg);
    for (const char *a = first_arg; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);

    g_subprocess_launcher_setenv(l, "VIRT_SHADOW_HOOK_SPOOL", spool, TRUE);
    p = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &error);
    ck_assert_msg(p != NULL, "%s", error ? error->message : "");
    ck_assert_msg(g_subprocess_communicate_utf8(p, xml, NULL, &ret->out, &ret->err, &error),
                  "%s", error ? error->message : "");
    ret->status = g_subprocess_get_exit_status(p);
}

static vsHookSpoolBatch *
readSpool(const char *spool)
{
    g_autoptr(GError) error = NULL;
    vsHookSpoolBatch *b = NULL;

    ck_assert_msg(vsHookSpoolRead(spool, &b, &error), "%s", error ? error->message : "");
    ck_assert_uint_eq(b->events->len, b->files->len);
    return b;
}

static vsDomainEventRecord *
eventAt(vsHookSpoolBatch *b, guint i)
{
    return g_ptr_array_index(b->events, i);
}

START_TEST(test_hook_records)
{
    g_autofree char *tmp = vsTestMakeTempDir("vshook-XXXXXX");
    g_autofree char *spool = g_build_filename(tmp, "spool", "hooks", NULL);
    g_autoptr(vsHookSpoolBatch) b = NULL;
    g_autoptr(GError) error = NULL;
    gint64 before = g_get_real_time();
    hookRun r = { 0 };
    GStatBuf st;

    /* the spool is created on first use, private */
    runHook(spool, DOMAIN_XML, &r, "web 1", "started", "begin", "-", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "");
    ck_assert_str_eq(r.err, "");
    hookRunClear(&r);
    ck_assert_int_eq(g_stat(spool, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);

    /* migrate: libvirt would take any output as the new XML */
    runHook(spool, DOMAIN_XML, &r, "web 1", "migrate", "begin", "-", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "");
    hookRunClear(&r);
    /* not recorded, and silent too */
    runHook(spool, DOMAIN_XML, &r, "web 1", "prepare", "begin", "-", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "");
    hookRunClear(&r);
    runHook(spool, DOMAIN_XML, &r, "web 1", "restore", "begin", "-", NULL);
    ck_assert_str_eq(r.out, "");
    hookRunClear(&r);
    /* no UUID in the XML: recorded without one; a tab in the name survives */
    runHook(spool, "<domain/>", &r, "odd\tname", "stopped", "end", "-", NULL);
    ck_assert_int_eq(r.status, 0);
    hookRunClear(&r);

    b = readSpool(spool);
    ck_assert_uint_eq(b->problems->len, 0);
    ck_assert_uint_eq(b->events->len, 3);
    ck_assert_str_eq(eventAt(b, 0)->event, "hook-started");
    ck_assert_str_eq(eventAt(b, 0)->uuid, UUID_A);
    ck_assert_str_eq(eventAt(b, 0)->name, "web 1");
    ck_assert_ptr_null(eventAt(b, 0)->host);
    ck_assert_int_eq(eventAt(b, 0)->detail, 0);
    ck_assert_int_ge(eventAt(b, 0)->when_us, before);
    ck_assert_int_le(eventAt(b, 0)->when_us, g_get_real_time());
    ck_assert_str_eq(eventAt(b, 1)->event, "hook-migrate");
    ck_assert_str_eq(eventAt(b, 2)->event, "hook-stopped");
    ck_assert_ptr_null(eventAt(b, 2)->uuid);
    ck_assert_str_eq(eventAt(b, 2)->name, "odd\tname");
    /* oldest first */
    ck_assert_int_le(eventAt(b, 0)->when_us, eventAt(b, 1)->when_us);
    ck_assert_int_le(eventAt(b, 1)->when_us, eventAt(b, 2)->when_us);

    {
        g_autofree char *path = g_build_filename(spool, g_ptr_array_index(b->files, 0), NULL);

        ck_assert_int_eq(g_stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);
    }

    /* consumed files go, once; a second removal is no error */
    for (guint i = 0; i < b->files->len; i++)
        ck_assert_msg(vsHookSpoolRemove(spool, g_ptr_array_index(b->files, i), &error), "%s",
                      error ? error->message : "");
    ck_assert(vsHookSpoolRemove(spool, g_ptr_array_index(b->files, 0), &error));
    ck_assert(!vsHookSpoolRemove(spool, "../x", &error));
    g_clear_pointer(&b, vsHookSpoolBatchFree);
    b = readSpool(spool);
    ck_assert_uint_eq(b->events->len, 0);
    vsTestRemoveTree(tmp);
}
END_TEST

START_TEST(test_hook_never_fails_libvirt)
{
    g_autofree char *tmp = vsTestMakeTempDir("vshook-XXXXXX");
    g_autofree char *blocker = g_build_filename(tmp, "file", NULL);
    g_autofree char *spool = g_build_filename(blocker, "hooks", NULL);
    hookRun r = { 0 };

    /* the spool cannot be made: said on stderr, but exit 0 and no stdout */
    ck_assert(g_file_set_contents(blocker, "x", -1, NULL));
    runHook(spool, DOMAIN_XML, &r, "web 1", "migrate", "begin", "-", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "");
    ck_assert_msg(strstr(r.err, spool), "%s", r.err);
    hookRunClear(&r);

    /* a broken invocation is the only failure */
    runHook(spool, "", &r, "web 1", NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.out, "");
    hookRunClear(&r);
    vsTestRemoveTree(tmp);
}
END_TEST

static void
writeFile(const char *dir, const char *name, const char *contents, gssize len)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);

    ck_assert(g_file_set_contents(path, contents, len, NULL));
}

START_TEST(test_malformed)
{
    g_autofree char *spool = vsTestMakeTempDir("vshook-XXXXXX");
    g_autoptr(vsHookSpoolBatch) b = NULL;
    g_autofree char *bad = NULL;
    g_autofree char *big = g_strnfill(100000, 'x');
    static const char nul[] = "1\t900\tst\0rted\tbegin\t\tvm1\n";

    writeFile(spool, "100.1.event", "1\t100\tstarted\tbegin\t" UUID_A "\tvm1\n", -1);
    writeFile(spool, "200.1.event", "garbage\n", -1);
    writeFile(spool, "300.1.event", "", -1);
    writeFile(spool, "400.1.event", "1\t400\tstarted\tbegin\tnot-a-uuid\tvm1\n", -1);
    writeFile(spool, "500.1.event", "1\tsoon\tstarted\tbegin\t\tvm1\n", -1);
    writeFile(spool, "600.1.event", "1\t600\tstarted\tbegin\t\tvm1\nmore\n", -1);
    writeFile(spool, "700.1.event", "2\t700\tstarted\tbegin\t\tvm1\n", -1);
    writeFile(spool, "800.1.event", "1\t800\tstarted\tbegin\t\t\n", -1);
    writeFile(spool, "900.1.event", nul, sizeof(nul) - 1);
    writeFile(spool, "950.1.event", big, -1);
    /* not events: being written, or not ours */
    writeFile(spool, ".960.1.tmp", "half", -1);
    writeFile(spool, "README", "hello", -1);
    writeFile(spool, "99.1.event", "1\t99\tstopped\tend\t\tvm0\n", -1);

    b = readSpool(spool);
    ck_assert_uint_eq(b->events->len, 2);
    /* numeric order: 99 before 100 */
    ck_assert_str_eq(eventAt(b, 0)->name, "vm0");
    ck_assert_str_eq(eventAt(b, 1)->name, "vm1");
    ck_assert_str_eq(g_ptr_array_index(b->files, 1), "100.1.event");
    ck_assert_uint_eq(b->problems->len, 9);
    for (guint i = 0; i < b->problems->len; i++) {
        const char *msg = g_ptr_array_index(b->problems, i);

        ck_assert_msg(g_str_has_prefix(msg, "malformed hook event file '"), "%s", msg);
        ck_assert_msg(strstr(msg, ".bad'"), "%s", msg);
    }
    ck_assert_msg(strstr(g_ptr_array_index(b->problems, 2), "invalid domain UUID 'not-a-uuid'"),
                  "%s", (char *)g_ptr_array_index(b->problems, 2));
    bad = g_build_filename(spool, "200.1.event.bad", NULL);
    ck_assert(g_file_test(bad, G_FILE_TEST_EXISTS));

    /* reported once: set aside */
    g_clear_pointer(&b, vsHookSpoolBatchFree);
    b = readSpool(spool);
    ck_assert_uint_eq(b->problems->len, 0);
    ck_assert_uint_eq(b->events->len, 2);
    vsTestRemoveTree(spool);
}
END_TEST

START_TEST(test_missing_and_unreadable)
{
    g_autofree char *tmp = vsTestMakeTempDir("vshook-XXXXXX");
    g_autofree char *missing = g_build_filename(tmp, "none", NULL);
    g_autofree char *file = g_build_filename(tmp, "file", NULL);
    g_autoptr(vsHookSpoolBatch) b = NULL;
    g_autoptr(GError) error = NULL;

    b = readSpool(missing);
    ck_assert_uint_eq(b->events->len, 0);
    g_clear_pointer(&b, vsHookSpoolBatchFree);

    ck_assert(g_file_set_contents(file, "x", -1, NULL));
    ck_assert(!vsHookSpoolRead(file, &b, &error));
    ck_assert_ptr_null(b);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_IO));
    ck_assert_msg(strstr(error->message, file), "%s", error->message);
    vsTestRemoveTree(tmp);
}
END_TEST

static Suite *
hookSpoolSuite(void)
{
    Suite *s = suite_create("hookspool");
    TCase *tc = tcase_create("spool");

    tcase_add_test(tc, test_hook_records);
    tcase_add_test(tc, test_hook_never_fails_libvirt);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_missing_and_unreadable);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return vsTestRunSuite(hookSpoolSuite());
}
