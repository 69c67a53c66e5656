/*
 * vsstoreworker.c: the daemon's database side, on a thread of its own
 *
 * Everything below the "thread" line runs on the worker thread only, so
 * the store connection and the event queue need no locks; the main thread
 * talks to it by invoking functions on its context, in order.
 */
#include <config.h>

#include "vsstoreworker.h"
#include "vshookspool.h"
#include "util/vserror.h"
#include "util/vslog.h"

#define VS_STORE_RETRY_MIN_MS 1000
#define VS_STORE_RETRY_MAX_MS 60000
/* Daily sample partitions are created this far ahead. */
#define VS_STORE_DAYS_AHEAD 3
#define VS_STORE_MAINTAIN_INTERVAL_MS (3600 * 1000)
/* Events wait while the database is away; beyond this the oldest go. */
#define VS_STORE_MAX_PENDING_EVENTS 10000
/* Batches handed over but not yet stored or spooled. */
#define VS_STORE_MAX_PENDING_BATCHES 16

typedef struct {
    gint64 when_us;
    char *uuid;
    char *name;
    char *event;
    int detail;
} vsPendingEvent;

typedef struct {
    char *host;
    char *uri;
    guint64 heartbeat_interval_ms;
    guint64 raw_retention_ms;
    guint64 rollup_retention_ms;
} vsWorkerConfig;

struct _vsStoreWorker {
    GThread *thread;
    GMainContext *ctx;
    GMainLoop *loop;
    GMainContext *main_ctx;
    vsStoreWorkerLabelsFunc on_labels;
    gpointer opaque;
    vsSampler *sampler;
    gint pending_batches;       /* atomic */

    /* worker thread only */
    vsStoreTarget target;
    vsWorkerConfig cfg;
    vsStore *store;
    guint retry_ms;
    GSource *retry;
    GSource *heartbeat;
    GSource *maintain;
    GQueue events;              /* vsPendingEvent */
};

static void
vsPendingEventFree(vsPendingEvent *ev)
{
    g_free(ev->uuid);
    g_free(ev->name);
    g_free(ev->event);
    g_free(ev);
}

static void
vsWorkerConfigClear(vsWorkerConfig *cfg)
{
    g_free(cfg->host);
    g_free(cfg->uri);
}

static void
vsWorkerConfigSet(vsWorkerConfig *cfg, const vsStoreWorkerConfig *from)
{
    vsWorkerConfigClear(cfg);
    cfg->host = g_strdup(from->host);
    cfg->uri = g_strdup(from->uri);
    cfg->heartbeat_interval_ms = from->heartbeat_interval_ms;
    cfg->raw_retention_ms = from->raw_retention_ms;
    cfg->rollup_retention_ms = from->rollup_retention_ms;
}

/* --- thread: connection ----------------------------------------------------- */

static void vsWorkerScheduleRetry(vsStoreWorker *w);

static void
vsWorkerLogMessages(vsStoreWorker *w)
{
    g_auto(GStrv) messages = vsSamplerTakeMessages(w->sampler);

    for (gsize i = 0; messages && messages[i]; i++)
        g_info("%s", messages[i]);
}

static void
vsWorkerLost(vsStoreWorker *w)
{
    vsStoreFree(g_steal_pointer(&w->store));
    vsWorkerScheduleRetry(w);
}

static void
vsWorkerFlushEvents(vsStoreWorker *w)
{
    vsPendingEvent *ev;

    while (w->store && (ev = g_queue_peek_head(&w->events))) {
        g_autoptr(GError) error = NULL;

        if (!vsStoreRecordDomainEvent(w->store, ev->when_us, w->cfg.host, ev->uuid, ev->name,
                                      ev->event, ev->detail, &error)) {
            g_warning("cannot record event of domain '%s': %s", ev->name, error->message);
            /* a row the database refuses would block the queue for good:
             * only a lost connection keeps it for later */
            if (g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT)) {
                vsWorkerLost(w);
                return;
            }
        }
        vsPendingEventFree(g_queue_pop_head(&w->events));
    }
}

static gboolean
vsWorkerDeliverLabels(gpointer opaque)
{
    gpointer *args = opaque;
    vsStoreWorker *w = args[0];

    w->on_labels(args[1], w->opaque);
    return G_SOURCE_REMOVE;
}

