/*
 * vsdomainxml.c: the facts virt-shadow needs from a libvirt domain XML
 */
#include <config.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "vsdomainxml.h"
#include "util/vserror.h"
#include "util/vsutil.h"

typedef xmlDoc vsXmlDoc;
typedef xmlXPathContext vsXmlXPathContext;
typedef xmlXPathObject vsXmlXPathObject;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsXmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsXmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsXmlXPathObject, xmlXPathFreeObject)

static void
vsDomainDiskFree(vsDomainDisk *disk)
{
    if (!disk)
        return;
    g_free(disk->path);
    g_free(disk->pool);
    g_free(disk->volume);
    g_free(disk->format);
    g_free(disk->target);
    g_free(disk->device);
    g_free(disk);
}

void
vsDomainXMLFree(vsDomainXML *def)
{
    if (!def)
        return;
    g_clear_pointer(&def->disks, g_ptr_array_unref);
    g_free(def->name);
    g_free(def->uuid);
    g_free(def->type);
    g_free(def);
}

/* The string value of @expr, or NULL when it selects nothing. */
static char *
vsXPathString(vsXmlXPathContext *ctx, const char *expr)
{
    g_autoptr(vsXmlXPathObject) obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    xmlChar *str;
    char *ret;

    if (!obj)
        return NULL;
    str = xmlXPathCastToString(obj);
    ret = str && *str ? g_strdup((const char *)str) : NULL;
    xmlFree(str);
    return ret;
}

static gboolean
vsXPathBool(vsXmlXPathContext *ctx, const char *expr)
{
    g_autoptr(vsXmlXPathObject) obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);

    return obj && xmlXPathCastToBoolean(obj);
}

static gboolean
vsXPathUInt64(vsXmlXPathContext *ctx, const char *expr, const char *what,
              guint64 *ret, GError **error)
{
    g_autofree char *text = vsXPathString(ctx, expr);

    if (!text) {
        *ret = 0;
        return TRUE;
    }
    if (!g_ascii_string_to_unsigned(g_strstrip(text), 10, 0, G_MAXUINT64, ret, NULL)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid %s '%s' in domain XML", what, text);
        return FALSE;
    }
    return TRUE;
}

/* A <memory unit='...'>N</memory>-style element in KiB. */
static gboolean
vsXPathMemory(vsXmlXPathContext *ctx, const char *element, guint64 *ret_kib,
              GError **error)
{
    g_autofree char *value_expr = g_strdup_printf("string(/domain/%s)", element);
    g_autofree char *unit_expr = g_strdup_printf("string(/domain/%s/@unit)", element);
    g_autofree char *unit = vsXPathString(ctx, unit_expr);
    guint64 value;

    if (!vsXPathUInt64(ctx, value_expr, element, &value, error))
        return FALSE;
    return vsScaleToKiB(value, unit, ret_kib, error);
}

/* An attribute of @node, or NULL when absent or empty. */
static char *
vsXmlProp(xmlNodePtr node, const char *name)
{
    xmlChar *value = node ? xmlGetProp(node, BAD_CAST name) : NULL;
    char *ret = value && *value ? g_strdup((const char *)value) : NULL;

    xmlFree(value);
    return ret;
}

/* The first element child of @node named @name, or NULL. */
static xmlNodePtr
vsXmlChild(xmlNodePtr node, const char *name)
{
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name))
            return c;
    }
    return NULL;
}

static void
vsDomainXMLFillDisks(vsDomainXML *def, vsXmlXPathContext *ctx)
{
    g_autoptr(vsXmlXPathObject) obj =
        xmlXPathEvalExpression(BAD_CAST "/domain/devices/disk", ctx);
    xmlNodeSetPtr nodes = obj ? obj->nodesetval : NULL;

    for (int i = 0; nodes && i < nodes->nodeNr; i++) {
        xmlNodePtr node = nodes->nodeTab[i];
        xmlNodePtr source = vsXmlChild(node, "source");
        g_autofree char *path = vsXmlProp(source, "file");
        g_autofree char *pool = NULL;
        g_autofree char *volume = NULL;
        vsDomainDisk *disk;

        if (!path)
            path = vsXmlProp(source, "dev");
        if (!path) {
            pool = vsXmlProp(source, "pool");
            volume = vsXmlProp(source, "volume");
            if (!pool || !volume)
                continue;
        }
        disk = g_new0(vsDomainDisk, 1);
        disk->path = g_steal_pointer(&path);
        disk->pool = g_steal_pointer(&pool);
        disk->volume = g_steal_pointer(&volume);
        disk->format = vsXmlProp(vsXmlChild(node, "driver"), "type");
        disk->target = vsXmlProp(vsXmlChild(node, "target"), "dev");
        disk->device = vsXmlProp(node, "device");
        if (!disk->device)
            disk->device = g_strdup("disk");
        disk->readonly = vsXmlChild(node, "readonly") != NULL;
        disk->shareable = vsXmlChild(node, "shareable") != NULL;
        g_ptr_array_add(def->disks, disk);
    }
}

