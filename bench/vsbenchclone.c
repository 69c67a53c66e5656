/*
 * vsbenchclone.c: a shadow's linked clone against a full copy of its base
 *
 * Issue 6: "time linked-clone creation against a full copy of the same
 * base at base sizes of 64 MiB, 1 GiB and 4 GiB.  Target: clone time stays
 * flat (< 200 ms) while the full copy grows with size."
 *
 * In one run, on the same bases (raw and qcow2, filled with pseudo-random
 * data so that no copy can skip zeroes or holes), each repetition times,
 * one after the other:
 *  - linked clone: vsHypervisorCreateOverlay, our code path (libvirt's
 *    storage API on a private libvirtd, a dir pool), then
 *    vsHypervisorDeleteVolume of the overlay;
 *  - reference: "qemu-img create -f qcow2 -b BASE -F FMT" by hand;
 *  - full copy: "qemu-img convert -O qcow2 BASE COPY";
 *  - full copy: virt-clone (Debian's virtinst) of a domain defined on the
 *    private libvirtd with the base as its disk, when virt-clone is there.
 *    It keeps the base's format: libvirt runs qemu-img convert for qcow2
 *    and copies a raw file itself.
 * Times are wall clock, including process start-up for the tools (the
 * Python start-up of virt-clone too: that is what an admin waits for).
 *
 * Warm cache: the page cache cannot be dropped reliably on a shared host,
 * so the bases are flushed to disk and stay cached; the figures are warm
 * figures.  Each copy is deleted and the filesystem synced (untimed)
 * before the next measurement, so no writeback of one lands in another.
 * qemu-img convert writes with cache=unsafe (its default: no flush at the
 * end), so its time is a lower bound on a durable copy.
 *
 * The work directory must not lie under /var/lib/libvirt and friends: the
 * private libvirtd has its own copies of those directories.  Everything
 * (bases, copies, the daemon with its pools and domains) is removed at the
 * end, on failure, and on SIGINT/SIGTERM; --keep keeps the directory.
 *
 * Usage: bench/vsbenchclone [--sizes 64M,1G,4G] [--repeat 5] [--dir /var/tmp] [--keep]
 * Needs root (the private libvirtd) and about 3x the largest size free.
 */
#define _GNU_SOURCE             /* syncfs */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "vstestutils.h"
#include "hypervisor/vshypervisor.h"
#include "libvirt/vslibvirt.h"

#define BENCH_TARGET_MS 200.0
#define BENCH_DEFAULT_SIZES "64M,1G,4G"
#define BENCH_DEFAULT_REPEAT 5
#define BENCH_DEFAULT_DIR "/var/tmp"
#define BENCH_IMAGES_DIR "/var/lib/libvirt/images"
#define BENCH_LIBVIRTD_START_MS 20000
#define BENCH_LIBVIRTD_STOP_MS 10000
#define BENCH_CHUNK (4 * 1024 * 1024)
#define BENCH_SPACE_SLACK (256ULL * 1024 * 1024)
#define BENCH_DOMAIN_PREFIX "vs-benchclone-"
#define BENCH_MIB (1024.0 * 1024.0)

typedef enum {
    BENCH_LINKED,               /* vsHypervisorCreateOverlay */
    BENCH_DELETE,               /* vsHypervisorDeleteVolume of that overlay */
    BENCH_QEMU_IMG_CREATE,
    BENCH_CONVERT,
    BENCH_VIRT_CLONE,
    BENCH_LAST
} benchMethod;

static const char *const benchMethodTitle[BENCH_LAST] = {
    "linked clone", "delete overlay", "qemu-img create", "qemu-img convert", "virt-clone",
};

static const char *const benchFormats[] = { "qcow2", "raw" };
#define BENCH_NFORMATS G_N_ELEMENTS(benchFormats)

/* One base: a size in one format, and its measurements in ms. */
typedef struct {
    guint64 size;
    const char *format;
    gboolean skipped;
    double warmup_ms;           /* the first overlay on this base, untimed */
    GArray *ms[BENCH_LAST];
} benchRow;

/* Everything cleanup has to undo. */
typedef struct {
    char *dir;                  /* our work directory, removed at the end */
    char *bases;
    char *overlays;
    char *copies;
    char *daemon_dir;
    char *uri;
    GPid daemon;                /* tests/private-libvirtd; 0 when not running */
    vsHypervisor *hv;
    GPtrArray *domains;         /* names we defined */
    gboolean keep;
} benchState;

static benchState bench;
static volatile sig_atomic_t benchSignal;
static volatile pid_t benchChild;

