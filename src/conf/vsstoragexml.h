/*
 * vsstoragexml.h: libvirt storage pool and volume XML, read and written
 *
 * The facts the overlay code needs from virStoragePoolGetXMLDesc and
 * virStorageVolGetXMLDesc, and the volume XML of a qcow2 overlay.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _vsStorageVolume vsStorageVolume;
struct _vsStorageVolume {
    char *name;
    char *path;                 /* <target><path> */
    char *format;               /* <target><format type>, NULL when not given */
    guint64 capacity;           /* bytes */
    char *backing_path;         /* <backingStore><path>, NULL when none */
    char *backing_format;
};

vsStorageVolume *vsStorageVolumeParse(const char *xml, GError **error);
void vsStorageVolumeFree(vsStorageVolume *vol);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsStorageVolume, vsStorageVolumeFree)

typedef struct _vsStoragePool vsStoragePool;
struct _vsStoragePool {
    char *name;
    char *type;                 /* "dir", "fs", "logical", ... */
    char *target_path;          /* <target><path>, NULL when none */
};

vsStoragePool *vsStoragePoolParse(const char *xml, GError **error);
void vsStoragePoolFree(vsStoragePool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsStoragePool, vsStoragePoolFree)

/* The XML of a qcow2 volume @name of @capacity bytes backed by @base_path
 * whose format @base_format is recorded, so it is never probed. */
char *vsStorageOverlayXML(const char *name, guint64 capacity,
                          const char *base_path, const char *base_format);

/* The XML of volume @name of @capacity bytes in @format, with no backing
 * store: the target of a full copy (virStorageVolCreateXMLFrom). */
char *vsStorageCopyXML(const char *name, guint64 capacity, const char *format);

/* The XML of a transient dir pool @name on directory @dir.  @mode, when
 * not 0, is the permissions libvirt gives the directory when it builds
 * it (and sets on an existing one: pass it only to make a new one). */
char *vsStorageDirPoolXML(const char *name, const char *dir, guint mode);

G_END_DECLS
