/*
 * vsrunner.c: one shadow run, from linked clone to cleanup
 *
 * The run is a sequence of phases on the caller's thread; only the
 * resource sampler runs beside it, on its own thread and its own
 * hypervisor connection (a vsHypervisor belongs to the thread that opened
 * it).  Every phase takes its time from one deadline, so the whole run
 * never outlives opts->timeout_s, and cleanup runs whatever happened.
 */
#include <config.h>

#include <string.h>

#include "vsrunner.h"
#include "conf/vsdomainxml.h"
#include "conf/vsmetadata.h"
#include "hypervisor/vsguest.h"
#include "shadow/vsmanifest.h"
#include "shadow/vsoffline.h"
#include "shadow/vsprofile.h"
#include "shadow/vsrunlock.h"
#include "shadow/vsstage.h"
#include "util/vserror.h"
#include "util/vsutil.h"

#define VS_RUNNER_DPKG_STATUS "/var/lib/dpkg/status"
/* A dpkg status file larger than this is not read (a runaway). */
#define VS_RUNNER_DPKG_MAX (64 * 1024 * 1024)
/* A manifest's output, at most (the agent itself caps at 16 MiB). */
#define VS_RUNNER_SHUTDOWN_TIMEOUT_MS (60 * 1000)
#define VS_RUNNER_CLEANUP_POLL_US (100 * 1000)

static const char *const vsRunnerPhaseNames[] = {
    [VS_RUNNER_PHASE_CLONE] = "clone",
    [VS_RUNNER_PHASE_BOOT] = "boot",
    [VS_RUNNER_PHASE_STAGE] = "stage",
    [VS_RUNNER_PHASE_STEP] = "step",
    [VS_RUNNER_PHASE_SHUTDOWN] = "shutdown",
    [VS_RUNNER_PHASE_COMPARE] = "compare",
    [VS_RUNNER_PHASE_CLEANUP] = "cleanup",
};

const char *
vsRunnerPhaseToString(vsRunnerPhase phase)
{
    if ((guint)phase >= G_N_ELEMENTS(vsRunnerPhaseNames))
        return "unknown";
    return vsRunnerPhaseNames[phase];
}

void
vsShadowRunResultFree(vsShadowRunResult *res)
{
    if (!res)
        return;
    g_free(res->run_id);
    g_free(res->domain);
    g_free(res->failed_step);
    g_free(res->error);
    g_free(res->compare_skipped);
    g_clear_pointer(&res->disagreements, g_ptr_array_unref);
    g_clear_pointer(&res->steps, g_array_unref);
    g_free(res->kept_overlay);
    g_free(res->warning);
    g_free(res);
}

/* --- the sampler thread ----------------------------------------------------- */

typedef struct {
    GThread *thread;
    GMutex lock;
    GCond cond;
    gboolean stop;
    vsHypervisor *hv;           /* the sampler's own connection */
    char *domain;
    guint interval_ms;
    GArray *samples;            /* vsProfileSample, under @lock */
    GArray *memory_times;       /* gint64: when each sample's memory was measured */
    char *error;                /* the last read error, under @lock */
} vsRunnerSampler;

/* The guest's memory in use from @c, in KiB (0 when unknown), and when
 * the guest measured it.  Once the guest's balloon has reported, only its
 * figures count: the QEMU process's rss, the fallback while the guest
 * boots, is another measure.  The balloon's figures are as old as its
 * last-update (whole seconds), up to a stats period: taken as of the
 * middle of that second, so that memory a step freed is not charged to
 * the next one. */
static guint64
vsRunnerSampleMemory(const vsDomainCounters *c, gint64 now_us, gboolean *balloon_seen,
                     gint64 *ret_time_us)
{
    const guint32 stats = VS_COUNTER_BALLOON_AVAILABLE | VS_COUNTER_BALLOON_UNUSED;
    gboolean is_rss = FALSE;
    guint64 kib = 0;

    *ret_time_us = now_us;
    if ((c->present & stats) == stats) {
        *balloon_seen = TRUE;
        if ((c->present & VS_COUNTER_BALLOON_LAST_UPDATE) && c->balloon_last_update > 0)
            *ret_time_us = MIN(now_us, (gint64)c->balloon_last_update * G_USEC_PER_SEC +
                                       G_USEC_PER_SEC / 2);
    }
    if (!vsDomainCountersUsedKiB(c, &kib, &is_rss) || (is_rss && *balloon_seen))
        return 0;
    return kib;
}

static gpointer
vsRunnerSamplerMain(gpointer opaque)
{
    vsRunnerSampler *s = opaque;
    gboolean have_prev = FALSE;
    gboolean balloon_seen = FALSE;
    guint64 prev_cpu_ns = 0;
    gint64 prev_us = 0;
    gint64 next = g_get_monotonic_time();

    g_mutex_lock(&s->lock);
    while (!s->stop) {
        vsDomainCounters c = { 0 };
        g_autoptr(GError) local = NULL;
        gboolean ok;
        gint64 now_us;

        g_mutex_unlock(&s->lock);
        ok = vsHypervisorGetDomainCounters(s->hv, s->domain, &c, &local);
        now_us = g_get_real_time();
        g_mutex_lock(&s->lock);
        if (!ok) {
            g_free(s->error);
            s->error = g_strdup(local->message);
        } else if (c.present & VS_COUNTER_CPU_TIME) {
            /* the first reading is the baseline of the first interval */
            if (have_prev && now_us > prev_us && c.cpu_time_ns >= prev_cpu_ns) {
                vsProfileSample sample = { 0 };

                sample.time_us = now_us;
                sample.cpu_cores = (double)(c.cpu_time_ns - prev_cpu_ns) /
                    ((double)(now_us - prev_us) * 1000.0);
                gint64 memory_us = 0;

                sample.memory_kib = vsRunnerSampleMemory(&c, now_us, &balloon_seen, &memory_us);
                sample.disk_read_bytes = c.block_rd_bytes;
                sample.disk_write_bytes = c.block_wr_bytes;
                g_array_append_val(s->samples, sample);
                g_array_append_val(s->memory_times, memory_us);
            }
            have_prev = TRUE;
            prev_cpu_ns = c.cpu_time_ns;
            prev_us = now_us;
        }
        vsDomainCountersClear(&c);
        next += (gint64)s->interval_ms * 1000;
        if (next < g_get_monotonic_time())
            next = g_get_monotonic_time();
        while (!s->stop && g_cond_wait_until(&s->cond, &s->lock, next))
            ;
    }
    g_mutex_unlock(&s->lock);
    return NULL;
}