static void
benchOnSignal(int sig)
{
    benchSignal = sig;
    /* a copy of 4 GiB takes a while: stop it so cleanup runs now */
    if (benchChild > 0)
        kill(benchChild, SIGTERM);
}

static void
benchInstallSignals(void)
{
    struct sigaction sa = { 0 };

    sa.sa_handler = benchOnSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* --- cleanup ---------------------------------------------------------- */

static gboolean
benchDaemonReaped(void)
{
    pid_t r;

    if (!bench.daemon)
        return TRUE;
    r = waitpid(bench.daemon, NULL, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return FALSE;
    bench.daemon = 0;
    return TRUE;
}

/* SIGTERM to the script stops libvirtd; its namespace takes the rest. */
static void
benchDaemonStop(void)
{
    gint64 deadline = g_get_monotonic_time() + BENCH_LIBVIRTD_STOP_MS * 1000LL;

    if (!bench.daemon)
        return;
    kill(bench.daemon, SIGTERM);
    while (!benchDaemonReaped()) {
        if (g_get_monotonic_time() >= deadline) {
            kill(bench.daemon, SIGKILL);
            waitpid(bench.daemon, NULL, 0);
            bench.daemon = 0;
            return;
        }
        g_usleep(20 * 1000);
    }
}

/* Undefine the domains we defined; FALSE when one would not go. */
static gboolean
benchUndefineDomains(void)
{
    gboolean ok = TRUE;

    if (!bench.hv || !bench.domains)
        return TRUE;
    for (guint i = 0; i < bench.domains->len; i++) {
        g_autoptr(GError) error = NULL;
        const char *name = g_ptr_array_index(bench.domains, i);

        if (!vsHypervisorUndefineDomain(bench.hv, name, &error)) {
            fprintf(stderr, "vsbenchclone: cannot undefine '%s': %s\n", name, error->message);
            ok = FALSE;
        }
    }
    g_ptr_array_set_size(bench.domains, 0);
    return ok;
}

/* Undo everything, whatever state we are in; safe to call twice. */
static void
benchCleanup(void)
{
    benchUndefineDomains();
    g_clear_pointer(&bench.domains, g_ptr_array_unref);
    g_clear_pointer(&bench.hv, vsHypervisorFree);
    benchDaemonStop();
    if (bench.dir) {
        if (bench.keep)
            printf("kept '%s'\n", bench.dir);
        else
            vsTestRemoveTree(bench.dir);
    }
    g_clear_pointer(&bench.dir, g_free);
}

static void G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN
benchFail(const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
    if (benchSignal)
        fprintf(stderr, "vsbenchclone: interrupted by signal %d (%s)\n", (int)benchSignal, msg);
    else
        fprintf(stderr, "vsbenchclone: %s\n", msg);
    benchCleanup();
    exit(EXIT_FAILURE);
}

static void
benchCheckSignal(void)
{
    if (benchSignal)
        benchFail("stopped between measurements");
}

/* --- small helpers ------------------------------------------------------ */

static double
benchMs(gint64 start_us)
{
    return (g_get_monotonic_time() - start_us) / 1e3;
}

/* Run @argv; its wall time in ms, or -1 with @error naming the command
 * and carrying its stderr. */
static double
benchRun(const char *const *argv, GError **error)
{
    g_autoptr(GSubprocess) proc = NULL;
    g_autofree char *err = NULL;
    gint64 start = g_get_monotonic_time();
    double ms;

    proc = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                             G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
    if (!proc)
        return -1;
    benchChild = atoi(g_subprocess_get_identifier(proc));
    if (!g_subprocess_communicate_utf8(proc, NULL, NULL, NULL, &err, error)) {
        benchChild = 0;
        return -1;
    }
    benchChild = 0;
    ms = benchMs(start);
    if (!g_subprocess_get_successful(proc)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "'%s' failed: %s", argv[0],
                    err && *err ? g_strstrip(err) : "(nothing on stderr)");
        return -1;
    }
    return ms;
}

/* The first line @argv prints, or "unknown". */
static char *
benchToolVersion(const char *const *argv)
{
    g_autofree char *out = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out, NULL, NULL, NULL) || !out || !*out)
        return g_strdup("unknown");
    lines = g_strsplit(out, "\n", 2);
    return g_strdup(g_strstrip(lines[0]));
}

/* Flush the filesystem of @dir, so no writeback lands in the next timing. */
static void
benchSyncFs(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return;
    if (syncfs(fd) < 0)
        fprintf(stderr, "vsbenchclone: syncfs '%s': %s\n", dir, g_strerror(errno));
    close(fd);
}

