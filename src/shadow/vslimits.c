/*
 * vslimits.c: a shadow run's resource limits, and the shadow's domain XML
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vslimits.h"
#include "conf/vsdomainedit.h"
#include "conf/vsmetadata.h"
#include "util/vserror.h"
#include "util/vsutil.h"

void
vsLimitsInitDefaults(vsLimits *limits)
{
    memset(limits, 0, sizeof(*limits));
    limits->vcpus = VS_LIMITS_DEFAULT_VCPUS;
    limits->cpu_percent = VS_LIMITS_DEFAULT_CPU_PERCENT;
    limits->memory_kib = VS_LIMITS_DEFAULT_MEMORY_KIB;
}

static gboolean
vsLimitsBad(const char *item, GError **error, const char *why)
{
    g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "invalid limit '%s': %s", item, why);
    return FALSE;
}

static gboolean
vsLimitsParseItem(vsLimits *limits, const char *item, const char *key, const char *value,
                  GError **error)
{
    g_autoptr(GError) local = NULL;
    guint64 n;

    if (!*value)
        return vsLimitsBad(item, error, "missing value");
    if (strcmp(key, "vcpus") == 0) {
        if (!g_ascii_string_to_unsigned(value, 10, 0, 4096, &n, NULL))
            return vsLimitsBad(item, error, "expected a vCPU count");
        if (!n)
            return vsLimitsBad(item, error, "must be at least 1");
        limits->vcpus = (guint)n;
    } else if (strcmp(key, "cpu") == 0) {
        g_autofree char *digits = g_strdup(value);
        gsize len = strlen(digits);

        if (digits[len - 1] == '%')
            digits[len - 1] = '\0';
        if (!g_ascii_string_to_unsigned(digits, 10, 0, G_MAXUINT, &n, NULL))
            return vsLimitsBad(item, error, "expected a percentage such as 50%");
        if (n < 1 || n > 100)
            return vsLimitsBad(item, error, "must be between 1% and 100% of a host CPU per vCPU");
        limits->cpu_percent = (guint)n;
    } else if (strcmp(key, "memory") == 0) {
        if (!vsParseSize(value, 1024 * 1024, &n, &local))
            return vsLimitsBad(item, error, local->message);
        if (n / 1024 < VS_LIMITS_MEMORY_MIN_KIB)
            return vsLimitsBad(item, error, "must be at least 32M");
        limits->memory_kib = n / 1024;
    } else if (strcmp(key, "disk-iops") == 0) {
        if (!g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64, &n, NULL))
            return vsLimitsBad(item, error, "expected operations per second");
        if (!n)
            return vsLimitsBad(item, error, "must be at least 1 (leave it out for no limit)");
        limits->disk_iops = n;
    } else if (strcmp(key, "disk-bps") == 0) {
        if (!vsParseSize(value, 1, &n, &local))
            return vsLimitsBad(item, error, local->message);
        if (!n)
            return vsLimitsBad(item, error, "must be at least 1 (leave it out for no limit)");
        limits->disk_bytes_sec = n;
    } else {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "unknown limit '%s' (expected vcpus, cpu, memory, disk-iops or disk-bps)", key);
        return FALSE;
    }
    return TRUE;
}

gboolean
vsLimitsParse(const char *text, vsLimits *ret_limits, GError **error)
{
    g_auto(GStrv) items = NULL;
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    vsLimits limits;

    vsLimitsInitDefaults(&limits);
    if (text && *text)
        items = g_strsplit(text, ",", -1);
    for (gsize i = 0; items && items[i]; i++) {
        g_autofree char *item = g_strstrip(g_strdup(items[i]));
        char *eq = strchr(item, '=');
        g_autofree char *key = NULL;

        if (!*item)
            return vsLimitsBad(text, error, "empty item");
        if (!eq)
            return vsLimitsBad(item, error, "expected key=value");
        key = g_strstrip(g_strndup(item, eq - item));
        if (g_hash_table_contains(seen, key)) {
            g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "limit '%s' given twice", key);
            return FALSE;
        }
        if (!vsLimitsParseItem(&limits, item, key, g_strstrip(eq + 1), error))
            return FALSE;
        g_hash_table_add(seen, g_steal_pointer(&key));
    }
    *ret_limits = limits;
    return TRUE;
}

char *
vsLimitsFormat(const vsLimits *limits)
{
    GString *out = g_string_new(NULL);

    g_string_append_printf(out, "vcpus=%u,cpu=%u%%,memory=%" G_GUINT64_FORMAT "K",
                           limits->vcpus, limits->cpu_percent, limits->memory_kib);
    if (limits->disk_iops)
        g_string_append_printf(out, ",disk-iops=%" G_GUINT64_FORMAT, limits->disk_iops);
    if (limits->disk_bytes_sec)
        g_string_append_printf(out, ",disk-bps=%" G_GUINT64_FORMAT, limits->disk_bytes_sec);
    return g_string_free(out, FALSE);
}

gint64
vsLimitsCpuQuota(const vsLimits *limits)
{
    if (limits->cpu_percent >= 100)
        return -1;
    return (gint64)VS_LIMITS_CPU_PERIOD_US * limits->cpu_percent / 100;
}

guint64
vsLimitsHardLimitKiB(const vsLimits *limits)
{
    guint64 margin = (guint64)ceil(limits->memory_kib * VS_LIMITS_OVERHEAD_FRACTION);

    return limits->memory_kib + MAX(margin, VS_LIMITS_OVERHEAD_MIN_KIB);
}

char *
vsLimitsFormatXML(const vsLimits *limits)
{
    GString *out = g_string_new(NULL);
    gint64 quota = vsLimitsCpuQuota(limits);

    g_string_append_printf(out, "<vcpu placement='static'>%u</vcpu>\n", limits->vcpus);
    g_string_append_printf(out, "<memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n",
                           limits->memory_kib);
    g_string_append_printf(out, "<currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>\n",
                           limits->memory_kib);
    if (quota > 0)
        g_string_append_printf(out, "<cputune>\n  <period>%d</period>\n  <quota>%" G_GINT64_FORMAT
                               "</quota>\n</cputune>\n", VS_LIMITS_CPU_PERIOD_US, quota);
    g_string_append_printf(out, "<memtune>\n  <hard_limit unit='KiB'>%" G_GUINT64_FORMAT
                           "</hard_limit>\n</memtune>\n", vsLimitsHardLimitKiB(limits));
    return g_string_free(out, FALSE);
}

/* --- the shadow's domain ------------------------------------------------- */

