/*
 * vsshadowworker.c: the daemon's scheduled shadow runs
 *
 * The worker thread owns its store and hypervisor connections and the
 * list of jobs running here; each job's thread owns its own connections
 * (a store is one thread's) and touches only its vsShadowJob until it
 * hands it back to the worker thread.
 */
#include <config.h>

#include <string.h>

#include "vsshadowworker.h"
#include "shadow/vsgc.h"
#include "shadow/vsrunlock.h"
#include "shadow/vsschedule.h"
#include "util/vserror.h"

#define VS_SHADOW_RETRY_MIN_MS 1000
#define VS_SHADOW_RETRY_MAX_MS 60000

typedef struct {
    char *host;
    char *uri;
    char *pool;
    guint max_concurrent;
    guint interval_ms;
    guint lease_s;
    guint max_attempts;
} vsShadowSettings;

struct _vsShadowWorker {
    GThread *thread;
    GMainContext *ctx;
    GMainLoop *loop;
    gint running;               /* atomic: jobs running here */

    /* worker thread only */
    vsStoreTarget target;
    vsShadowSettings set;
    vsStore *store;
    vsHypervisor *hv;           /* for gc at start */
    gboolean gc_done;
    gboolean stopping;
    GPtrArray *jobs;            /* vsShadowJob */
    GSource *tick;
    GSource *renew;
    guint retry_ms;
    gint64 retry_at_us;
};

/* One leased job, running in its own thread. */
typedef struct {
    vsShadowWorker *w;
    vsShadowJobRecord *job;
    GThread *thread;
    GCancellable *cancel;
    vsStoreTarget target;
    vsShadowSettings set;       /* a copy: the worker's may change meanwhile */
    gint finished;              /* atomic: the job is closed (or given up) */
    gboolean lost;              /* worker thread: its lease was taken over */
} vsShadowJob;

static void
vsShadowSettingsClear(vsShadowSettings *set)
{
    g_clear_pointer(&set->host, g_free);
    g_clear_pointer(&set->uri, g_free);
    g_clear_pointer(&set->pool, g_free);
}

static void
vsShadowSettingsCopy(vsShadowSettings *dst, const vsShadowSettings *src)
{
    vsShadowSettingsClear(dst);
    dst->host = g_strdup(src->host);
    dst->uri = g_strdup(src->uri);
    dst->pool = g_strdup(src->pool);
    dst->max_concurrent = src->max_concurrent;
    dst->interval_ms = src->interval_ms;
    dst->lease_s = src->lease_s;
    dst->max_attempts = src->max_attempts;
}

static void
vsShadowSettingsFromConfig(vsShadowSettings *set, const vsShadowWorkerConfig *cfg)
{
    vsShadowSettings from = {
        .host = (char *)cfg->host, .uri = (char *)cfg->uri, .pool = (char *)cfg->pool,
        .max_concurrent = cfg->max_concurrent,
        .interval_ms = cfg->interval_ms ? cfg->interval_ms : VS_SHADOW_WORKER_INTERVAL_MS,
        .lease_s = cfg->lease_s ? cfg->lease_s : VS_SHADOW_WORKER_LEASE_S,
        .max_attempts = cfg->max_attempts ? cfg->max_attempts : VS_SHADOW_WORKER_MAX_ATTEMPTS,
    };

    vsShadowSettingsCopy(set, &from);
}

static void
vsShadowJobFree(vsShadowJob *job)
{
    if (!job)
        return;
    vsShadowJobRecordFree(job->job);
    g_clear_object(&job->cancel);
    vsStoreTargetClear(&job->target);
    vsShadowSettingsClear(&job->set);
    g_free(job);
}

/* --- enqueueing (any thread, its own store) ------------------------------------ */

gboolean
vsShadowWorkerEnqueueDue(vsStore *store, gint64 now_us, guint *ret_enqueued, GError **error)
{
    g_autoptr(GPtrArray) due = NULL;
    guint made = 0;

    if (!vsStoreListShadowSchedules(store, now_us, &due, error))
        return FALSE;
    for (guint i = 0; i < due->len; i++) {
        const vsShadowScheduleRecord *s = g_ptr_array_index(due, i);
        g_autoptr(GError) local = NULL;
        g_autoptr(vsSchedule) every = vsScheduleParse(s->every, &local);
        gboolean enqueued = FALSE;
        gint64 next;

        if (!every) {
            g_warning("shadow schedule %" G_GINT64_FORMAT " is skipped: %s", s->id,
                      local->message);
            continue;
        }
        next = vsScheduleNext(every, MAX(s->next_us, now_us));
        if (next < 0) {
            g_warning("shadow schedule %" G_GINT64_FORMAT " is never due again", s->id);
            continue;
        }
        if (!vsStoreEnqueueShadowJob(store, s->id, s->next_us, next, &enqueued, error))
            return FALSE;
        made += enqueued;
    }
    *ret_enqueued = made;
    return TRUE;
}

