/*
 * vsstoragexml.c: libvirt storage pool and volume XML, read and written
 */
#include <config.h>

#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "vsstoragexml.h"
#include "util/vserror.h"
#include "util/vsutil.h"

typedef xmlDoc vsStorageDoc;
typedef xmlXPathContext vsStorageXPathContext;
typedef xmlXPathObject vsStorageXPathObject;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsStorageDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsStorageXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsStorageXPathObject, xmlXPathFreeObject)

void
vsStorageVolumeFree(vsStorageVolume *vol)
{
    if (!vol)
        return;
    g_free(vol->name);
    g_free(vol->path);
    g_free(vol->format);
    g_free(vol->backing_path);
    g_free(vol->backing_format);
    g_free(vol);
}

void
vsStoragePoolFree(vsStoragePool *pool)
{
    if (!pool)
        return;
    g_free(pool->name);
    g_free(pool->type);
    g_free(pool->target_path);
    g_free(pool);
}

/* Parse @xml whose root must be @root; a context on it. */
static vsStorageXPathContext *
vsStorageRead(const char *xml, const char *root, vsStorageDoc **ret_doc, GError **error)
{
    g_autoptr(vsStorageDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "storage.xml", NULL,
                                                XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                XML_PARSE_NOWARNING);
    xmlNodePtr top = doc ? xmlDocGetRootElement(doc) : NULL;
    vsStorageXPathContext *ctx;

    if (!top || !xmlStrEqual(top->name, BAD_CAST root)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "malformed storage %s XML", root);
        return NULL;
    }
    ctx = xmlXPathNewContext(doc);
    *ret_doc = g_steal_pointer(&doc);
    return ctx;
}

static char *
vsStorageString(vsStorageXPathContext *ctx, const char *expr)
{
    g_autoptr(vsStorageXPathObject) obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    xmlChar *str;
    char *ret;

    if (!obj)
        return NULL;
    str = xmlXPathCastToString(obj);
    ret = str && *str ? g_strstrip(g_strdup((const char *)str)) : NULL;
    xmlFree(str);
    return ret;
}

vsStorageVolume *
vsStorageVolumeParse(const char *xml, GError **error)
{
    g_autoptr(vsStorageDoc) doc = NULL;
    g_autoptr(vsStorageXPathContext) ctx = vsStorageRead(xml, "volume", &doc, error);
    g_autoptr(vsStorageVolume) vol = NULL;
    g_autofree char *capacity = NULL;
    g_autofree char *unit = NULL;
    guint64 value = 0;

    if (!ctx)
        return NULL;
    vol = g_new0(vsStorageVolume, 1);
    vol->name = vsStorageString(ctx, "string(/volume/name)");
    vol->path = vsStorageString(ctx, "string(/volume/target/path)");
    vol->format = vsStorageString(ctx, "string(/volume/target/format/@type)");
    vol->backing_path = vsStorageString(ctx, "string(/volume/backingStore/path)");
    vol->backing_format = vsStorageString(ctx, "string(/volume/backingStore/format/@type)");
    capacity = vsStorageString(ctx, "string(/volume/capacity)");
    unit = vsStorageString(ctx, "string(/volume/capacity/@unit)");
    if (capacity &&
        !g_ascii_string_to_unsigned(capacity, 10, 0, G_MAXUINT64, &value, NULL)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid capacity '%s' in storage volume XML", capacity);
        return NULL;
    }
    if (!unit || g_str_equal(unit, "bytes") || g_str_equal(unit, "B") ||
        g_str_equal(unit, "b")) {
        vol->capacity = value;
    } else {
        guint64 kib;

        if (!vsScaleToKiB(value, unit, &kib, error))
            return NULL;
        vol->capacity = kib * 1024;
    }
    return g_steal_pointer(&vol);
}

vsStoragePool *
vsStoragePoolParse(const char *xml, GError **error)
{
    g_autoptr(vsStorageDoc) doc = NULL;
    g_autoptr(vsStorageXPathContext) ctx = vsStorageRead(xml, "pool", &doc, error);
    vsStoragePool *pool;

    if (!ctx)
        return NULL;
    pool = g_new0(vsStoragePool, 1);
    pool->name = vsStorageString(ctx, "string(/pool/name)");
    pool->type = vsStorageString(ctx, "string(/pool/@type)");
    pool->target_path = vsStorageString(ctx, "string(/pool/target/path)");
    return pool;
}

char *
vsStorageOverlayXML(const char *name, guint64 capacity, const char *base_path,
                    const char *base_format)
{
    g_autofree char *n = g_markup_escape_text(name, -1);
    g_autofree char *p = g_markup_escape_text(base_path, -1);
    g_autofree char *f = g_markup_escape_text(base_format, -1);

    return g_strdup_printf("<volume>\n"
                           "  <name>%s</name>\n"
                           "  <capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>\n"
                           "  <target><format type='qcow2'/></target>\n"
                           "  <backingStore>\n"
                           "    <path>%s</path>\n"
                           "    <format type='%s'/>\n"
                           "  </backingStore>\n"
                           "</volume>\n", n, capacity, p, f);
}

char *
vsStorageCopyXML(const char *name, guint64 capacity, const char *format)
{
    g_autofree char *n = g_markup_escape_text(name, -1);
    g_autofree char *f = g_markup_escape_text(format, -1);

    return g_strdup_printf("<volume>\n"
                           "  <name>%s</name>\n"
                           "  <capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>\n"
                           "  <target><format type='%s'/></target>\n"
                           "</volume>\n", n, capacity, f);
}

char *
vsStorageDirPoolXML(const char *name, const char *dir, guint mode)
{
    g_autofree char *n = g_markup_escape_text(name, -1);
    g_autofree char *d = g_markup_escape_text(dir, -1);
    g_autofree char *perms = mode ? g_strdup_printf("<permissions><mode>0%o</mode></permissions>",
                                                    mode & 07777)
                                  : g_strdup("");

    return g_strdup_printf("<pool type='dir'>\n"
                           "  <name>%s</name>\n"
                           "  <target><path>%s</path>%s</target>\n"
                           "</pool>\n", n, d, perms);
}
