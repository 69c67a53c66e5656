/*
 * vspgforecast.c: forecasts, their rolling errors and anomalies in PostgreSQL
 *
 * A batch goes out as one statement: each column is one array parameter,
 * unnested server-side (INSERT ... SELECT FROM unnest(...)).  That is one
 * round trip and one plan per batch, with every value still a parameter.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vspg.h"
#include "util/vserror.h"

/* --- array parameters ------------------------------------------------------ */

/* Array parameters are built as text literals, "{a,\"b c\",NULL}"; an empty
 * GString stands for an empty array until vsPgArrayEnd. */
static void
vsPgArrayNext(GString *a)
{
    g_string_append_c(a, a->len == 0 ? '{' : ',');
}

void
vsPgArrayText(GString *a, const char *v)
{
    g_autofree char *valid = NULL;

    vsPgArrayNext(a);
    if (!v) {
        g_string_append(a, "NULL");
        return;
    }
    /* one bad name must not fail the batch: the server checks encodings */
    if (!g_utf8_validate(v, -1, NULL))
        v = valid = g_utf8_make_valid(v, -1);
    g_string_append_c(a, '"');
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            g_string_append_c(a, '\\');
        g_string_append_c(a, *v);
    }
    g_string_append_c(a, '"');
}

/* NaN and infinities are unknown: NULL. */
void
vsPgArrayDouble(GString *a, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    vsPgArrayNext(a);
    if (!isfinite(v))
        g_string_append(a, "NULL");
    else
        g_string_append(a, g_ascii_dtostr(buf, sizeof(buf), v));
}

void
vsPgArrayInt(GString *a, gint64 v)
{
    vsPgArrayNext(a);
    g_string_append_printf(a, "%" G_GINT64_FORMAT, v);
}

const char *
vsPgArrayEnd(GString *a)
{
    if (a->len == 0)
        g_string_append_c(a, '{');
    g_string_append_c(a, '}');
    return a->str;
}

/* @n empty arrays, freed by vsPgArraysFree. */
GString **
vsPgArraysNew(guint n)
{
    GString **cols = g_new0(GString *, n + 1);

    for (guint i = 0; i < n; i++)
        cols[i] = g_string_new(NULL);
    return cols;
}

void
vsPgArraysFree(GString **cols)
{
    for (GString **c = cols; c && *c; c++)
        g_string_free(*c, TRUE);
    g_free(cols);
}

gboolean
vsPgWriteBatch(vsPgStore *s, const char *sql, const char *const *fixed, guint nfixed,
               GArray *items, guint ncols, vsPgAppendFunc append, const char *what,
               GError **error)
{
    g_auto(vsPgArrays) cols = NULL;
    g_autofree const char **params = NULL;
    gsize size;

    if (!items || items->len == 0)
        return TRUE;
    size = g_array_get_element_size(items);
    cols = vsPgArraysNew(ncols);
    for (guint i = 0; i < items->len; i++) {
        if (!append(cols, items->data + i * size, error))
            return FALSE;
    }
    params = g_new(const char *, nfixed + ncols);
    for (guint p = 0; p < nfixed; p++)
        params[p] = fixed[p];
    for (guint c = 0; c < ncols; c++)
        params[nfixed + c] = vsPgArrayEnd(cols[c]);
    if (!vsPgCheckConnection(s, error))
        return FALSE;
    return vsPgExecCommand(s, sql, nfixed + ncols, params, PGRES_COMMAND_OK, what, error);
}

/* The UUID of a row to write; the same message as for samples. */
gboolean
vsPgCheckUuid(const char *uuid, GError **error)
{
    if (g_uuid_string_is_valid(uuid))
        return TRUE;
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid domain UUID '%s'", uuid);
    return FALSE;
}

gboolean
vsPgCheckResource(vsResourceKind resource, const char *name, GError **error)
{
    if (vsStoreResourceToString(resource))
        return TRUE;
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid resource '%d' for domain '%s'",
                (int)resource, name ? name : "");
    return FALSE;
}

/* "$uuid" for a domain given as a name or UUID: NULL unless it is a valid
 * UUID, so the SQL can compare it as uuid and fall back to the name. */
const char *
vsPgDomainUuid(const char *domain)
{
    return domain && g_uuid_string_is_valid(domain) ? domain : NULL;
}

/* --- forecasts ------------------------------------------------------------- */

