/*
 * vsvirstorage.c: overlay volumes through libvirt's storage API
 *
 * A shadow clone's disk is a qcow2 volume created by the storage driver
 * with its backing file and backing format in the volume XML, so qemu-img
 * runs on the hypervisor host (remote URIs too) and the base is only read.
 * A directory that no pool covers gets a transient dir pool: nothing is
 * persisted in the host's configuration, and the pool is gone with the
 * daemon's next restart.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vsvirpriv.h"
#include "conf/vsstoragexml.h"
#include "util/vserror.h"

typedef virStoragePool vsVirPool;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsVirPool, virStoragePoolFree)
typedef virStorageVol vsVirVol;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsVirVol, virStorageVolFree)

/* Transient pools we start are named after their directory. */
#define VS_VIR_DIR_POOL_PREFIX "vs-dir-"
/* A pool directory we have libvirtd make: others (QEMU under its own user)
 * may reach the overlays in it, but not list them. */
#define VS_VIR_DIR_POOL_MODE 0711

/* libvirt refuses to refresh a pool while a volume is being built in it
 * (another shadow making its overlay): how long we keep asking. */
#define VS_VIR_REFRESH_TIMEOUT_MS 3000

/* Refresh @pool, asking again while libvirt says it is busy. */
static gboolean
vsVirPoolRefresh(virStoragePoolPtr pool, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + VS_VIR_REFRESH_TIMEOUT_MS * 1000;
    gulong sleep_us = 20 * 1000;

    while (virStoragePoolRefresh(pool, 0) < 0) {
        /* "has asynchronous jobs running" is an internal error; anything
         * else will not go away by waiting */
        if (vsVirLastErrorCode() != VIR_ERR_INTERNAL_ERROR ||
            g_get_monotonic_time() >= deadline) {
            vsVirSetError(error, -1, "cannot refresh storage pool '%s'",
                          virStoragePoolGetName(pool));
            return FALSE;
        }
        virResetLastError();
        g_usleep(sleep_us);
        sleep_us = MIN(sleep_us * 2, 200 * 1000);
    }
    return TRUE;
}

static vsStoragePool *
vsVirPoolDef(virStoragePoolPtr pool, GError **error)
{
    char *xml = virStoragePoolGetXMLDesc(pool, 0);
    vsStoragePool *def;

    if (!xml) {
        vsVirSetError(error, -1, "cannot get XML of storage pool '%s'",
                      virStoragePoolGetName(pool));
        return NULL;
    }
    def = vsStoragePoolParse(xml, error);
    free(xml);
    return def;
}

static gboolean
vsVirPoolEnsureActive(virStoragePoolPtr pool, GError **error)
{
    int active = virStoragePoolIsActive(pool);

    if (active == 1)
        return TRUE;
    /* someone else may start it meanwhile */
    if (active < 0 || (virStoragePoolCreate(pool, 0) < 0 &&
                       virStoragePoolIsActive(pool) != 1)) {
        vsVirSetError(error, -1, "cannot start storage pool '%s'",
                      virStoragePoolGetName(pool));
        return FALSE;
    }
    virResetLastError();
    return TRUE;
}

/* The pool whose target is directory @dir, started if it was not; NULL
 * without an error when there is none. */
static virStoragePoolPtr
vsVirFindDirPool(virConnectPtr conn, const char *dir, GError **error)
{
    g_autofree char *want = g_canonicalize_filename(dir, "/");
    virStoragePoolPtr *pools = NULL;
    virStoragePoolPtr found = NULL;
    int n;

    if ((n = virConnectListAllStoragePools(conn, &pools, 0)) < 0) {
        vsVirSetError(error, -1, "cannot list storage pools");
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        g_autoptr(vsStoragePool) def = NULL;
        g_autofree char *have = NULL;

        if (found || !(def = vsVirPoolDef(pools[i], NULL)) || !def->target_path)
            continue;
        have = g_canonicalize_filename(def->target_path, "/");
        if (g_str_equal(have, want))
            found = pools[i];
    }
    for (int i = 0; i < n; i++) {
        if (pools[i] != found)
            virStoragePoolFree(pools[i]);
    }
    free(pools);
    if (found && !vsVirPoolEnsureActive(found, error)) {
        virStoragePoolFree(found);
        return NULL;
    }
    return found;
}

