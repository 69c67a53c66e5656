/*
 * vsmetadata.c: virt-shadow's element in a domain's <metadata>
 */
#include <config.h>

#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlIO.h>
#include <libxml/relaxng.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "vsmetadata.h"
#include "vsmetadatapriv.h"
#include "hypervisor/vshypervisor.h"
#include "util/vserror.h"
#include "util/vsjson.h"
#include "util/vsutil.h"

/* The schemas are compiled in; the include in domain-metadata.rng is
 * resolved through an input callback serving this URI prefix from the
 * resources, so there is one source per grammar and nothing on disk. */
#define VS_SCHEMA_URI "resource:///org/virt-shadow/schemas/"

typedef xmlRelaxNGValidCtxt vsMetaValidCtxt;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsMetaValidCtxt, xmlRelaxNGFreeValidCtxt)

typedef struct {
    GBytes *bytes;
    gsize pos;
} vsSchemaInput;

static int
vsSchemaMatch(const char *uri)
{
    return uri && g_str_has_prefix(uri, VS_SCHEMA_URI);
}

static void *
vsSchemaOpen(const char *uri)
{
    /* "resource:///org/..." names the resource "/org/..." */
    GBytes *bytes = g_resource_lookup_data(vsResources(), uri + strlen("resource://"),
                                           G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
    vsSchemaInput *in;

    if (!bytes)
        return NULL;
    in = g_new0(vsSchemaInput, 1);
    in->bytes = bytes;
    return in;
}

static int
vsSchemaRead(void *opaque, char *buf, int len)
{
    vsSchemaInput *in = opaque;
    gsize size = 0;
    const char *data = g_bytes_get_data(in->bytes, &size);
    gsize n = MIN((gsize)MAX(len, 0), size - in->pos);

    memcpy(buf, data + in->pos, n);
    in->pos += n;
    return (int)n;
}

static int
vsSchemaClose(void *opaque)
{
    vsSchemaInput *in = opaque;

    g_bytes_unref(in->bytes);
    g_free(in);
    return 0;
}

static xmlRelaxNGPtr
vsSchemaCompile(const char *name)
{
    g_autofree char *uri = g_strconcat(VS_SCHEMA_URI, name, NULL);
    xmlRelaxNGParserCtxtPtr pctxt = xmlRelaxNGNewParserCtxt(uri);
    xmlRelaxNGPtr schema = pctxt ? xmlRelaxNGParse(pctxt) : NULL;

    xmlRelaxNGFreeParserCtxt(pctxt);
    return schema;
}

typedef enum {
    VS_SCHEMA_DOMAIN,       /* the whole element */
    VS_SCHEMA_POLICY,       /* a bare <policy>, for a precise message */
    VS_SCHEMA_LAST
} vsSchemaId;

/* Compiled once; the schemas are part of the binary, so failing to compile
 * them is a build bug. */
static xmlRelaxNGPtr
vsMetadataSchema(vsSchemaId id)
{
    static gsize once;
    static xmlRelaxNGPtr schemas[VS_SCHEMA_LAST];

    if (g_once_init_enter(&once)) {
        /* after xmlInitParser, or its catch-all file callback would win */
        xmlInitParser();
        xmlRegisterInputCallbacks(vsSchemaMatch, vsSchemaOpen, vsSchemaRead, vsSchemaClose);
        schemas[VS_SCHEMA_DOMAIN] = vsSchemaCompile("domain-metadata.rng");
        schemas[VS_SCHEMA_POLICY] = vsSchemaCompile("policy.rng");
        g_once_init_leave(&once, 1);
    }
    g_assert(schemas[id]);
    return schemas[id];
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

/* NULL when @doc is valid, else the schema's first complaint. */
static char *
vsMetadataProblem(vsSchemaId id, vsMetaDoc *doc)
{
    g_autoptr(vsMetaValidCtxt) vctxt = xmlRelaxNGNewValidCtxt(vsMetadataSchema(id));
    char *problem = NULL;

    xmlRelaxNGSetValidStructuredErrors(vctxt, (xmlStructuredErrorFunc)vsMetadataCollectError,
                                       &problem);
    if (xmlRelaxNGValidateDoc(vctxt, doc) == 0) {
        g_free(problem);
        return NULL;
    }
    return problem ? problem : g_strdup("it does not match the schema");
}

/* libxml2 reports a bad element inside an <interleave> only as "extra
 * element", so a <policy> is also checked alone, where its message names
 * the attribute. */
static char *
vsMetadataPolicyProblem(xmlNodePtr policy)
{
    g_autoptr(vsMetaDoc) doc = xmlNewDoc(BAD_CAST "1.0");

    xmlDocSetRootElement(doc, xmlDocCopyNode(policy, doc, 1));
    return vsMetadataProblem(VS_SCHEMA_POLICY, doc);
}

/* @node itself or its first following sibling that is our @name */
static xmlNodePtr
vsMetadataFind(xmlNodePtr node, const char *name)
{
    for (; node; node = node->next) {
        if (node->type == XML_ELEMENT_NODE && node->ns &&
            xmlStrEqual(node->ns->href, BAD_CAST VS_METADATA_NS) &&
            xmlStrEqual(node->name, BAD_CAST name))
            return node;
    }
    return NULL;
}

xmlNodePtr
vsMetadataChild(xmlNodePtr parent, const char *name)
{
    return parent ? vsMetadataFind(parent->children, name) : NULL;
}

xmlNodePtr
vsMetadataNext(xmlNodePtr node, const char *name)
{
    return vsMetadataFind(node->next, name);
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

vsMetaDoc *
vsMetadataReadDoc(const char *xml, GError **error)
{
    g_autoptr(vsMetaDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "metadata.xml", NULL,
                                             XML_PARSE_NONET | XML_PARSE_NOERROR |
                                             XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

    if (!root) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "malformed virt-shadow metadata XML");
        return NULL;
    }
    if (!root->ns)
        xmlSetNs(root, xmlNewNs(root, BAD_CAST VS_METADATA_NS, NULL));
    if (xmlStrEqual(root->ns->href, BAD_CAST VS_METADATA_NS))
        vsMetadataAdoptChildren(root, root->ns);
    return g_steal_pointer(&doc);
}

gboolean
vsMetadataValidateDoc(vsMetaDoc *doc, GError **error)
{
    g_autofree char *problem = vsMetadataProblem(VS_SCHEMA_DOMAIN, doc);
    xmlNodePtr policy;

    if (!problem)
        return TRUE;
    policy = vsMetadataChild(xmlDocGetRootElement(doc), "policy");
    if (policy) {
        char *precise = vsMetadataPolicyProblem(policy);

        if (precise) {
            g_free(problem);
            problem = precise;
        }
    }
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid virt-shadow metadata: %s", problem);
    return FALSE;
}

static gboolean
vsMetadataIsOurs(xmlNsPtr ns)
{
    return ns && xmlStrEqual(ns->href, BAD_CAST VS_METADATA_NS);
}

/* Point every element and attribute of ours at @ours. */
static void
vsMetadataUseNs(xmlNodePtr node, xmlNsPtr ours)
{
    if (vsMetadataIsOurs(node->ns))
        xmlSetNs(node, ours);
    for (xmlAttrPtr attr = node->properties; attr; attr = attr->next) {
        if (vsMetadataIsOurs(attr->ns))
            attr->ns = NULL;    /* a default namespace never applies to attributes */
    }
    for (xmlNodePtr child = node->children; child; child = child->next) {
        if (child->type == XML_ELEMENT_NODE)
            vsMetadataUseNs(child, ours);
    }
}

/* Then drop the other declarations of our namespace: nothing uses them. */
static void
vsMetadataDropNs(xmlNodePtr node, xmlNsPtr ours)
{
    xmlNsPtr *link = &node->nsDef;

    while (*link) {
        xmlNsPtr ns = *link;

        if (ns != ours && vsMetadataIsOurs(ns)) {
            *link = ns->next;
            ns->next = NULL;
            xmlFreeNs(ns);
        } else {
            link = &ns->next;
        }
    }
    for (xmlNodePtr child = node->children; child; child = child->next) {
        if (child->type == XML_ELEMENT_NODE)
            vsMetadataDropNs(child, ours);
    }
}

char *
vsMetadataDumpDoc(vsMetaDoc *doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlBufferPtr buf = xmlBufferCreate();
    xmlNsPtr ours = xmlSearchNs(doc, root, NULL);
    char *text;

    /* libvirt declares its own prefix on the root when it stores the
     * element, and fails when the root already declares that prefix: write
     * ours as the default namespace */
    if (!ours)
        ours = xmlNewNs(root, BAD_CAST VS_METADATA_NS, NULL);
    if (vsMetadataIsOurs(ours)) {
        vsMetadataUseNs(root, ours);
        vsMetadataDropNs(root, ours);
    }
    xmlNodeDump(buf, doc, root, 0, 0);
    text = g_strndup((const char *)xmlBufferContent(buf), xmlBufferLength(buf));
    xmlBufferFree(buf);
    return text;
}

vsMetaDoc *
vsMetadataParseDoc(const char *xml, GError **error)
{
    g_autoptr(vsMetaDoc) doc = vsMetadataReadDoc(xml, error);

    if (!doc || !vsMetadataValidateDoc(doc, error))
        return NULL;
    return g_steal_pointer(&doc);
}

gboolean
vsMetadataParseLabels(const char *xml, char **ret_labels, GError **error)
{
    g_autoptr(vsMetaDoc) doc = vsMetadataParseDoc(xml, error);
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

gboolean
vsMetadataParseShadowRun(const char *xml, char **ret_run_id, GError **error)
{
    g_autoptr(vsMetaDoc) doc = vsMetadataParseDoc(xml, error);
    xmlNodePtr run;
    xmlChar *id;

    if (!doc)
        return FALSE;
    run = vsMetadataChild(xmlDocGetRootElement(doc), "shadow-run");
    id = run ? xmlGetProp(run, BAD_CAST "id") : NULL;
    *ret_run_id = id ? g_strdup((const char *)id) : NULL;
    xmlFree(id);
    return TRUE;
}

char *
vsMetadataShadowRunXML(const char *run_id, GError **error)
{
    g_autofree char *escaped = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *check = NULL;

    if (!run_id || !*run_id) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "empty shadow run id");
        return NULL;
    }
    escaped = g_markup_escape_text(run_id, -1);
    xml = g_strdup_printf("<domain xmlns=\"%s\"><shadow-run id=\"%s\"/></domain>",
                          VS_METADATA_NS, escaped);
    /* the schema is the one definition of a valid id */
    if (!vsMetadataParseShadowRun(xml, &check, NULL)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid shadow run id '%s'", run_id);
        return NULL;
    }
    return g_steal_pointer(&xml);
}

char *
vsShadowOverlayPrefix(const char *run_id)
{
    return g_strconcat(VS_SHADOW_OVERLAY_PREFIX, run_id, "-", NULL);
}
