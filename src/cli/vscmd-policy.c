/*
 * vscmd-policy.c: a domain's resize policy ("policy set", "policy show")
 *
 * The policy lives in the domain's XML (see conf/vspolicy.h), so these
 * commands need only libvirt.  "policy set" validates the whole element
 * before it writes anything: a refused policy leaves the old one in place.
 */
#include <config.h>

#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "vscli.h"
#include "conf/vspolicy.h"
#include "store/vsstore.h"
#include "util/vserror.h"
#include "util/vsutil.h"

typedef enum {
    VS_FIELD_COUNT,         /* guint */
    VS_FIELD_SECONDS,       /* guint; options take durations ("5m") */
    VS_FIELD_KIB,           /* guint64; options take sizes ("512M") */
    VS_FIELD_FRACTION,      /* double; options take "0.2" or "20%" */
} vsPolicyFieldKind;

/* One policy field as the command line and "show" see it.  The JSON key
 * is the struct member's name. */
typedef struct {
    const char *option;
    const char *json;
    const char *label;
    vsPolicyFieldKind kind;
    gsize offset;
    const char *zero;       /* what 0 stands for, when it is special */
} vsPolicyField;

static const vsPolicyField vsPolicyFields[] = {
    { "min-vcpus", "min_vcpus", "min vCPUs", VS_FIELD_COUNT, offsetof(vsPolicy, min_vcpus), NULL },
    { "max-vcpus", "max_vcpus", "max vCPUs", VS_FIELD_COUNT, offsetof(vsPolicy, max_vcpus),
      "the domain's maximum (<vcpu>)" },
    { "min-memory", "min_memory_kib", "min memory", VS_FIELD_KIB,
      offsetof(vsPolicy, min_memory_kib), "none (used memory plus the floor)" },
    { "max-memory", "max_memory_kib", "max memory", VS_FIELD_KIB,
      offsetof(vsPolicy, max_memory_kib), "the domain's maximum (<memory>)" },
    { "target-utilization", "target_utilization", "target CPU utilisation", VS_FIELD_FRACTION,
      offsetof(vsPolicy, target_utilization), NULL },
    { "memory-headroom", "memory_headroom", "memory headroom", VS_FIELD_FRACTION,
      offsetof(vsPolicy, memory_headroom), NULL },
    { "memory-floor", "memory_floor_kib", "memory floor", VS_FIELD_KIB,
      offsetof(vsPolicy, memory_floor_kib), NULL },
    { "lead", "lead_s", "lead time", VS_FIELD_SECONDS, offsetof(vsPolicy, lead_s), NULL },
    { "confidence", "confidence", "confidence threshold", VS_FIELD_FRACTION,
      offsetof(vsPolicy, confidence), NULL },
    { "tier", "tier", "tier", VS_FIELD_COUNT, offsetof(vsPolicy, tier), NULL },
    { "cooldown-up", "cooldown_up_s", "cooldown up", VS_FIELD_SECONDS,
      offsetof(vsPolicy, cooldown_up_s), NULL },
    { "cooldown-down", "cooldown_down_s", "cooldown down", VS_FIELD_SECONDS,
      offsetof(vsPolicy, cooldown_down_s), NULL },
    { "max-step-vcpus", "max_step_vcpus", "max step vCPUs", VS_FIELD_COUNT,
      offsetof(vsPolicy, max_step_vcpus), NULL },
    { "max-step-memory", "max_step_memory_kib", "max step memory", VS_FIELD_KIB,
      offsetof(vsPolicy, max_step_memory_kib), NULL },
};

#define VS_FIELD(policy, field, type) ((type *)((char *)(policy) + (field)->offset))

static gboolean
vsPolicyFieldEqual(const vsPolicyField *f, const vsPolicy *a, const vsPolicy *b)
{
    switch (f->kind) {
    case VS_FIELD_COUNT:
    case VS_FIELD_SECONDS:
        return *VS_FIELD(a, f, const guint) == *VS_FIELD(b, f, const guint);
    case VS_FIELD_KIB:
        return *VS_FIELD(a, f, const guint64) == *VS_FIELD(b, f, const guint64);
    case VS_FIELD_FRACTION:
        return *VS_FIELD(a, f, const double) == *VS_FIELD(b, f, const double);
    }
    return FALSE;
}

/* --- policy set ------------------------------------------------------------- */

static gboolean
vsPolicyParseFraction(const char *text, double *ret)
{
    char *end = NULL;
    double d = g_ascii_strtod(text, &end);

    if (end == text || isnan(d))
        return FALSE;
    if (*end == '%') {
        d /= 100;
        end++;
    }
    if (*end)
        return FALSE;
    *ret = d;
    return TRUE;
}

/* Parse @text for @f into @policy.  Text that is not a value of the right
 * kind is a usage error; a value out of range is left for the schema. */