/* Whether libvirt's last error is a missing file or directory. */
static gboolean
vsVirLastErrorIsMissingFile(void)
{
    virErrorPtr err = virGetLastError();

    return err && err->code == VIR_ERR_SYSTEM_ERROR && err->int1 == ENOENT;
}

/* Pool @name when it is active, as when another process started the same
 * one meanwhile; NULL otherwise.  Resets libvirt's last error. */
static virStoragePoolPtr
vsVirActivePoolByName(virConnectPtr conn, const char *name)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, name);

    virResetLastError();
    if (pool && virStoragePoolIsActive(pool) == 1)
        return pool;
    if (pool)
        virStoragePoolFree(pool);
    virResetLastError();
    return NULL;
}

/* The pool covering directory @dir: an existing one, else a transient dir
 * pool started on it, on a directory libvirtd makes if it is missing. */
static virStoragePoolPtr
vsVirDirPool(virConnectPtr conn, const char *dir, GError **error)
{
    g_autofree char *canon = g_canonicalize_filename(dir, "/");
    g_autofree char *sum = NULL;
    g_autofree char *name = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(GError) first = NULL;
    GError *local = NULL;
    gboolean missing;
    virStoragePoolPtr pool;

    if ((pool = vsVirFindDirPool(conn, canon, &local)) || local) {
        if (local)
            g_propagate_error(error, local);
        return pool;
    }
    sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, canon, -1);
    name = g_strdup_printf(VS_VIR_DIR_POOL_PREFIX "%.16s", sum);
    xml = vsStorageDirPoolXML(name, canon, 0);
    if ((pool = virStoragePoolCreateXML(conn, xml, 0)))
        return pool;
    missing = vsVirLastErrorIsMissingFile();
    vsVirSetError(&first, -1, "cannot start a storage pool on directory '%s'", canon);
    if ((pool = vsVirActivePoolByName(conn, name)))
        return pool;
    if (!missing) {
        g_propagate_error(error, g_steal_pointer(&first));
        return NULL;
    }
    /* libvirtd (maybe on another host: never mkdir here) makes the
     * directory.  The mode goes only into this XML: building sets it on an
     * existing directory too, and one the user made stays as they made it. */
    g_free(xml);
    xml = vsStorageDirPoolXML(name, canon, VS_VIR_DIR_POOL_MODE);
    if ((pool = virStoragePoolCreateXML(conn, xml, VIR_STORAGE_POOL_CREATE_WITH_BUILD)))
        return pool;
    vsVirSetError(error, -1, "cannot make directory '%s' for a storage pool", canon);
    if ((pool = vsVirActivePoolByName(conn, name)))
        g_clear_error(error);
    return pool;
}

/* @spec: a pool name, or an absolute directory. */
static virStoragePoolPtr
vsVirOpenPool(virConnectPtr conn, const char *spec, GError **error)
{
    virStoragePoolPtr pool;

    if (!spec || !*spec) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "no storage pool given");
        return NULL;
    }
    if (g_path_is_absolute(spec))
        return vsVirDirPool(conn, spec, error);
    if (!(pool = virStoragePoolLookupByName(conn, spec))) {
        if (vsVirLastErrorCode() == VIR_ERR_NO_STORAGE_POOL) {
            virResetLastError();
            g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                        "storage pool '%s' not found", spec);
        } else {
            vsVirSetError(error, -1, "cannot look up storage pool '%s'", spec);
        }
        return NULL;
    }
    if (!vsVirPoolEnsureActive(pool, error)) {
        virStoragePoolFree(pool);
        return NULL;
    }
    return pool;
}

/* The volume at @path, or NULL without an error when no pool has one
 * there.  When none is known, the pool of the path's directory (started
 * transient if need be when @make_pool) is refreshed and asked again: a
 * file made behind the pool's back is found too. */
