/*
 * vscapabilities.c: facts from the hypervisor's capabilities XML
 */
#include <config.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "vscapabilities.h"
#include "util/vserror.h"

typedef xmlDoc vsCapsDoc;
typedef xmlXPathContext vsCapsXPathContext;
typedef xmlXPathObject vsCapsXPathObject;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsCapsDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsCapsXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsCapsXPathObject, xmlXPathFreeObject)

static vsCapsDoc *
vsCapabilitiesRead(const char *caps_xml, GError **error)
{
    vsCapsDoc *doc = xmlReadMemory(caps_xml, (int)strlen(caps_xml), "capabilities.xml", NULL,
                                   XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

    if (!doc)
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "malformed capabilities XML");
    return doc;
}

GStrv
vsCapabilitiesDomainTypes(const char *caps_xml, GError **error)
{
    g_autoptr(vsCapsDoc) doc = NULL;
    g_autoptr(vsCapsXPathContext) ctx = NULL;
    g_autoptr(vsCapsXPathObject) obj = NULL;
    g_autoptr(GStrvBuilder) types = g_strv_builder_new();
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    if (!(doc = vsCapabilitiesRead(caps_xml, error)))
        return NULL;
    ctx = xmlXPathNewContext(doc);
    /* guests of the host's own architecture: the ones we would create */
    obj = xmlXPathEvalExpression(BAD_CAST "/capabilities/guest[arch/@name="
                                 "/capabilities/host/cpu/arch]/arch/domain/@type", ctx);
    for (int i = 0; obj && obj->nodesetval && i < obj->nodesetval->nodeNr; i++) {
        xmlChar *type = xmlNodeGetContent(obj->nodesetval->nodeTab[i]);

        if (type && !g_hash_table_contains(seen, type)) {
            g_hash_table_add(seen, g_strdup((const char *)type));
            g_strv_builder_add(types, (const char *)type);
        }
        xmlFree(type);
    }
    return g_strv_builder_end(types);
}
