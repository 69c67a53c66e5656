/*
 * vsmetadatatest.c: our domain metadata element and its schema
 */
#include <config.h>

#include "conf/vsmetadata.h"
#include "util/vserror.h"
#include "vstestutils.h"

/* Every fixture validates, except those named *-invalid.xml. */
START_TEST(test_fixtures_against_schema)
{
    g_autofree char *dir = g_build_filename(vsTestSrcDir(), "tests", "vsmetadatadata", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    guint seen = 0;

    ck_assert_ptr_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        g_autofree char *xml = vsTestFixture("vsmetadatadata", name);
        g_autofree char *labels = NULL;
        g_autoptr(GError) error = NULL;
        gboolean ok = vsMetadataParseLabels(xml, &labels, &error);

        if (g_str_has_suffix(name, "-invalid.xml")) {
            ck_assert_msg(!ok, "%s validated", name);
            ck_assert_msg(strstr(error->message, "invalid virt-shadow metadata: "), "%s", error->message);
        } else {
            ck_assert_msg(ok, "%s: %s", name, error ? error->message : "");
        }
        seen++;
    }
    ck_assert_uint_ge(seen, 11);
}
END_TEST

START_TEST(test_labels)
{
    g_autofree char *xml = vsTestFixture("vsmetadatadata", "labels.xml");
    g_autofree char *labels = NULL;

    ck_assert(vsMetadataParseLabels(xml, &labels, NULL));
    ck_assert_str_eq(labels, "{\"requests_per_s\":\"1200\",\"job.size\":\"large \\\"xl\\\"\"}");
}
END_TEST

START_TEST(test_no_labels_and_future_elements)
{
    g_autofree char *empty = vsTestFixture("vsmetadatadata", "empty.xml");
    g_autofree char *future = vsTestFixture("vsmetadatadata", "future.xml");
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;

    ck_assert(vsMetadataParseLabels(empty, &a, NULL));
    ck_assert_ptr_null(a);
    ck_assert(vsMetadataParseLabels(future, &b, NULL));
    ck_assert_str_eq(b, "{\"tier\":\"gold\"}");
}
END_TEST

/* what "virsh metadata --set '<domain><labels>...'" leaves: children in no namespace */
START_TEST(test_unprefixed_children)
{
    g_autofree char *xml = vsTestFixture("vsmetadatadata", "virsh-set.xml");
    g_autofree char *labels = NULL;

    ck_assert(vsMetadataParseLabels(xml, &labels, NULL));
    ck_assert_str_eq(labels, "{\"tier\":\"silver\"}");
}
END_TEST

START_TEST(test_malformed)
{
    g_autofree char *labels = NULL;
    g_autoptr(GError) error = NULL;

    ck_assert(!vsMetadataParseLabels("<shadow:domain", &labels, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_str_eq(error->message, "malformed virt-shadow metadata XML");
}
END_TEST

START_TEST(test_merge)
{
    g_autofree char *both = vsMetadataMergeLabels("{\"a\":\"1\",\"b\":\"2\"}", "{\"b\":\"3\",\"c\":\"4\"}");
    g_autofree char *only_base = vsMetadataMergeLabels("{\"a\":\"1\"}", NULL);
    g_autofree char *only_over = vsMetadataMergeLabels(NULL, "{\"c\":\"4\"}");

    ck_assert_str_eq(both, "{\"a\":\"1\",\"b\":\"3\",\"c\":\"4\"}");
    ck_assert_str_eq(only_base, "{\"a\":\"1\"}");
    ck_assert_str_eq(only_over, "{\"c\":\"4\"}");
    ck_assert_ptr_null(vsMetadataMergeLabels(NULL, NULL));
}
END_TEST

/* The shadow clone's mark: read back, written, and refused when its id
 * could escape a file name. */
START_TEST(test_shadow_run)
{
    g_autofree char *xml = vsTestFixture("vsmetadatadata", "shadow-run.xml");
    g_autofree char *empty = vsTestFixture("vsmetadatadata", "empty.xml");
    g_autofree char *id = NULL;
    g_autofree char *none = NULL;
    g_autofree char *made = NULL;
    g_autofree char *again = NULL;
    g_autofree char *prefix = vsShadowOverlayPrefix("r42");
    g_autoptr(GError) error = NULL;

    ck_assert(vsMetadataParseShadowRun(xml, &id, NULL));
    ck_assert_str_eq(id, "r42-2026.11");
    ck_assert(vsMetadataParseShadowRun(empty, &none, NULL));
    ck_assert_ptr_null(none);

    made = vsMetadataShadowRunXML("r42", &error);
    ck_assert_msg(made != NULL, "%s", error ? error->message : "");
    ck_assert(vsMetadataParseShadowRun(made, &again, NULL));
    ck_assert_str_eq(again, "r42");
    ck_assert_str_eq(prefix, "vs-shadow-r42-");

    ck_assert_ptr_null(vsMetadataShadowRunXML("../x", &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_str_eq(error->message, "invalid shadow run id '../x'");
    g_clear_error(&error);
    ck_assert_ptr_null(vsMetadataShadowRunXML("a\"b", &error));
    g_clear_error(&error);
    ck_assert_ptr_null(vsMetadataShadowRunXML("", &error));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("metadata");
    TCase *tc = tcase_create("metadata");

    tcase_add_test(tc, test_fixtures_against_schema);
    tcase_add_test(tc, test_labels);
    tcase_add_test(tc, test_no_labels_and_future_elements);
    tcase_add_test(tc, test_unprefixed_children);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_merge);
    tcase_add_test(tc, test_shadow_run);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
