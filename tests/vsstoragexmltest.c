/*
 * vsstoragexmltest.c: storage pool and volume XML, read and written
 */
#include <config.h>

#include <string.h>

#include "conf/vsstoragexml.h"
#include "util/vserror.h"
#include "vstestutils.h"

/* as virStorageVolGetXMLDesc prints an overlay (libvirt 9.0) */
static const char *overlayVolXML =
    "<volume type='file'>\n"
    "  <name>vs-shadow-r1-vda.qcow2</name>\n"
    "  <key>/srv/img/vs-shadow-r1-vda.qcow2</key>\n"
    "  <capacity unit='bytes'>67108864</capacity>\n"
    "  <allocation unit='bytes'>200704</allocation>\n"
    "  <target>\n"
    "    <path>/srv/img/vs-shadow-r1-vda.qcow2</path>\n"
    "    <format type='qcow2'/>\n"
    "  </target>\n"
    "  <backingStore>\n"
    "    <path>/srv/img/base &amp; co.qcow2</path>\n"
    "    <format type='qcow2'/>\n"
    "  </backingStore>\n"
    "</volume>\n";

START_TEST(test_volume)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsStorageVolume) vol = vsStorageVolumeParse(overlayVolXML, &error);
    g_autoptr(vsStorageVolume) gib = NULL;

    ck_assert_msg(vol != NULL, "%s", error ? error->message : "");
    ck_assert_str_eq(vol->name, "vs-shadow-r1-vda.qcow2");
    ck_assert_str_eq(vol->path, "/srv/img/vs-shadow-r1-vda.qcow2");
    ck_assert_str_eq(vol->format, "qcow2");
    ck_assert_uint_eq(vol->capacity, 67108864);
    ck_assert_str_eq(vol->backing_path, "/srv/img/base & co.qcow2");
    ck_assert_str_eq(vol->backing_format, "qcow2");

    gib = vsStorageVolumeParse("<volume><name>b</name><capacity unit='GiB'>2</capacity>"
                               "<target><path>/b</path></target></volume>", &error);
    ck_assert_msg(gib != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(gib->capacity, G_GUINT64_CONSTANT(2) << 30);
    ck_assert_ptr_null(gib->format);
    ck_assert_ptr_null(gib->backing_path);
}
END_TEST

START_TEST(test_bad)
{
    g_autoptr(GError) error = NULL;

    ck_assert_ptr_null(vsStorageVolumeParse("<pool/>", &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_str_eq(error->message, "malformed storage volume XML");
    g_clear_error(&error);
    ck_assert_ptr_null(vsStorageVolumeParse("<volume><capacity>-1</capacity></volume>", &error));
    ck_assert_str_eq(error->message, "invalid capacity '-1' in storage volume XML");
    g_clear_error(&error);
    ck_assert_ptr_null(vsStoragePoolParse("<pool", &error));
}
END_TEST

/* What we write reads back the same, with markup in names escaped. */
START_TEST(test_round_trip)
{
    g_autofree char *xml = vsStorageOverlayXML("vs-shadow-r1-<vda>.qcow2", 1048576,
                                               "/srv/a&b/base.raw", "raw");
    g_autofree char *pool_xml = vsStorageDirPoolXML("vs-dir-1", "/srv/a&b", 0);
    g_autofree char *built_xml = vsStorageDirPoolXML("vs-dir-2", "/srv/new", 0711);
    g_autoptr(vsStorageVolume) vol = vsStorageVolumeParse(xml, NULL);
    g_autoptr(vsStoragePool) pool = vsStoragePoolParse(pool_xml, NULL);

    ck_assert_ptr_nonnull(vol);
    ck_assert_str_eq(vol->name, "vs-shadow-r1-<vda>.qcow2");
    ck_assert_uint_eq(vol->capacity, 1048576);
    ck_assert_str_eq(vol->format, "qcow2");
    ck_assert_str_eq(vol->backing_path, "/srv/a&b/base.raw");
    ck_assert_str_eq(vol->backing_format, "raw");
    ck_assert_ptr_nonnull(pool);
    ck_assert_str_eq(pool->name, "vs-dir-1");
    ck_assert_str_eq(pool->type, "dir");
    ck_assert_str_eq(pool->target_path, "/srv/a&b");
    ck_assert_ptr_null(strstr(pool_xml, "<permissions>"));
    ck_assert_ptr_nonnull(strstr(built_xml, "<permissions><mode>0711</mode></permissions>"));
    {
        /* a full copy's target: the format given, no backing store */
        g_autofree char *copy_xml = vsStorageCopyXML("web<7>.img", 2097152, "raw");
        g_autoptr(vsStorageVolume) copy = vsStorageVolumeParse(copy_xml, NULL);

        ck_assert_ptr_nonnull(copy);
        ck_assert_str_eq(copy->name, "web<7>.img");
        ck_assert_uint_eq(copy->capacity, 2097152);
        ck_assert_str_eq(copy->format, "raw");
        ck_assert_ptr_null(copy->backing_path);
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("storagexml");
    TCase *tc = tcase_create("storagexml");

    tcase_add_test(tc, test_volume);
    tcase_add_test(tc, test_bad);
    tcase_add_test(tc, test_round_trip);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