static guint64
benchFreeBytes(const char *dir)
{
    struct statvfs st;

    if (statvfs(dir, &st) < 0)
        return 0;
    return (guint64)st.f_bavail * st.f_frsize;
}

static char *
benchSizeString(guint64 bytes)
{
    if (bytes % (1ULL << 30) == 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT "G", bytes >> 30);
    if (bytes % (1ULL << 20) == 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT "M", bytes >> 20);
    return g_strdup_printf("%" G_GUINT64_FORMAT "K", bytes >> 10);
}

/* "64M", "1G", "512K": a positive multiple of 1 MiB up to 1 TiB. */
static gboolean
benchParseSize(const char *s, guint64 *ret)
{
    guint64 n;
    char *end;
    guint shift;

    if (!g_ascii_isdigit(*s))
        return FALSE;
    errno = 0;
    n = g_ascii_strtoull(s, &end, 10);
    if (errno)
        return FALSE;
    switch (g_ascii_toupper(*end)) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    default: return FALSE;
    }
    if (end[1] && !(g_ascii_toupper(end[1]) == 'I' && end[2] == 'B' && !end[3]))
        return FALSE;
    if (n == 0 || n > (1ULL << 40) >> shift || ((n << shift) & ((1ULL << 20) - 1)))
        return FALSE;
    *ret = n << shift;
    return TRUE;
}

static gint
benchCompareDouble(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Median, min and max of @v; FALSE when it is empty. */
static gboolean
benchStats(GArray *v, double *ret_median, double *ret_min, double *ret_max)
{
    g_autoptr(GArray) s = NULL;
    guint n = v ? v->len : 0;

    if (n == 0)
        return FALSE;
    s = g_array_copy(v);
    g_array_sort(s, benchCompareDouble);
    *ret_median = n % 2 ? g_array_index(s, double, n / 2)
                        : (g_array_index(s, double, n / 2 - 1) + g_array_index(s, double, n / 2)) / 2;
    *ret_min = g_array_index(s, double, 0);
    *ret_max = g_array_index(s, double, n - 1);
    return TRUE;
}

static double
benchMedian(GArray *v)
{
    double med, lo, hi;

    return benchStats(v, &med, &lo, &hi) ? med : -1;
}

/* --- the private libvirtd ------------------------------------------------ */

/* Its own process group: a ^C on the terminal reaches us, and we stop the
 * daemon after undefining our domains (it dies with us in any case). */
static void
benchDaemonSetup(gpointer opaque)
{
    setpgid(0, 0);
}

static void
benchDaemonStart(void)
{
    g_autofree char *script = g_build_filename(vsTestSrcDir(), "tests", "private-libvirtd", NULL);
    g_autofree char *urifile = g_build_filename(bench.daemon_dir, "uri", NULL);
    const char *argv[] = { script, bench.daemon_dir, NULL };
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time();
    gint64 deadline = start + BENCH_LIBVIRTD_START_MS * 1000LL;

    if (!g_spawn_async(NULL, (char **)argv, NULL,
                       G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                       benchDaemonSetup, NULL, &bench.daemon, &error))
        benchFail("cannot run '%s': %s", script, error->message);
    for (;;) {
        g_autofree char *text = NULL;

        if (benchDaemonReaped())
            benchFail("'%s' exited early: see '%s/log/libvirtd.log' (run with --keep)",
                      script, bench.daemon_dir);
        if (!bench.uri && g_file_get_contents(urifile, &text, NULL, NULL) && *text)
            bench.uri = g_strdup(g_strstrip(text));
        if (bench.uri) {
            g_clear_error(&error);
            if ((bench.hv = vsHypervisorOpen(bench.uri, NULL, &error)))
                break;
        }
        if (g_get_monotonic_time() >= deadline)
            benchFail("private libvirtd: no answer on '%s' within %d ms: %s",
                      bench.uri ? bench.uri : "(no uri yet)", BENCH_LIBVIRTD_START_MS,
                      error ? error->message : "no URI written");
        benchCheckSignal();
        g_usleep(100 * 1000);
    }
    printf("private libvirtd: %s, answered in %.0f ms\n", bench.uri, benchMs(start));
}

/* --- bases ------------------------------------------------------------------ */

/* @bytes of xorshift64* output into @path, flushed: no zero block, no hole. */
static void
benchWriteRandom(const char *path, guint64 bytes, guint64 seed)
{
    g_autofree guint64 *buf = g_malloc(BENCH_CHUNK);
    guint64 x = seed | 1;
    guint64 done = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0)
        benchFail("cannot create '%s': %s", path, g_strerror(errno));
    while (done < bytes) {
        gsize len = MIN(BENCH_CHUNK, bytes - done);
        gsize off = 0;

        for (gsize i = 0; i < len / sizeof(guint64); i++) {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            buf[i] = x * 0x2545F4914F6CDD1DULL;
        }
        while (off < len) {
            ssize_t n = write(fd, (char *)buf + off, len - off);

            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                int saved = errno;

                close(fd);
                benchFail("cannot write '%s': %s", path, g_strerror(saved));
            }
            off += n;
        }
        done += len;
        benchCheckSignal();
    }
    if (fsync(fd) < 0 || close(fd) < 0)
        benchFail("cannot flush '%s': %s", path, g_strerror(errno));
}

