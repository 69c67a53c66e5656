/*
 * vspgalloc.c: the allocator's decisions and hints, the hosts' free room,
 * LISTEN/NOTIFY and the per-domain resize locks in PostgreSQL
 *
 * Decisions go out like forecasts: one statement per batch, each column
 * one array parameter (vspgforecast.c).
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vspg.h"
#include "allocator/vsdecide.h"
#include "allocator/vshint.h"
#include "util/vserror.h"

char *
vsPgGetText(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : g_strdup(PQgetvalue(res, row, col));
}

gboolean
vsPgGetBool(PGresult *res, int row, int col)
{
    return g_str_equal(PQgetvalue(res, row, col), "t");
}

/* --- decisions ----------------------------------------------------------------- */

enum {
    VS_PG_DE_AT, VS_PG_DE_UUID, VS_PG_DE_NAME, VS_PG_DE_RESOURCE, VS_PG_DE_CURRENT,
    VS_PG_DE_WANTED, VS_PG_DE_TARGET, VS_PG_DE_FORECAST, VS_PG_DE_UPPER, VS_PG_DE_MODEL,
    VS_PG_DE_CONFIDENCE, VS_PG_DE_REACTIVE, VS_PG_DE_HINTED, VS_PG_DE_ACTION,
    VS_PG_DE_CLAUSE, VS_PG_DE_REASON, VS_PG_DE_OUTCOME, VS_PG_DE_ERROR, VS_PG_DE_NCOLS
};

/* In batch order, so decisions made at the same time keep their order. */
#define VS_PG_INSERT_DECISIONS \
    "INSERT INTO decisions (at, host, domain_uuid, domain_name, resource, current, wanted," \
    " target, forecast, upper, model, confidence, reactive, hinted, action, clause, reason," \
    " outcome, error)" \
    " SELECT " VS_PG_US_TS("a") ", $1, u, n, r, cu, wa, ta, fc, up, mo, co, re, hi, ac, cl," \
    " rs, oc, er" \
    " FROM unnest($2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::float8[]," \
    "             $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::text[]," \
    "             $12::float8[], $13::boolean[], $14::boolean[], $15::text[], $16::text[]," \
    "             $17::text[], $18::text[], $19::text[])" \
    "      WITH ORDINALITY AS x(a, u, n, r, cu, wa, ta, fc, up, mo, co, re, hi, ac, cl, rs," \
    "                           oc, er, ord)" \
    " ORDER BY ord"

static gboolean
vsPgDecisionCheck(const vsDecision *d, GError **error)
{
    const char *name = d->name ? d->name : d->uuid;

    if (!vsPgCheckUuid(d->uuid, error) || !vsPgCheckResource(d->resource, name, error))
        return FALSE;
    if (!vsActionToString(d->action) || !vsOutcomeToString(d->outcome)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid decision for domain '%s': unknown action '%d' or outcome '%d'",
                    name, (int)d->action, (int)d->outcome);
        return FALSE;
    }
    return TRUE;
}

static gboolean
vsPgDecisionAppend(GString **cols, gconstpointer item, GError **error)
{
    const vsDecision *d = item;

    if (!vsPgDecisionCheck(d, error))
        return FALSE;
    vsPgArrayInt(cols[VS_PG_DE_AT], d->at_us);
    vsPgArrayText(cols[VS_PG_DE_UUID], d->uuid);
    vsPgArrayText(cols[VS_PG_DE_NAME], d->name ? d->name : "");
    vsPgArrayText(cols[VS_PG_DE_RESOURCE], vsStoreResourceToString(d->resource));
    vsPgArrayDouble(cols[VS_PG_DE_CURRENT], d->current);
    vsPgArrayDouble(cols[VS_PG_DE_WANTED], d->wanted);
    vsPgArrayDouble(cols[VS_PG_DE_TARGET], d->target);
    vsPgArrayDouble(cols[VS_PG_DE_FORECAST], d->forecast);
    vsPgArrayDouble(cols[VS_PG_DE_UPPER], d->upper);
    vsPgArrayText(cols[VS_PG_DE_MODEL], d->model);
    vsPgArrayDouble(cols[VS_PG_DE_CONFIDENCE], d->confidence);
    vsPgArrayText(cols[VS_PG_DE_REACTIVE], d->reactive ? "t" : "f");
    vsPgArrayText(cols[VS_PG_DE_HINTED], d->hinted ? "t" : "f");
    vsPgArrayText(cols[VS_PG_DE_ACTION], vsActionToString(d->action));
    vsPgArrayText(cols[VS_PG_DE_CLAUSE], d->clause);
    vsPgArrayText(cols[VS_PG_DE_REASON], d->reason);
    vsPgArrayText(cols[VS_PG_DE_OUTCOME], vsOutcomeToString(d->outcome));
    vsPgArrayText(cols[VS_PG_DE_ERROR], d->error);
    return TRUE;
}

