/*
 * vsjsontest.c: tests for the JSON reader and writer
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vstestutils.h"
#include "util/vsjson.h"
#include "util/vserror.h"

static vsJson *
parseOk(const char *text)
{
    g_autoptr(GError) error = NULL;
    vsJson *json = vsJsonParse(text, -1, &error);

    ck_assert_msg(json != NULL, "parsing '%s' failed: %s", text,
                  error ? error->message : "(no error)");
    ck_assert_ptr_null(error);
    return json;
}

/* Parse must fail; returns the error message. */
static char *
parseFail(const char *text, gssize len)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsJson) json = vsJsonParse(text, len, &error);

    ck_assert_msg(json == NULL, "parsing '%s' unexpectedly succeeded", text);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID),
                  "wrong error domain or code for '%s'", text);
    return g_strdup(error->message);
}


START_TEST(test_scalars)
{
    g_autoptr(vsJson) n = parseOk("null");
    g_autoptr(vsJson) t = parseOk("true");
    g_autoptr(vsJson) f = parseOk("false");
    g_autoptr(vsJson) num = parseOk("42");
    g_autoptr(vsJson) str = parseOk("\"hello\"");
    g_autoptr(vsJson) empty = parseOk("\"\"");

    ck_assert_int_eq(vsJsonGetType(n), VS_JSON_NULL);
    ck_assert_int_eq(vsJsonGetType(t), VS_JSON_BOOL);
    ck_assert(vsJsonGetBool(t));
    ck_assert_int_eq(vsJsonGetType(f), VS_JSON_BOOL);
    ck_assert(!vsJsonGetBool(f));
    ck_assert_int_eq(vsJsonGetType(num), VS_JSON_NUMBER);
    ck_assert(vsJsonGetNumber(num) == 42.0);
    ck_assert_int_eq(vsJsonGetType(str), VS_JSON_STRING);
    ck_assert_str_eq(vsJsonGetString(str), "hello");
    ck_assert_str_eq(vsJsonGetString(empty), "");
}
END_TEST


START_TEST(test_numbers)
{
    static const struct {
        const char *text;
        double value;
    } cases[] = {
        { "0", 0.0 },
        { "-0", -0.0 },
        { "7", 7.0 },
        { "-12", -12.0 },
        { "1.5", 1.5 },
        { "-2.5e-3", -2.5e-3 },
        { "1E2", 100.0 },
        { "1e+2", 100.0 },
        { "0.125", 0.125 },
        { "123456789.25", 123456789.25 },
        { "1.7976931348623157e308", 1.7976931348623157e308 },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(vsJson) json = parseOk(cases[i].text);

        ck_assert_int_eq(vsJsonGetType(json), VS_JSON_NUMBER);
        ck_assert_msg(vsJsonGetNumber(json) == cases[i].value,
                      "'%s' parsed as %.17g", cases[i].text, vsJsonGetNumber(json));
    }

    {
        g_autoptr(vsJson) negzero = parseOk("-0.0");
        g_autoptr(vsJson) tiny = parseOk("1e-400");

        ck_assert(signbit(vsJsonGetNumber(negzero)));
        /* Underflow is harmless, unlike overflow */
        ck_assert(vsJsonGetNumber(tiny) >= 0 && vsJsonGetNumber(tiny) < 1e-300);
    }
}
END_TEST


START_TEST(test_nesting)
{
    g_autoptr(vsJson) json = parseOk("[1, [2, [3, []]], {\"a\": {\"b\": [true]}}, null]");
    const vsJson *inner;
    const vsJson *b;

    ck_assert_int_eq(vsJsonGetType(json), VS_JSON_ARRAY);
    ck_assert_uint_eq(vsJsonArrayLength(json), 4);
    ck_assert(vsJsonGetNumber(vsJsonArrayGet(json, 0)) == 1.0);

    inner = vsJsonArrayGet(json, 1);
    ck_assert_uint_eq(vsJsonArrayLength(inner), 2);
    inner = vsJsonArrayGet(inner, 1);
    ck_assert(vsJsonGetNumber(vsJsonArrayGet(inner, 0)) == 3.0);
    inner = vsJsonArrayGet(inner, 1);
    ck_assert_int_eq(vsJsonGetType(inner), VS_JSON_ARRAY);
    ck_assert_uint_eq(vsJsonArrayLength(inner), 0);

    b = vsJsonPath(vsJsonArrayGet(json, 2), "a.b");
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(vsJsonArrayLength(b), 1);
    ck_assert(vsJsonGetBool(vsJsonArrayGet(b, 0)));

    ck_assert_int_eq(vsJsonGetType(vsJsonArrayGet(json, 3)), VS_JSON_NULL);
    ck_assert_ptr_null(vsJsonArrayGet(json, 4));
}
END_TEST


