/*
 * vsjson.c: a small JSON reader and writer
 *
 * Reader decisions (RFC 8259 leaves these to the implementation):
 *  - the grammar is enforced strictly: no comments, no trailing commas, no
 *    leading zeros, no NaN/Infinity, no byte order mark, no raw control
 *    characters or invalid UTF-8 in strings, nothing after the value
 *  - a lone UTF-16 surrogate in a \u escape is valid grammar but not a
 *    character; it becomes U+FFFD so every string we hand out is valid UTF-8
 *  - \u0000 is rejected: our strings are NUL-terminated and a key such as
 *    "a\u0000b" must not silently match "a"
 *  - numbers whose magnitude overflows a double are rejected
 *  - duplicate object keys are all kept in order; vsJsonObjectGet returns
 *    the last one, as most parsers do
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "util/vsjson.h"
#include "util/vserror.h"

#define VS_JSON_MAX_DEPTH 128

typedef enum {
    VS_JSON_INT_NONE,       /* fraction or exponent: judge by the double */
    VS_JSON_INT_EXACT,      /* integer lexeme that fits in gint64 */
    VS_JSON_INT_RANGE,      /* integer lexeme outside gint64 */
} vsJsonIntState;

struct _vsJson {
    vsJsonType type;
    gboolean boolean;
    double number;
    vsJsonIntState intState;
    gint64 integer;
    char *string;
    GPtrArray *values;      /* array items or object values (vsJson *) */
    GPtrArray *keys;        /* object keys (char *), parallel to values */
};

typedef struct {
    const char *text;
    gsize len;
    gsize pos;
    guint depth;
    GError **error;
} vsJsonParser;


void
vsJsonFree(vsJson *json)
{
    if (!json)
        return;
    g_free(json->string);
    if (json->values)
        g_ptr_array_unref(json->values);
    if (json->keys)
        g_ptr_array_unref(json->keys);
    g_free(json);
}


static vsJson *
vsJsonNew(vsJsonType type)
{
    vsJson *json = g_new0(vsJson, 1);

    json->type = type;
    return json;
}


static void G_GNUC_PRINTF(3, 4)
vsJsonParserError(vsJsonParser *p, gsize offset, const char *fmt, ...)
{
    va_list args;
    g_autofree char *msg = NULL;

    va_start(args, fmt);
    msg = g_strdup_vprintf(fmt, args);
    va_end(args);

    g_set_error(p->error, VS_ERROR, VS_ERROR_INVALID,
                "invalid JSON at offset %" G_GSIZE_FORMAT ": %s", offset, msg);
}


static void
vsJsonParserUnexpected(vsJsonParser *p)
{
    unsigned char c;

    if (p->pos >= p->len) {
        vsJsonParserError(p, p->pos, "unexpected end of input");
        return;
    }
    c = p->text[p->pos];
    if (g_ascii_isprint(c))
        vsJsonParserError(p, p->pos, "unexpected character '%c'", c);
    else
        vsJsonParserError(p, p->pos, "unexpected byte 0x%02x", c);
}