gboolean
vsPgRecordDecisions(gpointer priv, const char *host, GArray *decisions, GError **error)
{
    return vsPgWriteBatch(priv, VS_PG_INSERT_DECISIONS, &host, 1, decisions, VS_PG_DE_NCOLS,
                          vsPgDecisionAppend, "cannot record decisions", error);
}

static void
vsPgDecisionFromRow(PGresult *res, int row, vsDecision *d)
{
    vsDecisionInit(d);
    d->at_us = vsPgGetUs(res, row, 0, 0);
    g_strlcpy(d->uuid, PQgetvalue(res, row, 1), sizeof(d->uuid));
    d->name = g_strdup(PQgetvalue(res, row, 2));
    vsPgResourceFromField(res, row, 3, &d->resource);
    d->current = vsPgGetDouble(res, row, 4);
    d->wanted = vsPgGetDouble(res, row, 5);
    d->target = vsPgGetDouble(res, row, 6);
    d->forecast = vsPgGetDouble(res, row, 7);
    d->upper = vsPgGetDouble(res, row, 8);
    d->model = vsPgGetText(res, row, 9);
    d->confidence = vsPgGetDouble(res, row, 10);
    d->reactive = vsPgGetBool(res, row, 11);
    d->hinted = vsPgGetBool(res, row, 12);
    /* the CHECK constraints allow nothing else */
    if (!vsActionFromString(PQgetvalue(res, row, 13), &d->action))
        d->action = VS_ACTION_NONE;
    d->clause = vsPgGetText(res, row, 14);
    d->reason = vsPgGetText(res, row, 15);
    if (!vsOutcomeFromString(PQgetvalue(res, row, 16), &d->outcome))
        d->outcome = VS_OUTCOME_PENDING;
    d->error = vsPgGetText(res, row, 17);
}

/* The newest $3 (NULL: all) since $1, of domain $2 (NULL: all), oldest first. */
#define VS_PG_QUERY_DECISIONS \
    "SELECT at_us, u, domain_name, resource, current, wanted, target, forecast, upper, model," \
    " confidence, reactive, hinted, action, clause, reason, outcome, error FROM (" \
    " SELECT id, " VS_PG_US("at") " AS at_us, domain_uuid::text AS u, domain_name, resource," \
    "  current, wanted, target, forecast, upper, model, confidence, reactive, hinted, action," \
    "  clause, reason, outcome, error" \
    " FROM decisions" \
    " WHERE at >= " VS_PG_TS(1) " AND ($2::uuid IS NULL OR domain_uuid = $2::uuid)" \
    " ORDER BY at DESC, id DESC LIMIT $3::bigint) newest" \
    " ORDER BY at_us, id"

