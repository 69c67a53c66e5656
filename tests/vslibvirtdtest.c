/*
 * vslibvirtdtest.c: the libvirt driver against a private libvirtd
 *
 * Losing the daemon must be noticed (close callback or keepalive), reported
 * through the disconnected callback, and healed by the reconnect timer,
 * after which events flow again.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "vstestutils.h"
#include "conf/vsmetadata.h"
#include "hypervisor/vshypervisor.h"
#include "util/vsjson.h"
#include "libvirt/vslibvirt.h"
#include "util/vserror.h"

static const char *tinyDomainXML =
    "<domain type='qemu'>"
    "  <name>vs-reconnect</name>"
    "  <memory unit='MiB'>64</memory>"
    "  <vcpu>1</vcpu>"
    "  <os><type arch='x86_64'>hvm</type></os>"
    "  <devices><memballoon model='none'/></devices>"
    "</domain>";

typedef struct {
    GPtrArray *events;      /* "name:event" */
    int disconnected;
    int reconnected;
    char *reason;
} Probe;

static void
onLifecycle(vsHypervisor *hv, const char *name, const char *uuid,
            vsDomainEventType event, int detail, gpointer opaque)
{
    Probe *p = opaque;

    g_ptr_array_add(p->events, g_strdup_printf("%s:%s", name,
                                               vsDomainEventTypeToString(event)));
}

static void
onDisconnected(vsHypervisor *hv, const char *reason, gpointer opaque)
{
    Probe *p = opaque;

    p->disconnected++;
    g_free(p->reason);
    p->reason = g_strdup(reason);
}

static void
onReconnected(vsHypervisor *hv, gpointer opaque)
{
    Probe *p = opaque;

    p->reconnected++;
}

static void
probeInit(Probe *p)
{
    memset(p, 0, sizeof(*p));
    p->events = g_ptr_array_new_with_free_func(g_free);
}

static void
probeClear(Probe *p)
{
    g_ptr_array_unref(p->events);
    g_free(p->reason);
}

static gboolean
hasEvent(Probe *p, const char *want)
{
    guint i;

    for (i = 0; i < p->events->len; i++) {
        if (g_str_equal(g_ptr_array_index(p->events, i), want))
            return TRUE;
    }
    return FALSE;
}

/* Run the main loop until *@counter > @than or @timeout_ms passes. */
static gboolean
loopUntilCount(int *counter, int than, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (*counter <= than) {
        if (g_get_monotonic_time() >= deadline)
            return FALSE;
        g_main_context_iteration(NULL, FALSE);
        g_usleep(2000);
    }
    return TRUE;
}

static gboolean
loopUntilEvent(Probe *p, const char *want, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (!hasEvent(p, want)) {
        if (g_get_monotonic_time() >= deadline)
            return FALSE;
        g_main_context_iteration(NULL, FALSE);
        g_usleep(2000);
    }
    return TRUE;
}

static void
drainLoop(void)
{
    gint64 until = g_get_monotonic_time() + 50 * 1000;

    while (g_get_monotonic_time() < until)
        g_main_context_iteration(NULL, FALSE);
}

