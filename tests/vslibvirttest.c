/*
 * vslibvirttest.c: the libvirt driver against libvirt's test driver
 *
 * test:///default and tests/vslibvirtdata/node.xml (web1 and db1 running,
 * idle1 shut off; web1 has an agent channel and 1 of 4 vCPUs online).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libvirt/libvirt.h>

#include "vstestutils.h"
#include "allocator/vsactuate.h"
#include "conf/vsmetadata.h"
#include "conf/vsstoragexml.h"
#include "hypervisor/vshypervisor.h"
#include "hypervisor/vsguest.h"
#include "libvirt/vslibvirt.h"
#include "libvirt/vsvirevent.h"
#include "util/vserror.h"
#include "util/vsjson.h"

#define WEB1_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"

static const char *newDomainXML =
    "<domain type='test'>"
    "  <name>shadow-new</name>"
    "  <memory unit='KiB'>262144</memory>"
    "  <vcpu>1</vcpu>"
    "  <os><type arch='i686'>hvm</type></os>"
    "</domain>";

static char *
fixtureURI(void)
{
    g_autofree char *path = g_build_filename(vsTestSrcDir(), "tests", "vslibvirtdata",
                                             "node.xml", NULL);

    return g_strdup_printf("test://%s", path);
}

/* Let deferred frees and timers run so leak checks see a quiet loop. */
static void
drainLoop(void)
{
    gint64 until = g_get_monotonic_time() + 50 * 1000;

    while (g_get_monotonic_time() < until)
        g_main_context_iteration(NULL, FALSE);
}

static vsHypervisor *
openFixture(const vsHypervisorCallbacks *cbs)
{
    g_autofree char *uri = fixtureURI();
    g_autoptr(GError) error = NULL;
    vsHypervisor *hv = vsHypervisorOpen(uri, cbs, &error);

    ck_assert_msg(hv, "open %s: %s", uri, error ? error->message : "?");
    return hv;
}

static vsDomainInfo *
findInfo(GPtrArray *list, const char *name)
{
    guint i;

    for (i = 0; i < list->len; i++) {
        vsDomainInfo *info = g_ptr_array_index(list, i);

        if (g_str_equal(info->name, name))
            return info;
    }
    return NULL;
}

START_TEST(test_open_default)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsHypervisor) hv = vsHypervisorOpen("test:///default", NULL, &error);
    g_autofree char *uri = NULL;

    ck_assert_msg(hv, "%s", error ? error->message : "?");
    uri = vsHypervisorGetURI(hv);
    ck_assert_str_eq(uri, "test:///default");
    ck_assert(vsHypervisorIsAlive(hv));
    g_clear_pointer(&hv, vsHypervisorFree);
    drainLoop();
}
END_TEST

START_TEST(test_open_bad_uri)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsHypervisor) hv = vsHypervisorOpen("bogus:///nowhere", NULL, &error);

    ck_assert_ptr_null(hv);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT));
    ck_assert_msg(g_str_has_prefix(error->message, "cannot connect to 'bogus:///nowhere': "),
                  "%s", error->message);
    ck_assert(!g_str_has_suffix(error->message, "."));
}
END_TEST

START_TEST(test_list)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = vsHypervisorListDomains(hv, &error);
    vsDomainInfo *info;

    ck_assert_msg(list, "%s", error ? error->message : "?");
    ck_assert_uint_eq(list->len, 3);
    info = findInfo(list, "web1");
    ck_assert_ptr_nonnull(info);
    ck_assert_str_eq(info->uuid, WEB1_UUID);
    ck_assert_int_eq(info->state, VS_DOMAIN_RUNNING);
    ck_assert_int_gt(info->id, 0);
    ck_assert(info->persistent);
    info = findInfo(list, "idle1");
    ck_assert_ptr_nonnull(info);
    ck_assert_int_eq(info->state, VS_DOMAIN_SHUTOFF);
    ck_assert_int_eq(info->id, -1);
    ck_assert_ptr_nonnull(findInfo(list, "db1"));
}
END_TEST

START_TEST(test_lookup)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(vsDomainInfo) byname = vsHypervisorLookupDomain(hv, "web1", &error);
    g_autoptr(vsDomainInfo) byuuid = NULL;
    g_autoptr(vsDomainInfo) missing = NULL;

    ck_assert_msg(byname, "%s", error ? error->message : "?");
    ck_assert_str_eq(byname->uuid, WEB1_UUID);
    byuuid = vsHypervisorLookupDomain(hv, WEB1_UUID, &error);
    ck_assert_msg(byuuid, "%s", error ? error->message : "?");
    ck_assert_str_eq(byuuid->name, "web1");

    missing = vsHypervisorLookupDomain(hv, "nosuch", &error);
    ck_assert_ptr_null(missing);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(error->message, "domain 'nosuch' not found");
    g_clear_error(&error);

    /* A well-formed UUID nobody has is not found either, by its own name. */
    missing = vsHypervisorLookupDomain(hv, "00000000-0000-0000-0000-000000000001", &error);
    ck_assert_ptr_null(missing);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(error->message,
                     "domain '00000000-0000-0000-0000-000000000001' not found");
}
END_TEST

START_TEST(test_xml)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vsHypervisorGetDomainXML(hv, "web1", FALSE, &error);
    g_autofree char *inactive = NULL;
    g_autofree char *missing = NULL;

    ck_assert_msg(xml, "%s", error ? error->message : "?");
    ck_assert_ptr_nonnull(strstr(xml, "<name>web1</name>"));
    ck_assert_ptr_nonnull(strstr(xml, "current='1'"));
    ck_assert_ptr_nonnull(strstr(xml, "org.qemu.guest_agent.0"));
    inactive = vsHypervisorGetDomainXML(hv, WEB1_UUID, TRUE, &error);
    ck_assert_msg(inactive, "%s", error ? error->message : "?");
    ck_assert_ptr_nonnull(strstr(inactive, "<name>web1</name>"));
    missing = vsHypervisorGetDomainXML(hv, "nosuch", FALSE, &error);
    ck_assert_ptr_null(missing);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
}
END_TEST