static char *
benchBasePath(guint64 size, const char *format)
{
    g_autofree char *sz = benchSizeString(size);
    g_autofree char *name = g_strdup_printf("base-%s.%s", sz, format);

    return g_build_filename(bench.bases, name, NULL);
}

static char *
benchDomainName(const char *format)
{
    return g_strdup_printf(BENCH_DOMAIN_PREFIX "%s", format);
}

/* The raw base filled with data, and a qcow2 base converted from it. */
static void
benchMakeBases(guint64 size)
{
    g_autofree char *raw = benchBasePath(size, "raw");
    g_autofree char *qcow2 = benchBasePath(size, "qcow2");
    const char *convert[] = { "qemu-img", "convert", "-q", "-t", "writeback", "-f", "raw",
                              "-O", "qcow2", raw, qcow2, NULL };
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time();

    benchWriteRandom(raw, size, 0x9e3779b97f4a7c15ULL ^ size);
    if (benchRun(convert, &error) < 0)
        benchFail("cannot make the qcow2 base: %s", error->message);
    benchSyncFs(bench.bases);
    printf("  bases of %.0f MiB written and flushed in %.1f s (raw, then qcow2 from it)\n",
           size / BENCH_MIB, benchMs(start) / 1e3);
}

/* Define the domain virt-clone copies: one disk, the base. */
static void
benchDefineDomain(const char *format, const char *base)
{
    g_autofree char *name = benchDomainName(format);
    g_autofree char *xml = NULL;
    g_autofree char *got = NULL;
    g_autoptr(GError) error = NULL;

    xml = g_strdup_printf("<domain type='qemu'><name>%s</name>"
                          "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                          "<os><type arch='x86_64'>hvm</type></os>"
                          "<devices><disk type='file' device='disk'>"
                          "<driver name='qemu' type='%s'/><source file='%s'/>"
                          "<target dev='vda' bus='virtio'/></disk>"
                          "<memballoon model='none'/></devices></domain>",
                          name, format, base);
    if (!(got = vsHypervisorDefineDomainXML(bench.hv, xml, &error)))
        benchFail("cannot define domain '%s': %s", name, error->message);
    g_ptr_array_add(bench.domains, g_steal_pointer(&got));
}

/* --- one measurement of each method ------------------------------------------- */

static void
benchAdd(benchRow *row, benchMethod m, double ms)
{
    g_array_append_val(row->ms[m], ms);
}

/* One overlay made and deleted; @warmup: only its making is kept, apart. */
static void
benchLinked(benchRow *row, const char *base, gboolean warmup)
{
    const char *name = "vs-shadow-bench-vda.qcow2";
    g_autofree char *path = NULL;
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time();
    double ms;

    if (!vsHypervisorCreateOverlay(bench.hv, base, bench.overlays, name, &path, &error))
        benchFail("linked clone of '%s': %s", base, error->message);
    ms = benchMs(start);
    if (warmup)
        row->warmup_ms = ms;
    else
        benchAdd(row, BENCH_LINKED, ms);
    start = g_get_monotonic_time();
    if (!vsHypervisorDeleteVolume(bench.hv, path, &error))
        benchFail("cannot delete overlay '%s': %s", path, error->message);
    if (!warmup)
        benchAdd(row, BENCH_DELETE, benchMs(start));
    if (g_file_test(path, G_FILE_TEST_EXISTS))
        benchFail("overlay '%s' still exists after vsHypervisorDeleteVolume", path);
}

static void
benchQemuImgCreate(benchRow *row, const char *base)
{
    g_autofree char *path = g_build_filename(bench.copies, "overlay.qcow2", NULL);
    const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-b", base,
                           "-F", row->format, path, NULL };
    g_autoptr(GError) error = NULL;
    double ms = benchRun(argv, &error);

    if (ms < 0)
        benchFail("%s", error->message);
    benchAdd(row, BENCH_QEMU_IMG_CREATE, ms);
    g_unlink(path);
}

