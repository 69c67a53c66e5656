/*
 * vsvirdriver.c: the hypervisor driver on libvirt
 *
 * The only place (with vsvirevent.c) where libvirt types live.  libvirt
 * errors become VS_ERROR GErrors here.  Lost connections are noticed by a
 * close callback plus keepalive and re-opened with exponential backoff from
 * GLib timeouts on the default main context.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "vslibvirt.h"
#include "vsvirevent.h"
#include "vsvirpriv.h"
#include "util/vserror.h"

typedef virConnect vsVirConnect;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsVirConnect, virConnectClose)
typedef virDomain vsVirDomain;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsVirDomain, virDomainFree)

#define VS_VIR_BACKOFF_START_MS 500

typedef struct _vsVirConn vsVirConn;
struct _vsVirConn {
    gint refs;
    vsHypervisor *hv;           /* NULL once closed */
    char *uri;                  /* what we (re)open; NULL means libvirt's default */
    char *display;              /* the URI in messages */
    guint max_backoff_ms;
    gboolean watch;             /* events, keepalive and reconnects wanted */
    virConnectPtr conn;         /* NULL while reconnecting */
    int lifecycle_id;           /* -1 when not registered */
    gboolean close_cb;
    guint backoff_ms;
    GSource *reconnect;

    /* The close callback may run on any thread libvirt likes. */
    GMutex lock;
    GSource *lost;
    int lost_reason;
};

static vsVirConn *
vsVirConnRef(vsVirConn *priv)
{
    g_atomic_int_inc(&priv->refs);
    return priv;
}

static void
vsVirConnUnref(vsVirConn *priv)
{
    if (!priv || !g_atomic_int_dec_and_test(&priv->refs))
        return;
    g_free(priv->uri);
    g_free(priv->display);
    g_mutex_clear(&priv->lock);
    g_free(priv);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsVirConn, vsVirConnUnref)

/* Free callback for libvirt registrations and GSources holding a ref. */
static void
vsVirConnRelease(void *opaque)
{
    vsVirConnUnref(opaque);
}

static void
vsVirIgnoreError(void *opaque G_GNUC_UNUSED, virErrorPtr err G_GNUC_UNUSED)
{
}

static gpointer
vsVirInitOnce(gpointer unused G_GNUC_UNUSED)
{
    virInitialize();
    /* libvirt would print every error on stderr; we report them ourselves. */
    virSetErrorFunc(NULL, vsVirIgnoreError);
    vsVirEventRegister();
    return NULL;
}

static void
vsVirInit(void)
{
    static GOnce once = G_ONCE_INIT;

    g_once(&once, vsVirInitOnce, NULL);
}

static int
vsVirErrorToCode(const virError *err)
{
    if (!err)
        return VS_ERROR_FAILED;
    switch (err->code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_DOMAIN_METADATA:
    case VIR_ERR_NO_STORAGE_POOL:
    case VIR_ERR_NO_STORAGE_VOL:
        return VS_ERROR_NOT_FOUND;
    case VIR_ERR_NO_SUPPORT:
    case VIR_ERR_OPERATION_UNSUPPORTED:
    case VIR_ERR_ARGUMENT_UNSUPPORTED:
    case VIR_ERR_CONFIG_UNSUPPORTED:
        return VS_ERROR_UNSUPPORTED;
    case VIR_ERR_AGENT_UNRESPONSIVE:
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_INVALID_CONN:
    case VIR_ERR_RPC:
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_CANCELLED:
    case VIR_ERR_AUTH_UNAVAILABLE:
        return VS_ERROR_CONNECT;
    case VIR_ERR_OPERATION_TIMEOUT:
        return VS_ERROR_TIMEOUT;
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
    case VIR_ERR_INVALID_ARG:
        return VS_ERROR_INVALID;
    default:
        break;
    }
    if (err->domain == VIR_FROM_RPC || err->domain == VIR_FROM_REMOTE)
        return VS_ERROR_CONNECT;
    return VS_ERROR_FAILED;
}

/* Set @error to "<what>: <libvirt's message>" with a code mapped from
 * libvirt's last error, or @code when @code >= 0. */
void
vsVirSetError(GError **error, int code, const char *fmt, ...)
{
    virErrorPtr err = virGetLastError();
    g_autofree char *what = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (code < 0)
        code = vsVirErrorToCode(err);
    g_set_error(error, VS_ERROR, code, "%s: %s", what,
                err && err->message ? err->message : "unknown libvirt error");
    virResetLastError();
}

int
vsVirLastErrorCode(void)
{
    virErrorPtr err = virGetLastError();

    return err ? err->code : VIR_ERR_OK;
}

static unsigned int
vsVirAffect(vsAffectFlags flags)
{
    unsigned int ret = 0;

    if (flags & VS_AFFECT_LIVE)
        ret |= VIR_DOMAIN_AFFECT_LIVE;
    if (flags & VS_AFFECT_CONFIG)
        ret |= VIR_DOMAIN_AFFECT_CONFIG;
    return ret;
}

static virConnectPtr
vsVirGetConn(vsVirConn *priv, GError **error)
{
    if (!priv->conn) {
        g_set_error(error, VS_ERROR, VS_ERROR_CONNECT,
                    "not connected to '%s' (reconnecting)", priv->display);
        return NULL;
    }
    return priv->conn;
}

virConnectPtr
vsVirConnGet(gpointer priv, GError **error)
{
    return vsVirGetConn(priv, error);
}

const char *
vsVirConnDisplay(gpointer priv)
{
    return ((vsVirConn *)priv)->display;
}

static gboolean
vsVirLooksLikeUUID(const char *s)
{
    int digits = 0;

    for (; *s; s++) {
        if (g_ascii_isxdigit(*s))
            digits++;
        else if (*s != '-')
            return FALSE;
    }
    return digits == VIR_UUID_BUFLEN * 2;
}