static gboolean
vsPolicyFieldParse(const vsPolicyField *f, const char *text, vsPolicy *policy, GError **error)
{
    guint64 n = 0;
    gboolean ok = FALSE;

    switch (f->kind) {
    case VS_FIELD_COUNT:
        ok = g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT, &n, NULL);
        if (ok)
            *VS_FIELD(policy, f, guint) = (guint)n;
        break;
    case VS_FIELD_SECONDS:
        ok = vsParseDuration(text, &n, NULL);
        if (ok)
            *VS_FIELD(policy, f, guint) = (guint)MIN((n + 999) / 1000, G_MAXUINT);
        break;
    case VS_FIELD_KIB:
        ok = vsParseSize(text, 1024, &n, NULL);
        if (ok)
            *VS_FIELD(policy, f, guint64) = (n + 1023) / 1024;
        break;
    case VS_FIELD_FRACTION:
        ok = vsPolicyParseFraction(text, VS_FIELD(policy, f, double));
        break;
    }
    if (!ok) {
        static const char *const expected[] = {
            "a whole number", "a duration such as 90s or 5m", "a size such as 512M or 2G",
            "a fraction such as 0.2 or 20%",
        };

        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "invalid value '%s' for --%s (expected %s)",
                    text, f->option, expected[f->kind]);
    }
    return ok;
}

/* The command line over @policy: --reset first, then each option given. */
static gboolean
vsPolicyApplyArgs(const vsCliArgs *args, vsPolicy *policy, GError **error)
{
    const char *mode = vsCliArgsGet(args, "mode");

    if (vsCliArgsHas(args, "reset"))
        vsPolicyInitDefaults(policy);
    if (mode && !vsPolicyModeFromString(mode, &policy->mode)) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "invalid value '%s' for --mode (expected off, advise or auto)", mode);
        return FALSE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(vsPolicyFields); i++) {
        const char *text = vsCliArgsGet(args, vsPolicyFields[i].option);

        if (text && !vsPolicyFieldParse(&vsPolicyFields[i], text, policy, error))
            return FALSE;
    }
    return TRUE;
}

/* Where a policy goes: live and config for a running persistent domain,
 * config for a stopped one, live for a transient one. */
static vsAffectFlags
vsPolicyScopes(const vsDomainInfo *info)
{
    vsAffectFlags scopes = info->persistent ? VS_AFFECT_CONFIG : 0;

    return info->id >= 0 ? scopes | VS_AFFECT_LIVE : scopes;
}

/* The new element text for one scope, keeping that copy's other children. */
static char *
vsPolicyFormatScope(vsHypervisor *hv, const vsDomainInfo *info, vsAffectFlags scope,
                    const vsPolicy *policy, GError **error)
{
    g_autofree char *xml = NULL;
    char *text;

    if (!vsPolicyGetMetadata(hv, info, scope, &xml, error))
        return NULL;
    if (!(text = vsPolicyFormat(xml, policy, error)))
        g_prefix_error(error, "domain '%s': ", info->name);
    return text;
}

static void
vsPolicyWarnHeadroom(vsHypervisor *hv, const vsDomainInfo *info, const vsPolicy *policy)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vsHypervisorGetDomainXML(hv, info->uuid, info->id < 0, &error);
    g_autoptr(GPtrArray) problems = xml ? vsPolicyHeadroomProblems(xml, policy, &error) : NULL;

    if (!problems) {
        fprintf(stderr, "virt-shadow: warning: cannot check the headroom of domain '%s': %s\n",
                info->name, error->message);
        return;
    }
    for (guint i = 0; i < problems->len; i++) {
        vsPolicyProblem *p = g_ptr_array_index(problems, i);

        fprintf(stderr, "virt-shadow: warning: domain '%s': %s; fix: %s\n",
                info->name, p->problem, p->fix);
    }
    if (problems->len > 0)
        fprintf(stderr, "virt-shadow: warning: the allocator cannot grow domain '%s' "
                "as its policy asks until this is fixed\n", info->name);
}

/* Tell a running virt-shadowd (NOTIFY vs_policy).  Best effort: the
 * policy is written already, and the daemon also rereads policies on its
 * own every few minutes. */
static void
vsPolicyNotify(vsCli *cli, const vsDomainInfo *info)
{
    g_autoptr(GError) error = NULL;
    vsStore *store = vsCliGetStore(cli, FALSE, &error);

    if (!store || !vsStoreNotifyPolicy(store, info->uuid, &error))
        g_printerr("note: cannot tell virt-shadowd at once (%s); it rereads policies within %d "
                   "minutes\n", error->message, VS_POLICY_REREAD_S / 60);
}