START_TEST(test_object_order)
{
    g_autoptr(vsJson) json = parseOk("{\"z\": 1, \"a\": 2, \"m\": 3}");

    ck_assert_uint_eq(vsJsonObjectSize(json), 3);
    ck_assert_str_eq(vsJsonObjectKey(json, 0), "z");
    ck_assert_str_eq(vsJsonObjectKey(json, 1), "a");
    ck_assert_str_eq(vsJsonObjectKey(json, 2), "m");
    ck_assert(vsJsonGetNumber(vsJsonObjectValue(json, 0)) == 1.0);
    ck_assert(vsJsonGetNumber(vsJsonObjectValue(json, 2)) == 3.0);
    ck_assert_ptr_null(vsJsonObjectKey(json, 3));
    ck_assert_ptr_null(vsJsonObjectValue(json, 3));
    ck_assert(vsJsonGetNumber(vsJsonObjectGet(json, "a")) == 2.0);
    ck_assert_ptr_null(vsJsonObjectGet(json, "b"));
}
END_TEST


START_TEST(test_duplicate_keys)
{
    g_autoptr(vsJson) json = parseOk("{\"k\": 1, \"other\": 0, \"k\": 2}");

    /* Both members kept in order; lookup finds the last */
    ck_assert_uint_eq(vsJsonObjectSize(json), 3);
    ck_assert_str_eq(vsJsonObjectKey(json, 0), "k");
    ck_assert_str_eq(vsJsonObjectKey(json, 2), "k");
    ck_assert(vsJsonGetNumber(vsJsonObjectValue(json, 0)) == 1.0);
    ck_assert(vsJsonGetNumber(vsJsonObjectGet(json, "k")) == 2.0);
}
END_TEST


START_TEST(test_path)
{
    g_autoptr(vsJson) json = parseOk("{\"return\": {\"pid\": 1234, \"list\": [1]}, \"x\": 5}");
    gint64 pid = 0;

    ck_assert(vsJsonGetInt64(vsJsonPath(json, "return.pid"), &pid));
    ck_assert_int_eq(pid, 1234);
    ck_assert(vsJsonGetNumber(vsJsonPath(json, "x")) == 5.0);
    ck_assert_ptr_eq(vsJsonPath(json, ""), json);
    ck_assert_ptr_null(vsJsonPath(json, "return.missing"));
    ck_assert_ptr_null(vsJsonPath(json, "x.y"));
    ck_assert_ptr_null(vsJsonPath(json, "return.list.0"));
    ck_assert_ptr_null(vsJsonPath(json, "return..pid"));
    ck_assert_ptr_null(vsJsonPath(NULL, "x"));
}
END_TEST


START_TEST(test_wrong_type_accessors)
{
    g_autoptr(vsJson) json = parseOk("{\"n\": 1, \"s\": \"x\", \"a\": [1], \"b\": true}");
    const vsJson *n = vsJsonObjectGet(json, "n");
    const vsJson *s = vsJsonObjectGet(json, "s");
    const vsJson *a = vsJsonObjectGet(json, "a");
    gint64 v = 99;

    ck_assert_ptr_null(vsJsonGetString(n));
    ck_assert(vsJsonGetNumber(s) == 0.0);
    ck_assert(!vsJsonGetInt64(s, &v));
    ck_assert_int_eq(v, 99);
    ck_assert(!vsJsonGetBool(n));
    ck_assert_uint_eq(vsJsonArrayLength(json), 0);
    ck_assert_ptr_null(vsJsonArrayGet(json, 0));
    ck_assert_uint_eq(vsJsonObjectSize(a), 0);
    ck_assert_ptr_null(vsJsonObjectGet(a, "x"));
    ck_assert_ptr_null(vsJsonObjectKey(a, 0));

    /* A missing member flows through the getters */
    ck_assert_ptr_null(vsJsonGetString(NULL));
    ck_assert_uint_eq(vsJsonArrayLength(NULL), 0);
    ck_assert(!vsJsonGetInt64(NULL, &v));
    ck_assert_int_eq(v, 99);
}
END_TEST


START_TEST(test_whitespace)
{
    g_autoptr(vsJson) json = parseOk(" \t\r\n{ \"a\" \n:\t[ 1 ,\r2 ] } \n\t\r ");

    ck_assert_uint_eq(vsJsonArrayLength(vsJsonObjectGet(json, "a")), 2);
    ck_assert(vsJsonGetNumber(vsJsonArrayGet(vsJsonObjectGet(json, "a"), 1)) == 2.0);
}
END_TEST


START_TEST(test_explicit_length)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsJson) json = vsJsonParse("[1,2]garbage", 5, &error);
    g_autofree char *msg = NULL;

    ck_assert_ptr_null(error);
    ck_assert_uint_eq(vsJsonArrayLength(json), 2);

    msg = parseFail("[1,2]", 3);
    ck_assert_str_eq(msg, "invalid JSON at offset 3: unexpected end of input");
}
END_TEST


