/*
 * vsutil.h: small parsing and file helpers shared by every module
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The files compiled into the binaries (sql/, schemas/), from
 * vsresources.gresource.xml.  Use this rather than the global g_resources_*
 * lookups: the generated auto-registration lives in an object a static link
 * may drop.  Thread-safe. */
GResource *vsResources(void);

/* Parse a size such as "512M", "4GiB", "1048576" (bytes without a suffix
 * unless @default_unit says otherwise) into bytes.  Suffixes are binary
 * (K = KiB), like virsh; "B" is bytes. */
gboolean vsParseSize(const char *text, guint64 default_unit, guint64 *ret_bytes,
                     GError **error);

/* Parse a duration such as "90s", "5m", "1h", "7d", "250ms" or "30"
 * (seconds) into milliseconds. */
gboolean vsParseDuration(const char *text, guint64 *ret_ms, GError **error);

/* Scale a libvirt XML value with its unit attribute ("KiB", "M", "bytes", ...)
 * to KiB. */
gboolean vsScaleToKiB(guint64 value, const char *unit, guint64 *ret_kib,
                      GError **error);

/* "1.5 GiB", "512 MiB", "100 KiB" for humans. */
char *vsFormatKiB(guint64 kib);

/* This host's name, as controllers identify themselves in the store. */
char *vsHostName(void);

/* mkdir -p with @mode for the directories created; FALSE names the path. */
gboolean vsMakeDirs(const char *path, int mode, GError **error);

/* Check that @dir exists and we can create and remove a file in it. */
gboolean vsCheckWritableDir(const char *dir, GError **error);

G_END_DECLS
