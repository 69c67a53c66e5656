/*
 * vscli.c: the virt-shadow command table and its runtime
 */
#include <config.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vscli.h"
#include "util/vserror.h"
#include "util/vslog.h"

struct _vsCli {
    vsConfig *cfg;
    char *connect;              /* -c URI */
    char *state_dir;
    gboolean json;
    gboolean quiet;
    vsHypervisor *hv;
    vsStore *store;
    vsStoreTarget target;
};

static const vsCliCommand vsCmdBuiltin[];

static const vsCliCommand *const vsCliFamilies[] = {
    vsCmdBuiltin,
    vsCmdDoctor,
    vsCmdDomain,
    vsCmdPolicy,
    vsCmdTelemetry,
    vsCmdForecast,
    vsCmdInsight,
    vsCmdAlloc,
    vsCmdGuest,
    vsCmdShadow,
    vsCmdShadowSchedule,
    vsCmdProfile,
    vsCmdDeploy,
    vsCmdDb,
};

static const vsCliOption vsCliGlobalOptions[] = {
    { "connect", 'c', VS_OPT_STRING, "URI",
      "libvirt URI (default: config, then LIBVIRT_DEFAULT_URI)" },
    { "config", 0, VS_OPT_STRING, "FILE", "config file (default: " VS_DEFAULT_CONFIG_FILE ")" },
    { "state-dir", 0, VS_OPT_STRING, "DIR", "state directory (default: " VS_DEFAULT_STATE_DIR ")" },
    { "version", 'V', VS_OPT_FLAG, NULL, "print the version and exit" },
    { NULL }
};

/* Accepted before the command and by every command, so "doctor --json"
 * works like "--json doctor". */
static const vsCliOption vsCliCommonOptions[] = {
    { "json", 0, VS_OPT_FLAG, NULL, "print results as JSON" },
    { "quiet", 'q', VS_OPT_FLAG, NULL, "print only results and errors" },
    { "verbose", 'v', VS_OPT_FLAG, NULL, "print more detail (twice for debug)" },
    { "help", 'h', VS_OPT_FLAG, NULL, "print this help and exit" },
    { NULL }
};

/* --- argument parsing ------------------------------------------------------ */

void
vsCliArgsFree(vsCliArgs *args)
{
    if (!args)
        return;
    g_hash_table_unref(args->values);
    g_ptr_array_unref(args->positional);
    g_free(args);
}

gboolean
vsCliArgsHas(const vsCliArgs *args, const char *name)
{
    return g_hash_table_contains(args->values, name);
}

const char *
vsCliArgsGet(const vsCliArgs *args, const char *name)
{
    return g_hash_table_lookup(args->values, name);
}

const char *
vsCliArgsPositional(const vsCliArgs *args, guint index)
{
    return index < args->positional->len ? g_ptr_array_index(args->positional, index) : NULL;
}

static guint
vsCliArgsCount(const vsCliArgs *args, const char *name)
{
    const char *v = vsCliArgsGet(args, name);

    return v ? (guint)g_ascii_strtoull(v, NULL, 10) : 0;
}

static const vsCliOption *
vsCliFindOption(const vsCliOption *const *tables, gsize ntables, const char *name,
                char short_name)
{
    for (gsize t = 0; t < ntables; t++) {
        for (const vsCliOption *o = tables[t]; o && o->name; o++) {
            if ((name && g_str_equal(o->name, name)) || (short_name && o->short_name == short_name))
                return o;
        }
    }
    return NULL;
}

static void
vsCliArgsSetFlag(vsCliArgs *args, const char *name)
{
    guint count = vsCliArgsCount(args, name) + 1;

    g_hash_table_insert(args->values, g_strdup(name), g_strdup_printf("%u", count));
}

