/*
 * vspolicy.c: a domain's resize policy, kept in its libvirt XML
 */
#include <config.h>

#include <stddef.h>

#include <libxml/tree.h>

#include "vspolicy.h"
#include "vsdomainxml.h"
#include "vsmetadatapriv.h"
#include "hypervisor/vshypervisor.h"
#include "util/vserror.h"

static const char *const vsPolicyModeNames[VS_POLICY_MODE_LAST] = { "off", "advise", "auto" };

const char *
vsPolicyModeToString(vsPolicyMode mode)
{
    return mode < VS_POLICY_MODE_LAST ? vsPolicyModeNames[mode] : NULL;
}

gboolean
vsPolicyModeFromString(const char *text, vsPolicyMode *ret_mode)
{
    for (guint i = 0; text && i < VS_POLICY_MODE_LAST; i++) {
        if (g_str_equal(text, vsPolicyModeNames[i])) {
            *ret_mode = (vsPolicyMode)i;
            return TRUE;
        }
    }
    return FALSE;
}

void
vsPolicyInitDefaults(vsPolicy *policy)
{
    *policy = (vsPolicy) {
        .mode = VS_POLICY_MODE_OFF,
        .min_vcpus = 1,
        .target_utilization = 0.7,
        .memory_headroom = 0.2,
        .memory_floor_kib = 131072,
        .lead_s = 300,
        .confidence = 0.8,
        .tier = 5,
        .cooldown_up_s = 60,
        .cooldown_down_s = 900,
        .max_step_vcpus = 2,
        .max_step_memory_kib = 1048576,
    };
}

/* --- the XML attributes ----------------------------------------------------- */

typedef enum {
    VS_POLICY_ATTR_UINT,
    VS_POLICY_ATTR_UINT64,
    VS_POLICY_ATTR_DOUBLE,
} vsPolicyAttrType;

/* Where each attribute lives: @element is a child of <policy>, or NULL for
 * <policy> itself.  Formatting follows this order. */
typedef struct {
    const char *element;
    const char *attribute;
    vsPolicyAttrType type;
    gsize offset;
} vsPolicyAttr;

static const vsPolicyAttr vsPolicyAttrs[] = {
    { NULL, "tier", VS_POLICY_ATTR_UINT, offsetof(vsPolicy, tier) },
    { NULL, "lead", VS_POLICY_ATTR_UINT, offsetof(vsPolicy, lead_s) },
    { NULL, "confidence", VS_POLICY_ATTR_DOUBLE, offsetof(vsPolicy, confidence) },
    { "vcpus", "min", VS_POLICY_ATTR_UINT, offsetof(vsPolicy, min_vcpus) },
    { "vcpus", "max", VS_POLICY_ATTR_UINT, offsetof(vsPolicy, max_vcpus) },
    { "vcpus", "target-utilization", VS_POLICY_ATTR_DOUBLE, offsetof(vsPolicy, target_utilization) },
    { "vcpus", "max-step", VS_POLICY_ATTR_UINT, offsetof(vsPolicy, max_step_vcpus) },
    { "memory", "min", VS_POLICY_ATTR_UINT64, offsetof(vsPolicy, min_memory_kib) },
    { "memory", "max", VS_POLICY_ATTR_UINT64, offsetof(vsPolicy, max_memory_kib) },
    { "memory", "headroom", VS_POLICY_ATTR_DOUBLE, offsetof(vsPolicy, memory_headroom) },
    { "memory", "floor", VS_POLICY_ATTR_UINT64, offsetof(vsPolicy, memory_floor_kib) },
    { "memory", "max-step", VS_POLICY_ATTR_UINT64, offsetof(vsPolicy, max_step_memory_kib) },
    { "cooldown", "up", VS_POLICY_ATTR_UINT, offsetof(vsPolicy, cooldown_up_s) },
    { "cooldown", "down", VS_POLICY_ATTR_UINT, offsetof(vsPolicy, cooldown_down_s) },
};

#define VS_POLICY_FIELD(policy, attr, type) ((type *)((char *)(policy) + (attr)->offset))

/* Store @text (already valid by the schema) into @policy. */
static gboolean
vsPolicyAttrSet(const vsPolicyAttr *attr, const char *text, vsPolicy *policy, GError **error)
{
    guint64 u = 0;
    char *end = NULL;
    double d;

    switch (attr->type) {
    case VS_POLICY_ATTR_UINT:
    case VS_POLICY_ATTR_UINT64:
        if (!g_ascii_string_to_unsigned(text, 10, 0,
                                        attr->type == VS_POLICY_ATTR_UINT ? G_MAXUINT : G_MAXUINT64,
                                        &u, NULL))
            break;
        if (attr->type == VS_POLICY_ATTR_UINT)
            *VS_POLICY_FIELD(policy, attr, guint) = (guint)u;
        else
            *VS_POLICY_FIELD(policy, attr, guint64) = u;
        return TRUE;
    case VS_POLICY_ATTR_DOUBLE:
        d = g_ascii_strtod(text, &end);
        if (end == text || *end)
            break;
        *VS_POLICY_FIELD(policy, attr, double) = d;
        return TRUE;
    }
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid policy attribute '%s' value '%s'",
                attr->attribute, text);
    return FALSE;
}

