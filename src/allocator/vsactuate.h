/*
 * vsactuate.h: carry out a resize on a running domain, and check it took
 *
 * Each call sets one resource live and then reads it back until the guest
 * has followed or a deadline passes: a resize that libvirt accepted but
 * the guest never took is a failure, not a success.  Retrying later, with
 * backoff, is the caller's business.
 */
#pragma once

#include "hypervisor/vshypervisor.h"

G_BEGIN_DECLS

typedef struct _vsActuateOptions vsActuateOptions;
struct _vsActuateOptions {
    guint vcpu_timeout_ms;      /* for the guest to online or offline CPUs */
    guint memory_timeout_ms;    /* for the balloon to reach its target */
    guint poll_ms;
    double memory_tolerance;    /* a balloon this close to its target has reached it */
};

/* 5 s for vCPUs, 10 s for memory, polled every 100 ms, within 1 %. */
void vsActuateOptionsDefaults(vsActuateOptions *opts);

/* Give @domain @target usable vCPUs.  Growing hot-plugs up to @target and
 * has the guest agent online them (a guest-side hook usually already
 * has); shrinking offlines them through the agent, since a live unplug
 * may time out, and unplugs only when there is no agent.  On success
 * @ret_res (optional) holds what was read back. */
gboolean vsActuateVcpus(vsHypervisor *hv, const char *domain, guint target,
                        const vsActuateOptions *opts, vsDomainResources *ret_res,
                        GError **error);

/* Balloon @domain to @target_kib (never above its <memory>). */
gboolean vsActuateMemory(vsHypervisor *hv, const char *domain, guint64 target_kib,
                         const vsActuateOptions *opts, vsDomainResources *ret_res,
                         GError **error);

G_END_DECLS
