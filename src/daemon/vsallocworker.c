/*
 * vsallocworker.c: the daemon's allocator, on a thread of its own
 *
 * Everything below the "thread" line runs on the worker thread only, so
 * its connections and the controller need no locks.
 */
#include <config.h>

#include <glib-unix.h>

#include "vsallocworker.h"
#include "util/vserror.h"

#define VS_ALLOC_RETRY_MIN_MS 1000
#define VS_ALLOC_RETRY_MAX_MS 60000

struct _vsAllocWorker {
    GThread *thread;
    GMainContext *ctx;
    GMainLoop *loop;
    gint busy;                  /* atomic: an interval is queued or running */

    /* worker thread only */
    vsStoreTarget target;
    char *host;
    char *uri;
    guint room_max_age_s;       /* the other hosts' room is read up to this old */
    vsController *controller;
    vsHypervisor *hv;
    vsStore *store;
    GSource *notify;            /* the store's socket */
    guint retry_ms;
    gint64 retry_at_us;         /* connections are not retried before */
};

typedef struct {
    vsAllocWorker *w;
    GArray *domains;
    gint64 now_us;
} vsAllocRun;

static void
vsAllocRunFree(vsAllocRun *run)
{
    g_array_unref(run->domains);
    g_free(run);
}

/* --- thread ------------------------------------------------------------------ */

static void
vsAllocDisconnect(vsAllocWorker *w)
{
    if (w->notify) {
        g_source_destroy(w->notify);
        g_clear_pointer(&w->notify, g_source_unref);
    }
    g_clear_pointer(&w->store, vsStoreFree);
}

static void
vsAllocLoadHints(vsAllocWorker *w, gint64 now_us)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) hints = NULL;

    if (!vsStoreListHints(w->store, NULL, now_us, FALSE, &hints, &error)) {
        g_warning("cannot read hints: %s", error->message);
        return;
    }
    vsControllerSetHints(w->controller, hints);
}

static gboolean vsAllocOnNotify(gint fd, GIOCondition cond, gpointer opaque);

static gboolean
vsAllocConnectStore(vsAllocWorker *w, GError **error)
{
    g_autoptr(vsStore) store = vsStoreOpen(&w->target, FALSE, error);
    int fd;

    if (!store || !vsStoreListen(store, "vs_policy", error) ||
        !vsStoreListen(store, "vs_hint", error))
        return FALSE;
    if ((fd = vsStoreGetSocket(store)) < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_CONNECT, "the database connection has no socket");
        return FALSE;
    }
    w->store = g_steal_pointer(&store);
    w->notify = g_unix_fd_source_new(fd, G_IO_IN);
    g_source_set_callback(w->notify, G_SOURCE_FUNC(vsAllocOnNotify), w, NULL);
    g_source_attach(w->notify, w->ctx);
    vsAllocLoadHints(w, g_get_real_time());
    return TRUE;
}

/* Both connections, or FALSE (logged) and a later retry with backoff. */
static gboolean
vsAllocConnect(vsAllocWorker *w)
{
    g_autoptr(GError) error = NULL;

    if (w->store && w->hv && vsHypervisorIsAlive(w->hv))
        return TRUE;
    if (g_get_real_time() < w->retry_at_us)
        return FALSE;
    if (w->hv && !vsHypervisorIsAlive(w->hv))
        g_clear_pointer(&w->hv, vsHypervisorFree);
    if ((w->hv || (w->hv = vsHypervisorOpen(w->uri, NULL, &error))) &&
        (w->store || vsAllocConnectStore(w, &error))) {
        w->retry_ms = 0;
        return TRUE;
    }
    w->retry_ms = CLAMP(w->retry_ms * 2, VS_ALLOC_RETRY_MIN_MS, VS_ALLOC_RETRY_MAX_MS);
    w->retry_at_us = g_get_real_time() + (gint64)w->retry_ms * 1000;
    g_warning("allocator: nothing is resized until it can reach libvirt and the database "
              "(next try in %u s): %s", w->retry_ms / 1000, error->message);
    return FALSE;
}

