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

G_BEGIN_DECLS

typedef enum {
    VS_POLICY_MODE_OFF = 0,     /* never touched */
    VS_POLICY_MODE_ADVISE,      /* decisions recorded as recommendations only */
    VS_POLICY_MODE_AUTO,        /* decisions carried out */
    VS_POLICY_MODE_LAST
} vsPolicyMode;

const char *vsPolicyModeToString(vsPolicyMode mode);
gboolean vsPolicyModeFromString(const char *text, vsPolicyMode *ret_mode);

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