enum {
    VS_PG_FC_UUID, VS_PG_FC_RESOURCE, VS_PG_FC_AT, VS_PG_FC_NAME, VS_PG_FC_MADE,
    VS_PG_FC_MODEL, VS_PG_FC_POINT, VS_PG_FC_L90, VS_PG_FC_U90, VS_PG_FC_L99,
    VS_PG_FC_U99, VS_PG_FC_ACTUAL, VS_PG_FC_ALLOC, VS_PG_FC_NCOLS
};

/* Duplicates in a batch would make ON CONFLICT update a row twice (an
 * error): DISTINCT ON keeps one, preferring a record with an actual.  A
 * row with an actual is history, so the update skips it. */
#define VS_PG_UPSERT_FORECASTS \
    "INSERT INTO forecasts AS f (domain_uuid, resource, at, domain_name, host, made_at," \
    " model, point, lower90, upper90, lower99, upper99, actual, allocation)" \
    " SELECT DISTINCT ON (u, r, a) u, r, " VS_PG_US_TS("a") ", n, $1, " VS_PG_US_TS("m") "," \
    " mo, p, l90, u90, l99, u99, act, al" \
    " FROM unnest($2::uuid[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::text[]," \
    "             $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[]," \
    "             $13::float8[], $14::float8[])" \
    "      WITH ORDINALITY AS x(u, r, a, n, m, mo, p, l90, u90, l99, u99, act, al, ord)" \
    " ORDER BY u, r, a, act IS NULL, ord DESC" \
    " ON CONFLICT (domain_uuid, resource, at) DO UPDATE SET" \
    " domain_name = EXCLUDED.domain_name, host = EXCLUDED.host, made_at = EXCLUDED.made_at," \
    " model = EXCLUDED.model, point = EXCLUDED.point," \
    " lower90 = EXCLUDED.lower90, upper90 = EXCLUDED.upper90," \
    " lower99 = EXCLUDED.lower99, upper99 = EXCLUDED.upper99, actual = EXCLUDED.actual," \
    " allocation = COALESCE(EXCLUDED.allocation, f.allocation)" \
    " WHERE f.actual IS NULL"

static gboolean
vsPgForecastAppend(GString **cols, gconstpointer item, GError **error)
{
    const vsForecastRecord *r = item;

    if (!vsPgCheckUuid(r->uuid, error) || !vsPgCheckResource(r->resource, r->name, error))
        return FALSE;
    if (!isfinite(r->point)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid forecast for domain '%s': the point forecast is not a number",
                    r->name ? r->name : r->uuid);
        return FALSE;
    }
    vsPgArrayText(cols[VS_PG_FC_UUID], r->uuid);
    vsPgArrayText(cols[VS_PG_FC_RESOURCE], vsStoreResourceToString(r->resource));
    vsPgArrayInt(cols[VS_PG_FC_AT], r->at_us);
    vsPgArrayText(cols[VS_PG_FC_NAME], r->name ? r->name : "");
    vsPgArrayInt(cols[VS_PG_FC_MADE], r->made_at_us);
    vsPgArrayText(cols[VS_PG_FC_MODEL], r->model ? r->model : "");
    vsPgArrayDouble(cols[VS_PG_FC_POINT], r->point);
    vsPgArrayDouble(cols[VS_PG_FC_L90], r->lower90);
    vsPgArrayDouble(cols[VS_PG_FC_U90], r->upper90);
    vsPgArrayDouble(cols[VS_PG_FC_L99], r->lower99);
    vsPgArrayDouble(cols[VS_PG_FC_U99], r->upper99);
    vsPgArrayDouble(cols[VS_PG_FC_ACTUAL], r->actual);
    vsPgArrayDouble(cols[VS_PG_FC_ALLOC], r->allocation);
    return TRUE;
}

gboolean
vsPgWriteForecasts(gpointer priv, const char *host, GArray *records, GError **error)
{
    return vsPgWriteBatch(priv, VS_PG_UPSERT_FORECASTS, &host, 1, records, VS_PG_FC_NCOLS,
                          vsPgForecastAppend, "cannot store forecasts", error);
}

void
vsPgResourceFromField(PGresult *res, int row, int col, vsResourceKind *ret)
{
    /* the CHECK constraint allows nothing else */
    if (!vsStoreResourceFromString(PQgetvalue(res, row, col), ret))
        *ret = VS_RESOURCE_CPU;
}

