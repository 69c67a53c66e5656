/*
 * vsdomainxmltest.c: facts from domain and capabilities XML
 */
#include <config.h>

#include <string.h>

#include "conf/vscapabilities.h"
#include "conf/vsdomainxml.h"
#include "util/vserror.h"
#include "vstestutils.h"

static char *
vsLoadFixture(const char *name)
{
    g_autofree char *path = g_build_filename(vsTestSrcDir(), "tests", "vsdomainxmldata",
                                             name, NULL);
    char *data = NULL;

    ck_assert_msg(g_file_get_contents(path, &data, NULL, NULL), "cannot read %s", path);
    return data;
}

START_TEST(test_agent_headroom)
{
    g_autofree char *xml = vsLoadFixture("agent-headroom.xml");
    g_autoptr(GError) error = NULL;
    g_autoptr(vsDomainXML) def = vsDomainXMLParse(xml, &error);

    ck_assert_msg(def != NULL, "%s", error ? error->message : "");
    ck_assert_str_eq(def->name, "web1");
    ck_assert_str_eq(def->uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f");
    ck_assert_str_eq(def->type, "qemu");
    ck_assert_uint_eq(def->vcpus_max, 8);
    ck_assert_uint_eq(def->vcpus_current, 2);
    ck_assert_uint_eq(def->memory_kib, 1048576);
    ck_assert_uint_eq(def->current_memory_kib, 524288);
    ck_assert(def->has_agent_channel);
    ck_assert(def->agent_connected);
    ck_assert(def->has_balloon);
    ck_assert_int_eq(def->balloon_stats_period, 5);
    ck_assert(vsDomainXMLHasVcpuHeadroom(def));
    ck_assert(vsDomainXMLHasMemoryHeadroom(def));
}
END_TEST

START_TEST(test_no_agent_full)
{
    g_autofree char *xml = vsLoadFixture("no-agent-full.xml");
    g_autoptr(vsDomainXML) def = vsDomainXMLParse(xml, NULL);

    ck_assert_ptr_nonnull(def);
    ck_assert_str_eq(def->type, "kvm");
    ck_assert_uint_eq(def->vcpus_max, 4);
    ck_assert_uint_eq(def->vcpus_current, 4);
    ck_assert_uint_eq(def->memory_kib, 2097152);
    ck_assert_uint_eq(def->current_memory_kib, 2097152);
    ck_assert(!def->has_agent_channel);
    ck_assert(!def->agent_connected);
    ck_assert(!def->has_balloon);
    ck_assert_int_eq(def->balloon_stats_period, 0);
    ck_assert(!vsDomainXMLHasVcpuHeadroom(def));
    ck_assert(!vsDomainXMLHasMemoryHeadroom(def));
}
END_TEST

START_TEST(test_malformed)
{
    g_autofree char *xml = vsLoadFixture("malformed.xml");
    g_autoptr(GError) error = NULL;
    g_autoptr(vsDomainXML) def = vsDomainXMLParse(xml, &error);

    ck_assert_ptr_null(def);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_msg(strstr(error->message, "malformed domain XML at line"), "%s", error->message);
}
END_TEST

START_TEST(test_bad_values)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsDomainXML) a = vsDomainXMLParse("<domain><name>x</name><vcpu>two</vcpu></domain>",
                                                &error);
    g_autoptr(vsDomainXML) b = NULL;
    g_autoptr(vsDomainXML) c = NULL;

    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(error->message, "invalid vcpu count 'two'"), "%s", error->message);
    g_clear_error(&error);
    b = vsDomainXMLParse("<domain><name>x</name><memory unit='parsec'>1</memory></domain>", &error);
    ck_assert_ptr_null(b);
    ck_assert(strstr(error->message, "unknown unit 'parsec'"));
    g_clear_error(&error);
    c = vsDomainXMLParse("<network><name>x</name></network>", &error);
    ck_assert_ptr_null(c);
    ck_assert(strstr(error->message, "not <domain>"));
}
END_TEST

