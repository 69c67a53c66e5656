/*
 * vsdeploytest.c: a deploy's sizing and why, the deployed domain's XML
 * made from its base's, and the batches its install steps run in
 */
#include <config.h>

#include <string.h>

#include "conf/vsdomainxml.h"
#include "conf/vspolicy.h"
#include "hypervisor/vshypervisor.h"
#include "shadow/vsdeploy.h"
#include "util/vserror.h"
#include "vstestutils.h"

#define MIB (G_GUINT64_CONSTANT(1024))     /* in KiB */


/* Profile aggregates with these per-step peaks. */
static GPtrArray *
vsTestAggregates(const double *cpu_peaks, const guint64 *memory_peaks_kib, gsize n)
{
    GPtrArray *aggs = g_ptr_array_new_with_free_func((GDestroyNotify)vsProfileAggregateFree);

    for (gsize i = 0; i < n; i++) {
        vsProfileAggregate *agg = g_new0(vsProfileAggregate, 1);

        agg->name = g_strdup_printf("step %zu", i + 1);
        agg->index = i + 1;
        agg->runs = 3;
        agg->cpu_peak.peak = cpu_peaks[i];
        agg->cpu_peak.mean = cpu_peaks[i] / 2;
        agg->memory_peak_kib.peak = (double)memory_peaks_kib[i];
        agg->memory_peak_kib.mean = (double)memory_peaks_kib[i] / 2;
        g_ptr_array_add(aggs, agg);
    }
    return aggs;
}

/* --- sizing -------------------------------------------------------------- */

START_TEST(test_size_from_profile)
{
    static const double cpu[] = { 0.2, 1.5, 0.9 };
    static const guint64 mem[] = { 100 * MIB, 200 * MIB, 300 * MIB };
    g_autoptr(GPtrArray) aggs = vsTestAggregates(cpu, mem, G_N_ELEMENTS(cpu));
    g_autofree char *why_cpu = NULL;
    g_autofree char *why_mem = NULL;
    g_autoptr(GError) error = NULL;
    vsDeploySizing s;

    vsDeploySize(aggs, 3, 1.2, 4, 4096 * MIB, &s);
    ck_assert_int_eq(s.sized_by, VS_DEPLOY_SIZED_BY_PROFILE);
    ck_assert_uint_eq(s.runs, 3);
    /* the highest step peaks, whichever steps they come from */
    ck_assert_double_eq(s.size.peak_cpu, 1.5);
    ck_assert_uint_eq(s.size.peak_memory_kib, 300 * MIB);
    /* ceil(1.5 x 1.2 = 1.8) = 2; 300 MiB x 1.2 = 360 MiB */
    ck_assert_uint_eq(s.size.vcpus, 2);
    ck_assert_uint_eq(s.size.memory_kib, 360 * MIB);
    /* headroom up to the starting policy's maxima, twice the sizes */
    ck_assert_uint_eq(s.max_vcpus, 4);
    ck_assert_uint_eq(s.max_memory_kib, 720 * MIB);
    ck_assert_int_eq(s.policy.mode, VS_POLICY_MODE_AUTO);
    ck_assert_uint_eq(s.policy.min_vcpus, 2);
    ck_assert_uint_eq(s.policy.max_vcpus, 4);
    ck_assert_uint_eq(s.policy.min_memory_kib, 360 * MIB);
    ck_assert_uint_eq(s.policy.max_memory_kib, 720 * MIB);
    ck_assert_msg(vsPolicyCheck(&s.policy, &error), "%s", error ? error->message : "");

    why_cpu = vsDeployExplainVcpus(&s);
    why_mem = vsDeployExplainMemory(&s);
    ck_assert_str_eq(why_cpu, "2 vCPUs: peak 1.50 cores x margin 1.2 = 1.80, rounded up");
    ck_assert_str_eq(why_mem, "360 MiB: peak 300 MiB x margin 1.2 = 360.0 MiB, rounded up to a MiB");
}
END_TEST

