/*
 * vsvirevent.c: libvirt's event loop on the GLib main context
 *
 * libvirt may add, update and remove handles and timers from any thread,
 * sometimes while holding its own locks, so every table change happens
 * under our mutex and callbacks are always called without it.  Entries are
 * freed (and libvirt's free callbacks run) from an idle source, never
 * synchronously inside a remove call.
 */
#include <config.h>

#include <glib-unix.h>
#include <libvirt/libvirt.h>

#include "vsvirevent.h"

typedef struct _vsVirEventHandle vsVirEventHandle;
struct _vsVirEventHandle {
    int watch;
    int fd;
    int events;
    gboolean removed;
    GSource *source;
    virEventHandleCallback cb;
    void *opaque;
    virFreeCallback ff;
};

typedef struct _vsVirEventTimeout vsVirEventTimeout;
struct _vsVirEventTimeout {
    int timer;
    int interval;
    gboolean removed;
    GSource *source;
    virEventTimeoutCallback cb;
    void *opaque;
    virFreeCallback ff;
};

static GMutex vsVirEventLock;
static GHashTable *vsVirEventHandles;     /* watch -> vsVirEventHandle */
static GHashTable *vsVirEventTimeouts;    /* timer -> vsVirEventTimeout */
static int vsVirEventNextWatch = 1;
static int vsVirEventNextTimer = 1;

static GIOCondition
vsVirEventToGIO(int events)
{
    GIOCondition cond = 0;

    if (events & VIR_EVENT_HANDLE_READABLE)
        cond |= G_IO_IN;
    if (events & VIR_EVENT_HANDLE_WRITABLE)
        cond |= G_IO_OUT;
    if (events & VIR_EVENT_HANDLE_ERROR)
        cond |= G_IO_ERR;
    if (events & VIR_EVENT_HANDLE_HANGUP)
        cond |= G_IO_HUP;
    return cond;
}

static int
vsVirEventFromGIO(GIOCondition cond)
{
    int events = 0;

    if (cond & G_IO_IN)
        events |= VIR_EVENT_HANDLE_READABLE;
    if (cond & G_IO_OUT)
        events |= VIR_EVENT_HANDLE_WRITABLE;
    if (cond & (G_IO_ERR | G_IO_NVAL))
        events |= VIR_EVENT_HANDLE_ERROR;
    if (cond & G_IO_HUP)
        events |= VIR_EVENT_HANDLE_HANGUP;
    return events;
}

static void
vsVirEventDropSource(GSource **source)
{
    if (!*source)
        return;
    g_source_destroy(*source);
    g_source_unref(*source);
    *source = NULL;
}

static gboolean
vsVirEventHandleDispatch(int fd, GIOCondition cond, gpointer opaque)
{
    vsVirEventHandle *h = opaque;
    virEventHandleCallback cb;
    void *cbopaque;
    int watch;

    g_mutex_lock(&vsVirEventLock);
    if (h->removed) {
        g_mutex_unlock(&vsVirEventLock);
        return G_SOURCE_CONTINUE;
    }
    cb = h->cb;
    cbopaque = h->opaque;
    watch = h->watch;
    g_mutex_unlock(&vsVirEventLock);

    /* @h stays allocated: it is only freed from an idle on this thread. */
    cb(watch, fd, vsVirEventFromGIO(cond), cbopaque);
    return G_SOURCE_CONTINUE;
}

/* Called with the lock held. */
static void
vsVirEventHandleArm(vsVirEventHandle *h)
{
    vsVirEventDropSource(&h->source);
    /* libvirt disables a handle with events == 0: poll nothing at all,
     * otherwise a hangup would be reported over and over. */
    if (h->events == 0)
        return;
    h->source = g_unix_fd_source_new(h->fd, vsVirEventToGIO(h->events));
    g_source_set_callback(h->source, G_SOURCE_FUNC(vsVirEventHandleDispatch), h, NULL);
    g_source_attach(h->source, NULL);
}

static int
vsVirEventAddHandle(int fd, int events, virEventHandleCallback cb,
                    void *opaque, virFreeCallback ff)
{
    vsVirEventHandle *h = g_new0(vsVirEventHandle, 1);
    int watch;

    g_mutex_lock(&vsVirEventLock);
    h->watch = watch = vsVirEventNextWatch++;
    h->fd = fd;
    h->events = events;
    h->cb = cb;
    h->opaque = opaque;
    h->ff = ff;
    vsVirEventHandleArm(h);
    g_hash_table_insert(vsVirEventHandles, GINT_TO_POINTER(watch), h);
    g_mutex_unlock(&vsVirEventLock);
    return watch;
}

static void
vsVirEventUpdateHandle(int watch, int events)
{
    vsVirEventHandle *h;

    g_mutex_lock(&vsVirEventLock);
    h = g_hash_table_lookup(vsVirEventHandles, GINT_TO_POINTER(watch));
    if (h && h->events != events) {
        h->events = events;
        vsVirEventHandleArm(h);
    }
    g_mutex_unlock(&vsVirEventLock);
}

