/*
 * vshypervisor.h: the hypervisor driver interface
 *
 * The core talks to hypervisors only through this table; drivers/libvirt
 * implements it.  Callers use the vsHypervisor...() wrappers below, never
 * the table.  No libvirt type appears here: errors arrive as GError in
 * VS_ERROR, domains are named by name or UUID string.
 *
 * Threading: everything runs in the GLib main context of the thread that
 * opened the connection; callbacks are delivered there too.
 */
#pragma once

#include <glib.h>

#include "telemetry/vssample.h"

G_BEGIN_DECLS

/* Mirrors virDomainState (the numbers are part of the contract). */
typedef enum {
    VS_DOMAIN_NOSTATE = 0,
    VS_DOMAIN_RUNNING,
    VS_DOMAIN_BLOCKED,
    VS_DOMAIN_PAUSED,
    VS_DOMAIN_SHUTDOWN,
    VS_DOMAIN_SHUTOFF,
    VS_DOMAIN_CRASHED,
    VS_DOMAIN_PMSUSPENDED,
    VS_DOMAIN_STATE_LAST
} vsDomainState;

const char *vsDomainStateToString(vsDomainState state);

/* Mirrors virDomainEventType. */
typedef enum {
    VS_DOMAIN_EVENT_DEFINED = 0,
    VS_DOMAIN_EVENT_UNDEFINED,
    VS_DOMAIN_EVENT_STARTED,
    VS_DOMAIN_EVENT_SUSPENDED,
    VS_DOMAIN_EVENT_RESUMED,
    VS_DOMAIN_EVENT_STOPPED,
    VS_DOMAIN_EVENT_SHUTDOWN,
    VS_DOMAIN_EVENT_PMSUSPENDED,
    VS_DOMAIN_EVENT_CRASHED,
    VS_DOMAIN_EVENT_LAST
} vsDomainEventType;

const char *vsDomainEventTypeToString(vsDomainEventType event);

/* Where a change applies; mirrors virDomainModificationImpact. */
typedef enum {
    VS_AFFECT_CURRENT = 0,
    VS_AFFECT_LIVE = 1 << 0,
    VS_AFFECT_CONFIG = 1 << 1,
    VS_VCPU_GUEST = 1 << 2,     /* setVcpus: online/offline inside the guest via the agent */
} vsAffectFlags;

typedef struct _vsDomainInfo vsDomainInfo;
struct _vsDomainInfo {
    char *name;
    char *uuid;                 /* canonical 36-character form */
    int id;                     /* -1 when not running */
    vsDomainState state;
    gboolean persistent;
};

vsDomainInfo *vsDomainInfoNew(const char *name, const char *uuid);
void vsDomainInfoFree(vsDomainInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsDomainInfo, vsDomainInfoFree)

/* Stats groups of the bulk call; mirrors virDomainStatsTypes. */
typedef enum {
    VS_STATS_STATE = 1 << 0,
    VS_STATS_CPU_TOTAL = 1 << 1,
    VS_STATS_BALLOON = 1 << 2,
    VS_STATS_VCPU = 1 << 3,
    VS_STATS_INTERFACE = 1 << 4,
    VS_STATS_BLOCK = 1 << 5,
} vsStatsGroups;

/* One domain's record from a bulk stats call.  @fields maps the driver's
 * field names ("balloon.current", "vcpu.0.time", ...) to GVariants of type
 * int32, uint32, int64, uint64, double, boolean or string.  Any field may
 * be missing. */
typedef struct _vsDomainStats vsDomainStats;
struct _vsDomainStats {
    char *name;
    char *uuid;
    GHashTable *fields;
};

vsDomainStats *vsDomainStatsNew(const char *name, const char *uuid);
void vsDomainStatsFree(vsDomainStats *stats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsDomainStats, vsDomainStatsFree)
/* Field @key as an unsigned/signed integer or double, converting between
 * numeric types; FALSE when missing or not numeric. */
gboolean vsDomainStatsGetUInt64(const vsDomainStats *stats, const char *key,
                                guint64 *ret);
gboolean vsDomainStatsGetDouble(const vsDomainStats *stats, const char *key,
                                double *ret);

