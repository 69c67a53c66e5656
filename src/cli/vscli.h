/*
 * vscli.h: the virt-shadow command table and its runtime
 *
 * Like virsh and tmux, every command is a table entry (name, options, help,
 * handler).  Command families live one to a file (vscmd-*.c), each exporting
 * a table; vscli.c parses the command line, prints help and usage errors,
 * and hands the handler lazily opened connections.
 */
#pragma once

#include <gio/gio.h>

#include "hypervisor/vshypervisor.h"
#include "store/vsstore.h"
#include "util/vsconfig.h"
#include "util/vsjson.h"

G_BEGIN_DECLS

typedef enum {
    VS_OPT_FLAG,        /* --name */
    VS_OPT_STRING,      /* --name VALUE or --name=VALUE */
} vsCliOptionType;

typedef struct _vsCliOption vsCliOption;
struct _vsCliOption {
    const char *name;       /* long name without dashes; NULL ends a table */
    char short_name;        /* 0 for none */
    vsCliOptionType type;
    const char *metavar;    /* for VS_OPT_STRING: "URI", "DURATION" */
    const char *help;
};

/* The parsed command line of one command. */
typedef struct _vsCliArgs vsCliArgs;
struct _vsCliArgs {
    GHashTable *values;     /* option name -> value ("" for flags) */
    GPtrArray *positional;  /* char * */
};

void vsCliArgsFree(vsCliArgs *args);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsCliArgs, vsCliArgsFree)

gboolean vsCliArgsHas(const vsCliArgs *args, const char *name);
const char *vsCliArgsGet(const vsCliArgs *args, const char *name);
const char *vsCliArgsPositional(const vsCliArgs *args, guint index);

/* The session of one virt-shadow run: global options and lazily opened
 * services. */
typedef struct _vsCli vsCli;

typedef gboolean (*vsCliHandler)(vsCli *cli, const vsCliArgs *args, GError **error);

typedef struct _vsCliCommand vsCliCommand;
struct _vsCliCommand {
    const char *name;           /* "doctor", "db migrate"; NULL ends a table */
    const char *args;           /* positional synopsis: "DOMAIN", "[DOMAIN]" */
    const char *summary;        /* one line, lower case, no period */
    const char *description;    /* paragraph(s) for --help */
    const vsCliOption *options; /* command options; may be NULL */
    guint min_args;
    guint max_args;             /* G_MAXUINT: unlimited */
    vsCliHandler handler;
};

/* Command families (one file each). */
extern const vsCliCommand vsCmdAlloc[];
extern const vsCliCommand vsCmdDb[];
extern const vsCliCommand vsCmdDeploy[];
extern const vsCliCommand vsCmdDoctor[];
extern const vsCliCommand vsCmdDomain[];
extern const vsCliCommand vsCmdForecast[];
extern const vsCliCommand vsCmdGuest[];
extern const vsCliCommand vsCmdInsight[];
extern const vsCliCommand vsCmdPolicy[];
extern const vsCliCommand vsCmdProfile[];
extern const vsCliCommand vsCmdShadow[];
extern const vsCliCommand vsCmdShadowSchedule[];
extern const vsCliCommand vsCmdTelemetry[];

/* Parse @argv against @options.  Options and positionals may mix; "--"
 * ends options.  Errors (VS_ERROR_USAGE) name the offending option. */
vsCliArgs *vsCliParseArgs(const vsCliOption *options, int argc, char **argv,
                          GError **error);

/* Run virt-shadow with @argv; returns the process exit code. */
int vsCliMain(int argc, char **argv);

/* Accessors for handlers. */
const vsConfig *vsCliGetConfig(vsCli *cli);
gboolean vsCliWantJson(vsCli *cli);
gboolean vsCliIsQuiet(vsCli *cli);
const char *vsCliGetStateDir(vsCli *cli);
/* The libvirt URI in force, or NULL for libvirt's default. */
const char *vsCliGetURI(vsCli *cli);
/* Open (once) and return the hypervisor connection. */
vsHypervisor *vsCliGetHypervisor(vsCli *cli, GError **error);
/* Where the database is, from config and environment. */
const vsStoreTarget *vsCliGetStoreTarget(vsCli *cli);
/* Open (once) the store; @autostart starts the embedded cluster. */
vsStore *vsCliGetStore(vsCli *cli, gboolean autostart, GError **error);

/* The store, opened (autostarted) once and its schema checked: what a
 * command that reads or writes rows needs. */
vsStore *vsCliGetCheckedStore(vsCli *cli, GError **error);
/* --limit as a positive number, @fallback when absent; a bad one is a
 * usage error naming it. */
gboolean vsCliGetLimit(const vsCliArgs *args, guint fallback, guint *ret_limit, GError **error);

/* "shadow run"'s --timeout (@ret_timeout_s; 0 when absent), --network
 * (@ret_network; NULL for none or absent) and --stage (@ret_stage_dir;
 * NULL when absent), as "shadow run" and "shadow schedule add" check
 * them: a bad timeout or network is a usage error, a stage that is not a
 * directory VS_ERROR_NOT_FOUND naming it.  vscmd-shadow.c. */
gboolean vsCliShadowRunOptions(const vsCliArgs *args, guint *ret_timeout_s,
                               const char **ret_network, const char **ret_stage_dir,
                               GError **error);

/* "2024-03-10 14:05:00Z" (UTC, to the second) for Unix microseconds @us. */
char *vsCliFormatTime(gint64 us);
/* Members @key (as vsCliFormatTime writes it) and @key "_us" (the number). */
void vsCliJsonMemberTime(vsJsonWriter *w, const char *key, gint64 us);

/* SIGINT and SIGTERM cancel a GCancellable, so that a long command still
 * cleans up: a thread of its own takes them while they are blocked in
 * every other thread.  Start it before anything starts threads (the
 * hypervisor connection does), so theirs inherit the mask; Stop (accepts
 * NULL) ends the thread and restores the mask.  A second signal changes
 * nothing: cleanup is under way. */
typedef struct _vsCliSignalWatch vsCliSignalWatch;
vsCliSignalWatch *vsCliSignalWatchStart(GError **error);
GCancellable *vsCliSignalWatchCancellable(vsCliSignalWatch *w);
/* "interrupted by SIGINT" or "... SIGTERM"; NULL while none came. */
const char *vsCliSignalWatchReason(vsCliSignalWatch *w);
/* Where the reason is kept, set before cancelling: for
 * vsShadowRunOptions.cancel_reason. */
const char *const *vsCliSignalWatchReasonRef(vsCliSignalWatch *w);
void vsCliSignalWatchStop(vsCliSignalWatch *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsCliSignalWatch, vsCliSignalWatchStop)

/* Output: results go to stdout; -q silences vsCliInfo only. */
void vsCliPrint(vsCli *cli, const char *format, ...) G_GNUC_PRINTF(2, 3);
void vsCliInfo(vsCli *cli, const char *format, ...) G_GNUC_PRINTF(2, 3);
void vsCliPrintJson(vsCli *cli, vsJsonWriter *w);

/* Aligned text tables, like virsh list. */
typedef struct _vsCliTable vsCliTable;
vsCliTable *vsCliTableNew(const char *first_header, ...) G_GNUC_NULL_TERMINATED;
void vsCliTableAddRow(vsCliTable *t, const char *first_cell, ...) G_GNUC_NULL_TERMINATED;
void vsCliTablePrint(vsCli *cli, vsCliTable *t);
void vsCliTableFree(vsCliTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsCliTable, vsCliTableFree)

G_END_DECLS
