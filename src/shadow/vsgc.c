/*
 * vsgc.c: remove what shadow runs left behind
 *
 * Shared by "shadow gc" (which prints the result) and virt-shadowd (which
 * logs it) at start.
 */
#include <config.h>

#include "vsgc.h"
#include "conf/vsmetadata.h"
#include "shadow/vsrunlock.h"
#include "util/vserror.h"

void
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

void
vsGcRunFree(vsGcRun *run)
{
    if (!run)
        return;
    g_free(run->id);
    g_free(run->app);
    g_free(run->version);
    g_free(run->error);
    g_free(run);
}

void
vsGcResultFree(vsGcResult *res)
{
    if (!res)
        return;
    g_clear_pointer(&res->items, g_ptr_array_unref);
    g_clear_pointer(&res->runs, g_ptr_array_unref);
    g_free(res);
}

typedef struct {
    vsHypervisor *hv;
    const char *run;        /* --run, or NULL for every run */
    const char *pool;
    gboolean dry_run;
    const char *lock_dir;
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

guint
vsGcResultFailed(const vsGcResult *res)
{
    guint n = 0;

    for (guint i = 0; i < res->items->len; i++)
        n += ((vsGcItem *)g_ptr_array_index(res->items, i))->error != NULL;
    for (guint i = 0; i < res->runs->len; i++)
        n += ((vsGcRun *)g_ptr_array_index(res->runs, i))->error != NULL;
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
        /* checked after the domain was seen: its run locked before making it */
        item->in_progress = vsRunLockHeld(gc->lock_dir, sd->run_id);
        if (!gc->dry_run && !item->in_progress)
            vsGcRemoveDomain(gc, item);
        g_ptr_array_add(gc->items, g_steal_pointer(&item));
    }
    return TRUE;
}

/* The run of @ids (NULL if none) whose overlay @path is. */
static const char *
vsGcVolumeRun(GPtrArray *ids, const char *path)
{
    g_autofree char *base = g_path_get_basename(path);

    for (guint i = 0; i < ids->len; i++) {
        g_autofree char *prefix = vsShadowOverlayPrefix(g_ptr_array_index(ids, i));

        if (g_str_has_prefix(base, prefix))
            return g_ptr_array_index(ids, i);
    }
    return NULL;
}

/* Whether @path is the overlay of a run in progress: the locks are listed
 * after the volumes, and a run locks before it makes its overlay. */
static gboolean
vsGcVolumeInProgress(vsGc *gc, const char *path)
{
    g_autoptr(GPtrArray) held = vsRunLockList(gc->lock_dir, TRUE);

    return vsGcVolumeRun(held, path) != NULL;
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
        if ((item->in_progress = vsGcVolumeInProgress(gc, path))) {
            g_ptr_array_add(gc->items, g_steal_pointer(&item));
            continue;
        }
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
        if (item && !item->error && !item->in_progress)
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
        if (item && !item->error && !item->in_progress)
            item->error = g_strdup_printf("overlay '%s' is still there after gc", path);
    }
    return TRUE;
}

/* A run whose domain gc found and could not remove is still alive, as far
 * as anyone can tell; so is one in progress, and one outside --run.  The others have no domain
 * left (or, on a dry run, would have none). */
static GHashTable *
vsGcRemainingRuns(vsGc *gc)
{
    GHashTable *alive = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < gc->items->len; i++) {
        vsGcItem *item = g_ptr_array_index(gc->items, i);

        if (g_str_equal(item->kind, "domain") && (item->error || item->in_progress))
            g_hash_table_add(alive, item->run_id);
    }
    return alive;
}

/* Close the runs still 'running' on this host whose domain is gone: the
 * process that ran them was killed before it could. */