static void
vsWorkerLabelsArgsFree(gpointer opaque)
{
    gpointer *args = opaque;

    g_hash_table_unref(args[1]);
    g_free(args);
}

/* Labels set with "virt-shadow annotate" reach the sampler within a
 * heartbeat; the sampler's labels belong to the main thread. */
static void
vsWorkerRefreshLabels(vsStoreWorker *w)
{
    g_autoptr(GError) error = NULL;
    GHashTable *labels;
    gpointer *args;

    if (!w->store || !w->on_labels)
        return;
    if (!(labels = vsStoreGetDomainLabels(w->store, &error))) {
        g_warning("cannot read workload labels: %s", error->message);
        return;
    }
    args = g_new(gpointer, 2);
    args[0] = w;
    args[1] = labels;
    g_main_context_invoke_full(w->main_ctx, G_PRIORITY_DEFAULT, vsWorkerDeliverLabels,
                               args, vsWorkerLabelsArgsFree);
}

/* Move what the libvirt hook recorded (the hook may not talk to the
 * database) into the events table, each file removed once its event is. */
static void
vsWorkerIngestHooks(vsStoreWorker *w)
{
    g_autofree char *dir = g_build_filename(w->target.state_dir, "hooks", NULL);
    g_autoptr(vsHookSpoolBatch) batch = NULL;
    g_autoptr(GError) error = NULL;

    if (!vsHookSpoolRead(dir, &batch, &error)) {
        g_warning("%s", error->message);
        return;
    }
    for (guint i = 0; i < batch->problems->len; i++)
        g_warning("%s", (const char *)g_ptr_array_index(batch->problems, i));
    for (guint i = 0; i < batch->events->len; i++) {
        const vsDomainEventRecord *ev = g_ptr_array_index(batch->events, i);

        if (!vsStoreRecordDomainEvent(w->store, ev->when_us, w->cfg.host, ev->uuid, ev->name,
                                      ev->event, ev->detail, &error)) {
            g_warning("cannot record hook event of domain '%s': %s", ev->name, error->message);
            return;
        }
        if (!vsHookSpoolRemove(dir, g_ptr_array_index(batch->files, i), &error)) {
            g_warning("%s", error->message);
            return;
        }
    }
}

static gboolean
vsWorkerHeartbeat(gpointer opaque)
{
    vsStoreWorker *w = opaque;
    g_autoptr(GError) error = NULL;

    if (!w->store)
        return G_SOURCE_CONTINUE;
    if (!vsStoreHostHeartbeat(w->store, w->cfg.host, w->cfg.uri, PACKAGE_VERSION, &error)) {
        g_warning("database lost: %s", error->message);
        vsWorkerLost(w);
        return G_SOURCE_CONTINUE;
    }
    vsWorkerFlushEvents(w);
    vsWorkerIngestHooks(w);
    vsWorkerRefreshLabels(w);
    return G_SOURCE_CONTINUE;
}

/* Partitions ahead, retention and rollups; cheap when there is nothing to do. */
static gboolean
vsWorkerMaintain(gpointer opaque)
{
    vsStoreWorker *w = opaque;
    g_autoptr(GError) error = NULL;

    if (w->store && !vsStoreMaintainSamples(w->store, g_get_real_time(), VS_STORE_DAYS_AHEAD,
                                            w->cfg.raw_retention_ms,
                                            w->cfg.rollup_retention_ms, &error))
        g_warning("sample housekeeping failed: %s", error->message);
    return G_SOURCE_CONTINUE;
}

/* What was spooled while the database was away goes in first, in order. */
static void
vsWorkerReplaySpool(vsStoreWorker *w)
{
    g_autoptr(GError) error = NULL;

    if (!vsSamplerReplay(w->sampler, w->store, &error))
        g_warning("cannot replay the spool yet: %s", error->message);
    vsWorkerLogMessages(w);
}

static gboolean
vsWorkerConnect(vsStoreWorker *w, GError **error)
{
    g_autoptr(vsStore) store = vsStoreOpen(&w->target, TRUE, error);
    g_autofree char *where = NULL;
    guint applied = 0;

    if (!store || !vsStoreMigrate(store, &applied, error))
        return FALSE;
    where = vsStoreDescribe(store);
    vsLogWithFields(G_LOG_LEVEL_INFO, (const char *const[]){ "database", where, NULL },
                    "database ready, %u migration%s applied", applied, applied == 1 ? "" : "s");
    w->store = g_steal_pointer(&store);
    w->retry_ms = 0;
    vsWorkerHeartbeat(w);
    vsWorkerMaintain(w);
    vsWorkerReplaySpool(w);
    return TRUE;
}