gboolean
vsPgQueryDecisions(gpointer priv, const char *uuid, gint64 since_us, guint limit,
                   GArray **ret_decisions, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *since = vsPgInt64(since_us);
    g_autofree char *max = limit ? g_strdup_printf("%u", limit) : NULL;
    g_autofree char *what = uuid ?
        g_strdup_printf("cannot read decisions of domain '%s'", uuid) :
        g_strdup("cannot read decisions");
    const char *params[] = { since, uuid, max };
    g_autoptr(vsPgResult) res = NULL;
    GArray *list;

    if ((uuid && !vsPgCheckUuid(uuid, error)) || !vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_QUERY_DECISIONS, G_N_ELEMENTS(params), params,
                         PGRES_TUPLES_OK, what, error)))
        return FALSE;
    list = g_array_sized_new(FALSE, FALSE, sizeof(vsDecision), PQntuples(res));
    g_array_set_clear_func(list, (GDestroyNotify)vsDecisionClear);
    g_array_set_size(list, PQntuples(res));
    for (int i = 0; i < PQntuples(res); i++)
        vsPgDecisionFromRow(res, i, &g_array_index(list, vsDecision, i));
    *ret_decisions = list;
    return TRUE;
}

/* --- hints ------------------------------------------------------------------------ */

/* The table's CHECKs, with messages that say what is wrong. */
static gboolean
vsPgHintCheck(const vsHint *hint, GError **error)
{
    const char *name = hint->name ? hint->name : hint->uuid;

    if (!vsPgCheckUuid(hint->uuid, error))
        return FALSE;
    if (hint->end_us <= hint->start_us) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid hint for domain '%s': its window ends before it starts", name);
        return FALSE;
    }
    if (hint->vcpus == 0 && hint->memory_kib == 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid hint for domain '%s': it asks for neither vCPUs nor memory", name);
        return FALSE;
    }
    if (hint->vcpus > G_MAXINT32 || hint->memory_kib > G_MAXINT64) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid hint for domain '%s': it asks for more than any host has", name);
        return FALSE;
    }
    return TRUE;
}

gboolean
vsPgAddHint(gpointer priv, vsHint *hint, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *vcpus = hint->vcpus ? g_strdup_printf("%u", hint->vcpus) : NULL;
    g_autofree char *memory = hint->memory_kib ?
        g_strdup_printf("%" G_GUINT64_FORMAT, hint->memory_kib) : NULL;
    g_autofree char *start = vsPgInt64(hint->start_us);
    g_autofree char *end = vsPgInt64(hint->end_us);
    g_autofree char *what = NULL;
    const char *params[] = {
        hint->uuid, hint->name ? hint->name : "", vcpus, memory, start, end, hint->reason
    };
    g_autoptr(vsPgResult) res = NULL;

    if (!vsPgHintCheck(hint, error) || !vsPgCheckConnection(s, error))
        return FALSE;
    what = g_strdup_printf("cannot add hint for domain '%s'", hint->name ? hint->name : hint->uuid);
    if (!(res = vsPgExec(s,
                         "INSERT INTO hints (domain_uuid, domain_name, vcpus, memory_kib,"
                         " starts_at, ends_at, reason)"
                         " VALUES ($1::uuid, $2, $3::int, $4::bigint, " VS_PG_TS(5) ","
                         " " VS_PG_TS(6) ", $7)"
                         " RETURNING id, " VS_PG_US("created_at"),
                         G_N_ELEMENTS(params), params, PGRES_TUPLES_OK, what, error)))
        return FALSE;
    hint->id = vsPgGetUs(res, 0, 0, 0);
    hint->created_us = vsPgGetUs(res, 0, 1, 0);
    return TRUE;
}

static void
vsPgHintFromRow(PGresult *res, int row, vsHint *h)
{
    vsHintInit(h);
    h->id = vsPgGetUs(res, row, 0, 0);
    g_strlcpy(h->uuid, PQgetvalue(res, row, 1), sizeof(h->uuid));
    h->name = g_strdup(PQgetvalue(res, row, 2));
    h->vcpus = (guint)vsPgGetUs(res, row, 3, 0);
    h->memory_kib = (guint64)vsPgGetUs(res, row, 4, 0);
    h->start_us = vsPgGetUs(res, row, 5, 0);
    h->end_us = vsPgGetUs(res, row, 6, 0);
    h->reason = vsPgGetText(res, row, 7);
    h->created_us = vsPgGetUs(res, row, 8, 0);
    h->cancelled = vsPgGetBool(res, row, 9);
}

