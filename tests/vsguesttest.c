/*
 * vsguesttest.c: end to end on a real QEMU (TCG) guest
 *
 * Boots the tiny guest (contrib/guest) under a private libvirtd and drives
 * it through the same driver virt-shadow uses: agent ping, guest-exec,
 * live vCPU hot-add seen online inside the guest, ballooning seen in both
 * balloon.current and the guest's MemTotal, and the sampler storing what
 * really happened (a busy loop is one vCPU; a restart is no negative rate)
 * in a throwaway PostgreSQL.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocator/vsactuate.h"
#include "hypervisor/vsguest.h"
#include "hypervisor/vshypervisor.h"
#include "store/vsstore.h"
#include "telemetry/vssampler.h"
#include "util/vserror.h"
#include "vsdrivers.h"
#include "vstestutils.h"

#define VS_GUEST_NAME "vs-e2e"
/* fixed, so a restart is the same domain to the sampler */
#define VS_GUEST_UUID "3e8b9a52-6a3f-4c55-9d0e-5a1d2f4b7c10"
#define VS_GUEST_MEMORY_KIB (256 * 1024)
#define VS_GUEST_BALLOON_KIB (192 * 1024)
#define VS_GUEST_BOOT_TIMEOUT_MS (120 * 1000)
#define VS_GUEST_CHANGE_TIMEOUT_MS (30 * 1000)

static vsTestLibvirtd *vsDaemon;
static vsTestPg *vsPg;
static char *vsGuestDir;

static char *
vsRenderGuestXML(void)
{
    return vsTestTinyGuestXML(vsGuestDir, VS_GUEST_NAME, VS_GUEST_UUID, VS_GUEST_MEMORY_KIB, 2, 1);
}

/* Unchecked fixture: runs once in the parent, so the daemon and the guest
 * files outlive each forked test and are removed even when one fails. */
static void
vsGuestSetup(void)
{
    g_autofree char *builder = g_build_filename(vsTestSrcDir(), "contrib", "guest",
                                                "build-guest", NULL);
    g_autofree char *base = NULL;
    g_autofree char *overlay = NULL;
    g_autoptr(vsHypervisor) hv = NULL;
    g_autoptr(GError) error = NULL;
    gint64 start;

    vsDriversInit();
    vsPg = vsTestPgStart();
    vsDaemon = vsTestLibvirtdStart();
    vsGuestDir = g_build_filename(vsTestLibvirtdDir(vsDaemon), "guest", NULL);
    start = g_get_monotonic_time();
    vsTestRun((const char *const[]){ builder, vsGuestDir, NULL });
    printf("# tiny guest built in %.1f s\n", (g_get_monotonic_time() - start) / 1e6);
    base = g_build_filename(vsGuestDir, "base.qcow2", NULL);
    /* the base is never written: the guest runs on its own overlay, made
     * as shadow runs make theirs, through the storage API */
    hv = vsHypervisorOpen(vsTestLibvirtdURI(vsDaemon), NULL, &error);
    if (!hv || !vsHypervisorCreateOverlay(hv, base, vsGuestDir, "overlay.qcow2", &overlay, &error))
        ck_abort_msg("cannot make the guest's overlay: %s", error ? error->message : "");
}

static void
vsGuestTeardown(void)
{
    g_autofree char *console = vsGuestDir ? g_build_filename(vsGuestDir, "console.log", NULL) : NULL;
    g_autofree char *log = NULL;

    /* leave the guest's console in the test log for post-mortems */
    if (console && g_file_get_contents(console, &log, NULL, NULL) && g_getenv("VS_TEST_VERBOSE"))
        printf("# guest console:\n%s\n", log);
    vsTestLibvirtdStop(vsDaemon);
    vsDaemon = NULL;
    vsTestPgStop(vsPg);
    vsPg = NULL;
    g_clear_pointer(&vsGuestDir, g_free);
}

static vsHypervisor *
vsOpen(void)
{
    g_autoptr(GError) error = NULL;
    vsHypervisor *hv = vsHypervisorOpen(vsTestLibvirtdURI(vsDaemon), NULL, &error);

    ck_assert_msg(hv != NULL, "%s", error ? error->message : "");
    return hv;
}