static GSource *
vsWorkerAddTimeout(vsStoreWorker *w, guint64 interval_ms, GSourceFunc fn)
{
    GSource *src = g_timeout_source_new((guint)CLAMP(interval_ms, 100, G_MAXUINT));

    g_source_set_callback(src, fn, w, NULL);
    g_source_attach(src, w->ctx);
    return src;
}

static void
vsWorkerClearSource(GSource **src)
{
    if (!*src)
        return;
    g_source_destroy(*src);
    g_clear_pointer(src, g_source_unref);
}

static gboolean
vsWorkerRetry(gpointer opaque)
{
    vsStoreWorker *w = opaque;
    g_autoptr(GError) error = NULL;

    vsWorkerClearSource(&w->retry);
    if (!vsWorkerConnect(w, &error)) {
        g_warning("%s", error->message);
        vsWorkerScheduleRetry(w);
    }
    return G_SOURCE_REMOVE;
}

static void
vsWorkerScheduleRetry(vsStoreWorker *w)
{
    guint delay;

    if (w->retry)
        return;
    delay = w->retry_ms ? w->retry_ms : VS_STORE_RETRY_MIN_MS;
    w->retry_ms = MIN(delay * 2, VS_STORE_RETRY_MAX_MS);
    g_info("retrying the database in %u ms", delay);
    w->retry = vsWorkerAddTimeout(w, delay, vsWorkerRetry);
}

static void
vsWorkerRestartTimers(vsStoreWorker *w)
{
    vsWorkerClearSource(&w->heartbeat);
    vsWorkerClearSource(&w->maintain);
    w->heartbeat = vsWorkerAddTimeout(w, w->cfg.heartbeat_interval_ms, vsWorkerHeartbeat);
    w->maintain = vsWorkerAddTimeout(w, VS_STORE_MAINTAIN_INTERVAL_MS, vsWorkerMaintain);
}

static gpointer
vsWorkerRun(gpointer opaque)
{
    vsStoreWorker *w = opaque;

    g_main_context_push_thread_default(w->ctx);
    vsWorkerRestartTimers(w);
    if (!w->store)
        vsWorkerScheduleRetry(w);
    g_main_loop_run(w->loop);
    vsWorkerFlushEvents(w);
    vsWorkerClearSource(&w->retry);
    vsWorkerClearSource(&w->heartbeat);
    vsWorkerClearSource(&w->maintain);
    g_main_context_pop_thread_default(w->ctx);
    return NULL;
}

/* --- thread: work handed over ------------------------------------------------- */

typedef struct {
    vsStoreWorker *w;
    vsStoreTarget target;
    vsWorkerConfig cfg;
} vsConfigureArgs;

static void
vsConfigureArgsFree(gpointer opaque)
{
    vsConfigureArgs *a = opaque;

    vsStoreTargetClear(&a->target);
    vsWorkerConfigClear(&a->cfg);
    g_free(a);
}

static gboolean
vsWorkerDoConfigure(gpointer opaque)
{
    vsConfigureArgs *a = opaque;
    vsStoreWorker *w = a->w;
    gboolean moved = g_strcmp0(a->target.url, w->target.url) != 0 ||
                     g_strcmp0(a->target.state_dir, w->target.state_dir) != 0;

    vsWorkerConfigClear(&w->cfg);
    w->cfg = a->cfg;
    memset(&a->cfg, 0, sizeof(a->cfg));
    vsStoreTargetCopy(&w->target, &a->target);
    vsWorkerRestartTimers(w);
    if (moved && !w->retry) {
        g_info("database target changed; reconnecting");
        w->retry_ms = 0;
        vsWorkerLost(w);
    }
    return G_SOURCE_REMOVE;
}

static gboolean
vsWorkerDoRecordEvent(gpointer opaque)
{
    gpointer *args = opaque;
    vsStoreWorker *w = args[0];

    g_queue_push_tail(&w->events, g_steal_pointer(&args[1]));
    if (w->events.length > VS_STORE_MAX_PENDING_EVENTS) {
        g_warning("database away too long: dropping the oldest domain event");
        vsPendingEventFree(g_queue_pop_head(&w->events));
    }
    vsWorkerFlushEvents(w);
    return G_SOURCE_REMOVE;
}