/* Inputs cut short in a heap buffer with no NUL after them, so a read past
 * the end shows up under ASan or valgrind */
START_TEST(test_unterminated_buffer)
{
    static const struct {
        const char *text;
        const char *message;    /* NULL: parses */
    } cases[] = {
        { "12", NULL },
        { "-1.5e3", NULL },
        { "true", NULL },
        { "tru", "invalid JSON at offset 0: invalid literal, expected 'true'" },
        { "\"\\u004", "invalid JSON at offset 1: invalid \\u escape" },
        { "\"\\u0041", "invalid JSON at offset 0: unterminated string" },
        { "\"\\ud83d\\ude0", "invalid JSON at offset 7: invalid \\u escape" },
        { "\"\xe2\x82", "invalid JSON at offset 1: invalid UTF-8 in string" },
        { "[1e", "invalid JSON at offset 3: expected digit" },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        gsize len = strlen(cases[i].text);
        g_autofree char *buf = g_malloc(len);
        g_autoptr(GError) error = NULL;
        g_autoptr(vsJson) json = NULL;

        memcpy(buf, cases[i].text, len);
        json = vsJsonParse(buf, len, &error);
        if (!cases[i].message) {
            ck_assert_msg(json != NULL, "'%s' failed", cases[i].text);
        } else {
            ck_assert_msg(json == NULL, "'%s' parsed", cases[i].text);
            ck_assert_str_eq(error->message, cases[i].message);
        }
    }
}
END_TEST