static void
vsJsonParserSkipSpace(vsJsonParser *p)
{
    while (p->pos < p->len) {
        char c = p->text[p->pos];

        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}


/* The byte at the cursor, or -1 at the end. */
static int
vsJsonParserPeek(vsJsonParser *p)
{
    if (p->pos >= p->len)
        return -1;
    return (unsigned char)p->text[p->pos];
}


static int
vsJsonParserHex4(vsJsonParser *p, gsize at)
{
    int value = 0;
    gsize i;

    if (p->len - at < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        int digit = g_ascii_xdigit_value(p->text[at + i]);

        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}


/* Parse "\uXXXX" at the cursor (and its low surrogate when there is one). */
static gboolean
vsJsonParserUnicodeEscape(vsJsonParser *p, GString *buf)
{
    int cp = vsJsonParserHex4(p, p->pos + 2);
    int low;

    if (cp < 0) {
        vsJsonParserError(p, p->pos, "invalid \\u escape");
        return FALSE;
    }
    if (cp == 0) {
        vsJsonParserError(p, p->pos, "\\u0000 in string is not supported");
        return FALSE;
    }
    p->pos += 6;

    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        g_string_append_unichar(buf, 0xFFFD);
        return TRUE;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (p->len - p->pos >= 6 &&
            p->text[p->pos] == '\\' && p->text[p->pos + 1] == 'u' &&
            (low = vsJsonParserHex4(p, p->pos + 2)) >= 0xDC00 && low <= 0xDFFF) {
            p->pos += 6;
            g_string_append_unichar(buf, 0x10000 + ((cp - 0xD800) << 10) +
                                    (low - 0xDC00));
        } else {
            /* Leave whatever follows to be parsed on its own */
            g_string_append_unichar(buf, 0xFFFD);
        }
        return TRUE;
    }
    g_string_append_unichar(buf, cp);
    return TRUE;
}


static char *
vsJsonParserString(vsJsonParser *p)
{
    g_autoptr(GString) buf = g_string_new(NULL);
    gsize start = p->pos;

    p->pos++; /* the opening quote */
    for (;;) {
        gsize run = p->pos;
        unsigned char c;

        /* Copy plain ASCII in one go */
        while (p->pos < p->len) {
            c = p->text[p->pos];
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
                break;
            p->pos++;
        }
        g_string_append_len(buf, p->text + run, p->pos - run);

        if (p->pos >= p->len) {
            vsJsonParserError(p, start, "unterminated string");
            return NULL;
        }
        c = p->text[p->pos];

        if (c == '"') {
            p->pos++;
            return g_string_free(g_steal_pointer(&buf), FALSE);
        } else if (c < 0x20) {
            vsJsonParserError(p, p->pos, "control character 0x%02x in string", c);
            return NULL;
        } else if (c >= 0x80) {
            /* Rejects overlong forms, surrogates and truncated sequences */
            gunichar uc = g_utf8_get_char_validated(p->text + p->pos,
                                                    p->len - p->pos);
            char tmp[6];
            int n;

            if (uc == (gunichar)-1 || uc == (gunichar)-2) {
                vsJsonParserError(p, p->pos, "invalid UTF-8 in string");
                return NULL;
            }
            n = g_unichar_to_utf8(uc, tmp);
            g_string_append_len(buf, p->text + p->pos, n);
            p->pos += n;
        } else {
            char esc;

            if (p->pos + 1 >= p->len) {
                vsJsonParserError(p, start, "unterminated string");
                return NULL;
            }
            esc = p->text[p->pos + 1];
            switch (esc) {
            case '"':
            case '\\':
            case '/':
                g_string_append_c(buf, esc);
                break;
            case 'b':
                g_string_append_c(buf, '\b');
                break;
            case 'f':
                g_string_append_c(buf, '\f');
                break;
            case 'n':
                g_string_append_c(buf, '\n');
                break;
            case 'r':
                g_string_append_c(buf, '\r');
                break;
            case 't':
                g_string_append_c(buf, '\t');
                break;
            case 'u':
                if (!vsJsonParserUnicodeEscape(p, buf))
                    return NULL;
                continue;
            default:
                if (g_ascii_isprint(esc))
                    vsJsonParserError(p, p->pos, "invalid escape '\\%c'", esc);
                else
                    vsJsonParserError(p, p->pos, "invalid escape");
                return NULL;
            }
            p->pos += 2;
        }
    }
}


static gboolean
vsJsonParserDigits(vsJsonParser *p)
{
    int c = vsJsonParserPeek(p);

    if (!g_ascii_isdigit(c)) {
        vsJsonParserError(p, p->pos, "expected digit");
        return FALSE;
    }
    while (g_ascii_isdigit(vsJsonParserPeek(p)))
        p->pos++;
    return TRUE;
}


static vsJson *
vsJsonParserNumber(vsJsonParser *p)
{
    gsize start = p->pos;
    gboolean integral = TRUE;
    g_autofree char *lexeme = NULL;
    g_autoptr(vsJson) json = NULL;
    double d;

    if (vsJsonParserPeek(p) == '-')
        p->pos++;
    if (vsJsonParserPeek(p) == '0') {
        p->pos++;
        if (g_ascii_isdigit(vsJsonParserPeek(p))) {
            vsJsonParserError(p, p->pos - 1, "leading zero in number");
            return NULL;
        }
    } else if (!vsJsonParserDigits(p)) {
        return NULL;
    }
    if (vsJsonParserPeek(p) == '.') {
        integral = FALSE;
        p->pos++;
        if (!vsJsonParserDigits(p))
            return NULL;
    }
    if (vsJsonParserPeek(p) == 'e' || vsJsonParserPeek(p) == 'E') {
        integral = FALSE;
        p->pos++;
        if (vsJsonParserPeek(p) == '+' || vsJsonParserPeek(p) == '-')
            p->pos++;
        if (!vsJsonParserDigits(p))
            return NULL;
    }

    /* The input need not be NUL-terminated */
    lexeme = g_strndup(p->text + start, p->pos - start);
    d = g_ascii_strtod(lexeme, NULL);
    if (isinf(d)) {
        vsJsonParserError(p, start, "number '%s' out of range", lexeme);
        return NULL;
    }

    json = vsJsonNew(VS_JSON_NUMBER);
    json->number = d;
    if (integral) {
        /* Exact, since a double loses digits past 2^53 */
        errno = 0;
        json->integer = g_ascii_strtoll(lexeme, NULL, 10);
        json->intState = errno == ERANGE ? VS_JSON_INT_RANGE : VS_JSON_INT_EXACT;
    }
    return g_steal_pointer(&json);
}


static gboolean
vsJsonParserLiteral(vsJsonParser *p, const char *word)
{
    gsize n = strlen(word);

    if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0) {
        vsJsonParserError(p, p->pos, "invalid literal, expected '%s'", word);
        return FALSE;
    }
    p->pos += n;
    return TRUE;
}


