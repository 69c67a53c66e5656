/*
 * vsmigration.c: schema migrations shipped inside the binary
 */
#include <config.h>

#include <gio/gio.h>
#include <string.h>

#include "vsmigration.h"
#include "util/vserror.h"
#include "util/vsutil.h"

#define VS_MIGRATION_RESOURCE_DIR "/org/virt-shadow/sql/"

static const char *const vsMigrationStateNames[] = {
    "pending", "applied", "edited", "unknown",
};

const char *
vsMigrationStateToString(vsMigrationState state)
{
    if ((int)state < 0 || (gsize)state >= G_N_ELEMENTS(vsMigrationStateNames))
        return "invalid";
    return vsMigrationStateNames[state];
}

vsMigration *
vsMigrationNew(int version, const char *name, const char *sql)
{
    vsMigration *m = g_new0(vsMigration, 1);

    m->version = version;
    m->name = g_strdup(name);
    m->sql = g_strdup(sql);
    m->checksum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, sql, -1);
    return m;
}

void
vsMigrationFree(vsMigration *m)
{
    if (!m)
        return;
    g_free(m->name);
    g_free(m->checksum);
    g_free(m->sql);
    g_free(m);
}

vsAppliedMigration *
vsAppliedMigrationNew(int version, const char *name, const char *checksum,
                      gint64 applied_at)
{
    vsAppliedMigration *a = g_new0(vsAppliedMigration, 1);

    a->version = version;
    a->name = g_strdup(name);
    a->checksum = g_strdup(checksum);
    a->applied_at = applied_at;
    return a;
}

void
vsAppliedMigrationFree(vsAppliedMigration *a)
{
    if (!a)
        return;
    g_free(a->name);
    g_free(a->checksum);
    g_free(a);
}

void
vsMigrationStatusFree(vsMigrationStatus *s)
{
    if (!s)
        return;
    g_free(s->name);
    g_free(s);
}

gboolean
vsMigrationParseFileName(const char *file, int *ret_version, char **ret_name,
                         GError **error)
{
    size_t len = file ? strlen(file) : 0;
    size_t i;
    int version = 0;

    /* NNNN _ at-least-one-char .sql */
    if (len < 4 + 1 + 1 + 4 || !g_str_has_suffix(file, ".sql"))
        goto invalid;
    for (i = 0; i < 4; i++) {
        if (!g_ascii_isdigit(file[i]))
            goto invalid;
        version = version * 10 + (file[i] - '0');
    }
    if (file[4] != '_' || version == 0)
        goto invalid;
    for (i = 5; i < len - 4; i++) {
        char c = file[i];

        if (!(g_ascii_islower(c) || g_ascii_isdigit(c) || c == '_'))
            goto invalid;
    }

    *ret_version = version;
    *ret_name = g_strndup(file, len - 4);
    return TRUE;

 invalid:
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                "invalid migration file name '%s': expected NNNN_name.sql",
                file ? file : "");
    return FALSE;
}

static gint
vsMigrationCompareVersion(gconstpointer a, gconstpointer b)
{
    const vsMigration *ma = *(vsMigration *const *)a;
    const vsMigration *mb = *(vsMigration *const *)b;

    return (ma->version > mb->version) - (ma->version < mb->version);
}

GPtrArray *
vsMigrationsBuiltin(GError **error)
{
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)vsMigrationFree);
    g_auto(GStrv) files = NULL;
    g_autoptr(GError) local = NULL;
    size_t i;

    files = g_resource_enumerate_children(vsResources(), VS_MIGRATION_RESOURCE_DIR,
                                           G_RESOURCE_LOOKUP_FLAGS_NONE, &local);
    if (!files) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                    "no migrations compiled in under '%s': %s",
                    VS_MIGRATION_RESOURCE_DIR, local->message);
        return NULL;
    }

    for (i = 0; files[i]; i++) {
        g_autofree char *path = g_strconcat(VS_MIGRATION_RESOURCE_DIR, files[i], NULL);
        g_autofree char *name = NULL;
        g_autoptr(GBytes) bytes = NULL;
        g_autofree char *sql = NULL;
        gsize size;
        const char *data;
        int version;

        if (!vsMigrationParseFileName(files[i], &version, &name, error))
            return NULL;
        bytes = g_resource_lookup_data(vsResources(), path, G_RESOURCE_LOOKUP_FLAGS_NONE, &local);
        if (!bytes) {
            g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                        "cannot load migration '%s': %s", name, local->message);
            return NULL;
        }
        data = g_bytes_get_data(bytes, &size);
        if (!g_utf8_validate(data, size, NULL) || memchr(data, '\0', size)) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "migration '%s' is not valid UTF-8 text", name);
            return NULL;
        }
        sql = g_strndup(data, size);
        g_ptr_array_add(list, vsMigrationNew(version, name, sql));
    }

    g_ptr_array_sort(list, vsMigrationCompareVersion);
    for (i = 1; i < list->len; i++) {
        vsMigration *prev = g_ptr_array_index(list, i - 1);
        vsMigration *cur = g_ptr_array_index(list, i);

        if (prev->version == cur->version) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "migrations '%s' and '%s' have the same version",
                        prev->name, cur->name);
            return NULL;
        }
    }
    return g_steal_pointer(&list);
}

