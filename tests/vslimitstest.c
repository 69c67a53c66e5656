/*
 * vslimitstest.c: --limits parsing and its errors, the libvirt figures
 * (quota, hard limit), and the shadow's domain XML made from a base's
 */
#include <config.h>

#include <string.h>

#include "conf/vsmetadata.h"
#include "conf/vspolicy.h"
#include "hypervisor/vshypervisor.h"
#include "shadow/vslimits.h"
#include "util/vserror.h"
#include "vstestutils.h"

#define MIB (G_GUINT64_CONSTANT(1024))     /* in KiB */

START_TEST(test_defaults)
{
    vsLimits l;

    ck_assert(vsLimitsParse(NULL, &l, NULL));
    ck_assert_uint_eq(l.vcpus, 1);
    ck_assert_uint_eq(l.cpu_percent, 100);
    ck_assert_uint_eq(l.memory_kib, 512 * MIB);
    ck_assert_uint_eq(l.disk_iops, 0);
    ck_assert_uint_eq(l.disk_bytes_sec, 0);
    ck_assert(vsLimitsParse("", &l, NULL));
    ck_assert_uint_eq(l.memory_kib, 512 * MIB);
    /* no quota at 100%; hard limit = 512 MiB + max(512 MiB, 256 MiB) */
    ck_assert_int_eq(vsLimitsCpuQuota(&l), -1);
    ck_assert_uint_eq(vsLimitsHardLimitKiB(&l), 1024 * MIB);
}
END_TEST

START_TEST(test_parse)
{
    vsLimits l;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    vsLimits back;

    ck_assert_msg(vsLimitsParse("vcpus=2, cpu=50%,memory=2G,disk-iops=200,disk-bps=20M", &l, &error),
                  "%s", error ? error->message : "");
    ck_assert_uint_eq(l.vcpus, 2);
    ck_assert_uint_eq(l.cpu_percent, 50);
    ck_assert_uint_eq(l.memory_kib, 2048 * MIB);
    ck_assert_uint_eq(l.disk_iops, 200);
    ck_assert_uint_eq(l.disk_bytes_sec, 20 * 1024 * 1024);
    /* quota is per vCPU thread: 50% of the 100 ms period, whatever the count */
    ck_assert_int_eq(vsLimitsCpuQuota(&l), 50000);
    /* 2 GiB + max(512 MiB, 1 GiB) */
    ck_assert_uint_eq(vsLimitsHardLimitKiB(&l), 3072 * MIB);
    /* a memory size without a unit is MiB; cpu without '%' too */
    ck_assert(vsLimitsParse("memory=768,cpu=5", &l, NULL));
    ck_assert_uint_eq(l.memory_kib, 768 * MIB);
    ck_assert_uint_eq(l.cpu_percent, 5);
    ck_assert_int_eq(vsLimitsCpuQuota(&l), 5000);
    text = vsLimitsFormat(&l);
    ck_assert_str_eq(text, "vcpus=1,cpu=5%,memory=786432K");
    ck_assert(vsLimitsParse(text, &back, NULL));
    ck_assert_mem_eq(&back, &l, sizeof(l));
}
END_TEST

static const struct {
    const char *text;
    const char *message;
} vsTestBadLimits[] = {
    { "cpu=150%", "invalid limit 'cpu=150%': must be between 1% and 100% of a host CPU per vCPU" },
    { "cpu=0%", "invalid limit 'cpu=0%': must be between 1% and 100% of a host CPU per vCPU" },
    { "cpu=half", "invalid limit 'cpu=half': expected a percentage such as 50%" },
    { "vcpus=0", "invalid limit 'vcpus=0': must be at least 1" },
    { "vcpus=two", "invalid limit 'vcpus=two': expected a vCPU count" },
    { "memory=0", "invalid limit 'memory=0': must be at least 32M" },
    { "memory=lots", "invalid limit 'memory=lots': invalid size 'lots' "
                     "(expected a number with an optional unit such as 512M or 4G)" },
    { "disk-iops=0", "invalid limit 'disk-iops=0': must be at least 1 (leave it out for no limit)" },
    { "disk-bps=0", "invalid limit 'disk-bps=0': must be at least 1 (leave it out for no limit)" },
    { "disk-bps=", "invalid limit 'disk-bps=': missing value" },
    { "vcpus", "invalid limit 'vcpus': expected key=value" },
    { "vcpus=1,,cpu=5%", "invalid limit 'vcpus=1,,cpu=5%': empty item" },
    { "gpu=1", "unknown limit 'gpu' (expected vcpus, cpu, memory, disk-iops or disk-bps)" },
    { "cpu=50%,memory=1G,cpu=20%", "limit 'cpu' given twice" },
};

