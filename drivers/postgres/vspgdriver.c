/*
 * vspgdriver.c: the PostgreSQL store driver
 *
 * libpq errors are converted to VS_ERROR here.  A message never carries
 * the connection string: it may hold a password.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "vspg.h"
#include "store/vsmigration.h"
#include "util/vserror.h"

/* pg_advisory_xact_lock key serialising schema changes ("vsmigrat"). */
#define VS_PG_LOCK_MIGRATE "8535495094727852404"

#define VS_PG_CREATE_MIGRATIONS_TABLE \
    "CREATE TABLE IF NOT EXISTS vs_schema_migrations (" \
    " version int PRIMARY KEY," \
    " name text NOT NULL," \
    " checksum text NOT NULL," \
    " applied_at timestamptz NOT NULL DEFAULT now())"

static void
vsPgStoreFree(vsPgStore *s)
{
    if (!s)
        return;
    if (s->conn)
        PQfinish(s->conn);
    g_free(s->where);
    g_hash_table_unref(s->labelSets);
    g_ptr_array_unref(s->channels);
    g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsPgStore, vsPgStoreFree)

typedef PQconninfoOption vsPgConninfoOptions;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsPgConninfoOptions, PQconninfoFree)

/* Warnings and notices must not reach stderr: library code does not log. */
static void
vsPgNoticeIgnore(void *arg, const char *message)
{
}

static const char *
vsPgConninfoGet(PQconninfoOption *opts, const char *keyword)
{
    for (; opts && opts->keyword; opts++) {
        if (strcmp(opts->keyword, keyword) == 0)
            return opts->val && *opts->val ? opts->val : NULL;
    }
    return NULL;
}

/* "socket '/dir'" or "host 'h:port'" from the url's own fields, so no
 * other part of it (a password) can leak into a message. */
static char *
vsPgDescribeUrl(const char *url, GError **error)
{
    g_autoptr(vsPgConninfoOptions) opts = NULL;
    char *errmsg = NULL;
    const char *host;
    const char *port;

    if (!(opts = PQconninfoParse(url, &errmsg))) {
        /* libpq's message may quote the url, password included. */
        PQfreemem(errmsg);
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid database url: expected postgresql://... or key=value pairs");
        return NULL;
    }
    host = vsPgConninfoGet(opts, "host");
    if (!host)
        host = vsPgConninfoGet(opts, "hostaddr");
    if (!host)
        host = g_getenv("PGHOST");
    port = vsPgConninfoGet(opts, "port");
    if (!port)
        port = g_getenv("PGPORT");
    if (!port || !*port)
        port = "5432";

    if (!host || !*host)
        return g_strdup("socket '/var/run/postgresql'");
    if (host[0] == '/' || host[0] == '@')
        return g_strdup_printf("socket '%s'", host);
    return g_strdup_printf("host '%s:%s'", host, port);
}

/* "on socket '/x'" but "at host 'h:5432'". */
static const char *
vsPgPreposition(vsPgStore *s)
{
    return g_str_has_prefix(s->where, "socket ") ? "on" : "at";
}

static gboolean
vsPgConnect(vsPgStore *s, const char *conninfo, GError **error)
{
    /* Keywords are applied in order, so everything before "dbname" is a
     * default the url may override.  The timeouts bound how long a dead
     * server can stall the daemon's main loop. */
    const char *keys[] = {
        "connect_timeout", "application_name", "options",
        "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
        "dbname", NULL
    };
    const char *values[] = {
        "10", "virt-shadow", "-c client_min_messages=warning -c statement_timeout=60s",
        "10", "5", "3", "30000",
        conninfo, NULL
    };

    s->conn = PQconnectdbParams(keys, values, 1);
    if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
        g_autofree char *line = vsPgFirstLine(s->conn ? PQerrorMessage(s->conn) :
                                              "out of memory");

        g_set_error(error, VS_ERROR, VS_ERROR_CONNECT,
                    "cannot connect to database %s %s: %s",
                    vsPgPreposition(s), s->where, line);
        return FALSE;
    }
    PQsetNoticeProcessor(s->conn, vsPgNoticeIgnore, NULL);
    return TRUE;
}

/* A conninfo value in single quotes: the state dir may contain spaces. */
static char *
vsPgConninfoQuote(const char *value)
{
    GString *out = g_string_new("'");

    for (; *value; value++) {
        if (*value == '\'' || *value == '\\')
            g_string_append_c(out, '\\');
        g_string_append_c(out, *value);
    }
    g_string_append_c(out, '\'');
    return g_string_free(out, FALSE);
}