START_TEST(test_size_margin)
{
    static const double cpu[] = { 2.5 };
    static const guint64 mem[] = { 1000 * MIB + 1 };
    g_autoptr(GPtrArray) aggs = vsTestAggregates(cpu, mem, 1);
    vsDeploySizing s;

    /* 2.5 x 1.2 is 3 (not 4 from binary rounding); 1000 MiB + 1 KiB x 1.2 rounds up */
    vsDeploySize(aggs, 1, 1.2, 1, 128 * MIB, &s);
    ck_assert_uint_eq(s.size.vcpus, 3);
    ck_assert_uint_eq(s.size.memory_kib, 1201 * MIB);
    /* margin 2: 5 vCPUs; <= 0: the default 1.2 */
    vsDeploySize(aggs, 1, 2, 1, 128 * MIB, &s);
    ck_assert_uint_eq(s.size.vcpus, 5);
    ck_assert_uint_eq(s.max_vcpus, 10);
    vsDeploySize(aggs, 1, 0, 1, 128 * MIB, &s);
    ck_assert_double_eq(s.margin, 1.2);
    ck_assert_uint_eq(s.size.vcpus, 3);
}
END_TEST

/* Tiny peaks still get a usable domain, and the why says so. */
START_TEST(test_size_floors)
{
    static const double cpu[] = { 0.4 };
    static const guint64 mem[] = { 50 * MIB };
    g_autoptr(GPtrArray) aggs = vsTestAggregates(cpu, mem, 1);
    g_autofree char *why_cpu = NULL;
    g_autofree char *why_mem = NULL;
    vsDeploySizing s;

    vsDeploySize(aggs, 1, 1.2, 8, 8192 * MIB, &s);
    ck_assert_uint_eq(s.size.vcpus, 1);
    ck_assert_uint_eq(s.size.memory_kib, 128 * MIB);
    ck_assert_uint_eq(s.max_vcpus, 2);
    ck_assert_uint_eq(s.max_memory_kib, 256 * MIB);
    why_cpu = vsDeployExplainVcpus(&s);
    why_mem = vsDeployExplainMemory(&s);
    ck_assert_str_eq(why_cpu, "1 vCPU: peak 0.40 cores x margin 1.2 = 0.48, at least 1");
    ck_assert_str_eq(why_mem, "128 MiB: peak 50 MiB x margin 1.2 = 60.0 MiB, at least 128 MiB");
}
END_TEST

START_TEST(test_size_defaults)
{
    g_autoptr(GPtrArray) empty = g_ptr_array_new();
    g_autofree char *why_cpu = NULL;
    g_autofree char *why_mem = NULL;
    vsDeploySizing s;

    vsDeploySize(NULL, 0, 1.2, 2, 1024 * MIB, &s);
    ck_assert_int_eq(s.sized_by, VS_DEPLOY_SIZED_BY_DEFAULTS);
    ck_assert_uint_eq(s.size.vcpus, 2);
    ck_assert_uint_eq(s.size.memory_kib, 1024 * MIB);
    ck_assert_double_eq(s.size.peak_cpu, 0);
    ck_assert_uint_eq(s.max_vcpus, 4);
    ck_assert_uint_eq(s.max_memory_kib, 2048 * MIB);
    why_cpu = vsDeployExplainVcpus(&s);
    why_mem = vsDeployExplainMemory(&s);
    ck_assert_str_eq(why_cpu, "2 vCPUs: [deploy] vcpus (no profile)");
    ck_assert_str_eq(why_mem, "1 GiB: [deploy] memory (no profile)");
    /* an empty profile is no profile; the defaults have floors too */
    vsDeploySize(empty, 0, 1.2, 0, 1, &s);
    ck_assert_int_eq(s.sized_by, VS_DEPLOY_SIZED_BY_DEFAULTS);
    ck_assert_uint_eq(s.size.vcpus, 1);
    ck_assert_uint_eq(s.size.memory_kib, 128 * MIB);
}
END_TEST

/* --- the host's room ------------------------------------------------------ */

