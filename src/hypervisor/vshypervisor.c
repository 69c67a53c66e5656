/*
 * vshypervisor.c: wrappers around the hypervisor driver table
 */
#include <config.h>

#include "vshypervisor.h"
#include "util/vserror.h"

struct _vsHypervisor {
    const vsHypervisorDriver *driver;
    gpointer priv;
    vsHypervisorCallbacks cbs;
};

static const vsHypervisorDriver *vsHypervisorDriverRegistered;

static const char *const vsDomainStateNames[VS_DOMAIN_STATE_LAST] = {
    "nostate", "running", "blocked", "paused", "shutdown", "shutoff",
    "crashed", "pmsuspended",
};

static const char *const vsDomainEventNames[VS_DOMAIN_EVENT_LAST] = {
    "defined", "undefined", "started", "suspended", "resumed", "stopped",
    "shutdown", "pmsuspended", "crashed",
};

const char *
vsDomainStateToString(vsDomainState state)
{
    if ((int)state < 0 || state >= VS_DOMAIN_STATE_LAST)
        return "unknown";
    return vsDomainStateNames[state];
}

const char *
vsDomainEventTypeToString(vsDomainEventType event)
{
    if ((int)event < 0 || event >= VS_DOMAIN_EVENT_LAST)
        return "unknown";
    return vsDomainEventNames[event];
}

vsDomainInfo *
vsDomainInfoNew(const char *name, const char *uuid)
{
    vsDomainInfo *info = g_new0(vsDomainInfo, 1);

    info->name = g_strdup(name);
    info->uuid = g_strdup(uuid);
    info->id = -1;
    return info;
}

void
vsDomainInfoFree(vsDomainInfo *info)
{
    if (!info)
        return;
    g_free(info->name);
    g_free(info->uuid);
    g_free(info);
}

void
vsHypervisorRegisterDriver(const vsHypervisorDriver *driver)
{
    vsHypervisorDriverRegistered = driver;
}

vsHypervisor *
vsHypervisorOpen(const char *uri, const vsHypervisorCallbacks *cbs, GError **error)
{
    g_autoptr(vsHypervisor) hv = NULL;

    if (!vsHypervisorDriverRegistered) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED, "no hypervisor driver registered");
        return NULL;
    }
    hv = g_new0(vsHypervisor, 1);
    hv->driver = vsHypervisorDriverRegistered;
    if (cbs)
        hv->cbs = *cbs;
    hv->priv = hv->driver->open(hv, uri, VS_HYPERVISOR_MAX_BACKOFF_MS, error);
    if (!hv->priv)
        return NULL;
    return g_steal_pointer(&hv);
}

void
vsHypervisorFree(vsHypervisor *hv)
{
    if (!hv)
        return;
    if (hv->priv)
        hv->driver->close(hv->priv);
    g_free(hv);
}

const vsHypervisorCallbacks *
vsHypervisorGetCallbacks(vsHypervisor *hv)
{
    return &hv->cbs;
}

static gboolean
vsHypervisorUnsupported(vsHypervisor *hv, const char *what, GError **error)
{
    g_set_error(error, VS_ERROR, VS_ERROR_UNSUPPORTED,
                "hypervisor driver '%s' cannot %s", hv->driver->name, what);
    return FALSE;
}

char *
vsHypervisorGetURI(vsHypervisor *hv)
{
    return hv->driver->getURI(hv->priv);
}

gboolean
vsHypervisorIsAlive(vsHypervisor *hv)
{
    return hv->driver->isAlive(hv->priv);
}

GPtrArray *
vsHypervisorListDomains(vsHypervisor *hv, GError **error)
{
    return hv->driver->listDomains(hv->priv, error);
}

vsDomainInfo *
vsHypervisorLookupDomain(vsHypervisor *hv, const char *domain, GError **error)
{
    return hv->driver->lookupDomain(hv->priv, domain, error);
}

char *
vsHypervisorGetDomainXML(vsHypervisor *hv, const char *domain, gboolean inactive,
                         GError **error)
{
    return hv->driver->getDomainXML(hv->priv, domain, inactive, error);
}

char *
vsHypervisorDefineDomainXML(vsHypervisor *hv, const char *xml, GError **error)
{
    return hv->driver->defineDomainXML(hv->priv, xml, error);
}

char *
vsHypervisorCreateDomainXML(vsHypervisor *hv, const char *xml, gboolean autodestroy,
                            GError **error)
{
    return hv->driver->createDomainXML(hv->priv, xml, autodestroy, error);
}

gboolean
vsHypervisorStartDomain(vsHypervisor *hv, const char *domain, GError **error)
{
    return hv->driver->startDomain(hv->priv, domain, error);
}

gboolean
vsHypervisorDestroyDomain(vsHypervisor *hv, const char *domain, GError **error)
{
    return hv->driver->destroyDomain(hv->priv, domain, error);
}

gboolean
vsHypervisorUndefineDomain(vsHypervisor *hv, const char *domain, GError **error)
{
    return hv->driver->undefineDomain(hv->priv, domain, error);
}

char *
vsHypervisorGetMetadata(vsHypervisor *hv, const char *domain, vsAffectFlags flags,
                        GError **error)
{
    return hv->driver->getMetadata(hv->priv, domain, flags, error);
}