static gboolean
vsVirEventHandleFreeIdle(gpointer opaque)
{
    vsVirEventHandle *h = opaque;

    if (h->ff)
        h->ff(h->opaque);
    g_free(h);
    return G_SOURCE_REMOVE;
}

static int
vsVirEventRemoveHandle(int watch)
{
    vsVirEventHandle *h;

    g_mutex_lock(&vsVirEventLock);
    if (!g_hash_table_steal_extended(vsVirEventHandles, GINT_TO_POINTER(watch),
                                     NULL, (gpointer *)&h)) {
        g_mutex_unlock(&vsVirEventLock);
        return -1;
    }
    h->removed = TRUE;
    vsVirEventDropSource(&h->source);
    g_mutex_unlock(&vsVirEventLock);

    /* libvirt may hold locks that its free callback takes: defer. */
    g_idle_add(vsVirEventHandleFreeIdle, h);
    return 0;
}

static gboolean
vsVirEventTimeoutDispatch(gpointer opaque)
{
    vsVirEventTimeout *t = opaque;
    virEventTimeoutCallback cb;
    void *cbopaque;
    int timer;

    g_mutex_lock(&vsVirEventLock);
    if (t->removed) {
        g_mutex_unlock(&vsVirEventLock);
        return G_SOURCE_CONTINUE;
    }
    cb = t->cb;
    cbopaque = t->opaque;
    timer = t->timer;
    g_mutex_unlock(&vsVirEventLock);

    cb(timer, cbopaque);
    return G_SOURCE_CONTINUE;
}

/* Called with the lock held.  -1 disables; 0 fires on every iteration. */
static void
vsVirEventTimeoutArm(vsVirEventTimeout *t)
{
    vsVirEventDropSource(&t->source);
    if (t->interval < 0)
        return;
    t->source = g_timeout_source_new(t->interval);
    g_source_set_callback(t->source, vsVirEventTimeoutDispatch, t, NULL);
    g_source_attach(t->source, NULL);
}

static int
vsVirEventAddTimeout(int interval, virEventTimeoutCallback cb, void *opaque,
                     virFreeCallback ff)
{
    vsVirEventTimeout *t = g_new0(vsVirEventTimeout, 1);
    int timer;

    g_mutex_lock(&vsVirEventLock);
    t->timer = timer = vsVirEventNextTimer++;
    t->interval = interval;
    t->cb = cb;
    t->opaque = opaque;
    t->ff = ff;
    vsVirEventTimeoutArm(t);
    g_hash_table_insert(vsVirEventTimeouts, GINT_TO_POINTER(timer), t);
    g_mutex_unlock(&vsVirEventLock);
    return timer;
}

static void
vsVirEventUpdateTimeout(int timer, int interval)
{
    vsVirEventTimeout *t;

    g_mutex_lock(&vsVirEventLock);
    t = g_hash_table_lookup(vsVirEventTimeouts, GINT_TO_POINTER(timer));
    /* Re-arm even when unchanged: libvirt expects the period to restart. */
    if (t) {
        t->interval = interval;
        vsVirEventTimeoutArm(t);
    }
    g_mutex_unlock(&vsVirEventLock);
}

static gboolean
vsVirEventTimeoutFreeIdle(gpointer opaque)
{
    vsVirEventTimeout *t = opaque;

    if (t->ff)
        t->ff(t->opaque);
    g_free(t);
    return G_SOURCE_REMOVE;
}

static int
vsVirEventRemoveTimeout(int timer)
{
    vsVirEventTimeout *t;

    g_mutex_lock(&vsVirEventLock);
    if (!g_hash_table_steal_extended(vsVirEventTimeouts, GINT_TO_POINTER(timer),
                                     NULL, (gpointer *)&t)) {
        g_mutex_unlock(&vsVirEventLock);
        return -1;
    }
    t->removed = TRUE;
    vsVirEventDropSource(&t->source);
    g_mutex_unlock(&vsVirEventLock);

    g_idle_add(vsVirEventTimeoutFreeIdle, t);
    return 0;
}

static gpointer
vsVirEventRegisterOnce(gpointer unused G_GNUC_UNUSED)
{
    vsVirEventHandles = g_hash_table_new(g_direct_hash, g_direct_equal);
    vsVirEventTimeouts = g_hash_table_new(g_direct_hash, g_direct_equal);
    virEventRegisterImpl(vsVirEventAddHandle, vsVirEventUpdateHandle,
                         vsVirEventRemoveHandle, vsVirEventAddTimeout,
                         vsVirEventUpdateTimeout, vsVirEventRemoveTimeout);
    return NULL;
}

void
vsVirEventRegister(void)
{
    static GOnce once = G_ONCE_INIT;

    g_once(&once, vsVirEventRegisterOnce, NULL);
}