START_TEST(test_reconnect)
{
    vsTestLibvirtd *d = vsTestLibvirtdStart();
    Probe p;
    Probe q;
    vsHypervisorCallbacks cbs = {
        .domainLifecycle = onLifecycle,
        .disconnected = onDisconnected,
        .reconnected = onReconnected,
        .opaque = &p,
    };
    vsHypervisorCallbacks qcbs = cbs;
    g_autoptr(vsHypervisor) hv = NULL;
    g_autoptr(vsHypervisor) doomed = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = NULL;
    g_autofree char *name = NULL;
    g_autofree char *uri = NULL;
    g_autofree char *want = NULL;

    probeInit(&p);
    probeInit(&q);
    qcbs.opaque = &q;
    hv = vsHypervisorOpen(vsTestLibvirtdURI(d), &cbs, &error);
    ck_assert_msg(hv, "%s", error ? error->message : "?");
    /* A second connection that gets closed while it is reconnecting. */
    doomed = vsHypervisorOpen(vsTestLibvirtdURI(d), &qcbs, &error);
    ck_assert_msg(doomed, "%s", error ? error->message : "?");
    ck_assert(vsHypervisorIsAlive(hv));

    name = vsHypervisorDefineDomainXML(hv, tinyDomainXML, &error);
    ck_assert_msg(name, "%s", error ? error->message : "?");
    ck_assert_msg(loopUntilEvent(&p, "vs-reconnect:defined", 10000), "no defined event");

    vsTestLibvirtdKill(d);
    ck_assert_msg(loopUntilCount(&p.disconnected, 0, 25000), "no disconnected callback");
    ck_assert_msg(loopUntilCount(&q.disconnected, 0, 25000), "no disconnected callback (2)");
    ck_assert_ptr_nonnull(p.reason);
    ck_assert_msg(!g_str_equal(p.reason, "unknown reason"), "%s", p.reason);
    if (g_getenv("VS_TEST_VERBOSE"))
        g_printerr("disconnected: %s\n", p.reason);
    ck_assert(!vsHypervisorIsAlive(hv));
    ck_assert_ptr_null(vsHypervisorGetURI(hv));
    list = vsHypervisorListDomains(hv, &error);
    ck_assert_ptr_null(list);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT));
    want = g_strdup_printf("not connected to '%s' (reconnecting)", vsTestLibvirtdURI(d));
    ck_assert_str_eq(error->message, want);
    g_clear_error(&error);

    /* Let a reconnect attempt or two fail, then close mid-backoff. */
    g_clear_pointer(&want, g_free);
    loopUntilCount(&q.reconnected, 0, 1200);
    ck_assert_int_eq(q.reconnected, 0);
    g_clear_pointer(&doomed, vsHypervisorFree);

    vsTestLibvirtdRestart(d);
    ck_assert_msg(loopUntilCount(&p.reconnected, 0, 30000), "no reconnected callback");
    ck_assert_int_eq(p.disconnected, 1);
    ck_assert(vsHypervisorIsAlive(hv));
    uri = vsHypervisorGetURI(hv);
    ck_assert_ptr_nonnull(uri);

    /* Events are registered again: undefining is seen. */
    ck_assert_msg(vsHypervisorUndefineDomain(hv, name, &error), "%s",
                  error ? error->message : "?");
    ck_assert_msg(loopUntilEvent(&p, "vs-reconnect:undefined", 10000),
                  "no undefined event after reconnect");

    /* The closed connection saw nothing more. */
    drainLoop();
    ck_assert_int_eq(q.reconnected, 0);
    ck_assert(!hasEvent(&q, "vs-reconnect:undefined"));

    g_clear_pointer(&hv, vsHypervisorFree);
    drainLoop();
    vsTestLibvirtdStop(d);
    probeClear(&p);
    probeClear(&q);
}
END_TEST

static const char *runDomainXML =
    "<domain type='qemu'>"
    "  <name>vs-transient</name>"
    "  <memory unit='MiB'>128</memory>"
    "  <currentMemory unit='MiB'>96</currentMemory>"
    "  <vcpu current='1'>2</vcpu>"
    "  <os><type arch='x86_64'>hvm</type></os>"
    "  <devices><memballoon model='virtio'/></devices>"
    "</domain>";

/* A real (TCG) QEMU: bulk stats carry typed fields, AUTODESTROY ties the
 * domain to our connection. */