/* Like virsh: a UUID first, then a name. */
static virDomainPtr
vsVirLookup(vsVirConn *priv, const char *domain, GError **error)
{
    virConnectPtr conn = vsVirGetConn(priv, error);
    virDomainPtr dom = NULL;
    int code;

    if (!conn)
        return NULL;
    if (!domain) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "no domain given");
        return NULL;
    }
    if (vsVirLooksLikeUUID(domain)) {
        dom = virDomainLookupByUUIDString(conn, domain);
        if (dom)
            return dom;
        virResetLastError();
    }
    dom = virDomainLookupByName(conn, domain);
    if (dom)
        return dom;
    code = vsVirLastErrorCode();
    if (code == VIR_ERR_NO_DOMAIN) {
        virResetLastError();
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "domain '%s' not found", domain);
        return NULL;
    }
    vsVirSetError(error, -1, "cannot look up domain '%s'", domain);
    return NULL;
}

static void vsVirConnectionLost(vsVirConn *priv);
static gboolean vsVirWatch(vsVirConn *priv, GError **error);

static gboolean
vsVirLostIdle(gpointer opaque)
{
    vsVirConn *priv = opaque;

    g_mutex_lock(&priv->lock);
    g_clear_pointer(&priv->lost, g_source_unref);
    g_mutex_unlock(&priv->lock);
    if (priv->hv && priv->conn)
        vsVirConnectionLost(priv);
    return G_SOURCE_REMOVE;
}

static void
vsVirCloseCallback(virConnectPtr conn G_GNUC_UNUSED, int reason, void *opaque)
{
    vsVirConn *priv = opaque;

    if (reason == VIR_CONNECT_CLOSE_REASON_CLIENT)
        return;
    /* libvirt may call us from inside one of its own calls and with locks
     * held: handle the loss later, from the main loop. */
    g_mutex_lock(&priv->lock);
    if (!priv->lost && priv->hv) {
        priv->lost_reason = reason;
        priv->lost = g_idle_source_new();
        g_source_set_priority(priv->lost, G_PRIORITY_DEFAULT);
        g_source_set_callback(priv->lost, vsVirLostIdle, vsVirConnRef(priv),
                              vsVirConnRelease);
        g_source_attach(priv->lost, NULL);
    }
    g_mutex_unlock(&priv->lock);
}

static int
vsVirLifecycleCallback(virConnectPtr conn G_GNUC_UNUSED, virDomainPtr dom,
                       int event, int detail, void *opaque)
{
    vsVirConn *priv = opaque;
    const vsHypervisorCallbacks *cbs;
    char uuid[VIR_UUID_STRING_BUFLEN] = "";

    if (!priv->hv || event < 0 || event >= VS_DOMAIN_EVENT_LAST)
        return 0;
    cbs = vsHypervisorGetCallbacks(priv->hv);
    if (!cbs->domainLifecycle)
        return 0;
    if (virDomainGetUUIDString(dom, uuid) < 0)
        virResetLastError();
    cbs->domainLifecycle(priv->hv, virDomainGetName(dom), uuid,
                         (vsDomainEventType)event, detail, cbs->opaque);
    return 0;
}

/* Drop every registration and the connection itself. */
static void
vsVirUnwatch(vsVirConn *priv)
{
    if (!priv->conn)
        return;
    if (priv->lifecycle_id >= 0) {
        /* On a dead connection the local part still goes; ignore the rest. */
        virConnectDomainEventDeregisterAny(priv->conn, priv->lifecycle_id);
        priv->lifecycle_id = -1;
    }
    if (priv->close_cb) {
        virConnectUnregisterCloseCallback(priv->conn, vsVirCloseCallback);
        priv->close_cb = FALSE;
    }
    virConnectClose(priv->conn);
    priv->conn = NULL;
    virResetLastError();
}

static gboolean
vsVirWatch(vsVirConn *priv, GError **error)
{
    /* No reference for this one: drivers without close callbacks accept the
     * registration and never call the free function.  Unregistering waits
     * for a running callback, and we always unregister before freeing. */
    if (virConnectRegisterCloseCallback(priv->conn, vsVirCloseCallback, priv, NULL) < 0) {
        vsVirSetError(error, VS_ERROR_CONNECT,
                      "cannot watch connection to '%s'", priv->display);
        return FALSE;
    }
    priv->close_cb = TRUE;

    priv->lifecycle_id =
        virConnectDomainEventRegisterAny(priv->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(vsVirLifecycleCallback),
                                         vsVirConnRef(priv), vsVirConnRelease);
    if (priv->lifecycle_id < 0) {
        vsVirConnUnref(priv);
        vsVirSetError(error, VS_ERROR_CONNECT,
                      "cannot register for domain events on '%s'", priv->display);
        return FALSE;
    }

    /* Local drivers (test:///) have no keepalive: nothing to lose there. */
    if (virConnectSetKeepAlive(priv->conn, 5, 3) < 0)
        virResetLastError();
    return TRUE;
}

static virConnectPtr
vsVirOpen(vsVirConn *priv, GError **error)
{
    /* a watched connection reconnects from the main loop, where a password
     * prompt on the terminal would hang everything: no interactive auth */
    virConnectPtr conn = virConnectOpenAuth(priv->uri,
                                            priv->watch ? NULL : virConnectAuthPtrDefault, 0);

    if (!conn) {
        if (priv->display)
            vsVirSetError(error, VS_ERROR_CONNECT, "cannot connect to '%s'", priv->display);
        else
            vsVirSetError(error, VS_ERROR_CONNECT, "cannot connect to the default hypervisor");
    }
    return conn;
}

static void vsVirScheduleReconnect(vsVirConn *priv);

static gboolean
vsVirReconnectTimeout(gpointer opaque)
{
    vsVirConn *priv = opaque;
    const vsHypervisorCallbacks *cbs;
    g_autoptr(GError) error = NULL;

    g_clear_pointer(&priv->reconnect, g_source_unref);
    if (!priv->hv || priv->conn)
        return G_SOURCE_REMOVE;

    priv->conn = vsVirOpen(priv, &error);
    if (priv->conn && !vsVirWatch(priv, &error))
        vsVirUnwatch(priv);
    if (!priv->conn) {
        priv->backoff_ms = MIN(priv->backoff_ms * 2, priv->max_backoff_ms);
        vsVirScheduleReconnect(priv);
        return G_SOURCE_REMOVE;
    }

    priv->backoff_ms = VS_VIR_BACKOFF_START_MS;
    cbs = vsHypervisorGetCallbacks(priv->hv);
    if (cbs->reconnected)
        cbs->reconnected(priv->hv, cbs->opaque);
    return G_SOURCE_REMOVE;
}