START_TEST(test_escapes)
{
    g_autoptr(vsJson) json = parseOk("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"");
    g_autoptr(vsJson) uni = parseOk("\"\\u0041\\u00e9\\u20AC\\u0001\"");
    g_autoptr(vsJson) raw = parseOk("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");

    ck_assert_str_eq(vsJsonGetString(json), "q\" b\\ s/ \b\f\n\r\t");
    ck_assert_str_eq(vsJsonGetString(uni), "A\xc3\xa9\xe2\x82\xac\x01");
    ck_assert_str_eq(vsJsonGetString(raw), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}
END_TEST


START_TEST(test_surrogates)
{
    static const struct {
        const char *text;
        const char *expect;
    } cases[] = {
        /* U+1F600 as a pair, either case of hex digits */
        { "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80" },
        { "\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80" },
        /* U+10FFFF, the highest pair */
        { "\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf" },
        /* Lone surrogates become U+FFFD */
        { "\"a\\ud83db\"", "a\xef\xbf\xbd" "b" },
        { "\"\\ude00\"", "\xef\xbf\xbd" },
        { "\"\\ud83d\"", "\xef\xbf\xbd" },
        /* High then something else: the next escape stands alone */
        { "\"\\ud83d\\u0041\"", "\xef\xbf\xbd" "A" },
        { "\"\\ud83d\\ud83d\\ude00\"", "\xef\xbf\xbd\xf0\x9f\x98\x80" },
        { "\"\\ud83d\\n\"", "\xef\xbf\xbd\n" },
        /* Low then high is not a pair */
        { "\"\\ude00\\ud83d\"", "\xef\xbf\xbd\xef\xbf\xbd" },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(vsJson) json = parseOk(cases[i].text);

        ck_assert_msg(g_strcmp0(vsJsonGetString(json), cases[i].expect) == 0,
                      "case %zu '%s' decoded wrongly", i, cases[i].text);
        ck_assert(g_utf8_validate(vsJsonGetString(json), -1, NULL));
    }
}
END_TEST


static const struct {
    const char *text;
    gssize len;
    const char *message;
} malformed[] = {
    { "", -1, "invalid JSON at offset 0: unexpected end of input" },
    { "   ", -1, "invalid JSON at offset 3: unexpected end of input" },
    { "[1", -1, "invalid JSON at offset 2: unexpected end of input" },
    { "[1,", -1, "invalid JSON at offset 3: unexpected end of input" },
    { "{\"a\"", -1, "invalid JSON at offset 4: unexpected end of input" },
    { "{\"a\":1", -1, "invalid JSON at offset 6: unexpected end of input" },
    { "{", -1, "invalid JSON at offset 1: unexpected end of input" },
    /* trailing commas */
    { "[1,2,]", -1, "invalid JSON at offset 5: trailing comma" },
    { "{\"a\":1,}", -1, "invalid JSON at offset 7: trailing comma" },
    { "[1, ]", -1, "invalid JSON at offset 4: trailing comma" },
    /* structure */
    { "[1 2]", -1, "invalid JSON at offset 3: expected ',' or ']'" },
    { "{\"a\" 1}", -1, "invalid JSON at offset 5: expected ':'" },
    { "{\"key\":1,\"b\"=2}", -1, "invalid JSON at offset 12: expected ':'" },
    { "{\"a\":1 \"b\":2}", -1, "invalid JSON at offset 7: expected ',' or '}'" },
    { "{1:2}", -1, "invalid JSON at offset 1: expected string key" },
    { "{'a':2}", -1, "invalid JSON at offset 1: expected string key" },
    { "[,1]", -1, "invalid JSON at offset 1: unexpected character ','" },
    { "{\"a\":}", -1, "invalid JSON at offset 5: unexpected character '}'" },
    { "]", -1, "invalid JSON at offset 0: unexpected character ']'" },
    { "/* c */ 1", -1, "invalid JSON at offset 0: unexpected character '/'" },
    /* numbers */
    { "[01]", -1, "invalid JSON at offset 1: leading zero in number" },
    { "-01", -1, "invalid JSON at offset 1: leading zero in number" },
    { "00", -1, "invalid JSON at offset 0: leading zero in number" },
    { "1.", -1, "invalid JSON at offset 2: expected digit" },
    { "1.e5", -1, "invalid JSON at offset 2: expected digit" },
    { "-", -1, "invalid JSON at offset 1: expected digit" },
    { "-a", -1, "invalid JSON at offset 1: expected digit" },
    { "1e", -1, "invalid JSON at offset 2: expected digit" },
    { "1e+", -1, "invalid JSON at offset 3: expected digit" },
    { ".5", -1, "invalid JSON at offset 0: unexpected character '.'" },
    { "+1", -1, "invalid JSON at offset 0: unexpected character '+'" },
    { "NaN", -1, "invalid JSON at offset 0: unexpected character 'N'" },
    { "Infinity", -1, "invalid JSON at offset 0: unexpected character 'I'" },
    { "-Infinity", -1, "invalid JSON at offset 1: expected digit" },
    { "0x10", -1, "invalid JSON at offset 1: unexpected data after value" },
    { "[1e400]", -1, "invalid JSON at offset 1: number '1e400' out of range" },
    { "-1e400", -1, "invalid JSON at offset 0: number '-1e400' out of range" },
    /* literals */
    { "tru", -1, "invalid JSON at offset 0: invalid literal, expected 'true'" },
    { "[flase]", -1, "invalid JSON at offset 1: invalid literal, expected 'false'" },
    { "nul", -1, "invalid JSON at offset 0: invalid literal, expected 'null'" },
    { "True", -1, "invalid JSON at offset 0: unexpected character 'T'" },
    { "truex", -1, "invalid JSON at offset 4: unexpected data after value" },
    /* strings */
    { "\"a\tb\"", -1, "invalid JSON at offset 2: control character 0x09 in string" },
    { "[\"a\nb\"]", -1, "invalid JSON at offset 3: control character 0x0a in string" },
    { "\"a\0b\"", 5, "invalid JSON at offset 2: control character 0x00 in string" },
    { "\"abc", -1, "invalid JSON at offset 0: unterminated string" },
    { "[\"abc\\", -1, "invalid JSON at offset 1: unterminated string" },
    { "\"a\\x\"", -1, "invalid JSON at offset 2: invalid escape '\\x'" },
    { "\"\\'\"", -1, "invalid JSON at offset 1: invalid escape '\\''" },
    { "\"\\u12G4\"", -1, "invalid JSON at offset 1: invalid \\u escape" },
    { "\"\\u12\"", -1, "invalid JSON at offset 1: invalid \\u escape" },
    { "\"\\u0000\"", -1, "invalid JSON at offset 1: \\u0000 in string is not supported" },
    { "'a'", -1, "invalid JSON at offset 0: unexpected character '''" },
    /* UTF-8 */
    { "\"\xff\"", -1, "invalid JSON at offset 1: invalid UTF-8 in string" },
    { "\"ab\xc0\xaf\"", -1, "invalid JSON at offset 3: invalid UTF-8 in string" },
    { "\"\xed\xa0\x80\"", -1, "invalid JSON at offset 1: invalid UTF-8 in string" },
    { "\"\xe2\x82\"", -1, "invalid JSON at offset 1: invalid UTF-8 in string" },
    { "\"\xe2\x82", -1, "invalid JSON at offset 1: invalid UTF-8 in string" },
    { "\"\xf4\x90\x80\x80\"", -1, "invalid JSON at offset 1: invalid UTF-8 in string" },
    { "\xef\xbb\xbf{}", -1, "invalid JSON at offset 0: unexpected byte 0xef" },
    /* trailing garbage */
    { "true false", -1, "invalid JSON at offset 5: unexpected data after value" },
    { "{} x", -1, "invalid JSON at offset 3: unexpected data after value" },
    { "[1]]", -1, "invalid JSON at offset 3: unexpected data after value" },
    { "[1]\0", 4, "invalid JSON at offset 3: unexpected data after value" },
    { "\"a\"\"b\"", -1, "invalid JSON at offset 3: unexpected data after value" },
};

START_TEST(test_malformed)
{
    g_autofree char *msg = parseFail(malformed[_i].text, malformed[_i].len);

    ck_assert_msg(strcmp(msg, malformed[_i].message) == 0,
                  "case %d: got \"%s\", want \"%s\"", _i, msg, malformed[_i].message);
}
END_TEST


static char *
nested(const char *open, const char *close, guint depth)
{
    GString *s = g_string_new(NULL);
    guint i;

    for (i = 0; i < depth; i++)
        g_string_append(s, open);
    g_string_append(s, "1");
    for (i = 0; i < depth; i++)
        g_string_append(s, close);
    return g_string_free(s, FALSE);
}

START_TEST(test_depth_limit)
{
    g_autofree char *ok = nested("[", "]", 128);
    g_autofree char *deep = nested("[", "]", 129);
    g_autofree char *okobj = nested("{\"a\":", "}", 128);
    g_autofree char *deepobj = nested("{\"a\":", "}", 129);
    g_autofree char *msg = NULL;
    g_autofree char *msgobj = NULL;
    g_autoptr(vsJson) json = parseOk(ok);
    g_autoptr(vsJson) obj = parseOk(okobj);
    const vsJson *cur = json;
    guint levels = 0;

    while (vsJsonGetType(cur) == VS_JSON_ARRAY) {
        cur = vsJsonArrayGet(cur, 0);
        levels++;
    }
    ck_assert_uint_eq(levels, 128);
    ck_assert(vsJsonGetNumber(cur) == 1.0);
    ck_assert_uint_eq(vsJsonObjectSize(obj), 1);

    msg = parseFail(deep, -1);
    ck_assert_str_eq(msg, "invalid JSON at offset 128: nesting deeper than 128 levels");
    msgobj = parseFail(deepobj, -1);
    ck_assert_str_eq(msgobj, "invalid JSON at offset 640: nesting deeper than 128 levels");
}
END_TEST


START_TEST(test_int64)
{
    static const struct {
        const char *text;
        gboolean ok;
        gint64 value;
    } cases[] = {
        { "0", TRUE, 0 },
        { "-0", TRUE, 0 },
        { "-0.0", TRUE, 0 },
        { "42", TRUE, 42 },
        { "-42", TRUE, -42 },
        { "9223372036854775807", TRUE, G_MAXINT64 },
        { "-9223372036854775808", TRUE, G_MININT64 },
        /* exact beyond 2^53, where a double would round */
        { "9007199254740993", TRUE, G_GINT64_CONSTANT(9007199254740993) },
        { "9223372036854775806", TRUE, G_GINT64_CONSTANT(9223372036854775806) },
        { "9223372036854775808", FALSE, 0 },
        { "-9223372036854775809", FALSE, 0 },
        { "18446744073709551616", FALSE, 0 },
        { "100000000000000000000000", FALSE, 0 },
        { "1.5", FALSE, 0 },
        { "-0.5", FALSE, 0 },
        { "1e-1", FALSE, 0 },
        { "1.0", TRUE, 1 },
        { "1e3", TRUE, 1000 },
        { "-2.5e1", TRUE, -25 },
        { "-2.5e0", FALSE, 0 },
        { "-2.0e1", TRUE, -20 },
        { "1e19", FALSE, 0 },
        { "-1e19", FALSE, 0 },
        { "9.3e18", FALSE, 0 },
        { "9.2233720368547758e18", FALSE, 0 },
        { "1e308", FALSE, 0 },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(vsJson) json = parseOk(cases[i].text);
        gint64 v = 77;
        gboolean ok = vsJsonGetInt64(json, &v);

        ck_assert_msg(ok == cases[i].ok, "'%s': GetInt64 returned %d",
                      cases[i].text, ok);
        if (ok)
            ck_assert_msg(v == cases[i].value, "'%s' gave %" G_GINT64_FORMAT,
                          cases[i].text, v);
        else
            ck_assert_msg(v == 77, "'%s' wrote the out-parameter on failure",
                          cases[i].text);
    }
}
END_TEST


START_TEST(test_writer_compact)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(FALSE);

    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "name", "vm1");
    vsJsonWriterMemberInt(w, "vcpus", 4);
    vsJsonWriterMemberDouble(w, "load", 0.5);
    vsJsonWriterMemberBool(w, "up", TRUE);
    vsJsonWriterKey(w, "tags");
    vsJsonWriterBeginArray(w);
    vsJsonWriterString(w, "a");
    vsJsonWriterString(w, "b");
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "empty");
    vsJsonWriterBeginObject(w);
    vsJsonWriterEndObject(w);
    vsJsonWriterKey(w, "none");
    vsJsonWriterBeginArray(w);
    vsJsonWriterEndArray(w);
    vsJsonWriterMemberString(w, "x", NULL);
    vsJsonWriterKey(w, "nested");
    vsJsonWriterBeginArray(w);
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberBool(w, "f", FALSE);
    vsJsonWriterEndObject(w);
    vsJsonWriterBeginArray(w);
    vsJsonWriterNull(w);
    vsJsonWriterEndArray(w);
    vsJsonWriterEndArray(w);
    vsJsonWriterEndObject(w);

    ck_assert_str_eq(vsJsonWriterGet(w),
                     "{\"name\":\"vm1\",\"vcpus\":4,\"load\":0.5,\"up\":true,"
                     "\"tags\":[\"a\",\"b\"],\"empty\":{},\"none\":[],\"x\":null,"
                     "\"nested\":[{\"f\":false},[null]]}");
}
END_TEST