static gboolean
vsCmdPolicySet(vsCli *cli, const vsCliArgs *args, GError **error)
{
    vsHypervisor *hv = vsCliGetHypervisor(cli, error);
    g_autoptr(vsDomainInfo) info = NULL;
    g_autofree char *live = NULL;
    g_autofree char *config = NULL;
    vsAffectFlags scopes;
    vsPolicy policy;
    gboolean present;

    if (!hv || !(info = vsHypervisorLookupDomain(hv, vsCliArgsPositional(args, 0), error)))
        return FALSE;
    if (vsCliArgsHas(args, "reset"))
        vsPolicyInitDefaults(&policy);
    else if (!vsPolicyLoad(hv, info, &policy, &present, error)) {
        if (g_error_matches(*error, VS_ERROR, VS_ERROR_INVALID)) {
            g_autofree char *message = (*error)->message;

            (*error)->message = g_strdup_printf("%s (--reset replaces it)", message);
        }
        return FALSE;
    }
    if (!vsPolicyApplyArgs(args, &policy, error))
        return FALSE;
    /* every copy is formatted and validated before anything is written */
    scopes = vsPolicyScopes(info);
    if ((scopes & VS_AFFECT_LIVE) &&
        !(live = vsPolicyFormatScope(hv, info, VS_AFFECT_LIVE, &policy, error)))
        return FALSE;
    if ((scopes & VS_AFFECT_CONFIG) &&
        !(config = vsPolicyFormatScope(hv, info, VS_AFFECT_CONFIG, &policy, error)))
        return FALSE;
    if ((live && !vsHypervisorSetMetadata(hv, info->uuid, live, VS_AFFECT_LIVE, error)) ||
        (config && !vsHypervisorSetMetadata(hv, info->uuid, config, VS_AFFECT_CONFIG, error)))
        return FALSE;
    vsPolicyNotify(cli, info);
    vsCliInfo(cli, "policy of domain '%s' set (%s)\n", info->name,
              live && config ? "live and config" : live ? "live" : "config");
    if (policy.mode != VS_POLICY_MODE_OFF)
        vsPolicyWarnHeadroom(hv, info, &policy);
    return TRUE;
}

/* --- policy show ------------------------------------------------------------ */

static char *
vsPolicyFieldText(const vsPolicyField *f, const vsPolicy *policy)
{
    guint64 kib;
    double d;

    switch (f->kind) {
    case VS_FIELD_COUNT:
    case VS_FIELD_SECONDS:
        if (f->zero && *VS_FIELD(policy, f, const guint) == 0)
            return g_strdup(f->zero);
        return g_strdup_printf(f->kind == VS_FIELD_SECONDS ? "%u s" : "%u",
                               *VS_FIELD(policy, f, const guint));
    case VS_FIELD_KIB:
        kib = *VS_FIELD(policy, f, const guint64);
        if (f->zero && kib == 0)
            return g_strdup(f->zero);
        {
            g_autofree char *human = vsFormatKiB(kib);

            return g_strdup_printf("%s (%" G_GUINT64_FORMAT " KiB)", human, kib);
        }
    case VS_FIELD_FRACTION:
        d = *VS_FIELD(policy, f, const double);
        return g_strdup_printf("%g (%g%%)", d, d * 100);
    }
    return NULL;
}

static void
vsPolicyShowText(vsCli *cli, const vsDomainInfo *info, const vsPolicy *policy, gboolean present)
{
    vsPolicy defaults;

    vsPolicyInitDefaults(&defaults);
    vsCliPrint(cli, "%-24s %s\n", "domain:", info->name);
    if (!present)
        vsCliPrint(cli, "%-24s %s\n", "policy:", "none set; the defaults apply");
    vsCliPrint(cli, "%-24s %s%s\n", "mode:", vsPolicyModeToString(policy->mode),
               policy->mode == defaults.mode ? " (default)" : "");
    for (gsize i = 0; i < G_N_ELEMENTS(vsPolicyFields); i++) {
        const vsPolicyField *f = &vsPolicyFields[i];
        g_autofree char *label = g_strconcat(f->label, ":", NULL);
        g_autofree char *value = vsPolicyFieldText(f, policy);

        vsCliPrint(cli, "%-24s %s%s\n", label, value,
                   vsPolicyFieldEqual(f, policy, &defaults) ? " (default)" : "");
    }
}