static void
vsVirScheduleReconnect(vsVirConn *priv)
{
    guint delay = priv->backoff_ms;

    /* A little jitter so that many controllers do not knock in step. */
    delay += g_random_int_range(0, (gint32)(delay / 10) + 1);
    priv->reconnect = g_timeout_source_new(delay);
    g_source_set_callback(priv->reconnect, vsVirReconnectTimeout,
                          vsVirConnRef(priv), vsVirConnRelease);
    g_source_attach(priv->reconnect, NULL);
}

static const char *
vsVirCloseReasonToString(int reason)
{
    switch (reason) {
    case VIR_CONNECT_CLOSE_REASON_ERROR:
        return "connection error";
    case VIR_CONNECT_CLOSE_REASON_EOF:
        return "end of file from server";
    case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
        return "keepalive timeout";
    case VIR_CONNECT_CLOSE_REASON_CLIENT:
        return "closed by client";
    default:
        return "unknown reason";
    }
}

static void
vsVirConnectionLost(vsVirConn *priv)
{
    const vsHypervisorCallbacks *cbs = vsHypervisorGetCallbacks(priv->hv);
    g_autoptr(vsVirConn) hold = vsVirConnRef(priv);
    int reason;

    g_mutex_lock(&priv->lock);
    reason = priv->lost_reason;
    g_mutex_unlock(&priv->lock);

    vsVirUnwatch(priv);
    priv->backoff_ms = MIN(VS_VIR_BACKOFF_START_MS, priv->max_backoff_ms);
    if (cbs->disconnected)
        cbs->disconnected(priv->hv, vsVirCloseReasonToString(reason), cbs->opaque);
    /* The callback may have closed us. */
    if (priv->hv && !priv->reconnect)
        vsVirScheduleReconnect(priv);
}

static gboolean
vsVirHasCallbacks(vsHypervisor *hv)
{
    const vsHypervisorCallbacks *cbs = hv ? vsHypervisorGetCallbacks(hv) : NULL;

    return cbs && (cbs->domainLifecycle || cbs->disconnected || cbs->reconnected);
}

static gpointer
vsVirDriverOpen(vsHypervisor *hv, const char *uri, guint max_backoff_ms,
                GError **error)
{
    vsVirConn *priv;
    char *canon;

    vsVirInit();

    priv = g_new0(vsVirConn, 1);
    priv->refs = 1;
    g_mutex_init(&priv->lock);
    priv->hv = hv;
    priv->uri = g_strdup(uri);
    priv->display = g_strdup(uri);
    priv->max_backoff_ms = MAX(max_backoff_ms, VS_VIR_BACKOFF_START_MS);
    priv->backoff_ms = VS_VIR_BACKOFF_START_MS;
    priv->lifecycle_id = -1;
    priv->watch = vsVirHasCallbacks(hv);

    if (!(priv->conn = vsVirOpen(priv, error))) {
        vsVirConnUnref(priv);
        return NULL;
    }
    if (!priv->display && (canon = virConnectGetURI(priv->conn))) {
        priv->display = g_strdup(canon);
        free(canon);
    }
    /* Reconnect to the same place even if the default changes meanwhile. */
    if (!priv->uri)
        priv->uri = g_strdup(priv->display);

    if (priv->watch && !vsVirWatch(priv, error)) {
        priv->hv = NULL;
        vsVirUnwatch(priv);
        vsVirConnUnref(priv);
        return NULL;
    }
    return priv;
}

static void
vsVirDriverClose(gpointer opaque)
{
    vsVirConn *priv = opaque;

    if (!priv)
        return;
    if (priv->reconnect) {
        g_source_destroy(priv->reconnect);
        g_clear_pointer(&priv->reconnect, g_source_unref);
    }
    g_mutex_lock(&priv->lock);
    priv->hv = NULL;
    if (priv->lost) {
        g_source_destroy(priv->lost);
        g_clear_pointer(&priv->lost, g_source_unref);
    }
    g_mutex_unlock(&priv->lock);
    vsVirUnwatch(priv);
    vsVirConnUnref(priv);
}

static char *
vsVirDriverGetURI(gpointer opaque)
{
    vsVirConn *priv = opaque;
    char *uri;
    char *ret;

    if (!priv->conn)
        return NULL;
    if (!(uri = virConnectGetURI(priv->conn))) {
        virResetLastError();
        return NULL;
    }
    ret = g_strdup(uri);
    free(uri);
    return ret;
}

static gboolean
vsVirDriverIsAlive(gpointer opaque)
{
    vsVirConn *priv = opaque;

    if (!priv->conn)
        return FALSE;
    if (virConnectIsAlive(priv->conn) == 1)
        return TRUE;
    virResetLastError();
    return FALSE;
}

static vsDomainInfo *
vsVirDomainInfo(virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    vsDomainInfo *info;
    unsigned int id;
    int state;
    int reason;
    int persistent;

    if (virDomainGetUUIDString(dom, uuid) < 0)
        virResetLastError();
    info = vsDomainInfoNew(virDomainGetName(dom), uuid);
    id = virDomainGetID(dom);
    info->id = id == (unsigned int)-1 ? -1 : (int)id;
    /* The domain may vanish meanwhile: report what we can. */
    if (virDomainGetState(dom, &state, &reason, 0) == 0 &&
        state >= 0 && state < VS_DOMAIN_STATE_LAST)
        info->state = (vsDomainState)state;
    else
        virResetLastError();
    persistent = virDomainIsPersistent(dom);
    if (persistent < 0)
        virResetLastError();
    info->persistent = persistent == 1;
    return info;
}

static GPtrArray *
vsVirDriverListDomains(gpointer opaque, GError **error)
{
    vsVirConn *priv = opaque;
    virConnectPtr conn = vsVirGetConn(priv, error);
    virDomainPtr *doms = NULL;
    GPtrArray *ret;
    int n;
    int i;

    if (!conn)
        return NULL;
    if ((n = virConnectListAllDomains(conn, &doms, 0)) < 0) {
        vsVirSetError(error, -1, "cannot list domains on '%s'", priv->display);
        return NULL;
    }
    ret = g_ptr_array_new_full(n, (GDestroyNotify)vsDomainInfoFree);
    for (i = 0; i < n; i++) {
        g_ptr_array_add(ret, vsVirDomainInfo(doms[i]));
        virDomainFree(doms[i]);
    }
    free(doms);
    return ret;
}