/* Start sampling @domain on a connection of its own to @uri. */
static vsRunnerSampler *
vsRunnerSamplerStart(const char *uri, const char *domain, guint interval_ms, GError **error)
{
    vsRunnerSampler *s = g_new0(vsRunnerSampler, 1);
    g_autoptr(GError) local = NULL;

    if (!(s->hv = vsHypervisorOpen(uri, NULL, &local))) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   "cannot open the sampler's connection: ");
        g_free(s);
        return NULL;
    }
    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);
    s->domain = g_strdup(domain);
    s->interval_ms = interval_ms;
    s->samples = g_array_new(FALSE, TRUE, sizeof(vsProfileSample));
    s->memory_times = g_array_new(FALSE, TRUE, sizeof(gint64));
    s->thread = g_thread_new("vs-shadow-sampler", vsRunnerSamplerMain, s);
    return s;
}

/* Stop the thread (at once: it waits on @cond) and free everything but
 * the samples and their memory times, which are returned. */
static GArray *
vsRunnerSamplerStop(vsRunnerSampler *s, GArray **ret_memory_times)
{
    GArray *samples;

    *ret_memory_times = NULL;
    if (!s)
        return NULL;
    g_mutex_lock(&s->lock);
    s->stop = TRUE;
    g_cond_signal(&s->cond);
    g_mutex_unlock(&s->lock);
    g_thread_join(s->thread);
    samples = s->samples;
    *ret_memory_times = s->memory_times;
    vsHypervisorFree(s->hv);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->cond);
    g_free(s->domain);
    g_free(s->error);
    g_free(s);
    return samples;
}

/* --- the run ---------------------------------------------------------------- */

typedef struct {
    vsHypervisor *hv;
    vsStore *store;
    const vsShadowRunOptions *opts;
    const vsRunnerProgress *progress;
    GCancellable *cancel;
    vsShadowRunResult *res;
    int lock_fd;                    /* the run's lock; -1: none taken */

    gint64 start_us;            /* monotonic */
    gint64 deadline;            /* monotonic: start + timeout */
    guint timeout_s;
    const char *phase_what;     /* what is going on, for the timeout message */

    char *base_path;
    char *base_format;          /* NULL: unknown */
    char *base_xml;
    char *overlay_name;
    char *overlay_path;
    char *uuid;
    gboolean domain_started;
    gboolean store_started;
    vsRunnerSampler *sampler;

    GArray *steps;              /* vsShadowStepRecord, [i] is step i + 1 */
    GPtrArray *events;          /* vsEvent: the guest's, every step */
    vsManifest *manifest;       /* the guest now, as last scanned */
    GHashTable *packages;       /* dpkg's installed packages, or NULL */
    GHashTable *rpm_packages;   /* rpm's installed packages, or NULL */
} vsRunner;

static void
vsRunnerProgressPhase(vsRunner *r, vsRunnerPhase phase, guint step, const char *name)
{
    if (r->progress && r->progress->phase)
        r->progress->phase(phase, step, r->opts->script->steps->len, name,
                           r->progress->opaque);
}

/* Milliseconds left of the run, or the run's timeout (VS_ERROR_TIMEOUT)
 * or its cancellation as an error. */
static gboolean
vsRunnerLeft(vsRunner *r, guint *ret_ms, GError **error)
{
    gint64 left = r->deadline - g_get_monotonic_time();

    if (g_cancellable_set_error_if_cancelled(r->cancel, error))
        return FALSE;
    if (left <= 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_TIMEOUT, "no time left");
        return FALSE;
    }
    *ret_ms = (guint)MAX(left / 1000, 1);
    return TRUE;
}

static gboolean
vsRunnerTimedOut(vsRunner *r)
{
    return g_get_monotonic_time() >= r->deadline;
}

/* --- base -------------------------------------------------------------------- */

/* A domain for a bare volume: boots the disk with BIOS, has the agent
 * channel and a balloon with stats.  vsLimitsShadowDomain() swaps the
 * disk for the overlay and sets the sizes. */
static char *
vsRunnerMinimalDomainXML(const char *path, const char *format)
{
    g_autofree char *epath = g_markup_escape_text(path, -1);
    g_autofree char *eformat = g_markup_escape_text(format ? format : "qcow2", -1);

    return g_strdup_printf(
        "<domain type='qemu'>\n"
        "  <name>vs-shadow-base</name>\n"
        "  <memory unit='KiB'>524288</memory>\n"
        "  <vcpu>1</vcpu>\n"
        "  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>\n"
        "  <features><acpi/><apic/></features>\n"
        "  <on_poweroff>destroy</on_poweroff>\n"
        "  <devices>\n"
        "    <disk type='file' device='disk'>\n"
        "      <driver name='qemu' type='%s'/>\n"
        "      <source file='%s'/>\n"
        "      <target dev='vda' bus='virtio'/>\n"
        "    </disk>\n"
        "    <serial type='pty'/>\n"
        "    <channel type='unix'>\n"
        "      <target type='virtio' name='org.qemu.guest_agent.0'/>\n"
        "    </channel>\n"
        "    <memballoon model='virtio'><stats period='1'/></memballoon>\n"
        "  </devices>\n"
        "</domain>\n", eformat, epath);
}

/* @disk's path: its own, or its storage volume's. */
static char *
vsRunnerDiskPath(vsRunner *r, const vsDomainDisk *disk, GError **error)
{
    if (disk->path)
        return g_strdup(disk->path);
    return vsHypervisorGetVolumePath(r->hv, disk->pool, disk->volume, error);
}

/* The one writable disk of @def (vsDomainXMLWritableDisk). */
static const vsDomainDisk *
vsRunnerWritableDisk(const vsDomainXML *def, const char *base, GError **error)
{
    guint n;
    const vsDomainDisk *found = vsDomainXMLWritableDisk(def, &n);

    if (n > 1)
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "base domain '%s' has more than one writable disk; "
                    "give the one to clone as --base PATH", base);
    else if (!found)
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "base domain '%s' has no writable disk to clone", base);
    return n == 1 ? found : NULL;
}

gboolean
vsShadowLookupBase(vsHypervisor *hv, const char *base, vsDomainInfo **ret_info, GError **error)
{
    g_autoptr(GError) local = NULL;
    vsDomainInfo *info;

    if (g_path_is_absolute(base)) {
        if (g_file_test(base, G_FILE_TEST_EXISTS))
            return TRUE;
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "base volume '%s' does not exist", base);
        return FALSE;
    }
    if (!(info = vsHypervisorLookupDomain(hv, base, &local))) {
        if (g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND))
            g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                        "base '%s' is neither a domain nor an absolute volume path", base);
        else
            g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (ret_info)
        *ret_info = info;
    else
        vsDomainInfoFree(info);
    return TRUE;
}