#define VS_PG_LIST_HINTS \
    "SELECT id, domain_uuid::text, domain_name, vcpus, memory_kib, " VS_PG_US("starts_at") "," \
    " " VS_PG_US("ends_at") ", reason, " VS_PG_US("created_at") ", cancelled_at IS NOT NULL" \
    " FROM hints" \
    " WHERE ($1::uuid IS NULL OR domain_uuid = $1::uuid)" \
    "   AND ($2::bigint IS NULL OR ends_at > " VS_PG_TS(2) ")" \
    "   AND ($3::boolean OR cancelled_at IS NULL)" \
    " ORDER BY starts_at, id"

gboolean
vsPgListHints(gpointer priv, const char *uuid, gint64 ending_after_us,
              gboolean include_cancelled, GArray **ret_hints, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *after = ending_after_us ? vsPgInt64(ending_after_us) : NULL;
    g_autofree char *what = uuid ?
        g_strdup_printf("cannot read hints of domain '%s'", uuid) :
        g_strdup("cannot read hints");
    const char *params[] = { uuid, after, include_cancelled ? "t" : "f" };
    g_autoptr(vsPgResult) res = NULL;
    GArray *list;

    if ((uuid && !vsPgCheckUuid(uuid, error)) || !vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_LIST_HINTS, G_N_ELEMENTS(params), params,
                         PGRES_TUPLES_OK, what, error)))
        return FALSE;
    list = g_array_sized_new(FALSE, FALSE, sizeof(vsHint), PQntuples(res));
    g_array_set_clear_func(list, (GDestroyNotify)vsHintClear);
    g_array_set_size(list, PQntuples(res));
    for (int i = 0; i < PQntuples(res); i++)
        vsPgHintFromRow(res, i, &g_array_index(list, vsHint, i));
    *ret_hints = list;
    return TRUE;
}

gboolean
vsPgCancelHint(gpointer priv, gint64 id, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *text = vsPgInt64(id);
    g_autofree char *what = g_strdup_printf("cannot cancel hint '%s'", text);
    const char *params[] = { text };
    g_autoptr(vsPgResult) res = NULL;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, "UPDATE hints SET cancelled_at = COALESCE(cancelled_at, now())"
                         " WHERE id = $1::bigint",
                         G_N_ELEMENTS(params), params, PGRES_COMMAND_OK, what, error)))
        return FALSE;
    if (g_str_equal(PQcmdTuples(res), "0")) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "unknown hint '%s'", text);
        return FALSE;
    }
    return TRUE;
}

/* The latest sighting among decisions and hints, a UUID match first. */
#define VS_PG_FIND_ALLOC_DOMAIN \
    "SELECT u::text, na FROM (" \
    " (SELECT domain_uuid AS u, domain_name AS na, at AS seen FROM decisions" \
    "  WHERE domain_uuid = $2::uuid OR domain_name = $1 ORDER BY at DESC LIMIT 1)" \
    " UNION ALL" \
    " (SELECT domain_uuid, domain_name, created_at FROM hints" \
    "  WHERE domain_uuid = $2::uuid OR domain_name = $1 ORDER BY created_at DESC LIMIT 1)" \
    ") d ORDER BY (u = $2::uuid) IS TRUE DESC, seen DESC LIMIT 1"

gboolean
vsPgFindAllocDomain(gpointer priv, const char *domain, char **ret_uuid, char **ret_name,
                    GError **error)
{
    return vsPgFindDomain(priv, VS_PG_FIND_ALLOC_DOMAIN, domain, "decisions or hints",
                          ret_uuid, ret_name, error);
}

/* --- host rooms ----------------------------------------------------------------------- */

/* A new host row has no URI or version (its heartbeat fills them); the
 * heartbeat of an existing one is left to the heartbeat. */
#define VS_PG_PUBLISH_HOST_ROOM \
    "INSERT INTO hosts (name, heartbeat_at, room_vcpus, room_memory_kib, room_at)" \
    " VALUES ($1, now(), $2::float8, $3::float8, now())" \
    " ON CONFLICT (name) DO UPDATE SET room_vcpus = EXCLUDED.room_vcpus," \
    " room_memory_kib = EXCLUDED.room_memory_kib, room_at = EXCLUDED.room_at"

