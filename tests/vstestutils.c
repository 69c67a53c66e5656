/*
 * vstestutils.c: shared helpers for the test programs
 */
#include <config.h>

#include <time.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>

#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "vstestutils.h"
#include "hypervisor/vshypervisor.h"

const char *
vsTestSrcDir(void)
{
    const char *dir = g_getenv("VS_TEST_SRCDIR");

    return dir ? dir : VS_TEST_SRCDIR;
}

char *
vsTestFixture(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(vsTestSrcDir(), "tests", dir, name, NULL);
    char *data = NULL;

    ck_assert_msg(g_file_get_contents(path, &data, NULL, NULL), "cannot read %s", path);
    return data;
}

const char *
vsTestBuildDir(void)
{
    const char *dir = g_getenv("VS_TEST_BUILDDIR");

    return dir ? dir : VS_TEST_BUILDDIR;
}

char *
vsTestMakeTempDir(const char *tmpl)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp(tmpl, &error);

    if (!dir)
        ck_abort_msg("cannot create temp dir: %s", error->message);
    return dir;
}

void
vsTestRemoveTree(const char *path)
{
    g_autoptr(GFile) file = NULL;
    g_autoptr(GFileEnumerator) en = NULL;
    GFileInfo *info;

    if (!path)
        return;
    file = g_file_new_for_path(path);
    en = g_file_enumerate_children(file, G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                   G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                   G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
    while (en && (info = g_file_enumerator_next_file(en, NULL, NULL))) {
        g_autofree char *child = g_build_filename(path, g_file_info_get_name(info), NULL);

        if (g_file_info_get_file_type(info) == G_FILE_TYPE_DIRECTORY)
            vsTestRemoveTree(child);
        else
            g_unlink(child);
        g_object_unref(info);
    }
    g_rmdir(path);
}

gboolean
vsTestPoll(vsTestCondition cond, gpointer opaque, guint timeout_ms, guint interval_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        if (cond(opaque))
            return TRUE;
        if (g_get_monotonic_time() >= deadline)
            return FALSE;
        g_usleep((gulong)interval_ms * 1000);
    }
}

void
vsTestAssertDouble(double got, double expect, const char *what)
{
    if (isnan(expect)) {
        ck_assert_msg(isnan(got), "%s: got %.17g, expected unknown", what, got);
        return;
    }
    ck_assert_msg(got == expect, "%s: got %.17g, expected %.17g", what, got, expect);
}

int
vsTestRunSuite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

vsSamplerStats
vsTestSamplerStats(vsSampler *s)
{
    vsSamplerStats stats;

    vsSamplerGetStats(s, &stats);
    return stats;
}

double
vsTestCpuSeconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef xmlDoc vsTestUtilDoc;
typedef xmlXPathContext vsTestUtilXPathContext;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsTestUtilDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsTestUtilXPathContext, xmlXPathFreeContext)

static xmlXPathObjectPtr
vsTestXPathEval(vsTestUtilDoc *doc, const char *expr)
{
    g_autoptr(vsTestUtilXPathContext) ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr obj;

    xmlXPathRegisterNs(ctx, BAD_CAST "vs", BAD_CAST VS_METADATA_NS);
    xmlXPathRegisterNs(ctx, BAD_CAST "other", BAD_CAST "https://example.org/app");
    obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    ck_assert_msg(obj, "bad xpath %s", expr);
    return obj;
}

char *
vsTestXPathNode(const char *xml, const char *expr)
{
    g_autoptr(vsTestUtilDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL,
                                                 XML_PARSE_NONET);
    xmlXPathObjectPtr obj;
    xmlBufferPtr buf = xmlBufferCreate();
    char *ret;

    ck_assert_msg(doc, "not well-formed: %s", xml);
    obj = vsTestXPathEval(doc, expr);
    ck_assert_msg(obj->nodesetval && obj->nodesetval->nodeNr == 1, "%s: not one node", expr);
    xmlNodeDump(buf, doc, obj->nodesetval->nodeTab[0], 0, 0);
    ret = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    xmlXPathFreeObject(obj);
    return ret;
}

char *
vsTestXPath(const char *xml, const char *expr)
{
    g_autoptr(vsTestUtilDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL,
                                                 XML_PARSE_NONET);
    xmlXPathObjectPtr obj;
    xmlChar *str;
    char *ret;

    ck_assert_msg(doc, "not well-formed: %s", xml);
    obj = vsTestXPathEval(doc, expr);
    str = xmlXPathCastToString(obj);
    ret = g_strdup((const char *)str);
    xmlFree(str);
    xmlXPathFreeObject(obj);
    return ret;
}