/* One option at argv[*i]; advances *i past its value. */
static gboolean
vsCliParseOne(const vsCliOption *const *tables, gsize ntables, vsCliArgs *args,
              int argc, char **argv, int *i, GError **error)
{
    const char *arg = argv[*i];
    const vsCliOption *opt;
    g_autofree char *name = NULL;
    const char *value = NULL;

    if (g_str_has_prefix(arg, "--")) {
        const char *eq = strchr(arg, '=');

        name = eq ? g_strndup(arg + 2, eq - arg - 2) : g_strdup(arg + 2);
        value = eq ? eq + 1 : NULL;
        opt = vsCliFindOption(tables, ntables, name, 0);
    } else {
        if (arg[2] != '\0') {
            g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                        "unknown option '%s' (short options cannot be combined)", arg);
            return FALSE;
        }
        opt = vsCliFindOption(tables, ntables, NULL, arg[1]);
    }
    if (!opt) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "unknown option '%s'", arg);
        return FALSE;
    }
    if (opt->type == VS_OPT_FLAG) {
        if (value) {
            g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                        "option '--%s' does not take a value", opt->name);
            return FALSE;
        }
        vsCliArgsSetFlag(args, opt->name);
        return TRUE;
    }
    if (!value) {
        if (*i + 1 >= argc) {
            g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "option '--%s' needs a value %s",
                        opt->name, opt->metavar);
            return FALSE;
        }
        value = argv[++(*i)];
    }
    g_hash_table_insert(args->values, g_strdup(opt->name), g_strdup(value));
    return TRUE;
}

static vsCliArgs *
vsCliParseTables(const vsCliOption *const *tables, gsize ntables, int argc, char **argv,
                 gboolean stop_at_positional, int *ret_consumed, GError **error)
{
    g_autoptr(vsCliArgs) args = g_new0(vsCliArgs, 1);
    gboolean options_done = FALSE;
    int i;

    args->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    args->positional = g_ptr_array_new_with_free_func(g_free);

    for (i = 0; i < argc; i++) {
        const char *arg = argv[i];

        if (!options_done && g_str_equal(arg, "--")) {
            options_done = TRUE;
            continue;
        }
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            if (stop_at_positional)
                break;
            g_ptr_array_add(args->positional, g_strdup(arg));
            continue;
        }
        if (!vsCliParseOne(tables, ntables, args, argc, argv, &i, error))
            return NULL;
    }
    if (ret_consumed)
        *ret_consumed = i;
    return g_steal_pointer(&args);
}

vsCliArgs *
vsCliParseArgs(const vsCliOption *options, int argc, char **argv, GError **error)
{
    const vsCliOption *tables[] = { options, vsCliCommonOptions };

    return vsCliParseTables(tables, G_N_ELEMENTS(tables), argc, argv, FALSE, NULL, error);
}

/* --- command lookup and help ----------------------------------------------- */

static const vsCliCommand *
vsCliFindCommand(const char *name)
{
    for (gsize f = 0; f < G_N_ELEMENTS(vsCliFamilies); f++) {
        for (const vsCliCommand *c = vsCliFamilies[f]; c->name; c++) {
            if (g_str_equal(c->name, name))
                return c;
        }
    }
    return NULL;
}

/* "db" alone: the verbs of that family, for the usage error. */
static char *
vsCliFamilyVerbs(const char *family)
{
    g_autofree char *prefix = g_strconcat(family, " ", NULL);
    g_autoptr(GString) verbs = g_string_new(NULL);

    for (gsize f = 0; f < G_N_ELEMENTS(vsCliFamilies); f++) {
        for (const vsCliCommand *c = vsCliFamilies[f]; c->name; c++) {
            if (g_str_has_prefix(c->name, prefix))
                g_string_append_printf(verbs, "%s%s", verbs->len ? ", " : "",
                                       c->name + strlen(prefix));
        }
    }
    return verbs->len ? g_string_free(g_steal_pointer(&verbs), FALSE) : NULL;
}

/* Match the longest command name made of the leading words of @argv. */
static const vsCliCommand *
vsCliMatchCommand(int argc, char **argv, int *ret_words, GError **error)
{
    g_autofree char *verbs = NULL;

    /* up to three words: "shadow schedule add" */
    for (int n = MIN(argc, 3); n > 0; n--) {
        g_autofree char *name = g_strjoinv(" ", (char **)(GStrv)(char *[]){
            argv[0], n > 1 ? argv[1] : NULL, n > 2 ? argv[2] : NULL, NULL });
        const vsCliCommand *cmd = vsCliFindCommand(name);

        if (cmd) {
            *ret_words = n;
            return cmd;
        }
    }
    if ((verbs = vsCliFamilyVerbs(argv[0]))) {
        if (argc > 1)
            g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                        "unknown command '%s %s' (expected one of: %s)", argv[0], argv[1], verbs);
        else
            g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                        "command '%s' needs a subcommand: %s", argv[0], verbs);
        return NULL;
    }
    g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "unknown command '%s'", argv[0]);
    return NULL;
}