/* --- a job's thread ----------------------------------------------------------- */

static char *
vsShadowSha256(const char *text)
{
    return g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
}

/* Run the job; FALSE with @error when the run could not even start. */
static gboolean
vsShadowJobRun(vsShadowJob *job, vsStore *store, vsShadowRunResult **ret_result,
               GError **error)
{
    const vsShadowJobRecord *rec = job->job;
    g_autofree char *name = g_strdup_printf("schedule-%" G_GINT64_FORMAT, rec->schedule_id);
    g_autoptr(vsScript) script = vsScriptParse(rec->script, strlen(rec->script), name, error);
    g_autofree char *sha = vsShadowSha256(rec->script);
    g_autoptr(vsHypervisor) hv = NULL;
    g_autofree char *lock_dir = job->target.state_dir ? vsRunLockDir(job->target.state_dir) : NULL;
    vsShadowRunOptions opts = { 0 };

    if (!script)
        return FALSE;
    if (!vsLimitsParse(rec->limits, &opts.limits, error))
        return FALSE;
    /* staged from this host, maybe long after the schedule was added */
    if (rec->stage_dir && !g_file_test(rec->stage_dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                    "stage directory '%s' is not there (any more) on this host", rec->stage_dir);
        return FALSE;
    }
    if (!(hv = vsHypervisorOpen(job->set.uri, NULL, error)))
        return FALSE;
    opts.app = rec->app;
    opts.version = rec->version;
    opts.base = rec->base;
    opts.script = script;
    opts.script_text = rec->script;
    opts.script_sha256 = sha;
    opts.stage_dir = rec->stage_dir;
    opts.network = rec->network;
    opts.timeout_s = rec->timeout_s;
    opts.pool = job->set.pool;
    opts.host = job->set.host;
    opts.lock_dir = lock_dir;
    return vsShadowRun(hv, store, &opts, NULL, job->cancel, ret_result, error);
}

static gboolean vsShadowOnJobDone(gpointer opaque);

/* Call @fn on the worker thread.  Not g_main_context_invoke(): while the
 * worker's loop is not running (before it starts, while it stops) that
 * would call it right here, on the wrong thread. */
static void
vsShadowInvoke(GMainContext *ctx, GSourceFunc fn, gpointer data, GDestroyNotify notify)
{
    GSource *src = g_idle_source_new();

    g_source_set_callback(src, fn, data, notify);
    g_source_attach(src, ctx);
    g_source_unref(src);
}

static gpointer
vsShadowJobThread(gpointer opaque)
{
    vsShadowJob *job = opaque;
    const vsShadowJobRecord *rec = job->job;
    g_autoptr(vsShadowRunResult) result = NULL;
    g_autoptr(vsStore) store = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *reason = NULL;
    gboolean succeeded = FALSE;

    if ((store = vsStoreOpen(&job->target, FALSE, &error)) &&
        vsShadowJobRun(job, store, &result, &error)) {
        succeeded = result->state == VS_SHADOW_SUCCEEDED;
        reason = g_strdup(result->error);
        g_info("shadow job %" G_GINT64_FORMAT " (%s %s): run '%s' %s%s%s", rec->id, rec->app,
               rec->version, result->run_id, vsShadowStateToString(result->state),
               result->error ? ": " : "", result->error ? result->error : "");
    } else {
        g_warning("shadow job %" G_GINT64_FORMAT " (%s %s) failed to start: %s", rec->id,
                  rec->app, rec->version, error->message);
        reason = g_strdup_printf("failed to start: %s", error->message);
        g_clear_error(&error);
    }
    /* the run went as far as it could: a job lost meanwhile is another
     * controller's now, and not this one's to close */
    if (store && !vsStoreFinishShadowJob(store, rec->id, job->set.host, succeeded,
                                         result ? result->run_id : NULL, reason, &error))
        g_warning("cannot close shadow job %" G_GINT64_FORMAT ": %s", rec->id, error->message);
    g_atomic_int_set(&job->finished, 1);
    vsShadowInvoke(job->w->ctx, vsShadowOnJobDone, job, NULL);
    return NULL;
}

