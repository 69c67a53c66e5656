/*
 * vsscript.c: an install script split into steps
 */
#include <config.h>

#include <string.h>

#include "vsscript.h"
#include "util/vserror.h"

vsScriptStep *
vsScriptStepNew(guint index, const char *name, const char *text, guint line, guint group)
{
    vsScriptStep *step = g_new0(vsScriptStep, 1);

    step->index = index;
    step->name = g_strdup(name);
    step->text = g_strdup(text);
    step->line = line;
    step->group = group;
    return step;
}

void
vsScriptStepFree(vsScriptStep *step)
{
    if (!step)
        return;
    g_free(step->name);
    g_free(step->text);
    g_free(step);
}

vsScript *
vsScriptNew(const char *filename, const char *interpreter, const char *interpreter_arg)
{
    vsScript *script = g_new0(vsScript, 1);

    script->filename = g_strdup(filename ? filename : "script");
    script->interpreter = g_strdup(interpreter ? interpreter : VS_SCRIPT_DEFAULT_INTERPRETER);
    script->interpreter_arg = g_strdup(interpreter_arg);
    script->steps = g_ptr_array_new_with_free_func((GDestroyNotify)vsScriptStepFree);
    return script;
}

void
vsScriptFree(vsScript *script)
{
    if (!script)
        return;
    g_free(script->filename);
    g_free(script->interpreter);
    g_free(script->interpreter_arg);
    g_ptr_array_unref(script->steps);
    g_free(script);
}

/* The text after "#" KEYWORD ":" on a comment line, or NULL when @line is
 * not such a line.  @line has no newline. */
static const char *
vsScriptDirective(const char *line, const char *keyword)
{
    const char *p = line;
    gsize klen = strlen(keyword);

    while (g_ascii_isspace(*p))
        p++;
    if (*p++ != '#')
        return NULL;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncmp(p, keyword, klen) != 0)
        return NULL;
    p += klen;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static gboolean
vsScriptIsBlankOrComment(const char *line)
{
    while (g_ascii_isspace(*line))
        line++;
    return *line == '\0' || *line == '#';
}

/* A name for a step made of @text: its words, single-spaced, cut short. */
static char *
vsScriptNameFromLine(const char *text)
{
    g_auto(GStrv) words = g_strsplit_set(text, " \t\n\\", -1);
    g_autoptr(GString) name = g_string_new(NULL);

    for (gsize i = 0; words[i]; i++) {
        if (!*words[i])
            continue;
        if (name->len)
            g_string_append_c(name, ' ');
        g_string_append(name, words[i]);
    }
    if (g_utf8_strlen(name->str, -1) > VS_SCRIPT_NAME_MAX) {
        g_autofree char *cut = g_utf8_substring(name->str, 0, VS_SCRIPT_NAME_MAX - 3);

        return g_strconcat(g_strchomp(cut), "...", NULL);
    }
    return g_string_free(g_steal_pointer(&name), FALSE);
}

typedef struct {
    vsScript *script;
    GHashTable *names;      /* name -> first line (GUINT_TO_POINTER) */
    GString *text;          /* the open step, or NULL */
    char *name;
    guint line;
    guint group;
} vsScriptBuilder;

static gboolean
vsScriptClose(vsScriptBuilder *b, GError **error)
{
    vsScript *script = b->script;
    g_autofree char *name = g_steal_pointer(&b->name);
    g_autoptr(GString) text = g_steal_pointer(&b->text);
    gpointer first;

    if (!text)
        return TRUE;
    if (g_hash_table_lookup_extended(b->names, name, NULL, &first)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "'%s' line %u: duplicate step name '%s' (first at line %u)",
                    script->filename, b->line, name, GPOINTER_TO_UINT(first));
        return FALSE;
    }
    g_hash_table_insert(b->names, g_strdup(name), GUINT_TO_POINTER(b->line));
    g_ptr_array_add(script->steps,
                    vsScriptStepNew(script->steps->len + 1, name, text->str, b->line, b->group));
    return TRUE;
}

/* The 1-based line of @at in @text, for messages. */
static guint
vsScriptLineAt(const char *text, const char *at)
{
    guint line = 1;

    for (const char *p = text; p < at; p++)
        if (*p == '\n')
            line++;
    return line;
}