START_TEST(test_caps_types)
{
    const char *caps =
        "<capabilities><host><cpu><arch>x86_64</arch></cpu></host>"
        "<guest><os_type>hvm</os_type><arch name='i686'><domain type='qemu'/></arch></guest>"
        "<guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/>"
        "<domain type='kvm'/></arch></guest>"
        "<guest><os_type>hvm</os_type><arch name='aarch64'><domain type='tcg-only'/></arch></guest>"
        "</capabilities>";
    g_auto(GStrv) types = vsCapabilitiesDomainTypes(caps, NULL);

    ck_assert_ptr_nonnull(types);
    ck_assert_uint_eq(g_strv_length(types), 2);
    ck_assert_str_eq(types[0], "qemu");
    ck_assert_str_eq(types[1], "kvm");
    ck_assert_ptr_null(vsCapabilitiesDomainTypes("<capabilities>", NULL));
}
END_TEST

/* Disks with a path or a volume, in order; the backing chain is not a
 * disk of its own, a network disk and an empty cdrom have no path. */
START_TEST(test_disks)
{
    g_autofree char *xml = vsLoadFixture("disks.xml");
    g_autoptr(GError) error = NULL;
    g_autoptr(vsDomainXML) def = vsDomainXMLParse(xml, &error);
    const vsDomainDisk *d;

    ck_assert_msg(def != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(def->disks->len, 4);
    d = g_ptr_array_index(def->disks, 0);
    ck_assert_str_eq(d->path, "/var/lib/libvirt/images/base1.qcow2");
    ck_assert_str_eq(d->format, "qcow2");
    ck_assert_str_eq(d->target, "vda");
    ck_assert_str_eq(d->device, "disk");
    ck_assert(!d->readonly);
    ck_assert(!d->shareable);
    d = g_ptr_array_index(def->disks, 1);
    ck_assert_str_eq(d->path, "/dev/vg0/data");
    ck_assert_str_eq(d->format, "raw");
    ck_assert(d->shareable);
    d = g_ptr_array_index(def->disks, 2);
    ck_assert_str_eq(d->path, "/srv/iso/install.iso");
    ck_assert_ptr_null(d->format);
    ck_assert_str_eq(d->device, "cdrom");
    ck_assert(d->readonly);
    d = g_ptr_array_index(def->disks, 3);
    ck_assert_ptr_null(d->path);
    ck_assert_str_eq(d->pool, "images");
    ck_assert_str_eq(d->volume, "vs-shadow-r1-vdd.qcow2");
    ck_assert_str_eq(d->format, "qcow2");
    ck_assert_str_eq(d->target, "vdd");

    ck_assert_ptr_eq(vsDomainXMLFindDisk(def, "/var/lib/libvirt//images/./base1.qcow2"),
                     g_ptr_array_index(def->disks, 0));
    /* a backing file is not a disk of the domain */
    ck_assert_ptr_null(vsDomainXMLFindDisk(def, "/var/lib/libvirt/images/golden.raw"));
    ck_assert_ptr_null(vsDomainXMLFindDisk(def, "/var/lib/libvirt/images"));

    /* three writable disks (the cdrom is not one): the last is named */
    {
        guint n = 0;

        ck_assert_ptr_eq(vsDomainXMLWritableDisk(def, &n), g_ptr_array_index(def->disks, 3));
        ck_assert_uint_eq(n, 3);
        g_ptr_array_set_size(def->disks, 1);
        ck_assert_ptr_eq(vsDomainXMLWritableDisk(def, &n), g_ptr_array_index(def->disks, 0));
        ck_assert_uint_eq(n, 1);
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("domainxml");
    TCase *tc = tcase_create("domainxml");

    tcase_add_test(tc, test_agent_headroom);
    tcase_add_test(tc, test_disks);
    tcase_add_test(tc, test_no_agent_full);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_bad_values);
    tcase_add_test(tc, test_caps_types);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
