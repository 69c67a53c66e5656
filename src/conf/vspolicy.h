/*
 * vspolicy.h: a domain's resize policy, kept in its libvirt XML
 *
 * The policy lives in virt-shadow's <metadata> element (namespace
 * VS_METADATA_NS), beside the workload labels, so it travels with the
 * domain through migration and "virsh dumpxml".  It is validated against
 * schemas/domain-metadata.rng (compiled in) before anything is read from
 * it: an invalid policy is refused with the schema's message, and the
 * caller keeps the domain's previous valid one.
 *
 *   <shadow:domain xmlns:shadow="https://virt-shadow.org/xmlns/domain/1.0">
 *     <shadow:policy mode="auto" tier="2" lead="300" confidence="0.8">
 *       <shadow:vcpus min="1" max="4" target-utilization="0.7" max-step="2"/>
 *       <shadow:memory min="524288" max="4194304" headroom="0.2"
 *                      floor="131072" max-step="1048576"/>   (KiB)
 *       <shadow:cooldown up="60" down="900"/>              (seconds)
 *     </shadow:policy>
 *   </shadow:domain>
 *
 * Every attribute is optional; what is left out takes the default below.
 */
#pragma once

#include <glib.h>

#include "hypervisor/vshypervisor.h"

G_BEGIN_DECLS

typedef enum {
    VS_POLICY_MODE_OFF = 0,     /* never touched */
    VS_POLICY_MODE_ADVISE,      /* decisions recorded as recommendations only */
    VS_POLICY_MODE_AUTO,        /* decisions carried out */
    VS_POLICY_MODE_LAST
} vsPolicyMode;

const char *vsPolicyModeToString(vsPolicyMode mode);
gboolean vsPolicyModeFromString(const char *text, vsPolicyMode *ret_mode);

/* virt-shadowd rereads every domain's policy at least this often: a
 * change made with virsh sends no notification. */
#define VS_POLICY_REREAD_S 300

/* Tiers run from 1 (served first) to 9; the default is in the middle. */
#define VS_POLICY_TIER_MIN 1
#define VS_POLICY_TIER_MAX 9

typedef struct _vsPolicy vsPolicy;
struct _vsPolicy {
    vsPolicyMode mode;              /* default off */
    guint min_vcpus;                /* 0: 1 */
    guint max_vcpus;                /* 0: the domain's maximum (<vcpu>) */
    guint64 min_memory_kib;         /* 0: floor only */
    guint64 max_memory_kib;         /* 0: the domain's <memory>; never above it */
    double target_utilization;      /* CPU, 0 < u <= 1; default 0.7 */
    double memory_headroom;         /* fraction above forecast use; default 0.2 */
    guint64 memory_floor_kib;       /* never below guest used + this; default 131072 */
    guint lead_s;                   /* act this long before demand; default 300 */
    double confidence;              /* 0..1: below it, act reactively; default 0.8 */
    guint tier;                     /* 1..9, default 5 */
    guint cooldown_up_s;            /* default 60 */
    guint cooldown_down_s;          /* default 900 */
    guint max_step_vcpus;           /* per action; default 2 */
    guint64 max_step_memory_kib;    /* per action; default 1 GiB */
};

/* The defaults above. */
void vsPolicyInitDefaults(vsPolicy *policy);

/* Read the policy from @metadata_xml, our whole metadata element (it may
 * hold <labels> too; NULL means the domain has none).  The element is
 * validated against the schema first: VS_ERROR_INVALID carries the
 * schema's message, naming the attribute.  Omitted attributes take the
 * defaults; without a <policy>, @ret_present is FALSE and @ret_policy the
 * defaults.  Nothing is written on failure. */
gboolean vsPolicyParse(const char *metadata_xml, vsPolicy *ret_policy,
                       gboolean *ret_present, GError **error);

/* The rules the schema cannot express (min <= max for vCPUs and memory),
 * and, for policies built in code, the ranges of mode, fractions, tier and
 * steps. */
gboolean vsPolicyCheck(const vsPolicy *policy, GError **error);

/* @metadata_xml (NULL: an empty element) with its <policy> replaced by
 * @policy; labels and unknown children are kept.  Only the mode and the
 * attributes that differ from the defaults are written.  The result is
 * validated like vsPolicyParse() input, so what is returned always reads
 * back as @policy. */
char *vsPolicyFormat(const char *metadata_xml, const vsPolicy *policy,
                     GError **error);

/* Our metadata element of @info in @scope (VS_AFFECT_LIVE or _CONFIG), or
 * NULL in @ret_xml when the domain has none. */
gboolean vsPolicyGetMetadata(vsHypervisor *hv, const vsDomainInfo *info, vsAffectFlags scope,
                             char **ret_xml, GError **error);

/* The policy of @info: from the live domain when it runs, else from its
 * config.  Errors name the domain. */
gboolean vsPolicyLoad(vsHypervisor *hv, const vsDomainInfo *info, vsPolicy *ret_policy,
                      gboolean *ret_present, GError **error);

/* A reason the allocator cannot do what a policy asks, with the exact
 * change the admin must make. */
typedef struct _vsPolicyProblem vsPolicyProblem;
struct _vsPolicyProblem {
    char *problem;      /* "vCPUs: <vcpu current='2'>2</vcpu> leaves no room to grow" */
    char *fix;          /* "set <vcpu placement='static' current='2'>4</vcpu> (virsh edit web1), ..." */
};

void vsPolicyProblemFree(vsPolicyProblem *problem);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsPolicyProblem, vsPolicyProblemFree)

/* Check @domain_xml for headroom: current vCPUs below <vcpu> and
 * <currentMemory> below <memory>, since neither maximum can be raised
 * live; and, when @policy is given, its maxima within the domain's.
 * Returns a GPtrArray of vsPolicyProblem, empty when all is well. */
GPtrArray *vsPolicyHeadroomProblems(const char *domain_xml, const vsPolicy *policy,
                                    GError **error);