static gpointer
vsPgOpen(const vsStoreTarget *target, gboolean autostart, GError **error)
{
    g_autoptr(vsPgStore) s = g_new0(vsPgStore, 1);
    g_autofree char *conninfo = NULL;

    s->labelSets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->channels = g_ptr_array_new_with_free_func(g_free);

    if (target && target->url) {
        if (!(s->where = vsPgDescribeUrl(target->url, error)))
            return NULL;
        if (!vsPgConnect(s, target->url, error))
            return NULL;
        return g_steal_pointer(&s);
    }

    if (!target || !target->state_dir) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "no database url and no state directory for the embedded database");
        return NULL;
    }
    if (autostart) {
        if (!vsPgClusterStart(target, error))
            return NULL;
    } else {
        g_autofree char *data = vsPgClusterDataDir(target);

        switch (vsPgClusterState(target)) {
        case VS_STORE_EMBEDDED_ABSENT:
            g_set_error(error, VS_ERROR, VS_ERROR_CONNECT,
                        "embedded database in '%s' does not exist yet: run 'virt-shadow db start'",
                        data);
            return NULL;
        case VS_STORE_EMBEDDED_STOPPED:
            g_set_error(error, VS_ERROR, VS_ERROR_CONNECT,
                        "embedded database in '%s' is not running: run 'virt-shadow db start'",
                        data);
            return NULL;
        case VS_STORE_EMBEDDED_RUNNING:
            break;
        }
    }

    {
        g_autofree char *run = vsPgClusterRunDir(target);
        g_autofree char *host = vsPgConninfoQuote(run);

        s->where = g_strdup_printf("socket '%s'", run);
        conninfo = g_strdup_printf("host=%s dbname=" VS_PG_EMBEDDED_DATABASE
                                   " user=" VS_PG_EMBEDDED_USER, host);
    }
    if (!vsPgConnect(s, conninfo, error))
        return NULL;
    return g_steal_pointer(&s);
}

static void
vsPgClose(gpointer priv)
{
    vsPgStoreFree(priv);
}

static char *
vsPgDescribe(gpointer priv)
{
    vsPgStore *s = priv;

    return g_strdup(s->where);
}

/* A lost connection (server restart) is retried once before failing. */
gboolean
vsPgCheckConnection(vsPgStore *s, GError **error)
{
    if (PQstatus(s->conn) == CONNECTION_OK)
        return TRUE;
    PQreset(s->conn);
    if (PQstatus(s->conn) == CONNECTION_OK) {
        PQsetNoticeProcessor(s->conn, vsPgNoticeIgnore, NULL);
        vsPgListenAgain(s);
        return TRUE;
    }
    {
        g_autofree char *line = vsPgFirstLine(PQerrorMessage(s->conn));

        g_set_error(error, VS_ERROR, VS_ERROR_CONNECT,
                    "cannot connect to database %s %s: %s",
                    vsPgPreposition(s), s->where, line);
    }
    return FALSE;
}

char *
vsPgResultError(vsPgStore *s, PGresult *res)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (primary)
        return g_strdup(primary);
    /* no error, just not what the caller expected (rows from a command) */
    if (res && !*PQresultErrorMessage(res) && PQstatus(s->conn) == CONNECTION_OK)
        return g_strdup_printf("unexpected result %s", PQresStatus(PQresultStatus(res)));
    return vsPgFirstLine(res && *PQresultErrorMessage(res) ?
                         PQresultErrorMessage(res) : PQerrorMessage(s->conn));
}

/* Run @sql with text @params; NULL with @error ("@what: ...") unless the
 * result has status @expect. */
vsPgResult *
vsPgExec(vsPgStore *s, const char *sql, int nparams, const char *const *params,
         ExecStatusType expect, const char *what, GError **error)
{
    g_autoptr(vsPgResult) res = NULL;

    if (nparams > 0)
        res = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    else
        res = PQexec(s->conn, sql);
    if (PQresultStatus(res) != expect) {
        g_autofree char *msg = vsPgResultError(s, res);

        g_set_error(error, VS_ERROR,
                    PQstatus(s->conn) == CONNECTION_OK ? VS_ERROR_FAILED : VS_ERROR_CONNECT,
                    "%s: %s", what, msg);
        return NULL;
    }
    return g_steal_pointer(&res);
}