/* A volume path as the base: the XML of a domain that has it as its disk
 * when one does (its definition is the guest's), else a minimal one. */
static gboolean
vsRunnerResolveVolume(vsRunner *r, GError **error)
{
    const char *base = r->opts->base;
    g_autoptr(GPtrArray) doms = NULL;
    g_autofree char *want = g_canonicalize_filename(base, "/");

    if (!vsShadowLookupBase(r->hv, base, NULL, error))
        return FALSE;
    r->base_path = g_strdup(base);
    if (!(doms = vsHypervisorListDomains(r->hv, error)))
        return FALSE;
    for (guint i = 0; i < doms->len && !r->base_xml; i++) {
        const vsDomainInfo *info = g_ptr_array_index(doms, i);
        g_autofree char *xml = vsHypervisorGetDomainXML(r->hv, info->uuid, TRUE, NULL);
        g_autoptr(vsDomainXML) def = xml ? vsDomainXMLParse(xml, NULL) : NULL;
        const vsDomainDisk *disk = def ? vsRunnerWritableDisk(def, info->name, NULL) : NULL;
        g_autofree char *path = disk ? vsRunnerDiskPath(r, disk, NULL) : NULL;
        g_autofree char *canon = path ? g_canonicalize_filename(path, "/") : NULL;

        if (canon && g_str_equal(canon, want)) {
            r->base_xml = g_steal_pointer(&xml);
            r->base_format = g_strdup(disk->format);
        }
    }
    if (!r->base_xml)
        r->base_xml = vsRunnerMinimalDomainXML(base, NULL);
    return TRUE;
}

static gboolean
vsRunnerResolveDomain(vsRunner *r, GError **error)
{
    g_autoptr(vsDomainInfo) info = NULL;
    g_autoptr(vsDomainXML) def = NULL;
    g_autoptr(GError) local = NULL;
    const vsDomainDisk *disk;

    if (!vsShadowLookupBase(r->hv, r->opts->base, &info, error))
        return FALSE;
    if (!(r->base_xml = vsHypervisorGetDomainXML(r->hv, info->uuid, TRUE, error)) ||
        !(def = vsDomainXMLParse(r->base_xml, error)) ||
        !(disk = vsRunnerWritableDisk(def, info->name, error)))
        return FALSE;
    if (!(r->base_path = vsRunnerDiskPath(r, disk, &local))) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   "cannot find the disk of base domain '%s': ", info->name);
        return FALSE;
    }
    r->base_format = g_strdup(disk->format);
    return TRUE;
}

/* The base's disk and XML; refused while a running domain writes to it. */
static gboolean
vsRunnerResolveBase(vsRunner *r, GError **error)
{
    g_autofree char *writer = NULL;

    if (g_path_is_absolute(r->opts->base) ? !vsRunnerResolveVolume(r, error)
                                          : !vsRunnerResolveDomain(r, error))
        return FALSE;
    if (!vsHypervisorDiskInUse(r->hv, r->base_path, &writer, error))
        return FALSE;
    if (writer) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "base disk '%s' is in use by running domain '%s': shut it down first",
                    r->base_path, writer);
        return FALSE;
    }
    return TRUE;
}

/* --- store ------------------------------------------------------------------ */

static gboolean
vsRunnerStoreStart(vsRunner *r, GError **error)
{
    const vsShadowRunOptions *o = r->opts;
    vsShadowRunRecord rec = { 0 };
    g_autofree char *limits = vsLimitsFormat(&o->limits);
    g_autofree char *host = o->host ? g_strdup(o->host) : vsHostName();

    rec.id = r->res->run_id;
    rec.app = (char *)o->app;
    rec.version = (char *)o->version;
    rec.base = (char *)o->base;
    rec.script_sha256 = (char *)o->script_sha256;
    rec.script = (char *)o->script_text;
    rec.limits = limits;
    rec.host = host;
    rec.state = VS_SHADOW_RUNNING;
    rec.started_us = g_get_real_time();
    rec.optimized_from = (char *)o->optimized_from;
    if (!vsStoreStartShadowRun(r->store, &rec, error))
        return FALSE;
    r->store_started = TRUE;
    return TRUE;
}

/* Write the steps @indexes (1-based) as they are now. */
static gboolean
vsRunnerStoreSteps(vsRunner *r, const guint *indexes, gsize n, GError **error)
{
    /* shallow copies: the records keep their strings */
    g_autoptr(GArray) batch = g_array_sized_new(FALSE, FALSE, sizeof(vsShadowStepRecord), n);

    for (gsize i = 0; i < n; i++)
        g_array_append_val(batch, g_array_index(r->steps, vsShadowStepRecord, indexes[i] - 1));
    if (!vsStoreRecordShadowSteps(r->store, r->res->run_id, batch, error)) {
        g_prefix_error(error, "cannot record the steps of shadow run '%s': ", r->res->run_id);
        return FALSE;
    }
    return TRUE;
}

/* --- guest scans ------------------------------------------------------------- */

/* Run @argv in the shadow, polling so that a cancellation is seen. */
static vsGuestExecResult *
vsRunnerExec(vsRunner *r, const char *const *argv, GError **error)
{
    gulong sleep_us = 20 * 1000;
    gint64 pid;
    guint left;

    if (!vsRunnerLeft(r, &left, error) ||
        !vsGuestExecStart(r->hv, r->res->domain, argv, NULL, NULL, &pid, error))
        return NULL;
    for (;;) {
        vsGuestExecResult *res = NULL;

        if (!vsGuestExecPoll(r->hv, r->res->domain, pid, &res, error))
            return NULL;
        if (res)
            return res;
        if (!vsRunnerLeft(r, &left, error))
            return NULL;
        g_usleep(MIN(sleep_us, (gulong)left * 1000));
        sleep_us = MIN(sleep_us * 2, 200 * 1000);
    }
}

/* A manifest of @roots (NULL: the whole guest). */
static vsManifest *
vsRunnerScanRoots(vsRunner *r, const char *const *roots, GError **error)
{
    g_auto(GStrv) argv = vsManifestCommand(roots);
    g_autoptr(vsGuestExecResult) res = NULL;
    g_autoptr(GError) local = NULL;
    vsManifest *manifest;
    gint64 start = g_get_monotonic_time();

    r->phase_what = "a manifest of the guest's files";
    if (!(res = vsRunnerExec(r, (const char *const *)argv, error)))
        return NULL;
    r->res->manifest_us += g_get_monotonic_time() - start;
    /* find exits 1 on a file that vanished mid-scan; what it printed holds */
    if (res->exit_code != 0 && res->exit_code != 1) {
        gsize len = MIN(g_bytes_get_size(res->err), 512);
        g_autofree char *err = len ? g_strndup(g_bytes_get_data(res->err, NULL), len)
                                   : g_strdup("");

        g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                    "the manifest command in shadow '%s' exited with %d: %s",
                    r->res->domain, res->exit_code, g_strstrip(err));
        return NULL;
    }
    if (res->out_truncated) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                    "the manifest of shadow '%s' was cut by the guest agent", r->res->domain);
        return NULL;
    }
    if (!(manifest = vsManifestParse(g_bytes_get_data(res->out, NULL),
                                     g_bytes_get_size(res->out), &local))) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   "bad manifest from shadow '%s': ", r->res->domain);
        return NULL;
    }
    return manifest;
}

