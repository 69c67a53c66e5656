/*
 * vshypervisor.c: wrappers around the hypervisor driver table
 */
#include <config.h>

#include "vshypervisor.h"
#include "conf/vsdomainxml.h"
#include "conf/vsmetadata.h"
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

gboolean
vsHypervisorGetDomainCounters(vsHypervisor *hv, const char *domain,
                              vsDomainCounters *ret, GError **error)
{
    if (!hv->driver->getDomainCounters)
        return vsHypervisorUnsupported(hv, "read one domain's counters", error);
    return hv->driver->getDomainCounters(hv->priv, domain, ret, error);
}

gboolean
vsDomainCountersUsedKiB(const vsDomainCounters *c, guint64 *ret_kib, gboolean *ret_is_rss)
{
    const guint32 freeStats = VS_COUNTER_BALLOON_AVAILABLE | VS_COUNTER_BALLOON_UNUSED;

    /* as vsRates does for the stored samples */
    if ((c->present & freeStats) == freeStats &&
        c->balloon_available_kib >= c->balloon_unused_kib) {
        *ret_kib = c->balloon_available_kib - c->balloon_unused_kib;
        if (ret_is_rss)
            *ret_is_rss = FALSE;
        return TRUE;
    }
    if (c->present & VS_COUNTER_BALLOON_RSS) {
        *ret_kib = c->balloon_rss_kib;
        if (ret_is_rss)
            *ret_is_rss = TRUE;
        return TRUE;
    }
    return FALSE;
}

/* --- linked clones -------------------------------------------------------- */

static gboolean
vsHypervisorDomainActive(const vsDomainInfo *info)
{
    return info->id >= 0 ||
        (info->state != VS_DOMAIN_SHUTOFF && info->state != VS_DOMAIN_NOSTATE);
}

/* The domain XML of @info (live when it runs), parsed; NULL with
 * VS_ERROR_NOT_FOUND when it vanished meanwhile. */
static vsDomainXML *
vsHypervisorParseDomain(vsHypervisor *hv, const vsDomainInfo *info, GError **error)
{
    g_autofree char *xml = NULL;
    const char *id = info->uuid && *info->uuid ? info->uuid : info->name;

    if (!(xml = vsHypervisorGetDomainXML(hv, id, FALSE, error)))
        return NULL;
    return vsDomainXMLParse(xml, error);
}

/* @disk's path in *@ret_path: its own, or its volume's; NULL when its
 * volume cannot be resolved (gone, pool inactive, no driver support).
 * Only a lost connection is an error. */
static gboolean
vsHypervisorDiskPath(vsHypervisor *hv, const vsDomainDisk *disk, char **ret_path,
                     GError **error)
{
    g_autoptr(GError) local = NULL;
    char *path;

    if (disk->path || !hv->driver->getVolumePath) {
        *ret_path = g_strdup(disk->path);
        return TRUE;
    }
    if (!(path = hv->driver->getVolumePath(hv->priv, disk->pool, disk->volume, &local)) &&
        g_error_matches(local, VS_ERROR, VS_ERROR_CONNECT)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    *ret_path = path;
    return TRUE;
}

/* The disk of @def at @path (volumes resolved), NULL in *@ret_disk when none. */
static gboolean
vsHypervisorFindDisk(vsHypervisor *hv, const vsDomainXML *def, const char *path,
                     const vsDomainDisk **ret_disk, GError **error)
{
    g_autofree char *want = g_canonicalize_filename(path, "/");

    for (guint i = 0; i < def->disks->len; i++) {
        const vsDomainDisk *disk = g_ptr_array_index(def->disks, i);
        g_autofree char *have = NULL;
        g_autofree char *canon = NULL;

        if (!vsHypervisorDiskPath(hv, disk, &have, error))
            return FALSE;
        if (!have)
            continue;
        canon = g_canonicalize_filename(have, "/");
        if (g_str_equal(canon, want)) {
            *ret_disk = disk;
            return TRUE;
        }
    }
    *ret_disk = NULL;
    return TRUE;
}

/* One pass over every domain: the first running one that has @path open
 * for writing, and the format a domain declares for @path (running ones
 * first: their XML is what QEMU uses). */
static gboolean
vsHypervisorScanDisk(vsHypervisor *hv, const char *path, char **ret_writer,
                     char **ret_format, GError **error)
{
    g_autoptr(GPtrArray) doms = vsHypervisorListDomains(hv, error);
    g_autofree char *writer = NULL;
    g_autofree char *active_format = NULL;
    g_autofree char *inactive_format = NULL;

    if (!doms)
        return FALSE;
    for (guint i = 0; i < doms->len; i++) {
        const vsDomainInfo *info = g_ptr_array_index(doms, i);
        gboolean active = vsHypervisorDomainActive(info);
        g_autoptr(GError) local = NULL;
        g_autoptr(vsDomainXML) def = NULL;
        const vsDomainDisk *disk = NULL;

        if (!ret_format && !active)
            continue;
        if (!(def = vsHypervisorParseDomain(hv, info, &local)) ||
            !vsHypervisorFindDisk(hv, def, path, &disk, &local)) {
            if (g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND))
                continue;
            g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                       "cannot read the disks of domain '%s': ", info->name);
            return FALSE;
        }
        if (!disk)
            continue;
        if (active && !disk->readonly && !writer)
            writer = g_strdup(info->name);
        if (disk->format && active && !active_format)
            active_format = g_strdup(disk->format);
        if (disk->format && !active && !inactive_format)
            inactive_format = g_strdup(disk->format);
    }
    *ret_writer = g_steal_pointer(&writer);
    if (ret_format)
        *ret_format = active_format ? g_steal_pointer(&active_format)
                                    : g_steal_pointer(&inactive_format);
    return TRUE;
}

