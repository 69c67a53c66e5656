/*
 * vsdeploy.h: deploying an app version to a new domain sized from its
 * shadow profile (issue 6, seed 000's predictive resource allocator)
 *
 * Pure planning: the sizes and why, the new domain's XML from its base's,
 * and the order the install script's steps run in.  vscmd-deploy.c does
 * the I/O (store, clone, define, start, agent).
 */
#pragma once

#include <glib.h>

#include "conf/vspolicy.h"
#include "shadow/vsprofile.h"
#include "shadow/vsscript.h"

G_BEGIN_DECLS

typedef enum {
    VS_DEPLOY_SIZED_BY_PROFILE,     /* the per-step peaks of shadow runs */
    VS_DEPLOY_SIZED_BY_DEFAULTS,    /* no profile: [deploy] vcpus and memory */
} vsDeploySizedBy;

typedef struct _vsDeploySizing vsDeploySizing;
struct _vsDeploySizing {
    vsDeploySizedBy sized_by;
    double margin;              /* applied to the peaks (profile only) */
    guint runs;                 /* shadow runs aggregated (profile only) */
    vsProfileSizing size;       /* peaks (0 for defaults), vcpus, memory_kib */
    vsPolicy policy;            /* the starting policy, vsProfileStartingPolicy() */
    /* The domain's maxima: the policy's, so the allocator can resize live
     * up to them (neither can be raised on a running domain). */
    guint max_vcpus;
    guint64 max_memory_kib;
};

/* Size from @aggregates (vsProfileAggregate of @runs runs; NULL or empty:
 * no profile) with @margin (<= 0: the default 1.2), else the defaults
 * @default_vcpus (at least 1) and @default_memory_kib (at least
 * VS_PROFILE_MIN_MEMORY_KIB). */
void vsDeploySize(GPtrArray *aggregates, guint runs, double margin, guint default_vcpus,
                  guint64 default_memory_kib, vsDeploySizing *ret_sizing);

/* Why these sizes, one line each for vCPUs and memory:
 *   "2 vCPUs: peak 1.50 cores x margin 1.2 = 1.80, rounded up"
 *   "384 MiB: peak 300 MiB x margin 1.2 = 360 MiB, rounded up to a MiB"
 * or, sized by defaults, "1 vCPU: [deploy] vcpus (no profile)". */
char *vsDeployExplainVcpus(const vsDeploySizing *sizing);
char *vsDeployExplainMemory(const vsDeploySizing *sizing);

/* The host's room for the new domain, counted as the allocator's ledger
 * counts it: capacity x [allocator] overcommit, less what the running
 * domains hold now (their plugged vCPUs and balloon sizes). */
typedef struct _vsDeployRoom vsDeployRoom;
struct _vsDeployRoom {
    double vcpus;               /* capacity x overcommit */
    double memory_kib;
    double used_vcpus;
    double used_memory_kib;
};

/* Whether @sizing's starting vCPUs and memory fit in @room; else
 * VS_ERROR_INVALID says, for domain @name, what it needs and what is
 * free.  The headroom up to the maxima is not counted: the allocator
 * grants it later only where the host has room. */
gboolean vsDeployCheckRoom(const vsDeployRoom *room, const vsDeploySizing *sizing,
                           const char *name, GError **error);

/* What makes a deployed domain out of its base's. */
typedef struct _vsDeployDomainSpec vsDeployDomainSpec;
struct _vsDeployDomainSpec {
    const char *name;
    const char *uuid;
    const char *disk_path;      /* the clone replacing the base's writable disk */
    const char *disk_format;    /* "qcow2" for a linked clone, the base's for a full one */
    const vsDeploySizing *sizing;
};

/* The new domain's XML from the base's inactive XML @base_xml:
 *   - <name> and <uuid> from @spec, no domain id;
 *   - the one writable disk's source replaced by the clone (see
 *     vsDomainEditReplaceDisk(); read-only disks kept);
 *   - NICs kept, their <mac> and <target> dropped so that libvirt makes
 *     fresh ones; unix channel source paths dropped; the base's console
 *     log and other chardev files moved to the new name's
 *     (vsDomainEditMoveChardevFiles());
 *   - <vcpu placement='static' current=VCPUS>MAX</vcpu>, <memory>MAX and
 *     <currentMemory>MEMORY: headroom for live resizing up to the starting
 *     policy's maxima; <maxMemory>, <vcpus>, <cputune>, <memtune>,
 *     <cpu><topology> and <cpu><numa> dropped, since they agree with the
 *     base's sizes (a production domain gets no hard limit);
 *   - our <metadata> element replaced by one holding only the starting
 *     policy (vsPolicyFormat()): neither the base's policy nor a shadow
 *     mark follows; other metadata kept.
 * VS_ERROR_INVALID names what is wrong with @base_xml. */
char *vsDeployDomainXML(const char *base_xml, const vsDeployDomainSpec *spec, GError **error);

/* The order @script's steps run in: a GPtrArray of GArray of guint step
 * indexes.  Consecutive steps of one group N > 0 (an optimized script's
 * "# group: N") form one batch, run concurrently; any other step is a
 * batch of its own.  Batches run one after the other. */
GPtrArray *vsDeployBatches(const vsScript *script);

G_END_DECLS
