/*
 * vsmetadata.h: virt-shadow's element in a domain's <metadata>
 *
 * Validated against schemas/domain-metadata.rng (compiled in) before
 * anything is read from it, so a hand-edited element that is wrong is
 * rejected with the schema's message rather than half-understood.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Validate @xml (our metadata element) and return its workload labels as a
 * JSON object text in @ret_labels (NULL when it has none).  VS_ERROR_INVALID
 * names what the schema refused. */
gboolean vsMetadataParseLabels(const char *xml, char **ret_labels, GError **error);

/* Merge two JSON objects of string values: keys of @over win.  Either may
 * be NULL; returns NULL when both are. */
char *vsMetadataMergeLabels(const char *base, const char *over);

G_END_DECLS