static void
vsCliPrintOptions(GString *out, const vsCliOption *options)
{
    for (const vsCliOption *o = options; o && o->name; o++) {
        g_autofree char *left = g_strdup_printf("%c%c%c --%s %s", o->short_name ? '-' : ' ',
                                                o->short_name ? o->short_name : ' ',
                                                o->short_name ? ',' : ' ', o->name,
                                                o->metavar ? o->metavar : "");

        g_string_append_printf(out, "  %-26s %s\n", left, o->help);
    }
}

static char *
vsCliCommandHelp(const vsCliCommand *cmd)
{
    GString *out = g_string_new(NULL);

    g_string_append_printf(out, "Usage: virt-shadow %s [OPTIONS]%s%s\n\n%c%s.\n",
                           cmd->name, cmd->args ? " " : "", cmd->args ? cmd->args : "",
                           g_ascii_toupper(cmd->summary[0]), cmd->summary + 1);
    if (cmd->description)
        g_string_append_printf(out, "\n%s\n", cmd->description);
    g_string_append(out, "\nOptions:\n");
    vsCliPrintOptions(out, cmd->options);
    vsCliPrintOptions(out, vsCliCommonOptions);
    return g_string_free(out, FALSE);
}

static char *
vsCliMainHelp(void)
{
    GString *out = g_string_new(NULL);
    int width = 16;

    g_string_append(out,
                    "Usage: virt-shadow [OPTIONS] COMMAND [ARGS...]\n\n"
                    "Learn how much CPU and memory virtual machines need, and give it to\n"
                    "them before they need it.\n\nOptions:\n");
    vsCliPrintOptions(out, vsCliGlobalOptions);
    vsCliPrintOptions(out, vsCliCommonOptions);
    g_string_append(out, "\nCommands:\n");
    for (gsize f = 0; f < G_N_ELEMENTS(vsCliFamilies); f++) {
        for (const vsCliCommand *c = vsCliFamilies[f]; c->name; c++)
            width = MAX(width, (int)strlen(c->name));
    }
    for (gsize f = 0; f < G_N_ELEMENTS(vsCliFamilies); f++) {
        for (const vsCliCommand *c = vsCliFamilies[f]; c->name; c++)
            g_string_append_printf(out, "  %-*s %s\n", width, c->name, c->summary);
    }
    g_string_append(out, "\nRun 'virt-shadow COMMAND --help' for a command's options.\n"
                    "Exit status: 0 on success, 1 on failure, 2 on a usage error.\n");
    return g_string_free(out, FALSE);
}

/* --- built-in commands ------------------------------------------------------- */

static gboolean
vsCmdHelp(vsCli *cli, const vsCliArgs *args, GError **error)
{
    g_autofree char *text = NULL;

    if (vsCliArgsHas(args, "commands")) {
        for (gsize f = 0; f < G_N_ELEMENTS(vsCliFamilies); f++) {
            for (const vsCliCommand *c = vsCliFamilies[f]; c->name; c++)
                vsCliPrint(cli, "%s\n", c->name);
        }
        return TRUE;
    }
    if (args->positional->len > 0) {
        g_autoptr(GString) name = g_string_new(NULL);
        const vsCliCommand *cmd;

        for (guint i = 0; i < args->positional->len; i++)
            g_string_append_printf(name, "%s%s", i ? " " : "",
                                   (char *)g_ptr_array_index(args->positional, i));
        if (!(cmd = vsCliFindCommand(name->str))) {
            g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "unknown command '%s'", name->str);
            return FALSE;
        }
        text = vsCliCommandHelp(cmd);
    } else {
        text = vsCliMainHelp();
    }
    vsCliPrint(cli, "%s", text);
    return TRUE;
}

static gboolean
vsCmdVersion(vsCli *cli, const vsCliArgs *args, GError **error)
{
    if (vsCliWantJson(cli)) {
        g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "version", PACKAGE_VERSION);
        vsJsonWriterEndObject(w);
        vsCliPrintJson(cli, w);
    } else {
        vsCliPrint(cli, "virt-shadow %s\n", PACKAGE_VERSION);
    }
    return TRUE;
}

static const vsCliOption vsCmdHelpOptions[] = {
    { "commands", 0, VS_OPT_FLAG, NULL, "list command names, one per line" },
    { NULL }
};