static char *
vsPgServerVersion(gpointer priv, GError **error)
{
    vsPgStore *s = priv;
    const char *version;

    if (!vsPgCheckConnection(s, error))
        return NULL;
    if (!(version = PQparameterStatus(s->conn, "server_version"))) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                    "database on %s did not report its version", s->where);
        return NULL;
    }
    /* Debian appends " (Debian 15.8-1)". */
    return g_strndup(version, strcspn(version, " "));
}

/* Like vsPgExec, for statements whose result does not matter. */
gboolean
vsPgExecCommand(vsPgStore *s, const char *sql, int nparams, const char *const *params,
                ExecStatusType expect, const char *what, GError **error)
{
    g_autoptr(vsPgResult) res = vsPgExec(s, sql, nparams, params, expect, what, error);

    return res != NULL;
}

static gboolean
vsPgEnsureMigrationsTable(vsPgStore *s, GError **error)
{
    g_autoptr(vsPgResult) res = NULL;
    const char *params[] = { VS_PG_LOCK_MIGRATE };
    const char *what = "cannot create table 'vs_schema_migrations'";

    res = vsPgExec(s, "SELECT to_regclass('vs_schema_migrations') IS NOT NULL",
                   0, NULL, PGRES_TUPLES_OK, what, error);
    if (!res)
        return FALSE;
    if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
        return TRUE;

    /* Concurrent CREATE TABLE IF NOT EXISTS can still collide in the
     * catalog: take the migration lock. */
    if (!vsPgExecCommand(s, "BEGIN", 0, NULL, PGRES_COMMAND_OK, what, error))
        return FALSE;
    if (!vsPgExecCommand(s, "SELECT pg_advisory_xact_lock($1::bigint)", 1, params,
                         PGRES_TUPLES_OK, what, error) ||
        !vsPgExecCommand(s, VS_PG_CREATE_MIGRATIONS_TABLE, 0, NULL,
                         PGRES_COMMAND_OK, what, error) ||
        !vsPgExecCommand(s, "COMMIT", 0, NULL, PGRES_COMMAND_OK, what, error)) {
        PQclear(PQexec(s->conn, "ROLLBACK"));
        return FALSE;
    }
    return TRUE;
}

static GPtrArray *
vsPgAppliedMigrations(gpointer priv, GError **error)
{
    vsPgStore *s = priv;
    g_autoptr(vsPgResult) res = NULL;
    GPtrArray *list;
    int i;

    if (!vsPgCheckConnection(s, error) || !vsPgEnsureMigrationsTable(s, error))
        return NULL;
    res = vsPgExec(s,
                   "SELECT version, name, checksum, extract(epoch FROM applied_at)::bigint"
                   " FROM vs_schema_migrations ORDER BY version",
                   0, NULL, PGRES_TUPLES_OK, "cannot read table 'vs_schema_migrations'",
                   error);
    if (!res)
        return NULL;

    list = g_ptr_array_new_with_free_func((GDestroyNotify)vsAppliedMigrationFree);
    for (i = 0; i < PQntuples(res); i++) {
        g_ptr_array_add(list,
                        vsAppliedMigrationNew(atoi(PQgetvalue(res, i, 0)),
                                              PQgetvalue(res, i, 1),
                                              PQgetvalue(res, i, 2),
                                              g_ascii_strtoll(PQgetvalue(res, i, 3),
                                                              NULL, 10)));
    }
    return list;
}

/* The body of applyMigration's transaction; the caller rolls back on
 * failure.  A migration another caller applied meanwhile is skipped. */
static gboolean
vsPgApplyLocked(vsPgStore *s, const vsMigration *m, const char *what,
                GError **error)
{
    g_autoptr(vsPgResult) res = NULL;
    g_autofree char *version = g_strdup_printf("%d", m->version);
    const char *lockParams[] = { VS_PG_LOCK_MIGRATE };
    const char *versionParams[] = { version };
    const char *insertParams[] = { version, m->name, m->checksum };

    if (!vsPgExecCommand(s, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lockParams,
                         PGRES_TUPLES_OK, what, error))
        return FALSE;
    /* Harmless when it exists: we hold the lock. */
    if (!vsPgExecCommand(s, VS_PG_CREATE_MIGRATIONS_TABLE, 0, NULL,
                         PGRES_COMMAND_OK, what, error))
        return FALSE;
    if (!(res = vsPgExec(s, "SELECT 1 FROM vs_schema_migrations WHERE version = $1::int",
                         1, versionParams, PGRES_TUPLES_OK, what, error)))
        return FALSE;
    if (PQntuples(res) > 0)
        return TRUE;

    /* Our own trusted file, possibly several statements: simple protocol. */
    return vsPgExecCommand(s, m->sql, 0, NULL, PGRES_COMMAND_OK, what, error) &&
           vsPgExecCommand(s, "INSERT INTO vs_schema_migrations (version, name, checksum)"
                           " VALUES ($1::int, $2, $3)",
                           3, insertParams, PGRES_COMMAND_OK, what, error);
}