/* A full copy must really hold the data: warn when it is mostly holes. */
static void
benchCheckAllocated(const char *path, guint64 size, const char *what)
{
    struct stat st;

    if (g_stat(path, &st) < 0)
        benchFail("%s made no '%s'", what, path);
    if ((guint64)st.st_blocks * 512 < size / 10 * 9)
        printf("  NOTE: %s's copy '%s' allocates only %.0f of %.0f MiB\n", what, path,
               st.st_blocks * 512 / BENCH_MIB, size / BENCH_MIB);
}

static void
benchConvert(benchRow *row, const char *base, gboolean check)
{
    g_autofree char *path = g_build_filename(bench.copies, "copy.qcow2", NULL);
    const char *argv[] = { "qemu-img", "convert", "-q", "-f", row->format, "-O", "qcow2",
                           base, path, NULL };
    g_autoptr(GError) error = NULL;
    double ms = benchRun(argv, &error);

    if (ms < 0)
        benchFail("%s", error->message);
    benchAdd(row, BENCH_CONVERT, ms);
    if (check)
        benchCheckAllocated(path, row->size, "qemu-img convert");
    g_unlink(path);
    benchSyncFs(bench.copies);
}

/* virt-clone of the base's domain; on failure the reason goes to
 * *@disabled and the column is skipped from then on. */
static void
benchVirtClone(benchRow *row, guint rep, char **disabled)
{
    g_autofree char *orig = benchDomainName(row->format);
    g_autofree char *clone = g_strdup_printf("%s-c%u", orig, rep);
    g_autofree char *file = g_strdup_printf("vc%u.%s", rep, row->format);
    g_autofree char *path = g_build_filename(bench.copies, file, NULL);
    const char *argv[] = { "virt-clone", "--connect", bench.uri, "--original", orig,
                           "--name", clone, "--file", path, NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) cleanup = NULL;
    g_autoptr(vsDomainInfo) made = NULL;
    double ms;

    if (*disabled)
        return;
    if ((ms = benchRun(argv, &error)) < 0) {
        *disabled = g_strdup_printf("virt-clone failed: %s", error->message);
        printf("  NOTE: %s; that column is skipped from here on\n", *disabled);
    } else {
        benchAdd(row, BENCH_VIRT_CLONE, ms);
        if (rep == 0)
            benchCheckAllocated(path, row->size, "virt-clone");
    }
    /* whatever virt-clone got done is ours to remove */
    if ((made = vsHypervisorLookupDomain(bench.hv, clone, NULL)) &&
        !vsHypervisorUndefineDomain(bench.hv, clone, &cleanup))
        benchFail("cannot undefine clone '%s': %s", clone, cleanup->message);
    if (!vsHypervisorDeleteVolume(bench.hv, path, &cleanup))
        benchFail("cannot delete clone volume '%s': %s", path, cleanup->message);
    g_unlink(path);
    benchSyncFs(bench.copies);
}

/* --- one size --------------------------------------------------------------------- */

static gboolean
benchHasSpace(guint64 size)
{
    guint64 need = 3 * size + BENCH_SPACE_SLACK;       /* raw + qcow2 base + one copy */
    guint64 have = benchFreeBytes(bench.dir);
    g_autofree char *sz = benchSizeString(size);

    if (have >= need)
        return TRUE;
    printf("size %s SKIPPED: needs %.1f GiB free in '%s', %.1f GiB are\n", sz,
           need / (BENCH_MIB * 1024), bench.dir, have / (BENCH_MIB * 1024));
    return FALSE;
}

static void
benchSize(benchRow *rows, guint repeat, char **virt_clone_disabled)
{
    guint64 size = rows[0].size;
    g_autofree char *sz = benchSizeString(size);

    printf("size %s:\n", sz);
    benchMakeBases(size);
    for (guint f = 0; f < BENCH_NFORMATS; f++) {
        g_autofree char *base = benchBasePath(size, benchFormats[f]);

        benchDefineDomain(benchFormats[f], base);
        /* the first overlay on a new base refreshes the pools: untimed */
        benchLinked(&rows[f], base, TRUE);
    }
    for (guint rep = 0; rep < repeat; rep++) {
        for (guint f = 0; f < BENCH_NFORMATS; f++) {
            g_autofree char *base = benchBasePath(size, benchFormats[f]);

            benchLinked(&rows[f], base, FALSE);
            benchQemuImgCreate(&rows[f], base);
            benchConvert(&rows[f], base, rep == 0);
            benchVirtClone(&rows[f], rep, virt_clone_disabled);
            benchCheckSignal();
        }
        printf("  repetition %u/%u done\n", rep + 1, repeat);
        fflush(stdout);
    }
    if (!benchUndefineDomains())
        benchFail("cannot undefine the domains of size %s", sz);
    for (guint f = 0; f < BENCH_NFORMATS; f++) {
        g_autofree char *base = benchBasePath(size, benchFormats[f]);

        g_unlink(base);
    }
}