static void
vsEventArgsFree(gpointer opaque)
{
    gpointer *args = opaque;

    if (args[1])
        vsPendingEventFree(args[1]);
    g_free(args);
}

static gboolean
vsWorkerDoWriteSamples(gpointer opaque)
{
    gpointer *args = opaque;
    vsStoreWorker *w = args[0];
    gboolean had_store = w->store != NULL;

    if (!vsSamplerStore(w->sampler, w->store, args[1]) && had_store) {
        g_warning("database lost while storing samples; spooling until it is back");
        vsWorkerLost(w);
    }
    vsWorkerLogMessages(w);
    (void)g_atomic_int_add(&w->pending_batches, -1);
    return G_SOURCE_REMOVE;
}

static void
vsBatchArgsFree(gpointer opaque)
{
    gpointer *args = opaque;

    vsSampleBatchFree(args[1]);
    g_free(args);
}

static gboolean
vsWorkerDoWriteForecasts(gpointer opaque)
{
    gpointer *args = opaque;
    vsStoreWorker *w = args[0];
    vsPredictorOutput *out = args[1];
    g_autoptr(GError) error = NULL;

    if (!w->store)
        return G_SOURCE_REMOVE;
    if ((out->forecasts->len && !vsStoreWriteForecasts(w->store, w->cfg.host, out->forecasts, &error)) ||
        (out->errors->len && !vsStoreSetForecastErrors(w->store, out->errors, &error)) ||
        (out->anomalies->len && !vsStoreRecordAnomalies(w->store, w->cfg.host, out->anomalies, &error))) {
        g_warning("cannot store forecasts: %s", error->message);
        if (g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT))
            vsWorkerLost(w);
    }
    return G_SOURCE_REMOVE;
}

static void
vsForecastArgsFree(gpointer opaque)
{
    gpointer *args = opaque;

    vsPredictorOutputFree(args[1]);
    g_free(args);
}

typedef struct {
    vsStoreWorker *w;
    char *uuid;
    gint64 since_us;
    vsStoreWorkerHistoryFunc done;
    gpointer opaque;
    GArray *history;
} vsHistoryArgs;

static void
vsHistoryArgsFree(gpointer opaque)
{
    vsHistoryArgs *a = opaque;

    g_free(a->uuid);
    if (a->history)
        g_array_unref(a->history);
    g_free(a);
}

static gboolean
vsWorkerDeliverHistory(gpointer opaque)
{
    vsHistoryArgs *a = opaque;

    a->done(a->uuid, a->history, a->opaque);
    return G_SOURCE_REMOVE;
}

static gboolean
vsWorkerDoLoadHistory(gpointer opaque)
{
    vsHistoryArgs *a = opaque;
    vsStoreWorker *w = a->w;
    g_autoptr(GError) error = NULL;

    if (w->store && !(a->history = vsStoreQueryHistory(w->store, a->uuid, a->since_us, &error)))
        g_warning("cannot read the history of domain %s: %s", a->uuid, error->message);
    if (!a->history)
        a->history = g_array_new(FALSE, FALSE, sizeof(vsHistoryPoint));
    g_main_context_invoke_full(w->main_ctx, G_PRIORITY_DEFAULT, vsWorkerDeliverHistory,
                               g_memdup2(a, sizeof(*a)), vsHistoryArgsFree);
    /* the copy owns the strings and the array now */
    a->uuid = NULL;
    a->history = NULL;
    return G_SOURCE_REMOVE;
}

static gboolean
vsWorkerDoQuit(gpointer opaque)
{
    vsStoreWorker *w = opaque;

    g_main_loop_quit(w->loop);
    return G_SOURCE_REMOVE;
}

/* --- main thread ---------------------------------------------------------------- */

static void
vsStoreWorkerInvoke(vsStoreWorker *w, GSourceFunc fn, gpointer data, GDestroyNotify notify)
{
    g_main_context_invoke_full(w->ctx, G_PRIORITY_DEFAULT, fn, data, notify);
}