START_TEST(test_define_start_destroy_undefine)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *name = vsHypervisorDefineDomainXML(hv, newDomainXML, &error);
    g_autoptr(vsDomainInfo) info = NULL;
    g_autofree char *bad = NULL;

    ck_assert_msg(name, "%s", error ? error->message : "?");
    ck_assert_str_eq(name, "shadow-new");
    info = vsHypervisorLookupDomain(hv, name, &error);
    ck_assert_int_eq(info->state, VS_DOMAIN_SHUTOFF);
    ck_assert(info->persistent);
    g_clear_pointer(&info, vsDomainInfoFree);

    /* Stopping a stopped domain is fine. */
    ck_assert_msg(vsHypervisorDestroyDomain(hv, name, &error), "%s", error->message);
    ck_assert_msg(vsHypervisorStartDomain(hv, name, &error), "%s", error->message);
    info = vsHypervisorLookupDomain(hv, name, &error);
    ck_assert_int_eq(info->state, VS_DOMAIN_RUNNING);
    g_clear_pointer(&info, vsDomainInfoFree);
    ck_assert_msg(vsHypervisorDestroyDomain(hv, name, &error), "%s", error->message);
    ck_assert_msg(vsHypervisorDestroyDomain(hv, name, &error), "%s", error->message);
    ck_assert_msg(vsHypervisorUndefineDomain(hv, name, &error), "%s", error->message);
    info = vsHypervisorLookupDomain(hv, name, &error);
    ck_assert_ptr_null(info);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    g_clear_error(&error);

    ck_assert(!vsHypervisorStartDomain(hv, "nosuch", &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    g_clear_error(&error);

    bad = vsHypervisorDefineDomainXML(hv, "<domain", &error);
    ck_assert_ptr_null(bad);
    ck_assert_ptr_nonnull(error);
    ck_assert(g_str_has_prefix(error->message, "cannot define domain on 'test://"));
}
END_TEST

START_TEST(test_create_transient)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    /* The test driver cannot autodestroy; the libvirtd test covers it. */
    g_autofree char *name = vsHypervisorCreateDomainXML(hv, newDomainXML, FALSE, &error);
    g_autoptr(vsDomainInfo) info = NULL;

    ck_assert_msg(name, "%s", error ? error->message : "?");
    info = vsHypervisorLookupDomain(hv, name, &error);
    ck_assert_int_eq(info->state, VS_DOMAIN_RUNNING);
    ck_assert(!info->persistent);
    ck_assert_msg(vsHypervisorDestroyDomain(hv, name, &error), "%s", error->message);
}
END_TEST

START_TEST(test_metadata)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *none = vsHypervisorGetMetadata(hv, "web1", VS_AFFECT_CURRENT, &error);
    g_autofree char *got = NULL;
    g_autofree char *gone = NULL;

    ck_assert_ptr_null(none);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(error->message, "domain 'web1' has no virt-shadow metadata");
    g_clear_error(&error);

    ck_assert_msg(vsHypervisorSetMetadata(hv, "web1", "<policy><tier>gold</tier></policy>",
                                          VS_AFFECT_LIVE, &error),
                  "%s", error ? error->message : "?");
    got = vsHypervisorGetMetadata(hv, "web1", VS_AFFECT_LIVE, &error);
    ck_assert_msg(got, "%s", error ? error->message : "?");
    ck_assert_ptr_nonnull(strstr(got, "<tier>gold</tier>"));
    ck_assert_ptr_nonnull(strstr(got, "policy"));

    /* It lands in the domain XML under our namespace and prefix. */
    {
        g_autofree char *xml = vsHypervisorGetDomainXML(hv, "web1", FALSE, &error);

        ck_assert_ptr_nonnull(strstr(xml, VS_METADATA_NS));
        ck_assert_ptr_nonnull(strstr(xml, "<" VS_METADATA_PREFIX ":policy"));
    }

    ck_assert_msg(vsHypervisorSetMetadata(hv, "web1", NULL, VS_AFFECT_LIVE, &error),
                  "%s", error ? error->message : "?");
    gone = vsHypervisorGetMetadata(hv, "web1", VS_AFFECT_LIVE, &error);
    ck_assert_ptr_null(gone);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    g_clear_error(&error);

    ck_assert(!vsHypervisorSetMetadata(hv, "nosuch", "<policy/>", VS_AFFECT_LIVE, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
}
END_TEST

START_TEST(test_capabilities)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *caps = vsHypervisorGetCapabilities(hv, &error);

    ck_assert_msg(caps, "%s", error ? error->message : "?");
    ck_assert_ptr_nonnull(strstr(caps, "<capabilities>"));
    ck_assert_ptr_nonnull(strstr(caps, "<host>"));
}
END_TEST

START_TEST(test_resize)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;

    ck_assert_msg(vsHypervisorSetVcpus(hv, "web1", 2, VS_AFFECT_LIVE, &error),
                  "%s", error ? error->message : "?");
    xml = vsHypervisorGetDomainXML(hv, "web1", FALSE, &error);
    ck_assert_msg(strstr(xml, "current='2'"), "%s", xml);
    g_clear_pointer(&xml, g_free);

    /* Above the maximum is refused, and says which domain. */
    ck_assert(!vsHypervisorSetVcpus(hv, "web1", 64, VS_AFFECT_LIVE, &error));
    ck_assert_msg(g_str_has_prefix(error->message, "cannot set vCPUs of domain 'web1' to 64: "),
                  "%s", error->message);
    g_clear_error(&error);

    ck_assert_msg(vsHypervisorSetMemory(hv, "web1", 524288, VS_AFFECT_LIVE, &error),
                  "%s", error ? error->message : "?");
    xml = vsHypervisorGetDomainXML(hv, "web1", FALSE, &error);
    ck_assert_msg(strstr(xml, "<currentMemory unit='KiB'>524288</currentMemory>"), "%s", xml);

    ck_assert(!vsHypervisorSetMemory(hv, "nosuch", 524288, VS_AFFECT_LIVE, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
}
END_TEST

/* What the allocator reads back after a resize: the live sizes, with the
 * agent's and the balloon's answers unknown on the test driver. */
START_TEST(test_resources)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    vsDomainResources res = { 0 };
    double cpus = 0, memory = 0;

    /* the host's size, for the capacity ledger: the fixture's <node> */
    ck_assert(vsHypervisorGetHostSize(hv, &cpus, &memory, NULL));
    ck_assert_double_eq(cpus, 8);
    ck_assert_double_eq(memory, 8388608);
    ck_assert(vsHypervisorSetVcpus(hv, "web1", 2, VS_AFFECT_LIVE, NULL));
    ck_assert(vsHypervisorSetMemory(hv, "web1", 524288, VS_AFFECT_LIVE, NULL));
    ck_assert_msg(vsHypervisorGetResources(hv, "web1", &res, &error), "%s",
                  error ? error->message : "?");
    ck_assert_uint_eq(res.vcpus, 2);
    ck_assert_uint_gt(res.max_vcpus, 2);
    ck_assert_int_eq(res.guest_vcpus, -1);
    ck_assert_uint_eq(vsDomainResourcesVcpus(&res), 2);
    ck_assert_uint_eq(res.memory_kib, 524288);
    ck_assert_uint_gt(res.max_memory_kib, 524288);

    ck_assert(vsHypervisorDestroyDomain(hv, "web1", NULL));
    ck_assert(!vsHypervisorGetResources(hv, "web1", &res, &error));
    ck_assert_msg(strstr(error->message, "'web1' is not running"), "%s", error->message);
}
END_TEST