static gint
vsMigrationStatusCompareVersion(gconstpointer a, gconstpointer b)
{
    const vsMigrationStatus *sa = *(vsMigrationStatus *const *)a;
    const vsMigrationStatus *sb = *(vsMigrationStatus *const *)b;

    return (sa->version > sb->version) - (sa->version < sb->version);
}

static vsMigrationStatus *
vsMigrationStatusNew(int version, const char *name, vsMigrationState state,
                     gint64 applied_at)
{
    vsMigrationStatus *s = g_new0(vsMigrationStatus, 1);

    s->version = version;
    s->name = g_strdup(name);
    s->state = state;
    s->applied_at = applied_at;
    return s;
}

GPtrArray *
vsMigrationCompare(GPtrArray *known, GPtrArray *applied)
{
    GPtrArray *status = g_ptr_array_new_with_free_func((GDestroyNotify)vsMigrationStatusFree);
    g_autoptr(GHashTable) byVersion = g_hash_table_new(g_direct_hash, g_direct_equal);
    guint i;

    for (i = 0; applied && i < applied->len; i++) {
        vsAppliedMigration *a = g_ptr_array_index(applied, i);

        g_hash_table_insert(byVersion, GINT_TO_POINTER(a->version), a);
    }

    for (i = 0; known && i < known->len; i++) {
        vsMigration *m = g_ptr_array_index(known, i);
        vsAppliedMigration *a = g_hash_table_lookup(byVersion, GINT_TO_POINTER(m->version));

        if (!a) {
            g_ptr_array_add(status, vsMigrationStatusNew(m->version, m->name,
                                                         VS_MIGRATION_PENDING, 0));
            continue;
        }
        g_ptr_array_add(status,
                        vsMigrationStatusNew(m->version, m->name,
                                             g_strcmp0(a->checksum, m->checksum) == 0 ?
                                             VS_MIGRATION_APPLIED : VS_MIGRATION_EDITED,
                                             a->applied_at));
        g_hash_table_remove(byVersion, GINT_TO_POINTER(m->version));
    }

    /* What is left was applied by a binary that knew more than we do. */
    for (i = 0; applied && i < applied->len; i++) {
        vsAppliedMigration *a = g_ptr_array_index(applied, i);

        if (g_hash_table_lookup(byVersion, GINT_TO_POINTER(a->version)) != a)
            continue;
        g_ptr_array_add(status, vsMigrationStatusNew(a->version, a->name,
                                                     VS_MIGRATION_UNKNOWN,
                                                     a->applied_at));
    }

    g_ptr_array_sort(status, vsMigrationStatusCompareVersion);
    return status;
}

gboolean
vsMigrationCheckCompatible(GPtrArray *status, GError **error)
{
    int knownMax = 0;
    int dbMax = 0;
    const vsMigrationStatus *unknown = NULL;
    const vsMigrationStatus *edited = NULL;
    guint i;

    for (i = 0; i < status->len; i++) {
        const vsMigrationStatus *s = g_ptr_array_index(status, i);

        if (s->state != VS_MIGRATION_UNKNOWN)
            knownMax = MAX(knownMax, s->version);
        if (s->state != VS_MIGRATION_PENDING)
            dbMax = MAX(dbMax, s->version);
        if (s->state == VS_MIGRATION_UNKNOWN && !unknown)
            unknown = s;
        if (s->state == VS_MIGRATION_EDITED && !edited)
            edited = s;
    }

    if (unknown) {
        if (dbMax > knownMax)
            g_set_error(error, VS_ERROR, VS_ERROR_SCHEMA,
                        "database schema is at version %d but this virt-shadow knows only up to %d: upgrade virt-shadow",
                        dbMax, knownMax);
        else
            g_set_error(error, VS_ERROR, VS_ERROR_SCHEMA,
                        "database has migration '%s' that this virt-shadow does not know: upgrade virt-shadow",
                        unknown->name);
        return FALSE;
    }
    if (edited) {
        g_set_error(error, VS_ERROR, VS_ERROR_SCHEMA,
                    "migration '%s' was edited after it was applied (checksum mismatch)",
                    edited->name);
        return FALSE;
    }
    return TRUE;
}

GPtrArray *
vsMigrationPending(GPtrArray *known, GPtrArray *status)
{
    GPtrArray *pending = g_ptr_array_new();
    g_autoptr(GHashTable) todo = g_hash_table_new(g_direct_hash, g_direct_equal);
    guint i;

    for (i = 0; i < status->len; i++) {
        const vsMigrationStatus *s = g_ptr_array_index(status, i);

        if (s->state == VS_MIGRATION_PENDING)
            g_hash_table_add(todo, GINT_TO_POINTER(s->version));
    }
    for (i = 0; i < known->len; i++) {
        vsMigration *m = g_ptr_array_index(known, i);

        if (g_hash_table_contains(todo, GINT_TO_POINTER(m->version)))
            g_ptr_array_add(pending, m);
    }
    return pending;
}
