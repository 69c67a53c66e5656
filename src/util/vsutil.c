/*
 * vsutil.c: small parsing and file helpers shared by every module
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "vsutil.h"
#include "vserror.h"

typedef struct {
    const char *suffix;
    guint64 scale;
} vsUnit;

static const vsUnit vsSizeUnits[] = {
    { "b", 1 }, { "byte", 1 }, { "bytes", 1 },
    { "k", 1ULL << 10 }, { "kib", 1ULL << 10 }, { "kb", 1000 },
    { "m", 1ULL << 20 }, { "mib", 1ULL << 20 }, { "mb", 1000 * 1000 },
    { "g", 1ULL << 30 }, { "gib", 1ULL << 30 }, { "gb", 1000ULL * 1000 * 1000 },
    { "t", 1ULL << 40 }, { "tib", 1ULL << 40 }, { "tb", 1000ULL * 1000 * 1000 * 1000 },
};

static gboolean
vsLookupUnit(const vsUnit *units, gsize n, const char *suffix, guint64 *ret)
{
    for (gsize i = 0; i < n; i++) {
        if (g_ascii_strcasecmp(units[i].suffix, suffix) == 0) {
            *ret = units[i].scale;
            return TRUE;
        }
    }
    return FALSE;
}

/* Split "12.5GiB" into a number and a trimmed suffix. */
static gboolean
vsSplitNumber(const char *text, double *ret_num, const char **ret_suffix)
{
    char *end = NULL;
    double num;

    if (!text || !g_ascii_isdigit(*text))
        return FALSE;
    errno = 0;
    num = g_ascii_strtod(text, &end);
    if (errno != 0 || end == text || num < 0)
        return FALSE;
    while (*end == ' ')
        end++;
    *ret_num = num;
    *ret_suffix = end;
    return TRUE;
}

gboolean
vsParseSize(const char *text, guint64 default_unit, guint64 *ret_bytes, GError **error)
{
    double num;
    const char *suffix;
    guint64 scale = default_unit;

    if (!vsSplitNumber(text, &num, &suffix) ||
        (*suffix && !vsLookupUnit(vsSizeUnits, G_N_ELEMENTS(vsSizeUnits), suffix, &scale)) ||
        num * scale > (double)G_MAXUINT64) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid size '%s' (expected a number with an optional unit such as 512M or 4G)",
                    text ? text : "");
        return FALSE;
    }
    *ret_bytes = (guint64)(num * scale + 0.5);
    return TRUE;
}

static const vsUnit vsDurationUnits[] = {
    { "ms", 1 }, { "s", 1000 }, { "sec", 1000 },
    { "m", 60 * 1000 }, { "min", 60 * 1000 },
    { "h", 3600 * 1000 }, { "d", 24 * 3600 * 1000 }, { "w", 7 * 24 * 3600 * 1000ULL },
};

gboolean
vsParseDuration(const char *text, guint64 *ret_ms, GError **error)
{
    double num;
    const char *suffix;
    guint64 scale = 1000;

    if (!vsSplitNumber(text, &num, &suffix) ||
        (*suffix && !vsLookupUnit(vsDurationUnits, G_N_ELEMENTS(vsDurationUnits), suffix, &scale)) ||
        num * scale > (double)G_MAXINT64) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid duration '%s' (expected a number with a unit such as 30s, 5m, 1h or 7d)",
                    text ? text : "");
        return FALSE;
    }
    *ret_ms = (guint64)(num * scale + 0.5);
    return TRUE;
}

gboolean
vsScaleToKiB(guint64 value, const char *unit, guint64 *ret_kib, GError **error)
{
    guint64 scale = 1ULL << 10;     /* libvirt's default unit is KiB */

    if (unit && *unit &&
        !vsLookupUnit(vsSizeUnits, G_N_ELEMENTS(vsSizeUnits), unit, &scale)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "unknown unit '%s'", unit);
        return FALSE;
    }
    if (scale >= 1024 && value > G_MAXUINT64 / (scale / 1024)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "value '%" G_GUINT64_FORMAT "' %s is too large", value, unit);
        return FALSE;
    }
    *ret_kib = scale >= 1024 ? value * (scale / 1024) : value * scale / 1024;
    return TRUE;
}

char *
vsFormatKiB(guint64 kib)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
    double v = kib;
    gsize i = 0;

    while (v >= 1024 && i + 1 < G_N_ELEMENTS(units)) {
        v /= 1024;
        i++;
    }
    if (v == (guint64)v)
        return g_strdup_printf("%" G_GUINT64_FORMAT " %s", (guint64)v, units[i]);
    return g_strdup_printf("%.1f %s", v, units[i]);
}

char *
vsHostName(void)
{
    return g_strdup(g_get_host_name());
}

gboolean
vsMakeDirs(const char *path, int mode, GError **error)
{
    if (g_mkdir_with_parents(path, mode) < 0) {
        int err = errno;

        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot create directory '%s': %s",
                    path, g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

gboolean
vsCheckWritableDir(const char *dir, GError **error)
{
    g_autofree char *probe = g_build_filename(dir, ".vs-write-probe-XXXXXX", NULL);
    int fd;

    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "directory '%s' does not exist", dir);
        return FALSE;
    }
    fd = g_mkstemp_full(probe, O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        int err = errno;

        g_set_error(error, VS_ERROR, VS_ERROR_IO, "directory '%s' is not writable: %s",
                    dir, g_strerror(err));
        return FALSE;
    }
    close(fd);
    g_unlink(probe);
    return TRUE;
}