static void
vsPgForecastFromRow(PGresult *res, int row, vsForecastRecord *r)
{
    vsForecastRecordInit(r);
    g_strlcpy(r->uuid, PQgetvalue(res, row, 0), sizeof(r->uuid));
    r->name = g_strdup(PQgetvalue(res, row, 1));
    vsPgResourceFromField(res, row, 2, &r->resource);
    r->at_us = vsPgGetUs(res, row, 3, 0);
    r->made_at_us = vsPgGetUs(res, row, 4, 0);
    r->model = g_strdup(PQgetvalue(res, row, 5));
    r->point = vsPgGetDouble(res, row, 6);
    r->lower90 = vsPgGetDouble(res, row, 7);
    r->upper90 = vsPgGetDouble(res, row, 8);
    r->lower99 = vsPgGetDouble(res, row, 9);
    r->upper99 = vsPgGetDouble(res, row, 10);
    r->actual = vsPgGetDouble(res, row, 11);
    r->allocation = vsPgGetDouble(res, row, 12);
}

GArray *
vsPgQueryForecasts(gpointer priv, const char *domain, gint64 since_us, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *since = vsPgInt64(since_us);
    g_autofree char *what = g_strdup_printf("cannot read forecasts of domain '%s'", domain);
    const char *params[] = { since, vsPgDomainUuid(domain), domain };
    g_autoptr(vsPgResult) res = NULL;
    GArray *list;

    if (!vsPgCheckConnection(s, error))
        return NULL;
    res = vsPgExec(s,
                   "SELECT domain_uuid::text, domain_name, resource, " VS_PG_US("at") ","
                   " " VS_PG_US("made_at") ", model, point, lower90, upper90, lower99,"
                   " upper99, actual, allocation"
                   " FROM forecasts"
                   " WHERE at >= " VS_PG_TS(1)
                   "   AND (domain_uuid = $2::uuid OR domain_name = $3)"
                   " ORDER BY at, resource",
                   G_N_ELEMENTS(params), params, PGRES_TUPLES_OK, what, error);
    if (!res)
        return NULL;
    list = g_array_sized_new(FALSE, FALSE, sizeof(vsForecastRecord), PQntuples(res));
    g_array_set_clear_func(list, (GDestroyNotify)vsForecastRecordClear);
    g_array_set_size(list, PQntuples(res));
    for (int i = 0; i < PQntuples(res); i++)
        vsPgForecastFromRow(res, i, &g_array_index(list, vsForecastRecord, i));
    return list;
}

/* --- forecast errors ------------------------------------------------------- */

enum {
    VS_PG_FE_UUID, VS_PG_FE_RESOURCE, VS_PG_FE_NAME, VS_PG_FE_MODEL, VS_PG_FE_MAE,
    VS_PG_FE_MASE, VS_PG_FE_COV90, VS_PG_FE_N, VS_PG_FE_UPDATED, VS_PG_FE_NCOLS
};

/* The last of duplicates in a batch wins; updated 0 is the server's now. */
#define VS_PG_UPSERT_ERRORS \
    "INSERT INTO forecast_errors (domain_uuid, resource, domain_name, model, mae, mase," \
    " coverage90, n, updated_at)" \
    " SELECT DISTINCT ON (u, r) u, r, na, mo, mae, mase, cov, n," \
    " CASE WHEN upd = 0 THEN now() ELSE " VS_PG_US_TS("upd") " END" \
    " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::float8[]," \
    "             $6::float8[], $7::float8[], $8::int[], $9::bigint[])" \
    "      WITH ORDINALITY AS x(u, r, na, mo, mae, mase, cov, n, upd, ord)" \
    " ORDER BY u, r, ord DESC" \
    " ON CONFLICT (domain_uuid, resource) DO UPDATE SET" \
    " domain_name = EXCLUDED.domain_name, model = EXCLUDED.model, mae = EXCLUDED.mae," \
    " mase = EXCLUDED.mase, coverage90 = EXCLUDED.coverage90, n = EXCLUDED.n," \
    " updated_at = EXCLUDED.updated_at"