/* What a running domain has now, as the allocator sees it. */
typedef struct _vsDomainResources vsDomainResources;
struct _vsDomainResources {
    guint vcpus;                /* plugged in (live) */
    guint max_vcpus;            /* <vcpu>: the most it can get live */
    int guest_vcpus;            /* online in the guest per its agent; -1: no agent */
    guint64 memory_kib;         /* the balloon's current size */
    guint64 max_memory_kib;     /* <memory>: the balloon cannot pass it */
    guint64 used_kib;           /* in use by the guest; 0: unknown (no stats yet) */
};

/* The vCPUs the guest can run on: the online ones when the agent says,
 * else the plugged ones. */
guint vsDomainResourcesVcpus(const vsDomainResources *res);

typedef struct _vsHypervisor vsHypervisor;

/* Notifications from an open connection; every member is optional. */
typedef struct _vsHypervisorCallbacks vsHypervisorCallbacks;
struct _vsHypervisorCallbacks {
    /* A domain's lifecycle changed; @detail is the driver's raw detail code. */
    void (*domainLifecycle)(vsHypervisor *hv, const char *name, const char *uuid,
                            vsDomainEventType event, int detail, gpointer opaque);
    /* The connection was lost (@reason in words); the driver reconnects by itself. */
    void (*disconnected)(vsHypervisor *hv, const char *reason, gpointer opaque);
    /* A reconnect succeeded; event callbacks are registered again. */
    void (*reconnected)(vsHypervisor *hv, gpointer opaque);
    gpointer opaque;
};

typedef struct _vsHypervisorDriver vsHypervisorDriver;
struct _vsHypervisorDriver {
    const char *name;

    /* Connect to @uri (NULL: the driver's default) and return private data,
     * or NULL with @error set (VS_ERROR_CONNECT names the URI).  The event
     * loop is registered before connecting.  When @hv has callbacks, events
     * are delivered, keepalive is on, and a lost connection is re-opened with
     * exponential backoff up to @max_backoff_ms, re-registering callbacks. */
    gpointer (*open)(vsHypervisor *hv, const char *uri, guint max_backoff_ms,
                     GError **error);
    /* Release everything open() made; @priv may be NULL. */
    void (*close)(gpointer priv);
    /* The canonical URI of the live connection, or NULL while reconnecting. */
    char *(*getURI)(gpointer priv);
    /* TRUE while the connection is usable. */
    gboolean (*isAlive)(gpointer priv);

    /* Every domain, running or defined; a GPtrArray of vsDomainInfo. */
    GPtrArray *(*listDomains)(gpointer priv, GError **error);
    /* Look up by UUID, then by name; VS_ERROR_NOT_FOUND names @domain. */
    vsDomainInfo *(*lookupDomain)(gpointer priv, const char *domain, GError **error);
    /* The domain XML; @inactive asks for the persistent definition. */
    char *(*getDomainXML)(gpointer priv, const char *domain, gboolean inactive,
                          GError **error);
    /* Define (persist) a domain from @xml; returns its name. */
    char *(*defineDomainXML)(gpointer priv, const char *xml, GError **error);
    /* Start a transient domain from @xml; @autodestroy ties its life to this
     * connection.  Returns its name. */
    char *(*createDomainXML)(gpointer priv, const char *xml, gboolean autodestroy,
                             GError **error);
    gboolean (*startDomain)(gpointer priv, const char *domain, GError **error);
    /* Hard power-off; succeeds on an already stopped domain. */
    gboolean (*destroyDomain)(gpointer priv, const char *domain, GError **error);
    /* Remove the persistent definition. */
    gboolean (*undefineDomain)(gpointer priv, const char *domain, GError **error);

    /* Our metadata element (namespace VS_METADATA_NS), or NULL with
     * VS_ERROR_NOT_FOUND when the domain has none. */
    char *(*getMetadata)(gpointer priv, const char *domain, vsAffectFlags flags,
                         GError **error);
    /* Replace our metadata element with @xml, or remove it when @xml is NULL. */
    gboolean (*setMetadata)(gpointer priv, const char *domain, const char *xml,
                            vsAffectFlags flags, GError **error);

    /* Host capabilities XML. */
    char *(*getCapabilities)(gpointer priv, GError **error);
    /* The host's logical CPUs and memory in KiB. */
    gboolean (*getHostSize)(gpointer priv, double *ret_cpus, double *ret_memory_kib,
                            GError **error);
    /* Domain capabilities XML for @virttype ("kvm", "qemu"); optional. */
    char *(*getDomainCapabilities)(gpointer priv, const char *virttype,
                                   GError **error);