static void
vsAllocLost(vsAllocWorker *w, const GError *error)
{
    g_warning("allocator: database lost: %s", error->message);
    vsAllocDisconnect(w);
}

static gboolean
vsAllocOnNotify(gint fd, GIOCondition cond, gpointer opaque)
{
    vsAllocWorker *w = opaque;
    g_autoptr(GError) error = NULL;
    g_autofree char *channel = NULL;
    g_autofree char *payload = NULL;
    gboolean hints = FALSE;

    (void)fd;
    (void)cond;
    while (vsStoreNextNotification(w->store, &channel, &payload, &error)) {
        if (g_str_equal(channel, "vs_policy"))
            vsControllerForgetPolicy(w->controller, payload);
        hints |= g_str_equal(channel, "vs_hint");
        g_clear_pointer(&channel, g_free);
        g_clear_pointer(&payload, g_free);
    }
    if (error) {
        vsAllocLost(w, error);
        return G_SOURCE_REMOVE;
    }
    if (hints)
        vsAllocLoadHints(w, g_get_real_time());
    return G_SOURCE_CONTINUE;
}

static gboolean
vsAllocLock(const char *uuid, gpointer opaque, GError **error)
{
    vsAllocWorker *w = opaque;
    gboolean locked = FALSE;

    return vsStoreTryLockDomain(w->store, uuid, &locked, error) && locked;
}

static void
vsAllocUnlock(const char *uuid, gpointer opaque)
{
    vsAllocWorker *w = opaque;
    g_autoptr(GError) error = NULL;

    if (!vsStoreUnlockDomain(w->store, uuid, &error))
        g_warning("cannot release the resize lock of domain %s: %s", uuid, error->message);
}

/* The other hosts' room, fresh, for this run's migration suggestions;
 * without it none is suggested.  FALSE when the database was lost. */
static gboolean
vsAllocLoadRooms(vsAllocWorker *w)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) stored = NULL;
    g_autoptr(GArray) rooms = g_array_new(FALSE, TRUE, sizeof(vsHostRoom));

    if (!vsStoreListHostRooms(w->store, w->host, w->room_max_age_s, &stored, &error)) {
        vsControllerSetOtherHosts(w->controller, NULL);
        if (g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT)) {
            vsAllocLost(w, error);
            return FALSE;
        }
        g_warning("allocator: no migration target can be suggested: %s", error->message);
        return TRUE;
    }
    for (guint i = 0; i < stored->len; i++) {
        const vsStoreHostRoom *r = &g_array_index(stored, vsStoreHostRoom, i);
        vsHostRoom h = { r->host, r->vcpus, r->memory_kib };

        g_array_append_val(rooms, h);
    }
    vsControllerSetOtherHosts(w->controller, rooms);
    return TRUE;
}

/* This host's room after the run, for the other controllers. */
static void
vsAllocPublishRoom(vsAllocWorker *w)
{
    g_autoptr(GError) error = NULL;
    double vcpus, memory_kib;

    if (!w->store || !vsControllerRoom(w->controller, &vcpus, &memory_kib))
        return;
    if (!vsStorePublishHostRoom(w->store, w->host, vcpus, memory_kib, &error)) {
        g_warning("allocator: cannot publish this host's room: %s", error->message);
        if (g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT))
            vsAllocLost(w, error);
    }
}

static void
vsAllocLogDecision(const vsDecision *d)
{
    if (d->outcome == VS_OUTCOME_FAILED)
        g_warning("domain '%s': %s failed: %s", d->name, d->reason, d->error);
    else if (d->outcome == VS_OUTCOME_APPLIED || d->action == VS_ACTION_QUEUED)
        g_info("domain '%s': %s", d->name, d->reason);
    else
        g_debug("domain '%s': %s (%s)", d->name, d->reason, vsOutcomeToString(d->outcome));
}