/* Shortest text that reads back as the same value. */
static char *
vsPolicyAttrText(const vsPolicyAttr *attr, const vsPolicy *policy)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    double d;

    switch (attr->type) {
    case VS_POLICY_ATTR_UINT:
        return g_strdup_printf("%u", *VS_POLICY_FIELD(policy, attr, const guint));
    case VS_POLICY_ATTR_UINT64:
        return g_strdup_printf("%" G_GUINT64_FORMAT, *VS_POLICY_FIELD(policy, attr, const guint64));
    case VS_POLICY_ATTR_DOUBLE:
        d = *VS_POLICY_FIELD(policy, attr, const double);
        g_ascii_formatd(buf, sizeof(buf), "%.15g", d);
        if (g_ascii_strtod(buf, NULL) != d)
            g_ascii_formatd(buf, sizeof(buf), "%.17g", d);
        return g_strdup(buf);
    }
    g_assert_not_reached();
    return NULL;
}

static gboolean
vsPolicyAttrIsDefault(const vsPolicyAttr *attr, const vsPolicy *policy, const vsPolicy *defaults)
{
    switch (attr->type) {
    case VS_POLICY_ATTR_UINT:
        return *VS_POLICY_FIELD(policy, attr, const guint) ==
               *VS_POLICY_FIELD(defaults, attr, const guint);
    case VS_POLICY_ATTR_UINT64:
        return *VS_POLICY_FIELD(policy, attr, const guint64) ==
               *VS_POLICY_FIELD(defaults, attr, const guint64);
    case VS_POLICY_ATTR_DOUBLE:
        return *VS_POLICY_FIELD(policy, attr, const double) ==
               *VS_POLICY_FIELD(defaults, attr, const double);
    }
    g_assert_not_reached();
    return FALSE;
}

/* --- parse, check, format --------------------------------------------------- */