static vsDomainInfo *
vsVirDriverLookupDomain(gpointer opaque, const char *domain, GError **error)
{
    g_autoptr(vsVirDomain) dom = vsVirLookup(opaque, domain, error);

    if (!dom)
        return NULL;
    return vsVirDomainInfo(dom);
}

static char *
vsVirDriverGetDomainXML(gpointer opaque, const char *domain, gboolean inactive,
                        GError **error)
{
    g_autoptr(vsVirDomain) dom = vsVirLookup(opaque, domain, error);
    char *xml;
    char *ret;

    if (!dom)
        return NULL;
    if (!(xml = virDomainGetXMLDesc(dom, inactive ? VIR_DOMAIN_XML_INACTIVE : 0))) {
        vsVirSetError(error, -1, "cannot get XML of domain '%s'", domain);
        return NULL;
    }
    ret = g_strdup(xml);
    free(xml);
    return ret;
}

static char *
vsVirDriverDefineDomainXML(gpointer opaque, const char *xml, GError **error)
{
    vsVirConn *priv = opaque;
    virConnectPtr conn = vsVirGetConn(priv, error);
    g_autoptr(vsVirDomain) dom = NULL;

    if (!conn)
        return NULL;
    if (!(dom = virDomainDefineXML(conn, xml))) {
        vsVirSetError(error, -1, "cannot define domain on '%s'", priv->display);
        return NULL;
    }
    return g_strdup(virDomainGetName(dom));
}

static char *
vsVirDriverCreateDomainXML(gpointer opaque, const char *xml, gboolean autodestroy,
                           GError **error)
{
    vsVirConn *priv = opaque;
    virConnectPtr conn = vsVirGetConn(priv, error);
    g_autoptr(vsVirDomain) dom = NULL;

    if (!conn)
        return NULL;
    dom = virDomainCreateXML(conn, xml, autodestroy ? VIR_DOMAIN_START_AUTODESTROY : 0);
    if (!dom) {
        vsVirSetError(error, -1, "cannot create domain on '%s'", priv->display);
        return NULL;
    }
    return g_strdup(virDomainGetName(dom));
}

static gboolean
vsVirDriverStartDomain(gpointer opaque, const char *domain, GError **error)
{
    g_autoptr(vsVirDomain) dom = vsVirLookup(opaque, domain, error);

    if (!dom)
        return FALSE;
    if (virDomainCreate(dom) < 0) {
        vsVirSetError(error, -1, "cannot start domain '%s'", domain);
        return FALSE;
    }
    return TRUE;
}

static gboolean
vsVirDriverDestroyDomain(gpointer opaque, const char *domain, GError **error)
{
    g_autoptr(vsVirDomain) dom = vsVirLookup(opaque, domain, error);

    if (!dom)
        return FALSE;
    if (virDomainIsActive(dom) == 0)
        return TRUE;
    if (virDomainDestroy(dom) < 0) {
        /* It may have stopped by itself in between. */
        if (vsVirLastErrorCode() == VIR_ERR_OPERATION_INVALID &&
            virDomainIsActive(dom) == 0) {
            virResetLastError();
            return TRUE;
        }
        vsVirSetError(error, -1, "cannot destroy domain '%s'", domain);
        return FALSE;
    }
    return TRUE;
}

static gboolean
vsVirDriverUndefineDomain(gpointer opaque, const char *domain, GError **error)
{
    g_autoptr(vsVirDomain) dom = vsVirLookup(opaque, domain, error);
    int code;

    if (!dom)
        return FALSE;
    if (virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                               VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                               VIR_DOMAIN_UNDEFINE_NVRAM) == 0)
        return TRUE;
    /* Older or other drivers may not know some of those flags. */
    code = vsVirLastErrorCode();
    if (code == VIR_ERR_INVALID_ARG || code == VIR_ERR_NO_SUPPORT) {
        virResetLastError();
        if (virDomainUndefine(dom) == 0)
            return TRUE;
    }
    vsVirSetError(error, -1, "cannot undefine domain '%s'", domain);
    return FALSE;
}

static char *
vsVirDriverGetMetadata(gpointer opaque, const char *domain, vsAffectFlags flags,
                       GError **error)
{
    g_autoptr(vsVirDomain) dom = vsVirLookup(opaque, domain, error);
    char *xml;
    char *ret;

    if (!dom)
        return NULL;
    xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VS_METADATA_NS,
                               vsVirAffect(flags));
    if (!xml) {
        if (vsVirLastErrorCode() == VIR_ERR_NO_DOMAIN_METADATA) {
            virResetLastError();
            g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                        "domain '%s' has no virt-shadow metadata", domain);
            return NULL;
        }
        vsVirSetError(error, -1, "cannot get metadata of domain '%s'", domain);
        return NULL;
    }
    ret = g_strdup(xml);
    free(xml);
    return ret;
}

static gboolean
vsVirDriverSetMetadata(gpointer opaque, const char *domain, const char *xml,
                       vsAffectFlags flags, GError **error)
{
    g_autoptr(vsVirDomain) dom = vsVirLookup(opaque, domain, error);

    if (!dom)
        return FALSE;
    if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml,
                             xml ? VS_METADATA_PREFIX : NULL, VS_METADATA_NS,
                             vsVirAffect(flags)) < 0) {
        vsVirSetError(error, -1, "cannot %s metadata of domain '%s'",
                      xml ? "set" : "remove", domain);
        return FALSE;
    }
    return TRUE;
}

static char *
vsVirDriverGetCapabilities(gpointer opaque, GError **error)
{
    vsVirConn *priv = opaque;
    virConnectPtr conn = vsVirGetConn(priv, error);
    char *xml;
    char *ret;

    if (!conn)
        return NULL;
    if (!(xml = virConnectGetCapabilities(conn))) {
        vsVirSetError(error, -1, "cannot get capabilities of '%s'", priv->display);
        return NULL;
    }
    ret = g_strdup(xml);
    free(xml);
    return ret;
}