static vsJson *vsJsonParserValue(vsJsonParser *p);


static gboolean
vsJsonParserEnter(vsJsonParser *p)
{
    if (p->depth >= VS_JSON_MAX_DEPTH) {
        vsJsonParserError(p, p->pos, "nesting deeper than %d levels",
                          VS_JSON_MAX_DEPTH);
        return FALSE;
    }
    p->depth++;
    p->pos++; /* the opening bracket */
    return TRUE;
}


static vsJson *
vsJsonParserArray(vsJsonParser *p)
{
    g_autoptr(vsJson) json = vsJsonNew(VS_JSON_ARRAY);

    json->values = g_ptr_array_new_with_free_func((GDestroyNotify)vsJsonFree);
    if (!vsJsonParserEnter(p))
        return NULL;

    vsJsonParserSkipSpace(p);
    if (vsJsonParserPeek(p) == ']') {
        p->pos++;
        p->depth--;
        return g_steal_pointer(&json);
    }

    for (;;) {
        vsJson *item;

        vsJsonParserSkipSpace(p);
        if (vsJsonParserPeek(p) == ']') {
            vsJsonParserError(p, p->pos, "trailing comma");
            return NULL;
        }
        if (!(item = vsJsonParserValue(p)))
            return NULL;
        g_ptr_array_add(json->values, item);

        vsJsonParserSkipSpace(p);
        if (vsJsonParserPeek(p) == ',') {
            p->pos++;
        } else if (vsJsonParserPeek(p) == ']') {
            p->pos++;
            break;
        } else if (p->pos >= p->len) {
            vsJsonParserError(p, p->pos, "unexpected end of input");
            return NULL;
        } else {
            vsJsonParserError(p, p->pos, "expected ',' or ']'");
            return NULL;
        }
    }
    p->depth--;
    return g_steal_pointer(&json);
}


