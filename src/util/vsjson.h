/*
 * vsjson.h: a small JSON reader and writer
 *
 * Our fixed dependencies have no JSON library, yet the guest agent speaks
 * JSON and every command offers --json.  The reader builds an immutable
 * tree; the writer appends to a GString with correct escaping.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    VS_JSON_NULL,
    VS_JSON_BOOL,
    VS_JSON_NUMBER,
    VS_JSON_STRING,
    VS_JSON_ARRAY,
    VS_JSON_OBJECT,
} vsJsonType;

typedef struct _vsJson vsJson;

/* Parse a complete JSON text (RFC 8259).  Returns NULL with a VS_ERROR_INVALID
 * error naming the byte offset on malformed input.  Depth is limited to 128. */
vsJson *vsJsonParse(const char *text, gssize len, GError **error);
void vsJsonFree(vsJson *json);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsJson, vsJsonFree)

vsJsonType vsJsonGetType(const vsJson *json);
gboolean vsJsonGetBool(const vsJson *json);
double vsJsonGetNumber(const vsJson *json);
/* The number as an integer; FALSE when not an integral number in range. */
gboolean vsJsonGetInt64(const vsJson *json, gint64 *ret);
const char *vsJsonGetString(const vsJson *json);       /* NULL unless a string */

guint vsJsonArrayLength(const vsJson *json);           /* 0 unless an array */
const vsJson *vsJsonArrayGet(const vsJson *json, guint index);

guint vsJsonObjectSize(const vsJson *json);            /* 0 unless an object */
const char *vsJsonObjectKey(const vsJson *json, guint index);
const vsJson *vsJsonObjectValue(const vsJson *json, guint index);
/* Member @key, or NULL when absent or @json is not an object. */
const vsJson *vsJsonObjectGet(const vsJson *json, const char *key);
/* Follow a dotted path of object keys, e.g. "return.pid". */
const vsJson *vsJsonPath(const vsJson *json, const char *path);

/* Writer: build a document into a GString.  Commas and nesting are tracked
 * for you; misuse (a key outside an object) is a programming error. */
typedef struct _vsJsonWriter vsJsonWriter;

vsJsonWriter *vsJsonWriterNew(gboolean pretty);
void vsJsonWriterFree(vsJsonWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsJsonWriter, vsJsonWriterFree)

void vsJsonWriterBeginObject(vsJsonWriter *w);
void vsJsonWriterEndObject(vsJsonWriter *w);
void vsJsonWriterBeginArray(vsJsonWriter *w);
void vsJsonWriterEndArray(vsJsonWriter *w);
void vsJsonWriterKey(vsJsonWriter *w, const char *key);
void vsJsonWriterString(vsJsonWriter *w, const char *value);   /* NULL writes null */
void vsJsonWriterInt(vsJsonWriter *w, gint64 value);
void vsJsonWriterDouble(vsJsonWriter *w, double value);         /* NaN/inf write null */
void vsJsonWriterBool(vsJsonWriter *w, gboolean value);
void vsJsonWriterNull(vsJsonWriter *w);
/* Key plus value in one call, for the common object member. */
void vsJsonWriterMemberString(vsJsonWriter *w, const char *key, const char *value);
void vsJsonWriterMemberInt(vsJsonWriter *w, const char *key, gint64 value);
void vsJsonWriterMemberDouble(vsJsonWriter *w, const char *key, double value);
void vsJsonWriterMemberBool(vsJsonWriter *w, const char *key, gboolean value);

/* The finished text (a trailing newline when pretty); the writer keeps
 * ownership until Steal. */
const char *vsJsonWriterGet(vsJsonWriter *w);
char *vsJsonWriterSteal(vsJsonWriter *w);

/* Append @s as a quoted, escaped JSON string to @out. */
void vsJsonEscape(GString *out, const char *s);

G_END_DECLS