START_TEST(test_writer_pretty)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "name", "vm1");
    vsJsonWriterMemberInt(w, "vcpus", 4);
    vsJsonWriterKey(w, "tags");
    vsJsonWriterBeginArray(w);
    vsJsonWriterString(w, "a");
    vsJsonWriterString(w, "b");
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "empty");
    vsJsonWriterBeginObject(w);
    vsJsonWriterEndObject(w);
    vsJsonWriterKey(w, "none");
    vsJsonWriterBeginArray(w);
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "nested");
    vsJsonWriterBeginArray(w);
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberBool(w, "f", FALSE);
    vsJsonWriterEndObject(w);
    vsJsonWriterEndArray(w);
    vsJsonWriterEndObject(w);

    ck_assert_str_eq(vsJsonWriterGet(w),
                     "{\n"
                     "  \"name\": \"vm1\",\n"
                     "  \"vcpus\": 4,\n"
                     "  \"tags\": [\n"
                     "    \"a\",\n"
                     "    \"b\"\n"
                     "  ],\n"
                     "  \"empty\": {},\n"
                     "  \"none\": [],\n"
                     "  \"nested\": [\n"
                     "    {\n"
                     "      \"f\": false\n"
                     "    }\n"
                     "  ]\n"
                     "}\n");
}
END_TEST


