/*
 * vsmetadata.c: virt-shadow's element in a domain's <metadata>
 */
#include <config.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "vsmetadata.h"
#include "hypervisor/vshypervisor.h"
#include "util/vserror.h"
#include "util/vsjson.h"
#include "util/vsutil.h"

#define VS_METADATA_SCHEMA "/org/virt-shadow/schemas/domain-metadata.rng"

typedef xmlDoc vsMetaDoc;
typedef xmlXPathContext vsMetaXPathContext;
typedef xmlXPathObject vsMetaXPathObject;
typedef xmlRelaxNGValidCtxt vsMetaValidCtxt;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsMetaDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsMetaXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsMetaXPathObject, xmlXPathFreeObject)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsMetaValidCtxt, xmlRelaxNGFreeValidCtxt)

/* Compiled once; the schema is part of the binary, so failing to compile
 * it is a build bug. */
static xmlRelaxNGPtr
vsMetadataSchema(void)
{
    static gsize once;
    static xmlRelaxNGPtr schema;

    if (g_once_init_enter(&once)) {
        g_autoptr(GBytes) rng = g_resource_lookup_data(vsResources(), VS_METADATA_SCHEMA,
                                                       G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
        gsize len = 0;
        const char *data = rng ? g_bytes_get_data(rng, &len) : NULL;
        xmlRelaxNGParserCtxtPtr pctxt = data ? xmlRelaxNGNewMemParserCtxt(data, (int)len) : NULL;

        schema = pctxt ? xmlRelaxNGParse(pctxt) : NULL;
        xmlRelaxNGFreeParserCtxt(pctxt);
        g_once_init_leave(&once, 1);
    }
    return schema;
}

/* Keep the first problem libxml2 reports, for one clear message. */
static void
vsMetadataCollectError(void *opaque, const xmlError *err)
{
    char **first = opaque;

    g_autofree char *message = NULL;

    if (*first || !err || !err->message)
        return;
    message = g_strstrip(g_strdup(err->message));
    *first = g_strdup_printf("%s (line %d)", message, err->line);
}

/* virDomainGetMetadata hands the element back without its namespace, and
 * "virsh metadata --set" puts only the root in it, leaving unprefixed
 * children in none.  Elements without a namespace are ours: adopt them. */
static void
vsMetadataAdoptChildren(xmlNodePtr node, xmlNsPtr ns)
{
    for (xmlNodePtr child = node->children; child; child = child->next) {
        if (child->type != XML_ELEMENT_NODE)
            continue;
        if (!child->ns)
            xmlSetNs(child, ns);
        vsMetadataAdoptChildren(child, ns);
    }
}

static vsMetaDoc *
vsMetadataParse(const char *xml, GError **error)
{
    g_autoptr(vsMetaValidCtxt) vctxt = NULL;
    g_autofree char *problem = NULL;
    g_autoptr(vsMetaDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "metadata.xml", NULL,
                                             XML_PARSE_NONET | XML_PARSE_NOERROR |
                                             XML_PARSE_NOWARNING);
    xmlRelaxNGPtr schema = vsMetadataSchema();
    xmlNodePtr root;

    if (!doc) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "malformed virt-shadow metadata XML");
        return NULL;
    }
    g_assert(schema);
    root = xmlDocGetRootElement(doc);
    if (root && !root->ns)
        xmlSetNs(root, xmlNewNs(root, BAD_CAST VS_METADATA_NS, NULL));
    if (root && xmlStrEqual(root->ns->href, BAD_CAST VS_METADATA_NS))
        vsMetadataAdoptChildren(root, root->ns);
    vctxt = xmlRelaxNGNewValidCtxt(schema);
    xmlRelaxNGSetValidStructuredErrors(vctxt, (xmlStructuredErrorFunc)vsMetadataCollectError,
                                       &problem);
    if (xmlRelaxNGValidateDoc(vctxt, doc) != 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid virt-shadow metadata: %s",
                    problem ? problem : "it does not match the schema");
        return NULL;
    }
    return g_steal_pointer(&doc);
}

gboolean
vsMetadataParseLabels(const char *xml, char **ret_labels, GError **error)
{
    g_autoptr(vsMetaDoc) doc = vsMetadataParse(xml, error);
    g_autoptr(vsMetaXPathContext) ctx = NULL;
    g_autoptr(vsMetaXPathObject) obj = NULL;
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(FALSE);
    int n;

    if (!doc)
        return FALSE;
    ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, BAD_CAST "vs", BAD_CAST VS_METADATA_NS);
    obj = xmlXPathEvalExpression(BAD_CAST "/vs:domain/vs:labels/vs:label", ctx);
    n = obj && obj->nodesetval ? obj->nodesetval->nodeNr : 0;
    if (n == 0) {
        *ret_labels = NULL;
        return TRUE;
    }
    vsJsonWriterBeginObject(w);
    for (int i = 0; i < n; i++) {
        xmlNodePtr node = obj->nodesetval->nodeTab[i];
        xmlChar *name = xmlGetProp(node, BAD_CAST "name");
        xmlChar *value = xmlNodeGetContent(node);

        vsJsonWriterMemberString(w, (const char *)name, (const char *)value);
        xmlFree(name);
        xmlFree(value);
    }
    vsJsonWriterEndObject(w);
    *ret_labels = vsJsonWriterSteal(w);
    return TRUE;
}

char *
vsMetadataMergeLabels(const char *base, const char *over)
{
    g_autoptr(vsJson) a = base ? vsJsonParse(base, -1, NULL) : NULL;
    g_autoptr(vsJson) b = over ? vsJsonParse(over, -1, NULL) : NULL;
    g_autoptr(vsJsonWriter) w = NULL;

    if (!a || !b)
        return g_strdup(b ? over : a ? base : NULL);
    w = vsJsonWriterNew(FALSE);
    vsJsonWriterBeginObject(w);
    for (guint i = 0; i < vsJsonObjectSize(a); i++) {
        const char *key = vsJsonObjectKey(a, i);

        if (!vsJsonObjectGet(b, key))
            vsJsonWriterMemberString(w, key, vsJsonGetString(vsJsonObjectValue(a, i)));
    }
    for (guint i = 0; i < vsJsonObjectSize(b); i++)
        vsJsonWriterMemberString(w, vsJsonObjectKey(b, i), vsJsonGetString(vsJsonObjectValue(b, i)));
    vsJsonWriterEndObject(w);
    return vsJsonWriterSteal(w);
}
