/*
 * vstestlibvirtd.c: a private libvirtd for the tests (tests/private-libvirtd)
 *
 * The script runs in the foreground; we keep its pid, and killing it tears
 * down libvirtd and every QEMU it started.  A daemon that does not come up
 * fails the test with the tail of its log: real-service tests never skip.
 */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vstestutils.h"

#define VS_TEST_LIBVIRTD_START_MS 20000
#define VS_TEST_LIBVIRTD_STOP_MS 10000

struct _vsTestLibvirtd {
    char *dir;
    char *uri;
    GPid pid;           /* 0 when not running */
};

static void
vsTestLibvirtdQuiet(void *opaque G_GNUC_UNUSED, virErrorPtr err G_GNUC_UNUSED)
{
}

static char *
vsTestLibvirtdLogTail(vsTestLibvirtd *d)
{
    g_autofree char *path = g_build_filename(d->dir, "log", "libvirtd.log", NULL);
    g_autofree char *text = NULL;
    gsize len = 0;
    const char *start;

    if (!g_file_get_contents(path, &text, &len, NULL))
        return g_strdup_printf("(no log at '%s')", path);
    start = len > 3000 ? text + len - 3000 : text;
    return g_strdup(start);
}

static void G_GNUC_PRINTF(2, 3) G_GNUC_NORETURN
vsTestLibvirtdFail(vsTestLibvirtd *d, const char *fmt, ...)
{
    g_autofree char *why = NULL;
    g_autofree char *tail = vsTestLibvirtdLogTail(d);
    va_list ap;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    vsTestLibvirtdKill(d);
    ck_abort_msg("private libvirtd in '%s': %s\n--- libvirtd.log (tail) ---\n%s",
                 d->dir, why, tail);
    abort();    /* not reached: ck_abort_msg does not return */
}

/* TRUE when the script has exited (and reap it). */
static gboolean
vsTestLibvirtdReaped(vsTestLibvirtd *d, int *ret_status)
{
    int status = 0;
    pid_t r;

    if (!d->pid)
        return TRUE;
    r = waitpid(d->pid, &status, WNOHANG);
    if (r == 0)
        return FALSE;
    if (r < 0 && errno == EINTR)
        return FALSE;
    d->pid = 0;
    if (ret_status)
        *ret_status = status;
    return TRUE;
}

static void
vsTestLibvirtdSpawn(vsTestLibvirtd *d)
{
    g_autofree char *script = g_build_filename(vsTestSrcDir(), "tests", "private-libvirtd",
                                               NULL);
    g_autofree char *urifile = g_build_filename(d->dir, "uri", NULL);
    const char *argv[] = { script, d->dir, NULL };
    g_autoptr(GError) error = NULL;
    gint64 deadline = g_get_monotonic_time() + (gint64)VS_TEST_LIBVIRTD_START_MS * 1000;

    virSetErrorFunc(NULL, vsTestLibvirtdQuiet);
    g_unlink(urifile);
    g_clear_pointer(&d->uri, g_free);
    if (!g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                       NULL, NULL, &d->pid, &error))
        vsTestLibvirtdFail(d, "cannot run '%s': %s", script, error->message);

    for (;;) {
        g_autofree char *text = NULL;
        int status;

        if (vsTestLibvirtdReaped(d, &status))
            vsTestLibvirtdFail(d, "'%s' exited with status %d", script,
                               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        if (!d->uri && g_file_get_contents(urifile, &text, NULL, NULL) && *text)
            d->uri = g_strdup(g_strstrip(text));
        if (d->uri) {
            virConnectPtr conn = virConnectOpen(d->uri);

            if (conn) {
                virConnectClose(conn);
                return;
            }
            virResetLastError();
        }
        if (g_get_monotonic_time() >= deadline)
            vsTestLibvirtdFail(d, "no answer on '%s' within %d ms",
                               d->uri ? d->uri : "(no uri yet)", VS_TEST_LIBVIRTD_START_MS);
        g_usleep(100 * 1000);
    }
}