/* Run argv in the guest; returns stdout, asserting exit status 0. */
static char *
vsGuestOutput(vsHypervisor *hv, const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsGuestExecResult) res = vsGuestExec(hv, VS_GUEST_NAME, argv, NULL, 20000, &error);

    ck_assert_msg(res != NULL, "guest-exec %s: %s", argv[0], error ? error->message : "");
    ck_assert_int_eq(res->exit_code, 0);
    return g_strndup(g_bytes_get_data(res->out, NULL), g_bytes_get_size(res->out));
}

static guint64
vsGuestMemTotalKiB(vsHypervisor *hv)
{
    g_autofree char *meminfo = vsGuestOutput(hv, (const char *const[]){ "/bin/cat", "/proc/meminfo", NULL });
    guint64 kib = 0;

    ck_assert(sscanf(meminfo, "MemTotal: %" G_GUINT64_FORMAT " kB", &kib) == 1);
    return kib;
}

static gboolean
vsGuestStat(vsHypervisor *hv, vsStatsGroups group, const char *key, guint64 *ret)
{
    g_autoptr(GPtrArray) stats = vsHypervisorGetAllDomainStats(hv, group, TRUE, NULL);

    for (guint i = 0; stats && i < stats->len; i++) {
        vsDomainStats *s = g_ptr_array_index(stats, i);

        if (g_str_equal(s->name, VS_GUEST_NAME))
            return vsDomainStatsGetUInt64(s, key, ret);
    }
    return FALSE;
}

START_TEST(test_boot_and_ping)
{
    g_autoptr(vsHypervisor) hv = vsOpen();
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vsRenderGuestXML();
    g_autofree char *name = NULL;
    gint64 start = g_get_monotonic_time();

    name = vsHypervisorCreateDomainXML(hv, xml, FALSE, &error);
    ck_assert_msg(name != NULL, "%s", error ? error->message : "");
    ck_assert_str_eq(name, VS_GUEST_NAME);
    ck_assert_msg(vsGuestWaitForAgent(hv, VS_GUEST_NAME, VS_GUEST_BOOT_TIMEOUT_MS, &error),
                  "agent never answered: %s", error ? error->message : "");
    printf("# guest boot to agent ping: %.1f s\n", (g_get_monotonic_time() - start) / 1e6);
    ck_assert(vsGuestPing(hv, VS_GUEST_NAME, NULL));
}
END_TEST

START_TEST(test_guest_exec)
{
    g_autoptr(vsHypervisor) hv = vsOpen();
    g_autoptr(GError) error = NULL;
    g_autofree char *hello = vsGuestOutput(hv, (const char *const[]){ "/bin/echo", "hello", "world", NULL });
    g_autoptr(vsGuestExecResult) failing = NULL;
    g_autoptr(GBytes) input = g_bytes_new_static("piped\n", 6);
    g_autoptr(vsGuestExecResult) cat = NULL;

    ck_assert_str_eq(hello, "hello world\n");
    /* argv is passed as is: no shell, so metacharacters stay literal */
    failing = vsGuestExec(hv, VS_GUEST_NAME,
                          (const char *const[]){ "/bin/sh", "-c", "echo oops >&2; exit 3", NULL },
                          NULL, 20000, &error);
    ck_assert_msg(failing != NULL, "%s", error ? error->message : "");
    ck_assert_int_eq(failing->exit_code, 3);
    ck_assert_int_eq(g_bytes_get_size(failing->err), 5);
    ck_assert(memcmp(g_bytes_get_data(failing->err, NULL), "oops\n", 5) == 0);
    cat = vsGuestExec(hv, VS_GUEST_NAME, (const char *const[]){ "/bin/cat", NULL }, input, 20000, &error);
    ck_assert_msg(cat != NULL, "%s", error ? error->message : "");
    ck_assert_int_eq(g_bytes_get_size(cat->out), 6);
    ck_assert(memcmp(g_bytes_get_data(cat->out, NULL), "piped\n", 6) == 0);
}
END_TEST