START_TEST(test_writer_scalar_top)
{
    g_autoptr(vsJsonWriter) pretty = vsJsonWriterNew(TRUE);
    g_autoptr(vsJsonWriter) compact = vsJsonWriterNew(FALSE);
    g_autoptr(vsJsonWriter) empty = vsJsonWriterNew(TRUE);

    vsJsonWriterInt(pretty, 42);
    vsJsonWriterInt(compact, 42);
    vsJsonWriterBeginArray(empty);
    vsJsonWriterEndArray(empty);
    ck_assert_str_eq(vsJsonWriterGet(pretty), "42\n");
    ck_assert_str_eq(vsJsonWriterGet(compact), "42");
    ck_assert_str_eq(vsJsonWriterGet(empty), "[]\n");
}
END_TEST


START_TEST(test_writer_steal)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(FALSE);
    g_autofree char *first = NULL;

    vsJsonWriterBeginArray(w);
    vsJsonWriterInt(w, 1);
    vsJsonWriterEndArray(w);
    first = vsJsonWriterSteal(w);
    ck_assert_str_eq(first, "[1]");

    /* The writer starts over */
    ck_assert_str_eq(vsJsonWriterGet(w), "");
    vsJsonWriterBool(w, FALSE);
    ck_assert_str_eq(vsJsonWriterGet(w), "false");
}
END_TEST


START_TEST(test_writer_numbers)
{
    static const struct {
        double value;
        const char *text;
    } cases[] = {
        { 0.0, "0" },
        { -0.0, "-0" },
        { 1.0, "1" },
        { 0.1, "0.1" },
        { -1.5, "-1.5" },
        { 1e300, "1e+300" },
        { 1e-7, "1e-07" },
        { 1.0 / 3.0, "0.3333333333333333" },
        { 123456.789, "123456.789" },
    };
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(FALSE);
    g_autoptr(vsJsonWriter) ints = vsJsonWriterNew(FALSE);
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(vsJsonWriter) one = vsJsonWriterNew(FALSE);

        vsJsonWriterDouble(one, cases[i].value);
        ck_assert_str_eq(vsJsonWriterGet(one), cases[i].text);
    }

    vsJsonWriterBeginArray(w);
    vsJsonWriterDouble(w, NAN);
    vsJsonWriterDouble(w, INFINITY);
    vsJsonWriterDouble(w, -INFINITY);
    vsJsonWriterEndArray(w);
    ck_assert_str_eq(vsJsonWriterGet(w), "[null,null,null]");

    vsJsonWriterBeginArray(ints);
    vsJsonWriterInt(ints, G_MAXINT64);
    vsJsonWriterInt(ints, G_MININT64);
    vsJsonWriterInt(ints, 0);
    vsJsonWriterEndArray(ints);
    ck_assert_str_eq(vsJsonWriterGet(ints),
                     "[9223372036854775807,-9223372036854775808,0]");
}
END_TEST