/* 2 vCPUs and 360 MiB fit exactly; one more of either does not. */
START_TEST(test_room)
{
    g_autoptr(GError) error = NULL;
    vsDeploySizing s;
    vsDeployRoom room = { .vcpus = 8, .memory_kib = 1024 * MIB, .used_vcpus = 6,
                          .used_memory_kib = 664 * MIB };
    static const double cpu[] = { 1.5 };
    static const guint64 mem[] = { 300 * MIB };
    g_autoptr(GPtrArray) aggs = vsTestAggregates(cpu, mem, 1);

    vsDeploySize(aggs, 1, 1.2, 1, 1024 * MIB, &s);
    ck_assert(vsDeployCheckRoom(&room, &s, "web7", NULL));
    room.used_vcpus = 6.5;
    ck_assert(!vsDeployCheckRoom(&room, &s, "web7", &error));
    ck_assert_int_eq(error->code, VS_ERROR_INVALID);
    ck_assert_str_eq(error->message, "no room on this host for domain 'web7': it needs 2 vCPUs "
                     "and 360 MiB; 1.5 of 8 vCPUs and 360 MiB of 1 GiB are free (capacity x "
                     "[allocator] overcommit, less what the running domains hold)");
    g_clear_error(&error);
    room.used_vcpus = 0;
    room.used_memory_kib = 665 * MIB;
    ck_assert(!vsDeployCheckRoom(&room, &s, "web7", &error));
    /* more in use than there is: nothing is free, never a negative */
    g_clear_error(&error);
    room.used_memory_kib = 2048 * MIB;
    ck_assert(!vsDeployCheckRoom(&room, &s, "web7", &error));
    ck_assert_msg(strstr(error->message, "8 of 8 vCPUs and 0 KiB of 1 GiB are free"), "%s",
                  error->message);
}
END_TEST

/* --- the domain ---------------------------------------------------------- */

static void
vsTestSizing(vsDeploySizing *s)
{
    static const double cpu[] = { 1.5 };
    static const guint64 mem[] = { 300 * MIB };
    g_autoptr(GPtrArray) aggs = vsTestAggregates(cpu, mem, 1);

    vsDeploySize(aggs, 1, 1.2, 1, 1024 * MIB, s);
}

static void
vsTestSpec(vsDeployDomainSpec *spec, const vsDeploySizing *sizing)
{
    memset(spec, 0, sizeof(*spec));
    spec->name = "web7";
    spec->uuid = "99999999-8888-4777-8666-555555555555";
    spec->disk_path = "/var/lib/libvirt/images/web7.qcow2";
    spec->disk_format = "qcow2";
    spec->sizing = sizing;
}