typedef struct {
    vsHypervisor *hv;
    guint64 value;
} vsPollState;

static gboolean
vsCpusOnline(gpointer opaque)
{
    vsPollState *st = opaque;
    g_autofree char *online = vsGuestOutput(st->hv, (const char *const[]){
        "/bin/cat", "/sys/devices/system/cpu/online", NULL });

    return g_str_equal(g_strstrip(online), "0-1");
}

START_TEST(test_vcpu_hotplug)
{
    g_autoptr(vsHypervisor) hv = vsOpen();
    g_autoptr(GError) error = NULL;
    g_autofree char *before = vsGuestOutput(hv, (const char *const[]){
        "/bin/cat", "/sys/devices/system/cpu/online", NULL });
    vsPollState st = { hv, 0 };
    guint64 current = 0;

    ck_assert_str_eq(g_strstrip(before), "0");
    ck_assert_msg(vsHypervisorSetVcpus(hv, VS_GUEST_NAME, 2, VS_AFFECT_LIVE, &error),
                  "%s", error ? error->message : "");
    ck_assert_msg(vsTestPoll(vsCpusOnline, &st, VS_GUEST_CHANGE_TIMEOUT_MS, 100),
                  "the hot-added vCPU never came online in the guest");
    ck_assert(vsGuestStat(hv, VS_STATS_VCPU, "vcpu.current", &current));
    ck_assert_uint_eq(current, 2);
}
END_TEST

static gboolean
vsBalloonReached(gpointer opaque)
{
    vsPollState *st = opaque;
    guint64 current = 0;

    return vsGuestStat(st->hv, VS_STATS_BALLOON, "balloon.current", &current) &&
           current == st->value;
}

static gboolean
vsMemTotalDropped(gpointer opaque)
{
    vsPollState *st = opaque;

    return vsGuestMemTotalKiB(st->hv) <= st->value;
}

START_TEST(test_balloon)
{
    g_autoptr(vsHypervisor) hv = vsOpen();
    g_autoptr(GError) error = NULL;
    guint64 total_before = vsGuestMemTotalKiB(hv);
    vsPollState st = { hv, VS_GUEST_BALLOON_KIB };
    guint64 total_after;
    guint64 shrink = VS_GUEST_MEMORY_KIB - VS_GUEST_BALLOON_KIB;

    ck_assert_msg(vsHypervisorSetMemory(hv, VS_GUEST_NAME, VS_GUEST_BALLOON_KIB, VS_AFFECT_LIVE, &error),
                  "%s", error ? error->message : "");
    ck_assert_msg(vsTestPoll(vsBalloonReached, &st, VS_GUEST_CHANGE_TIMEOUT_MS, 100),
                  "balloon.current never reached %d KiB", VS_GUEST_BALLOON_KIB);
    /* the guest gives the pages back: MemTotal falls by the balloon size */
    st.value = total_before - shrink + 1024;
    ck_assert_msg(vsTestPoll(vsMemTotalDropped, &st, VS_GUEST_CHANGE_TIMEOUT_MS, 100),
                  "guest MemTotal stayed near %" G_GUINT64_FORMAT " KiB", total_before);
    total_after = vsGuestMemTotalKiB(hv);
    ck_assert_uint_ge(total_after, total_before - shrink - 1024);
}
END_TEST

/* The allocator's resizes on a real guest: vCPUs offlined and onlined
 * again through the agent (never unplugged), the balloon moved, each read
 * back before it counts as done. */
