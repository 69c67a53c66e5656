/*
 * vscmd-shadow.c: the "shadow" command family (throwaway linked clones)
 *
 * "shadow gc" removes what shadow runs left behind: domains carrying our
 * <shadow-run> mark with their overlays, and overlays named
 * vs-shadow-RUNID-* in the shadow pool whose domain is gone (the work is
 * shadow/vsgc.c's, shared with virt-shadowd).
 */
#include <config.h>

#include <stdio.h>

#include "vscli.h"
#include "conf/vsmetadata.h"
#include "shadow/vsgc.h"
#include "util/vsutil.h"
#include "util/vserror.h"

/* What gc found, for printing. */
typedef struct {
    vsCli *cli;
    const char *pool;
    gboolean dry_run;
    GPtrArray *items;       /* vsGcItem */
    GPtrArray *runs;        /* vsGcRun */
    guint failed;
} vsGc;

static void
vsGcPrintJson(vsGc *gc)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberBool(w, "dry_run", gc->dry_run);
    vsJsonWriterMemberString(w, "pool", gc->pool);
    vsJsonWriterKey(w, "domains");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < gc->items->len; i++) {
        vsGcItem *item = g_ptr_array_index(gc->items, i);

        if (!g_str_equal(item->kind, "domain"))
            continue;
        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "name", item->name);
        vsJsonWriterMemberString(w, "uuid", item->uuid);
        vsJsonWriterMemberString(w, "run_id", item->run_id);
        vsJsonWriterMemberBool(w, "running", item->active);
        vsJsonWriterMemberBool(w, "persistent", item->persistent);
        vsJsonWriterKey(w, "overlays");
        vsJsonWriterBeginArray(w);
        for (guint j = 0; item->overlays[j]; j++)
            vsJsonWriterString(w, item->overlays[j]);
        vsJsonWriterEndArray(w);
        vsJsonWriterMemberBool(w, "removed", !gc->dry_run && !item->error);
        vsJsonWriterMemberString(w, "error", item->error);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "volumes");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < gc->items->len; i++) {
        vsGcItem *item = g_ptr_array_index(gc->items, i);

        if (!g_str_equal(item->kind, "volume"))
            continue;
        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "path", item->name);
        vsJsonWriterMemberBool(w, "removed", !gc->dry_run && !item->error);
        vsJsonWriterMemberString(w, "error", item->error);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "runs");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < gc->runs->len; i++) {
        vsGcRun *run = g_ptr_array_index(gc->runs, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "id", run->id);
        vsJsonWriterMemberString(w, "app", run->app);
        vsJsonWriterMemberString(w, "version", run->version);
        vsCliJsonMemberTime(w, "started", run->started_us);
        vsJsonWriterMemberBool(w, "closed", !gc->dry_run && !run->error);
        vsJsonWriterMemberString(w, "error", run->error);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterMemberInt(w, "failed", gc->failed);
    vsJsonWriterEndObject(w);
    vsCliPrintJson(gc->cli, w);
}

static void
vsGcPrintText(vsGc *gc)
{
    if (!gc->items->len && !gc->runs->len) {
        vsCliInfo(gc->cli, "No shadow leftovers in pool '%s'\n", gc->pool);
        return;
    }
    for (guint i = 0; i < gc->items->len; i++) {
        vsGcItem *item = g_ptr_array_index(gc->items, i);
        gboolean domain = g_str_equal(item->kind, "domain");

        if (item->error)
            continue;
        if (domain)
            vsCliPrint(gc->cli, "%s domain '%s' (run '%s'%s)\n",
                       gc->dry_run ? "Would remove" : "Removed", item->name, item->run_id,
                       item->active ? ", running" : "");
        for (guint j = 0; domain && item->overlays[j]; j++)
            vsCliPrint(gc->cli, "%s overlay '%s'\n",
                       gc->dry_run ? "Would remove" : "Removed", item->overlays[j]);
        if (!domain)
            vsCliPrint(gc->cli, "%s orphaned overlay '%s'\n",
                       gc->dry_run ? "Would remove" : "Removed", item->name);
    }
    for (guint i = 0; i < gc->runs->len; i++) {
        vsGcRun *run = g_ptr_array_index(gc->runs, i);

        if (!run->error)
            vsCliPrint(gc->cli, "%s shadow run '%s' (%s %s) as killed: its domain is gone\n",
                       gc->dry_run ? "Would close" : "Closed", run->id, run->app, run->version);
    }
}