gboolean
vsHypervisorDiskInUse(vsHypervisor *hv, const char *path, char **ret_domain,
                      GError **error)
{
    return vsHypervisorScanDisk(hv, path, ret_domain, NULL, error);
}

/* Whether @base_path may be cloned now: an absolute path no running
 * domain writes to.  *@ret_format is the format a domain declares for it,
 * or NULL. */
static gboolean
vsHypervisorCloneBase(vsHypervisor *hv, const char *base_path, char **ret_format,
                      GError **error)
{
    g_autofree char *writer = NULL;
    g_autofree char *format = NULL;

    if (!g_path_is_absolute(base_path)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "base image '%s' is not an absolute path", base_path);
        return FALSE;
    }
    if (!vsHypervisorScanDisk(hv, base_path, &writer, &format, error))
        return FALSE;
    if (writer) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "base image '%s' is in use by running domain '%s': shut it down first",
                    base_path, writer);
        return FALSE;
    }
    *ret_format = g_steal_pointer(&format);
    return TRUE;
}

gboolean
vsHypervisorCreateOverlay(vsHypervisor *hv, const char *base_path, const char *pool,
                          const char *name, char **ret_path, GError **error)
{
    g_autofree char *format = NULL;
    char *path;

    if (!hv->driver->createOverlay)
        return vsHypervisorUnsupported(hv, "create overlay volumes", error);
    if (!vsHypervisorCloneBase(hv, base_path, &format, error))
        return FALSE;
    if (!(path = hv->driver->createOverlay(hv->priv, base_path, format, pool, name, error)))
        return FALSE;
    *ret_path = path;
    return TRUE;
}

char *
vsHypervisorGetVolumePath(vsHypervisor *hv, const char *pool, const char *volume,
                          GError **error)
{
    if (!hv->driver->getVolumePath) {
        vsHypervisorUnsupported(hv, "resolve storage volumes", error);
        return NULL;
    }
    return hv->driver->getVolumePath(hv->priv, pool, volume, error);
}

gboolean
vsHypervisorCopyVolume(vsHypervisor *hv, const char *base_path, const char *pool,
                       const char *name, char **ret_path, char **ret_format, GError **error)
{
    g_autofree char *format = NULL;
    g_autofree char *copy_format = NULL;
    char *path;

    if (!hv->driver->copyVolume)
        return vsHypervisorUnsupported(hv, "copy volumes", error);
    if (!vsHypervisorCloneBase(hv, base_path, &format, error))
        return FALSE;
    if (!(path = hv->driver->copyVolume(hv->priv, base_path, format, pool, name, &copy_format,
                                        error)))
        return FALSE;
    *ret_path = path;
    *ret_format = g_steal_pointer(&copy_format);
    return TRUE;
}