/* --- report ---------------------------------------------------------------------------- */

static char *
benchCell(GArray *v)
{
    double med, lo, hi;

    if (!benchStats(v, &med, &lo, &hi))
        return g_strdup("-");
    if (hi < 1000)
        return g_strdup_printf("%.1f (%.1f-%.1f)", med, lo, hi);
    return g_strdup_printf("%.0f (%.0f-%.0f)", med, lo, hi);
}

static char *
benchRatio(GArray *full, GArray *linked)
{
    double f = benchMedian(full), l = benchMedian(linked);

    if (f < 0 || l <= 0)
        return g_strdup("-");
    return g_strdup_printf(f / l < 10 ? "%.1fx" : "%.0fx", f / l);
}

static void
benchPrintTable(benchRow *rows, guint nrows, guint repeat)
{
    printf("\nwall ms, median (min-max) of %u, warm page cache:\n", repeat);
    printf("%-5s %-5s", "size", "base");
    for (guint m = 0; m < BENCH_LAST; m++)
        printf(" %-20s", benchMethodTitle[m]);
    printf(" %-12s %s\n", "convert/link", "virt-clone/link");
    for (guint i = 0; i < nrows; i++) {
        g_autofree char *sz = benchSizeString(rows[i].size);
        g_autofree char *r1 = NULL;
        g_autofree char *r2 = NULL;

        printf("%-5s %-5s", sz, rows[i].format);
        if (rows[i].skipped) {
            printf(" skipped: not enough free space\n");
            continue;
        }
        for (guint m = 0; m < BENCH_LAST; m++) {
            g_autofree char *cell = benchCell(rows[i].ms[m]);

            printf(" %-20s", cell);
        }
        r1 = benchRatio(rows[i].ms[BENCH_CONVERT], rows[i].ms[BENCH_LINKED]);
        r2 = benchRatio(rows[i].ms[BENCH_VIRT_CLONE], rows[i].ms[BENCH_LINKED]);
        printf(" %-12s %s\n", r1, r2);
    }
    printf("first linked clone on each new base (pool refresh, not in the table):");
    for (guint i = 0; i < nrows; i++) {
        g_autofree char *sz = benchSizeString(rows[i].size);

        if (!rows[i].skipped)
            printf(" %s %s %.1f ms;", sz, rows[i].format, rows[i].warmup_ms);
    }
    printf("\n");
}

/* How the median grew from @small to @large: "x12.3", or "-". */
static char *
benchGrowth(GArray *small, GArray *large)
{
    double a = benchMedian(small), b = benchMedian(large);

    if (a <= 0 || b < 0)
        return g_strdup("-");
    return g_strdup_printf("x%.2f", b / a);
}

/* How each method grew from the smallest measured size to the largest,
 * for bases of @format. */
static void
benchPrintGrowth(benchRow *rows, guint nrows, const char *format)
{
    benchRow *first = NULL, *last = NULL;
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;
    g_autofree char *ln = NULL;
    g_autofree char *cv = NULL;
    g_autofree char *vc = NULL;

    for (guint i = 0; i < nrows; i++) {
        if (rows[i].skipped || !g_str_equal(rows[i].format, format))
            continue;
        if (!first)
            first = &rows[i];
        last = &rows[i];
    }
    if (!first || first == last)
        return;
    a = benchSizeString(first->size);
    b = benchSizeString(last->size);
    ln = benchGrowth(first->ms[BENCH_LINKED], last->ms[BENCH_LINKED]);
    cv = benchGrowth(first->ms[BENCH_CONVERT], last->ms[BENCH_CONVERT]);
    vc = benchGrowth(first->ms[BENCH_VIRT_CLONE], last->ms[BENCH_VIRT_CLONE]);
    printf("%s base %s -> %s (x%.0f the data): linked clone %s, qemu-img convert %s, "
           "virt-clone %s\n", format, a, b, (double)last->size / first->size, ln, cv, vc);
}