static char *
vsVirDriverGetDomainCapabilities(gpointer opaque, const char *virttype,
                                 GError **error)
{
    vsVirConn *priv = opaque;
    virConnectPtr conn = vsVirGetConn(priv, error);
    char *xml;
    char *ret;

    if (!conn)
        return NULL;
    if (!(xml = virConnectGetDomainCapabilities(conn, NULL, NULL, NULL, virttype, 0))) {
        vsVirSetError(error, -1, "cannot get domain capabilities of '%s'", priv->display);
        return NULL;
    }
    ret = g_strdup(xml);
    free(xml);
    return ret;
}

static gboolean
vsVirDriverGetHostSize(gpointer opaque, double *ret_cpus, double *ret_memory_kib,
                       GError **error)
{
    vsVirConn *priv = opaque;
    virConnectPtr conn = vsVirGetConn(priv, error);
    virNodeInfo info;

    if (!conn)
        return FALSE;
    if (virNodeGetInfo(conn, &info) < 0) {
        vsVirSetError(error, -1, "cannot get the host's size from '%s'", priv->display);
        return FALSE;
    }
    *ret_cpus = info.cpus;
    *ret_memory_kib = (double)info.memory;
    return TRUE;
}

static char *
vsVirDriverAgentCommand(gpointer opaque, const char *domain, const char *json,
                        int timeout_s, GError **error)
{
    g_autoptr(vsVirDomain) dom = vsVirLookup(opaque, domain, error);
    char *reply;
    char *ret;

    if (!dom)
        return NULL;
    reply = virDomainQemuAgentCommand(dom, json,
                                      timeout_s < 0 ? VIR_DOMAIN_QEMU_AGENT_COMMAND_DEFAULT
                                                    : timeout_s, 0);
    if (!reply) {
        vsVirSetError(error, -1, "guest agent of domain '%s' failed", domain);
        return NULL;
    }
    ret = g_strdup(reply);
    free(reply);
    return ret;
}

static gboolean
vsVirDriverSetVcpus(gpointer opaque, const char *domain, guint count,
                    vsAffectFlags flags, GError **error)
{
    g_autoptr(vsVirDomain) dom = vsVirLookup(opaque, domain, error);
    unsigned int vflags = vsVirAffect(flags);

    if (!dom)
        return FALSE;
    if (flags & VS_VCPU_GUEST)
        vflags |= VIR_DOMAIN_VCPU_GUEST;
    if (virDomainSetVcpusFlags(dom, count, vflags) < 0) {
        vsVirSetError(error, -1, "cannot set vCPUs of domain '%s' to %u", domain, count);
        return FALSE;
    }
    return TRUE;
}

static gboolean
vsVirDriverSetMemory(gpointer opaque, const char *domain, guint64 kib,
                     vsAffectFlags flags, GError **error)
{
    g_autoptr(vsVirDomain) dom = vsVirLookup(opaque, domain, error);

    if (!dom)
        return FALSE;
    if (kib > G_MAXULONG) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "memory size '%" G_GUINT64_FORMAT "' KiB is too large", kib);
        return FALSE;
    }
    if (virDomainSetMemoryFlags(dom, (unsigned long)kib, vsVirAffect(flags)) < 0) {
        vsVirSetError(error, -1, "cannot set memory of domain '%s'", domain);
        return FALSE;
    }
    return TRUE;
}

/* The number of CPUs in a list such as "0-1,3"; -1 when malformed. */
static int
vsVirCountCpuList(const char *list)
{
    g_auto(GStrv) parts = g_strsplit(list, ",", -1);
    int count = 0;

    for (guint i = 0; parts[i]; i++) {
        guint64 lo, hi;
        char *end;

        if (!*parts[i])
            continue;
        lo = hi = g_ascii_strtoull(parts[i], &end, 10);
        if (end == parts[i])
            return -1;
        if (*end == '-') {
            const char *from = end + 1;

            hi = g_ascii_strtoull(from, &end, 10);
            if (end == from || hi < lo)
                return -1;
        }
        if (*end)
            return -1;
        count += (int)(hi - lo + 1);
    }
    return count;
}

/* Online vCPUs in the guest as its agent reports them; -1 when there is
 * no agent to ask. */
static int
vsVirGuestVcpus(virDomainPtr dom)
{
    virTypedParameterPtr params = NULL;
    unsigned int n = 0;
    const char *online = NULL;
    int count;

    if (virDomainGetGuestVcpus(dom, &params, &n, 0) < 0) {
        virResetLastError();
        return -1;
    }
    if (virTypedParamsGetString(params, (int)n, "online", &online) <= 0)
        online = NULL;
    count = online ? vsVirCountCpuList(online) : -1;
    virTypedParamsFree(params, (int)n);
    return count;
}

/* Memory the guest uses: what it has less what it could give back at
 * once (caches included when the balloon reports "usable"); 0 unknown. */
static guint64
vsVirUsedMemory(virDomainPtr dom)
{
    virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
    guint64 available = 0, usable = 0, unused = 0;
    int n = virDomainMemoryStats(dom, stats, VIR_DOMAIN_MEMORY_STAT_NR, 0);

    if (n < 0) {
        virResetLastError();
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (stats[i].tag == VIR_DOMAIN_MEMORY_STAT_AVAILABLE)
            available = stats[i].val;
        else if (stats[i].tag == VIR_DOMAIN_MEMORY_STAT_USABLE)
            usable = stats[i].val;
        else if (stats[i].tag == VIR_DOMAIN_MEMORY_STAT_UNUSED)
            unused = stats[i].val;
    }
    if (!available || (!usable && !unused))
        return 0;
    return available - MIN(available, usable ? usable : unused);
}