START_TEST(test_real_domain)
{
    vsTestLibvirtd *d = vsTestLibvirtdStart();
    Probe p;
    vsHypervisorCallbacks cbs = { .domainLifecycle = onLifecycle, .opaque = &p };
    g_autoptr(vsHypervisor) hv = NULL;
    g_autoptr(vsHypervisor) other = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) stats = NULL;
    g_autoptr(vsDomainInfo) info = NULL;
    g_autofree char *name = NULL;
    g_autoptr(GArray) counters = NULL;
    const vsDomainCounters *c;
    vsDomainStats *st;
    guint64 value = 0;
    guint32 want;
    gint64 deadline;

    probeInit(&p);
    hv = vsHypervisorOpen(vsTestLibvirtdURI(d), &cbs, &error);
    ck_assert_msg(hv, "%s", error ? error->message : "?");
    name = vsHypervisorCreateDomainXML(hv, runDomainXML, TRUE, &error);
    ck_assert_msg(name, "%s", error ? error->message : "?");
    ck_assert_msg(loopUntilEvent(&p, "vs-transient:started", 10000), "no started event");
    info = vsHypervisorLookupDomain(hv, name, &error);
    ck_assert_msg(info, "%s", error ? error->message : "?");
    ck_assert(!info->persistent);
    ck_assert_int_eq(info->state, VS_DOMAIN_RUNNING);

    ck_assert_msg(vsHypervisorSetMemoryStatsPeriod(hv, name, 2, VS_AFFECT_LIVE, &error),
                  "%s", error ? error->message : "?");
    stats = vsHypervisorGetAllDomainStats(hv, VS_STATS_STATE | VS_STATS_CPU_TOTAL |
                                          VS_STATS_BALLOON | VS_STATS_VCPU, TRUE, &error);
    ck_assert_msg(stats, "%s", error ? error->message : "?");
    ck_assert_uint_eq(stats->len, 1);
    st = g_ptr_array_index(stats, 0);
    ck_assert_str_eq(st->name, name);
    ck_assert(vsDomainStatsGetUInt64(st, "state.state", &value));
    ck_assert_uint_eq(value, VS_DOMAIN_RUNNING);
    ck_assert(vsDomainStatsGetUInt64(st, "cpu.time", &value));
    ck_assert(vsDomainStatsGetUInt64(st, "balloon.maximum", &value));
    ck_assert_uint_eq(value, 128 * 1024);
    ck_assert(vsDomainStatsGetUInt64(st, "vcpu.current", &value));
    ck_assert_uint_eq(value, 1);
    ck_assert(vsDomainStatsGetUInt64(st, "vcpu.maximum", &value));
    ck_assert_uint_eq(value, 2);

    /* The sampler's flat path sees the same guest. */
    counters = vsHypervisorCollectCounters(hv, &error);
    ck_assert_msg(counters, "%s", error ? error->message : "?");
    ck_assert_uint_eq(counters->len, 1);
    c = &g_array_index(counters, vsDomainCounters, 0);
    ck_assert_str_eq(c->name, name);
    ck_assert_str_eq(c->uuid, info->uuid);
    want = VS_COUNTER_STATE | VS_COUNTER_CPU_TIME | VS_COUNTER_BALLOON_CURRENT |
        VS_COUNTER_BALLOON_MAXIMUM | VS_COUNTER_VCPU_CURRENT | VS_COUNTER_VCPU_MAXIMUM;
    ck_assert_msg((c->present & want) == want, "present 0x%x", c->present);
    ck_assert_int_eq(c->state, VS_DOMAIN_RUNNING);
    ck_assert_uint_gt(c->cpu_time_ns, 0);
    ck_assert_uint_eq(c->vcpu_current, 1);
    ck_assert_uint_eq(c->vcpu_maximum, 2);
    ck_assert_uint_eq(c->balloon_maximum_kib, 128 * 1024);
    ck_assert_uint_gt(c->balloon_current_kib, 0);
    ck_assert_uint_le(c->balloon_current_kib, c->balloon_maximum_kib);
    /* No disks and no NICs: nothing summed, nothing claimed. */
    ck_assert(!(c->present & (VS_COUNTER_BLOCK | VS_COUNTER_NET)));

    ck_assert_msg(vsHypervisorSetMemory(hv, name, 64 * 1024, VS_AFFECT_LIVE, &error),
                  "%s", error ? error->message : "?");

    /* Closing the connection takes the AUTODESTROY domain with it. */
    g_clear_pointer(&hv, vsHypervisorFree);
    drainLoop();
    other = vsHypervisorOpen(vsTestLibvirtdURI(d), NULL, &error);
    ck_assert_msg(other, "%s", error ? error->message : "?");
    /* The daemon reaps it once it notices our socket is gone. */
    for (deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;;) {
        g_clear_pointer(&info, vsDomainInfoFree);
        g_clear_error(&error);
        info = vsHypervisorLookupDomain(other, name, &error);
        if (!info || g_get_monotonic_time() >= deadline)
            break;
        g_usleep(20 * 1000);
    }
    ck_assert_ptr_null(info);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    g_clear_pointer(&other, vsHypervisorFree);
    vsTestLibvirtdStop(d);
    probeClear(&p);
}
END_TEST