static gboolean
vsPgErrorAppend(GString **cols, gconstpointer item, GError **error)
{
    const vsForecastError *e = item;

    if (!vsPgCheckUuid(e->uuid, error) || !vsPgCheckResource(e->resource, e->name, error))
        return FALSE;
    vsPgArrayText(cols[VS_PG_FE_UUID], e->uuid);
    vsPgArrayText(cols[VS_PG_FE_RESOURCE], vsStoreResourceToString(e->resource));
    vsPgArrayText(cols[VS_PG_FE_NAME], e->name ? e->name : "");
    vsPgArrayText(cols[VS_PG_FE_MODEL], e->model ? e->model : "");
    vsPgArrayDouble(cols[VS_PG_FE_MAE], e->mae);
    vsPgArrayDouble(cols[VS_PG_FE_MASE], e->mase);
    vsPgArrayDouble(cols[VS_PG_FE_COV90], e->coverage90);
    vsPgArrayInt(cols[VS_PG_FE_N], MIN(e->n, (guint)G_MAXINT32));
    vsPgArrayInt(cols[VS_PG_FE_UPDATED], e->updated_us);
    return TRUE;
}

gboolean
vsPgSetForecastErrors(gpointer priv, GArray *errors, GError **error)
{
    return vsPgWriteBatch(priv, VS_PG_UPSERT_ERRORS, NULL, 0, errors, VS_PG_FE_NCOLS,
                          vsPgErrorAppend, "cannot store forecast errors", error);
}

static void
vsPgErrorFromRow(PGresult *res, int row, vsForecastError *e)
{
    vsForecastErrorInit(e);
    g_strlcpy(e->uuid, PQgetvalue(res, row, 0), sizeof(e->uuid));
    e->name = g_strdup(PQgetvalue(res, row, 1));
    vsPgResourceFromField(res, row, 2, &e->resource);
    e->model = g_strdup(PQgetvalue(res, row, 3));
    e->mae = vsPgGetDouble(res, row, 4);
    e->mase = vsPgGetDouble(res, row, 5);
    e->coverage90 = vsPgGetDouble(res, row, 6);
    e->n = (guint)vsPgGetUs(res, row, 7, 0);
    e->updated_us = vsPgGetUs(res, row, 8, 0);
}

GArray *
vsPgQueryForecastErrors(gpointer priv, const char *domain, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = domain ?
        g_strdup_printf("cannot read forecast errors of domain '%s'", domain) :
        g_strdup("cannot read forecast errors");
    const char *params[] = { domain, vsPgDomainUuid(domain) };
    g_autoptr(vsPgResult) res = NULL;
    GArray *list;

    if (!vsPgCheckConnection(s, error))
        return NULL;
    res = vsPgExec(s,
                   "SELECT domain_uuid::text, domain_name, resource, model, mae, mase,"
                   " coverage90, n, " VS_PG_US("updated_at")
                   " FROM forecast_errors"
                   " WHERE $1::text IS NULL OR domain_uuid = $2::uuid OR domain_name = $1"
                   " ORDER BY domain_name, domain_uuid, resource",
                   G_N_ELEMENTS(params), params, PGRES_TUPLES_OK, what, error);
    if (!res)
        return NULL;
    list = g_array_sized_new(FALSE, FALSE, sizeof(vsForecastError), PQntuples(res));
    g_array_set_clear_func(list, (GDestroyNotify)vsForecastErrorClear);
    g_array_set_size(list, PQntuples(res));
    for (int i = 0; i < PQntuples(res); i++)
        vsPgErrorFromRow(res, i, &g_array_index(list, vsForecastError, i));
    return list;
}

/* --- anomalies ------------------------------------------------------------- */

enum {
    VS_PG_AN_UUID, VS_PG_AN_NAME, VS_PG_AN_RESOURCE, VS_PG_AN_AT, VS_PG_AN_VALUE,
    VS_PG_AN_L99, VS_PG_AN_U99, VS_PG_AN_MODEL, VS_PG_AN_NCOLS
};

#define VS_PG_INSERT_ANOMALIES \
    "INSERT INTO anomalies (domain_uuid, domain_name, host, resource, at, value," \
    " lower99, upper99, model)" \
    " SELECT u, na, $1, r, " VS_PG_US_TS("a") ", v, l99, u99, mo" \
    " FROM unnest($2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::float8[]," \
    "             $7::float8[], $8::float8[], $9::text[]) AS x(u, na, r, a, v, l99, u99, mo)" \
    " ON CONFLICT (domain_uuid, at, resource) DO NOTHING"