static virStorageVolPtr
vsVirVolByPath(virConnectPtr conn, const char *path, gboolean make_pool, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autoptr(vsVirPool) pool = NULL;
    GError *local = NULL;
    virStorageVolPtr vol;

    if ((vol = virStorageVolLookupByPath(conn, path)))
        return vol;
    if (vsVirLastErrorCode() != VIR_ERR_NO_STORAGE_VOL) {
        vsVirSetError(error, -1, "cannot look up volume '%s'", path);
        return NULL;
    }
    virResetLastError();
    pool = make_pool ? vsVirDirPool(conn, dir, &local) : vsVirFindDirPool(conn, dir, &local);
    if (!pool) {
        g_propagate_error(error, local);
        return NULL;
    }
    if (!vsVirPoolRefresh(pool, error))
        return NULL;
    if ((vol = virStorageVolLookupByName(pool, base)))
        return vol;
    if (vsVirLastErrorCode() != VIR_ERR_NO_STORAGE_VOL) {
        vsVirSetError(error, -1, "cannot look up volume '%s'", path);
        return NULL;
    }
    virResetLastError();
    return NULL;
}

static vsStorageVolume *
vsVirVolDef(virStorageVolPtr vol, const char *path, GError **error)
{
    char *xml = virStorageVolGetXMLDesc(vol, 0);
    vsStorageVolume *def;

    if (!xml) {
        vsVirSetError(error, -1, "cannot get XML of volume '%s'", path);
        return NULL;
    }
    def = vsStorageVolumeParse(xml, error);
    free(xml);
    return def;
}

static gint
vsVirComparePaths(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* What a clone is made from: the base volume, its definition, its format
 * (@base_format, else what its pool reports), and the pool the clone goes
 * to. */
typedef struct {
    virStorageVolPtr base;
    vsStorageVolume *def;
    const char *format;
    virStoragePoolPtr pool;
} vsVirCloneSource;

static void
vsVirCloneSourceClear(vsVirCloneSource *src)
{
    g_clear_pointer(&src->base, virStorageVolFree);
    g_clear_pointer(&src->def, vsStorageVolumeFree);
    g_clear_pointer(&src->pool, virStoragePoolFree);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(vsVirCloneSource, vsVirCloneSourceClear)

static gboolean
vsVirCloneSourceOpen(virConnectPtr conn, const char *base_path, const char *base_format,
                     const char *pool_spec, const char *name, vsVirCloneSource *src,
                     GError **error)
{
    GError *local = NULL;

    if (!name || !*name || strchr(name, '/')) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid volume name '%s'",
                    name ? name : "");
        return FALSE;
    }
    if (!(src->base = vsVirVolByPath(conn, base_path, TRUE, &local))) {
        if (!local)
            local = g_error_new(VS_ERROR, VS_ERROR_NOT_FOUND,
                                "base image '%s' not found", base_path);
        g_propagate_error(error, local);
        return FALSE;
    }
    if (!(src->def = vsVirVolDef(src->base, base_path, error)))
        return FALSE;
    /* what a domain declares beats what the pool probed from the file */
    src->format = base_format ? base_format : src->def->format;
    if (!src->format || g_str_equal(src->format, "none") || g_str_equal(src->format, "auto")) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "cannot tell the format of base image '%s'", base_path);
        return FALSE;
    }
    return (src->pool = vsVirOpenPool(conn, pool_spec, error)) != NULL;
}

static char *
vsVirVolPath(virStorageVolPtr vol, const char *name, GError **error)
{
    char *path = virStorageVolGetPath(vol);
    char *ret;

    if (!path) {
        vsVirSetError(error, -1, "cannot get the path of volume '%s'", name);
        return NULL;
    }
    ret = g_strdup(path);
    free(path);
    return ret;
}

char *
vsVirStorageCreateOverlay(gpointer priv, const char *base_path, const char *base_format,
                          const char *pool_spec, const char *name, GError **error)
{
    virConnectPtr conn = vsVirConnGet(priv, error);
    g_auto(vsVirCloneSource) src = { 0 };
    g_autoptr(vsVirVol) overlay = NULL;
    g_autofree char *xml = NULL;

    if (!conn || !vsVirCloneSourceOpen(conn, base_path, base_format, pool_spec, name, &src, error))
        return NULL;
    xml = vsStorageOverlayXML(name, src.def->capacity, base_path, src.format);
    if (!(overlay = virStorageVolCreateXML(src.pool, xml, 0))) {
        vsVirSetError(error, -1, "cannot create overlay '%s' on '%s' in storage pool '%s'",
                      name, base_path, virStoragePoolGetName(src.pool));
        return NULL;
    }
    return vsVirVolPath(overlay, name, error);
}