/* The verdict on the target, judged on the medians at every size. */
static void
benchVerdict(benchRow *rows, guint nrows)
{
    double worst_med = 0, worst_max = 0;
    gboolean all = TRUE;
    gboolean met;

    for (guint i = 0; i < nrows; i++) {
        double med, lo, hi;

        if (rows[i].skipped || !benchStats(rows[i].ms[BENCH_LINKED], &med, &lo, &hi)) {
            all = FALSE;
            continue;
        }
        worst_med = MAX(worst_med, med);
        worst_max = MAX(worst_max, hi);
    }
    met = all && worst_med < BENCH_TARGET_MS;
    printf("linked clone under %.0f ms at every size: %s (worst median %.1f ms, worst single "
           "%.1f ms)%s%s\n", BENCH_TARGET_MS, met ? "yes" : "NO", worst_med, worst_max,
           all ? "" : "; a size was skipped", met ? "" : "  ** MISSED **");
    for (guint f = 0; f < BENCH_NFORMATS; f++)
        benchPrintGrowth(rows, nrows, benchFormats[f]);
}

/* --- setup ------------------------------------------------------------------------------------ */

/* The private libvirtd mounts its own copies over these. */
static const char *const benchHiddenDirs[] = {
    "/etc/libvirt", "/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt",
};

static gboolean
benchDirHidden(const char *dir)
{
    g_autofree char *canon = g_canonicalize_filename(dir, "/");

    for (guint i = 0; i < G_N_ELEMENTS(benchHiddenDirs); i++) {
        gsize n = strlen(benchHiddenDirs[i]);

        if (g_str_has_prefix(canon, benchHiddenDirs[i]) && (canon[n] == '/' || !canon[n]))
            return TRUE;
    }
    return FALSE;
}

/* Whether @dir shares a filesystem with where libvirt keeps images. */
static void
benchPrintDisk(const char *parent)
{
    g_autofree char *images = g_strdup(BENCH_IMAGES_DIR);
    struct stat a, b;

    while (g_stat(images, &b) < 0 && strcmp(images, "/") != 0) {
        char *up = g_path_get_dirname(images);

        g_free(images);
        images = up;
    }
    if (g_stat(parent, &a) < 0)
        benchFail("cannot stat '%s': %s", parent, g_strerror(errno));
    printf("work directory in '%s': %s filesystem as '%s', %.1f GiB free\n", parent,
           a.st_dev == b.st_dev ? "same" : "NOT the same", images,
           benchFreeBytes(parent) / (BENCH_MIB * 1024));
}

static void
benchMakeDirs(const char *parent)
{
    g_autofree char *tmpl = g_build_filename(parent, "vs-benchclone-XXXXXX", NULL);

    if (!g_mkdtemp(tmpl))
        benchFail("cannot create a directory in '%s': %s", parent, g_strerror(errno));
    bench.dir = g_steal_pointer(&tmpl);
    bench.bases = g_build_filename(bench.dir, "bases", NULL);
    bench.overlays = g_build_filename(bench.dir, "overlays", NULL);
    bench.copies = g_build_filename(bench.dir, "copies", NULL);
    bench.daemon_dir = g_build_filename(bench.dir, "libvirtd", NULL);
    if (g_mkdir(bench.bases, 0755) < 0 || g_mkdir(bench.overlays, 0755) < 0 ||
        g_mkdir(bench.copies, 0755) < 0 || g_mkdir(bench.daemon_dir, 0700) < 0)
        benchFail("cannot create directories in '%s': %s", bench.dir, g_strerror(errno));
}

static void
benchPrintContext(const char *virt_clone, const char *virt_clone_missing)
{
    const char *qimg[] = { "qemu-img", "--version", NULL };
    const char *vc[] = { "virt-clone", "--version", NULL };
    g_autofree char *qv = benchToolVersion(qimg);
    g_autofree char *vv = virt_clone ? benchToolVersion(vc) : NULL;
    g_autofree char *load = NULL;

    g_file_get_contents("/proc/loadavg", &load, NULL, NULL);
    printf("%s; virt-clone %s\n", qv, vv ? vv : virt_clone_missing);
    printf("load average at start: %s", load ? load : "unknown\n");
}