/* --- worker thread ------------------------------------------------------------ */

static void vsShadowTick(vsShadowWorker *w);

static void
vsShadowLost(vsShadowWorker *w, const GError *error)
{
    g_warning("shadow worker: database lost: %s", error->message);
    g_clear_pointer(&w->store, vsStoreFree);
}

/* Join and forget @job (the worker thread's, at most once). */
static void
vsShadowReap(vsShadowWorker *w, vsShadowJob *job)
{
    if (job->thread)
        g_thread_join(g_steal_pointer(&job->thread));
    if (g_ptr_array_remove(w->jobs, job))
        g_atomic_int_add(&w->running, -1);
}

static gboolean
vsShadowOnJobDone(gpointer opaque)
{
    vsShadowJob *job = opaque;
    vsShadowWorker *w = job->w;

    if (!g_ptr_array_find(w->jobs, job, NULL))
        return G_SOURCE_REMOVE;
    vsShadowReap(w, job);
    /* a free slot: lease the next job now rather than at the next tick */
    if (!w->stopping)
        vsShadowTick(w);
    return G_SOURCE_REMOVE;
}

/* Both connections, or FALSE (logged) and a later retry with backoff. */
static gboolean
vsShadowConnect(vsShadowWorker *w)
{
    g_autoptr(GError) error = NULL;

    if (w->store && (w->gc_done || (w->hv && vsHypervisorIsAlive(w->hv))))
        return TRUE;
    if (g_get_real_time() < w->retry_at_us)
        return FALSE;
    if (w->hv && !vsHypervisorIsAlive(w->hv))
        g_clear_pointer(&w->hv, vsHypervisorFree);
    if ((w->gc_done || w->hv || (w->hv = vsHypervisorOpen(w->set.uri, NULL, &error))) &&
        (w->store || (w->store = vsStoreOpen(&w->target, FALSE, &error)))) {
        w->retry_ms = 0;
        return TRUE;
    }
    w->retry_ms = CLAMP(w->retry_ms * 2, VS_SHADOW_RETRY_MIN_MS, VS_SHADOW_RETRY_MAX_MS);
    w->retry_at_us = g_get_real_time() + (gint64)w->retry_ms * 1000;
    g_warning("shadow worker: no scheduled shadow runs until it can reach libvirt and the "
              "database (next try in %u s): %s", w->retry_ms / 1000, error->message);
    return FALSE;
}

/* What killed shadow runs left behind goes first, once. */
static void
vsShadowGc(vsShadowWorker *w)
{
    g_autoptr(vsGcResult) res = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *lock_dir = w->target.state_dir ? vsRunLockDir(w->target.state_dir) : NULL;
    vsGcOptions opts = { .pool = w->set.pool, .host = w->set.host, .lock_dir = lock_dir };

    if (!vsGcCollect(w->hv, w->store, &opts, &res, &error)) {
        g_warning("shadow gc: %s", error->message);
        /* a lost connection is tried again; anything else (a pool that
         * is not there) would stop every schedule if it were */
        if (g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT)) {
            g_clear_pointer(&w->hv, vsHypervisorFree);
            vsShadowLost(w, error);
            return;
        }
        w->gc_done = TRUE;
        g_clear_pointer(&w->hv, vsHypervisorFree);
        return;
    }
    for (guint i = 0; i < res->items->len; i++) {
        const vsGcItem *item = g_ptr_array_index(res->items, i);

        if (item->error)
            g_warning("shadow gc: %s", item->error);
        else if (item->in_progress)
            g_info("shadow gc: left %s '%s': its run is in progress", item->kind, item->name);
        else
            g_info("shadow gc: removed %s '%s'", item->kind, item->name);
    }
    for (guint i = 0; i < res->runs->len; i++) {
        const vsGcRun *run = g_ptr_array_index(res->runs, i);

        if (run->error)
            g_warning("shadow gc: %s", run->error);
        else if (run->in_progress)
            g_info("shadow gc: left shadow run '%s' open: it is in progress", run->id);
        else
            g_info("shadow gc: closed shadow run '%s' as killed: its domain is gone", run->id);
    }
    w->gc_done = TRUE;
    g_clear_pointer(&w->hv, vsHypervisorFree);
}