vsStoreWorker *
vsStoreWorkerStart(const vsStoreTarget *target, const vsStoreWorkerConfig *cfg,
                   vsSampler *sampler, vsStoreWorkerLabelsFunc on_labels, gpointer opaque,
                   GError **error)
{
    vsStoreWorker *w = g_new0(vsStoreWorker, 1);
    g_autoptr(GError) local = NULL;

    w->ctx = g_main_context_new();
    w->loop = g_main_loop_new(w->ctx, FALSE);
    w->main_ctx = g_main_context_ref_thread_default();
    w->on_labels = on_labels;
    w->opaque = opaque;
    w->sampler = sampler;
    g_queue_init(&w->events);
    vsStoreTargetCopy(&w->target, target);
    vsWorkerConfigSet(&w->cfg, cfg);

    /* before the thread exists, this thread owns the worker's state */
    if (!vsWorkerConnect(w, &local)) {
        if (g_error_matches(local, VS_ERROR, VS_ERROR_SCHEMA)) {
            g_propagate_error(error, g_steal_pointer(&local));
            vsStoreWorkerStop(w);
            return NULL;
        }
        g_warning("%s", local->message);
    }
    w->thread = g_thread_new("vs-store", vsWorkerRun, w);
    return w;
}

void
vsStoreWorkerConfigure(vsStoreWorker *w, const vsStoreTarget *target,
                       const vsStoreWorkerConfig *cfg)
{
    vsConfigureArgs *a = g_new0(vsConfigureArgs, 1);

    a->w = w;
    vsStoreTargetCopy(&a->target, target);
    vsWorkerConfigSet(&a->cfg, cfg);
    vsStoreWorkerInvoke(w, vsWorkerDoConfigure, a, vsConfigureArgsFree);
}

void
vsStoreWorkerRecordEvent(vsStoreWorker *w, gint64 when_us, const char *uuid,
                         const char *name, const char *event, int detail)
{
    vsPendingEvent *ev = g_new0(vsPendingEvent, 1);
    gpointer *args = g_new(gpointer, 2);

    ev->when_us = when_us;
    ev->uuid = g_strdup(uuid);
    ev->name = g_strdup(name);
    ev->event = g_strdup(event);
    ev->detail = detail;
    args[0] = w;
    args[1] = ev;
    vsStoreWorkerInvoke(w, vsWorkerDoRecordEvent, args, vsEventArgsFree);
}

gboolean
vsStoreWorkerReady(vsStoreWorker *w)
{
    return g_atomic_int_get(&w->pending_batches) < VS_STORE_MAX_PENDING_BATCHES;
}

void
vsStoreWorkerWriteSamples(vsStoreWorker *w, vsSampleBatch *batch)
{
    gpointer *args = g_new(gpointer, 2);

    args[0] = w;
    args[1] = batch;
    g_atomic_int_inc(&w->pending_batches);
    vsStoreWorkerInvoke(w, vsWorkerDoWriteSamples, args, vsBatchArgsFree);
}

void
vsStoreWorkerWriteForecasts(vsStoreWorker *w, vsPredictorOutput *out)
{
    gpointer *args = g_new(gpointer, 2);

    args[0] = w;
    args[1] = out;
    vsStoreWorkerInvoke(w, vsWorkerDoWriteForecasts, args, vsForecastArgsFree);
}

void
vsStoreWorkerLoadHistory(vsStoreWorker *w, const char *uuid, gint64 since_us,
                         vsStoreWorkerHistoryFunc done, gpointer opaque)
{
    vsHistoryArgs *a = g_new0(vsHistoryArgs, 1);

    a->w = w;
    a->uuid = g_strdup(uuid);
    a->since_us = since_us;
    a->done = done;
    a->opaque = opaque;
    /* after the samples: a daemon meeting 10,000 domains at start must not
     * stop storing while it reads their history */
    g_main_context_invoke_full(w->ctx, G_PRIORITY_LOW, vsWorkerDoLoadHistory, a,
                               vsHistoryArgsFree);
}

void
vsStoreWorkerStop(vsStoreWorker *w)
{
    if (!w)
        return;
    if (w->thread) {
        /* queued after all work handed over so far, so that is done first */
        vsStoreWorkerInvoke(w, vsWorkerDoQuit, w, NULL);
        g_thread_join(w->thread);
    }
    vsStoreFree(w->store);
    g_queue_clear_full(&w->events, (GDestroyNotify)vsPendingEventFree);
    vsStoreTargetClear(&w->target);
    vsWorkerConfigClear(&w->cfg);
    g_main_loop_unref(w->loop);
    g_main_context_unref(w->ctx);
    g_main_context_unref(w->main_ctx);
    g_free(w);
}
