/*
 * vscmd-shadow.c: the "shadow" command family (throwaway linked clones)
 *
 * "shadow gc" removes what shadow runs left behind: domains carrying our
 * <shadow-run> mark with their overlays, and overlays named
 * vs-shadow-RUNID-* in the shadow pool whose domain is gone.
 */
#include <config.h>

#include <stdio.h>

#include "vscli.h"
#include "conf/vsmetadata.h"
#include "util/vserror.h"

/* One leftover and what became of it. */
typedef struct {
    char *kind;         /* "domain" or "volume" */
    char *name;         /* domain name, or volume path */
    char *uuid;         /* domains only */
    char *run_id;       /* domains only */
    gboolean active;
    gboolean persistent;
    GStrv overlays;     /* domains only; never NULL */
    char *error;        /* NULL: removed (or, on a dry run, would be);
                         * else its failures, joined by "; " */
} vsGcItem;

static void
vsGcItemFree(vsGcItem *item)
{
    if (!item)
        return;
    g_free(item->kind);
    g_free(item->name);
    g_free(item->uuid);
    g_free(item->run_id);
    g_strfreev(item->overlays);
    g_free(item->error);
    g_free(item);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsGcItem, vsGcItemFree)

typedef struct {
    vsCli *cli;
    vsHypervisor *hv;
    const char *run;        /* --run, or NULL for every run */
    const char *pool;
    gboolean dry_run;
    GPtrArray *items;       /* vsGcItem */
    GHashTable *claimed;    /* overlay paths of the shadow domains found */
} vsGc;

/* Every failure of an item is kept, in its one error line. */
static void
vsGcFail(vsGcItem *item, GError *error)
{
    char *joined = item->error ? g_strconcat(item->error, "; ", error->message, NULL)
                               : g_strdup(error->message);

    g_free(item->error);
    item->error = joined;
}

/* How many leftovers could not be removed. */
static guint
vsGcFailed(vsGc *gc)
{
    guint n = 0;

    for (guint i = 0; i < gc->items->len; i++)
        n += ((vsGcItem *)g_ptr_array_index(gc->items, i))->error != NULL;
    return n;
}

/* Destroy, undefine, then delete the overlays: an overlay is never deleted
 * under a domain that could not be stopped.  The hypervisor's messages
 * name the domain (by name, as the admin knows it) and the volume. */
static void
vsGcRemoveDomain(vsGc *gc, vsGcItem *item)
{
    g_autoptr(GError) error = NULL;

    if (item->active && !vsHypervisorDestroyDomain(gc->hv, item->name, &error) &&
        !g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND)) {
        vsGcFail(item, error);
        return;
    }
    g_clear_error(&error);
    /* a transient domain is gone once destroyed */
    if (item->persistent && !vsHypervisorUndefineDomain(gc->hv, item->name, &error) &&
        !g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND)) {
        vsGcFail(item, error);
        return;
    }
    g_clear_error(&error);
    for (guint i = 0; item->overlays[i]; i++) {
        if (!vsHypervisorDeleteVolume(gc->hv, item->overlays[i], &error)) {
            vsGcFail(item, error);
            g_clear_error(&error);
        }
    }
}

static gboolean
vsGcDomains(vsGc *gc, GError **error)
{
    g_autoptr(GPtrArray) shadows = vsHypervisorListShadowDomains(gc->hv, error);

    if (!shadows)
        return FALSE;
    for (guint i = 0; i < shadows->len; i++) {
        vsShadowDomain *sd = g_ptr_array_index(shadows, i);
        g_autoptr(vsGcItem) item = NULL;

        /* even another run's overlays are never orphans while it has a domain */
        for (guint j = 0; sd->overlays[j]; j++)
            g_hash_table_add(gc->claimed, g_strdup(sd->overlays[j]));
        if (gc->run && !g_str_equal(gc->run, sd->run_id))
            continue;
        item = g_new0(vsGcItem, 1);
        item->kind = g_strdup("domain");
        item->name = g_strdup(sd->name);
        item->uuid = g_strdup(sd->uuid);
        item->run_id = g_strdup(sd->run_id);
        item->active = sd->active;
        item->persistent = sd->persistent;
        item->overlays = g_strdupv(sd->overlays);
        if (!gc->dry_run)
            vsGcRemoveDomain(gc, item);
        g_ptr_array_add(gc->items, g_steal_pointer(&item));
    }
    return TRUE;
}

/* The pool's vs-shadow-* volumes (of --run only, with it). */
static GPtrArray *
vsGcListVolumes(vsGc *gc, GError **error)
{
    g_autofree char *prefix = gc->run ? vsShadowOverlayPrefix(gc->run)
                                      : g_strdup(VS_SHADOW_OVERLAY_PREFIX);
    g_autoptr(GError) local = NULL;
    GPtrArray *paths = vsHypervisorListVolumesByPrefix(gc->hv, gc->pool, prefix, &local);

    if (paths)
        return paths;
    /* a directory that was never made holds no overlay */
    if (g_path_is_absolute(gc->pool) && !g_file_test(gc->pool, G_FILE_TEST_IS_DIR))
        return g_ptr_array_new_with_free_func(g_free);
    g_propagate_prefixed_error(error, g_steal_pointer(&local), "shadow pool '%s': ", gc->pool);
    return NULL;
}