static vsJson *
vsJsonParserObject(vsJsonParser *p)
{
    g_autoptr(vsJson) json = vsJsonNew(VS_JSON_OBJECT);

    json->values = g_ptr_array_new_with_free_func((GDestroyNotify)vsJsonFree);
    json->keys = g_ptr_array_new_with_free_func(g_free);
    if (!vsJsonParserEnter(p))
        return NULL;

    vsJsonParserSkipSpace(p);
    if (vsJsonParserPeek(p) == '}') {
        p->pos++;
        p->depth--;
        return g_steal_pointer(&json);
    }

    for (;;) {
        g_autofree char *key = NULL;
        vsJson *value;

        vsJsonParserSkipSpace(p);
        if (vsJsonParserPeek(p) == '}') {
            vsJsonParserError(p, p->pos, "trailing comma");
            return NULL;
        } else if (p->pos >= p->len) {
            vsJsonParserError(p, p->pos, "unexpected end of input");
            return NULL;
        } else if (vsJsonParserPeek(p) != '"') {
            vsJsonParserError(p, p->pos, "expected string key");
            return NULL;
        }
        if (!(key = vsJsonParserString(p)))
            return NULL;

        vsJsonParserSkipSpace(p);
        if (vsJsonParserPeek(p) != ':') {
            if (p->pos >= p->len)
                vsJsonParserError(p, p->pos, "unexpected end of input");
            else
                vsJsonParserError(p, p->pos, "expected ':'");
            return NULL;
        }
        p->pos++;

        if (!(value = vsJsonParserValue(p)))
            return NULL;
        g_ptr_array_add(json->keys, g_steal_pointer(&key));
        g_ptr_array_add(json->values, value);

        vsJsonParserSkipSpace(p);
        if (vsJsonParserPeek(p) == ',') {
            p->pos++;
        } else if (vsJsonParserPeek(p) == '}') {
            p->pos++;
            break;
        } else if (p->pos >= p->len) {
            vsJsonParserError(p, p->pos, "unexpected end of input");
            return NULL;
        } else {
            vsJsonParserError(p, p->pos, "expected ',' or '}'");
            return NULL;
        }
    }
    p->depth--;
    return g_steal_pointer(&json);
}


static vsJson *
vsJsonParserValue(vsJsonParser *p)
{
    vsJson *json;
    char *str;
    gboolean value;

    vsJsonParserSkipSpace(p);
    switch (vsJsonParserPeek(p)) {
    case '{':
        return vsJsonParserObject(p);
    case '[':
        return vsJsonParserArray(p);
    case '"':
        if (!(str = vsJsonParserString(p)))
            return NULL;
        json = vsJsonNew(VS_JSON_STRING);
        json->string = str;
        return json;
    case 't':
    case 'f':
        value = vsJsonParserPeek(p) == 't';
        if (!vsJsonParserLiteral(p, value ? "true" : "false"))
            return NULL;
        json = vsJsonNew(VS_JSON_BOOL);
        json->boolean = value;
        return json;
    case 'n':
        if (!vsJsonParserLiteral(p, "null"))
            return NULL;
        return vsJsonNew(VS_JSON_NULL);
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return vsJsonParserNumber(p);
    default:
        vsJsonParserUnexpected(p);
        return NULL;
    }
}


vsJson *
vsJsonParse(const char *text, gssize len, GError **error)
{
    vsJsonParser p = { 0 };
    g_autoptr(vsJson) json = NULL;

    g_return_val_if_fail(text != NULL || len == 0, NULL);

    p.text = text ? text : "";
    p.len = len < 0 ? strlen(text) : (gsize)len;
    p.error = error;

    if (!(json = vsJsonParserValue(&p)))
        return NULL;

    vsJsonParserSkipSpace(&p);
    if (p.pos < p.len) {
        vsJsonParserError(&p, p.pos, "unexpected data after value");
        return NULL;
    }
    return g_steal_pointer(&json);
}


