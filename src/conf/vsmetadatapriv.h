/*
 * vsmetadatapriv.h: shared by the readers of our metadata element
 * (vsmetadata.c, vspolicy.c); not for use outside src/conf
 */
#pragma once

#include <libxml/tree.h>
#include <libxml/xpath.h>

#include <glib.h>

G_BEGIN_DECLS

typedef xmlDoc vsMetaDoc;
typedef xmlXPathContext vsMetaXPathContext;
typedef xmlXPathObject vsMetaXPathObject;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsMetaDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsMetaXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsMetaXPathObject, xmlXPathFreeObject)

/* Parse @xml (well-formedness only) with every element of ours in
 * VS_METADATA_NS, whatever prefix or lack of one it came with. */
vsMetaDoc *vsMetadataReadDoc(const char *xml, GError **error);

/* Validate against schemas/domain-metadata.rng.  VS_ERROR_INVALID names
 * what the schema refused; for a bad <policy>, the attribute. */
gboolean vsMetadataValidateDoc(vsMetaDoc *doc, GError **error);

/* vsMetadataReadDoc() then vsMetadataValidateDoc(). */
vsMetaDoc *vsMetadataParseDoc(const char *xml, GError **error);

/* The element as text, with our namespace as the default one and no prefix
 * declared for it, as virDomainSetMetadata() needs. */
char *vsMetadataDumpDoc(vsMetaDoc *doc);

/* The first child element of @parent in our namespace named @name. */
xmlNodePtr vsMetadataChild(xmlNodePtr parent, const char *name);
/* The next sibling of @node in our namespace named @name. */
xmlNodePtr vsMetadataNext(xmlNodePtr node, const char *name);

G_END_DECLS