START_TEST(test_bad)
{
    vsLimits l;
    g_autoptr(GError) error = NULL;

    memset(&l, 0xa5, sizeof(l));
    ck_assert(!vsLimitsParse(vsTestBadLimits[_i].text, &l, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_USAGE));
    ck_assert_str_eq(error->message, vsTestBadLimits[_i].message);
    /* nothing written on failure */
    ck_assert_uint_eq(l.vcpus, 0xa5a5a5a5);
}
END_TEST

START_TEST(test_format_xml)
{
    vsLimits l;
    g_autofree char *xml = NULL;

    ck_assert(vsLimitsParse("vcpus=2,cpu=25%,memory=256M", &l, NULL));
    xml = vsLimitsFormatXML(&l);
    ck_assert_str_eq(xml,
                     "<vcpu placement='static'>2</vcpu>\n"
                     "<memory unit='KiB'>262144</memory>\n"
                     "<currentMemory unit='KiB'>262144</currentMemory>\n"
                     "<cputune>\n  <period>100000</period>\n  <quota>25000</quota>\n</cputune>\n"
                     "<memtune>\n  <hard_limit unit='KiB'>786432</hard_limit>\n</memtune>\n");
}
END_TEST


static void
vsTestSpec(vsShadowDomainSpec *spec, const vsLimits *limits)
{
    memset(spec, 0, sizeof(*spec));
    spec->name = "shadow-demo-42";
    spec->uuid = "99999999-8888-4777-8666-555555555555";
    spec->run_id = "42";
    spec->overlay_path = "/var/lib/libvirt/images/shadow-demo-42.qcow2";
    spec->overlay_format = "qcow2";
    spec->limits = limits;
}

