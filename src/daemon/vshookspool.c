/*
 * vshookspool.c: domain events recorded by the libvirt hook
 */
#include <config.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "vshookspool.h"
#include "util/vserror.h"

/* A line is well under a kilobyte: anything this big is not ours. */
#define VS_HOOK_SPOOL_MAX_FILE 65536

void
vsHookSpoolBatchFree(vsHookSpoolBatch *batch)
{
    if (!batch)
        return;
    g_ptr_array_unref(batch->events);
    g_ptr_array_unref(batch->files);
    g_ptr_array_unref(batch->problems);
    g_free(batch);
}

static vsHookSpoolBatch *
vsHookSpoolBatchNew(void)
{
    vsHookSpoolBatch *b = g_new0(vsHookSpoolBatch, 1);

    b->events = g_ptr_array_new_with_free_func((GDestroyNotify)vsDomainEventRecordFree);
    b->files = g_ptr_array_new_with_free_func(g_free);
    b->problems = g_ptr_array_new_with_free_func(g_free);
    return b;
}

/* The fields of a file's one line, or NULL with @error saying why not. */
static GStrv
vsHookSpoolFields(const char *text, gsize len, GError **error)
{
    g_autofree char *line = NULL;
    GStrv fields;

    if (len == 0 || text[len - 1] != '\n' || memchr(text, '\n', len) != text + len - 1 ||
        memchr(text, '\0', len)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "expected one line");
        return NULL;
    }
    line = g_strndup(text, len - 1);
    fields = g_strsplit(line, "\t", 6);
    if (g_strv_length(fields) != 6 || !g_str_equal(fields[0], "1")) {
        g_strfreev(fields);
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "expected six tab-separated fields of format version 1");
        return NULL;
    }
    return fields;
}

static vsDomainEventRecord *
vsHookSpoolParse(const char *text, gsize len, GError **error)
{
    g_auto(GStrv) f = vsHookSpoolFields(text, len, error);
    vsDomainEventRecord *rec;
    gint64 when;

    if (!f)
        return NULL;
    if (!g_ascii_string_to_signed(f[1], 10, 1, G_MAXINT64, &when, NULL)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid time '%s'", f[1]);
        return NULL;
    }
    if (!*f[2] || !*f[3] || !*f[5] || !g_utf8_validate(f[5], -1, NULL)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "empty operation or sub-operation, or an empty or invalid domain name");
        return NULL;
    }
    if (*f[4] && !g_uuid_string_is_valid(f[4])) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid domain UUID '%s'", f[4]);
        return NULL;
    }
    rec = g_new0(vsDomainEventRecord, 1);
    rec->when_us = when;
    rec->uuid = *f[4] ? g_ascii_strdown(f[4], -1) : NULL;
    rec->name = g_strdup(f[5]);
    rec->event = g_strconcat("hook-", f[2], NULL);
    return rec;
}

static gboolean
vsHookSpoolLoad(const char *path, char **ret_text, gsize *ret_len, GError **error)
{
    GStatBuf st;

    if (g_stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > VS_HOOK_SPOOL_MAX_FILE) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "not a small regular file");
        return FALSE;
    }
    return g_file_get_contents(path, ret_text, ret_len, error);
}

/* Renamed NAME.bad, so the next read does not report it again. */
static void
vsHookSpoolSetAside(const char *path, const GError *why, vsHookSpoolBatch *b)
{
    g_autofree char *bad = g_strconcat(path, ".bad", NULL);

    if (g_rename(path, bad) < 0) {
        g_ptr_array_add(b->problems,
                        g_strdup_printf("malformed hook event file '%s': %s; cannot set it aside: %s",
                                        path, why->message, g_strerror(errno)));
        return;
    }
    g_ptr_array_add(b->problems,
                    g_strdup_printf("malformed hook event file '%s': %s; set aside as '%s'",
                                    path, why->message, bad));
}

static void
vsHookSpoolReadFile(const char *dir, const char *name, vsHookSpoolBatch *b)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;
    vsDomainEventRecord *rec = NULL;
    gsize len = 0;

    if (vsHookSpoolLoad(path, &text, &len, &local))
        rec = vsHookSpoolParse(text, len, &local);
    if (!rec) {
        /* gone since the listing: someone else took it */
        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            return;
        vsHookSpoolSetAside(path, local, b);
        return;
    }
    g_ptr_array_add(b->events, rec);
    g_ptr_array_add(b->files, g_strdup(name));
}

/* By the time in the name (the hook's clock), then by name. */
static gint
vsHookSpoolCompareNames(gconstpointer a, gconstpointer b)
{
    const char *x = *(const char *const *)a;
    const char *y = *(const char *const *)b;
    gint64 tx = g_ascii_strtoll(x, NULL, 10);
    gint64 ty = g_ascii_strtoll(y, NULL, 10);

    if (tx != ty)
        return tx < ty ? -1 : 1;
    return strcmp(x, y);
}

static gboolean
vsHookSpoolList(const char *dir, GPtrArray **ret_names, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &local);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    if (!d && !g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
        g_ptr_array_unref(names);
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot read hook spool '%s': %s", dir,
                    local->message);
        return FALSE;
    }
    while (d && (name = g_dir_read_name(d))) {
        /* .tmp files are still being written */
        if (name[0] != '.' && g_str_has_suffix(name, ".event"))
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, vsHookSpoolCompareNames);
    *ret_names = names;
    return TRUE;
}

gboolean
vsHookSpoolRead(const char *dir, vsHookSpoolBatch **ret_batch, GError **error)
{
    g_autoptr(GPtrArray) names = NULL;
    vsHookSpoolBatch *b;

    if (!vsHookSpoolList(dir, &names, error))
        return FALSE;
    b = vsHookSpoolBatchNew();
    for (guint i = 0; i < names->len; i++)
        vsHookSpoolReadFile(dir, g_ptr_array_index(names, i), b);
    *ret_batch = b;
    return TRUE;
}

gboolean
vsHookSpoolRemove(const char *dir, const char *file, GError **error)
{
    g_autofree char *path = NULL;

    if (strchr(file, '/')) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid hook event file '%s'", file);
        return FALSE;
    }
    path = g_build_filename(dir, file, NULL);
    if (g_unlink(path) < 0 && errno != ENOENT) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot remove hook event file '%s': %s",
                    path, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}