static gboolean
vsVirDriverGetResources(gpointer opaque, const char *domain, vsDomainResources *ret,
                        GError **error)
{
    g_autoptr(vsVirDomain) dom = vsVirLookup(opaque, domain, error);
    virDomainInfo info;
    int max_vcpus;

    if (!dom)
        return FALSE;
    if (virDomainGetInfo(dom, &info) < 0) {
        vsVirSetError(error, -1, "cannot get the state of domain '%s'", domain);
        return FALSE;
    }
    if (info.state != VIR_DOMAIN_RUNNING && info.state != VIR_DOMAIN_PAUSED &&
        info.state != VIR_DOMAIN_BLOCKED) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "domain '%s' is not running", domain);
        return FALSE;
    }
    max_vcpus = virDomainGetVcpusFlags(dom, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_VCPU_MAXIMUM);
    if (max_vcpus < 0) {
        vsVirSetError(error, -1, "cannot get the vCPUs of domain '%s'", domain);
        return FALSE;
    }
    *ret = (vsDomainResources){
        .vcpus = info.nrVirtCpu,
        .max_vcpus = (guint)max_vcpus,
        .guest_vcpus = vsVirGuestVcpus(dom),
        .memory_kib = info.memory,
        .max_memory_kib = info.maxMem,
        .used_kib = vsVirUsedMemory(dom),
    };
    return TRUE;
}

static gboolean
vsVirDriverSetMemoryStatsPeriod(gpointer opaque, const char *domain, int period_s,
                                vsAffectFlags flags, GError **error)
{
    g_autoptr(vsVirDomain) dom = vsVirLookup(opaque, domain, error);

    if (!dom)
        return FALSE;
    if (virDomainSetMemoryStatsPeriod(dom, period_s, vsVirAffect(flags)) < 0) {
        vsVirSetError(error, -1, "cannot set memory stats period of domain '%s'", domain);
        return FALSE;
    }
    return TRUE;
}

GVariant *
vsVirTypedParamToVariant(const virTypedParameter *param)
{
    switch (param->type) {
    case VIR_TYPED_PARAM_INT:
        return g_variant_new_int32(param->value.i);
    case VIR_TYPED_PARAM_UINT:
        return g_variant_new_uint32(param->value.ui);
    case VIR_TYPED_PARAM_LLONG:
        return g_variant_new_int64(param->value.l);
    case VIR_TYPED_PARAM_ULLONG:
        return g_variant_new_uint64(param->value.ul);
    case VIR_TYPED_PARAM_DOUBLE:
        return g_variant_new_double(param->value.d);
    case VIR_TYPED_PARAM_BOOLEAN:
        return g_variant_new_boolean(param->value.b != 0);
    case VIR_TYPED_PARAM_STRING:
        if (!param->value.s || !g_utf8_validate(param->value.s, -1, NULL))
            return NULL;
        return g_variant_new_string(param->value.s);
    default:
        return NULL;
    }
}

static GPtrArray *
vsVirDriverGetAllDomainStats(gpointer opaque, vsStatsGroups groups,
                             gboolean running_only, GError **error)
{
    vsVirConn *priv = opaque;
    virConnectPtr conn = vsVirGetConn(priv, error);
    virDomainStatsRecordPtr *records = NULL;
    virDomainStatsRecordPtr *rec;
    unsigned int stats = 0;
    unsigned int flags = VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
    GPtrArray *ret;

    if (!conn)
        return NULL;
    if (groups & VS_STATS_STATE)
        stats |= VIR_DOMAIN_STATS_STATE;
    if (groups & VS_STATS_CPU_TOTAL)
        stats |= VIR_DOMAIN_STATS_CPU_TOTAL;
    if (groups & VS_STATS_BALLOON)
        stats |= VIR_DOMAIN_STATS_BALLOON;
    if (groups & VS_STATS_VCPU)
        stats |= VIR_DOMAIN_STATS_VCPU;
    if (groups & VS_STATS_INTERFACE)
        stats |= VIR_DOMAIN_STATS_INTERFACE;
    if (groups & VS_STATS_BLOCK)
        stats |= VIR_DOMAIN_STATS_BLOCK;
    if (running_only)
        flags |= VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE;

    if (virConnectGetAllDomainStats(conn, stats, &records, flags) < 0) {
        vsVirSetError(error, -1, "cannot get domain stats from '%s'", priv->display);
        return NULL;
    }
    ret = g_ptr_array_new_with_free_func((GDestroyNotify)vsDomainStatsFree);
    for (rec = records; *rec; rec++) {
        char uuid[VIR_UUID_STRING_BUFLEN] = "";
        vsDomainStats *ds;
        int i;

        if (virDomainGetUUIDString((*rec)->dom, uuid) < 0)
            virResetLastError();
        ds = vsDomainStatsNew(virDomainGetName((*rec)->dom), uuid);
        for (i = 0; i < (*rec)->nparams; i++) {
            const virTypedParameter *param = &(*rec)->params[i];
            GVariant *v = vsVirTypedParamToVariant(param);

            if (v)
                g_hash_table_replace(ds->fields, g_strdup(param->field),
                                     g_variant_ref_sink(v));
        }
        g_ptr_array_add(ret, ds);
    }
    virDomainStatsRecordListFree(records);
    return ret;
}

/* --- the sampler's hot path ---------------------------------------------- */

G_STATIC_ASSERT(VS_UUID_STRLEN == VIR_UUID_STRING_BUFLEN);

/* An integer parameter as an unsigned value; FALSE for other types and
 * negative values (a counter that cannot be trusted is left out). */
static inline gboolean
vsVirParamUInt64(const virTypedParameter *param, guint64 *ret)
{
    switch (param->type) {
    case VIR_TYPED_PARAM_ULLONG:
        *ret = param->value.ul;
        return TRUE;
    case VIR_TYPED_PARAM_UINT:
        *ret = param->value.ui;
        return TRUE;
    case VIR_TYPED_PARAM_LLONG:
        if (param->value.l < 0)
            return FALSE;
        *ret = (guint64)param->value.l;
        return TRUE;
    case VIR_TYPED_PARAM_INT:
        if (param->value.i < 0)
            return FALSE;
        *ret = (guint64)param->value.i;
        return TRUE;
    default:
        return FALSE;
    }
}

/* Store @param in *@field and mark @bit when it is a usable integer. */
static inline void
vsVirParamSet(const virTypedParameter *param, guint64 *field, guint32 *present,
              guint32 bit)
{
    if (vsVirParamUInt64(param, field))
        *present |= bit;
}