static vsManifest *
vsRunnerScan(vsRunner *r, GError **error)
{
    return vsRunnerScanRoots(r, NULL, error);
}

/* dpkg's installed packages, or NULL in *@ret when it has no status file. */
static gboolean
vsRunnerReadPackages(vsRunner *r, GHashTable **ret, GError **error)
{
    g_autoptr(GBytes) data = NULL;
    g_autofree char *text = NULL;
    gint64 start = g_get_monotonic_time();

    *ret = NULL;
    if (!g_hash_table_contains(r->manifest->entries, VS_RUNNER_DPKG_STATUS))
        return TRUE;
    if (!vsGuestFileRead(r->hv, r->res->domain, VS_RUNNER_DPKG_STATUS, VS_RUNNER_DPKG_MAX,
                         &data, error))
        return FALSE;
    r->res->manifest_us += g_get_monotonic_time() - start;
    /* an empty GBytes holds NULL, which g_strndup gives back */
    text = g_strndup(g_bytes_get_size(data) ? g_bytes_get_data(data, NULL) : "",
                     g_bytes_get_size(data));
    if (!(*ret = vsPackagesParseDpkg(text, error))) {
        g_prefix_error(error, "bad %s in shadow '%s': ", VS_RUNNER_DPKG_STATUS, r->res->domain);
        return FALSE;
    }
    return TRUE;
}

static gboolean
vsRunnerIsUnder(gpointer key, gpointer value G_GNUC_UNUSED, gpointer dir)
{
    gsize len = strlen(dir);

    return strncmp(key, dir, len) == 0 && (((char *)key)[len] == '\0' || ((char *)key)[len] == '/');
}

/* rpm's query itself touches its database (sqlite's -shm file, even for
 * a read): scan the database directories again into the base manifest,
 * so that the next step is not charged with what the query did. */
static gboolean
vsRunnerRescanRpmDb(vsRunner *r, GError **error)
{
    g_autoptr(GPtrArray) roots = g_ptr_array_new();
    g_autoptr(vsManifest) part = NULL;
    GHashTableIter iter;
    gpointer key;
    gpointer value;

    for (gsize i = 0; vsPackagesRpmDbDirs[i]; i++)
        if (g_hash_table_contains(r->manifest->entries, vsPackagesRpmDbDirs[i]))
            g_ptr_array_add(roots, (gpointer)vsPackagesRpmDbDirs[i]);
    if (!roots->len)
        return TRUE;
    g_ptr_array_add(roots, NULL);
    if (!(part = vsRunnerScanRoots(r, (const char *const *)roots->pdata, error)))
        return FALSE;
    for (guint i = 0; roots->pdata[i]; i++)
        g_hash_table_foreach_remove(r->manifest->entries, vsRunnerIsUnder, roots->pdata[i]);
    g_hash_table_iter_init(&iter, part->entries);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        g_hash_table_iter_steal(&iter);
        g_hash_table_replace(r->manifest->entries, key, value);
    }
    return TRUE;
}

/* rpm's installed packages, through the constant query (vsmanifest.h), or
 * NULL in *@ret when the guest has no rpm. */
static gboolean
vsRunnerReadRpm(vsRunner *r, GHashTable **ret, GError **error)
{
    const char *rpm = vsPackagesRpmFind(r->manifest);
    g_autoptr(GHashTable) packages = NULL;
    g_auto(GStrv) argv = NULL;
    g_autoptr(vsGuestExecResult) res = NULL;
    g_autofree char *text = NULL;
    gint64 start = g_get_monotonic_time();

    *ret = NULL;
    if (!rpm)
        return TRUE;
    argv = vsPackagesRpmCommand(rpm, NULL);
    r->phase_what = "a query of the guest's rpm packages";
    if (!(res = vsRunnerExec(r, (const char *const *)argv, error)))
        return FALSE;
    r->res->manifest_us += g_get_monotonic_time() - start;
    if (res->exit_code != 0) {
        gsize len = MIN(g_bytes_get_size(res->err), 512);
        g_autofree char *err = len ? g_strndup(g_bytes_get_data(res->err, NULL), len)
                                   : g_strdup("");

        g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                    "the rpm query in shadow '%s' exited with %d: %s", r->res->domain,
                    res->exit_code, g_strstrip(err));
        return FALSE;
    }
    if (res->out_truncated) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                    "the rpm query of shadow '%s' was cut by the guest agent", r->res->domain);
        return FALSE;
    }
    text = g_strndup(g_bytes_get_size(res->out) ? g_bytes_get_data(res->out, NULL) : "",
                     g_bytes_get_size(res->out));
    if (!(packages = vsPackagesParseList(text, error))) {
        g_prefix_error(error, "bad rpm query output from shadow '%s': ", r->res->domain);
        return FALSE;
    }
    if (!vsRunnerRescanRpmDb(r, error))
        return FALSE;
    *ret = g_steal_pointer(&packages);
    return TRUE;
}

/* Append to @events the package events from *@packages (NULL: none) to
 * @now (NULL: none; taken), which then replaces *@packages. */
static void
vsRunnerDiffPackages(GHashTable **packages, GHashTable *now, GPtrArray *events)
{
    g_autoptr(GHashTable) none = vsPackagesNew();
    g_autoptr(GHashTable) after = now ? now : vsPackagesNew();

    vsPackagesDiff(*packages ? *packages : none, after, events);
    g_clear_pointer(packages, g_hash_table_unref);
    *packages = g_steal_pointer(&after);
}

/* Scan after a step (or group): its events against the previous scan,
 * packages when dpkg's status or rpm's database changed; the new scan
 * becomes the base. */