/* A resize is carried out and read back; one the domain cannot take is
 * refused before anything is changed. */
START_TEST(test_actuate)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    vsActuateOptions opts;
    vsDomainResources res = { 0 };

    vsActuateOptionsDefaults(&opts);
    ck_assert_msg(vsActuateVcpus(hv, "web1", 3, &opts, &res, &error), "%s",
                  error ? error->message : "?");
    ck_assert_uint_eq(res.vcpus, 3);
    /* no agent: shrinking unplugs */
    ck_assert_msg(vsActuateVcpus(hv, "web1", 1, &opts, &res, &error), "%s",
                  error ? error->message : "?");
    ck_assert_uint_eq(res.vcpus, 1);
    ck_assert_msg(vsActuateMemory(hv, "web1", 300000, &opts, &res, &error), "%s",
                  error ? error->message : "?");
    ck_assert_uint_eq(res.memory_kib, 300000);

    ck_assert(!vsActuateVcpus(hv, "web1", res.max_vcpus + 1, &opts, NULL, &error));
    ck_assert_msg(strstr(error->message, "its maximum is"), "%s", error->message);
    g_clear_error(&error);
    ck_assert(!vsActuateMemory(hv, "web1", res.max_memory_kib + 1, &opts, NULL, &error));
    ck_assert_msg(strstr(error->message, "its maximum is"), "%s", error->message);
    g_clear_error(&error);
    ck_assert(vsHypervisorGetResources(hv, "web1", &res, NULL));
    ck_assert_uint_eq(res.vcpus, 1);
    ck_assert_uint_eq(res.memory_kib, 300000);

    ck_assert(vsHypervisorDestroyDomain(hv, "web1", NULL));
    ck_assert(!vsActuateMemory(hv, "web1", 300000, &opts, NULL, &error));
    ck_assert_msg(strstr(error->message, "'web1' is not running"), "%s", error->message);
}
END_TEST

START_TEST(test_agent_unsupported)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *reply = vsHypervisorAgentCommand(hv, "web1", "{\"execute\":\"guest-ping\"}",
                                                      -1, &error);

    /* The test driver has no agent: an error, never a crash or a hang. */
    ck_assert_ptr_null(reply);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(g_str_has_prefix(error->message, "guest agent of domain 'web1' failed: "),
                  "%s", error->message);
    g_clear_error(&error);
    ck_assert(!vsGuestPing(hv, "web1", &error));
    ck_assert_ptr_nonnull(error);
    g_clear_error(&error);
    ck_assert(!vsGuestPing(hv, "nosuch", &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
}
END_TEST

START_TEST(test_stats)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GPtrArray) running = NULL;
    g_autoptr(GPtrArray) every = NULL;
    guint i;

    all = vsHypervisorGetAllDomainStats(hv, VS_STATS_STATE, FALSE, &error);
    ck_assert_msg(all, "%s", error ? error->message : "?");
    ck_assert_uint_eq(all->len, 3);
    for (i = 0; i < all->len; i++) {
        vsDomainStats *st = g_ptr_array_index(all, i);
        guint64 state = 0;

        ck_assert_msg(vsDomainStatsGetUInt64(st, "state.state", &state), "%s", st->name);
        ck_assert_int_eq(strlen(st->uuid), 36);
        if (g_str_equal(st->name, "idle1"))
            ck_assert_uint_eq(state, VS_DOMAIN_SHUTOFF);
        else
            ck_assert_uint_eq(state, VS_DOMAIN_RUNNING);
        ck_assert(g_hash_table_contains(st->fields, "state.reason"));
    }

    running = vsHypervisorGetAllDomainStats(hv, VS_STATS_STATE, TRUE, &error);
    ck_assert_msg(running, "%s", error ? error->message : "?");
    ck_assert_uint_eq(running->len, 2);

    /* Groups the driver cannot serve are simply missing. */
    every = vsHypervisorGetAllDomainStats(hv, VS_STATS_STATE | VS_STATS_CPU_TOTAL |
                                          VS_STATS_BALLOON | VS_STATS_VCPU |
                                          VS_STATS_INTERFACE | VS_STATS_BLOCK,
                                          FALSE, &error);
    ck_assert_msg(every, "%s", error ? error->message : "?");
    ck_assert_uint_eq(every->len, 3);
}
END_TEST

START_TEST(test_collect_counters)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) counters = vsHypervisorCollectCounters(hv, &error);
    gboolean web1 = FALSE;
    gboolean db1 = FALSE;
    guint i;

    ck_assert_msg(counters, "%s", error ? error->message : "?");
    /* Running domains only: idle1 is shut off. */
    ck_assert_uint_eq(counters->len, 2);
    for (i = 0; i < counters->len; i++) {
        const vsDomainCounters *c = &g_array_index(counters, vsDomainCounters, i);

        ck_assert_ptr_nonnull(c->name);
        ck_assert_int_eq(strlen(c->uuid), 36);
        if (g_str_equal(c->name, "web1")) {
            ck_assert_str_eq(c->uuid, WEB1_UUID);
            web1 = TRUE;
        } else if (g_str_equal(c->name, "db1")) {
            db1 = TRUE;
        }
        /* The test driver answers state.* only. */
        ck_assert_uint_eq(c->present, VS_COUNTER_STATE);
        ck_assert_int_eq(c->state, VS_DOMAIN_RUNNING);
    }
    ck_assert(web1 && db1);
}
END_TEST