START_TEST(test_domain)
{
    g_autofree char *base = vsTestFixture("vsdeploydata", "base.xml");
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *ours = NULL;
    g_autoptr(vsDomainXML) def = NULL;
    vsDeployDomainSpec spec;
    vsDeploySizing sizing;
    vsPolicy policy;
    gboolean present = FALSE;

    vsTestSizing(&sizing);
    vsTestSpec(&spec, &sizing);
    xml = vsDeployDomainXML(base, &spec, &error);
    ck_assert_msg(xml, "%s", error ? error->message : "");
    ck_assert(g_str_has_prefix(xml, "<domain"));
    ASSERT_XPATH(xml, "string(/domain/@id)", "");
    ASSERT_XPATH(xml, "string(/domain/@type)", "qemu");
    ASSERT_XPATH(xml, "/domain/name", "web7");
    ASSERT_XPATH(xml, "/domain/uuid", "99999999-8888-4777-8666-555555555555");
    /* sized from the profile, with headroom up to the policy's maxima */
    ASSERT_XPATH(xml, "/domain/vcpu", "4");
    ASSERT_XPATH(xml, "/domain/vcpu/@current", "2");
    ASSERT_XPATH(xml, "/domain/vcpu/@placement", "static");
    ASSERT_XPATH(xml, "/domain/memory", "737280");
    ASSERT_XPATH(xml, "/domain/memory/@unit", "KiB");
    ASSERT_XPATH(xml, "/domain/currentMemory", "368640");
    ASSERT_XPATH(xml, "/domain/currentMemory/@unit", "KiB");
    ASSERT_XPATH(xml, "count(/domain/maxMemory)", "0");
    ASSERT_XPATH(xml, "count(/domain/vcpus)", "0");
    ASSERT_XPATH(xml, "count(/domain/cputune)", "0");
    ASSERT_XPATH(xml, "count(/domain/memtune)", "0");
    ASSERT_XPATH(xml, "count(/domain/cpu/topology)", "0");
    ASSERT_XPATH(xml, "/domain/cpu/@mode", "host-model");
    /* a production domain keeps the base's lifecycle actions */
    ASSERT_XPATH(xml, "/domain/on_crash", "coredump-restart");
    /* the writable disk is the clone; the cdrom stays */
    ASSERT_XPATH(xml, "count(/domain/devices/disk)", "2");
    ASSERT_XPATH(xml, "/domain/devices/disk[@device='disk']/@type", "file");
    ASSERT_XPATH(xml, "/domain/devices/disk[@device='disk']/source/@file", spec.disk_path);
    ASSERT_XPATH(xml, "count(/domain/devices/disk[@device='disk']/source/@pool)", "0");
    ASSERT_XPATH(xml, "/domain/devices/disk[@device='disk']/driver/@type", "qcow2");
    ASSERT_XPATH(xml, "count(/domain/devices/disk/backingStore)", "0");
    ASSERT_XPATH(xml, "/domain/devices/disk[@device='cdrom']/source/@file", "/var/lib/vs/seed.iso");
    /* NICs stay on their networks with fresh MACs and tap devices */
    ASSERT_XPATH(xml, "count(/domain/devices/interface)", "2");
    ASSERT_XPATH(xml, "count(/domain/devices/interface/mac)", "0");
    ASSERT_XPATH(xml, "count(/domain/devices/interface/target)", "0");
    ASSERT_XPATH(xml, "/domain/devices/interface[@type='bridge']/source/@bridge", "br0");
    ASSERT_XPATH(xml, "/domain/devices/interface[@type='bridge']/model/@type", "virtio");
    ASSERT_XPATH(xml, "/domain/devices/interface[@type='network']/source/@network", "default");
    ASSERT_XPATH(xml, "count(/domain/devices/channel/source)", "0");
    ASSERT_XPATH(xml, "/domain/devices/channel/target/@name", "org.qemu.guest_agent.0");
    /* its own console logs: named after it, or prefixed with its name */
    ASSERT_XPATH(xml, "/domain/devices/serial/@type", "file");
    ASSERT_XPATH(xml, "/domain/devices/serial/source/@path", "/var/log/vs/web7.console.log");
    ASSERT_XPATH(xml, "/domain/devices/console/@type", "pty");
    ASSERT_XPATH(xml, "/domain/devices/console/log/@file", "/var/log/vs/web7-console.log");
    ASSERT_XPATH(xml, "/domain/devices/console/log/@append", "on");
    ASSERT_XPATH(xml, "/domain/devices/memballoon/stats/@period", "2");
    /* our element: the starting policy only, no shadow mark, no old policy */
    ASSERT_XPATH(xml, "count(/domain/metadata/vs:domain)", "1");
    ASSERT_XPATH(xml, "count(/domain/metadata/vs:domain/vs:shadow-run)", "0");
    ASSERT_XPATH(xml, "/domain/metadata/vs:domain/vs:policy/@mode", "auto");
    ASSERT_XPATH(xml, "/domain/metadata/other:app", "kept");
    ours = vsTestXPathNode(xml, "/domain/metadata/vs:domain");
    ck_assert_msg(vsPolicyParse(ours, &policy, &present, &error), "%s: %s", ours,
                  error ? error->message : "");
    ck_assert(present);
    ck_assert_int_eq(policy.mode, VS_POLICY_MODE_AUTO);
    ck_assert_uint_eq(policy.min_vcpus, 2);
    ck_assert_uint_eq(policy.max_vcpus, 4);
    ck_assert_uint_eq(policy.min_memory_kib, 360 * MIB);
    ck_assert_uint_eq(policy.max_memory_kib, 720 * MIB);
    /* the allocator finds the headroom the policy asks for */
    def = vsDomainXMLParse(xml, &error);
    ck_assert_msg(def, "%s", error ? error->message : "");
    ck_assert(vsDomainXMLHasVcpuHeadroom(def));
    ck_assert(vsDomainXMLHasMemoryHeadroom(def));
    {
        g_autoptr(GPtrArray) problems = vsPolicyHeadroomProblems(xml, &policy, &error);

        ck_assert_msg(problems, "%s", error ? error->message : "");
        ck_assert_uint_eq(problems->len, 0);
    }
}
END_TEST