    /* Send one guest agent JSON command; returns the raw JSON reply.
     * @timeout_s < 0 means the driver default.  Optional. */
    char *(*agentCommand)(gpointer priv, const char *domain, const char *json,
                          int timeout_s, GError **error);
    /* Set the vCPU count; VS_VCPU_GUEST changes online CPUs in the guest. */
    gboolean (*setVcpus)(gpointer priv, const char *domain, guint count,
                         vsAffectFlags flags, GError **error);
    /* Set the balloon target in KiB (never above the domain's maximum). */
    gboolean (*setMemory)(gpointer priv, const char *domain, guint64 kib,
                          vsAffectFlags flags, GError **error);
    /* The live vCPUs and memory of a running domain.  Asking the guest
     * agent (online vCPUs) and the balloon (used memory) is best effort:
     * what they cannot tell is marked unknown, not an error.  VS_ERROR_INVALID
     * when the domain is not running. */
    gboolean (*getResources)(gpointer priv, const char *domain, vsDomainResources *ret,
                             GError **error);
    /* Enable guest memory stats every @period_s seconds (0 disables). */
    gboolean (*setMemoryStatsPeriod)(gpointer priv, const char *domain,
                                     int period_s, vsAffectFlags flags,
                                     GError **error);
    /* One bulk call for every domain (running ones only when @running_only),
     * asking for @groups without waiting on busy domains.  A GPtrArray of
     * vsDomainStats. */
    GPtrArray *(*getAllDomainStats)(gpointer priv, vsStatsGroups groups,
                                    gboolean running_only, GError **error);
    /* The sampler's hot path: ONE bulk call (state, cpu-total, balloon,
     * vcpu, block, interface; NOWAIT) for every running domain, flattened
     * into a GArray of vsDomainCounters (with clear func).  Missing fields
     * are left out of ->present; nothing else is allocated per field. */
    GArray *(*collectCounters)(gpointer priv, GError **error);
    /* The same counters for the one domain @domain, from one stats call
     * for that domain alone (NOWAIT), into @ret, which is overwritten
     * (clear it first if it holds a name).  VS_ERROR_NOT_FOUND names a
     * domain that does not exist.  Optional. */
    gboolean (*getDomainCounters)(gpointer priv, const char *domain,
                                  vsDomainCounters *ret, GError **error);

    /* --- storage: overlays for shadow clones.  @pool is a storage pool
     * name, or an absolute directory: then the active pool whose target is
     * that directory, else a transient dir pool the driver starts on it.
     * Paths are the hypervisor host's. --------------------------------- */

    /* Create the qcow2 volume @name in @pool backed by @base_path with the
     * backing format recorded: @base_format, or when NULL the format the
     * storage pool holding @base_path reports (a transient dir pool is
     * started on the base's directory when no pool holds it).  The
     * overlay's capacity is the base's; the base is only read.  Returns
     * the overlay's path; an existing @name is an error.  Optional. */
    char *(*createOverlay)(gpointer priv, const char *base_path, const char *base_format,
                           const char *pool, const char *name, GError **error);
    /* Create the volume @name in @pool as a full copy of the image at
     * @base_path (virStorageVolCreateXMLFrom: the storage driver copies on
     * the hypervisor host, remote URIs too), in @base_format, or when NULL
     * the format the storage pool holding @base_path reports, with the
     * base's capacity.  The base is only read; an existing @name is an
     * error.  Returns the copy's path, its format in *@ret_format (written
     * only on success).  Optional. */
    char *(*copyVolume)(gpointer priv, const char *base_path, const char *base_format,
                        const char *pool, const char *name, char **ret_format,
                        GError **error);
    /* Delete the volume at @path.  The pool of its directory is refreshed
     * first, so a file made behind the pool's back is found too; a path
     * that is no volume even then is success.  Optional. */
    gboolean (*deleteVolume)(gpointer priv, const char *path, GError **error);
    /* The paths (strings) of @pool's volumes whose names start with
     * @prefix, after a refresh of the pool.  Optional. */
    GPtrArray *(*listVolumes)(gpointer priv, const char *pool, const char *prefix,
                              GError **error);
    /* The path of volume @volume in the storage pool named @pool;
     * VS_ERROR_NOT_FOUND when either does not exist.  Optional: without
     * it, <disk type='volume'> disks are not seen by path. */
    char *(*getVolumePath)(gpointer priv, const char *pool, const char *volume,
                           GError **error);
};