gboolean
vsHypervisorDomainWritableDisk(vsHypervisor *hv, const char *domain, char **ret_path,
                               GError **error)
{
    g_autofree char *xml = vsHypervisorGetDomainXML(hv, domain, TRUE, error);
    g_autoptr(vsDomainXML) def = NULL;
    const vsDomainDisk *found = NULL;
    guint writable = 0;
    char *path = NULL;

    if (!xml || !(def = vsDomainXMLParse(xml, error)))
        return FALSE;
    found = vsDomainXMLWritableDisk(def, &writable);
    if (writable != 1) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "domain '%s' has %u writable disks; a clone needs exactly one", domain,
                    writable);
        return FALSE;
    }
    if (!vsHypervisorDiskPath(hv, found, &path, error))
        return FALSE;
    if (!path) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                    "cannot find volume '%s' in storage pool '%s' of domain '%s'",
                    found->volume, found->pool, domain);
        return FALSE;
    }
    *ret_path = path;
    return TRUE;
}

gboolean
vsHypervisorDeleteVolume(vsHypervisor *hv, const char *path, GError **error)
{
    if (!hv->driver->deleteVolume)
        return vsHypervisorUnsupported(hv, "delete volumes", error);
    return hv->driver->deleteVolume(hv->priv, path, error);
}

GPtrArray *
vsHypervisorListVolumesByPrefix(vsHypervisor *hv, const char *pool, const char *prefix,
                                GError **error)
{
    if (!hv->driver->listVolumes) {
        vsHypervisorUnsupported(hv, "list volumes", error);
        return NULL;
    }
    return hv->driver->listVolumes(hv->priv, pool, prefix ? prefix : "", error);
}

void
vsShadowDomainFree(vsShadowDomain *sd)
{
    if (!sd)
        return;
    g_free(sd->name);
    g_free(sd->uuid);
    g_free(sd->run_id);
    g_strfreev(sd->overlays);
    g_free(sd);
}

/* @info as a shadow clone, or NULL (no error) when it carries no mark or
 * vanished meanwhile. */
static vsShadowDomain *
vsHypervisorShadowDomain(vsHypervisor *hv, const vsDomainInfo *info, GError **error)
{
    const char *id = info->uuid && *info->uuid ? info->uuid : info->name;
    g_autoptr(GError) local = NULL;
    g_autofree char *meta = vsHypervisorGetMetadata(hv, id, VS_AFFECT_CURRENT, &local);
    g_autofree char *run_id = NULL;
    g_autofree char *prefix = NULL;
    g_autoptr(vsDomainXML) def = NULL;
    g_autoptr(GStrvBuilder) overlays = g_strv_builder_new();
    vsShadowDomain *sd;

    if (!meta) {
        if (g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND))
            return NULL;
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    /* an element that fails its schema marks nothing we could trust */
    if (!vsMetadataParseShadowRun(meta, &run_id, NULL))
        return NULL;
    if (!run_id)
        return NULL;
    if (!(def = vsHypervisorParseDomain(hv, info, &local))) {
        if (g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND))
            return NULL;
        g_propagate_prefixed_error(error, g_steal_pointer(&local), "domain '%s': ", info->name);
        return NULL;
    }
    prefix = vsShadowOverlayPrefix(run_id);
    for (guint i = 0; i < def->disks->len; i++) {
        const vsDomainDisk *disk = g_ptr_array_index(def->disks, i);
        g_autofree char *base = disk->path ? g_path_get_basename(disk->path)
                                           : g_strdup(disk->volume);
        g_autofree char *path = NULL;

        if (!g_str_has_prefix(base, prefix))
            continue;
        if (!vsHypervisorDiskPath(hv, disk, &path, error))
            return NULL;
        /* a volume already deleted leaves nothing to delete */
        if (path)
            g_strv_builder_add(overlays, path);
    }
    sd = g_new0(vsShadowDomain, 1);
    sd->name = g_strdup(info->name);
    sd->uuid = g_strdup(info->uuid);
    sd->run_id = g_steal_pointer(&run_id);
    sd->active = vsHypervisorDomainActive(info);
    sd->persistent = info->persistent;
    sd->overlays = g_strv_builder_end(overlays);
    return sd;
}

GPtrArray *
vsHypervisorListShadowDomains(vsHypervisor *hv, GError **error)
{
    g_autoptr(GPtrArray) doms = vsHypervisorListDomains(hv, error);
    g_autoptr(GPtrArray) ret = NULL;

    if (!doms)
        return NULL;
    ret = g_ptr_array_new_with_free_func((GDestroyNotify)vsShadowDomainFree);
    for (guint i = 0; i < doms->len; i++) {
        g_autoptr(GError) local = NULL;
        vsShadowDomain *sd = vsHypervisorShadowDomain(hv, g_ptr_array_index(doms, i), &local);

        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return NULL;
        }
        if (sd)
            g_ptr_array_add(ret, sd);
    }
    return g_steal_pointer(&ret);
}