START_TEST(test_double_roundtrip)
{
    static const double values[] = {
        0.1, 0.2, 0.3, 1.0 / 3.0, 2.0 / 3.0, M_PI, M_E, -1e-300, 5e-324,
        2.2250738585072014e-308, 1.7976931348623157e308, 123456789012345680.0,
        9007199254740993.0, 0.1 + 0.2, 1e21, 1e22, -0.0, 100.0,
    };
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);
    g_autoptr(vsJson) json = NULL;
    GRand *rand = g_rand_new_with_seed(20240601);
    size_t i;

    vsJsonWriterBeginArray(w);
    for (i = 0; i < G_N_ELEMENTS(values); i++)
        vsJsonWriterDouble(w, values[i]);
    for (i = 0; i < 1000; i++) {
        guint64 bits = ((guint64)g_rand_int(rand) << 32) | g_rand_int(rand);
        double d;

        memcpy(&d, &bits, sizeof(d));
        vsJsonWriterDouble(w, d);
    }
    vsJsonWriterEndArray(w);
    json = parseOk(vsJsonWriterGet(w));

    ck_assert_uint_eq(vsJsonArrayLength(json), G_N_ELEMENTS(values) + 1000);
    for (i = 0; i < G_N_ELEMENTS(values); i++) {
        double got = vsJsonGetNumber(vsJsonArrayGet(json, i));

        ck_assert_msg(got == values[i] && !!signbit(got) == !!signbit(values[i]),
                      "%.17g came back as %.17g", values[i], got);
    }

    g_rand_set_seed(rand, 20240601);
    for (i = 0; i < 1000; i++) {
        guint64 bits = ((guint64)g_rand_int(rand) << 32) | g_rand_int(rand);
        const vsJson *item = vsJsonArrayGet(json, G_N_ELEMENTS(values) + i);
        double d;

        memcpy(&d, &bits, sizeof(d));
        if (isfinite(d))
            ck_assert_msg(vsJsonGetNumber(item) == d, "%.17g did not round-trip", d);
        else
            ck_assert_int_eq(vsJsonGetType(item), VS_JSON_NULL);
    }
    g_rand_free(rand);
}
END_TEST


START_TEST(test_writer_roundtrip)
{
    g_autoptr(GString) every = g_string_new(NULL);
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);
    g_autoptr(vsJson) json = NULL;
    const vsJson *obj;
    gint64 v = 0;
    int c;

    /* Every byte but NUL that is valid UTF-8 on its own, plus multibyte */
    for (c = 1; c < 0x80; c++)
        g_string_append_c(every, c);
    g_string_append(every, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x80\xa8");

    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, every->str, every->str);
    vsJsonWriterMemberInt(w, "max", G_MAXINT64);
    vsJsonWriterMemberInt(w, "min", G_MININT64);
    vsJsonWriterMemberDouble(w, "pi", M_PI);
    vsJsonWriterMemberDouble(w, "nan", NAN);
    vsJsonWriterMemberBool(w, "t", TRUE);
    vsJsonWriterMemberBool(w, "f", FALSE);
    vsJsonWriterMemberString(w, "null", NULL);
    vsJsonWriterKey(w, "list");
    vsJsonWriterBeginArray(w);
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "", "");
    vsJsonWriterEndObject(w);
    vsJsonWriterBeginArray(w);
    vsJsonWriterEndArray(w);
    vsJsonWriterEndArray(w);
    vsJsonWriterEndObject(w);

    json = parseOk(vsJsonWriterGet(w));
    ck_assert_uint_eq(vsJsonObjectSize(json), 9);
    ck_assert_str_eq(vsJsonObjectKey(json, 0), every->str);
    ck_assert_str_eq(vsJsonGetString(vsJsonObjectValue(json, 0)), every->str);
    ck_assert(vsJsonGetInt64(vsJsonObjectGet(json, "max"), &v));
    ck_assert_int_eq(v, G_MAXINT64);
    ck_assert(vsJsonGetInt64(vsJsonObjectGet(json, "min"), &v));
    ck_assert_int_eq(v, G_MININT64);
    ck_assert(vsJsonGetNumber(vsJsonObjectGet(json, "pi")) == M_PI);
    ck_assert_int_eq(vsJsonGetType(vsJsonObjectGet(json, "nan")), VS_JSON_NULL);
    ck_assert(vsJsonGetBool(vsJsonObjectGet(json, "t")));
    ck_assert_int_eq(vsJsonGetType(vsJsonObjectGet(json, "f")), VS_JSON_BOOL);
    ck_assert(!vsJsonGetBool(vsJsonObjectGet(json, "f")));
    ck_assert_int_eq(vsJsonGetType(vsJsonObjectGet(json, "null")), VS_JSON_NULL);
    obj = vsJsonObjectGet(json, "list");
    ck_assert_uint_eq(vsJsonArrayLength(obj), 2);
    ck_assert_str_eq(vsJsonGetString(vsJsonObjectGet(vsJsonArrayGet(obj, 0), "")), "");
    ck_assert_int_eq(vsJsonGetType(vsJsonArrayGet(obj, 1)), VS_JSON_ARRAY);
}
END_TEST


