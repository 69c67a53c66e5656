/*
 * vsvirpriv.h: shared between the files of the libvirt driver only
 */
#pragma once

#include <libvirt/libvirt.h>

#include "hypervisor/vshypervisor.h"

G_BEGIN_DECLS

/* The live connection of driver data @priv, or NULL with VS_ERROR_CONNECT
 * while it is reconnecting. */
virConnectPtr vsVirConnGet(gpointer priv, GError **error);
/* The URI for messages. */
const char *vsVirConnDisplay(gpointer priv);

/* Set @error to "<what>: <libvirt's message>" with a code mapped from
 * libvirt's last error, or @code when @code >= 0; resets the last error. */
void vsVirSetError(GError **error, int code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* libvirt's last error code, VIR_ERR_OK when none. */
int vsVirLastErrorCode(void);

/* vsvirstorage.c: the storage callbacks of the driver table. */
char *vsVirStorageCreateOverlay(gpointer priv, const char *base_path,
                                const char *base_format, const char *pool,
                                const char *name, GError **error);
char *vsVirStorageCopyVolume(gpointer priv, const char *base_path, const char *base_format,
                             const char *pool, const char *name, char **ret_format,
                             GError **error);
gboolean vsVirStorageDeleteVolume(gpointer priv, const char *path, GError **error);
GPtrArray *vsVirStorageListVolumes(gpointer priv, const char *pool, const char *prefix,
                                   GError **error);
char *vsVirStorageGetVolumePath(gpointer priv, const char *pool, const char *volume,
                                GError **error);

G_END_DECLS