/* Accessors accept NULL (a missing member) and the wrong type quietly, so
 * callers can chain vsJsonPath and a getter. */

vsJsonType
vsJsonGetType(const vsJson *json)
{
    return json ? json->type : VS_JSON_NULL;
}


gboolean
vsJsonGetBool(const vsJson *json)
{
    return json && json->type == VS_JSON_BOOL && json->boolean;
}


double
vsJsonGetNumber(const vsJson *json)
{
    if (!json || json->type != VS_JSON_NUMBER)
        return 0;
    return json->number;
}


gboolean
vsJsonGetInt64(const vsJson *json, gint64 *ret)
{
    double d;

    if (!json || json->type != VS_JSON_NUMBER)
        return FALSE;

    switch (json->intState) {
    case VS_JSON_INT_EXACT:
        *ret = json->integer;
        return TRUE;
    case VS_JSON_INT_RANGE:
        return FALSE;
    case VS_JSON_INT_NONE:
        break;
    }

    /* "1.0" or "1e3": integral in value though not in form; 2^63 is exact
     * as a double so the bounds compare safely */
    d = json->number;
    if (d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return FALSE;
    *ret = (gint64)d;
    return TRUE;
}


const char *
vsJsonGetString(const vsJson *json)
{
    if (!json || json->type != VS_JSON_STRING)
        return NULL;
    return json->string;
}


guint
vsJsonArrayLength(const vsJson *json)
{
    if (!json || json->type != VS_JSON_ARRAY)
        return 0;
    return json->values->len;
}


const vsJson *
vsJsonArrayGet(const vsJson *json, guint index)
{
    if (index >= vsJsonArrayLength(json))
        return NULL;
    return g_ptr_array_index(json->values, index);
}


guint
vsJsonObjectSize(const vsJson *json)
{
    if (!json || json->type != VS_JSON_OBJECT)
        return 0;
    return json->values->len;
}


const char *
vsJsonObjectKey(const vsJson *json, guint index)
{
    if (index >= vsJsonObjectSize(json))
        return NULL;
    return g_ptr_array_index(json->keys, index);
}


const vsJson *
vsJsonObjectValue(const vsJson *json, guint index)
{
    if (index >= vsJsonObjectSize(json))
        return NULL;
    return g_ptr_array_index(json->values, index);
}


const vsJson *
vsJsonObjectGet(const vsJson *json, const char *key)
{
    guint i = vsJsonObjectSize(json);

    /* Backwards, so the last of duplicate keys wins; our objects are small
     * enough that a linear scan beats building a hash table */
    while (i > 0) {
        i--;
        if (strcmp(g_ptr_array_index(json->keys, i), key) == 0)
            return g_ptr_array_index(json->values, i);
    }
    return NULL;
}


const vsJson *
vsJsonPath(const vsJson *json, const char *path)
{
    g_auto(GStrv) parts = NULL;
    size_t i;

    if (!json || !path)
        return NULL;
    if (!*path)
        return json;

    parts = g_strsplit(path, ".", -1);
    for (i = 0; parts[i] && json; i++)
        json = vsJsonObjectGet(json, parts[i]);
    return json;
}


/* ---- writer ---------------------------------------------------------- */

typedef struct {
    gboolean object;
    guint count;
} vsJsonWriterFrame;

struct _vsJsonWriter {
    GString *out;
    gboolean pretty;
    GArray *stack;          /* vsJsonWriterFrame */
    gboolean afterKey;      /* a key was written, its value is due */
    gboolean done;          /* the top-level value is complete */
};


vsJsonWriter *
vsJsonWriterNew(gboolean pretty)
{
    vsJsonWriter *w = g_new0(vsJsonWriter, 1);

    w->out = g_string_new(NULL);
    w->pretty = pretty;
    w->stack = g_array_new(FALSE, FALSE, sizeof(vsJsonWriterFrame));
    return w;
}


void
vsJsonWriterFree(vsJsonWriter *w)
{
    if (!w)
        return;
    g_string_free(w->out, TRUE);
    g_array_unref(w->stack);
    g_free(w);
}


static void
vsJsonWriterNewline(vsJsonWriter *w)
{
    if (!w->pretty)
        return;
    g_string_append_c(w->out, '\n');
    g_string_append_printf(w->out, "%*s", (int)w->stack->len * 2, "");
}


static vsJsonWriterFrame *
vsJsonWriterTop(vsJsonWriter *w)
{
    if (w->stack->len == 0)
        return NULL;
    return &g_array_index(w->stack, vsJsonWriterFrame, w->stack->len - 1);
}


/* Commas and indentation before any value; FALSE on misuse. */
static gboolean
vsJsonWriterBeforeValue(vsJsonWriter *w)
{
    vsJsonWriterFrame *top = vsJsonWriterTop(w);

    if (!top) {
        g_return_val_if_fail(!w->done, FALSE);
        return TRUE;
    }
    if (top->object) {
        g_return_val_if_fail(w->afterKey, FALSE);
        w->afterKey = FALSE;
        return TRUE;
    }
    if (top->count > 0)
        g_string_append_c(w->out, ',');
    top->count++;
    vsJsonWriterNewline(w);
    return TRUE;
}


static void
vsJsonWriterAfterValue(vsJsonWriter *w)
{
    if (w->stack->len > 0)
        return;
    w->done = TRUE;
    if (w->pretty)
        g_string_append_c(w->out, '\n');
}


static void
vsJsonWriterBegin(vsJsonWriter *w, gboolean object)
{
    vsJsonWriterFrame frame = { object, 0 };

    if (!vsJsonWriterBeforeValue(w))
        return;
    g_string_append_c(w->out, object ? '{' : '[');
    g_array_append_val(w->stack, frame);
}


static void
vsJsonWriterEnd(vsJsonWriter *w, gboolean object)
{
    vsJsonWriterFrame *top = vsJsonWriterTop(w);
    guint count;

    g_return_if_fail(top && top->object == object && !w->afterKey);

    count = top->count;
    g_array_set_size(w->stack, w->stack->len - 1);
    if (count > 0)
        vsJsonWriterNewline(w);
    g_string_append_c(w->out, object ? '}' : ']');
    vsJsonWriterAfterValue(w);
}


void
vsJsonWriterBeginObject(vsJsonWriter *w)
{
    vsJsonWriterBegin(w, TRUE);
}


void
vsJsonWriterEndObject(vsJsonWriter *w)
{
    vsJsonWriterEnd(w, TRUE);
}


void
vsJsonWriterBeginArray(vsJsonWriter *w)
{
    vsJsonWriterBegin(w, FALSE);
}


void
vsJsonWriterEndArray(vsJsonWriter *w)
{
    vsJsonWriterEnd(w, FALSE);
}


void
vsJsonWriterKey(vsJsonWriter *w, const char *key)
{
    vsJsonWriterFrame *top = vsJsonWriterTop(w);

    g_return_if_fail(key != NULL);
    g_return_if_fail(top && top->object && !w->afterKey);

    if (top->count > 0)
        g_string_append_c(w->out, ',');
    top->count++;
    vsJsonWriterNewline(w);
    vsJsonEscape(w->out, key);
    g_string_append(w->out, w->pretty ? ": " : ":");
    w->afterKey = TRUE;
}


static void
vsJsonWriterRaw(vsJsonWriter *w, const char *text)
{
    if (!vsJsonWriterBeforeValue(w))
        return;
    g_string_append(w->out, text);
    vsJsonWriterAfterValue(w);
}


void
vsJsonWriterString(vsJsonWriter *w, const char *value)
{
    if (!value) {
        vsJsonWriterNull(w);
        return;
    }
    if (!vsJsonWriterBeforeValue(w))
        return;
    vsJsonEscape(w->out, value);
    vsJsonWriterAfterValue(w);
}


void
vsJsonWriterInt(vsJsonWriter *w, gint64 value)
{
    char buf[32];

    g_snprintf(buf, sizeof(buf), "%" G_GINT64_FORMAT, value);
    vsJsonWriterRaw(w, buf);
}


void
vsJsonWriterDouble(vsJsonWriter *w, double value)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    static const char *const formats[] = { "%.15g", "%.16g", "%.17g" };
    size_t i;

    if (!isfinite(value)) {
        vsJsonWriterNull(w);
        return;
    }

    /* The shortest of these that reads back exactly; %.17g always does.
     * %g never yields a leading zero or a bare '.', so this is valid JSON */
    for (i = 0; i < G_N_ELEMENTS(formats); i++) {
        g_ascii_formatd(buf, sizeof(buf), formats[i], value);
        if (g_ascii_strtod(buf, NULL) == value)
            break;
    }
    vsJsonWriterRaw(w, buf);
}