static gboolean
vsPgAnomalyAppend(GString **cols, gconstpointer item, GError **error)
{
    const vsAnomaly *a = item;

    if (!vsPgCheckUuid(a->uuid, error) || !vsPgCheckResource(a->resource, a->name, error))
        return FALSE;
    if (!isfinite(a->value) || !isfinite(a->lower99) || !isfinite(a->upper99)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid anomaly for domain '%s': value and 99%% interval must be numbers",
                    a->name ? a->name : a->uuid);
        return FALSE;
    }
    vsPgArrayText(cols[VS_PG_AN_UUID], a->uuid);
    vsPgArrayText(cols[VS_PG_AN_NAME], a->name ? a->name : "");
    vsPgArrayText(cols[VS_PG_AN_RESOURCE], vsStoreResourceToString(a->resource));
    vsPgArrayInt(cols[VS_PG_AN_AT], a->at_us);
    vsPgArrayDouble(cols[VS_PG_AN_VALUE], a->value);
    vsPgArrayDouble(cols[VS_PG_AN_L99], a->lower99);
    vsPgArrayDouble(cols[VS_PG_AN_U99], a->upper99);
    vsPgArrayText(cols[VS_PG_AN_MODEL], a->model ? a->model : "");
    return TRUE;
}

gboolean
vsPgRecordAnomalies(gpointer priv, const char *host, GArray *anomalies, GError **error)
{
    return vsPgWriteBatch(priv, VS_PG_INSERT_ANOMALIES, &host, 1, anomalies, VS_PG_AN_NCOLS,
                          vsPgAnomalyAppend, "cannot record anomalies", error);
}

static void
vsPgAnomalyFromRow(PGresult *res, int row, vsAnomaly *a)
{
    vsAnomalyInit(a);
    g_strlcpy(a->uuid, PQgetvalue(res, row, 0), sizeof(a->uuid));
    a->name = g_strdup(PQgetvalue(res, row, 1));
    a->host = g_strdup(PQgetvalue(res, row, 2));
    vsPgResourceFromField(res, row, 3, &a->resource);
    a->at_us = vsPgGetUs(res, row, 4, 0);
    a->value = vsPgGetDouble(res, row, 5);
    a->lower99 = vsPgGetDouble(res, row, 6);
    a->upper99 = vsPgGetDouble(res, row, 7);
    a->model = g_strdup(PQgetvalue(res, row, 8));
    a->recorded_us = vsPgGetUs(res, row, 9, 0);
}

GArray *
vsPgQueryAnomalies(gpointer priv, const char *domain, gint64 since_us, guint limit,
                   GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *since = vsPgInt64(since_us);
    /* 0: no limit (LIMIT NULL) */
    g_autofree char *max = limit ? g_strdup_printf("%u", limit) : NULL;
    g_autofree char *what = domain ?
        g_strdup_printf("cannot read anomalies of domain '%s'", domain) :
        g_strdup("cannot read anomalies");
    const char *params[] = { since, max, domain, vsPgDomainUuid(domain) };
    g_autoptr(vsPgResult) res = NULL;
    GArray *list;

    if (!vsPgCheckConnection(s, error))
        return NULL;
    res = vsPgExec(s,
                   "SELECT domain_uuid::text, domain_name, host, resource, " VS_PG_US("at") ","
                   " value, lower99, upper99, model, " VS_PG_US("recorded_at")
                   " FROM anomalies"
                   " WHERE at >= " VS_PG_TS(1)
                   "   AND ($3::text IS NULL OR domain_uuid = $4::uuid OR domain_name = $3)"
                   " ORDER BY at DESC, id DESC LIMIT $2::bigint",
                   G_N_ELEMENTS(params), params, PGRES_TUPLES_OK, what, error);
    if (!res)
        return NULL;
    list = g_array_sized_new(FALSE, FALSE, sizeof(vsAnomaly), PQntuples(res));
    g_array_set_clear_func(list, (GDestroyNotify)vsAnomalyClear);
    g_array_set_size(list, PQntuples(res));
    for (int i = 0; i < PQntuples(res); i++)
        vsPgAnomalyFromRow(res, i, &g_array_index(list, vsAnomaly, i));
    return list;
}

/* --- domains, history, retention --------------------------------------------- */