/* A hand-built record as QEMU would give it, with a few traps. */
START_TEST(test_stats_record_to_counters)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    virDomainPtr dom = NULL;
    virTypedParameterPtr params = NULL;
    int nparams = 0;
    int maxparams = 0;
    virDomainStatsRecord rec = { 0 };
    vsDomainCounters c = { 0 };
    char uuid[VIR_UUID_STRING_BUFLEN];
    guint32 want;

    ck_assert_ptr_nonnull(conn);
    dom = virDomainLookupByName(conn, "test");
    ck_assert_ptr_nonnull(dom);
    ck_assert_int_eq(virDomainGetUUIDString(dom, uuid), 0);

#define ADD(kind, field, value) \
    ck_assert_int_eq(virTypedParamsAdd##kind(&params, &nparams, &maxparams, \
                                             field, value), 0)
    ADD(Int, "state.state", VIR_DOMAIN_PAUSED);
    ADD(Int, "state.reason", 1);
    ADD(ULLong, "cpu.time", 123456789);
    ADD(ULLong, "cpu.user", 1000);
    ADD(ULLong, "balloon.current", 1048576);
    ADD(ULLong, "balloon.maximum", 2097152);
    ADD(ULLong, "balloon.swap_in", 7);
    ADD(ULLong, "balloon.available", 1000000);
    ADD(ULLong, "balloon.unused", 400000);
    /* Of unexpected type: left out, not misread. */
    ADD(String, "balloon.usable", "plenty");
    ADD(ULLong, "balloon.rss", 900000);
    ADD(ULLong, "balloon.last-update", 1700000000);
    ADD(UInt, "vcpu.current", 2);
    ADD(UInt, "vcpu.maximum", 4);
    ADD(Int, "vcpu.0.state", 1);
    ADD(ULLong, "vcpu.0.time", 999);
    ADD(UInt, "block.count", 2);
    ADD(String, "block.0.name", "vda");
    ADD(String, "block.0.path", "/var/lib/img/a.qcow2");
    ADD(ULLong, "block.0.rd.reqs", 10);
    ADD(ULLong, "block.0.rd.bytes", 1000);
    ADD(ULLong, "block.0.rd.times", 55555);
    ADD(ULLong, "block.0.wr.reqs", 20);
    ADD(ULLong, "block.0.wr.bytes", 2000);
    ADD(ULLong, "block.0.allocation", 1 << 20);
    ADD(String, "block.1.name", "vdb");
    ADD(ULLong, "block.1.rd.reqs", 1);
    ADD(ULLong, "block.1.rd.bytes", 100);
    ADD(ULLong, "block.1.wr.reqs", 2);
    ADD(ULLong, "block.1.wr.bytes", 200);
    ADD(ULLong, "block.1.capacity", 1 << 30);
    ADD(UInt, "net.count", 2);
    ADD(String, "net.0.name", "vnet0");
    ADD(ULLong, "net.0.rx.bytes", 5000);
    ADD(ULLong, "net.0.rx.pkts", 50);
    ADD(ULLong, "net.0.tx.bytes", 6000);
    ADD(String, "net.1.name", "vnet1");
    ADD(ULLong, "net.1.rx.bytes", 500);
    ADD(ULLong, "net.1.tx.bytes", 600);
    ADD(Double, "net.1.tx.drop", 1.5);
#undef ADD

    rec.dom = dom;
    rec.params = params;
    rec.nparams = nparams;
    vsVirStatsRecordToCounters(&rec, &c);

    ck_assert_str_eq(c.uuid, uuid);
    ck_assert_str_eq(c.name, "test");
    want = VS_COUNTER_STATE | VS_COUNTER_CPU_TIME | VS_COUNTER_VCPU_CURRENT |
        VS_COUNTER_VCPU_MAXIMUM | VS_COUNTER_BALLOON_CURRENT |
        VS_COUNTER_BALLOON_MAXIMUM | VS_COUNTER_BALLOON_AVAILABLE |
        VS_COUNTER_BALLOON_UNUSED | VS_COUNTER_BALLOON_RSS |
        VS_COUNTER_BALLOON_LAST_UPDATE | VS_COUNTER_BLOCK | VS_COUNTER_NET;
    ck_assert_uint_eq(c.present, want);
    ck_assert_int_eq(c.state, VS_DOMAIN_PAUSED);
    ck_assert_uint_eq(c.cpu_time_ns, 123456789);
    ck_assert_uint_eq(c.vcpu_current, 2);
    ck_assert_uint_eq(c.vcpu_maximum, 4);
    ck_assert_uint_eq(c.balloon_current_kib, 1048576);
    ck_assert_uint_eq(c.balloon_maximum_kib, 2097152);
    ck_assert_uint_eq(c.balloon_available_kib, 1000000);
    ck_assert_uint_eq(c.balloon_unused_kib, 400000);
    ck_assert_uint_eq(c.balloon_usable_kib, 0);
    ck_assert_uint_eq(c.balloon_rss_kib, 900000);
    ck_assert_uint_eq(c.balloon_last_update, 1700000000);
    ck_assert_uint_eq(c.block_rd_bytes, 1100);
    ck_assert_uint_eq(c.block_wr_bytes, 2200);
    ck_assert_uint_eq(c.block_rd_reqs, 11);
    ck_assert_uint_eq(c.block_wr_reqs, 22);
    ck_assert_uint_eq(c.net_rx_bytes, 5500);
    ck_assert_uint_eq(c.net_tx_bytes, 6600);

    /* Reusing the struct keeps identity and forgets the old counters. */
    vsVirStatsParamsToCounters(params, 3, &c);
    ck_assert_str_eq(c.uuid, uuid);
    ck_assert_str_eq(c.name, "test");
    ck_assert_uint_eq(c.present, VS_COUNTER_STATE | VS_COUNTER_CPU_TIME);
    ck_assert_uint_eq(c.block_rd_bytes, 0);
    ck_assert_uint_eq(c.vcpu_current, 0);

    /* Nothing at all: nothing present, and no state invented. */
    vsVirStatsParamsToCounters(NULL, 0, &c);
    ck_assert_uint_eq(c.present, 0);

    vsDomainCountersClear(&c);
    virTypedParamsFree(params, nparams);
    virDomainFree(dom);
    virConnectClose(conn);
}
END_TEST

typedef struct {
    GPtrArray *seen;        /* "name:event" strings */
} EventLog;

static void
onLifecycle(vsHypervisor *hv, const char *name, const char *uuid,
            vsDomainEventType event, int detail, gpointer opaque)
{
    EventLog *log = opaque;

    ck_assert_int_eq(strlen(uuid), 36);
    g_ptr_array_add(log->seen, g_strdup_printf("%s:%s", name,
                                               vsDomainEventTypeToString(event)));
}