static gboolean
vsRunnerDiffStep(vsRunner *r, GPtrArray *events, GError **error)
{
    g_autoptr(vsManifest) after = NULL;
    gboolean dpkg_changed = FALSE;
    gboolean rpm_changed = FALSE;

    if (!(after = vsRunnerScan(r, error)))
        return FALSE;
    vsManifestDiff(r->manifest, after, events);
    for (guint i = 0; i < events->len; i++) {
        const vsEvent *ev = g_ptr_array_index(events, i);

        if (g_str_equal(ev->path, VS_RUNNER_DPKG_STATUS))
            dpkg_changed = TRUE;
        if (vsPackagesRpmTouched(ev->path))
            rpm_changed = TRUE;
    }
    g_clear_pointer(&r->manifest, vsManifestFree);
    r->manifest = g_steal_pointer(&after);
    if (dpkg_changed) {
        GHashTable *now = NULL;

        if (!vsRunnerReadPackages(r, &now, error))
            return FALSE;
        vsRunnerDiffPackages(&r->packages, now, events);
    }
    if (rpm_changed) {
        GHashTable *now = NULL;

        if (!vsRunnerReadRpm(r, &now, error))
            return FALSE;
        vsRunnerDiffPackages(&r->rpm_packages, now, events);
    }
    return TRUE;
}

/* --- phases ------------------------------------------------------------------ */

/* Start the shadow from @xml.  libvirt sets QEMU's RLIMIT_MEMLOCK to
 * <memtune><hard_limit>, which a host without CAP_SYS_RESOURCE (a
 * container) refuses; such a host gets the shadow without the hard limit,
 * and the result says so. */
static char *
vsRunnerCreateDomain(vsRunner *r, const char *xml, GError **error)
{
    gboolean autodestroy = !r->opts->keep_on_failure;
    g_autoptr(GError) local = NULL;
    g_autofree char *unlimited = NULL;
    const char *open_tag;
    const char *close_tag;
    char *name;

    if ((name = vsHypervisorCreateDomainXML(r->hv, xml, autodestroy, &local)))
        return name;
    open_tag = strstr(xml, "<memtune>");
    close_tag = open_tag ? strstr(open_tag, "</memtune>") : NULL;
    if (!strstr(local->message, "cannot limit locked memory") || !close_tag) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    unlimited = g_strdup_printf("%.*s%s", (int)(open_tag - xml), xml,
                                close_tag + strlen("</memtune>"));
    if (!(name = vsHypervisorCreateDomainXML(r->hv, unlimited, autodestroy, error)))
        return NULL;
    r->res->warning = g_strdup("memory hard limit not enforced: the host cannot raise "
                               "QEMU's locked-memory limit (no CAP_SYS_RESOURCE)");
    return name;
}

static gboolean
vsRunnerClone(vsRunner *r, GError **error)
{
    const vsShadowRunOptions *o = r->opts;
    vsShadowDomainSpec spec = { 0 };
    g_autofree char *xml = NULL;
    g_autofree char *name = NULL;
    gint64 start = g_get_monotonic_time();

    vsRunnerProgressPhase(r, VS_RUNNER_PHASE_CLONE, 0, NULL);
    r->phase_what = "the linked clone";
    r->overlay_name = g_strdup_printf("%s%s-disk", VS_SHADOW_OVERLAY_PREFIX, r->res->run_id);
    if (!vsHypervisorCreateOverlay(r->hv, r->base_path, o->pool, r->overlay_name,
                                   &r->overlay_path, error))
        return FALSE;
    r->uuid = g_uuid_string_random();
    spec.name = r->res->domain;
    spec.uuid = r->uuid;
    spec.run_id = r->res->run_id;
    spec.overlay_path = r->overlay_path;
    spec.overlay_format = "qcow2";
    spec.network = o->network;
    spec.limits = &o->limits;
    if (!(xml = vsLimitsShadowDomain(r->base_xml, &spec, error)))
        return FALSE;
    /* Tied to this connection: a runner killed outright takes its shadow
     * with it, and gc finds only the overlay.  A shadow kept for a
     * post-mortem must outlive us. */
    if (!(name = vsRunnerCreateDomain(r, xml, error)))
        return FALSE;
    r->domain_started = TRUE;
    r->res->clone_us = g_get_monotonic_time() - start;
    return TRUE;
}

static gboolean
vsRunnerBoot(vsRunner *r, GError **error)
{
    const vsShadowRunOptions *o = r->opts;
    guint agent_s = o->agent_timeout_s ? o->agent_timeout_s : VS_RUNNER_AGENT_TIMEOUT_S;
    g_autofree char *uri = vsHypervisorGetURI(r->hv);
    g_autoptr(GError) local = NULL;
    gint64 start = g_get_monotonic_time();
    gint64 agent_deadline = start + (gint64)agent_s * G_USEC_PER_SEC;

    vsRunnerProgressPhase(r, VS_RUNNER_PHASE_BOOT, 0, NULL);
    r->phase_what = "boot";
    /* fresh memory figures every second, not every few */
    vsHypervisorSetMemoryStatsPeriod(r->hv, r->res->domain, 1, VS_AFFECT_LIVE, NULL);
    if (!(r->sampler = vsRunnerSamplerStart(uri, r->res->domain,
                                            o->sample_interval_ms ? MIN(o->sample_interval_ms, 1000)
                                                                  : VS_RUNNER_SAMPLE_INTERVAL_MS,
                                            error)))
        return FALSE;
    /* short pings, so that a cancellation or the run's deadline is seen */
    for (;;) {
        guint left;

        if (!vsRunnerLeft(r, &left, error))
            return FALSE;
        g_clear_error(&local);
        if (vsGuestWaitForAgent(r->hv, r->res->domain, MIN(left, 1000), &local))
            break;
        if (!g_error_matches(local, VS_ERROR, VS_ERROR_TIMEOUT)) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (g_get_monotonic_time() >= agent_deadline) {
            g_set_error(error, VS_ERROR, VS_ERROR_TIMEOUT,
                        "the guest agent of shadow '%s' did not answer within %u s "
                        "(does base '%s' run qemu-guest-agent?)",
                        r->res->domain, agent_s, o->base);
            return FALSE;
        }
    }
    r->res->boot_us = g_get_monotonic_time() - start;
    return TRUE;
}

static gboolean
vsRunnerStage(vsRunner *r, GError **error)
{
    gint64 start = g_get_monotonic_time();
    guint left;

    vsRunnerProgressPhase(r, VS_RUNNER_PHASE_STAGE, 0, NULL);
    r->phase_what = "staging";
    if (!vsRunnerLeft(r, &left, error) ||
        !vsStageScript(r->hv, r->res->domain, r->opts->script, r->opts->stage_dir, NULL,
                       left, r->cancel, error))
        return FALSE;
    r->res->stage_us = g_get_monotonic_time() - start;
    /* the first "before": the guest as the steps find it */
    if (!(r->manifest = vsRunnerScan(r, error)) ||
        !vsRunnerReadPackages(r, &r->packages, error) ||
        !vsRunnerReadRpm(r, &r->rpm_packages, error))
        return FALSE;
    return TRUE;
}