/* Run @argv (no shell), assert it succeeds, return its stdout. */
static char *
runTool(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *err = NULL;
    char *out = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                      &out, &err, &status, &error))
        ck_abort_msg("cannot run %s: %s", argv[0], error->message);
    if (!g_spawn_check_wait_status(status, &error))
        ck_abort_msg("%s failed: %s: %s", argv[0], error->message, err);
    return out;
}

/* `qemu-img info --output=json` of @path, parsed. */
static vsJson *
imageInfo(const char *path)
{
    g_autofree char *out = runTool((const char *const[]){
        "qemu-img", "info", "--output=json", "-U", path, NULL });
    g_autoptr(GError) error = NULL;
    vsJson *info = vsJsonParse(out, -1, &error);

    ck_assert_msg(info, "qemu-img info %s: %s", path, error ? error->message : "");
    return info;
}

/* The base's content hash and mtime: the proof it was never written. */
static char *
fileFingerprint(const char *path)
{
    g_autofree char *data = NULL;
    g_autofree char *sum = NULL;
    gsize len = 0;
    struct stat st;

    ck_assert(g_file_get_contents(path, &data, &len, NULL));
    ck_assert_int_eq(stat(path, &st), 0);
    sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
    return g_strdup_printf("%s %lld.%09ld", sum, (long long)st.st_mtim.tv_sec,
                           st.st_mtim.tv_nsec);
}

static void
assertBacking(const char *overlay, const char *base, const char *format)
{
    g_autoptr(vsJson) info = imageInfo(overlay);

    ck_assert_str_eq(vsJsonGetString(vsJsonObjectGet(info, "format")), "qcow2");
    ck_assert_str_eq(vsJsonGetString(vsJsonObjectGet(info, "backing-filename")), base);
    ck_assert_msg(vsJsonGetString(vsJsonObjectGet(info, "backing-filename-format")),
                  "no backing format recorded in '%s'", overlay);
    ck_assert_str_eq(vsJsonGetString(vsJsonObjectGet(info, "backing-filename-format")), format);
}

/* Linked clones on a real storage driver in a temp dir: qemu-img sees the
 * backing file with its format, writes land in the overlay and never in
 * the base, a running clone's overlay is "in use", gc finds the clone by
 * its mark and the overlays by their prefix, even one libvirt never made. */