START_TEST(test_actuate)
{
    g_autoptr(vsHypervisor) hv = vsOpen();
    g_autoptr(GError) error = NULL;
    g_autofree char *online = NULL;
    vsActuateOptions opts;
    vsDomainResources res = { 0 };

    vsActuateOptionsDefaults(&opts);
    opts.vcpu_timeout_ms = opts.memory_timeout_ms = VS_GUEST_CHANGE_TIMEOUT_MS;
    ck_assert_msg(vsActuateVcpus(hv, VS_GUEST_NAME, 1, &opts, &res, &error), "%s",
                  error ? error->message : "");
    ck_assert_int_eq(res.guest_vcpus, 1);
    ck_assert_uint_eq(res.vcpus, 2);
    online = vsGuestOutput(hv, (const char *const[]){ "/bin/cat", "/sys/devices/system/cpu/online", NULL });
    ck_assert_str_eq(g_strstrip(online), "0");
    g_clear_pointer(&online, g_free);

    ck_assert_msg(vsActuateVcpus(hv, VS_GUEST_NAME, 2, &opts, &res, &error), "%s",
                  error ? error->message : "");
    ck_assert_int_eq(res.guest_vcpus, 2);
    online = vsGuestOutput(hv, (const char *const[]){ "/bin/cat", "/sys/devices/system/cpu/online", NULL });
    ck_assert_str_eq(g_strstrip(online), "0-1");

    ck_assert_msg(vsActuateMemory(hv, VS_GUEST_NAME, VS_GUEST_MEMORY_KIB - 16384, &opts, &res, &error),
                  "%s", error ? error->message : "");
    ck_assert_uint_le(res.memory_kib, VS_GUEST_MEMORY_KIB - 16384 + 2600);
    ck_assert_uint_gt(res.used_kib, 0);
    ck_assert_uint_lt(res.used_kib, res.memory_kib);
    /* back where the telemetry test expects it */
    ck_assert_msg(vsActuateMemory(hv, VS_GUEST_NAME, VS_GUEST_BALLOON_KIB, &opts, &res, &error),
                  "%s", error ? error->message : "");
}
END_TEST

static void
vsCycle(vsSampler *s, vsHypervisor *hv, vsStore *store)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vsSamplerCycle(s, hv, store, g_get_real_time(), &error), "%s",
                  error ? error->message : "");
    ck_assert_msg(vsTestSamplerStats(s).samples_spooled == 0, "the sampler lost the database");
}

static vsSampler *
vsGuestSampler(void)
{
    g_autofree char *spool = g_build_filename(vsGuestDir, "spool", NULL);
    g_autoptr(GError) error = NULL;
    vsSamplerConfig cfg = { .balloon_period_s = 2, .spool_max_bytes = 1 << 20 };
    vsSampler *s;

    vsAdaptiveConfigDefaults(&cfg.adaptive);
    /* sample every cycle: the test decides when a cycle happens */
    cfg.adaptive.min_interval_ms = 100;
    cfg.adaptive.max_interval_ms = 100;
    s = vsSamplerNew(&cfg, "e2e", spool, &error);
    ck_assert_msg(s != NULL, "%s", error ? error->message : "");
    return s;
}

static const vsSample *
vsLastSample(GArray *series)
{
    ck_assert_uint_gt(series->len, 0);
    return &g_array_index(series, vsSample, series->len - 1);
}

static void
vsAssertNoNegativeRates(GArray *series)
{
    for (guint i = 0; i < series->len; i++) {
        const vsSample *x = &g_array_index(series, vsSample, i);
        const double rates[] = { x->cpu_vcpus, x->cpu_per_vcpu, x->disk_rd_bps, x->disk_wr_bps,
                                 x->disk_rd_iops, x->disk_wr_iops, x->net_rx_bps, x->net_tx_bps };

        for (gsize r = 0; r < G_N_ELEMENTS(rates); r++)
            ck_assert_msg(isnan(rates[r]) || rates[r] >= 0, "sample %u rate %zu is %g", i, r, rates[r]);
    }
}

static gboolean
vsBusyLoopRunning(gpointer opaque)
{
    g_autofree char *ps = vsGuestOutput(opaque, (const char *const[]){ "/bin/ps", NULL });

    return strstr(ps, "sh -c while :; do :; done") != NULL;
}