/* Our metadata namespace in domain XML. */
#define VS_METADATA_NS "https://virt-shadow.org/xmlns/domain/1.0"
#define VS_METADATA_PREFIX "shadow"

/* Default upper bound for reconnect backoff. */
#define VS_HYPERVISOR_MAX_BACKOFF_MS 60000

void vsHypervisorRegisterDriver(const vsHypervisorDriver *driver);

vsHypervisor *vsHypervisorOpen(const char *uri, const vsHypervisorCallbacks *cbs,
                               GError **error);
void vsHypervisorFree(vsHypervisor *hv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsHypervisor, vsHypervisorFree)

char *vsHypervisorGetURI(vsHypervisor *hv);
gboolean vsHypervisorIsAlive(vsHypervisor *hv);
const vsHypervisorCallbacks *vsHypervisorGetCallbacks(vsHypervisor *hv);

GPtrArray *vsHypervisorListDomains(vsHypervisor *hv, GError **error);
vsDomainInfo *vsHypervisorLookupDomain(vsHypervisor *hv, const char *domain,
                                       GError **error);
char *vsHypervisorGetDomainXML(vsHypervisor *hv, const char *domain,
                               gboolean inactive, GError **error);
char *vsHypervisorDefineDomainXML(vsHypervisor *hv, const char *xml, GError **error);
char *vsHypervisorCreateDomainXML(vsHypervisor *hv, const char *xml,
                                  gboolean autodestroy, GError **error);
gboolean vsHypervisorStartDomain(vsHypervisor *hv, const char *domain, GError **error);
gboolean vsHypervisorDestroyDomain(vsHypervisor *hv, const char *domain, GError **error);
gboolean vsHypervisorUndefineDomain(vsHypervisor *hv, const char *domain, GError **error);
char *vsHypervisorGetMetadata(vsHypervisor *hv, const char *domain,
                              vsAffectFlags flags, GError **error);
gboolean vsHypervisorSetMetadata(vsHypervisor *hv, const char *domain,
                                 const char *xml, vsAffectFlags flags,
                                 GError **error);
char *vsHypervisorGetCapabilities(vsHypervisor *hv, GError **error);
gboolean vsHypervisorGetHostSize(vsHypervisor *hv, double *ret_cpus, double *ret_memory_kib,
                                 GError **error);
char *vsHypervisorGetDomainCapabilities(vsHypervisor *hv, const char *virttype,
                                        GError **error);
char *vsHypervisorAgentCommand(vsHypervisor *hv, const char *domain,
                               const char *json, int timeout_s, GError **error);
gboolean vsHypervisorSetVcpus(vsHypervisor *hv, const char *domain, guint count,
                              vsAffectFlags flags, GError **error);
gboolean vsHypervisorSetMemory(vsHypervisor *hv, const char *domain, guint64 kib,
                               vsAffectFlags flags, GError **error);
gboolean vsHypervisorGetResources(vsHypervisor *hv, const char *domain,
                                   vsDomainResources *ret, GError **error);
gboolean vsHypervisorSetMemoryStatsPeriod(vsHypervisor *hv, const char *domain,
                                          int period_s, vsAffectFlags flags,
                                          GError **error);
GPtrArray *vsHypervisorGetAllDomainStats(vsHypervisor *hv, vsStatsGroups groups,
                                         gboolean running_only, GError **error);
GArray *vsHypervisorCollectCounters(vsHypervisor *hv, GError **error);

/* One domain's cumulative counters (cpu.time in ns, balloon, block bytes
 * and requests summed over its disks, ...) from one stats call for it
 * alone: cheap enough to sample a shadow every second.  @ret is
 * overwritten only on success; clear it with vsDomainCountersClear. */
gboolean vsHypervisorGetDomainCounters(vsHypervisor *hv, const char *domain,
                                       vsDomainCounters *ret, GError **error);
/* Memory the guest uses in KiB from @c: balloon available - unused when
 * the guest reports them, else the QEMU process's rss (then *@ret_is_rss
 * is TRUE; it may be NULL).  FALSE when @c has neither. */