static void
vsShadowStartJob(vsShadowWorker *w, vsShadowJobRecord *rec)
{
    vsShadowJob *job = g_new0(vsShadowJob, 1);
    g_autofree char *name = g_strdup_printf("vs-shadow-%" G_GINT64_FORMAT, rec->id);

    job->w = w;
    job->job = rec;
    job->cancel = g_cancellable_new();
    vsStoreTargetCopy(&job->target, &w->target);
    vsShadowSettingsCopy(&job->set, &w->set);
    g_info("shadow job %" G_GINT64_FORMAT " leased: %s %s from '%s' (schedule %" G_GINT64_FORMAT
           ", attempt %u)", rec->id, rec->app, rec->version, rec->base, rec->schedule_id,
           rec->attempts);
    g_ptr_array_add(w->jobs, job);
    g_atomic_int_add(&w->running, 1);
    job->thread = g_thread_new(name, vsShadowJobThread, job);
}

/* Jobs whose lease ran out at their last attempt are not retried again:
 * closed as failed, named in the log.  FALSE: the database is lost. */
static gboolean
vsShadowFailExhausted(vsShadowWorker *w)
{
    g_autoptr(GArray) ids = NULL;
    g_autoptr(GError) error = NULL;

    if (!vsStoreFailExhaustedShadowJobs(w->store, w->set.max_attempts, &ids, &error)) {
        g_warning("shadow worker: cannot close exhausted jobs: %s", error->message);
        if (g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT)) {
            vsShadowLost(w, error);
            return FALSE;
        }
        return TRUE;
    }
    for (guint i = 0; i < ids->len; i++)
        g_warning("shadow job %" G_GINT64_FORMAT " failed: its lease ran out %u times, it is "
                  "not retried", g_array_index(ids, gint64, i), w->set.max_attempts);
    return TRUE;
}

static void
vsShadowTick(vsShadowWorker *w)
{
    g_autoptr(GError) error = NULL;
    guint enqueued = 0;

    if (!vsShadowConnect(w))
        return;
    if (!w->gc_done) {
        vsShadowGc(w);
        if (!w->store)
            return;
    }
    if (!vsShadowWorkerEnqueueDue(w->store, g_get_real_time(), &enqueued, &error)) {
        g_warning("shadow worker: cannot queue due schedules: %s", error->message);
        if (g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT))
            vsShadowLost(w, error);
        return;
    }
    if (enqueued)
        g_info("queued %u scheduled shadow run%s", enqueued, enqueued == 1 ? "" : "s");
    if (!vsShadowFailExhausted(w))
        return;
    while (w->jobs->len < w->set.max_concurrent) {
        vsShadowJobRecord *rec = NULL;

        if (!vsStoreLeaseShadowJob(w->store, w->set.host, w->set.lease_s, w->set.max_attempts,
                                   &rec, &error)) {
            g_warning("shadow worker: cannot lease a job: %s", error->message);
            if (g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT))
                vsShadowLost(w, error);
            return;
        }
        if (!rec)
            return;
        vsShadowStartJob(w, rec);
    }
}

static gboolean
vsShadowOnTick(gpointer opaque)
{
    vsShadowTick(opaque);
    return G_SOURCE_CONTINUE;
}

/* Keep the leases of the jobs running here; one lost is another
 * controller's now: this run stops. */
static gboolean
vsShadowOnRenew(gpointer opaque)
{
    vsShadowWorker *w = opaque;

    for (guint i = 0; w->store && i < w->jobs->len; i++) {
        vsShadowJob *job = g_ptr_array_index(w->jobs, i);
        g_autoptr(GError) error = NULL;

        if (g_atomic_int_get(&job->finished) || job->lost ||
            vsStoreRenewShadowJob(w->store, job->job->id, w->set.host, w->set.lease_s, &error))
            continue;
        if (g_atomic_int_get(&job->finished))
            continue;
        if (g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND)) {
            g_warning("shadow job %" G_GINT64_FORMAT " was taken over by another controller: "
                      "cancelling its run here", job->job->id);
            job->lost = TRUE;
            g_cancellable_cancel(job->cancel);
        } else {
            g_warning("cannot renew the lease of shadow job %" G_GINT64_FORMAT ": %s",
                      job->job->id, error->message);
            if (g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT))
                vsShadowLost(w, error);
        }
    }
    return G_SOURCE_CONTINUE;
}

static GSource *
vsShadowAddTimer(vsShadowWorker *w, guint interval_ms, GSourceFunc fn)
{
    GSource *src = g_timeout_source_new(interval_ms);

    g_source_set_callback(src, fn, w, NULL);
    g_source_attach(src, w->ctx);
    return src;
}

static void
vsShadowDropTimer(GSource **src)
{
    if (!*src)
        return;
    g_source_destroy(*src);
    g_clear_pointer(src, g_source_unref);
}