gboolean
vsHypervisorSetMetadata(vsHypervisor *hv, const char *domain, const char *xml,
                        vsAffectFlags flags, GError **error)
{
    return hv->driver->setMetadata(hv->priv, domain, xml, flags, error);
}

char *
vsHypervisorGetCapabilities(vsHypervisor *hv, GError **error)
{
    return hv->driver->getCapabilities(hv->priv, error);
}

char *
vsHypervisorGetDomainCapabilities(vsHypervisor *hv, const char *virttype,
                                  GError **error)
{
    if (!hv->driver->getDomainCapabilities) {
        vsHypervisorUnsupported(hv, "report domain capabilities", error);
        return NULL;
    }
    return hv->driver->getDomainCapabilities(hv->priv, virttype, error);
}

char *
vsHypervisorAgentCommand(vsHypervisor *hv, const char *domain, const char *json,
                         int timeout_s, GError **error)
{
    if (!hv->driver->agentCommand) {
        vsHypervisorUnsupported(hv, "talk to a guest agent", error);
        return NULL;
    }
    return hv->driver->agentCommand(hv->priv, domain, json, timeout_s, error);
}

gboolean
vsHypervisorSetVcpus(vsHypervisor *hv, const char *domain, guint count,
                     vsAffectFlags flags, GError **error)
{
    return hv->driver->setVcpus(hv->priv, domain, count, flags, error);
}

gboolean
vsHypervisorGetHostSize(vsHypervisor *hv, double *ret_cpus, double *ret_memory_kib,
                        GError **error)
{
    return hv->driver->getHostSize(hv->priv, ret_cpus, ret_memory_kib, error);
}

guint
vsDomainResourcesVcpus(const vsDomainResources *res)
{
    return res->guest_vcpus >= 0 ? (guint)res->guest_vcpus : res->vcpus;
}

gboolean
vsHypervisorGetResources(vsHypervisor *hv, const char *domain, vsDomainResources *ret,
                         GError **error)
{
    return hv->driver->getResources(hv->priv, domain, ret, error);
}

gboolean
vsHypervisorSetMemory(vsHypervisor *hv, const char *domain, guint64 kib,
                      vsAffectFlags flags, GError **error)
{
    return hv->driver->setMemory(hv->priv, domain, kib, flags, error);
}

gboolean
vsHypervisorSetMemoryStatsPeriod(vsHypervisor *hv, const char *domain, int period_s,
                                 vsAffectFlags flags, GError **error)
{
    return hv->driver->setMemoryStatsPeriod(hv->priv, domain, period_s, flags, error);
}

GPtrArray *
vsHypervisorGetAllDomainStats(vsHypervisor *hv, vsStatsGroups groups,
                              gboolean running_only, GError **error)
{
    return hv->driver->getAllDomainStats(hv->priv, groups, running_only, error);
}

vsDomainStats *
vsDomainStatsNew(const char *name, const char *uuid)
{
    vsDomainStats *stats = g_new0(vsDomainStats, 1);

    stats->name = g_strdup(name);
    stats->uuid = g_strdup(uuid);
    stats->fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)g_variant_unref);
    return stats;
}

void
vsDomainStatsFree(vsDomainStats *stats)
{
    if (!stats)
        return;
    g_free(stats->name);
    g_free(stats->uuid);
    g_hash_table_unref(stats->fields);
    g_free(stats);
}

gboolean
vsDomainStatsGetDouble(const vsDomainStats *stats, const char *key, double *ret)
{
    GVariant *v = g_hash_table_lookup(stats->fields, key);

    if (!v)
        return FALSE;
    switch (g_variant_classify(v)) {
    case G_VARIANT_CLASS_INT32: *ret = g_variant_get_int32(v); return TRUE;
    case G_VARIANT_CLASS_UINT32: *ret = g_variant_get_uint32(v); return TRUE;
    case G_VARIANT_CLASS_INT64: *ret = (double)g_variant_get_int64(v); return TRUE;
    case G_VARIANT_CLASS_UINT64: *ret = (double)g_variant_get_uint64(v); return TRUE;
    case G_VARIANT_CLASS_DOUBLE: *ret = g_variant_get_double(v); return TRUE;
    default: return FALSE;
    }
}

gboolean
vsDomainStatsGetUInt64(const vsDomainStats *stats, const char *key, guint64 *ret)
{
    GVariant *v = g_hash_table_lookup(stats->fields, key);

    if (!v)
        return FALSE;
    switch (g_variant_classify(v)) {
    case G_VARIANT_CLASS_UINT32: *ret = g_variant_get_uint32(v); return TRUE;
    case G_VARIANT_CLASS_UINT64: *ret = g_variant_get_uint64(v); return TRUE;
    case G_VARIANT_CLASS_INT32:
        if (g_variant_get_int32(v) < 0)
            return FALSE;
        *ret = (guint64)g_variant_get_int32(v);
        return TRUE;
    case G_VARIANT_CLASS_INT64:
        if (g_variant_get_int64(v) < 0)
            return FALSE;
        *ret = (guint64)g_variant_get_int64(v);
        return TRUE;
    default:
        return FALSE;
    }
}

GArray *
vsHypervisorCollectCounters(vsHypervisor *hv, GError **error)
{
    return hv->driver->collectCounters(hv->priv, error);
}