static gboolean
vsPgApplyMigration(gpointer priv, const void *opaque, GError **error)
{
    vsPgStore *s = priv;
    const vsMigration *m = opaque;
    g_autofree char *what = g_strdup_printf("migration '%s' failed", m->name);

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!vsPgExecCommand(s, "BEGIN", 0, NULL, PGRES_COMMAND_OK, what, error))
        return FALSE;
    if (!vsPgApplyLocked(s, m, what, error) ||
        !vsPgExecCommand(s, "COMMIT", 0, NULL, PGRES_COMMAND_OK, what, error)) {
        PQclear(PQexec(s->conn, "ROLLBACK"));
        return FALSE;
    }
    return TRUE;
}

static gboolean
vsPgHostHeartbeat(gpointer priv, const char *host, const char *uri,
                  const char *version, GError **error)
{
    vsPgStore *s = priv;
    g_autoptr(vsPgResult) res = NULL;
    /* The first heartbeat of this process marks its start. */
    const char *params[] = { host, uri, version, s->heartbeatSent ? "f" : "t" };

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    res = vsPgExec(s,
                   "INSERT INTO hosts (name, uri, version, started_at, heartbeat_at)"
                   " VALUES ($1, $2, $3, now(), now())"
                   " ON CONFLICT (name) DO UPDATE SET"
                   " uri = EXCLUDED.uri, version = EXCLUDED.version,"
                   " started_at = CASE WHEN $4::boolean THEN now()"
                   " ELSE COALESCE(hosts.started_at, now()) END,"
                   " heartbeat_at = now()",
                   4, params, PGRES_COMMAND_OK, "cannot record heartbeat", error);
    if (!res)
        return FALSE;
    s->heartbeatSent = TRUE;
    return TRUE;
}

static gboolean
vsPgRecordDomainEvent(gpointer priv, gint64 when_us, const char *host,
                      const char *uuid, const char *name, const char *event,
                      int detail, GError **error)
{
    vsPgStore *s = priv;
    g_autoptr(vsPgResult) res = NULL;
    g_autofree char *when = g_strdup_printf("%" G_GINT64_FORMAT, when_us);
    g_autofree char *detailStr = g_strdup_printf("%d", detail);
    const char *params[] = { when, host, uuid, name, event, detailStr };

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    res = vsPgExec(s,
                   "INSERT INTO domain_events (at, host, domain_uuid, domain_name, event, detail)"
                   " VALUES (to_timestamp($1::float8 / 1e6), $2, $3::uuid, $4, $5, $6::int)",
                   6, params, PGRES_COMMAND_OK, "cannot record domain event", error);
    return res != NULL;
}

static vsDomainEventRecord *
vsPgEventFromRow(PGresult *res, int row)
{
    vsDomainEventRecord *rec = g_new0(vsDomainEventRecord, 1);

    rec->when_us = g_ascii_strtoll(PQgetvalue(res, row, 0), NULL, 10);
    rec->host = g_strdup(PQgetvalue(res, row, 1));
    rec->uuid = PQgetisnull(res, row, 2) ? NULL : g_strdup(PQgetvalue(res, row, 2));
    rec->name = g_strdup(PQgetvalue(res, row, 3));
    rec->event = g_strdup(PQgetvalue(res, row, 4));
    rec->detail = atoi(PQgetvalue(res, row, 5));
    return rec;
}