gboolean
vsPgPublishHostRoom(gpointer priv, const char *host, double vcpus, double memory_kib,
                    GError **error)
{
    vsPgStore *s = priv;
    char cpus[G_ASCII_DTOSTR_BUF_SIZE];
    char memory[G_ASCII_DTOSTR_BUF_SIZE];
    g_autofree char *what = g_strdup_printf("cannot publish the room of host '%s'", host);
    const char *params[] = {
        host, g_ascii_dtostr(cpus, sizeof(cpus), vcpus),
        g_ascii_dtostr(memory, sizeof(memory), memory_kib)
    };

    if (!isfinite(vcpus) || !isfinite(memory_kib) || vcpus < 0 || memory_kib < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid room for host '%s': %g vCPUs, %g KiB", host, vcpus, memory_kib);
        return FALSE;
    }
    if (!vsPgCheckConnection(s, error))
        return FALSE;
    return vsPgExecCommand(s, VS_PG_PUBLISH_HOST_ROOM, G_N_ELEMENTS(params), params,
                           PGRES_COMMAND_OK, what, error);
}

#define VS_PG_LIST_HOST_ROOMS \
    "SELECT name, room_vcpus, room_memory_kib FROM hosts" \
    " WHERE room_at >= now() - $2::bigint * interval '1 second'" \
    "   AND ($1::text IS NULL OR name <> $1)" \
    " ORDER BY name"

gboolean
vsPgListHostRooms(gpointer priv, const char *except_host, guint max_age_s, GArray **ret_rooms,
                  GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *age = g_strdup_printf("%u", max_age_s);
    const char *params[] = { except_host, age };
    g_autoptr(vsPgResult) res = NULL;
    GArray *list;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_LIST_HOST_ROOMS, G_N_ELEMENTS(params), params,
                         PGRES_TUPLES_OK, "cannot read the other hosts' room", error)))
        return FALSE;
    list = g_array_sized_new(FALSE, TRUE, sizeof(vsStoreHostRoom), PQntuples(res));
    g_array_set_clear_func(list, (GDestroyNotify)vsStoreHostRoomClear);
    g_array_set_size(list, PQntuples(res));
    for (int i = 0; i < PQntuples(res); i++) {
        vsStoreHostRoom *r = &g_array_index(list, vsStoreHostRoom, i);

        r->host = g_strdup(PQgetvalue(res, i, 0));
        r->vcpus = vsPgGetDouble(res, i, 1);
        r->memory_kib = vsPgGetDouble(res, i, 2);
    }
    *ret_rooms = list;
    return TRUE;
}

/* --- notifications ------------------------------------------------------------------ */

gboolean
vsPgNotifyPolicy(gpointer priv, const char *uuid, GError **error)
{
    vsPgStore *s = priv;
    const char *params[] = { VS_STORE_CHANNEL_POLICY, uuid };
    g_autofree char *what = g_strdup_printf("cannot announce the policy of domain '%s'", uuid);

    if (!vsPgCheckUuid(uuid, error) || !vsPgCheckConnection(s, error))
        return FALSE;
    return vsPgExecCommand(s, "SELECT pg_notify($1, $2)", G_N_ELEMENTS(params), params,
                           PGRES_TUPLES_OK, what, error);
}

static gboolean
vsPgHasChannel(vsPgStore *s, const char *quoted)
{
    for (guint i = 0; i < s->channels->len; i++) {
        if (g_str_equal(g_ptr_array_index(s->channels, i), quoted))
            return TRUE;
    }
    return FALSE;
}