vsTestLibvirtd *
vsTestLibvirtdStart(void)
{
    vsTestLibvirtd *d = g_new0(vsTestLibvirtd, 1);

    d->dir = vsTestMakeTempDir("vs-libvirtd-XXXXXX");
    vsTestLibvirtdSpawn(d);
    return d;
}

const char *
vsTestLibvirtdURI(vsTestLibvirtd *d)
{
    return d->uri;
}

const char *
vsTestLibvirtdDir(vsTestLibvirtd *d)
{
    return d->dir;
}

void
vsTestLibvirtdKill(vsTestLibvirtd *d)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)VS_TEST_LIBVIRTD_STOP_MS * 1000;

    if (!d->pid)
        return;
    /* SIGTERM: the script stops libvirtd and the namespace dies with it. */
    kill(d->pid, SIGTERM);
    while (!vsTestLibvirtdReaped(d, NULL)) {
        if (g_get_monotonic_time() >= deadline) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, NULL, 0);
            d->pid = 0;
            break;
        }
        g_usleep(20 * 1000);
    }
}

void
vsTestLibvirtdRestart(vsTestLibvirtd *d)
{
    vsTestLibvirtdKill(d);
    vsTestLibvirtdSpawn(d);
}

void
vsTestLibvirtdStop(vsTestLibvirtd *d)
{
    if (!d)
        return;
    vsTestLibvirtdKill(d);
    vsTestRemoveTree(d->dir);
    g_free(d->dir);
    g_free(d->uri);
    g_free(d);
}

char *
vsTestRunOut(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL,
                      NULL, NULL, &out, &err, &status, &error))
        ck_abort_msg("cannot run %s: %s", argv[0], error->message);
    if (!g_spawn_check_wait_status(status, &error))
        ck_abort_msg("%s %s failed: %s: %s", argv[0], argv[1] ? argv[1] : "", error->message, err);
    return g_steal_pointer(&out);
}

void
vsTestRun(const char *const *argv)
{
    g_free(vsTestRunOut(argv));
}

char *
vsTestTinyGuestXML(const char *guest_dir, const char *name, const char *uuid,
                   guint memory_kib, guint vcpus, guint current_vcpus)
{
    g_autofree char *tmpl_path = g_build_filename(vsTestSrcDir(), "contrib", "guest",
                                                  "tiny-guest.xml.in", NULL);
    g_autofree char *tmpl = NULL;
    g_autoptr(GString) xml = NULL;
    g_autofree char *kernel = g_build_filename(guest_dir, "vmlinux", NULL);
    g_autofree char *initrd = g_build_filename(guest_dir, "initrd.img", NULL);
    g_autofree char *disk = g_build_filename(guest_dir, "overlay.qcow2", NULL);
    g_autofree char *console = g_build_filename(guest_dir, "console.log", NULL);
    g_autofree char *memory = g_strdup_printf("%u", memory_kib);
    g_autofree char *nvcpus = g_strdup_printf("%u", vcpus);
    g_autofree char *ncurrent = g_strdup_printf("%u", current_vcpus);

    ck_assert(g_file_get_contents(tmpl_path, &tmpl, NULL, NULL));
    xml = g_string_new(tmpl);
    g_string_replace(xml, "@NAME@", name, 0);
    if (uuid) {
        g_autofree char *with_uuid = g_strdup_printf("</name>\n  <uuid>%s</uuid>", uuid);

        g_string_replace(xml, "</name>", with_uuid, 1);
    }
    g_string_replace(xml, "@KERNEL@", kernel, 0);
    g_string_replace(xml, "@INITRD@", initrd, 0);
    g_string_replace(xml, "@DISK@", disk, 0);
    g_string_replace(xml, "@CONSOLE_LOG@", console, 0);
    g_string_replace(xml, "@MEMORY_KIB@", memory, 0);
    g_string_replace(xml, "@CURRENT_MEMORY_KIB@", memory, 0);
    g_string_replace(xml, "@VCPUS@", nvcpus, 0);
    g_string_replace(xml, "@CURRENT_VCPUS@", ncurrent, 0);
    ck_assert_msg(!strchr(xml->str, '@'), "unfilled placeholder in %s", tmpl_path);
    return g_string_free(g_steal_pointer(&xml), FALSE);
}