static GPtrArray *
vsPgListDomainEvents(gpointer priv, const char *domain, gint64 since_us, guint limit,
                     GError **error)
{
    vsPgStore *s = priv;
    g_autoptr(vsPgResult) res = NULL;
    g_autofree char *since = g_strdup_printf("%" G_GINT64_FORMAT, since_us);
    g_autofree char *max = g_strdup_printf("%u", limit);
    const char *params[] = { since, max, domain };
    GPtrArray *list;

    if (!vsPgCheckConnection(s, error))
        return NULL;
    /* the newest @limit, shown oldest first; the uuid compares as text so a
     * name that is not a UUID is no error */
    res = vsPgExec(s,
                   "SELECT * FROM ("
                   " SELECT (extract(epoch FROM at) * 1e6)::bigint AS at_us, host,"
                   "        domain_uuid::text, domain_name, event, detail, id"
                   " FROM domain_events"
                   " WHERE at >= to_timestamp($1::float8 / 1e6)"
                   "   AND ($3::text IS NULL OR domain_name = $3 OR domain_uuid::text = lower($3))"
                   " ORDER BY at DESC, id DESC LIMIT $2::int) newest"
                   " ORDER BY at_us, id",
                   3, params, PGRES_TUPLES_OK, "cannot read domain events", error);
    if (!res)
        return NULL;
    list = g_ptr_array_new_with_free_func((GDestroyNotify)vsDomainEventRecordFree);
    for (int i = 0; i < PQntuples(res); i++)
        g_ptr_array_add(list, vsPgEventFromRow(res, i));
    return list;
}

const vsStoreDriver vsPgStoreDriver = {
    .name = "postgres",
    .open = vsPgOpen,
    .close = vsPgClose,
    .describe = vsPgDescribe,
    .serverVersion = vsPgServerVersion,
    .appliedMigrations = vsPgAppliedMigrations,
    .applyMigration = vsPgApplyMigration,
    .hostHeartbeat = vsPgHostHeartbeat,
    .publishHostRoom = vsPgPublishHostRoom,
    .listHostRooms = vsPgListHostRooms,
    .recordDomainEvent = vsPgRecordDomainEvent,
    .listDomainEvents = vsPgListDomainEvents,
    .writeSamples = vsPgWriteSamples,
    .maintainSamples = vsPgMaintainSamples,
    .querySamples = vsPgQuerySamples,
    .setDomainLabels = vsPgSetDomainLabels,
    .getDomainLabels = vsPgGetDomainLabels,
    .writeForecasts = vsPgWriteForecasts,
    .setForecastErrors = vsPgSetForecastErrors,
    .recordAnomalies = vsPgRecordAnomalies,
    .findForecastDomain = vsPgFindForecastDomain,
    .queryForecasts = vsPgQueryForecasts,
    .queryForecastErrors = vsPgQueryForecastErrors,
    .queryAnomalies = vsPgQueryAnomalies,
    .queryHistory = vsPgQueryHistory,
    .recordDecisions = vsPgRecordDecisions,
    .queryDecisions = vsPgQueryDecisions,
    .addHint = vsPgAddHint,
    .listHints = vsPgListHints,
    .cancelHint = vsPgCancelHint,
    .findAllocDomain = vsPgFindAllocDomain,
    .startShadowRun = vsPgStartShadowRun,
    .finishShadowRun = vsPgFinishShadowRun,
    .recordShadowSteps = vsPgRecordShadowSteps,
    .recordShadowEvents = vsPgRecordShadowEvents,
    .listRunningShadowRuns = vsPgListRunningShadowRuns,
    .readShadowProfile = vsPgReadShadowProfile,
    .listShadowRuns = vsPgListShadowRuns,
    .readShadowRunSteps = vsPgReadShadowRunSteps,
    .listAppVersions = vsPgListAppVersions,
    .recordShadowOptimization = vsPgRecordShadowOptimization,
    .listShadowOptimizations = vsPgListShadowOptimizations,
    .readShadowScript = vsPgReadShadowScript,
    .notifyPolicy = vsPgNotifyPolicy,
    .listen = vsPgListen,
    .getSocket = vsPgGetSocket,
    .nextNotification = vsPgNextNotification,
    .tryLockDomain = vsPgTryLockDomain,
    .unlockDomain = vsPgUnlockDomain,
    .embeddedState = vsPgClusterState,
    .embeddedStart = vsPgClusterStart,
    .embeddedStop = vsPgClusterStop,
    .addShadowSchedule = vsPgAddShadowSchedule,
    .listShadowSchedules = vsPgListShadowSchedules,
    .removeShadowSchedule = vsPgRemoveShadowSchedule,
    .enqueueShadowJob = vsPgEnqueueShadowJob,
    .leaseShadowJob = vsPgLeaseShadowJob,
    .failExhaustedShadowJobs = vsPgFailExhaustedShadowJobs,
    .renewShadowJob = vsPgRenewShadowJob,
    .finishShadowJob = vsPgFinishShadowJob,
};