static gboolean
vsGcVolumes(vsGc *gc, GError **error)
{
    g_autoptr(GPtrArray) paths = vsGcListVolumes(gc, error);

    if (!paths)
        return FALSE;
    for (guint i = 0; i < paths->len; i++) {
        const char *path = g_ptr_array_index(paths, i);
        g_autoptr(vsGcItem) item = NULL;
        g_autoptr(GError) local = NULL;
        g_autofree char *user = NULL;

        if (g_hash_table_contains(gc->claimed, path))
            continue;
        item = g_new0(vsGcItem, 1);
        item->kind = g_strdup("volume");
        item->name = g_strdup(path);
        item->overlays = g_new0(char *, 1);
        /* a domain without our mark (one whose metadata was hand-edited)
         * may still be writing to it */
        if (!vsHypervisorDiskInUse(gc->hv, path, &user, &local)) {
            g_prefix_error(&local, "cannot check overlay '%s': ", path);
            vsGcFail(item, local);
        } else if (user) {
            g_set_error(&local, VS_ERROR, VS_ERROR_INVALID,
                        "overlay '%s' is in use by running domain '%s'", path, user);
            vsGcFail(item, local);
        } else if (!gc->dry_run && !vsHypervisorDeleteVolume(gc->hv, path, &local)) {
            vsGcFail(item, local);
        }
        g_ptr_array_add(gc->items, g_steal_pointer(&item));
    }
    return TRUE;
}

static vsGcItem *
vsGcFind(vsGc *gc, const char *kind, const char *name)
{
    for (guint i = 0; i < gc->items->len; i++) {
        vsGcItem *item = g_ptr_array_index(gc->items, i);

        if (g_str_equal(item->kind, kind) && g_str_equal(item->name, name))
            return item;
    }
    return NULL;
}

/* Look again: what was removed must be gone.  A leftover that reappears or
 * survived its removal unnoticed is a failure too. */
static gboolean
vsGcVerify(vsGc *gc, GError **error)
{
    g_autoptr(GPtrArray) shadows = vsHypervisorListShadowDomains(gc->hv, error);
    g_autoptr(GPtrArray) paths = NULL;

    if (!shadows)
        return FALSE;
    for (guint i = 0; i < shadows->len; i++) {
        vsShadowDomain *sd = g_ptr_array_index(shadows, i);
        vsGcItem *item = vsGcFind(gc, "domain", sd->name);

        if (gc->run && !g_str_equal(gc->run, sd->run_id))
            continue;
        if (item && !item->error)
            item->error = g_strdup_printf("domain '%s' is still there after gc", sd->name);
    }
    if (!(paths = vsGcListVolumes(gc, error)))
        return FALSE;
    for (guint i = 0; i < paths->len; i++) {
        const char *path = g_ptr_array_index(paths, i);
        vsGcItem *item = vsGcFind(gc, "volume", path);

        for (guint j = 0; !item && j < gc->items->len; j++) {
            vsGcItem *dom = g_ptr_array_index(gc->items, j);

            if (g_strv_contains((const char *const *)dom->overlays, path))
                item = dom;
        }
        if (item && !item->error)
            item->error = g_strdup_printf("overlay '%s' is still there after gc", path);
    }
    return TRUE;
}

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
    vsJsonWriterMemberInt(w, "failed", vsGcFailed(gc));
    vsJsonWriterEndObject(w);
    vsCliPrintJson(gc->cli, w);
}

static void
vsGcPrintText(vsGc *gc)
{
    if (!gc->items->len) {
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
}

static gboolean
vsCmdShadowGc(vsCli *cli, const vsCliArgs *args, GError **error)
{
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)vsGcItemFree);
    g_autoptr(GHashTable) claimed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *run = vsCliArgsGet(args, "run");
    vsGc gc = { 0 };
    guint failed;

    if (run) {
        g_autofree char *mark = vsMetadataShadowRunXML(run, NULL);

        if (!mark) {
            g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "invalid run id '%s' for --run", run);
            return FALSE;
        }
    }
    gc.cli = cli;
    gc.run = run;
    gc.pool = vsCliGetConfig(cli)->shadow_pool;
    gc.dry_run = vsCliArgsHas(args, "dry-run");
    gc.items = items;
    gc.claimed = claimed;
    if (!(gc.hv = vsCliGetHypervisor(cli, error)))
        return FALSE;
    if (!vsGcDomains(&gc, error) || !vsGcVolumes(&gc, error))
        return FALSE;
    if (!gc.dry_run && !vsGcVerify(&gc, error))
        return FALSE;
    if (vsCliWantJson(cli))
        vsGcPrintJson(&gc);
    else
        vsGcPrintText(&gc);
    vsGcReportFailures(&gc);
    if ((failed = vsGcFailed(&gc))) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                    "%u shadow leftover%s could not be removed", failed, failed == 1 ? "" : "s");
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
      "afterwards.  Exits 1, naming each, when anything could not be removed.",
      vsCmdShadowGcOptions, 0, 0, vsCmdShadowGc },
    { NULL }
};