static gboolean
vsPolicyFromNode(xmlNodePtr node, vsPolicy *policy, GError **error)
{
    g_autofree char *mode = (char *)xmlGetProp(node, BAD_CAST "mode");

    if (mode && !vsPolicyModeFromString(mode, &policy->mode)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid policy mode '%s'", mode);
        return FALSE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(vsPolicyAttrs); i++) {
        const vsPolicyAttr *attr = &vsPolicyAttrs[i];
        xmlNodePtr owner = attr->element ? vsMetadataChild(node, attr->element) : node;
        xmlChar *text = owner ? xmlGetProp(owner, BAD_CAST attr->attribute) : NULL;
        gboolean ok = !text || vsPolicyAttrSet(attr, (const char *)text, policy, error);

        xmlFree(text);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

gboolean
vsPolicyParse(const char *metadata_xml, vsPolicy *ret_policy, gboolean *ret_present,
              GError **error)
{
    g_autoptr(vsMetaDoc) doc = metadata_xml ? vsMetadataParseDoc(metadata_xml, error) : NULL;
    xmlNodePtr node;
    vsPolicy policy;

    if (metadata_xml && !doc)
        return FALSE;
    vsPolicyInitDefaults(&policy);
    node = doc ? vsMetadataChild(xmlDocGetRootElement(doc), "policy") : NULL;
    if (node && (!vsPolicyFromNode(node, &policy, error) || !vsPolicyCheck(&policy, error)))
        return FALSE;
    *ret_policy = policy;
    *ret_present = node != NULL;
    return TRUE;
}

static gboolean G_GNUC_PRINTF(3, 4)
vsPolicyRule(gboolean ok, GError **error, const char *format, ...)
{
    va_list ap;

    if (ok)
        return TRUE;
    va_start(ap, format);
    g_propagate_error(error, g_error_new_valist(VS_ERROR, VS_ERROR_INVALID, format, ap));
    va_end(ap);
    return FALSE;
}

gboolean
vsPolicyCheck(const vsPolicy *p, GError **error)
{
    /* written as "x in range" so that NaN fails */
    return vsPolicyRule(p->mode < VS_POLICY_MODE_LAST, error, "invalid policy mode %d", p->mode) &&
           vsPolicyRule(!p->max_vcpus || MAX(p->min_vcpus, 1) <= p->max_vcpus, error,
                        "policy min vCPUs %u is above max vCPUs %u", p->min_vcpus, p->max_vcpus) &&
           vsPolicyRule(!p->max_memory_kib || p->min_memory_kib <= p->max_memory_kib, error,
                        "policy min memory %" G_GUINT64_FORMAT " KiB is above max memory %"
                        G_GUINT64_FORMAT " KiB", p->min_memory_kib, p->max_memory_kib) &&
           vsPolicyRule(p->target_utilization > 0 && p->target_utilization <= 1, error,
                        "policy target utilization '%g' is not in (0, 1]", p->target_utilization) &&
           vsPolicyRule(p->confidence >= 0 && p->confidence <= 1, error,
                        "policy confidence '%g' is not in [0, 1]", p->confidence) &&
           vsPolicyRule(p->memory_headroom >= 0 && p->memory_headroom <= 10, error,
                        "policy memory headroom '%g' is not in [0, 10]", p->memory_headroom) &&
           vsPolicyRule(p->tier >= VS_POLICY_TIER_MIN && p->tier <= VS_POLICY_TIER_MAX, error,
                        "policy tier %u is not in %d..%d", p->tier, VS_POLICY_TIER_MIN,
                        VS_POLICY_TIER_MAX) &&
           vsPolicyRule(p->max_step_vcpus > 0 && p->max_step_memory_kib > 0, error,
                        "policy max step must be at least 1");
}

/* A fresh <policy> for @policy, writing the mode and what differs from the
 * defaults.  It takes the place of the old one, or goes last. */
static void
vsPolicyToNode(xmlNodePtr root, const vsPolicy *policy)
{
    xmlNodePtr node = xmlNewDocNode(root->doc, root->ns, BAD_CAST "policy", NULL);
    xmlNodePtr old = vsMetadataChild(root, "policy");
    vsPolicy defaults;

    if (old) {
        xmlReplaceNode(old, node);
        xmlFreeNode(old);
    } else {
        xmlAddChild(root, node);
    }

    vsPolicyInitDefaults(&defaults);
    xmlSetProp(node, BAD_CAST "mode", BAD_CAST vsPolicyModeToString(policy->mode));
    for (gsize i = 0; i < G_N_ELEMENTS(vsPolicyAttrs); i++) {
        const vsPolicyAttr *attr = &vsPolicyAttrs[i];
        g_autofree char *text = NULL;
        xmlNodePtr owner;

        if (vsPolicyAttrIsDefault(attr, policy, &defaults))
            continue;
        owner = attr->element ? vsMetadataChild(node, attr->element) : node;
        if (!owner)
            owner = xmlNewChild(node, root->ns, BAD_CAST attr->element, NULL);
        text = vsPolicyAttrText(attr, policy);
        xmlSetProp(owner, BAD_CAST attr->attribute, BAD_CAST text);
    }
}

char *
vsPolicyFormat(const char *metadata_xml, const vsPolicy *policy, GError **error)
{
    g_autoptr(vsMetaDoc) doc = vsMetadataReadDoc(metadata_xml ? metadata_xml : "<domain/>", error);
    g_autofree char *text = NULL;
    xmlNodePtr root;
    xmlNodePtr old;
    vsPolicy again;
    gboolean present;

    if (!doc)
        return NULL;
    if (!vsPolicyModeToString(policy->mode)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid policy mode %d", policy->mode);
        return NULL;
    }
    root = xmlDocGetRootElement(doc);
    /* replaced even when invalid: that is how a bad policy gets fixed */
    vsPolicyToNode(root, policy);
    /* a second <policy>, invalid anyway, goes */
    while ((old = vsMetadataNext(vsMetadataChild(root, "policy"), "policy"))) {
        xmlUnlinkNode(old);
        xmlFreeNode(old);
    }
    text = vsMetadataDumpDoc(doc);
    /* the schema, then vsPolicyCheck(), judge the result */
    if (!vsPolicyParse(text, &again, &present, error))
        return NULL;
    return g_steal_pointer(&text);
}

/* --- headroom ----------------------------------------------------------------- */

void
vsPolicyProblemFree(vsPolicyProblem *problem)
{
    if (!problem)
        return;
    g_free(problem->problem);
    g_free(problem->fix);
    g_free(problem);
}

static void G_GNUC_PRINTF(3, 4)
vsPolicyAddProblem(GPtrArray *problems, char *problem, const char *fix_format, ...)
{
    vsPolicyProblem *p = g_new0(vsPolicyProblem, 1);
    va_list ap;

    va_start(ap, fix_format);
    p->problem = problem;
    p->fix = g_strdup_vprintf(fix_format, ap);
    va_end(ap);
    g_ptr_array_add(problems, p);
}

/* The vCPU maximum to suggest: the policy's when it is above the current
 * count, else twice the current count. */
static guint
vsPolicyWantVcpus(const vsDomainXML *def, const vsPolicy *policy)
{
    guint want = policy ? policy->max_vcpus : 0;

    return want > def->vcpus_current ? want : def->vcpus_current * 2;
}

static guint64
vsPolicyWantMemory(const vsDomainXML *def, const vsPolicy *policy)
{
    guint64 want = policy ? policy->max_memory_kib : 0;

    return want > def->current_memory_kib ? want : def->current_memory_kib * 2;
}

static void
vsPolicyVcpuProblems(const vsDomainXML *def, const vsPolicy *policy, GPtrArray *problems)
{
    guint want = vsPolicyWantVcpus(def, policy);

    if (!vsDomainXMLHasVcpuHeadroom(def)) {
        vsPolicyAddProblem(problems,
                           g_strdup_printf("vCPUs: <vcpu current='%u'>%u</vcpu> leaves no room to grow",
                                           def->vcpus_current, def->vcpus_max),
                           "set <vcpu placement='static' current='%u'>%u</vcpu> (virsh edit %s), "
                           "then restart the domain",
                           def->vcpus_current, want, def->name);
    } else if (policy && policy->max_vcpus > def->vcpus_max) {
        vsPolicyAddProblem(problems,
                           g_strdup_printf("vCPUs: policy max %u is above the domain's maximum "
                                           "<vcpu>%u</vcpu>", policy->max_vcpus, def->vcpus_max),
                           "set <vcpu placement='static' current='%u'>%u</vcpu> (virsh edit %s), "
                           "then restart the domain; or lower the policy: "
                           "virt-shadow policy set %s --max-vcpus %u",
                           def->vcpus_current, want, def->name, def->name, def->vcpus_max);
    }
}

static void
vsPolicyMemoryProblems(const vsDomainXML *def, const vsPolicy *policy, GPtrArray *problems)
{
    guint64 want = vsPolicyWantMemory(def, policy);

    if (!vsDomainXMLHasMemoryHeadroom(def)) {
        vsPolicyAddProblem(problems,
                           g_strdup_printf("memory: <currentMemory unit='KiB'>%" G_GUINT64_FORMAT
                                           "</currentMemory> equals <memory>, leaving no room to grow",
                                           def->current_memory_kib),
                           "set <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory> and keep "
                           "<currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory> "
                           "(virsh edit %s), then restart the domain",
                           want, def->current_memory_kib, def->name);
    } else if (policy && policy->max_memory_kib > def->memory_kib) {
        vsPolicyAddProblem(problems,
                           g_strdup_printf("memory: policy max %" G_GUINT64_FORMAT " KiB is above "
                                           "the domain's <memory unit='KiB'>%" G_GUINT64_FORMAT
                                           "</memory>", policy->max_memory_kib, def->memory_kib),
                           "set <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory> (virsh edit %s), "
                           "then restart the domain; or lower the policy: "
                           "virt-shadow policy set %s --max-memory %" G_GUINT64_FORMAT "K",
                           want, def->name, def->name, def->memory_kib);
    }
}

GPtrArray *
vsPolicyHeadroomProblems(const char *domain_xml, const vsPolicy *policy, GError **error)
{
    g_autoptr(vsDomainXML) def = vsDomainXMLParse(domain_xml, error);
    GPtrArray *problems;

    if (!def)
        return NULL;
    problems = g_ptr_array_new_with_free_func((GDestroyNotify)vsPolicyProblemFree);
    vsPolicyVcpuProblems(def, policy, problems);
    vsPolicyMemoryProblems(def, policy, problems);
    return problems;
}

/* --- on a domain -------------------------------------------------------------- */

gboolean
vsPolicyGetMetadata(vsHypervisor *hv, const vsDomainInfo *info, vsAffectFlags scope,
                    char **ret_xml, GError **error)
{
    g_autoptr(GError) local = NULL;
    char *xml = vsHypervisorGetMetadata(hv, info->uuid, scope, &local);

    if (!xml && !g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    *ret_xml = xml;
    return TRUE;
}

gboolean
vsPolicyLoad(vsHypervisor *hv, const vsDomainInfo *info, vsPolicy *ret_policy,
             gboolean *ret_present, GError **error)
{
    vsAffectFlags scope = info->id >= 0 ? VS_AFFECT_LIVE : VS_AFFECT_CONFIG;
    g_autofree char *xml = NULL;

    if (!vsPolicyGetMetadata(hv, info, scope, &xml, error))
        return FALSE;
    if (!vsPolicyParse(xml, ret_policy, ret_present, error)) {
        g_prefix_error(error, "domain '%s': ", info->name);
        return FALSE;
    }
    return TRUE;
}