/* A full copy keeps the base's format; a base without metadata gets ours. */
START_TEST(test_domain_full_copy)
{
    g_autofree char *path = g_build_filename(vsTestSrcDir(), "contrib", "guest", "tiny-guest.xml.in", NULL);
    g_autofree char *base = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    vsDeployDomainSpec spec;
    vsDeploySizing sizing;

    ck_assert(g_file_get_contents(path, &base, NULL, NULL));
    vsDeploySize(NULL, 0, 1.2, 1, 256 * MIB, &sizing);
    vsTestSpec(&spec, &sizing);
    spec.disk_path = "/var/lib/libvirt/images/web7.img";
    spec.disk_format = "raw";
    xml = vsDeployDomainXML(base, &spec, &error);
    ck_assert_msg(xml, "%s", error ? error->message : "");
    ASSERT_XPATH(xml, "/domain/devices/disk/source/@file", "/var/lib/libvirt/images/web7.img");
    ASSERT_XPATH(xml, "/domain/devices/disk/driver/@type", "raw");
    ASSERT_XPATH(xml, "/domain/vcpu", "2");
    ASSERT_XPATH(xml, "/domain/vcpu/@current", "1");
    ASSERT_XPATH(xml, "/domain/memory", "524288");
    ASSERT_XPATH(xml, "/domain/currentMemory", "262144");
    ASSERT_XPATH(xml, "/domain/metadata/vs:domain/vs:policy/vs:vcpus/@max", "2");
    ck_assert_ptr_null(strstr(xml, "@VCPUS@"));
    ck_assert_ptr_null(strstr(xml, "@CURRENT_VCPUS@"));
}
END_TEST

START_TEST(test_domain_bad)
{
    g_autofree char *two = vsTestFixture("vsdeploydata", "two-disks.xml");
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GError) e3 = NULL;
    vsDeployDomainSpec spec;
    vsDeploySizing sizing;

    vsTestSizing(&sizing);
    vsTestSpec(&spec, &sizing);
    ck_assert_ptr_null(vsDeployDomainXML(two, &spec, &e1));
    ck_assert_int_eq(e1->code, VS_ERROR_INVALID);
    ck_assert_str_eq(e1->message, "base domain has 2 writable disks; a deploy needs exactly one");
    ck_assert_ptr_null(vsDeployDomainXML("<domain><name>x</name><devices/></domain>", &spec, &e2));
    ck_assert_str_eq(e2->message, "base domain has no writable disk");
    ck_assert_ptr_null(vsDeployDomainXML("<domain><name>", &spec, &e3));
    ck_assert(g_str_has_prefix(e3->message, "malformed base domain XML at line 1: "));
}
END_TEST

/* --- steps --------------------------------------------------------------- */

static void
vsTestAssertBatch(GPtrArray *batches, guint i, const guint *expect, guint n)
{
    GArray *batch = g_ptr_array_index(batches, i);

    ck_assert_uint_eq(batch->len, n);
    for (guint k = 0; k < n; k++)
        ck_assert_uint_eq(g_array_index(batch, guint, k), expect[k]);
}

START_TEST(test_batches)
{
    g_autofree char *text = vsTestFixture("vsdeploydata", "optimized.sh");
    g_autoptr(GError) error = NULL;
    g_autoptr(vsScript) opt = vsScriptParse(text, strlen(text), "optimized.sh", &error);
    g_autoptr(vsScript) plain = NULL;
    g_autoptr(GPtrArray) batches = NULL;
    static const guint one[] = { 1 }, two_three[] = { 2, 3 }, four[] = { 4 };
    static const guint two[] = { 2 }, three[] = { 3 };

    ck_assert_msg(opt, "%s", error ? error->message : "");
    batches = vsDeployBatches(opt);
    ck_assert_uint_eq(batches->len, 3);
    vsTestAssertBatch(batches, 0, one, 1);
    vsTestAssertBatch(batches, 1, two_three, 2);
    vsTestAssertBatch(batches, 2, four, 1);
    g_clear_pointer(&batches, g_ptr_array_unref);

    /* without groups every step runs alone, in order */
    plain = vsScriptParse("mkdir /a\ntouch /a/b\necho done\n", 30, "plain.sh", &error);
    ck_assert_msg(plain, "%s", error ? error->message : "");
    batches = vsDeployBatches(plain);
    ck_assert_uint_eq(batches->len, 3);
    vsTestAssertBatch(batches, 0, one, 1);
    vsTestAssertBatch(batches, 1, two, 1);
    vsTestAssertBatch(batches, 2, three, 1);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("deploy");
    TCase *tc = tcase_create("deploy");

    tcase_add_test(tc, test_size_from_profile);
    tcase_add_test(tc, test_size_margin);
    tcase_add_test(tc, test_size_floors);
    tcase_add_test(tc, test_size_defaults);
    tcase_add_test(tc, test_room);
    tcase_add_test(tc, test_domain);
    tcase_add_test(tc, test_domain_full_copy);
    tcase_add_test(tc, test_domain_bad);
    tcase_add_test(tc, test_batches);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