START_TEST(test_shadow_domain)
{
    g_autofree char *base = vsTestFixture("vslimitsdata", "base.xml");
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *ours = NULL;
    g_autofree char *run = NULL;
    vsShadowDomainSpec spec;
    vsPolicy policy;
    gboolean present = TRUE;
    vsLimits l;

    ck_assert(vsLimitsParse("vcpus=2,cpu=50%,memory=512M,disk-iops=200,disk-bps=20M", &l, NULL));
    vsTestSpec(&spec, &l);
    xml = vsLimitsShadowDomain(base, &spec, &error);
    ck_assert_msg(xml, "%s", error ? error->message : "");
    ck_assert(g_str_has_prefix(xml, "<domain"));
    ASSERT_XPATH(xml, "string(/domain/@id)", "");
    ASSERT_XPATH(xml, "string(/domain/@type)", "qemu");
    ASSERT_XPATH(xml, "/domain/name", "shadow-demo-42");
    ASSERT_XPATH(xml, "/domain/uuid", "99999999-8888-4777-8666-555555555555");
    ASSERT_XPATH(xml, "count(/domain/maxMemory)", "0");
    ASSERT_XPATH(xml, "/domain/memory", "524288");
    ASSERT_XPATH(xml, "/domain/memory/@unit", "KiB");
    ASSERT_XPATH(xml, "/domain/currentMemory", "524288");
    ASSERT_XPATH(xml, "/domain/vcpu", "2");
    ASSERT_XPATH(xml, "count(/domain/vcpu/@current)", "0");
    ASSERT_XPATH(xml, "count(/domain/cputune/vcpupin)", "0");
    ASSERT_XPATH(xml, "/domain/cputune/period", "100000");
    ASSERT_XPATH(xml, "/domain/cputune/quota", "50000");
    ASSERT_XPATH(xml, "/domain/memtune/hard_limit", "1048576");
    ASSERT_XPATH(xml, "/domain/memtune/hard_limit/@unit", "KiB");
    ASSERT_XPATH(xml, "count(/domain/cpu/topology)", "0");
    ASSERT_XPATH(xml, "/domain/cpu/@mode", "host-model");
    ASSERT_XPATH(xml, "/domain/on_crash", "destroy");
    ASSERT_XPATH(xml, "/domain/on_reboot", "restart");
    /* the writable disk is the overlay; the cdrom stays */
    ASSERT_XPATH(xml, "count(/domain/devices/disk)", "2");
    ASSERT_XPATH(xml, "/domain/devices/disk[@device='disk']/@type", "file");
    ASSERT_XPATH(xml, "/domain/devices/disk[@device='disk']/source/@file", spec.overlay_path);
    ASSERT_XPATH(xml, "count(/domain/devices/disk[@device='disk']/source/@pool)", "0");
    ASSERT_XPATH(xml, "/domain/devices/disk[@device='disk']/driver/@type", "qcow2");
    ASSERT_XPATH(xml, "count(/domain/devices/disk/backingStore)", "0");
    ASSERT_XPATH(xml, "/domain/devices/disk[@device='disk']/target/@dev", "vda");
    ASSERT_XPATH(xml, "/domain/devices/disk[@device='disk']/iotune/total_iops_sec", "200");
    ASSERT_XPATH(xml, "/domain/devices/disk[@device='disk']/iotune/total_bytes_sec", "20971520");
    ASSERT_XPATH(xml, "count(/domain/devices/disk[@device='cdrom']/iotune)", "0");
    ASSERT_XPATH(xml, "/domain/devices/disk[@device='cdrom']/source/@file", "/var/lib/vs/seed.iso");
    ASSERT_XPATH(xml, "count(/domain/devices/interface)", "0");
    ASSERT_XPATH(xml, "count(/domain/devices/channel/source)", "0");
    ASSERT_XPATH(xml, "/domain/devices/channel/target/@name", "org.qemu.guest_agent.0");
    ASSERT_XPATH(xml, "/domain/devices/memballoon/stats/@period", "2");
    /* our element holds the run id and no longer the base's policy */
    ASSERT_XPATH(xml, "count(/domain/metadata/vs:domain)", "1");
    ASSERT_XPATH(xml, "/domain/metadata/vs:domain/vs:shadow-run/@id", "42");
    ASSERT_XPATH(xml, "count(/domain/metadata/vs:domain/vs:policy)", "0");
    ASSERT_XPATH(xml, "/domain/metadata/other:app", "kept");

    /* the element passes the metadata schema (shadow-run is a foreign child) */
    ours = vsTestXPathNode(xml, "/domain/metadata/vs:domain");
    ck_assert_msg(vsPolicyParse(ours, &policy, &present, &error), "%s: %s", ours,
                  error ? error->message : "");
    ck_assert(!present);
    /* gc reads the mark back through conf/vsmetadata */
    ck_assert(vsMetadataParseShadowRun(ours, &run, NULL));
    ck_assert_str_eq(run, "42");
}
END_TEST

START_TEST(test_shadow_domain_network)
{
    g_autofree char *base = vsTestFixture("vslimitsdata", "base.xml");
    g_autofree char *xml = NULL;
    vsShadowDomainSpec spec;
    vsLimits l;

    vsLimitsInitDefaults(&l);
    vsTestSpec(&spec, &l);
    spec.network = "vs-isolated";
    xml = vsLimitsShadowDomain(base, &spec, NULL);
    ck_assert_ptr_nonnull(xml);
    ASSERT_XPATH(xml, "count(/domain/devices/interface)", "1");
    ASSERT_XPATH(xml, "/domain/devices/interface/@type", "network");
    ASSERT_XPATH(xml, "/domain/devices/interface/source/@network", "vs-isolated");
    ASSERT_XPATH(xml, "count(/domain/devices/interface/mac)", "0");
    /* at 100% there is no quota, and no disk limit means no <iotune> */
    ASSERT_XPATH(xml, "count(/domain/cputune)", "0");
    ASSERT_XPATH(xml, "count(/domain/devices/disk/iotune)", "0");
    ASSERT_XPATH(xml, "/domain/vcpu", "1");
    ASSERT_XPATH(xml, "/domain/memtune/hard_limit", "1048576");
}
END_TEST