gboolean vsDomainCountersUsedKiB(const vsDomainCounters *c, guint64 *ret_kib,
                                 gboolean *ret_is_rss);

/* --- linked clones -------------------------------------------------------- */

/* Make the qcow2 overlay @name (in @pool: a storage pool name or an
 * absolute directory) on the base image @base_path, through the storage
 * API, with the backing format recorded, so the base is never written nor
 * its format probed.  The format is the one a domain's <disk><driver
 * type> declares for @base_path when a domain uses it, else what the
 * storage pool reports.  Refused (VS_ERROR_INVALID naming the domain) when
 * a running domain has @base_path open for writing.  *@ret_path is the
 * overlay's path. */
gboolean vsHypervisorCreateOverlay(vsHypervisor *hv, const char *base_path,
                                   const char *pool, const char *name,
                                   char **ret_path, GError **error);
/* A full copy of the base image @base_path as volume @name in @pool (a
 * storage pool name or an absolute directory), made by the storage API,
 * in the format a domain declares for @base_path, else the one its pool
 * reports: what a deploy's "--clone full" gets instead of an overlay.
 * Refused like vsHypervisorCreateOverlay() when a running domain has
 * @base_path open for writing (the copy would be torn).  *@ret_path and
 * *@ret_format are the copy's. */
gboolean vsHypervisorCopyVolume(vsHypervisor *hv, const char *base_path, const char *pool,
                                const char *name, char **ret_path, char **ret_format,
                                GError **error);
/* The one writable disk (not a cdrom, floppy or <readonly/>) of @domain's
 * persistent definition, volumes resolved to their path: the image a
 * clone of @domain is made from.  VS_ERROR_INVALID naming the domain when
 * it has none or several (which to clone would be a guess). */
gboolean vsHypervisorDomainWritableDisk(vsHypervisor *hv, const char *domain, char **ret_path,
                                        GError **error);
/* The path of volume @volume in storage pool @pool (a <disk
 * type='volume'>'s source); VS_ERROR_NOT_FOUND when either is missing. */
char *vsHypervisorGetVolumePath(vsHypervisor *hv, const char *pool, const char *volume,
                                GError **error);
/* Delete the volume at @path; one that does not exist is success. */
gboolean vsHypervisorDeleteVolume(vsHypervisor *hv, const char *path, GError **error);
/* Paths of the volumes in @pool whose names start with @prefix: overlays
 * of a run whose domain is gone (VS_SHADOW_OVERLAY_PREFIX "RUNID-"). */
GPtrArray *vsHypervisorListVolumesByPrefix(vsHypervisor *hv, const char *pool,
                                           const char *prefix, GError **error);
/* Scan the running (and paused) domains for a disk at @path opened for
 * writing (not <readonly/>).  On success *@ret_domain is the first such
 * domain's name, or NULL when none uses it so.  Disks reached only as
 * backing files are opened read-only and do not count.  <disk
 * type='volume'> is resolved to its volume's path.  Paths are compared
 * after lexical canonicalisation only: a symlink is another path. */
gboolean vsHypervisorDiskInUse(vsHypervisor *hv, const char *path, char **ret_domain,
                               GError **error);

/* A shadow clone found by our <shadow-run> metadata mark. */
typedef struct _vsShadowDomain vsShadowDomain;
struct _vsShadowDomain {
    char *name;
    char *uuid;
    char *run_id;
    gboolean active;            /* running or paused */
    gboolean persistent;        /* defined; else transient */
    GStrv overlays;             /* paths of its disks (files or volumes)
                                 * named vs-shadow-RUNID-*; never NULL */
};

void vsShadowDomainFree(vsShadowDomain *sd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsShadowDomain, vsShadowDomainFree)

/* Every domain, running transient or defined, whose metadata carries a
 * <shadow-run> mark: a GPtrArray of vsShadowDomain, so that gc can destroy,
 * undefine and delete the overlays.  Only disks named after the run are
 * listed as overlays: a shadow's other disks (a base's read-only ISO) are
 * never anyone's to delete.  Domains vanishing meanwhile are skipped, and
 * so are those whose metadata fails its schema: no trustworthy mark. */
GPtrArray *vsHypervisorListShadowDomains(vsHypervisor *hv, GError **error);

G_END_DECLS