/* Add @param to *@sum and mark @bit when it is a usable integer. */
static inline void
vsVirParamAdd(const virTypedParameter *param, guint64 *sum, guint32 *present,
              guint32 bit)
{
    guint64 v;

    if (vsVirParamUInt64(param, &v)) {
        *sum += v;
        *present |= bit;
    }
}

/* Is the field text at @s, which has @room bytes left of its
 * VIR_TYPED_PARAM_FIELD_LENGTH array, exactly @lit?  Comparing with the
 * terminator included and a constant length compiles to a few word loads
 * instead of a strcmp call: this runs for every parameter of every domain
 * on every cycle. */
#define VS_VIR_FIELD_IS(s, room, lit) \
    (sizeof(lit) <= (size_t)(room) && memcmp((s), (lit), sizeof(lit)) == 0)
/* Does the field start with @lit?  Only for @s at the start of the field,
 * where every literal of ours fits. */
#define VS_VIR_FIELD_HAS_PREFIX(s, lit) (memcmp((s), (lit), sizeof(lit) - 1) == 0)

/* After "block." or "net.": skip the device index "N." and return the rest,
 * or NULL for "count" and anything else without an index. */
static inline const char *
vsVirSkipIndex(const char *s)
{
    if (!g_ascii_isdigit(*s))
        return NULL;
    while (g_ascii_isdigit(*s))
        s++;
    return *s == '.' ? s + 1 : NULL;
}

static inline void
vsVirParamBalloon(const virTypedParameter *param, const char *what, size_t room,
                  vsDomainCounters *c)
{
    switch (what[0]) {
    case 'a':
        if (VS_VIR_FIELD_IS(what, room, "available"))
            vsVirParamSet(param, &c->balloon_available_kib, &c->present,
                          VS_COUNTER_BALLOON_AVAILABLE);
        break;
    case 'c':
        if (VS_VIR_FIELD_IS(what, room, "current"))
            vsVirParamSet(param, &c->balloon_current_kib, &c->present,
                          VS_COUNTER_BALLOON_CURRENT);
        break;
    case 'l':
        if (VS_VIR_FIELD_IS(what, room, "last-update"))
            vsVirParamSet(param, &c->balloon_last_update, &c->present,
                          VS_COUNTER_BALLOON_LAST_UPDATE);
        break;
    case 'm':
        if (VS_VIR_FIELD_IS(what, room, "maximum"))
            vsVirParamSet(param, &c->balloon_maximum_kib, &c->present,
                          VS_COUNTER_BALLOON_MAXIMUM);
        break;
    case 'r':
        if (VS_VIR_FIELD_IS(what, room, "rss"))
            vsVirParamSet(param, &c->balloon_rss_kib, &c->present,
                          VS_COUNTER_BALLOON_RSS);
        break;
    case 'u':
        if (VS_VIR_FIELD_IS(what, room, "unused"))
            vsVirParamSet(param, &c->balloon_unused_kib, &c->present,
                          VS_COUNTER_BALLOON_UNUSED);
        else if (VS_VIR_FIELD_IS(what, room, "usable"))
            vsVirParamSet(param, &c->balloon_usable_kib, &c->present,
                          VS_COUNTER_BALLOON_USABLE);
        break;
    default:
        break;
    }
}

/* "block.N.<what>": we never ask for backing chains (no
 * VIR_CONNECT_GET_ALL_DOMAINS_STATS_BACKING), so every N is a distinct
 * top-level disk and summing does not count an image twice. */
static inline void
vsVirParamBlock(const virTypedParameter *param, const char *what, size_t room,
                vsDomainCounters *c)
{
    if (VS_VIR_FIELD_IS(what, room, "rd.bytes"))
        vsVirParamAdd(param, &c->block_rd_bytes, &c->present, VS_COUNTER_BLOCK);
    else if (VS_VIR_FIELD_IS(what, room, "wr.bytes"))
        vsVirParamAdd(param, &c->block_wr_bytes, &c->present, VS_COUNTER_BLOCK);
    else if (VS_VIR_FIELD_IS(what, room, "rd.reqs"))
        vsVirParamAdd(param, &c->block_rd_reqs, &c->present, VS_COUNTER_BLOCK);
    else if (VS_VIR_FIELD_IS(what, room, "wr.reqs"))
        vsVirParamAdd(param, &c->block_wr_reqs, &c->present, VS_COUNTER_BLOCK);
}

static inline void
vsVirParamNet(const virTypedParameter *param, const char *what, size_t room,
              vsDomainCounters *c)
{
    if (VS_VIR_FIELD_IS(what, room, "rx.bytes"))
        vsVirParamAdd(param, &c->net_rx_bytes, &c->present, VS_COUNTER_NET);
    else if (VS_VIR_FIELD_IS(what, room, "tx.bytes"))
        vsVirParamAdd(param, &c->net_tx_bytes, &c->present, VS_COUNTER_NET);
}