/* The tiny guest's own template, placeholders and all. */
START_TEST(test_shadow_domain_tiny_guest)
{
    g_autofree char *path = g_build_filename(vsTestSrcDir(), "contrib", "guest", "tiny-guest.xml.in", NULL);
    g_autofree char *base = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    vsShadowDomainSpec spec;
    vsLimits l;

    ck_assert(g_file_get_contents(path, &base, NULL, NULL));
    ck_assert(vsLimitsParse("memory=1G", &l, NULL));
    vsTestSpec(&spec, &l);
    xml = vsLimitsShadowDomain(base, &spec, &error);
    ck_assert_msg(xml, "%s", error ? error->message : "");
    ASSERT_XPATH(xml, "/domain/name", "shadow-demo-42");
    ASSERT_XPATH(xml, "/domain/vcpu", "1");
    ASSERT_XPATH(xml, "/domain/memory", "1048576");
    /* 1 GiB + max(512 MiB, 512 MiB) */
    ASSERT_XPATH(xml, "/domain/memtune/hard_limit", "1572864");
    ASSERT_XPATH(xml, "/domain/devices/disk/source/@file", spec.overlay_path);
    /* the base's console log is not the throwaway shadow's to truncate */
    ASSERT_XPATH(xml, "/domain/devices/serial/@type", "pty");
    ASSERT_XPATH(xml, "count(/domain/devices/serial/source)", "0");
    ck_assert_ptr_null(strstr(xml, "@CONSOLE_LOG@"));
    ck_assert_ptr_null(strstr(xml, "@DISK@"));
    ck_assert_ptr_null(strstr(xml, "@VCPUS@"));
    ck_assert_ptr_null(strstr(xml, "@CURRENT_VCPUS@"));
}
END_TEST

START_TEST(test_shadow_domain_bad)
{
    g_autofree char *two = vsTestFixture("vslimitsdata", "two-disks.xml");
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GError) e3 = NULL;
    g_autoptr(GError) e4 = NULL;
    vsShadowDomainSpec spec;
    vsLimits l;

    vsLimitsInitDefaults(&l);
    vsTestSpec(&spec, &l);
    ck_assert_ptr_null(vsLimitsShadowDomain(two, &spec, &e1));
    ck_assert_str_eq(e1->message, "base domain has 2 writable disks; a shadow needs exactly one");
    ck_assert_ptr_null(vsLimitsShadowDomain("<domain><name>x</name><devices/></domain>", &spec, &e2));
    ck_assert_str_eq(e2->message, "base domain has no writable disk");
    ck_assert_ptr_null(vsLimitsShadowDomain("<domain><name>", &spec, &e3));
    ck_assert(g_str_has_prefix(e3->message, "malformed base domain XML at line 1: "));
    ck_assert_ptr_null(vsLimitsShadowDomain("<network/>", &spec, &e4));
    ck_assert_str_eq(e4->message, "base XML root element is not <domain>");
}
END_TEST

/* The run id follows conf/vsmetadata's rules: one that could escape the
 * overlay's name ("vs-shadow-RUNID-") or the XML is refused. */
START_TEST(test_run_id)
{
    g_autofree char *base = vsTestFixture("vslimitsdata", "base.xml");
    static const char *const bad[] = { "../x", "a\"b", "", "-x", NULL };
    vsShadowDomainSpec spec;
    vsLimits l;

    vsLimitsInitDefaults(&l);
    vsTestSpec(&spec, &l);
    for (guint i = 0; bad[i]; i++) {
        g_autoptr(GError) error = NULL;

        spec.run_id = bad[i];
        ck_assert_ptr_null(vsLimitsShadowDomain(base, &spec, &error));
        ck_assert_int_eq(error->code, VS_ERROR_INVALID);
    }
    {
        g_autoptr(GError) error = NULL;

        spec.run_id = "../x";
        ck_assert_ptr_null(vsLimitsShadowDomain(base, &spec, &error));
        ck_assert_str_eq(error->message, "invalid shadow run id '../x'");
    }
    spec.run_id = "r42-2026.11";
    {
        g_autofree char *xml = vsLimitsShadowDomain(base, &spec, NULL);

        ck_assert_ptr_nonnull(xml);
        ASSERT_XPATH(xml, "/domain/metadata/vs:domain/vs:shadow-run/@id", "r42-2026.11");
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("limits");

    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_parse);
    tcase_add_loop_test(tc, test_bad, 0, G_N_ELEMENTS(vsTestBadLimits));
    tcase_add_test(tc, test_format_xml);
    tcase_add_test(tc, test_shadow_domain);
    tcase_add_test(tc, test_shadow_domain_network);
    tcase_add_test(tc, test_shadow_domain_tiny_guest);
    tcase_add_test(tc, test_shadow_domain_bad);
    tcase_add_test(tc, test_run_id);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