typedef struct {
    vsRunner *r;
    GError *error;              /* the first store error */
} vsRunnerStartCtx;

static void
vsRunnerStepStarted(guint index, gint64 started_us, gpointer opaque)
{
    vsRunnerStartCtx *ctx = opaque;
    vsRunner *r = ctx->r;
    vsShadowStepRecord *rec = &g_array_index(r->steps, vsShadowStepRecord, index - 1);

    rec->started_us = started_us;
    vsRunnerProgressPhase(r, VS_RUNNER_PHASE_STEP, index, rec->name);
    if (!ctx->error)
        vsRunnerStoreSteps(r, &index, 1, &ctx->error);
}

/* Run the steps @indexes together, record them and what they changed.
 * *@ret_failed is the first of them (in script order) that failed. */
static gboolean
vsRunnerRunGroup(vsRunner *r, const guint *indexes, gsize n, guint *ret_failed,
                 GError **error)
{
    vsRunnerStartCtx ctx = { r, NULL };
    g_autoptr(GPtrArray) results = NULL;
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    gint64 start = g_get_monotonic_time();
    gint64 at_us;
    guint left;

    *ret_failed = 0;
    r->phase_what = n == 1 ? "a step" : "a group of steps";
    if (!vsRunnerLeft(r, &left, error))
        return FALSE;
    results = vsStageRunSteps(r->hv, r->res->domain, r->opts->script, indexes, n, NULL,
                              r->opts->stage_dir != NULL, left, r->cancel,
                              vsRunnerStepStarted, &ctx, error);
    r->res->steps_us += g_get_monotonic_time() - start;
    if (ctx.error) {
        g_clear_error(error);
        g_propagate_error(error, ctx.error);
        return FALSE;
    }
    if (!results)
        return FALSE;
    for (guint i = 0; i < results->len; i++) {
        vsStageStepResult *sr = g_ptr_array_index(results, i);
        vsShadowStepRecord *rec = &g_array_index(r->steps, vsShadowStepRecord, sr->index - 1);

        rec->ended_us = sr->ended_us;
        rec->has_exit_code = TRUE;
        rec->exit_code = sr->signal ? 128 + sr->signal : sr->exit_code;
        rec->stdout_text = g_steal_pointer(&sr->out);
        rec->stdout_truncated = sr->out_truncated;
        rec->stderr_text = g_steal_pointer(&sr->err);
        rec->stderr_truncated = sr->err_truncated;
        r->res->steps_run++;
        if (rec->exit_code != 0 && (!*ret_failed || sr->index < *ret_failed))
            *ret_failed = sr->index;
    }
    if (!vsRunnerStoreSteps(r, indexes, n, error))
        return FALSE;

    /* What the group changed, a failed step's too.  Steps that ran
     * together cannot be told apart: their events go with the first. */
    if (!vsRunnerDiffStep(r, events, error))
        return FALSE;
    at_us = g_get_real_time();
    if (!vsStoreRecordShadowEvents(r->store, r->res->run_id, indexes[0], at_us, events, error)) {
        g_prefix_error(error, "cannot record the events of step %u of shadow run '%s': ",
                       indexes[0], r->res->run_id);
        return FALSE;
    }
    r->res->events += events->len;
    for (guint i = 0; i < events->len; i++)
        g_ptr_array_add(r->events, g_ptr_array_index(events, i));
    g_ptr_array_set_free_func(events, NULL);
    return TRUE;
}

/* Each step alone, or consecutive steps of one group (an optimized
 * script's "# group: N") together. */
static gboolean
vsRunnerSteps(vsRunner *r, GError **error)
{
    GPtrArray *steps = r->opts->script->steps;
    guint i = 0;

    while (i < steps->len) {
        const vsScriptStep *first = g_ptr_array_index(steps, i);
        g_autoptr(GArray) group = g_array_new(FALSE, FALSE, sizeof(guint));
        guint failed = 0;

        g_array_append_val(group, first->index);
        for (i++; first->group && i < steps->len; i++) {
            const vsScriptStep *next = g_ptr_array_index(steps, i);

            if (next->group != first->group)
                break;
            g_array_append_val(group, next->index);
        }
        if (!vsRunnerRunGroup(r, (guint *)group->data, group->len, &failed, error))
            return FALSE;
        if (failed) {
            vsShadowStepRecord *rec = &g_array_index(r->steps, vsShadowStepRecord, failed - 1);

            r->res->has_exit_code = TRUE;
            r->res->exit_code = rec->exit_code;
            r->res->failed_step = g_strdup(rec->name);
            g_set_error(error, VS_ERROR, VS_ERROR_FAILED, "step %u '%s' exited with %d",
                        failed, rec->name, rec->exit_code);
            return FALSE;
        }
    }
    return TRUE;
}

/* The highest memory the guest measured within [@start_us, @end_us]
 * (by when it measured it); FALSE when it measured none then. */
static gboolean
vsRunnerMemoryPeak(GArray *samples, GArray *memory_times, gint64 start_us, gint64 end_us,
                   guint64 *ret_kib)
{
    gboolean found = FALSE;

    for (guint i = 0; i < samples->len; i++) {
        const vsProfileSample *s = &g_array_index(samples, vsProfileSample, i);
        gint64 at = g_array_index(memory_times, gint64, i);

        if (s->memory_kib == 0 || at < start_us || at > end_us)
            continue;
        if (!found || s->memory_kib > *ret_kib)
            *ret_kib = s->memory_kib;
        found = TRUE;
    }
    return found;
}

/* Attribute the samples to the steps that ran and store the usage:
 * vsProfileAttribute() for all of it, then the memory peaks again by when
 * the guest measured them, where it did within the step. */