static gboolean
waitForEvent(EventLog *log, const char *want, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (g_get_monotonic_time() < deadline) {
        guint i;

        for (i = 0; i < log->seen->len; i++) {
            if (g_str_equal(g_ptr_array_index(log->seen, i), want))
                return TRUE;
        }
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    return FALSE;
}

START_TEST(test_lifecycle_events)
{
    EventLog log = { g_ptr_array_new_with_free_func(g_free) };
    vsHypervisorCallbacks cbs = { .domainLifecycle = onLifecycle, .opaque = &log };
    g_autoptr(vsHypervisor) hv = openFixture(&cbs);
    g_autoptr(GError) error = NULL;
    g_autofree char *name = vsHypervisorDefineDomainXML(hv, newDomainXML, &error);

    ck_assert_msg(name, "%s", error ? error->message : "?");
    ck_assert_msg(waitForEvent(&log, "shadow-new:defined", 5000), "no defined event");
    ck_assert(vsHypervisorStartDomain(hv, name, &error));
    ck_assert_msg(waitForEvent(&log, "shadow-new:started", 5000), "no started event");
    ck_assert(vsHypervisorDestroyDomain(hv, name, &error));
    ck_assert_msg(waitForEvent(&log, "shadow-new:stopped", 5000), "no stopped event");
    ck_assert(vsHypervisorUndefineDomain(hv, name, &error));
    ck_assert_msg(waitForEvent(&log, "shadow-new:undefined", 5000), "no undefined event");

    /* After close nothing more is delivered. */
    g_clear_pointer(&hv, vsHypervisorFree);
    drainLoop();
    g_ptr_array_unref(log.seen);
}
END_TEST

/* --- the event loop itself ------------------------------------------------ */

typedef struct {
    int fired;
    int freed;
    int events;
} EventProbe;

static void
probeTimeout(int timer, void *opaque)
{
    EventProbe *p = opaque;

    p->fired++;
}

static void
probeHandle(int watch, int fd, int events, void *opaque)
{
    EventProbe *p = opaque;
    char c;

    p->fired++;
    p->events = events;
    if (events & VIR_EVENT_HANDLE_READABLE)
        ck_assert_int_eq(read(fd, &c, 1), 1);
}

static void
probeFree(void *opaque)
{
    EventProbe *p = opaque;

    p->freed++;
}

static void
iterate(guint ms)
{
    gint64 until = g_get_monotonic_time() + (gint64)ms * 1000;

    while (g_get_monotonic_time() < until) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(500);
    }
}

START_TEST(test_event_timeouts)
{
    EventProbe p = { 0 };
    int timer;
    int fired;

    vsVirEventRegister();
    vsVirEventRegister();       /* idempotent */

    timer = virEventAddTimeout(-1, probeTimeout, &p, probeFree);
    ck_assert_int_gt(timer, 0);
    iterate(30);
    ck_assert_int_eq(p.fired, 0);           /* -1 is disabled */

    virEventUpdateTimeout(timer, 0);        /* 0 fires on every iteration */
    iterate(30);
    ck_assert_int_gt(p.fired, 3);

    virEventUpdateTimeout(timer, -1);
    fired = p.fired;
    iterate(30);
    ck_assert_int_eq(p.fired, fired);

    virEventUpdateTimeout(timer, 10);
    iterate(100);
    ck_assert_int_gt(p.fired, fired);

    ck_assert_int_eq(virEventRemoveTimeout(timer), 0);
    /* The free callback is deferred to the loop, never run inside remove. */
    ck_assert_int_eq(p.freed, 0);
    fired = p.fired;
    iterate(30);
    ck_assert_int_eq(p.freed, 1);
    ck_assert_int_eq(p.fired, fired);
    ck_assert_int_eq(virEventRemoveTimeout(timer), -1);
}
END_TEST

START_TEST(test_event_handles)
{
    EventProbe p = { 0 };
    int fds[2];
    int watch;
    int other;

    vsVirEventRegister();
    ck_assert_int_eq(pipe(fds), 0);
    watch = virEventAddHandle(fds[0], VIR_EVENT_HANDLE_READABLE, probeHandle, &p, probeFree);
    ck_assert_int_gt(watch, 0);
    other = virEventAddTimeout(-1, probeTimeout, &p, NULL);
    ck_assert_int_ne(other, -1);

    iterate(20);
    ck_assert_int_eq(p.fired, 0);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    iterate(20);
    ck_assert_int_eq(p.fired, 1);
    ck_assert(p.events & VIR_EVENT_HANDLE_READABLE);

    /* Disabled handles are not polled at all. */
    virEventUpdateHandle(watch, 0);
    ck_assert_int_eq(write(fds[1], "y", 1), 1);
    iterate(20);
    ck_assert_int_eq(p.fired, 1);
    virEventUpdateHandle(watch, VIR_EVENT_HANDLE_READABLE);
    iterate(20);
    ck_assert_int_eq(p.fired, 2);

    ck_assert_int_eq(virEventRemoveHandle(watch), 0);
    ck_assert_int_eq(p.freed, 0);
    ck_assert_int_eq(write(fds[1], "z", 1), 1);
    iterate(20);
    ck_assert_int_eq(p.fired, 2);
    ck_assert_int_eq(p.freed, 1);
    ck_assert_int_eq(virEventRemoveHandle(watch), -1);
    ck_assert_int_eq(virEventRemoveTimeout(other), 0);
    iterate(5);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* --- overlays and shadow clones on test:///default's "default-pool" -------- */

#define TEST_POOL_DIR "/default-pool"
#define TEST_BASE TEST_POOL_DIR "/vs-base.img"

/* A test-driver domain @name with our metadata @meta (may be NULL) and
 * <disk> elements @disks. */
static char *
testDomainXML(const char *name, const char *meta, const char *disks)
{
    return g_strdup_printf("<domain type='test'><name>%s</name>"
                           "<memory unit='KiB'>65536</memory><vcpu>1</vcpu>"
                           "<os><type arch='i686'>hvm</type></os>"
                           "<metadata>%s</metadata><devices>%s</devices></domain>",
                           name, meta ? meta : "", disks);
}

static char *
testDisk(const char *path, const char *format, const char *dev, gboolean readonly)
{
    return g_strdup_printf("<disk type='file' device='disk'><driver name='qemu' type='%s'/>"
                           "<source file='%s'/><target dev='%s'/>%s</disk>",
                           format, path, dev, readonly ? "<readonly/>" : "");
}

static vsStorageVolume *
testVolume(virConnectPtr conn, const char *path)
{
    virStorageVolPtr vol = virStorageVolLookupByPath(conn, path);
    char *xml;
    vsStorageVolume *def;

    ck_assert_msg(vol, "no volume '%s'", path);
    xml = virStorageVolGetXMLDesc(vol, 0);
    def = vsStorageVolumeParse(xml, NULL);
    ck_assert_ptr_nonnull(def);
    free(xml);
    virStorageVolFree(vol);
    return def;
}

static void
testMakeBase(virConnectPtr conn)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, "default-pool");
    virStorageVolPtr vol;

    ck_assert_ptr_nonnull(pool);
    /* test:///default is shared by the tests of one process (CK_FORK=no) */
    if ((vol = virStorageVolLookupByName(pool, "vs-base.img"))) {
        virStorageVolFree(vol);
        virStoragePoolFree(pool);
        return;
    }
    vol = virStorageVolCreateXML(pool, "<volume><name>vs-base.img</name>"
                                 "<capacity unit='MiB'>64</capacity>"
                                 "<target><format type='raw'/></target></volume>", 0);
    ck_assert_ptr_nonnull(vol);
    virStorageVolFree(vol);
    virStoragePoolFree(pool);
}