static gboolean
vsScriptParseShebang(vsScript *script, const char *line, GError **error)
{
    g_autofree char *rest = g_strstrip(g_strdup(line + 2));
    char *space = strpbrk(rest, " \t");

    if (space) {
        *space++ = '\0';
        g_strstrip(space);
    }
    if (!g_path_is_absolute(rest)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "'%s' line 1: interpreter '%s' is not an absolute path", script->filename, rest);
        return FALSE;
    }
    g_free(script->interpreter);
    script->interpreter = g_strdup(rest);
    /* like the kernel: the rest of the line is one argument */
    if (space && *space)
        script->interpreter_arg = g_strdup(space);
    return TRUE;
}

static gboolean
vsScriptSplitMarked(vsScriptBuilder *b, GStrv lines, guint first, GError **error)
{
    vsScript *script = b->script;
    gboolean in_prologue = TRUE;
    gboolean prologue_used = FALSE;

    b->text = g_string_new(NULL);
    b->name = g_strdup(VS_SCRIPT_PROLOGUE);
    b->line = first + 1;
    for (guint i = first; lines[i]; i++) {
        const char *marker = vsScriptDirective(lines[i], "step");
        const char *group = vsScriptDirective(lines[i], "group");

        if (!marker && !group) {
            if (b->text) {
                g_string_append(b->text, lines[i]);
                g_string_append_c(b->text, '\n');
            } else if (!vsScriptIsBlankOrComment(lines[i])) {
                g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                            "'%s' line %u: command between a group line and the next step marker",
                            script->filename, i + 1);
                return FALSE;
            }
            if (in_prologue && !vsScriptIsBlankOrComment(lines[i]))
                prologue_used = TRUE;
            continue;
        }
        if (in_prologue) {
            /* lines before the first marker are a step only if they do something */
            if (!prologue_used) {
                g_clear_pointer(&b->name, g_free);
                g_string_free(g_steal_pointer(&b->text), TRUE);
            }
            in_prologue = FALSE;
        }
        if (!vsScriptClose(b, error))
            return FALSE;
        if (group) {
            g_autofree char *word = g_strndup(group, strcspn(group, " \t"));
            guint64 n;

            if (!g_ascii_string_to_unsigned(word, 10, 0, G_MAXUINT, &n, NULL)) {
                g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                            "'%s' line %u: invalid group '%s'", script->filename, i + 1, group);
                return FALSE;
            }
            b->group = (guint)n;
            continue;
        }
        b->name = g_strstrip(g_strdup(marker));
        if (!*b->name) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "'%s' line %u: step marker without a name", script->filename, i + 1);
            return FALSE;
        }
        b->text = g_string_new(NULL);
        b->line = i + 1;
    }
    return vsScriptClose(b, error);
}

static gboolean
vsScriptSplitLines(vsScriptBuilder *b, GStrv lines, guint first, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = first; lines[i]; i++) {
        g_autofree char *base = NULL;
        guint count;

        if (vsScriptIsBlankOrComment(lines[i]))
            continue;
        b->text = g_string_new(NULL);
        b->line = i + 1;
        for (;;) {
            gsize len = strlen(lines[i]);

            g_string_append(b->text, lines[i]);
            g_string_append_c(b->text, '\n');
            /* a trailing backslash continues the command */
            if (len && lines[i][len - 1] == '\\' && lines[i + 1])
                i++;
            else
                break;
        }
        base = vsScriptNameFromLine(b->text->str);
        count = GPOINTER_TO_UINT(g_hash_table_lookup(seen, base)) + 1;
        g_hash_table_insert(seen, g_strdup(base), GUINT_TO_POINTER(count));
        b->name = count > 1 ? g_strdup_printf("%s (%u)", base, count) : g_steal_pointer(&base);
        if (!vsScriptClose(b, error))
            return FALSE;
    }
    return TRUE;
}