static const vsCliCommand vsCmdBuiltin[] = {
    { "help", "[COMMAND]", "show help for virt-shadow or one command", NULL,
      vsCmdHelpOptions, 0, 3, vsCmdHelp },
    { "version", NULL, "show the version", NULL, NULL, 0, 0, vsCmdVersion },
    { NULL }
};

/* --- session ------------------------------------------------------------------ */

const vsConfig *
vsCliGetConfig(vsCli *cli)
{
    return cli->cfg;
}

gboolean
vsCliWantJson(vsCli *cli)
{
    return cli->json;
}

gboolean
vsCliIsQuiet(vsCli *cli)
{
    return cli->quiet;
}

const char *
vsCliGetStateDir(vsCli *cli)
{
    return cli->state_dir;
}

const char *
vsCliGetURI(vsCli *cli)
{
    return vsConfigResolveURI(cli->cfg, cli->connect);
}

vsHypervisor *
vsCliGetHypervisor(vsCli *cli, GError **error)
{
    if (!cli->hv)
        cli->hv = vsHypervisorOpen(vsCliGetURI(cli), NULL, error);
    return cli->hv;
}

const vsStoreTarget *
vsCliGetStoreTarget(vsCli *cli)
{
    return &cli->target;
}

vsStore *
vsCliGetStore(vsCli *cli, gboolean autostart, GError **error)
{
    if (!cli->store)
        cli->store = vsStoreOpen(&cli->target, autostart, error);
    return cli->store;
}

vsStore *
vsCliGetCheckedStore(vsCli *cli, GError **error)
{
    vsStore *store = vsCliGetStore(cli, TRUE, error);

    if (!store || !vsStoreCheckSchema(store, error))
        return NULL;
    return store;
}

gboolean
vsCliGetLimit(const vsCliArgs *args, guint fallback, guint *ret_limit, GError **error)
{
    const char *text = vsCliArgsGet(args, "limit");
    guint64 limit = fallback;

    if (text && !g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT, &limit, NULL)) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "invalid limit '%s' (expected a positive number)", text);
        return FALSE;
    }
    *ret_limit = (guint)limit;
    return TRUE;
}

char *
vsCliFormatTime(gint64 us)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);

    return dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%SZ") : g_strdup("?");
}

void
vsCliJsonMemberTime(vsJsonWriter *w, const char *key, gint64 us)
{
    g_autofree char *text = vsCliFormatTime(us);
    g_autofree char *key_us = g_strconcat(key, "_us", NULL);

    vsJsonWriterMemberString(w, key, text);
    vsJsonWriterMemberInt(w, key_us, us);
}

void
vsCliPrint(vsCli *cli, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    vprintf(format, ap);
    va_end(ap);
}

void
vsCliInfo(vsCli *cli, const char *format, ...)
{
    va_list ap;

    if (cli->quiet || cli->json)
        return;
    va_start(ap, format);
    vprintf(format, ap);
    va_end(ap);
}

void
vsCliPrintJson(vsCli *cli, vsJsonWriter *w)
{
    fputs(vsJsonWriterGet(w), stdout);
}

static void
vsCliFree(vsCli *cli)
{
    if (!cli)
        return;
    vsStoreFree(cli->store);
    vsHypervisorFree(cli->hv);
    vsStoreTargetClear(&cli->target);
    vsConfigFree(cli->cfg);
    g_free(cli->connect);
    g_free(cli->state_dir);
    g_free(cli);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsCli, vsCliFree)

/* --- tables ---------------------------------------------------------------------- */

struct _vsCliTable {
    GPtrArray *rows;    /* GStrv; row 0 is the header */
};

static GStrv
vsCliTableRowFromVa(const char *first, va_list ap)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    for (const char *cell = first; cell; cell = va_arg(ap, const char *))
        g_strv_builder_add(b, cell);
    return g_strv_builder_end(b);
}

vsCliTable *
vsCliTableNew(const char *first_header, ...)
{
    vsCliTable *t = g_new0(vsCliTable, 1);
    va_list ap;

    t->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    va_start(ap, first_header);
    g_ptr_array_add(t->rows, vsCliTableRowFromVa(first_header, ap));
    va_end(ap);
    return t;
}

void
vsCliTableAddRow(vsCliTable *t, const char *first_cell, ...)
{
    va_list ap;

    va_start(ap, first_cell);
    g_ptr_array_add(t->rows, vsCliTableRowFromVa(first_cell, ap));
    va_end(ap);
}