static gboolean
vsDomainXMLFill(vsDomainXML *def, vsXmlXPathContext *ctx, GError **error)
{
    guint64 vcpus = 0;
    guint64 current = 0;
    guint64 period = 0;

    def->name = vsXPathString(ctx, "string(/domain/name)");
    def->uuid = vsXPathString(ctx, "string(/domain/uuid)");
    def->type = vsXPathString(ctx, "string(/domain/@type)");
    if (!def->name) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "domain XML has no <name>");
        return FALSE;
    }
    if (!vsXPathUInt64(ctx, "string(/domain/vcpu)", "vcpu count", &vcpus, error) ||
        !vsXPathUInt64(ctx, "string(/domain/vcpu/@current)", "current vcpu count", &current, error) ||
        !vsXPathMemory(ctx, "memory", &def->memory_kib, error) ||
        !vsXPathMemory(ctx, "currentMemory", &def->current_memory_kib, error) ||
        !vsXPathUInt64(ctx, "string(/domain/devices/memballoon/stats/@period)",
                       "balloon stats period", &period, error))
        return FALSE;

    def->vcpus_max = vcpus ? (guint)vcpus : 1;
    def->vcpus_current = current ? (guint)current : def->vcpus_max;
    if (!def->current_memory_kib)
        def->current_memory_kib = def->memory_kib;
    def->balloon_stats_period = (int)MIN(period, G_MAXINT);
    def->has_balloon = vsXPathBool(ctx, "/domain/devices/memballoon[@model!='none']");
    def->has_agent_channel =
        vsXPathBool(ctx, "/domain/devices/channel/target[@type='virtio' and "
                         "@name='org.qemu.guest_agent.0']");
    def->agent_connected =
        vsXPathBool(ctx, "/domain/devices/channel/target[@name='org.qemu.guest_agent.0' and "
                         "@state='connected']");
    vsDomainXMLFillDisks(def, ctx);
    return TRUE;
}

vsDomainXML *
vsDomainXMLParse(const char *xml, GError **error)
{
    g_autoptr(vsXmlDoc) doc = NULL;
    g_autoptr(vsXmlXPathContext) ctx = NULL;
    g_autoptr(vsDomainXML) def = g_new0(vsDomainXML, 1);

    def->disks = g_ptr_array_new_with_free_func((GDestroyNotify)vsDomainDiskFree);

    doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *err = xmlGetLastError();

        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "malformed domain XML at line %d: %s",
                    err ? err->line : 0, err && err->message ? g_strstrip(err->message) : "parse error");
        return NULL;
    }
    if (!xmlDocGetRootElement(doc) ||
        !xmlStrEqual(xmlDocGetRootElement(doc)->name, BAD_CAST "domain")) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "XML root element is not <domain>");
        return NULL;
    }
    ctx = xmlXPathNewContext(doc);
    if (!vsDomainXMLFill(def, ctx, error))
        return NULL;
    return g_steal_pointer(&def);
}

gboolean
vsDomainXMLHasVcpuHeadroom(const vsDomainXML *def)
{
    return def->vcpus_current < def->vcpus_max;
}

gboolean
vsDomainXMLHasMemoryHeadroom(const vsDomainXML *def)
{
    return def->current_memory_kib < def->memory_kib;
}

const vsDomainDisk *
vsDomainXMLWritableDisk(const vsDomainXML *def, guint *ret_count)
{
    const vsDomainDisk *found = NULL;

    *ret_count = 0;
    for (guint i = 0; i < def->disks->len; i++) {
        const vsDomainDisk *disk = g_ptr_array_index(def->disks, i);

        if (disk->readonly || g_strcmp0(disk->device, "cdrom") == 0 ||
            g_strcmp0(disk->device, "floppy") == 0)
            continue;
        (*ret_count)++;
        found = disk;
    }
    return found;
}

const vsDomainDisk *
vsDomainXMLFindDisk(const vsDomainXML *def, const char *path)
{
    g_autofree char *want = g_canonicalize_filename(path, "/");

    for (guint i = 0; i < def->disks->len; i++) {
        const vsDomainDisk *disk = g_ptr_array_index(def->disks, i);
        g_autofree char *have = NULL;

        if (!disk->path)
            continue;
        have = g_canonicalize_filename(disk->path, "/");
        if (g_str_equal(have, want))
            return disk;
    }
    return NULL;
}
