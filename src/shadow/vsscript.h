/*
 * vsscript.h: an install script split into steps
 *
 * A step is one line of the script, or a block between "# step: NAME"
 * markers:
 *
 *   - When the script holds at least one marker line ("# step: NAME", any
 *     space around '#' and ':'), each step is the block of lines from one
 *     marker to the next, named NAME.  Lines before the first marker form a
 *     step named "prologue" when one of them is neither blank nor a comment.
 *   - Otherwise every line that is neither blank nor a comment is a step of
 *     its own; a line ending in '\' is continued on the next one.  It is
 *     named after its first words (whitespace collapsed, at most
 *     VS_SCRIPT_NAME_MAX characters); a name seen before gets " (2)",
 *     " (3)", ... so names stay unique.  Constructs spanning lines (if/fi,
 *     here-documents, functions) need markers.
 *
 * A first line "#!..." is no step: it names the interpreter (default
 * /bin/sh).  A "# group: N" line (written by vsScriptRender() for the
 * optimizer) is no step either: it puts the steps after it in group N,
 * whose steps may run concurrently.
 *
 * Each step runs as its own process (see vsScriptStepArgv()), so a "cd" or
 * a variable set in one step does not reach the next.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VS_SCRIPT_DEFAULT_INTERPRETER "/bin/sh"
#define VS_SCRIPT_PROLOGUE "prologue"
/* Longest name (in characters) given to a step named after its line. */
#define VS_SCRIPT_NAME_MAX 48

typedef struct _vsScriptStep vsScriptStep;
struct _vsScriptStep {
    guint index;        /* 1-based, in script order */
    char *name;         /* unique within the script */
    char *text;         /* the step's exact lines, each ending in '\n'; no marker */
    guint line;         /* 1-based line of its marker, or of its first line */
    guint group;        /* from "# group: N"; 0 when none */
};

vsScriptStep *vsScriptStepNew(guint index, const char *name, const char *text,
                              guint line, guint group);
void vsScriptStepFree(vsScriptStep *step);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsScriptStep, vsScriptStepFree)

typedef struct _vsScript vsScript;
struct _vsScript {
    char *filename;         /* for messages */
    char *interpreter;      /* absolute path from "#!", or /bin/sh */
    char *interpreter_arg;  /* the one optional "#!" argument, or NULL */
    gboolean marked;        /* split at "# step:" markers */
    GPtrArray *steps;       /* of vsScriptStep, never empty */
};

/* An empty script (no steps) with @interpreter (NULL: /bin/sh); used to
 * build scripts in code, such as an optimized one. */
vsScript *vsScriptNew(const char *filename, const char *interpreter,
                      const char *interpreter_arg);
void vsScriptFree(vsScript *script);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsScript, vsScriptFree)

/* Split @len bytes of @text into steps (rules above).  VS_ERROR_INVALID,
 * naming @filename and the line, for: NUL bytes, invalid UTF-8, a marker
 * without a name, a duplicate step name, an interpreter that is not an
 * absolute path, and a script with no step at all. */
vsScript *vsScriptParse(const char *text, gsize len, const char *filename,
                        GError **error);

/* vsScriptParse() on the contents of @path; a file that cannot be read is
 * VS_ERROR_NOT_FOUND (missing) or VS_ERROR_IO, naming @path. */
vsScript *vsScriptLoad(const char *path, GError **error);

/* Whether the interpreter is a POSIX-style shell (sh, bash, dash, ash,
 * ksh, zsh, busybox), directly or through "#!/usr/bin/env SHELL". */
gboolean vsScriptIsShell(const vsScript *script);

/* The file a step becomes in the guest: the "#!" line, then for a shell
 * interpreter "set -e" so the step fails as soon as one of its commands
 * fails (the last command alone would decide otherwise), then the step's
 * text.  Other interpreters get the text as it is: they stop on their own
 * errors. */
char *vsScriptStepFile(const vsScript *script, const vsScriptStep *step);

/* The argv that runs a step copied to @guest_path: the interpreter, its
 * "#!" argument if any, and @guest_path.  No shell string is built. */
GStrv vsScriptStepArgv(const vsScript *script, const char *guest_path);

/* Append @script to @out in marked form: the "#!" line, then for each
 * step a "# group: N" line when its group differs from the previous one's
 * (with "(steps 2 3 may run concurrently)" when several follow), a
 * "# step: NAME" marker and its text.  vsScriptParse() of the output gives
 * back the same names, texts, groups and interpreter. */
void vsScriptRender(const vsScript *script, GString *out);

/* The step named @name, or NULL. */
const vsScriptStep *vsScriptFindStep(const vsScript *script, const char *name);

G_END_DECLS
