/*
 * vsactuate.c: carry out a resize on a running domain, and check it took
 */
#include <config.h>

#include "vsactuate.h"
#include "util/vserror.h"

/* After a hot-plug, how long the guest's own hook gets to online the new
 * CPUs before the agent is asked to. */
#define VS_ACTUATE_HOOK_GRACE_US (1000 * 1000)

void
vsActuateOptionsDefaults(vsActuateOptions *opts)
{
    *opts = (vsActuateOptions){
        .vcpu_timeout_ms = 5000,
        .memory_timeout_ms = 10000,
        .poll_ms = 100,
        .memory_tolerance = 0.01,
    };
}

static gboolean
vsActuateVcpusReached(const vsDomainResources *res, guint target)
{
    return vsDomainResourcesVcpus(res) == target;
}

static gboolean
vsActuateMemoryReached(const vsDomainResources *res, guint64 target_kib, double tolerance)
{
    double diff = (double)res->memory_kib - (double)target_kib;

    return ABS(diff) <= tolerance * (double)target_kib;
}

static gboolean
vsActuateSetVcpus(vsHypervisor *hv, const char *domain, const vsDomainResources *res,
                  guint target, GError **error)
{
    if (target > res->vcpus)
        return vsHypervisorSetVcpus(hv, domain, target, VS_AFFECT_LIVE, error);
    if (res->guest_vcpus >= 0)
        return vsHypervisorSetVcpus(hv, domain, target, VS_AFFECT_LIVE | VS_VCPU_GUEST, error);
    return vsHypervisorSetVcpus(hv, domain, target, VS_AFFECT_LIVE, error);
}

gboolean
vsActuateVcpus(vsHypervisor *hv, const char *domain, guint target,
               const vsActuateOptions *opts, vsDomainResources *ret_res, GError **error)
{
    vsDomainResources res;
    gint64 start = g_get_monotonic_time();
    gint64 deadline = start + (gint64)opts->vcpu_timeout_ms * 1000;
    gboolean nudged = FALSE;

    if (!vsHypervisorGetResources(hv, domain, &res, error))
        return FALSE;
    if (target == 0 || target > res.max_vcpus) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "domain '%s' cannot have %u vCPUs: its maximum is %u", domain, target,
                    res.max_vcpus);
        return FALSE;
    }
    if (!vsActuateVcpusReached(&res, target) &&
        !vsActuateSetVcpus(hv, domain, &res, target, error))
        return FALSE;
    for (;;) {
        if (!vsHypervisorGetResources(hv, domain, &res, error))
            return FALSE;
        if (vsActuateVcpusReached(&res, target))
            break;
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                        "domain '%s' has %u usable vCPUs, not %u, after %u ms", domain,
                        vsDomainResourcesVcpus(&res), target, opts->vcpu_timeout_ms);
            return FALSE;
        }
        /* plugged but not online: the guest has no hook of its own */
        if (!nudged && res.guest_vcpus >= 0 && res.vcpus >= target &&
            g_get_monotonic_time() - start >= VS_ACTUATE_HOOK_GRACE_US) {
            nudged = TRUE;
            if (!vsHypervisorSetVcpus(hv, domain, target, VS_AFFECT_LIVE | VS_VCPU_GUEST, error))
                return FALSE;
        }
        g_usleep(opts->poll_ms * 1000);
    }
    if (ret_res)
        *ret_res = res;
    return TRUE;
}

gboolean
vsActuateMemory(vsHypervisor *hv, const char *domain, guint64 target_kib,
                const vsActuateOptions *opts, vsDomainResources *ret_res, GError **error)
{
    vsDomainResources res;
    gint64 deadline = g_get_monotonic_time() + (gint64)opts->memory_timeout_ms * 1000;

    if (!vsHypervisorGetResources(hv, domain, &res, error))
        return FALSE;
    if (target_kib == 0 || target_kib > res.max_memory_kib) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "domain '%s' cannot have %" G_GUINT64_FORMAT " KiB: its maximum is %"
                    G_GUINT64_FORMAT " KiB", domain, target_kib, res.max_memory_kib);
        return FALSE;
    }
    if (!vsHypervisorSetMemory(hv, domain, target_kib, VS_AFFECT_LIVE, error))
        return FALSE;
    for (;;) {
        if (!vsHypervisorGetResources(hv, domain, &res, error))
            return FALSE;
        if (vsActuateMemoryReached(&res, target_kib, opts->memory_tolerance))
            break;
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                        "domain '%s' has %" G_GUINT64_FORMAT " KiB, not %" G_GUINT64_FORMAT
                        " KiB, after %u ms", domain, res.memory_kib, target_kib,
                        opts->memory_timeout_ms);
            return FALSE;
        }
        g_usleep(opts->poll_ms * 1000);
    }
    if (ret_res)
        *ret_res = res;
    return TRUE;
}