static gboolean
vsGcCloseRuns(vsGc *gc, vsStore *store, const char *host, GPtrArray *out, GError **error)
{
    g_autoptr(GPtrArray) running = NULL;
    g_autoptr(GHashTable) alive = NULL;
    g_autoptr(GPtrArray) shadows = NULL;

    if (!vsStoreListRunningShadowRuns(store, host, &running, error))
        return FALSE;
    alive = vsGcRemainingRuns(gc);
    /* domains gc was not asked to remove (another run's, with --run) */
    if (gc->run && !(shadows = vsHypervisorListShadowDomains(gc->hv, error)))
        return FALSE;
    for (guint i = 0; shadows && i < shadows->len; i++)
        g_hash_table_add(alive, ((vsShadowDomain *)g_ptr_array_index(shadows, i))->run_id);
    for (guint i = 0; i < running->len; i++) {
        const vsShadowRunRecord *rec = g_ptr_array_index(running, i);
        g_autoptr(vsGcRun) run = NULL;
        g_autoptr(GError) local = NULL;

        if ((gc->run && !g_str_equal(gc->run, rec->id)) || g_hash_table_contains(alive, rec->id))
            continue;
        run = g_new0(vsGcRun, 1);
        run->id = g_strdup(rec->id);
        run->app = g_strdup(rec->app);
        run->version = g_strdup(rec->version);
        run->started_us = rec->started_us;
        /* checked after the row was listed: its run locked before adding it */
        if ((run->in_progress = vsRunLockHeld(gc->lock_dir, rec->id))) {
            g_ptr_array_add(out, g_steal_pointer(&run));
            continue;
        }
        if (!gc->dry_run &&
            !vsStoreFinishShadowRun(store, rec->id, VS_SHADOW_KILLED, g_get_real_time(), FALSE, 0,
                                    "its process was gone: closed by gc", &local))
            run->error = g_strdup_printf("cannot close shadow run '%s': %s", rec->id,
                                         local->message);
        g_ptr_array_add(out, g_steal_pointer(&run));
    }
    return TRUE;
}

/* The lock files of the runs gc cleaned (a run whose leftovers were all
 * removed, or whose row was closed); each only if its lock is free. */
static void
vsGcRemoveStaleLocks(vsGc *gc, GPtrArray *runs)
{
    g_autoptr(GHashTable) keep = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) cleaned = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) ids = NULL;
    GHashTableIter iter;
    gpointer id;

    if (!gc->lock_dir)
        return;
    ids = vsRunLockList(gc->lock_dir, FALSE);
    for (guint i = 0; i < gc->items->len; i++) {
        vsGcItem *item = g_ptr_array_index(gc->items, i);
        const char *run = item->run_id ? item->run_id : vsGcVolumeRun(ids, item->name);

        if (run)
            g_hash_table_add(item->error || item->in_progress ? keep : cleaned, (gpointer)run);
    }
    for (guint i = 0; i < runs->len; i++) {
        vsGcRun *run = g_ptr_array_index(runs, i);

        g_hash_table_add(run->error || run->in_progress ? keep : cleaned, run->id);
    }
    g_hash_table_iter_init(&iter, cleaned);
    while (g_hash_table_iter_next(&iter, &id, NULL)) {
        if (!g_hash_table_contains(keep, id))
            vsRunLockRemoveStale(gc->lock_dir, id);
    }
}

gboolean
vsGcCollect(vsHypervisor *hv, vsStore *store, const vsGcOptions *opts, vsGcResult **ret_result,
            GError **error)
{
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)vsGcItemFree);
    g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func((GDestroyNotify)vsGcRunFree);
    g_autoptr(GHashTable) claimed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    vsGc gc = {
        .hv = hv, .run = opts->run, .pool = opts->pool, .dry_run = opts->dry_run,
        .lock_dir = opts->lock_dir, .items = items, .claimed = claimed,
    };
    vsGcResult *res;

    if (!vsGcDomains(&gc, error) || !vsGcVolumes(&gc, error))
        return FALSE;
    if (!gc.dry_run && !vsGcVerify(&gc, error))
        return FALSE;
    if (store && !vsGcCloseRuns(&gc, store, opts->host, runs, error))
        return FALSE;
    if (!gc.dry_run)
        vsGcRemoveStaleLocks(&gc, runs);
    res = g_new0(vsGcResult, 1);
    res->items = g_steal_pointer(&items);
    res->runs = g_steal_pointer(&runs);
    *ret_result = res;
    return TRUE;
}