static gboolean
vsAllocDoRun(gpointer opaque)
{
    vsAllocRun *run = opaque;
    vsAllocWorker *w = run->w;
    vsControllerLock lock = { vsAllocLock, vsAllocUnlock, w };
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) decisions = NULL;
    g_autoptr(GError) error = NULL;

    /* a database lost here would also lose the resize locks and the
     * record: the run waits for it, as when it cannot be reached */
    if (vsAllocConnect(w) && vsAllocLoadRooms(w)) {
        decisions = vsControllerRun(w->controller, w->hv, run->domains, run->now_us, FALSE,
                                    &lock, problems);
        for (guint i = 0; i < problems->len; i++)
            g_warning("allocator: %s", (const char *)g_ptr_array_index(problems, i));
        for (guint i = 0; i < decisions->len; i++)
            vsAllocLogDecision(&g_array_index(decisions, vsDecision, i));
        if (decisions->len && !vsStoreRecordDecisions(w->store, w->host, decisions, &error)) {
            g_warning("allocator: cannot record %u decisions: %s", decisions->len,
                      error->message);
            if (g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT))
                vsAllocLost(w, error);
        }
        vsAllocPublishRoom(w);
    }
    g_atomic_int_set(&w->busy, 0);
    return G_SOURCE_REMOVE;
}

static gboolean
vsAllocDoQuit(gpointer opaque)
{
    vsAllocWorker *w = opaque;

    g_main_loop_quit(w->loop);
    return G_SOURCE_REMOVE;
}

static gpointer
vsAllocThread(gpointer opaque)
{
    vsAllocWorker *w = opaque;

    g_main_context_push_thread_default(w->ctx);
    g_main_loop_run(w->loop);
    vsAllocDisconnect(w);
    g_clear_pointer(&w->hv, vsHypervisorFree);
    g_main_context_pop_thread_default(w->ctx);
    return NULL;
}

/* --- main thread ----------------------------------------------------------------- */

vsAllocWorker *
vsAllocWorkerStart(const vsStoreTarget *target, const vsAllocWorkerConfig *cfg)
{
    vsAllocWorker *w = g_new0(vsAllocWorker, 1);

    w->ctx = g_main_context_new();
    w->loop = g_main_loop_new(w->ctx, FALSE);
    vsStoreTargetCopy(&w->target, target);
    w->host = g_strdup(cfg->host);
    w->uri = g_strdup(cfg->uri);
    w->room_max_age_s = vsControllerRoomMaxAge(cfg->controller.interval_s);
    w->controller = vsControllerNew(&cfg->controller);
    w->thread = g_thread_new("vs-alloc", vsAllocThread, w);
    return w;
}

void
vsAllocWorkerSubmit(vsAllocWorker *w, GArray *domains, gint64 now_us)
{
    vsAllocRun *run;

    if (!g_atomic_int_compare_and_exchange(&w->busy, 0, 1)) {
        g_warning("allocator: the last control interval is still running; skipping one");
        g_array_unref(domains);
        return;
    }
    run = g_new0(vsAllocRun, 1);
    run->w = w;
    run->domains = domains;
    run->now_us = now_us;
    g_main_context_invoke_full(w->ctx, G_PRIORITY_DEFAULT, vsAllocDoRun, run,
                               (GDestroyNotify)vsAllocRunFree);
}

void
vsAllocWorkerStop(vsAllocWorker *w)
{
    if (!w)
        return;
    g_main_context_invoke(w->ctx, vsAllocDoQuit, w);
    g_thread_join(w->thread);
    vsControllerFree(w->controller);
    vsStoreTargetClear(&w->target);
    g_free(w->host);
    g_free(w->uri);
    g_main_loop_unref(w->loop);
    g_main_context_unref(w->ctx);
    g_free(w);
}