START_TEST(test_overlay)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    g_autoptr(vsHypervisor) hv = vsHypervisorOpen("test:///default", NULL, NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    g_autofree char *path2 = NULL;
    g_autofree char *again = NULL;
    g_autoptr(vsStorageVolume) ovl = NULL;
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(GPtrArray) none = NULL;
    g_autoptr(GPtrArray) left = NULL;

    ck_assert_ptr_nonnull(conn);
    ck_assert_ptr_nonnull(hv);
    testMakeBase(conn);

    ck_assert_msg(vsHypervisorCreateOverlay(hv, TEST_BASE, "default-pool",
                                            "vs-shadow-t1-vda.qcow2", &path, &error),
                  "%s", error ? error->message : "");
    ck_assert_str_eq(path, TEST_POOL_DIR "/vs-shadow-t1-vda.qcow2");
    /* the test driver keeps the volume XML as given: what we asked for */
    ovl = testVolume(conn, path);
    ck_assert_str_eq(ovl->format, "qcow2");
    ck_assert_str_eq(ovl->backing_path, TEST_BASE);
    ck_assert_str_eq(ovl->backing_format, "raw");
    ck_assert_uint_eq(ovl->capacity, 64 * 1024 * 1024);

    /* a name in use is refused; the out-parameter stays untouched */
    ck_assert(!vsHypervisorCreateOverlay(hv, TEST_BASE, "default-pool",
                                         "vs-shadow-t1-vda.qcow2", &again, &error));
    ck_assert_ptr_null(again);
    ck_assert_msg(strstr(error->message, "cannot create overlay 'vs-shadow-t1-vda.qcow2'"),
                  "%s", error->message);
    g_clear_error(&error);

    /* a directory finds the pool that covers it: no new pool */
    ck_assert_msg(vsHypervisorCreateOverlay(hv, TEST_BASE, TEST_POOL_DIR "/",
                                            "vs-shadow-t1-vdb.qcow2", &path2, &error),
                  "%s", error ? error->message : "");
    ck_assert_str_eq(path2, TEST_POOL_DIR "/vs-shadow-t1-vdb.qcow2");
    ck_assert_int_eq(virConnectNumOfStoragePools(conn), 1);

    ck_assert(!vsHypervisorCreateOverlay(hv, TEST_POOL_DIR "/nope.img", "default-pool",
                                         "vs-shadow-t1-x.qcow2", &again, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(error->message, "base image '/default-pool/nope.img' not found");
    g_clear_error(&error);
    ck_assert(!vsHypervisorCreateOverlay(hv, TEST_BASE, "nosuch", "vs-shadow-t1-x.qcow2",
                                         &again, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(error->message, "storage pool 'nosuch' not found");
    g_clear_error(&error);
    ck_assert(!vsHypervisorCreateOverlay(hv, "vs-base.img", "default-pool", "x.qcow2",
                                         &again, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    g_clear_error(&error);

    list = vsHypervisorListVolumesByPrefix(hv, "default-pool", "vs-shadow-t1-", &error);
    ck_assert_msg(list, "%s", error ? error->message : "");
    ck_assert_uint_eq(list->len, 2);
    ck_assert_str_eq(g_ptr_array_index(list, 0), path);
    ck_assert_str_eq(g_ptr_array_index(list, 1), path2);
    none = vsHypervisorListVolumesByPrefix(hv, TEST_POOL_DIR, "vs-shadow-t2-", &error);
    ck_assert_msg(none, "%s", error ? error->message : "");
    ck_assert_uint_eq(none->len, 0);

    ck_assert_msg(vsHypervisorDeleteVolume(hv, path, &error), "%s", error ? error->message : "");
    /* gone already: still success */
    ck_assert_msg(vsHypervisorDeleteVolume(hv, path, &error), "%s", error ? error->message : "");
    ck_assert_msg(vsHypervisorDeleteVolume(hv, path2, &error), "%s", error ? error->message : "");
    left = vsHypervisorListVolumesByPrefix(hv, "default-pool", "vs-shadow-t1-", &error);
    ck_assert_uint_eq(left->len, 0);
    /* the base is still there */
    g_clear_pointer(&ovl, vsStorageVolumeFree);
    ovl = testVolume(conn, TEST_BASE);
    virConnectClose(conn);
}
END_TEST

/* A running domain writing the base forbids a clone; a reader does not;
 * the format a domain declares beats the pool's. */
START_TEST(test_disk_in_use)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    g_autoptr(vsHypervisor) hv = vsHypervisorOpen("test:///default", NULL, NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *disk = testDisk(TEST_BASE, "raw", "vda", FALSE);
    g_autofree char *rodisk = testDisk(TEST_BASE, "raw", "vda", TRUE);
    g_autofree char *qdisk = testDisk(TEST_BASE, "qcow2", "vda", FALSE);
    g_autofree char *writer_xml = testDomainXML("vs-writer", NULL, disk);
    g_autofree char *reader_xml = testDomainXML("vs-reader", NULL, rodisk);
    g_autofree char *defined_xml = testDomainXML("vs-defined", NULL, qdisk);
    g_autofree char *writer = NULL;
    g_autofree char *user = NULL;
    g_autofree char *nobody = NULL;
    g_autofree char *path = NULL;
    g_autofree char *name = NULL;
    g_autoptr(vsStorageVolume) ovl = NULL;

    ck_assert_ptr_nonnull(conn);
    testMakeBase(conn);
    writer = vsHypervisorCreateDomainXML(hv, writer_xml, FALSE, &error);
    ck_assert_msg(writer, "%s", error ? error->message : "");

    ck_assert(vsHypervisorDiskInUse(hv, TEST_POOL_DIR "//vs-base.img", &user, &error));
    ck_assert_str_eq(user, "vs-writer");
    ck_assert(!vsHypervisorCreateOverlay(hv, TEST_BASE, "default-pool",
                                         "vs-shadow-t3-vda.qcow2", &path, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_str_eq(error->message, "base image '/default-pool/vs-base.img' is in use by "
                     "running domain 'vs-writer': shut it down first");
    ck_assert_ptr_null(path);
    g_clear_error(&error);
    ck_assert(vsHypervisorDestroyDomain(hv, writer, NULL));

    /* the same base named as a storage volume */
    {
        const char *voldisk = "<disk type='volume' device='disk'><driver name='qemu' type='raw'/>"
                              "<source pool='default-pool' volume='vs-base.img'/>"
                              "<target dev='vda'/></disk>";
        g_autofree char *vol_xml = testDomainXML("vs-volwriter", NULL, voldisk);
        g_autofree char *volwriter = vsHypervisorCreateDomainXML(hv, vol_xml, FALSE, &error);
        g_autofree char *voluser = NULL;

        ck_assert_msg(volwriter, "%s", error ? error->message : "");
        ck_assert(vsHypervisorDiskInUse(hv, TEST_BASE, &voluser, &error));
        ck_assert_str_eq(voluser, "vs-volwriter");
        ck_assert(vsHypervisorDestroyDomain(hv, volwriter, NULL));
    }

    /* read-only users and shut off definitions are no writers */
    name = vsHypervisorCreateDomainXML(hv, reader_xml, FALSE, &error);
    ck_assert_msg(name, "%s", error ? error->message : "");
    g_free(vsHypervisorDefineDomainXML(hv, defined_xml, &error));
    ck_assert_msg(!error, "%s", error ? error->message : "");
    ck_assert(vsHypervisorDiskInUse(hv, TEST_BASE, &nobody, &error));
    ck_assert_ptr_null(nobody);

    /* the running reader declares raw, the defined one qcow2: the running
     * one's word counts */
    ck_assert_msg(vsHypervisorCreateOverlay(hv, TEST_BASE, "default-pool",
                                            "vs-shadow-t3-vda.qcow2", &path, &error),
                  "%s", error ? error->message : "");
    ovl = testVolume(conn, path);
    ck_assert_str_eq(ovl->backing_format, "raw");
    ck_assert(vsHypervisorDeleteVolume(hv, path, NULL));
    g_clear_pointer(&path, g_free);
    g_clear_pointer(&ovl, vsStorageVolumeFree);

    /* with the reader gone, the definition's declared qcow2 wins over the
     * pool's probe (raw): a guest-written header never decides */
    ck_assert(vsHypervisorDestroyDomain(hv, name, NULL));
    ck_assert_msg(vsHypervisorCreateOverlay(hv, TEST_BASE, "default-pool",
                                            "vs-shadow-t3-vda.qcow2", &path, &error),
                  "%s", error ? error->message : "");
    ovl = testVolume(conn, path);
    ck_assert_str_eq(ovl->backing_format, "qcow2");
    ck_assert(vsHypervisorDeleteVolume(hv, path, NULL));
    ck_assert(vsHypervisorUndefineDomain(hv, "vs-defined", NULL));
    virConnectClose(conn);
}
END_TEST

/* gc's view: marked domains, transient running and defined, with the
 * overlays named after their run and nothing else. */
START_TEST(test_shadow_domains)
{
    g_autoptr(vsHypervisor) hv = vsHypervisorOpen("test:///default", NULL, NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *meta1 = vsMetadataShadowRunXML("t1", NULL);
    g_autofree char *meta2 = vsMetadataShadowRunXML("t2", NULL);
    const char *labels = "<shadow:domain xmlns:shadow='" VS_METADATA_NS "'><shadow:labels>"
                         "<shadow:label name='a'>b</shadow:label></shadow:labels></shadow:domain>";
    const char *bad = "<shadow:domain xmlns:shadow='" VS_METADATA_NS "'>"
                      "<shadow:shadow-run id='../x'/></shadow:domain>";
    g_autofree char *d1 = testDisk(TEST_POOL_DIR "/vs-shadow-t1-vda.qcow2", "qcow2", "vda", FALSE);
    g_autofree char *iso = g_strdup("<disk type='file' device='cdrom'><source file='/iso/os.iso'/>"
                                    "<target dev='sda'/><readonly/></disk>");
    g_autofree char *other = testDisk("/images/vs-shadow-t9-vdb.qcow2", "qcow2", "vdb", FALSE);
    g_autofree char *d2 = testDisk(TEST_POOL_DIR "/vs-shadow-t2-vda.qcow2", "qcow2", "vda", FALSE);
    const char *vol = "<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>"
                      "<source pool='default-pool' volume='vs-shadow-t1-vdc.qcow2'/>"
                      "<target dev='vdc'/></disk>"
                      "<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>"
                      "<source pool='default-pool' volume='vs-shadow-t1-gone.qcow2'/>"
                      "<target dev='vde'/></disk>";
    g_autofree char *disks1 = g_strconcat(d1, iso, other, vol, NULL);
    g_autofree char *volpath = NULL;
    g_autofree char *x1 = testDomainXML("vs-shadow-run1", meta1, disks1);
    g_autofree char *x2 = testDomainXML("vs-shadow-run2", meta2, d2);
    g_autofree char *x3 = testDomainXML("vs-labelled", labels, "");
    g_autofree char *x4 = testDomainXML("vs-badmark", bad, "");
    g_autofree char *n1 = NULL;
    g_autoptr(GPtrArray) found = NULL;
    vsShadowDomain *a;
    vsShadowDomain *b;

    ck_assert_ptr_nonnull(hv);
    ck_assert_ptr_nonnull(meta1);
    {
        virConnectPtr conn = virConnectOpen("test:///default");

        testMakeBase(conn);
        virConnectClose(conn);
    }
    ck_assert_msg(vsHypervisorCreateOverlay(hv, TEST_BASE, "default-pool",
                                            "vs-shadow-t1-vdc.qcow2", &volpath, &error),
                  "%s", error ? error->message : "");
    n1 = vsHypervisorCreateDomainXML(hv, x1, FALSE, &error);
    ck_assert_msg(n1, "%s", error ? error->message : "");
    g_free(vsHypervisorDefineDomainXML(hv, x2, &error));
    ck_assert_msg(!error, "%s", error ? error->message : "");
    g_free(vsHypervisorDefineDomainXML(hv, x3, &error));
    ck_assert_msg(!error, "%s", error ? error->message : "");
    g_free(vsHypervisorDefineDomainXML(hv, x4, &error));
    ck_assert_msg(!error, "%s", error ? error->message : "");

    found = vsHypervisorListShadowDomains(hv, &error);
    ck_assert_msg(found, "%s", error ? error->message : "");
    ck_assert_uint_eq(found->len, 2);
    a = g_ptr_array_index(found, 0);
    b = g_ptr_array_index(found, 1);
    if (!g_str_equal(a->name, "vs-shadow-run1")) {
        vsShadowDomain *t = a;

        a = b;
        b = t;
    }
    ck_assert_str_eq(a->name, "vs-shadow-run1");
    ck_assert_str_eq(a->run_id, "t1");
    ck_assert_int_eq(strlen(a->uuid), 36);
    ck_assert(a->active);
    ck_assert(!a->persistent);
    /* the ISO and another run's disk are not this run's to delete; a
     * volume disk counts by its path, a volume already gone not at all */
    ck_assert_uint_eq(g_strv_length(a->overlays), 2);
    ck_assert_str_eq(a->overlays[0], TEST_POOL_DIR "/vs-shadow-t1-vda.qcow2");
    ck_assert_str_eq(a->overlays[1], volpath);
    ck_assert_str_eq(b->name, "vs-shadow-run2");
    ck_assert_str_eq(b->run_id, "t2");
    ck_assert(!b->active);
    ck_assert(b->persistent);
    ck_assert_uint_eq(g_strv_length(b->overlays), 1);

    ck_assert(vsHypervisorDestroyDomain(hv, n1, NULL));
    ck_assert(vsHypervisorDeleteVolume(hv, volpath, NULL));
    ck_assert(vsHypervisorUndefineDomain(hv, "vs-shadow-run2", NULL));
    ck_assert(vsHypervisorUndefineDomain(hv, "vs-labelled", NULL));
    ck_assert(vsHypervisorUndefineDomain(hv, "vs-badmark", NULL));
}
END_TEST

/* One domain's counters: the test driver answers state only. */
START_TEST(test_domain_counters)
{
    g_autoptr(vsHypervisor) hv = openFixture(NULL);
    g_autoptr(GError) error = NULL;
    vsDomainCounters c = { 0 };
    vsDomainCounters untouched = { .state = 42 };
    guint64 kib = 7;

    ck_assert_msg(vsHypervisorGetDomainCounters(hv, "web1", &c, &error),
                  "%s", error ? error->message : "");
    ck_assert_str_eq(c.name, "web1");
    ck_assert_str_eq(c.uuid, WEB1_UUID);
    ck_assert_uint_eq(c.present, VS_COUNTER_STATE);
    ck_assert_int_eq(c.state, VS_DOMAIN_RUNNING);
    ck_assert(!vsDomainCountersUsedKiB(&c, &kib, NULL));
    ck_assert_uint_eq(kib, 7);
    vsDomainCountersClear(&c);

    ck_assert(!vsHypervisorGetDomainCounters(hv, "nosuch", &untouched, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_int_eq(untouched.state, 42);
    ck_assert_ptr_null(untouched.name);

    /* balloon stats win over rss */
    c.present = VS_COUNTER_BALLOON_AVAILABLE | VS_COUNTER_BALLOON_UNUSED | VS_COUNTER_BALLOON_RSS;
    c.balloon_available_kib = 1000;
    c.balloon_unused_kib = 300;
    c.balloon_rss_kib = 5000;
    {
        gboolean rss = TRUE;

        ck_assert(vsDomainCountersUsedKiB(&c, &kib, &rss));
        ck_assert_uint_eq(kib, 700);
        ck_assert(!rss);
        c.present = VS_COUNTER_BALLOON_RSS;
        ck_assert(vsDomainCountersUsedKiB(&c, &kib, &rss));
        ck_assert_uint_eq(kib, 5000);
        ck_assert(rss);
    }
}
END_TEST

static Suite *
libvirtSuite(void)
{
    Suite *s = suite_create("libvirt");
    TCase *tc = tcase_create("test-driver");
    TCase *ev = tcase_create("event-loop");

    tcase_add_test(tc, test_open_default);
    tcase_add_test(tc, test_open_bad_uri);
    tcase_add_test(tc, test_list);
    tcase_add_test(tc, test_lookup);
    tcase_add_test(tc, test_xml);
    tcase_add_test(tc, test_define_start_destroy_undefine);
    tcase_add_test(tc, test_create_transient);
    tcase_add_test(tc, test_metadata);
    tcase_add_test(tc, test_capabilities);
    tcase_add_test(tc, test_resize);
    tcase_add_test(tc, test_resources);
    tcase_add_test(tc, test_actuate);
    tcase_add_test(tc, test_agent_unsupported);
    tcase_add_test(tc, test_stats);
    tcase_add_test(tc, test_collect_counters);
    tcase_add_test(tc, test_stats_record_to_counters);
    tcase_add_test(tc, test_lifecycle_events);
    tcase_add_test(tc, test_overlay);
    tcase_add_test(tc, test_disk_in_use);
    tcase_add_test(tc, test_shadow_domains);
    tcase_add_test(tc, test_domain_counters);
    suite_add_tcase(s, tc);

    tcase_add_test(ev, test_event_timeouts);
    tcase_add_test(ev, test_event_handles);
    suite_add_tcase(s, ev);

    return s;
}

int
main(void)
{
    vsHypervisorRegisterDriver(&vsLibvirtHypervisorDriver);
    return vsTestRunSuite(libvirtSuite());
}