static gboolean
vsLimitsApplyDisk(xmlNodePtr devices, const vsShadowDomainSpec *spec, GError **error)
{
    xmlNodePtr disk = vsDomainEditReplaceDisk(devices, spec->overlay_path, spec->overlay_format,
                                              "a shadow", error);

    if (!disk)
        return FALSE;
    if (spec->limits->disk_iops || spec->limits->disk_bytes_sec) {
        xmlNodePtr iotune = xmlNewChild(disk, NULL, BAD_CAST "iotune", NULL);

        if (spec->limits->disk_bytes_sec)
            vsDomainEditSetUInt(iotune, "total_bytes_sec", spec->limits->disk_bytes_sec, NULL);
        if (spec->limits->disk_iops)
            vsDomainEditSetUInt(iotune, "total_iops_sec", spec->limits->disk_iops, NULL);
    }
    return TRUE;
}

static void
vsLimitsApplyDevices(xmlNodePtr devices, const vsShadowDomainSpec *spec)
{
    vsDomainEditRemoveAll(devices, "interface");
    if (spec->network) {
        xmlNodePtr nic = xmlNewChild(devices, NULL, BAD_CAST "interface", NULL);
        xmlNodePtr source = xmlNewChild(nic, NULL, BAD_CAST "source", NULL);
        xmlNodePtr model = xmlNewChild(nic, NULL, BAD_CAST "model", NULL);

        xmlSetProp(nic, BAD_CAST "type", BAD_CAST "network");
        xmlSetProp(source, BAD_CAST "network", BAD_CAST spec->network);
        xmlSetProp(model, BAD_CAST "type", BAD_CAST "virtio");
    }
    vsDomainEditDropChannelPaths(devices);
    vsDomainEditMoveChardevFiles(devices, NULL, NULL);
}

/* Our element, as conf/vsmetadata makes it (the one definition of the mark
 * and of a valid run id), replaces any of ours the base carries. */
static gboolean
vsLimitsApplyMetadata(xmlNodePtr root, const vsShadowDomainSpec *spec, GError **error)
{
    g_autofree char *mark = vsMetadataShadowRunXML(spec->run_id, error);

    return mark && vsDomainEditSetMetadata(root, mark, error);
}

static void
vsLimitsApplySizes(xmlNodePtr root, const vsLimits *limits)
{
    xmlNodePtr vcpu;
    xmlNodePtr memtune;
    gint64 quota = vsLimitsCpuQuota(limits);

    vsDomainEditDropSizing(root);
    vsDomainEditSetUInt(root, "memory", limits->memory_kib, "KiB");
    vsDomainEditSetUInt(root, "currentMemory", limits->memory_kib, "KiB");
    vcpu = vsDomainEditSetUInt(root, "vcpu", limits->vcpus, NULL);
    xmlSetProp(vcpu, BAD_CAST "placement", BAD_CAST "static");
    if (quota > 0) {
        xmlNodePtr cputune = xmlNewNode(NULL, BAD_CAST "cputune");

        xmlAddNextSibling(vcpu, cputune);
        vsDomainEditSetUInt(cputune, "period", VS_LIMITS_CPU_PERIOD_US, NULL);
        vsDomainEditSetUInt(cputune, "quota", (guint64)quota, NULL);
    }
    memtune = xmlNewNode(NULL, BAD_CAST "memtune");
    xmlAddNextSibling(vsDomainEditChild(root, "currentMemory"), memtune);
    vsDomainEditSetUInt(memtune, "hard_limit", vsLimitsHardLimitKiB(limits), "KiB");
}

char *
vsLimitsShadowDomain(const char *base_xml, const vsShadowDomainSpec *spec, GError **error)
{
    g_autoptr(vsDomainEditDoc) doc = NULL;
    xmlNodePtr root;
    xmlNodePtr devices;

    if (!(doc = vsDomainEditParse(base_xml, &devices, error)))
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!vsLimitsApplyDisk(devices, spec, error))
        return NULL;
    vsDomainEditSetIdentity(root, spec->name, spec->uuid);
    vsLimitsApplySizes(root, spec->limits);
    vsDomainEditSetChild(root, "on_crash", "destroy");
    vsLimitsApplyDevices(devices, spec);
    if (!vsLimitsApplyMetadata(root, spec, error))
        return NULL;
    return vsDomainEditFormat(doc);
}