void
vsCliTablePrint(vsCli *cli, vsCliTable *t)
{
    guint ncols = g_strv_length(g_ptr_array_index(t->rows, 0));
    g_autofree gsize *width = g_new0(gsize, ncols);

    for (guint r = 0; r < t->rows->len; r++) {
        GStrv row = g_ptr_array_index(t->rows, r);

        for (guint c = 0; c < ncols && row[c]; c++)
            width[c] = MAX(width[c], (gsize)g_utf8_strlen(row[c], -1));
    }
    for (guint r = 0; r < t->rows->len; r++) {
        GStrv row = g_ptr_array_index(t->rows, r);
        g_autoptr(GString) line = g_string_new(" ");

        for (guint c = 0; c < ncols && row[c]; c++) {
            g_string_append(line, row[c]);
            if (c + 1 < ncols)
                for (gsize pad = (gsize)g_utf8_strlen(row[c], -1); pad < width[c] + 3; pad++)
                    g_string_append_c(line, ' ');
        }
        vsCliPrint(cli, "%s\n", line->str);
        if (r == 0) {
            gsize total = 1;

            for (guint c = 0; c < ncols; c++)
                total += width[c] + (c + 1 < ncols ? 3 : 0);
            g_autofree char *rule = g_strnfill(total + 1, '-');
            vsCliPrint(cli, "%s\n", rule);
        }
    }
}

void
vsCliTableFree(vsCliTable *t)
{
    if (!t)
        return;
    g_ptr_array_unref(t->rows);
    g_free(t);
}

/* --- main ---------------------------------------------------------------------- */

static int
vsCliReport(const char *command, GError *error)
{
    if (g_error_matches(error, VS_ERROR, VS_ERROR_USAGE)) {
        fprintf(stderr, "virt-shadow: %s\n", error->message);
        fprintf(stderr, "Try 'virt-shadow %s%s--help' for more information.\n",
                command ? command : "", command ? " " : "");
    } else {
        fprintf(stderr, "virt-shadow: error: %s\n", error->message);
    }
    return vsErrorExitCode(error);
}

static void
vsCliApplyVerbosity(vsCli *cli, const vsCliArgs *args)
{
    guint verbose = vsCliArgsCount(args, "verbose");

    cli->json |= vsCliArgsHas(args, "json");
    cli->quiet |= vsCliArgsHas(args, "quiet");
    if (cli->quiet)
        vsLogSetLevel(VS_LOG_ERROR);
    else if (verbose >= 2)
        vsLogSetLevel(VS_LOG_DEBUG);
    else if (verbose == 1)
        vsLogSetLevel(VS_LOG_INFO);
}

static gboolean
vsCliSetup(vsCli *cli, const vsCliArgs *global, GError **error)
{
    const char *config = vsCliArgsGet(global, "config");

    cli->cfg = vsConfigLoad(config ? config : VS_DEFAULT_CONFIG_FILE, config != NULL, error);
    if (!cli->cfg)
        return FALSE;
    cli->connect = g_strdup(vsCliArgsGet(global, "connect"));
    cli->state_dir = g_strdup(vsCliArgsGet(global, "state-dir") ?
                              vsCliArgsGet(global, "state-dir") : cli->cfg->state_dir);
    if (!g_path_is_absolute(cli->state_dir)) {
        g_autofree char *abs = g_canonicalize_filename(cli->state_dir, NULL);

        g_free(cli->state_dir);
        cli->state_dir = g_steal_pointer(&abs);
    }
    cli->target.url = g_strdup(vsConfigResolveDatabase(cli->cfg));
    cli->target.state_dir = g_strdup(cli->state_dir);
    cli->target.pg_user = g_strdup(cli->cfg->embedded_db_user);
    vsCliApplyVerbosity(cli, global);
    return TRUE;
}

static gboolean
vsCliCheckArgCount(const vsCliCommand *cmd, const vsCliArgs *args, GError **error)
{
    guint n = args->positional->len;

    if (n < cmd->min_args) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "command '%s' needs %s",
                    cmd->name, cmd->args ? cmd->args : "arguments");
        return FALSE;
    }
    if (n > cmd->max_args) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "unexpected argument '%s' for '%s'",
                    (char *)g_ptr_array_index(args->positional, cmd->max_args), cmd->name);
        return FALSE;
    }
    return TRUE;
}