static void
vsPolicyShowJson(vsCli *cli, const vsDomainInfo *info, const vsPolicy *policy, gboolean present)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);
    vsPolicy defaults;

    vsPolicyInitDefaults(&defaults);
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "domain", info->name);
    vsJsonWriterMemberString(w, "uuid", info->uuid);
    vsJsonWriterMemberBool(w, "present", present);
    vsJsonWriterMemberString(w, "mode", vsPolicyModeToString(policy->mode));
    for (gsize i = 0; i < G_N_ELEMENTS(vsPolicyFields); i++) {
        const vsPolicyField *f = &vsPolicyFields[i];

        if (f->kind == VS_FIELD_FRACTION)
            vsJsonWriterMemberDouble(w, f->json, *VS_FIELD(policy, f, const double));
        else if (f->kind == VS_FIELD_KIB)
            vsJsonWriterMemberInt(w, f->json, (gint64)*VS_FIELD(policy, f, const guint64));
        else
            vsJsonWriterMemberInt(w, f->json, *VS_FIELD(policy, f, const guint));
    }
    vsJsonWriterKey(w, "defaults");
    vsJsonWriterBeginArray(w);
    if (policy->mode == defaults.mode)
        vsJsonWriterString(w, "mode");
    for (gsize i = 0; i < G_N_ELEMENTS(vsPolicyFields); i++) {
        if (vsPolicyFieldEqual(&vsPolicyFields[i], policy, &defaults))
            vsJsonWriterString(w, vsPolicyFields[i].json);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterEndObject(w);
    vsCliPrintJson(cli, w);
}

static gboolean
vsCmdPolicyShow(vsCli *cli, const vsCliArgs *args, GError **error)
{
    vsHypervisor *hv = vsCliGetHypervisor(cli, error);
    g_autoptr(vsDomainInfo) info = NULL;
    vsPolicy policy;
    gboolean present;

    if (!hv || !(info = vsHypervisorLookupDomain(hv, vsCliArgsPositional(args, 0), error)) ||
        !vsPolicyLoad(hv, info, &policy, &present, error))
        return FALSE;
    if (vsCliWantJson(cli))
        vsPolicyShowJson(cli, info, &policy, present);
    else
        vsPolicyShowText(cli, info, &policy, present);
    return TRUE;
}

static const vsCliOption vsCmdPolicySetOptions[] = {
    { "mode", 'm', VS_OPT_STRING, "MODE", "off, advise (record only) or auto (resize)" },
    { "min-vcpus", 0, VS_OPT_STRING, "N", "never fewer vCPUs (default 1)" },
    { "max-vcpus", 0, VS_OPT_STRING, "N", "never more vCPUs (0: the domain's <vcpu>)" },
    { "min-memory", 0, VS_OPT_STRING, "SIZE", "never less memory, e.g. 512M (default none)" },
    { "max-memory", 0, VS_OPT_STRING, "SIZE", "never more memory, e.g. 4G (0: the domain's <memory>)" },
    { "target-utilization", 0, VS_OPT_STRING, "FRACTION",
      "CPU use per vCPU to size for, 0.7 or 70% (default 0.7)" },
    { "memory-headroom", 0, VS_OPT_STRING, "FRACTION",
      "memory above the forecast, 0.2 or 20% (default 0.2)" },
    { "memory-floor", 0, VS_OPT_STRING, "SIZE", "never below guest used memory plus this (default 128M)" },
    { "lead", 0, VS_OPT_STRING, "DURATION", "act this long before demand (default 5m)" },
    { "confidence", 0, VS_OPT_STRING, "FRACTION",
      "below this forecast confidence, act reactively (default 0.8)" },
    { "tier", 0, VS_OPT_STRING, "N", "priority under contention, 1 (first) to 9 (default 5)" },
    { "cooldown-up", 0, VS_OPT_STRING, "DURATION", "wait between two increases (default 1m)" },
    { "cooldown-down", 0, VS_OPT_STRING, "DURATION", "wait before a decrease (default 15m)" },
    { "max-step-vcpus", 0, VS_OPT_STRING, "N", "largest vCPU change per action (default 2)" },
    { "max-step-memory", 0, VS_OPT_STRING, "SIZE", "largest memory change per action (default 1G)" },
    { "reset", 0, VS_OPT_FLAG, NULL, "start from the defaults, not the current policy" },
    { NULL }
};

const vsCliCommand vsCmdPolicy[] = {
    { "policy set", "DOMAIN", "set a domain's resize policy",
      "Changes the options given and keeps the rest of the domain's policy (all\n"
      "of it reset to the defaults with --reset).  The policy is validated\n"
      "against the schema first; when it is refused nothing is written and the\n"
      "domain keeps its previous policy.  It is written to the live domain and\n"
      "to its config (only the config when stopped, only live when transient).\n"
      "Warns when the domain's XML leaves no room to grow, with the exact fix.\n"
      "See virt-shadow-policy(5).",
      vsCmdPolicySetOptions, 1, 1, vsCmdPolicySet },
    { "policy show", "DOMAIN", "show a domain's resize policy",
      "Shows every field of the domain's policy with its unit, marking the\n"
      "defaults.  Exits 1 when the stored policy is invalid, with the schema's\n"
      "message.",
      NULL, 1, 1, vsCmdPolicyShow },
    { NULL }
};