void
vsVirStatsParamsToCounters(virTypedParameterPtr params, int nparams,
                           vsDomainCounters *ret)
{
    /* Fill a fresh copy so that nothing from a previous cycle survives. */
    vsDomainCounters c = { .name = ret->name };
    guint64 v;
    int i;

    memcpy(c.uuid, ret->uuid, sizeof(c.uuid));
    for (i = 0; i < nparams; i++) {
        const virTypedParameter *param = &params[i];
        const char *f = param->field;
        const size_t len = VIR_TYPED_PARAM_FIELD_LENGTH;
        const char *rest;

        /* One switch on the first character keeps most fields we do not
         * want (vcpu.N.*, block.N.name, ...) to a couple of comparisons. */
        switch (f[0]) {
        case 's':
            if (VS_VIR_FIELD_IS(f, len, "state.state") && vsVirParamUInt64(param, &v) &&
                v < VS_DOMAIN_STATE_LAST) {
                c.state = (int)v;
                c.present |= VS_COUNTER_STATE;
            }
            break;
        case 'c':
            if (VS_VIR_FIELD_IS(f, len, "cpu.time"))
                vsVirParamSet(param, &c.cpu_time_ns, &c.present, VS_COUNTER_CPU_TIME);
            break;
        case 'v':
            if (!VS_VIR_FIELD_HAS_PREFIX(f, "vcpu.") || g_ascii_isdigit(f[5]))
                break;
            if (VS_VIR_FIELD_IS(f + 5, len - 5, "current")) {
                if (vsVirParamUInt64(param, &v) && v <= G_MAXUINT32) {
                    c.vcpu_current = (guint32)v;
                    c.present |= VS_COUNTER_VCPU_CURRENT;
                }
            } else if (VS_VIR_FIELD_IS(f + 5, len - 5, "maximum")) {
                if (vsVirParamUInt64(param, &v) && v <= G_MAXUINT32) {
                    c.vcpu_maximum = (guint32)v;
                    c.present |= VS_COUNTER_VCPU_MAXIMUM;
                }
            }
            break;
        case 'b':
            if (VS_VIR_FIELD_HAS_PREFIX(f, "balloon."))
                vsVirParamBalloon(param, f + 8, len - 8, &c);
            else if (VS_VIR_FIELD_HAS_PREFIX(f, "block.") && (rest = vsVirSkipIndex(f + 6)))
                vsVirParamBlock(param, rest, len - (size_t)(rest - f), &c);
            break;
        case 'n':
            if (VS_VIR_FIELD_HAS_PREFIX(f, "net.") && (rest = vsVirSkipIndex(f + 4)))
                vsVirParamNet(param, rest, len - (size_t)(rest - f), &c);
            break;
        default:
            break;
        }
    }
    *ret = c;
}

void
vsVirStatsRecordToCounters(virDomainStatsRecordPtr rec, vsDomainCounters *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (rec->dom) {
        /* Both are answered from the local virDomain object, no RPC. */
        if (virDomainGetUUIDString(rec->dom, ret->uuid) < 0) {
            ret->uuid[0] = '\0';
            virResetLastError();
        }
        ret->name = g_strdup(virDomainGetName(rec->dom));
    }
    vsVirStatsParamsToCounters(rec->params, rec->nparams, ret);
}

static gboolean
vsVirDriverGetDomainCounters(gpointer opaque, const char *domain, vsDomainCounters *ret,
                             GError **error)
{
    g_autoptr(vsVirDomain) dom = vsVirLookup(opaque, domain, error);
    virDomainPtr doms[2] = { NULL, NULL };
    virDomainStatsRecordPtr *records = NULL;
    unsigned int stats = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL |
                         VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU |
                         VIR_DOMAIN_STATS_BLOCK | VIR_DOMAIN_STATS_INTERFACE;
    int n;

    if (!dom)
        return FALSE;
    doms[0] = dom;
    n = virDomainListGetStats(doms, stats, &records, VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
    if (n < 0) {
        vsVirSetError(error, -1, "cannot get stats of domain '%s'", domain);
        return FALSE;
    }
    if (n < 1) {
        virDomainStatsRecordListFree(records);
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "no stats for domain '%s'", domain);
        return FALSE;
    }
    vsVirStatsRecordToCounters(records[0], ret);
    virDomainStatsRecordListFree(records);
    return TRUE;
}

static GArray *
vsVirDriverCollectCounters(gpointer opaque, GError **error)
{
    vsVirConn *priv = opaque;
    virConnectPtr conn = vsVirGetConn(priv, error);
    virDomainStatsRecordPtr *records = NULL;
    unsigned int stats = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL |
                         VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU |
                         VIR_DOMAIN_STATS_BLOCK | VIR_DOMAIN_STATS_INTERFACE;
    /* NOWAIT: a domain stuck in a long job gives what it can instead of
     * stalling the whole cycle. */
    unsigned int flags = VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE |
                         VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
    GArray *ret;
    int n;
    int i;

    if (!conn)
        return NULL;
    if ((n = virConnectGetAllDomainStats(conn, stats, &records, flags)) < 0) {
        vsVirSetError(error, -1, "cannot get domain stats from '%s'", priv->display);
        return NULL;
    }
    ret = g_array_sized_new(FALSE, TRUE, sizeof(vsDomainCounters), n);
    g_array_set_clear_func(ret, (GDestroyNotify)vsDomainCountersClear);
    g_array_set_size(ret, n);
    for (i = 0; i < n; i++)
        vsVirStatsRecordToCounters(records[i], &g_array_index(ret, vsDomainCounters, i));
    virDomainStatsRecordListFree(records);
    return ret;
}

const vsHypervisorDriver vsLibvirtHypervisorDriver = {
    .name = "libvirt",
    .open = vsVirDriverOpen,
    .close = vsVirDriverClose,
    .getURI = vsVirDriverGetURI,
    .isAlive = vsVirDriverIsAlive,
    .listDomains = vsVirDriverListDomains,
    .lookupDomain = vsVirDriverLookupDomain,
    .getDomainXML = vsVirDriverGetDomainXML,
    .defineDomainXML = vsVirDriverDefineDomainXML,
    .createDomainXML = vsVirDriverCreateDomainXML,
    .startDomain = vsVirDriverStartDomain,
    .destroyDomain = vsVirDriverDestroyDomain,
    .undefineDomain = vsVirDriverUndefineDomain,
    .getMetadata = vsVirDriverGetMetadata,
    .setMetadata = vsVirDriverSetMetadata,
    .getCapabilities = vsVirDriverGetCapabilities,
    .getDomainCapabilities = vsVirDriverGetDomainCapabilities,
    .agentCommand = vsVirDriverAgentCommand,
    .setVcpus = vsVirDriverSetVcpus,
    .setMemory = vsVirDriverSetMemory,
    .getResources = vsVirDriverGetResources,
    .getHostSize = vsVirDriverGetHostSize,
    .setMemoryStatsPeriod = vsVirDriverSetMemoryStatsPeriod,
    .getAllDomainStats = vsVirDriverGetAllDomainStats,
    .collectCounters = vsVirDriverCollectCounters,
    .getDomainCounters = vsVirDriverGetDomainCounters,
    .createOverlay = vsVirStorageCreateOverlay,
    .copyVolume = vsVirStorageCopyVolume,
    .deleteVolume = vsVirStorageDeleteVolume,
    .listVolumes = vsVirStorageListVolumes,
    .getVolumePath = vsVirStorageGetVolumePath,
};