/* The latest sighting in each table, a UUID match before a name match. */
#define VS_PG_FIND_DOMAIN \
    "SELECT u::text, na FROM (" \
    " (SELECT domain_uuid AS u, domain_name AS na, made_at AS seen FROM forecasts" \
    "  WHERE domain_uuid = $2::uuid OR domain_name = $1 ORDER BY made_at DESC LIMIT 1)" \
    " UNION ALL" \
    " (SELECT domain_uuid, domain_name, updated_at FROM forecast_errors" \
    "  WHERE domain_uuid = $2::uuid OR domain_name = $1 ORDER BY updated_at DESC LIMIT 1)" \
    " UNION ALL" \
    " (SELECT domain_uuid, domain_name, recorded_at FROM anomalies" \
    "  WHERE domain_uuid = $2::uuid OR domain_name = $1 ORDER BY recorded_at DESC LIMIT 1)" \
    ") d ORDER BY (u = $2::uuid) IS TRUE DESC, seen DESC LIMIT 1"

gboolean
vsPgFindDomain(vsPgStore *s, const char *sql, const char *domain, const char *kinds,
               char **ret_uuid, char **ret_name, GError **error)
{
    g_autofree char *what = g_strdup_printf("cannot look up domain '%s'", domain);
    const char *params[] = { domain, vsPgDomainUuid(domain) };
    g_autoptr(vsPgResult) res = NULL;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, sql, G_N_ELEMENTS(params), params, PGRES_TUPLES_OK, what, error)))
        return FALSE;
    if (PQntuples(res) == 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                    "unknown domain '%s': no %s are stored for it", domain, kinds);
        return FALSE;
    }
    if (ret_uuid)
        *ret_uuid = g_strdup(PQgetvalue(res, 0, 0));
    if (ret_name)
        *ret_name = g_strdup(PQgetvalue(res, 0, 1));
    return TRUE;
}

gboolean
vsPgFindForecastDomain(gpointer priv, const char *domain, char **ret_uuid, char **ret_name,
                       GError **error)
{
    return vsPgFindDomain(priv, VS_PG_FIND_DOMAIN, domain,
                          "forecasts, forecast errors or anomalies", ret_uuid, ret_name, error);
}

/* The 5-minute rollups (bucket >= $2) of domain $1, by its primary key.
 * Raw samples not rolled up yet (at most the last hour or so) are left
 * out: the live day has no per-domain index, and a daemon meeting 10,000
 * domains at start would scan it 10,000 times. */
#define VS_PG_HISTORY \
    "SELECT " VS_PG_US("bucket") ", cpu_avg::float8, mem_used_avg::float8 / 1024" \
    " FROM samples_5m WHERE domain_uuid = $1::uuid AND bucket >= " VS_PG_TS(2) \
    " ORDER BY bucket"

GArray *
vsPgQueryHistory(gpointer priv, const char *uuid, gint64 since_us, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *since = vsPgInt64(since_us);
    g_autofree char *what = g_strdup_printf("cannot read history of domain '%s'", uuid);
    const char *params[] = { uuid, since };
    g_autoptr(vsPgResult) res = NULL;
    GArray *list;

    if (!vsPgCheckUuid(uuid, error) || !vsPgCheckConnection(s, error))
        return NULL;
    if (!(res = vsPgExec(s, VS_PG_HISTORY, G_N_ELEMENTS(params), params,
                         PGRES_TUPLES_OK, what, error)))
        return NULL;
    list = g_array_sized_new(FALSE, FALSE, sizeof(vsHistoryPoint), PQntuples(res));
    for (int i = 0; i < PQntuples(res); i++) {
        vsHistoryPoint p = {
            .at_us = vsPgGetUs(res, i, 0, 0),
            .cpu = vsPgGetDouble(res, i, 1),
            .mem_mib = vsPgGetDouble(res, i, 2),
        };

        g_array_append_val(list, p);
    }
    return list;
}

gboolean
vsPgExpireForecasts(vsPgStore *s, gint64 now_us, guint64 raw_retention_ms,
                    guint64 rollup_retention_ms, const char *what, GError **error)
{
    g_autofree char *forecasts = raw_retention_ms ?
        vsPgInt64(now_us - (gint64)raw_retention_ms * 1000) : NULL;
    g_autofree char *history = rollup_retention_ms ?
        vsPgInt64(now_us - (gint64)rollup_retention_ms * 1000) : NULL;
    const char *params[] = { forecasts, history };

    if (!forecasts && !history)
        return TRUE;
    return vsPgExecCommand(s, "SELECT vs_forecasts_expire(" VS_PG_TS(1) ", " VS_PG_TS(2) "),"
                           " vs_allocator_expire(" VS_PG_TS(2) ")",
                           G_N_ELEMENTS(params), params, PGRES_TUPLES_OK, what, error);
}
