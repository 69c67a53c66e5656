/*
 * vsdeploy.c: deploying an app version to a new domain sized from its
 * shadow profile
 */
#include <config.h>

#include <math.h>

#include "vsdeploy.h"
#include "conf/vsdomainedit.h"
#include "util/vserror.h"
#include "util/vsutil.h"

/* --- sizing -------------------------------------------------------------- */

void
vsDeploySize(GPtrArray *aggregates, guint runs, double margin, guint default_vcpus,
             guint64 default_memory_kib, vsDeploySizing *ret_sizing)
{
    vsDeploySizing s = { 0 };

    s.margin = margin > 0 ? margin : VS_PROFILE_MARGIN_DEFAULT;
    if (vsProfileSizeFromAggregates(aggregates, s.margin, &s.size)) {
        s.sized_by = VS_DEPLOY_SIZED_BY_PROFILE;
        s.runs = runs;
    } else {
        s.sized_by = VS_DEPLOY_SIZED_BY_DEFAULTS;
        s.size.vcpus = MAX(default_vcpus, 1);
        s.size.memory_kib = MAX(default_memory_kib, VS_PROFILE_MIN_MEMORY_KIB);
    }
    vsProfileStartingPolicy(&s.size, &s.policy);
    s.max_vcpus = s.policy.max_vcpus;
    s.max_memory_kib = s.policy.max_memory_kib;
    *ret_sizing = s;
}

char *
vsDeployExplainVcpus(const vsDeploySizing *sizing)
{
    const vsProfileSizing *z = &sizing->size;
    double want = z->peak_cpu * sizing->margin;

    if (sizing->sized_by == VS_DEPLOY_SIZED_BY_DEFAULTS)
        return g_strdup_printf("%u vCPU%s: [deploy] vcpus (no profile)", z->vcpus,
                               z->vcpus == 1 ? "" : "s");
    return g_strdup_printf("%u vCPU%s: peak %.2f cores x margin %g = %.2f, %s", z->vcpus,
                           z->vcpus == 1 ? "" : "s", z->peak_cpu, sizing->margin, want,
                           want <= 1 ? "at least 1" : "rounded up");
}

char *
vsDeployExplainMemory(const vsDeploySizing *sizing)
{
    const vsProfileSizing *z = &sizing->size;
    g_autofree char *size = vsFormatKiB(z->memory_kib);
    g_autofree char *peak = NULL;
    g_autofree char *min = NULL;
    double want_mib = (double)z->peak_memory_kib * sizing->margin / 1024.0;

    if (sizing->sized_by == VS_DEPLOY_SIZED_BY_DEFAULTS)
        return g_strdup_printf("%s: [deploy] memory (no profile)", size);
    peak = vsFormatKiB(z->peak_memory_kib);
    if (z->memory_kib == VS_PROFILE_MIN_MEMORY_KIB && want_mib < 128) {
        min = vsFormatKiB(VS_PROFILE_MIN_MEMORY_KIB);
        return g_strdup_printf("%s: peak %s x margin %g = %.1f MiB, at least %s", size, peak,
                               sizing->margin, want_mib, min);
    }
    return g_strdup_printf("%s: peak %s x margin %g = %.1f MiB, rounded up to a MiB", size, peak,
                           sizing->margin, want_mib);
}

/* --- the host's room ------------------------------------------------------ */

gboolean
vsDeployCheckRoom(const vsDeployRoom *room, const vsDeploySizing *sizing, const char *name,
                  GError **error)
{
    double free_vcpus = MAX(room->vcpus - room->used_vcpus, 0);
    double free_kib = MAX(room->memory_kib - room->used_memory_kib, 0);
    g_autofree char *need_mem = NULL;
    g_autofree char *free_mem = NULL;
    g_autofree char *all_mem = NULL;

    if (sizing->size.vcpus <= free_vcpus && sizing->size.memory_kib <= free_kib)
        return TRUE;
    need_mem = vsFormatKiB(sizing->size.memory_kib);
    free_mem = vsFormatKiB((guint64)free_kib);
    all_mem = vsFormatKiB((guint64)room->memory_kib);
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                "no room on this host for domain '%s': it needs %u vCPU%s and %s; %g of %g "
                "vCPUs and %s of %s are free (capacity x [allocator] overcommit, less what the "
                "running domains hold)", name, sizing->size.vcpus,
                sizing->size.vcpus == 1 ? "" : "s", need_mem, free_vcpus, room->vcpus, free_mem,
                all_mem);
    return FALSE;
}

/* --- the domain ---------------------------------------------------------- */

/* Keep the NICs, on the same networks, but let libvirt give each a fresh
 * MAC (two guests with one MAC on a LAN fight) and tap device. */
static void
vsDeployApplyInterfaces(xmlNodePtr devices)
{
    for (xmlNodePtr n = devices->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || n->ns || !xmlStrEqual(n->name, BAD_CAST "interface"))
            continue;
        vsDomainEditRemoveAll(n, "mac");
        vsDomainEditRemoveAll(n, "target");
    }
}

static void
vsDeployApplySizes(xmlNodePtr root, const vsDeploySizing *sizing)
{
    char buf[32];
    xmlNodePtr vcpu;

    vsDomainEditDropSizing(root);
    vsDomainEditSetUInt(root, "memory", sizing->max_memory_kib, "KiB");
    vsDomainEditSetUInt(root, "currentMemory", sizing->size.memory_kib, "KiB");
    vcpu = vsDomainEditSetUInt(root, "vcpu", sizing->max_vcpus, NULL);
    xmlSetProp(vcpu, BAD_CAST "placement", BAD_CAST "static");
    g_snprintf(buf, sizeof(buf), "%u", sizing->size.vcpus);
    xmlSetProp(vcpu, BAD_CAST "current", BAD_CAST buf);
}

char *
vsDeployDomainXML(const char *base_xml, const vsDeployDomainSpec *spec, GError **error)
{
    g_autoptr(vsDomainEditDoc) doc = NULL;
    g_autofree char *ours = NULL;
    xmlChar *base_name;
    xmlNodePtr root;
    xmlNodePtr devices;

    if (!(doc = vsDomainEditParse(base_xml, &devices, error)))
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!vsDomainEditReplaceDisk(devices, spec->disk_path, spec->disk_format, "a deploy", error))
        return NULL;
    base_name = xmlNodeGetContent(vsDomainEditChild(root, "name"));
    vsDomainEditMoveChardevFiles(devices, base_name ? (const char *)base_name : "", spec->name);
    xmlFree(base_name);
    vsDomainEditSetIdentity(root, spec->name, spec->uuid);
    vsDeployApplySizes(root, spec->sizing);
    vsDeployApplyInterfaces(devices);
    vsDomainEditDropChannelPaths(devices);
    if (!(ours = vsPolicyFormat(NULL, &spec->sizing->policy, error)) ||
        !vsDomainEditSetMetadata(root, ours, error))
        return NULL;
    return vsDomainEditFormat(doc);
}

/* --- steps --------------------------------------------------------------- */

GPtrArray *
vsDeployBatches(const vsScript *script)
{
    GPtrArray *batches = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
    GArray *batch = NULL;
    guint group = 0;

    for (guint i = 0; i < script->steps->len; i++) {
        const vsScriptStep *step = g_ptr_array_index(script->steps, i);

        if (!batch || !step->group || step->group != group) {
            batch = g_array_new(FALSE, FALSE, sizeof(guint));
            g_ptr_array_add(batches, batch);
        }
        g_array_append_val(batch, step->index);
        group = step->group;
    }
    return batches;
}
