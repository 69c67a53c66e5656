/*
 * vscmd-db.c: the "db" command family (schema migrations, embedded cluster)
 */
#include <config.h>

#include "vscli.h"
#include "store/vsmigration.h"
#include "util/vserror.h"

static gboolean
vsCmdDbMigrate(vsCli *cli, const vsCliArgs *args, GError **error)
{
    vsStore *store = vsCliGetStore(cli, TRUE, error);
    g_autoptr(GPtrArray) status = NULL;
    guint applied = 0;
    int version = 0;

    if (!store || !vsStoreMigrate(store, &applied, error))
        return FALSE;
    if (!(status = vsStoreMigrationStatus(store, error)))
        return FALSE;
    if (status->len > 0)
        version = ((vsMigrationStatus *)g_ptr_array_index(status, status->len - 1))->version;

    if (vsCliWantJson(cli)) {
        g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberInt(w, "applied", applied);
        vsJsonWriterMemberInt(w, "version", version);
        vsJsonWriterEndObject(w);
        vsCliPrintJson(cli, w);
    } else if (applied > 0) {
        vsCliInfo(cli, "Applied %u migration%s; schema is at version %d\n",
                  applied, applied == 1 ? "" : "s", version);
    } else {
        vsCliInfo(cli, "Schema is up to date (version %d)\n", version);
    }
    return TRUE;
}

static char *
vsCmdDbFormatTime(gint64 when)
{
    g_autoptr(GDateTime) dt = when ? g_date_time_new_from_unix_utc(when) : NULL;

    return dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%SZ") : g_strdup("-");
}

static void
vsCmdDbPrintStatusJson(vsCli *cli, vsStore *store, GPtrArray *status)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);
    g_autofree char *where = vsStoreDescribe(store);

    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "database", where);
    vsJsonWriterKey(w, "migrations");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < status->len; i++) {
        vsMigrationStatus *s = g_ptr_array_index(status, i);
        g_autofree char *at = s->applied_at ? vsCmdDbFormatTime(s->applied_at) : NULL;

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberInt(w, "version", s->version);
        vsJsonWriterMemberString(w, "name", s->name);
        vsJsonWriterMemberString(w, "state", vsMigrationStateToString(s->state));
        vsJsonWriterMemberString(w, "applied_at", at);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterEndObject(w);
    vsCliPrintJson(cli, w);
}

static gboolean
vsCmdDbStatus(vsCli *cli, const vsCliArgs *args, GError **error)
{
    vsStore *store = vsCliGetStore(cli, TRUE, error);
    g_autoptr(GPtrArray) status = NULL;

    if (!store || !(status = vsStoreMigrationStatus(store, error)))
        return FALSE;

    if (vsCliWantJson(cli)) {
        vsCmdDbPrintStatusJson(cli, store, status);
    } else {
        g_autoptr(vsCliTable) t = vsCliTableNew("Version", "Name", "State", "Applied", NULL);
        g_autofree char *where = vsStoreDescribe(store);
        g_autofree char *server = vsStoreServerVersion(store, NULL);

        vsCliPrint(cli, "Database: %s (PostgreSQL %s)\n\n", where, server ? server : "?");
        for (guint i = 0; i < status->len; i++) {
            vsMigrationStatus *s = g_ptr_array_index(status, i);
            g_autofree char *version = g_strdup_printf("%04d", s->version);
            g_autofree char *at = vsCmdDbFormatTime(s->applied_at);

            vsCliTableAddRow(t, version, s->name, vsMigrationStateToString(s->state), at, NULL);
        }
        vsCliTablePrint(cli, t);
    }
    /* an edited or unknown migration needs a human: fail after showing it */
    return vsMigrationCheckCompatible(status, error);
}

static gboolean
vsCmdDbCheckEmbedded(vsCli *cli, GError **error)
{
    if (vsCliGetStoreTarget(cli)->url) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "the database is external (set by 'database' or VIRT_SHADOW_DATABASE); "
                    "virt-shadow starts and stops only its embedded cluster");
        return FALSE;
    }
    return TRUE;
}

static gboolean
vsCmdDbStart(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const vsStoreTarget *target = vsCliGetStoreTarget(cli);

    if (!vsCmdDbCheckEmbedded(cli, error) || !vsStoreEmbeddedStart(target, error))
        return FALSE;
    vsCliInfo(cli, "Embedded PostgreSQL is running in '%s/pg'\n", target->state_dir);
    return TRUE;
}

static gboolean
vsCmdDbStop(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const vsStoreTarget *target = vsCliGetStoreTarget(cli);

    if (!vsCmdDbCheckEmbedded(cli, error) || !vsStoreEmbeddedStop(target, error))
        return FALSE;
    vsCliInfo(cli, "Embedded PostgreSQL in '%s/pg' is stopped\n", target->state_dir);
    return TRUE;
}

const vsCliCommand vsCmdDb[] = {
    { "db migrate", NULL, "apply pending database migrations",
      "Applies every migration this virt-shadow knows that the database lacks,\n"
      "in order, each in its own transaction, and records its checksum.  With\n"
      "no database configured, the embedded cluster is created and started first.",
      NULL, 0, 0, vsCmdDbMigrate },
    { "db status", NULL, "show the database and its migrations",
      "Lists every migration with its state: applied, pending, edited (the file\n"
      "changed after it was applied) or unknown (the database is newer than\n"
      "this virt-shadow).  Exits 1 when the schema needs attention.",
      NULL, 0, 0, vsCmdDbStatus },
    { "db start", NULL, "start the embedded PostgreSQL cluster",
      "Creates the embedded cluster under STATE_DIR/pg on first use and starts\n"
      "it, listening on a Unix socket only.",
      NULL, 0, 0, vsCmdDbStart },
    { "db stop", NULL, "stop the embedded PostgreSQL cluster", NULL,
      NULL, 0, 0, vsCmdDbStop },
    { NULL }
};