char *
vsVirStorageCopyVolume(gpointer priv, const char *base_path, const char *base_format,
                       const char *pool_spec, const char *name, char **ret_format,
                       GError **error)
{
    virConnectPtr conn = vsVirConnGet(priv, error);
    g_auto(vsVirCloneSource) src = { 0 };
    g_autoptr(vsVirVol) copy = NULL;
    g_autofree char *xml = NULL;
    char *path;

    if (!conn || !vsVirCloneSourceOpen(conn, base_path, base_format, pool_spec, name, &src, error))
        return NULL;
    xml = vsStorageCopyXML(name, src.def->capacity, src.format);
    /* the storage driver copies (qemu-img convert) on the hypervisor host */
    if (!(copy = virStorageVolCreateXMLFrom(src.pool, xml, src.base, 0))) {
        vsVirSetError(error, -1, "cannot copy '%s' to volume '%s' in storage pool '%s'",
                      base_path, name, virStoragePoolGetName(src.pool));
        return NULL;
    }
    if (!(path = vsVirVolPath(copy, name, error)))
        return NULL;
    *ret_format = g_strdup(src.format);
    return path;
}

gboolean
vsVirStorageDeleteVolume(gpointer priv, const char *path, GError **error)
{
    virConnectPtr conn = vsVirConnGet(priv, error);
    g_autoptr(vsVirVol) vol = NULL;
    GError *local = NULL;

    if (!conn)
        return FALSE;
    if (!(vol = vsVirVolByPath(conn, path, TRUE, &local))) {
        /* a directory that is gone holds nothing to delete either */
        if (!local)
            return TRUE;
        g_propagate_error(error, local);
        return FALSE;
    }
    if (virStorageVolDelete(vol, 0) < 0) {
        if (vsVirLastErrorCode() == VIR_ERR_NO_STORAGE_VOL) {
            virResetLastError();
            return TRUE;
        }
        vsVirSetError(error, -1, "cannot delete volume '%s'", path);
        return FALSE;
    }
    return TRUE;
}

GPtrArray *
vsVirStorageListVolumes(gpointer priv, const char *pool_spec, const char *prefix,
                        GError **error)
{
    virConnectPtr conn = vsVirConnGet(priv, error);
    g_autoptr(vsVirPool) pool = NULL;
    virStorageVolPtr *vols = NULL;
    GPtrArray *ret;
    int n;

    if (!conn || !(pool = vsVirOpenPool(conn, pool_spec, error)))
        return NULL;
    if (!vsVirPoolRefresh(pool, error))
        return NULL;
    if ((n = virStoragePoolListAllVolumes(pool, &vols, 0)) < 0) {
        vsVirSetError(error, -1, "cannot list volumes of storage pool '%s'",
                      virStoragePoolGetName(pool));
        return NULL;
    }
    ret = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < n; i++) {
        const char *name = virStorageVolGetName(vols[i]);
        char *path;

        if (name && g_str_has_prefix(name, prefix) && (path = virStorageVolGetPath(vols[i]))) {
            g_ptr_array_add(ret, g_strdup(path));
            free(path);
        }
        virResetLastError();
        virStorageVolFree(vols[i]);
    }
    free(vols);
    g_ptr_array_sort(ret, vsVirComparePaths);
    return ret;
}

char *
vsVirStorageGetVolumePath(gpointer priv, const char *pool_name, const char *volume,
                          GError **error)
{
    virConnectPtr conn = vsVirConnGet(priv, error);
    g_autoptr(vsVirPool) pool = NULL;
    g_autoptr(vsVirVol) vol = NULL;
    char *path;
    char *ret;

    if (!conn)
        return NULL;
    if (!(pool = virStoragePoolLookupByName(conn, pool_name)) ||
        !(vol = virStorageVolLookupByName(pool, volume)) ||
        !(path = virStorageVolGetPath(vol))) {
        vsVirSetError(error, -1, "cannot find volume '%s' in storage pool '%s'",
                      volume, pool_name);
        return NULL;
    }
    ret = g_strdup(path);
    free(path);
    return ret;
}