static char *
escape(const char *s)
{
    GString *out = g_string_new(NULL);

    vsJsonEscape(out, s);
    return g_string_free(out, FALSE);
}

START_TEST(test_escape_control)
{
    g_autofree char *simple = escape("a\"b\\c/d\x7f");
    g_autofree char *ctl = escape("\x01\x1f\b\f\n\r\t\x0b");
    g_autofree char *utf8 = escape("caf\xc3\xa9 \xf0\x9f\x98\x80");
    g_autoptr(GString) all = g_string_new(NULL);
    g_autofree char *allEscaped = NULL;
    g_autoptr(vsJson) back = NULL;
    g_autoptr(GString) appended = g_string_new("x=");
    int c;

    ck_assert_str_eq(simple, "\"a\\\"b\\\\c/d\x7f\"");
    ck_assert_str_eq(ctl, "\"\\u0001\\u001f\\b\\f\\n\\r\\t\\u000b\"");
    ck_assert_str_eq(utf8, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");

    /* No raw control character survives, and all of them read back */
    for (c = 1; c < 0x20; c++)
        g_string_append_c(all, c);
    allEscaped = escape(all->str);
    for (c = 0; allEscaped[c]; c++)
        ck_assert_msg((unsigned char)allEscaped[c] >= 0x20,
                      "raw byte 0x%02x in output", allEscaped[c]);
    back = parseOk(allEscaped);
    ck_assert_str_eq(vsJsonGetString(back), all->str);

    /* Appends rather than replaces */
    vsJsonEscape(appended, "");
    ck_assert_str_eq(appended->str, "x=\"\"");
}
END_TEST


START_TEST(test_escape_invalid_utf8)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "a\xff" "b", "\"a\xef\xbf\xbd" "b\"" },
        /* overlong '/' */
        { "\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
        /* truncated euro sign at the end */
        { "x\xe2\x82", "\"x\xef\xbf\xbd\xef\xbf\xbd\"" },
        /* truncated then ASCII */
        { "\xe2\x82z", "\"\xef\xbf\xbd\xef\xbf\xbdz\"" },
        /* UTF-8 encoded surrogate */
        { "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
        /* beyond U+10FFFF */
        { "\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
        /* lone continuation byte among valid text */
        { "\xc3\xa9\x80\xc3\xa9", "\"\xc3\xa9\xef\xbf\xbd\xc3\xa9\"" },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *out = escape(cases[i].in);
        g_autoptr(vsJson) back = NULL;

        ck_assert_msg(strcmp(out, cases[i].out) == 0, "case %zu escaped wrongly", i);
        ck_assert(g_utf8_validate(out, -1, NULL));
        back = parseOk(out);
        ck_assert_int_eq(vsJsonGetType(back), VS_JSON_STRING);
    }
}
END_TEST


static Suite *
vsJsonSuite(void)
{
    Suite *s = suite_create("vsjson");
    TCase *parse = tcase_create("parse");
    TCase *bad = tcase_create("malformed");
    TCase *write = tcase_create("write");

    tcase_add_test(parse, test_scalars);
    tcase_add_test(parse, test_numbers);
    tcase_add_test(parse, test_nesting);
    tcase_add_test(parse, test_object_order);
    tcase_add_test(parse, test_duplicate_keys);
    tcase_add_test(parse, test_path);
    tcase_add_test(parse, test_wrong_type_accessors);
    tcase_add_test(parse, test_whitespace);
    tcase_add_test(parse, test_explicit_length);
    tcase_add_test(parse, test_unterminated_buffer);
    tcase_add_test(parse, test_escapes);
    tcase_add_test(parse, test_surrogates);
    tcase_add_test(parse, test_int64);
    suite_add_tcase(s, parse);

    tcase_add_loop_test(bad, test_malformed, 0, G_N_ELEMENTS(malformed));
    tcase_add_test(bad, test_depth_limit);
    suite_add_tcase(s, bad);

    tcase_add_test(write, test_writer_compact);
    tcase_add_test(write, test_writer_pretty);
    tcase_add_test(write, test_writer_scalar_top);
    tcase_add_test(write, test_writer_steal);
    tcase_add_test(write, test_writer_numbers);
    tcase_add_test(write, test_double_roundtrip);
    tcase_add_test(write, test_writer_roundtrip);
    tcase_add_test(write, test_escape_control);
    tcase_add_test(write, test_escape_invalid_utf8);
    suite_add_tcase(s, write);

    return s;
}


int
main(void)
{
    return vsTestRunSuite(vsJsonSuite());
}