static int
vsCliRunCommand(vsCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsCliArgs) args = NULL;
    const vsCliCommand *cmd;
    int words = 0;

    if (!(cmd = vsCliMatchCommand(argc, argv, &words, &error)))
        return vsCliReport(NULL, error);
    if (!(args = vsCliParseArgs(cmd->options, argc - words, argv + words, &error)))
        return vsCliReport(cmd->name, error);
    if (vsCliArgsHas(args, "help")) {
        g_autofree char *help = vsCliCommandHelp(cmd);

        fputs(help, stdout);
        return VS_EXIT_OK;
    }
    if (!vsCliCheckArgCount(cmd, args, &error))
        return vsCliReport(cmd->name, error);
    vsCliApplyVerbosity(cli, args);
    if (!cmd->handler(cli, args, &error))
        return vsCliReport(cmd->name, error);
    return VS_EXIT_OK;
}

int
vsCliMain(int argc, char **argv)
{
    const vsCliOption *tables[] = { vsCliGlobalOptions, vsCliCommonOptions };
    g_autoptr(GError) error = NULL;
    g_autoptr(vsCliArgs) global = NULL;
    g_autoptr(vsCli) cli = g_new0(vsCli, 1);
    int consumed = 0;

    vsLogInit("virt-shadow", FALSE);
    global = vsCliParseTables(tables, G_N_ELEMENTS(tables), argc - 1, argv + 1, TRUE, &consumed, &error);
    if (!global)
        return vsCliReport(NULL, error);
    if (vsCliArgsHas(global, "help") || (consumed == argc - 1 && !vsCliArgsHas(global, "version"))) {
        g_autofree char *help = vsCliMainHelp();

        fputs(help, vsCliArgsHas(global, "help") ? stdout : stderr);
        return vsCliArgsHas(global, "help") ? VS_EXIT_OK : VS_EXIT_USAGE;
    }
    if (vsCliArgsHas(global, "version")) {
        printf("virt-shadow %s\n", PACKAGE_VERSION);
        return VS_EXIT_OK;
    }
    if (!vsCliSetup(cli, global, &error))
        return vsCliReport(NULL, error);
    return vsCliRunCommand(cli, argc - 1 - consumed, argv + 1 + consumed);
}

/* --- signals ---------------------------------------------------------------- */

struct _vsCliSignalWatch {
    GCancellable *cancel;
    const char *reason;         /* atomic */
    sigset_t old;
    pthread_t thread;
};

/* SIGUSR1 ends the thread. */
static sigset_t
vsCliWatchedSignals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    return set;
}

static void *
vsCliSignalWatchMain(void *opaque)
{
    vsCliSignalWatch *w = opaque;
    sigset_t set = vsCliWatchedSignals();
    int sig;

    while (sigwait(&set, &sig) == 0 && sig != SIGUSR1) {
        if (!g_cancellable_is_cancelled(w->cancel)) {
            g_atomic_pointer_set(&w->reason, sig == SIGINT ? "interrupted by SIGINT"
                                                           : "interrupted by SIGTERM");
            g_cancellable_cancel(w->cancel);
        }
    }
    return NULL;
}

vsCliSignalWatch *
vsCliSignalWatchStart(GError **error)
{
    vsCliSignalWatch *w = g_new0(vsCliSignalWatch, 1);
    sigset_t set = vsCliWatchedSignals();
    int rc;

    w->cancel = g_cancellable_new();
    pthread_sigmask(SIG_BLOCK, &set, &w->old);
    if ((rc = pthread_create(&w->thread, NULL, vsCliSignalWatchMain, w)) != 0) {
        pthread_sigmask(SIG_SETMASK, &w->old, NULL);
        g_object_unref(w->cancel);
        g_free(w);
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED, "cannot start the signal thread: %s",
                    g_strerror(rc));
        return NULL;
    }
    return w;
}

const char *const *
vsCliSignalWatchReasonRef(vsCliSignalWatch *w)
{
    return &w->reason;
}

GCancellable *
vsCliSignalWatchCancellable(vsCliSignalWatch *w)
{
    return w->cancel;
}

const char *
vsCliSignalWatchReason(vsCliSignalWatch *w)
{
    return g_atomic_pointer_get(&w->reason);
}

void
vsCliSignalWatchStop(vsCliSignalWatch *w)
{
    if (!w)
        return;
    pthread_kill(w->thread, SIGUSR1);
    pthread_join(w->thread, NULL);
    pthread_sigmask(SIG_SETMASK, &w->old, NULL);
    g_object_unref(w->cancel);
    g_free(w);
}
