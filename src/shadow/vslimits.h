/*
 * vslimits.h: a shadow run's resource limits, and the shadow's domain XML
 *
 * "--limits vcpus=1,cpu=50%,memory=512M,disk-iops=200,disk-bps=20M"; every
 * key is optional:
 *
 *   vcpus      vCPUs of the shadow                          default 1
 *   cpu        share of one host CPU each vCPU may use,     default 100%
 *              1% to 100% (libvirt's <quota> is per vCPU thread, so
 *              quota = cpu% x period, whatever the vCPU count)
 *   memory     guest memory, a size (512M, 1G)              default 512M
 *   disk-iops  I/O operations per second, per disk          default none
 *   disk-bps   bytes per second, per disk, a size (20M)     default none
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VS_LIMITS_DEFAULT_VCPUS 1
#define VS_LIMITS_DEFAULT_CPU_PERCENT 100
#define VS_LIMITS_DEFAULT_MEMORY_KIB (512 * G_GUINT64_CONSTANT(1024))
/* The <cputune> period, in microseconds (libvirt's and the kernel's default). */
#define VS_LIMITS_CPU_PERIOD_US 100000
/* <memtune><hard_limit> is memory plus QEMU's own use, which the cgroup
 * counts too: the larger of this floor and VS_LIMITS_OVERHEAD_FRACTION of
 * memory.  Generous on purpose: a shadow over its hard limit is killed by
 * the kernel, and under TCG the translation cache alone reaches hundreds
 * of MiB. */
#define VS_LIMITS_OVERHEAD_MIN_KIB (512 * G_GUINT64_CONSTANT(1024))
#define VS_LIMITS_OVERHEAD_FRACTION 0.5
/* Below this a guest kernel does not boot usefully. */
#define VS_LIMITS_MEMORY_MIN_KIB (32 * G_GUINT64_CONSTANT(1024))

typedef struct _vsLimits vsLimits;
struct _vsLimits {
    guint vcpus;
    guint cpu_percent;          /* per vCPU, 1..100 */
    guint64 memory_kib;
    guint64 disk_iops;          /* 0: no limit */
    guint64 disk_bytes_sec;     /* 0: no limit */
};

/* The defaults above. */
void vsLimitsInitDefaults(vsLimits *limits);

/* Parse "key=value,..." (NULL or "" gives the defaults).  VS_ERROR_USAGE
 * names the bad item: "invalid limit 'cpu=150%': ...", an unknown or
 * repeated key, a zero or missing value.  Nothing is written on failure. */
gboolean vsLimitsParse(const char *text, vsLimits *ret_limits, GError **error);

/* "vcpus=1,cpu=50%,memory=512M,..." with every key, for messages and the
 * run record; vsLimitsParse() reads it back. */
char *vsLimitsFormat(const vsLimits *limits);

/* <cputune><quota> in microseconds per period; -1 (no limit) at 100%. */
gint64 vsLimitsCpuQuota(const vsLimits *limits);

/* <memtune><hard_limit> in KiB: memory plus the overhead margin above. */
guint64 vsLimitsHardLimitKiB(const vsLimits *limits);

/* The libvirt elements for @limits, as a fragment of <domain> children:
 * <vcpu>, <memory>, <currentMemory>, <cputune> (when cpu < 100%) and
 * <memtune>.  Disk limits go in each disk's <iotune>; see
 * vsLimitsShadowDomain(). */
char *vsLimitsFormatXML(const vsLimits *limits);

/* What makes a shadow's domain out of its base's. */
typedef struct _vsShadowDomainSpec vsShadowDomainSpec;
struct _vsShadowDomainSpec {
    const char *name;           /* the shadow's fresh name */
    const char *uuid;           /* and UUID */
    const char *run_id;         /* written as <shadow-run id=.../> in our metadata */
    const char *overlay_path;   /* the linked clone replacing the base's disk */
    const char *overlay_format; /* its format, "qcow2" */
    const char *network;        /* NULL: no NICs; else one NIC on this isolated network */
    const vsLimits *limits;
};

/* The shadow's domain XML from the base's (inactive) XML @base_xml:
 *   - <name> and <uuid> from @spec, no domain id;
 *   - every <interface> removed, and one on @spec->network if given;
 *   - the one writable disk's source replaced by the overlay (type='file',
 *     driver type the overlay format, no <backingStore>: libvirt reads the
 *     chain from the overlay, which records its backing format), with
 *     <iotune> total_iops_sec/total_bytes_sec when limited; read-only
 *     disks (cdroms) kept; a base with no writable disk or with several is
 *     refused, since the base must never be written;
 *   - unix channel source paths removed, so libvirt picks fresh ones;
 *   - <vcpu>, <memory>, <currentMemory>, <cputune>, <memtune> from
 *     @spec->limits; <maxMemory>, <vcpus>, <cpu><topology> and <cpu><numa>
 *     dropped since they must agree with the old sizes;
 *   - our <metadata> element replaced by vsMetadataShadowRunXML()'s,
 *     holding only <shadow-run id=.../> (the base's policy must not
 *     follow); other metadata kept; gc reads the mark back with
 *     vsMetadataParseShadowRun();
 *   - <on_crash>destroy</on_crash>.
 * VS_ERROR_INVALID names what is wrong with @base_xml, or the run id that
 * is not a valid one. */
char *vsLimitsShadowDomain(const char *base_xml, const vsShadowDomainSpec *spec,
                           GError **error);

G_END_DECLS
