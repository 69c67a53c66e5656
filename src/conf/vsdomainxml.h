/*
 * vsdomainxml.h: the facts virt-shadow needs from a libvirt domain XML
 *
 * Parsed with libxml2 from the text the hypervisor driver returns, so the
 * core never needs libvirt's own structures.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One <disk> with a path: type='file' (source file) or 'block' (source
 * dev), or a storage volume: type='volume' (source pool and volume). */
typedef struct _vsDomainDisk vsDomainDisk;
struct _vsDomainDisk {
    char *path;                 /* <source file|dev>; NULL for a volume */
    char *pool;                 /* <source pool volume>, else NULL */
    char *volume;
    char *format;               /* <driver type>, NULL when not given */
    char *target;               /* <target dev>, e.g. "vda"; may be NULL */
    char *device;               /* "disk", "cdrom", ...; "disk" when not given */
    gboolean readonly;          /* <readonly/> */
    gboolean shareable;         /* <shareable/> */
};

typedef struct _vsDomainXML vsDomainXML;
struct _vsDomainXML {
    char *name;
    char *uuid;
    char *type;                 /* "kvm", "qemu", "test", ... */
    guint vcpus_max;            /* <vcpu> */
    guint vcpus_current;        /* <vcpu current=...>, else the maximum */
    guint64 memory_kib;         /* <memory>: the balloon ceiling */
    guint64 current_memory_kib; /* <currentMemory>, else <memory> */
    gboolean has_agent_channel; /* org.qemu.guest_agent.0 virtio channel */
    gboolean agent_connected;   /* live XML says state='connected' */
    gboolean has_balloon;       /* a memballoon other than model='none' */
    int balloon_stats_period;   /* seconds; 0 when not set */
    GPtrArray *disks;           /* vsDomainDisk, in document order; never NULL.
                                 * Disks with neither a path nor a volume
                                 * (network, empty cdrom) are left out. */
};

vsDomainXML *vsDomainXMLParse(const char *xml, GError **error);
void vsDomainXMLFree(vsDomainXML *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsDomainXML, vsDomainXMLFree)

/* The disk whose path is @path (compared after lexical canonicalisation:
 * "//" and "/./" do not hide a match), or NULL.  Volume disks are not
 * resolved here. */
const vsDomainDisk *vsDomainXMLFindDisk(const vsDomainXML *def, const char *path);

/* The writable disks of @def (not a cdrom, floppy or <readonly/>): how
 * many in *ret_count, and the last of them (NULL when none). */
const vsDomainDisk *vsDomainXMLWritableDisk(const vsDomainXML *def, guint *ret_count);

/* Room to grow live: vCPUs below the maximum, memory below <memory>. */
gboolean vsDomainXMLHasVcpuHeadroom(const vsDomainXML *def);
gboolean vsDomainXMLHasMemoryHeadroom(const vsDomainXML *def);

G_END_DECLS