static gboolean
vsRunnerStoreUsage(vsRunner *r, GArray *samples, GArray *memory_times, GError **error)
{
    g_autoptr(GArray) spans = g_array_new(FALSE, TRUE, sizeof(vsProfileSpan));
    g_autoptr(GArray) indexes = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GPtrArray) usage = NULL;

    for (guint i = 0; i < r->steps->len; i++) {
        vsShadowStepRecord *rec = &g_array_index(r->steps, vsShadowStepRecord, i);
        vsProfileSpan span = { rec->index, rec->name, rec->started_us, rec->ended_us };

        if (!rec->started_us || !rec->ended_us)
            continue;
        g_array_append_val(spans, span);
        g_array_append_val(indexes, rec->index);
    }
    if (spans->len == 0 || !samples || samples->len == 0)
        return TRUE;
    usage = vsProfileAttribute((vsProfileSpan *)spans->data, spans->len,
                               (vsProfileSample *)samples->data, samples->len);
    for (guint i = 0; i < usage->len; i++) {
        const vsProfileUsage *u = g_ptr_array_index(usage, i);
        vsShadowStepRecord *rec = &g_array_index(r->steps, vsShadowStepRecord, u->index - 1);

        rec->has_usage = TRUE;
        rec->cpu_avg = u->cpu_avg;
        rec->cpu_peak = u->cpu_peak;
        rec->memory_peak_kib = u->memory_peak_kib;
        vsRunnerMemoryPeak(samples, memory_times, rec->started_us, rec->ended_us,
                           &rec->memory_peak_kib);
        rec->disk_read_bytes = u->disk_read_bytes;
        rec->disk_write_bytes = u->disk_write_bytes;
        rec->samples = u->samples;
        rec->estimated = u->estimated;
    }
    return vsRunnerStoreSteps(r, (guint *)indexes->data, indexes->len, error);
}

/* Is the shadow gone (a transient domain powered off), or shut off? */
static gboolean
vsRunnerDomainDown(vsRunner *r)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(vsDomainInfo) info = vsHypervisorLookupDomain(r->hv, r->uuid, &local);

    if (!info)
        return g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND);
    return info->state == VS_DOMAIN_SHUTOFF;
}

/* Power the guest off from inside, so its file systems are clean for the
 * offline comparison. */
static gboolean
vsRunnerShutdown(vsRunner *r, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)VS_RUNNER_SHUTDOWN_TIMEOUT_MS * 1000;
    g_autofree char *reply = NULL;

    vsRunnerProgressPhase(r, VS_RUNNER_PHASE_SHUTDOWN, 0, NULL);
    r->phase_what = "shutdown";
    /* the agent does not answer guest-shutdown: the guest goes away */
    reply = vsHypervisorAgentCommand(r->hv, r->res->domain,
                                     "{\"execute\":\"guest-shutdown\","
                                     "\"arguments\":{\"mode\":\"powerdown\"}}", 2, NULL);
    for (;;) {
        guint left;

        if (vsRunnerDomainDown(r))
            return TRUE;
        if (!vsRunnerLeft(r, &left, error))
            return FALSE;
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(error, VS_ERROR, VS_ERROR_TIMEOUT,
                        "shadow '%s' did not power off within %u s of guest-shutdown",
                        r->res->domain, VS_RUNNER_SHUTDOWN_TIMEOUT_MS / 1000);
            return FALSE;
        }
        g_usleep(VS_RUNNER_CLEANUP_POLL_US);
    }
}

/* Compare the overlay with the base offline, once the shadow is down.  A
 * comparison that cannot be made is reported as skipped with the reason,
 * never as a failure of the run: the guest's own events stand. */
static void
vsRunnerCompare(vsRunner *r)
{
    g_autoptr(GPtrArray) offline = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GPtrArray) lines = NULL;
    g_autoptr(GError) local = NULL;

    vsRunnerProgressPhase(r, VS_RUNNER_PHASE_COMPARE, 0, NULL);
    r->phase_what = "the offline comparison";
    if (!r->base_format) {
        r->res->compare_skipped = g_strdup_printf("the image format of base '%s' is unknown",
                                                  r->base_path);
        return;
    }
    if (!vsOfflineCompare(r->base_path, r->base_format, r->overlay_path, offline, &local)) {
        r->res->compare_skipped = g_strdup(local->message);
        return;
    }
    r->res->compared = TRUE;
    /* rpm's queries touch its database unseen by the steps (see
     * vsRunnerRescanRpmDb) */
    lines = vsOfflineDisagreements(offline, r->events,
                                   r->rpm_packages ? vsPackagesRpmDbDirs : NULL);
    for (guint i = 0; i < lines->len; i++)
        g_ptr_array_add(r->res->disagreements, g_strdup(g_ptr_array_index(lines, i)));
}

/* Destroy the shadow and delete its overlay; errors are collected into
 * the result, never stop the rest of the cleanup. */
static void
vsRunnerCleanup(vsRunner *r, gboolean keep)
{
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    gint64 start = g_get_monotonic_time();

    vsRunnerProgressPhase(r, VS_RUNNER_PHASE_CLEANUP, 0, NULL);
    if (keep && (r->domain_started || r->overlay_path)) {
        r->res->kept = TRUE;
        if (r->domain_started)
            r->res->kept_domain = TRUE;
        r->res->kept_overlay = g_strdup(r->overlay_path);
        r->res->cleanup_us = g_get_monotonic_time() - start;
        return;
    }
    if (r->domain_started) {
        g_autoptr(GError) local = NULL;

        /* transient: once destroyed it is gone, nothing to undefine */
        if (!vsHypervisorDestroyDomain(r->hv, r->uuid, &local) &&
            !g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND))
            g_ptr_array_add(problems, g_strdup(local->message));
        else
            r->domain_started = FALSE;
    }
    if (r->overlay_path && !r->domain_started) {
        g_autoptr(GError) local = NULL;

        if (!vsHypervisorDeleteVolume(r->hv, r->overlay_path, &local))
            g_ptr_array_add(problems, g_strdup(local->message));
        else
            g_clear_pointer(&r->overlay_path, g_free);
    }
    if (problems->len) {
        g_ptr_array_add(problems, NULL);
        g_autofree char *joined = g_strjoinv("; ", (char **)problems->pdata);
        char *msg = r->res->error ? g_strdup_printf("%s; cleanup: %s (run \"virt-shadow shadow gc --run %s\")",
                                                    r->res->error, joined, r->res->run_id)
                                  : g_strdup_printf("cleanup: %s (run \"virt-shadow shadow gc --run %s\")",
                                                    joined, r->res->run_id);

        g_free(r->res->error);
        r->res->error = msg;
        if (r->res->state == VS_SHADOW_SUCCEEDED)
            r->res->state = VS_SHADOW_FAILED;
    }
    r->res->cleanup_us = g_get_monotonic_time() - start;
}

/* "30m", "90s", "2h": as --timeout takes it. */
static char *
vsRunnerFormatSeconds(guint s)
{
    if (s && s % 3600 == 0)
        return g_strdup_printf("%uh", s / 3600);
    if (s && s % 60 == 0)
        return g_strdup_printf("%um", s / 60);
    return g_strdup_printf("%us", s);
}