static void
vsShadowStartTimers(vsShadowWorker *w)
{
    vsShadowDropTimer(&w->tick);
    vsShadowDropTimer(&w->renew);
    w->tick = vsShadowAddTimer(w, w->set.interval_ms, vsShadowOnTick);
    w->renew = vsShadowAddTimer(w, MAX(1000, w->set.lease_s * 1000 / 3), vsShadowOnRenew);
}

static gboolean
vsShadowOnStart(gpointer opaque)
{
    vsShadowWorker *w = opaque;

    vsShadowStartTimers(w);
    vsShadowTick(w);
    return G_SOURCE_REMOVE;
}

typedef struct {
    vsShadowWorker *w;
    vsShadowSettings set;
} vsShadowReconfig;

static void
vsShadowReconfigFree(vsShadowReconfig *rc)
{
    vsShadowSettingsClear(&rc->set);
    g_free(rc);
}

static gboolean
vsShadowDoConfigure(gpointer opaque)
{
    vsShadowReconfig *rc = opaque;
    vsShadowWorker *w = rc->w;
    gboolean timers = rc->set.interval_ms != w->set.interval_ms ||
                      rc->set.lease_s != w->set.lease_s;

    vsShadowSettingsCopy(&w->set, &rc->set);
    if (timers)
        vsShadowStartTimers(w);
    return G_SOURCE_REMOVE;
}

static gboolean
vsShadowDoQuit(gpointer opaque)
{
    vsShadowWorker *w = opaque;

    w->stopping = TRUE;
    g_main_loop_quit(w->loop);
    return G_SOURCE_REMOVE;
}

static gpointer
vsShadowThread(gpointer opaque)
{
    vsShadowWorker *w = opaque;

    g_main_context_push_thread_default(w->ctx);
    g_main_loop_run(w->loop);
    vsShadowDropTimer(&w->tick);
    vsShadowDropTimer(&w->renew);
    /* the runs clean up when cancelled, and close their jobs */
    for (guint i = 0; i < w->jobs->len; i++)
        g_cancellable_cancel(((vsShadowJob *)g_ptr_array_index(w->jobs, i))->cancel);
    for (guint i = 0; i < w->jobs->len; i++) {
        vsShadowJob *job = g_ptr_array_index(w->jobs, i);

        g_thread_join(g_steal_pointer(&job->thread));
    }
    /* each job's thread queued its "done" before it ended: they forget it */
    while (g_main_context_iteration(w->ctx, FALSE))
        ;
    g_clear_pointer(&w->store, vsStoreFree);
    g_clear_pointer(&w->hv, vsHypervisorFree);
    g_main_context_pop_thread_default(w->ctx);
    return NULL;
}

/* --- main thread ----------------------------------------------------------------- */

vsShadowWorker *
vsShadowWorkerStart(const vsStoreTarget *target, const vsShadowWorkerConfig *cfg)
{
    vsShadowWorker *w = g_new0(vsShadowWorker, 1);

    w->ctx = g_main_context_new();
    w->loop = g_main_loop_new(w->ctx, FALSE);
    vsStoreTargetCopy(&w->target, target);
    vsShadowSettingsFromConfig(&w->set, cfg);
    w->jobs = g_ptr_array_new_with_free_func((GDestroyNotify)vsShadowJobFree);
    vsShadowInvoke(w->ctx, vsShadowOnStart, w, NULL);
    w->thread = g_thread_new("vs-shadow", vsShadowThread, w);
    return w;
}

void
vsShadowWorkerConfigure(vsShadowWorker *w, const vsShadowWorkerConfig *cfg)
{
    vsShadowReconfig *rc = g_new0(vsShadowReconfig, 1);

    rc->w = w;
    vsShadowSettingsFromConfig(&rc->set, cfg);
    vsShadowInvoke(w->ctx, vsShadowDoConfigure, rc, (GDestroyNotify)vsShadowReconfigFree);
}

guint
vsShadowWorkerRunning(vsShadowWorker *w)
{
    return (guint)g_atomic_int_get(&w->running);
}

void
vsShadowWorkerStop(vsShadowWorker *w)
{
    if (!w)
        return;
    vsShadowInvoke(w->ctx, vsShadowDoQuit, w, NULL);
    g_thread_join(w->thread);
    g_ptr_array_unref(w->jobs);
    vsStoreTargetClear(&w->target);
    vsShadowSettingsClear(&w->set);
    g_main_loop_unref(w->loop);
    g_main_context_unref(w->ctx);
    g_free(w);
}