int
main(int argc, char **argv)
{
    g_autofree char *sizes_arg = NULL;
    g_autofree char *dir_arg = NULL;
    g_autofree char *virt_clone = NULL;
    g_autofree char *qemu_img = NULL;
    g_autofree char *disabled = NULL;
    g_autofree char *load = NULL;
    g_auto(GStrv) sizes = NULL;
    g_autoptr(GOptionContext) ctx = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree benchRow *rows = NULL;
    gint repeat = BENCH_DEFAULT_REPEAT;
    gboolean keep = FALSE;
    guint nsizes, nrows;
    GOptionEntry entries[] = {
        { "sizes", 0, 0, G_OPTION_ARG_STRING, &sizes_arg,
          "base sizes, comma-separated (K, M, G; multiples of 1M) [" BENCH_DEFAULT_SIZES "]",
          "LIST" },
        { "repeat", 0, 0, G_OPTION_ARG_INT, &repeat, "measurements per method and base [5]", "N" },
        { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir_arg,
          "where the work directory goes; not under /var/lib/libvirt [" BENCH_DEFAULT_DIR "]",
          "DIR" },
        { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, "keep the work directory", NULL },
        { NULL }
    };

    setvbuf(stdout, NULL, _IOLBF, 0);
    ctx = g_option_context_new("- time a linked clone against a full copy of a base");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc > 1) {
        fprintf(stderr, "vsbenchclone: %s\n", error ? error->message : "unexpected argument");
        return 2;
    }
    if (repeat < 1 || repeat > 1000) {
        fprintf(stderr, "vsbenchclone: --repeat '%d' is not between 1 and 1000\n", repeat);
        return 2;
    }
    sizes = g_strsplit(sizes_arg ? sizes_arg : BENCH_DEFAULT_SIZES, ",", -1);
    nsizes = g_strv_length(sizes);
    nrows = nsizes * BENCH_NFORMATS;
    rows = g_new0(benchRow, nrows);
    for (guint i = 0; i < nsizes; i++) {
        guint64 size;

        if (!benchParseSize(g_strstrip(sizes[i]), &size)) {
            fprintf(stderr, "vsbenchclone: size '%s' is not like 64M or 1G "
                    "(a multiple of 1 MiB)\n", sizes[i]);
            return 2;
        }
        for (guint f = 0; f < BENCH_NFORMATS; f++) {
            benchRow *row = &rows[i * BENCH_NFORMATS + f];

            row->size = size;
            row->format = benchFormats[f];
            for (guint m = 0; m < BENCH_LAST; m++)
                row->ms[m] = g_array_new(FALSE, FALSE, sizeof(double));
        }
    }
    if (nsizes == 0) {
        fprintf(stderr, "vsbenchclone: --sizes is empty\n");
        return 2;
    }
    if (!dir_arg)
        dir_arg = g_strdup(BENCH_DEFAULT_DIR);
    if (benchDirHidden(dir_arg)) {
        fprintf(stderr, "vsbenchclone: --dir '%s' is hidden from the private libvirtd "
                "by its own copy of libvirt's directories: choose another\n", dir_arg);
        return 2;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "vsbenchclone: must run as root (a private libvirtd with QEMU)\n");
        return EXIT_FAILURE;
    }
    if (!(qemu_img = g_find_program_in_path("qemu-img"))) {
        fprintf(stderr, "vsbenchclone: qemu-img not found (Debian package qemu-utils)\n");
        return EXIT_FAILURE;
    }
    if (!(virt_clone = g_find_program_in_path("virt-clone")))
        disabled = g_strdup("not found (Debian package virtinst: apt-get install virtinst)");

    bench.keep = keep;
    bench.domains = g_ptr_array_new_with_free_func(g_free);
    benchInstallSignals();
    vsHypervisorRegisterDriver(&vsLibvirtHypervisorDriver);

    printf("linked clone against full copy: sizes %s, %d repetitions\n",
           sizes_arg ? sizes_arg : BENCH_DEFAULT_SIZES, repeat);
    benchPrintContext(virt_clone, disabled);
    benchPrintDisk(dir_arg);
    benchMakeDirs(dir_arg);
    benchDaemonStart();

    for (guint i = 0; i < nsizes; i++) {
        benchRow *row = &rows[i * BENCH_NFORMATS];

        if (!benchHasSpace(row->size)) {
            for (guint f = 0; f < BENCH_NFORMATS; f++)
                row[f].skipped = TRUE;
            continue;
        }
        benchSize(row, repeat, &disabled);
    }

    benchPrintTable(rows, nrows, repeat);
    if (disabled)
        printf("virt-clone column skipped: %s\n", disabled);
    benchVerdict(rows, nrows);
    g_file_get_contents("/proc/loadavg", &load, NULL, NULL);
    printf("load average at end: %s", load ? load : "unknown\n");
    printf("qemu-img convert writes qcow2 with cache=unsafe (no flush): a lower bound on a "
           "durable copy; virt-clone keeps the base's format; the bases stay in the page "
           "cache (warm figures)\n");

    benchCleanup();
    for (guint i = 0; i < nrows; i++)
        for (guint m = 0; m < BENCH_LAST; m++)
            g_array_unref(rows[i].ms[m]);
    return EXIT_SUCCESS;
}
