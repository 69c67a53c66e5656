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

/* A shadow clone's mark: <shadow-run id="RUNID"/> in our element.  Its
 * overlays are named VS_SHADOW_OVERLAY_PREFIX "RUNID-..." so that they are
 * found even when the domain is gone. */
#define VS_SHADOW_OVERLAY_PREFIX "vs-shadow-"

/* Validate @xml and return the run id of its <shadow-run> in @ret_run_id,
 * NULL when it has none. */
gboolean vsMetadataParseShadowRun(const char *xml, char **ret_run_id, GError **error);

/* Our element marking a clone of run @run_id, with our namespace as the
 * default one: for virDomainSetMetadata, or as is inside a domain XML's
 * <metadata>.  NULL with VS_ERROR_INVALID when @run_id is not a valid id
 * (letters, digits, "_.-", not starting with a punctuation mark, at most
 * 64 characters). */
char *vsMetadataShadowRunXML(const char *run_id, GError **error);

/* The name prefix of run @run_id's overlays: "vs-shadow-RUNID-". */
char *vsShadowOverlayPrefix(const char *run_id);

G_END_DECLS