void
vsJsonWriterBool(vsJsonWriter *w, gboolean value)
{
    vsJsonWriterRaw(w, value ? "true" : "false");
}


void
vsJsonWriterNull(vsJsonWriter *w)
{
    vsJsonWriterRaw(w, "null");
}


void
vsJsonWriterMemberString(vsJsonWriter *w, const char *key, const char *value)
{
    vsJsonWriterKey(w, key);
    vsJsonWriterString(w, value);
}


void
vsJsonWriterMemberInt(vsJsonWriter *w, const char *key, gint64 value)
{
    vsJsonWriterKey(w, key);
    vsJsonWriterInt(w, value);
}


void
vsJsonWriterMemberDouble(vsJsonWriter *w, const char *key, double value)
{
    vsJsonWriterKey(w, key);
    vsJsonWriterDouble(w, value);
}


void
vsJsonWriterMemberBool(vsJsonWriter *w, const char *key, gboolean value)
{
    vsJsonWriterKey(w, key);
    vsJsonWriterBool(w, value);
}


const char *
vsJsonWriterGet(vsJsonWriter *w)
{
    g_warn_if_fail(w->stack->len == 0);
    return w->out->str;
}


/* Hands over the text and resets the writer for a new document. */
char *
vsJsonWriterSteal(vsJsonWriter *w)
{
    char *text;

    g_warn_if_fail(w->stack->len == 0);
    text = g_string_free(w->out, FALSE);
    w->out = g_string_new(NULL);
    g_array_set_size(w->stack, 0);
    w->afterKey = FALSE;
    w->done = FALSE;
    return text;
}


void
vsJsonEscape(GString *out, const char *s)
{
    const char *p = s;

    g_return_if_fail(out != NULL);
    g_return_if_fail(s != NULL);

    g_string_append_c(out, '"');
    while (*p) {
        unsigned char c = *p;
        const char *run = p;
        gunichar uc;

        /* Copy plain ASCII in one go */
        while (*p && *p != '"' && *p != '\\' &&
               (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x80)
            p++;
        if (p > run) {
            g_string_append_len(out, run, p - run);
            continue;
        }

        switch (c) {
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '\b':
            g_string_append(out, "\\b");
            break;
        case '\f':
            g_string_append(out, "\\f");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\r':
            g_string_append(out, "\\r");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        default:
            if (c < 0x20) {
                g_string_append_printf(out, "\\u%04x", c);
                break;
            }
            /* JSON must be UTF-8: each bad byte becomes U+FFFD */
            uc = g_utf8_get_char_validated(p, -1);
            if (uc == (gunichar)-1 || uc == (gunichar)-2) {
                g_string_append(out, "\xef\xbf\xbd");
                break;
            }
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
            p = g_utf8_next_char(p);
            continue;
        }
        p++;
    }
    g_string_append_c(out, '"');
}