START_TEST(test_telemetry)
{
    g_autoptr(vsHypervisor) hv = vsOpen();
    g_autoptr(GError) error = NULL;
    g_autofree char *db = vsTestPgCreateDatabase(vsPg, "e2e_telemetry");
    vsStoreTarget target = { .url = db };
    g_autoptr(vsStore) store = vsStoreOpen(&target, FALSE, &error);
    g_autoptr(vsSampler) sampler = vsGuestSampler();
    g_autoptr(GArray) series = NULL;
    g_autofree char *xml = vsRenderGuestXML();
    g_autofree char *name = NULL;
    gint64 start = g_get_real_time();
    const vsSample *busy;

    ck_assert_msg(store && vsStoreMigrate(store, NULL, &error), "%s", error ? error->message : "");
    /* a busy loop on one vCPU, detached so guest-exec returns at once */
    g_autoptr(vsGuestExecResult) res = vsGuestExec(hv, VS_GUEST_NAME, (const char *const[]){
        "/bin/sh", "-c", "timeout 30 sh -c 'while :; do :; done' >/dev/null 2>&1 &", NULL },
        NULL, 20000, &error);
    ck_assert_msg(res && res->exit_code == 0, "%s", error ? error->message : "busy loop failed");

    ck_assert_msg(vsTestPoll(vsBusyLoopRunning, hv, VS_GUEST_CHANGE_TIMEOUT_MS, 100),
                  "the busy loop never showed up in the guest");
    /* a rate needs time to pass: measure the loop over a 4 s window */
    vsCycle(sampler, hv, store);
    g_usleep(4 * G_USEC_PER_SEC);
    vsCycle(sampler, hv, store);
    series = vsStoreQuerySamples(store, VS_GUEST_UUID, start, G_MAXINT64, &error);
    ck_assert_msg(series != NULL, "%s", error ? error->message : "");
    busy = vsLastSample(series);
    printf("# busy loop measured at %.2f vCPU-equivalents over %.1f s\n", busy->cpu_vcpus,
           busy->interval_s);
    ck_assert_msg(fabs(busy->cpu_vcpus - 1.0) <= 0.2, "busy loop measured %.2f vCPUs", busy->cpu_vcpus);
    /* test_balloon left the guest at 192 MiB */
    ck_assert_int_eq(busy->mem_current_kib, VS_GUEST_BALLOON_KIB);
    ck_assert_int_eq(busy->mem_max_kib, VS_GUEST_MEMORY_KIB);
    ck_assert_int_eq(busy->vcpus, 2);
    g_clear_pointer(&series, g_array_unref);

    /* restart: the same UUID comes back with counters from zero */
    ck_assert_msg(vsHypervisorDestroyDomain(hv, VS_GUEST_NAME, &error), "%s", error ? error->message : "");
    name = vsHypervisorCreateDomainXML(hv, xml, FALSE, &error);
    ck_assert_msg(name != NULL, "%s", error ? error->message : "");
    vsCycle(sampler, hv, store);
    g_usleep(G_USEC_PER_SEC);
    vsCycle(sampler, hv, store);
    series = vsStoreQuerySamples(store, VS_GUEST_UUID, start, G_MAXINT64, &error);
    ck_assert_msg(series != NULL, "%s", error ? error->message : "");
    ck_assert_uint_ge(series->len, 3);
    vsAssertNoNegativeRates(series);
    /* after the restart, rates are measured again */
    ck_assert(!isnan(vsLastSample(series)->cpu_vcpus));
    ck_assert_msg(vsGuestWaitForAgent(hv, VS_GUEST_NAME, VS_GUEST_BOOT_TIMEOUT_MS, &error),
                  "agent never answered after the restart: %s", error ? error->message : "");
}
END_TEST

/* The agent's file calls: a script copied in with mode 0755 reads back
 * the same and runs; a file of several chunks survives the trip; a file
 * over the reader's limit and a path that cannot be opened are errors
 * naming the domain and the path. */