START_TEST(test_overlay_real)
{
    vsTestLibvirtd *d = vsTestLibvirtdStart();
    g_autofree char *dir = vsTestMakeTempDir("vs-overlay-XXXXXX");
    g_autofree char *base = g_build_filename(dir, "base.qcow2", NULL);
    g_autofree char *raw = g_build_filename(dir, "base.raw", NULL);
    g_autofree char *stray = g_build_filename(dir, "vs-shadow-r1-vdc.qcow2", NULL);
    g_autofree char *want = g_build_filename(dir, "vs-shadow-r1-vda.qcow2", NULL);
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    g_autofree char *path = NULL;
    g_autofree char *rawpath = NULL;
    g_autofree char *copypath = NULL;
    g_autofree char *copyfmt = NULL;
    g_autofree char *again = NULL;
    g_autofree char *user = NULL;
    g_autofree char *nobody = NULL;
    g_autofree char *meta = vsMetadataShadowRunXML("r1", NULL);
    g_autofree char *xml = NULL;
    g_autofree char *name = NULL;
    g_autoptr(vsHypervisor) hv = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) vols = NULL;
    g_autoptr(GPtrArray) shadows = NULL;
    g_autoptr(GPtrArray) left = NULL;
    vsDomainCounters c = { 0 };
    vsShadowDomain *sd;
    gint64 start;

    g_free(runTool((const char *const[]){ "qemu-img", "create", "-q", "-f", "qcow2", base, "64M", NULL }));
    g_free(runTool((const char *const[]){ "qemu-img", "create", "-q", "-f", "raw", raw, "16M", NULL }));
    before = fileFingerprint(base);
    hv = vsHypervisorOpen(vsTestLibvirtdURI(d), NULL, &error);
    ck_assert_msg(hv, "%s", error ? error->message : "?");

    start = g_get_monotonic_time();
    ck_assert_msg(vsHypervisorCreateOverlay(hv, base, dir, "vs-shadow-r1-vda.qcow2", &path, &error),
                  "%s", error ? error->message : "");
    printf("# overlay through the storage API (new transient pool): %.0f ms\n",
           (g_get_monotonic_time() - start) / 1e3);
    ck_assert_str_eq(path, want);
    assertBacking(path, base, "qcow2");
    {
        g_autoptr(vsJson) info = imageInfo(path);
        gint64 size = 0;

        ck_assert(vsJsonGetInt64(vsJsonObjectGet(info, "virtual-size"), &size));
        ck_assert_int_eq(size, 64 * 1024 * 1024);
    }
    ck_assert(!vsHypervisorCreateOverlay(hv, base, dir, "vs-shadow-r1-vda.qcow2", &again, &error));
    ck_assert_ptr_null(again);
    g_clear_error(&error);

    start = g_get_monotonic_time();
    ck_assert_msg(vsHypervisorCreateOverlay(hv, raw, dir, "vs-shadow-r1-vdb.qcow2", &rawpath, &error),
                  "%s", error ? error->message : "");
    printf("# overlay through the storage API (existing pool): %.0f ms\n",
           (g_get_monotonic_time() - start) / 1e3);
    assertBacking(rawpath, raw, "raw");

    /* a pool directory that does not exist yet: libvirtd makes it, with
     * our mode; one that exists keeps its own */
    {
        g_autofree char *missing = g_build_filename(dir, "not-yet", NULL);
        g_autofree char *inmissing = NULL;
        struct stat st;

        ck_assert_msg(vsHypervisorCreateOverlay(hv, base, missing, "vs-shadow-r3-vda.qcow2",
                                                &inmissing, &error),
                      "%s", error ? error->message : "");
        assertBacking(inmissing, base, "qcow2");
        ck_assert_int_eq(stat(missing, &st), 0);
        ck_assert_msg((st.st_mode & 07777) == 0711, "mode 0%o", st.st_mode & 07777);
        ck_assert_int_eq(stat(dir, &st), 0);
        ck_assert_msg((st.st_mode & 07777) == 0700, "mode 0%o", st.st_mode & 07777);
        ck_assert_msg(vsHypervisorDeleteVolume(hv, inmissing, &error), "%s",
                      error ? error->message : "");
    }

    /* writes go to the overlay: read back from it, base untouched */
    g_free(runTool((const char *const[]){ "qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 1M",
                                          path, NULL }));
    g_free(runTool((const char *const[]){ "qemu-io", "-f", "qcow2", "-c", "read -P 0xab 0 1M",
                                          path, NULL }));
    after = fileFingerprint(base);
    ck_assert_str_eq(after, before);

    /* a run killed before libvirt knew: made behind the pool's back */
    g_free(runTool((const char *const[]){ "qemu-img", "create", "-q", "-f", "qcow2", "-b", base,
                                          "-F", "qcow2", stray, NULL }));
    vols = vsHypervisorListVolumesByPrefix(hv, dir, "vs-shadow-r1-", &error);
    ck_assert_msg(vols, "%s", error ? error->message : "");
    ck_assert_uint_eq(vols->len, 3);
    ck_assert_str_eq(g_ptr_array_index(vols, 0), path);
    ck_assert_str_eq(g_ptr_array_index(vols, 1), rawpath);
    ck_assert_str_eq(g_ptr_array_index(vols, 2), stray);

    /* a running clone writes its overlay, and reads the base only */
    xml = g_strdup_printf("<domain type='qemu'><name>vs-shadow-r1</name>"
                          "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                          "<os><type arch='x86_64'>hvm</type></os>"
                          "<metadata>%s</metadata>"
                          "<devices><disk type='file' device='disk'>"
                          "<driver name='qemu' type='qcow2'/><source file='%s'/>"
                          "<target dev='vda' bus='virtio'/></disk>"
                          "<memballoon model='none'/></devices></domain>", meta, path);
    name = vsHypervisorCreateDomainXML(hv, xml, TRUE, &error);
    ck_assert_msg(name, "%s", error ? error->message : "");
    ck_assert(vsHypervisorDiskInUse(hv, path, &user, &error));
    ck_assert_str_eq(user, "vs-shadow-r1");
    ck_assert(vsHypervisorDiskInUse(hv, base, &nobody, &error));
    ck_assert_ptr_null(nobody);
    ck_assert(!vsHypervisorCreateOverlay(hv, path, dir, "vs-shadow-r2-vda.qcow2", &again, &error));
    ck_assert_msg(strstr(error->message, "in use by running domain 'vs-shadow-r1'"), "%s",
                  error->message);
    g_clear_error(&error);

    /* a full copy (deploy --clone full): the base's format, no backing
     * file, the same contents; a disk being written is not copied */
    ck_assert_msg(vsHypervisorCopyVolume(hv, raw, dir, "copy.img", &copypath, &copyfmt, &error),
                  "%s", error ? error->message : "");
    ck_assert_str_eq(copyfmt, "raw");
    ck_assert(g_str_has_suffix(copypath, "/copy.img"));
    {
        g_autoptr(vsJson) info = imageInfo(copypath);

        ck_assert_str_eq(vsJsonGetString(vsJsonObjectGet(info, "format")), "raw");
        ck_assert_ptr_null(vsJsonObjectGet(info, "backing-filename"));
    }
    g_free(runTool((const char *const[]){ "qemu-img", "compare", "-q", "-f", "raw", "-F", "raw",
                                          raw, copypath, NULL }));
    ck_assert(!vsHypervisorCopyVolume(hv, path, dir, "copy2.qcow2", &again, &copyfmt, &error));
    ck_assert_ptr_null(again);
    ck_assert_msg(strstr(error->message, "in use by running domain 'vs-shadow-r1'"), "%s",
                  error->message);
    g_clear_error(&error);

    shadows = vsHypervisorListShadowDomains(hv, &error);
    ck_assert_msg(shadows, "%s", error ? error->message : "");
    ck_assert_uint_eq(shadows->len, 1);
    sd = g_ptr_array_index(shadows, 0);
    ck_assert_str_eq(sd->name, "vs-shadow-r1");
    ck_assert_str_eq(sd->run_id, "r1");
    ck_assert(sd->active);
    ck_assert(!sd->persistent);
    ck_assert_uint_eq(g_strv_length(sd->overlays), 1);
    ck_assert_str_eq(sd->overlays[0], path);

    /* one domain's counters (timings are reported, not asserted: claims
     * about speed come from bench/) */
    for (int i = 0; i < 2; i++) {
        vsDomainCountersClear(&c);
        start = g_get_monotonic_time();
        ck_assert_msg(vsHypervisorGetDomainCounters(hv, name, &c, &error),
                      "%s", error ? error->message : "");
        printf("# one domain's counters, call %d: %.1f ms\n", i + 1,
               (g_get_monotonic_time() - start) / 1e3);
    }
    ck_assert_str_eq(c.name, "vs-shadow-r1");
    ck_assert_msg((c.present & (VS_COUNTER_CPU_TIME | VS_COUNTER_BLOCK | VS_COUNTER_STATE)) ==
                  (VS_COUNTER_CPU_TIME | VS_COUNTER_BLOCK | VS_COUNTER_STATE),
                  "present 0x%x", c.present);
    ck_assert_uint_gt(c.cpu_time_ns, 0);
    vsDomainCountersClear(&c);
    ck_assert(vsHypervisorDestroyDomain(hv, name, NULL));

    for (guint i = 0; i < vols->len; i++) {
        const char *v = g_ptr_array_index(vols, i);

        ck_assert_msg(vsHypervisorDeleteVolume(hv, v, &error), "%s", error ? error->message : "");
        ck_assert_msg(!g_file_test(v, G_FILE_TEST_EXISTS), "'%s' still exists", v);
        ck_assert(vsHypervisorDeleteVolume(hv, v, NULL));
    }
    left = vsHypervisorListVolumesByPrefix(hv, dir, "vs-shadow-", &error);
    ck_assert_msg(left, "%s", error ? error->message : "");
    ck_assert_uint_eq(left->len, 0);
    g_free(after);
    after = fileFingerprint(base);
    ck_assert_str_eq(after, before);

    g_clear_pointer(&hv, vsHypervisorFree);
    vsTestLibvirtdStop(d);
    vsTestRemoveTree(dir);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("libvirtd");
    TCase *tc = tcase_create("reconnect");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_reconnect);
    tcase_add_test(tc, test_real_domain);
    tcase_add_test(tc, test_overlay_real);
    suite_add_tcase(s, tc);
    vsHypervisorRegisterDriver(&vsLibvirtHypervisorDriver);
    return vsTestRunSuite(s);
}