gboolean
vsPgListen(gpointer priv, const char *channel, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot listen on channel '%s'", channel);
    g_autofree char *sql = NULL;
    char *quoted;
    gboolean ok;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    /* LISTEN takes no parameters: the name goes in as a quoted identifier */
    if (!(quoted = PQescapeIdentifier(s->conn, channel, strlen(channel)))) {
        g_autofree char *msg = vsPgFirstLine(PQerrorMessage(s->conn));

        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "%s: %s", what, msg);
        return FALSE;
    }
    sql = g_strconcat("LISTEN ", quoted, NULL);
    ok = vsPgExecCommand(s, sql, 0, NULL, PGRES_COMMAND_OK, what, error);
    if (ok && !vsPgHasChannel(s, quoted))
        g_ptr_array_add(s->channels, g_strdup(quoted));
    PQfreemem(quoted);
    return ok;
}

void
vsPgListenAgain(vsPgStore *s)
{
    for (guint i = 0; i < s->channels->len; i++) {
        g_autofree char *sql = g_strconcat("LISTEN ", g_ptr_array_index(s->channels, i), NULL);

        /* a failure here shows on the next call that needs the link */
        PQclear(PQexec(s->conn, sql));
    }
}

int
vsPgGetSocket(gpointer priv)
{
    vsPgStore *s = priv;

    return PQstatus(s->conn) == CONNECTION_OK ? PQsocket(s->conn) : -1;
}

gboolean
vsPgNextNotification(gpointer priv, char **ret_channel, char **ret_payload, GError **error)
{
    vsPgStore *s = priv;
    PGnotify *n;

    /* after a loss, reconnect (and listen again) before reading */
    if (PQstatus(s->conn) != CONNECTION_OK && !vsPgCheckConnection(s, error))
        return FALSE;
    /* a FATAL from a shutting-down server arrives as input, then EOF */
    if (!PQconsumeInput(s->conn) || PQstatus(s->conn) != CONNECTION_OK) {
        g_autofree char *msg = vsPgFirstLine(PQerrorMessage(s->conn));

        g_set_error(error, VS_ERROR, VS_ERROR_CONNECT,
                    "cannot read notifications from database %s: %s", s->where, msg);
        return FALSE;
    }
    if (!(n = PQnotifies(s->conn)))
        return FALSE;
    *ret_channel = g_strdup(n->relname);
    *ret_payload = g_strdup(n->extra);
    PQfreemem(n);
    return TRUE;
}

/* --- domain locks --------------------------------------------------------------------- */

/* The lock key of domain @uuid: its two 64-bit halves XORed, as a signed
 * bigint's text. */
static char *
vsPgDomainLockKey(const char *uuid, GError **error)
{
    guint64 half[2] = { 0, 0 };
    guint digit = 0;

    if (!vsPgCheckUuid(uuid, error))
        return NULL;
    for (const char *p = uuid; *p; p++) {
        if (*p == '-')
            continue;
        half[digit / 16] = (half[digit / 16] << 4) | (guint64)g_ascii_xdigit_value(*p);
        digit++;
    }
    return vsPgInt64((gint64)(half[0] ^ half[1]));
}

gboolean
vsPgTryLockDomain(gpointer priv, const char *uuid, gboolean *ret_locked, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *key = NULL;
    g_autofree char *what = g_strdup_printf("cannot lock domain '%s'", uuid);
    g_autoptr(vsPgResult) res = NULL;

    if (!(key = vsPgDomainLockKey(uuid, error)) || !vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, "SELECT pg_try_advisory_lock($1::bigint)", 1,
                         (const char *const[]){ key }, PGRES_TUPLES_OK, what, error)))
        return FALSE;
    *ret_locked = vsPgGetBool(res, 0, 0);
    return TRUE;
}

gboolean
vsPgUnlockDomain(gpointer priv, const char *uuid, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *key = NULL;
    g_autofree char *what = g_strdup_printf("cannot unlock domain '%s'", uuid);
    g_autoptr(vsPgResult) res = NULL;

    if (!(key = vsPgDomainLockKey(uuid, error)) || !vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, "SELECT pg_advisory_unlock($1::bigint)", 1,
                         (const char *const[]){ key }, PGRES_TUPLES_OK, what, error)))
        return FALSE;
    if (!vsPgGetBool(res, 0, 0)) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                    "domain '%s' is not locked by this connection", uuid);
        return FALSE;
    }
    return TRUE;
}