/* How the error that ended the run reads, and the state it leaves. */
static void
vsRunnerSetOutcome(vsRunner *r, GError *why)
{
    const char *reason = r->opts->cancel_reason && *r->opts->cancel_reason
                         ? *r->opts->cancel_reason : "cancelled";

    if (!why) {
        r->res->state = VS_SHADOW_SUCCEEDED;
        return;
    }
    if (g_error_matches(why, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        r->res->state = VS_SHADOW_FAILED;
        r->res->error = g_strdup(reason);
    } else if (g_error_matches(why, VS_ERROR, VS_ERROR_TIMEOUT) && vsRunnerTimedOut(r)) {
        g_autofree char *limit = vsRunnerFormatSeconds(r->timeout_s);

        r->res->state = VS_SHADOW_TIMEOUT;
        r->res->error = g_strdup_printf("the run timed out after %s during %s",
                                        limit, r->phase_what ? r->phase_what : "setup");
    } else {
        r->res->state = g_error_matches(why, VS_ERROR, VS_ERROR_TIMEOUT) ? VS_SHADOW_TIMEOUT
                                                                         : VS_SHADOW_FAILED;
        r->res->error = g_strdup(why->message);
    }
}

static void
vsRunnerClear(vsRunner *r)
{
    if (r->opts->lock_dir)
        vsRunLockRelease(r->opts->lock_dir, r->res->run_id, r->lock_fd);
    r->lock_fd = -1;
    g_free(r->base_path);
    g_free(r->base_format);
    g_free(r->base_xml);
    g_free(r->overlay_name);
    g_free(r->overlay_path);
    g_free(r->uuid);
    g_clear_pointer(&r->steps, g_array_unref);
    g_clear_pointer(&r->events, g_ptr_array_unref);
    g_clear_pointer(&r->manifest, vsManifestFree);
    g_clear_pointer(&r->packages, g_hash_table_unref);
    g_clear_pointer(&r->rpm_packages, g_hash_table_unref);
}

static char *
vsRunnerNewRunId(void)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%S");

    return g_strdup_printf("%s-%06x", stamp, g_random_int_range(0, 0x1000000));
}

gboolean
vsShadowRun(vsHypervisor *hv, vsStore *store, const vsShadowRunOptions *opts,
            const vsRunnerProgress *progress, GCancellable *cancel,
            vsShadowRunResult **ret_result, GError **error)
{
    g_autoptr(vsShadowRunResult) res = g_new0(vsShadowRunResult, 1);
    g_autoptr(GError) why = NULL;
    g_autoptr(GArray) samples = NULL;
    g_autoptr(GArray) memory_times = NULL;
    g_autofree char *mark = NULL;
    vsRunner r = { 0 };
    gboolean ok;

    r.hv = hv;
    r.store = store;
    r.opts = opts;
    r.progress = progress;
    r.cancel = cancel;
    r.res = res;
    r.lock_fd = -1;
    r.start_us = g_get_monotonic_time();
    r.timeout_s = opts->timeout_s ? opts->timeout_s : VS_RUNNER_DEFAULT_TIMEOUT_S;
    r.deadline = r.start_us + (gint64)r.timeout_s * G_USEC_PER_SEC;
    res->disagreements = g_ptr_array_new_with_free_func(g_free);
    res->run_id = opts->run_id ? g_strdup(opts->run_id) : vsRunnerNewRunId();
    res->domain = g_strdup_printf("%s%s", VS_SHADOW_OVERLAY_PREFIX, res->run_id);
    r.events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    r.steps = g_array_new(FALSE, TRUE, sizeof(vsShadowStepRecord));
    g_array_set_clear_func(r.steps, (GDestroyNotify)vsShadowStepRecordClear);
    for (guint i = 0; i < opts->script->steps->len; i++) {
        const vsScriptStep *step = g_ptr_array_index(opts->script->steps, i);
        vsShadowStepRecord rec = { 0 };

        g_assert(step->index == i + 1);
        rec.index = step->index;
        rec.name = g_strdup(step->name);
        g_array_append_val(r.steps, rec);
    }

    /* Nothing is made before these pass: a refusal leaves nothing behind. */
    if (!(mark = vsMetadataShadowRunXML(res->run_id, error)) ||
        !vsRunnerResolveBase(&r, error) ||
        (opts->lock_dir &&
         (r.lock_fd = vsRunLockAcquire(opts->lock_dir, res->run_id, error)) < 0) ||
        !vsRunnerStoreStart(&r, error)) {
        vsRunnerClear(&r);
        return FALSE;
    }

    ok = vsRunnerClone(&r, &why) &&
         vsRunnerBoot(&r, &why) &&
         vsRunnerStage(&r, &why) &&
         vsRunnerSteps(&r, &why);
    samples = vsRunnerSamplerStop(g_steal_pointer(&r.sampler), &memory_times);
    vsRunnerSetOutcome(&r, ok ? NULL : why);
    if (ok) {
        g_autoptr(GError) local = NULL;

        gint64 start = g_get_monotonic_time();

        if (vsRunnerShutdown(&r, &local))
            vsRunnerCompare(&r);
        else
            res->compare_skipped = g_strdup_printf("no clean shutdown: %s", local->message);
        res->compare_us = g_get_monotonic_time() - start;
    } else {
        res->compare_skipped = g_strdup("the run did not succeed");
    }
    {
        g_autoptr(GError) local = NULL;

        if (!vsRunnerStoreUsage(&r, samples, memory_times, &local) &&
            res->state == VS_SHADOW_SUCCEEDED) {
            res->state = VS_SHADOW_FAILED;
            res->error = g_strdup(local->message);
        }
    }
    vsRunnerCleanup(&r, opts->keep_on_failure && res->state != VS_SHADOW_SUCCEEDED);
    res->total_us = g_get_monotonic_time() - r.start_us;
    {
        g_autoptr(GError) local = NULL;
        g_autofree char *message = NULL;

        if (res->kept)
            message = g_strdup_printf("%s; kept %s%s%s for inspection", res->error,
                                      res->kept_domain ? "domain " : "",
                                      res->kept_domain ? res->domain : "",
                                      res->kept_overlay ? (res->kept_domain ? " and its overlay" : "its overlay") : "");
        if (!vsStoreFinishShadowRun(store, res->run_id, res->state, g_get_real_time(),
                                    res->has_exit_code, res->exit_code,
                                    message ? message : res->error, &local)) {
            char *msg = g_strdup_printf("%s%scannot close the run in the store: %s",
                                        res->error ? res->error : "", res->error ? "; " : "",
                                        local->message);

            g_free(res->error);
            res->error = msg;
            if (res->state == VS_SHADOW_SUCCEEDED)
                res->state = VS_SHADOW_FAILED;
        }
    }
    res->steps = g_steal_pointer(&r.steps);
    vsRunnerClear(&r);
    *ret_result = g_steal_pointer(&res);
    return TRUE;
}