vsScript *
vsScriptParse(const char *text, gsize len, const char *filename, GError **error)
{
    g_autoptr(vsScript) script = vsScriptNew(filename, NULL, NULL);
    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *copy = NULL;
    g_auto(GStrv) lines = NULL;
    vsScriptBuilder b = { script, names, NULL, NULL, 0, 0 };
    const char *bad;
    gboolean marked = FALSE;
    guint first = 0;
    gboolean ok;

    bad = memchr(text, '\0', len);
    if (bad) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "'%s' line %u: NUL byte in script",
                    script->filename, vsScriptLineAt(text, bad));
        return NULL;
    }
    if (!g_utf8_validate_len(text, len, &bad)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "'%s' line %u: invalid UTF-8",
                    script->filename, vsScriptLineAt(text, bad));
        return NULL;
    }
    copy = g_strndup(text, len);
    /* a final newline ends the last line rather than starting an empty one */
    if (len && copy[len - 1] == '\n')
        copy[len - 1] = '\0';
    lines = g_strsplit(copy, "\n", -1);

    if (lines[0] && g_str_has_prefix(lines[0], "#!")) {
        if (!vsScriptParseShebang(script, lines[0], error))
            return NULL;
        first = 1;
    }
    for (guint i = first; lines[i] && !marked; i++)
        marked = vsScriptDirective(lines[i], "step") != NULL;
    script->marked = marked;
    ok = marked ? vsScriptSplitMarked(&b, lines, first, error)
                : vsScriptSplitLines(&b, lines, first, error);
    g_free(b.name);
    if (b.text)
        g_string_free(b.text, TRUE);
    if (!ok)
        return NULL;
    if (!script->steps->len) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "'%s' has no steps", script->filename);
        return NULL;
    }
    return g_steal_pointer(&script);
}

vsScript *
vsScriptLoad(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    gsize len;
    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(path, &text, &len, &local)) {
        g_set_error(error, VS_ERROR,
                    g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? VS_ERROR_NOT_FOUND
                                                                             : VS_ERROR_IO,
                    "cannot read script '%s': %s", path, local->message);
        return NULL;
    }
    return vsScriptParse(text, len, path, error);
}

gboolean
vsScriptIsShell(const vsScript *script)
{
    static const char *const shells[] = { "sh", "bash", "dash", "ash", "ksh", "zsh", "busybox" };
    g_autofree char *base = g_path_get_basename(script->interpreter);
    const char *name = base;

    if (strcmp(base, "env") == 0) {
        if (!script->interpreter_arg)
            return FALSE;
        name = script->interpreter_arg;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(shells); i++)
        if (strcmp(name, shells[i]) == 0)
            return TRUE;
    return FALSE;
}

static void
vsScriptAppendShebang(const vsScript *script, GString *out)
{
    g_string_append_printf(out, "#!%s", script->interpreter);
    if (script->interpreter_arg)
        g_string_append_printf(out, " %s", script->interpreter_arg);
    g_string_append_c(out, '\n');
}

char *
vsScriptStepFile(const vsScript *script, const vsScriptStep *step)
{
    GString *out = g_string_new(NULL);

    vsScriptAppendShebang(script, out);
    if (vsScriptIsShell(script))
        g_string_append(out, "set -e\n");
    g_string_append(out, step->text);
    return g_string_free(out, FALSE);
}

GStrv
vsScriptStepArgv(const vsScript *script, const char *guest_path)
{
    g_autoptr(GStrvBuilder) argv = g_strv_builder_new();

    g_strv_builder_add(argv, script->interpreter);
    if (script->interpreter_arg)
        g_strv_builder_add(argv, script->interpreter_arg);
    g_strv_builder_add(argv, guest_path);
    return g_strv_builder_end(argv);
}

void
vsScriptRender(const vsScript *script, GString *out)
{
    guint group = 0;

    vsScriptAppendShebang(script, out);
    for (guint i = 0; i < script->steps->len; i++) {
        const vsScriptStep *step = g_ptr_array_index(script->steps, i);

        if (step->group != group) {
            guint last = i;

            group = step->group;
            while (last + 1 < script->steps->len &&
                   ((vsScriptStep *)g_ptr_array_index(script->steps, last + 1))->group == group)
                last++;
            g_string_append_printf(out, "# group: %u", group);
            /* for the reader: the parser takes the number only */
            if (group && last > i) {
                g_string_append(out, " (steps");
                for (guint k = i; k <= last; k++)
                    g_string_append_printf(out, " %u",
                                           ((vsScriptStep *)g_ptr_array_index(script->steps, k))->index);
                g_string_append(out, " may run concurrently)");
            }
            g_string_append_c(out, '\n');
        }
        g_string_append_printf(out, "# step: %s\n%s", step->name, step->text);
    }
}

const vsScriptStep *
vsScriptFindStep(const vsScript *script, const char *name)
{
    for (guint i = 0; i < script->steps->len; i++) {
        const vsScriptStep *step = g_ptr_array_index(script->steps, i);

        if (strcmp(step->name, name) == 0)
            return step;
    }
    return NULL;
}