START_TEST(test_file_transfer)
{
    g_autoptr(vsHypervisor) hv = vsOpen();
    g_autoptr(GError) error = NULL;
    static const char script[] = "#!/bin/sh\necho \"shadow-ok $1\"\n";
    g_autoptr(GBytes) data = g_bytes_new_static(script, strlen(script));
    g_autoptr(GBytes) back = NULL;
    g_autoptr(GBytes) big = NULL;
    g_autoptr(GBytes) big_back = NULL;
    g_autoptr(GBytes) capped = NULL;
    g_autofree char *mode = NULL;
    g_autofree char *ran = NULL;
    g_autofree guchar *bytes = g_malloc(150 * 1024 + 7);
    gint64 start = g_get_monotonic_time();

    ck_assert_msg(vsGuestFileWrite(hv, VS_GUEST_NAME, "/tmp/vs-hello.sh", data, 0755, 20000, &error),
                  "%s", error ? error->message : "");
    ck_assert_msg(vsGuestFileRead(hv, VS_GUEST_NAME, "/tmp/vs-hello.sh", 4096, &back, &error),
                  "%s", error ? error->message : "");
    ck_assert(g_bytes_equal(back, data));
    mode = vsGuestOutput(hv, (const char *const[]){ "/bin/stat", "-c", "%a", "/tmp/vs-hello.sh", NULL });
    ck_assert_str_eq(g_strstrip(mode), "755");
    ran = vsGuestOutput(hv, (const char *const[]){ "/tmp/vs-hello.sh", "a b;c", NULL });
    ck_assert_str_eq(ran, "shadow-ok a b;c\n");

    /* four chunks, the last one short; bytes of every value */
    for (gsize i = 0; i < 150 * 1024 + 7; i++)
        bytes[i] = (guchar)(i * 131 + (i >> 9));
    big = g_bytes_new(bytes, 150 * 1024 + 7);
    ck_assert_msg(vsGuestFileWrite(hv, VS_GUEST_NAME, "/tmp/vs-big", big, -1, 30000, &error),
                  "%s", error ? error->message : "");
    ck_assert_msg(vsGuestFileRead(hv, VS_GUEST_NAME, "/tmp/vs-big", 150 * 1024 + 7, &big_back, &error),
                  "%s", error ? error->message : "");
    ck_assert(g_bytes_equal(big_back, big));
    printf("# guest file write+read of 150 KiB and a script: %.2f s\n",
           (g_get_monotonic_time() - start) / 1e6);

    ck_assert(!vsGuestFileRead(hv, VS_GUEST_NAME, "/tmp/vs-big", 100 * 1024, &capped, &error));
    ck_assert_ptr_null(capped);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_str_eq(error->message, "cannot read '/tmp/vs-big' in domain '" VS_GUEST_NAME
                     "': it is larger than 102400 bytes");
    g_clear_error(&error);

    ck_assert(!vsGuestFileWrite(hv, VS_GUEST_NAME, "/nonexistent/dir/f", data, 0644, 20000, &error));
    ck_assert_msg(g_str_has_prefix(error->message, "cannot open '/nonexistent/dir/f' in domain '"
                                   VS_GUEST_NAME "' for writing: "), "%s", error->message);
    g_clear_error(&error);
    ck_assert(!vsGuestFileRead(hv, VS_GUEST_NAME, "relative", 10, &capped, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
}
END_TEST

START_TEST(test_destroy)
{
    g_autoptr(vsHypervisor) hv = vsOpen();
    g_autoptr(GError) error = NULL;
    g_autoptr(vsDomainInfo) gone = NULL;

    ck_assert_msg(vsHypervisorDestroyDomain(hv, VS_GUEST_NAME, &error), "%s",
                  error ? error->message : "");
    /* transient: destroying it removes it */
    gone = vsHypervisorLookupDomain(hv, VS_GUEST_NAME, &error);
    ck_assert_ptr_null(gone);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("guest");
    TCase *tc = tcase_create("tiny-guest");

    /* the steps share one guest, in order */
    tcase_add_unchecked_fixture(tc, vsGuestSetup, vsGuestTeardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_boot_and_ping);
    tcase_add_test(tc, test_guest_exec);
    tcase_add_test(tc, test_file_transfer);
    tcase_add_test(tc, test_vcpu_hotplug);
    tcase_add_test(tc, test_balloon);
    tcase_add_test(tc, test_actuate);
    tcase_add_test(tc, test_telemetry);
    tcase_add_test(tc, test_destroy);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