/* Each failure is named once, on stderr, whatever the output format. */
static void
vsGcReportFailures(vsGc *gc)
{
    for (guint i = 0; i < gc->items->len; i++) {
        vsGcItem *item = g_ptr_array_index(gc->items, i);

        if (item->error)
            fprintf(stderr, "virt-shadow: error: %s\n", item->error);
    }
    for (guint i = 0; i < gc->runs->len; i++) {
        vsGcRun *run = g_ptr_array_index(gc->runs, i);

        if (run->error)
            fprintf(stderr, "virt-shadow: error: %s\n", run->error);
    }
}

/* The store, when there is one to reach: without it the hypervisor's
 * leftovers still go, and only the runs it records stay open. */
static vsStore *
vsGcStore(vsCli *cli)
{
    g_autoptr(GError) error = NULL;
    vsStore *store = vsCliGetStore(cli, FALSE, &error);

    if (store && vsStoreCheckSchema(store, &error))
        return store;
    if (!vsCliIsQuiet(cli))
        fprintf(stderr, "virt-shadow: warning: shadow runs left open in the database are not "
                "closed: %s\n", error->message);
    return NULL;
}

static gboolean
vsCmdShadowGc(vsCli *cli, const vsCliArgs *args, GError **error)
{
    g_autoptr(vsGcResult) res = NULL;
    g_autofree char *host = vsHostName();
    vsGcOptions opts = { 0 };
    vsHypervisor *hv;
    vsGc gc = { 0 };

    opts.run = vsCliArgsGet(args, "run");
    if (opts.run) {
        g_autofree char *mark = vsMetadataShadowRunXML(opts.run, NULL);

        if (!mark) {
            g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "invalid run id '%s' for --run",
                        opts.run);
            return FALSE;
        }
    }
    opts.pool = vsCliGetConfig(cli)->shadow_pool;
    opts.dry_run = vsCliArgsHas(args, "dry-run");
    opts.host = host;
    if (!(hv = vsCliGetHypervisor(cli, error)) ||
        !vsGcCollect(hv, vsGcStore(cli), &opts, &res, error))
        return FALSE;
    gc.cli = cli;
    gc.pool = opts.pool;
    gc.dry_run = opts.dry_run;
    gc.items = res->items;
    gc.runs = res->runs;
    gc.failed = vsGcResultFailed(res);
    if (vsCliWantJson(cli))
        vsGcPrintJson(&gc);
    else
        vsGcPrintText(&gc);
    vsGcReportFailures(&gc);
    if (gc.failed) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED, "%u shadow leftover%s could not be removed",
                    gc.failed, gc.failed == 1 ? "" : "s");
        return FALSE;
    }
    return TRUE;
}

static const vsCliOption vsCmdShadowGcOptions[] = {
    { "dry-run", 'n', VS_OPT_FLAG, NULL, "list what would be removed, and remove nothing" },
    { "run", 0, VS_OPT_STRING, "ID", "only the leftovers of shadow run ID" },
    { NULL }
};

const vsCliCommand vsCmdShadow[] = {
    { "shadow gc", NULL, "remove what shadow runs left behind",
      "Finds every domain carrying virt-shadow's <shadow-run> mark, destroys it\n"
      "if it runs, undefines it if it is defined, and deletes its overlays;\n"
      "then deletes the overlays named vs-shadow-RUNID-* in the shadow pool\n"
      "([shadow] pool in virt-shadow.conf) whose domain is gone.  Looks again\n"
      "afterwards.  When the database is reachable, closes as killed the runs\n"
      "it still has running on this host whose domain is gone.  Exits 1,\n"
      "naming each, when anything could not be removed or closed.",
      vsCmdShadowGcOptions, 0, 0, vsCmdShadowGc },
    { NULL }
};
