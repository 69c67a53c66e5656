/*
 * vspgshadow.c: shadow runs, their steps, events and dependencies, and the
 * profiles read back from them, in PostgreSQL (sql/0007_shadow.sql)
 *
 * Steps go out like forecasts: one statement per batch, each column one
 * array parameter (vspgforecast.c).  A step's events and dependencies are
 * replaced in one transaction.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vspg.h"
#include "shadow/vsmanifest.h"
#include "shadow/vsprofile.h"
#include "util/vserror.h"

/* --- runs ------------------------------------------------------------------------ */

static gboolean
vsPgShadowMissing(const char *value, const char *field, const char *id, GError **error)
{
    if (value && *value)
        return FALSE;
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "shadow run '%s' has no %s", id, field);
    return TRUE;
}

static gboolean
vsPgShadowCheckRun(const vsShadowRunRecord *run, GError **error)
{
    const char *sum = run->script_sha256;

    if (vsPgShadowMissing(run->app, "app", run->id, error) ||
        vsPgShadowMissing(run->version, "version", run->id, error) ||
        vsPgShadowMissing(run->base, "base", run->id, error) ||
        vsPgShadowMissing(run->limits, "limits", run->id, error) ||
        vsPgShadowMissing(run->host, "host", run->id, error) ||
        vsPgShadowMissing(sum, "script SHA-256", run->id, error))
        return FALSE;
    if (strlen(sum) != 64 || strspn(sum, "0123456789abcdef") != 64) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid script SHA-256 '%s' for shadow run '%s'", sum, run->id);
        return FALSE;
    }
    return !vsPgShadowMissing(run->script, "script", run->id, error);
}

/* TRUE when run $1 exists; with @running, only when it is still running. */
static gboolean
vsPgShadowRunExists(vsPgStore *s, const char *id, gboolean running, gboolean *ret_exists,
                    const char *what, GError **error)
{
    const char *params[] = { id, running ? "t" : "f" };
    g_autoptr(vsPgResult) res = vsPgExec(s,
        "SELECT 1 FROM shadow_runs WHERE id = $1 AND (NOT $2::boolean OR state = 'running')",
        G_N_ELEMENTS(params), params, PGRES_TUPLES_OK, what, error);

    if (!res)
        return FALSE;
    *ret_exists = PQntuples(res) > 0;
    return TRUE;
}

/* The app and version rows are made on first use; the DO UPDATE that
 * changes nothing is what makes RETURNING give the existing id. */
#define VS_PG_START_RUN \
    "WITH a AS (" \
    "  INSERT INTO apps (name) VALUES ($2)" \
    "  ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id)," \
    " v AS (" \
    "  INSERT INTO app_versions (app_id, version) SELECT id, $3 FROM a" \
    "  ON CONFLICT (app_id, version) DO UPDATE SET version = EXCLUDED.version RETURNING id)" \
    " INSERT INTO shadow_runs (id, app_version_id, base, script_sha256, limits, host, state," \
    "                          started_at, script, optimized_from)" \
    " SELECT $1, v.id, $4, $5, $6, $7, 'running', " VS_PG_TS(8) ", $9, $10 FROM v"

gboolean
vsPgStartShadowRun(gpointer priv, const vsShadowRunRecord *run, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot record shadow run '%s'", run->id);
    g_autofree char *started = vsPgInt64(run->started_us);
    const char *params[] = { run->id, run->app, run->version, run->base, run->script_sha256,
                             run->limits, run->host, started, run->script,
                             run->optimized_from };
    gboolean exists = FALSE;

    if (!vsPgShadowCheckRun(run, error) || !vsPgCheckConnection(s, error))
        return FALSE;
    if (!vsPgShadowRunExists(s, run->id, FALSE, &exists, what, error))
        return FALSE;
    if (exists) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "shadow run '%s' is already recorded",
                    run->id);
        return FALSE;
    }
    if (run->optimized_from) {
        if (!vsPgShadowRunExists(s, run->optimized_from, FALSE, &exists, what, error))
            return FALSE;
        if (!exists) {
            g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                        "shadow run '%s' is optimized from run '%s', which is not recorded",
                        run->id, run->optimized_from);
            return FALSE;
        }
    }
    return vsPgExecCommand(s, VS_PG_START_RUN, G_N_ELEMENTS(params), params,
                           PGRES_COMMAND_OK, what, error);
}

/* An end before the start (a clock stepped back) is taken as the start. */
#define VS_PG_FINISH_RUN \
    "UPDATE shadow_runs SET state = $2, ended_at = GREATEST(started_at, " VS_PG_TS(3) ")," \
    " exit_code = $4::int, error = $5" \
    " WHERE id = $1 AND state = 'running'"

gboolean
vsPgFinishShadowRun(gpointer priv, const char *id, vsShadowState state, gint64 ended_us,
                    gboolean has_exit_code, int exit_code, const char *message,
                    GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot close shadow run '%s'", id);
    g_autofree char *ended = vsPgInt64(ended_us);
    g_autofree char *code = has_exit_code ? g_strdup_printf("%d", exit_code) : NULL;
    const char *params[] = { id, vsShadowStateToString(state), ended, code, message };
    g_autoptr(vsPgResult) res = NULL;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_FINISH_RUN, G_N_ELEMENTS(params), params, PGRES_COMMAND_OK,
                         what, error)))
        return FALSE;
    if (g_str_equal(PQcmdTuples(res), "0")) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "no shadow run '%s' is running", id);
        return FALSE;
    }
    return TRUE;
}

/* A run's columns, as vsPgShadowRunFromRow reads them. */
#define VS_PG_RUN_COLUMNS \
    "SELECT r.id, a.name, v.version, r.base, r.script_sha256, r.script, r.limits, r.host," \
    " r.state, " VS_PG_US("r.started_at") ", " VS_PG_US("r.ended_at") ", r.exit_code," \
    " r.error, r.optimized_from" \
    " FROM shadow_runs r JOIN app_versions v ON v.id = r.app_version_id" \
    " JOIN apps a ON a.id = v.app_id"

static vsShadowRunRecord *
vsPgShadowRunFromRow(PGresult *res, int row)
{
    vsShadowRunRecord *run = g_new0(vsShadowRunRecord, 1);

    run->id = vsPgGetText(res, row, 0);
    run->app = vsPgGetText(res, row, 1);
    run->version = vsPgGetText(res, row, 2);
    run->base = vsPgGetText(res, row, 3);
    run->script_sha256 = vsPgGetText(res, row, 4);
    run->script = vsPgGetText(res, row, 5);
    run->limits = vsPgGetText(res, row, 6);
    run->host = vsPgGetText(res, row, 7);
    if (!vsShadowStateFromString(PQgetvalue(res, row, 8), &run->state))
        run->state = VS_SHADOW_FAILED;      /* the schema allows no other */
    run->started_us = vsPgGetUs(res, row, 9, 0);
    run->ended_us = vsPgGetUs(res, row, 10, 0);
    run->has_exit_code = !PQgetisnull(res, row, 11);
    run->exit_code = (int)vsPgGetUs(res, row, 11, 0);
    run->error = vsPgGetText(res, row, 12);
    run->optimized_from = vsPgGetText(res, row, 13);
    return run;
}

static GPtrArray *
vsPgShadowRunsFromResult(PGresult *res)
{
    GPtrArray *runs = g_ptr_array_new_with_free_func((GDestroyNotify)vsShadowRunRecordFree);

    for (int i = 0; i < PQntuples(res); i++)
        g_ptr_array_add(runs, vsPgShadowRunFromRow(res, i));
    return runs;
}

#define VS_PG_RUNNING_RUNS VS_PG_RUN_COLUMNS \
    " WHERE r.state = 'running' AND ($1::text IS NULL OR r.host = $1)" \
    " ORDER BY r.started_at, r.id"

gboolean
vsPgListRunningShadowRuns(gpointer priv, const char *host, GPtrArray **ret_runs,
                          GError **error)
{
    vsPgStore *s = priv;
    const char *params[] = { host };
    g_autoptr(vsPgResult) res = NULL;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_RUNNING_RUNS, G_N_ELEMENTS(params), params, PGRES_TUPLES_OK,
                         "cannot list running shadow runs", error)))
        return FALSE;
    *ret_runs = vsPgShadowRunsFromResult(res);
    return TRUE;
}

/* The runs of app $1's version $2 (NULL: every version), newest first. */
#define VS_PG_VERSION_RUNS VS_PG_RUN_COLUMNS \
    " WHERE a.name = $1 AND ($2::text IS NULL OR v.version = $2)" \
    " ORDER BY r.started_at DESC, r.id DESC"

/* VS_ERROR_NOT_FOUND naming @app and @version (or not). */
static void
vsPgShadowNoApp(const char *app, const char *version, const char *what, GError **error)
{
    if (version)
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "app '%s' version '%s' %s", app,
                    version, what);
    else
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "app '%s' %s", app, what);
}

gboolean
vsPgListShadowRuns(gpointer priv, const char *app, const char *version, GPtrArray **ret_runs,
                   GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot list the shadow runs of app '%s'", app);
    const char *params[] = { app, version };
    g_autoptr(vsPgResult) res = NULL;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_VERSION_RUNS, G_N_ELEMENTS(params), params, PGRES_TUPLES_OK,
                         what, error)))
        return FALSE;
    /* a version is made with its first run: none means no such version */
    if (!PQntuples(res)) {
        vsPgShadowNoApp(app, version, "has no shadow run", error);
        return FALSE;
    }
    *ret_runs = vsPgShadowRunsFromResult(res);
    return TRUE;
}

/* --- steps ----------------------------------------------------------------------- */

enum {
    VS_PG_ST_IDX, VS_PG_ST_NAME, VS_PG_ST_START, VS_PG_ST_END, VS_PG_ST_EXIT, VS_PG_ST_OUT,
    VS_PG_ST_OUT_TRUNC, VS_PG_ST_ERR, VS_PG_ST_ERR_TRUNC, VS_PG_ST_CPU_AVG, VS_PG_ST_CPU_PEAK,
    VS_PG_ST_MEM, VS_PG_ST_READ, VS_PG_ST_WRITE, VS_PG_ST_SAMPLES, VS_PG_ST_ESTIMATED,
    VS_PG_ST_NCOLS
};

#define VS_PG_UPSERT_STEPS \
    "INSERT INTO shadow_steps (run_id, idx, name, started_at, ended_at, exit_code, stdout," \
    " stdout_truncated, stderr, stderr_truncated, avg_cpu, peak_cpu, peak_memory_kib," \
    " disk_read_bytes, disk_write_bytes, samples, estimated)" \
    " SELECT $1, i, n, " VS_PG_US_TS("st") ", " VS_PG_US_TS("en") ", xc, o, ot, e, et, ca," \
    " cp, m, dr, dw, sa, es" \
    " FROM unnest($2::int[], $3::text[], $4::bigint[], $5::bigint[], $6::int[], $7::text[]," \
    "             $8::boolean[], $9::text[], $10::boolean[], $11::float8[], $12::float8[]," \
    "             $13::bigint[], $14::bigint[], $15::bigint[], $16::int[], $17::boolean[])" \
    "      AS x(i, n, st, en, xc, o, ot, e, et, ca, cp, m, dr, dw, sa, es)" \
    " ON CONFLICT (run_id, idx) DO UPDATE SET name = EXCLUDED.name," \
    "  started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at," \
    "  exit_code = EXCLUDED.exit_code, stdout = EXCLUDED.stdout," \
    "  stdout_truncated = EXCLUDED.stdout_truncated, stderr = EXCLUDED.stderr," \
    "  stderr_truncated = EXCLUDED.stderr_truncated, avg_cpu = EXCLUDED.avg_cpu," \
    "  peak_cpu = EXCLUDED.peak_cpu, peak_memory_kib = EXCLUDED.peak_memory_kib," \
    "  disk_read_bytes = EXCLUDED.disk_read_bytes, disk_write_bytes = EXCLUDED.disk_write_bytes," \
    "  samples = EXCLUDED.samples, estimated = EXCLUDED.estimated"

static gboolean
vsPgShadowCheckSteps(const char *id, GArray *steps, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);

    for (guint i = 0; i < steps->len; i++) {
        const vsShadowStepRecord *st = &g_array_index(steps, vsShadowStepRecord, i);

        if (st->index == 0 || st->index > G_MAXINT32) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "invalid step index '%u' for shadow run '%s'", st->index, id);
            return FALSE;
        }
        if (!g_hash_table_add(seen, GUINT_TO_POINTER(st->index))) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "step %u of shadow run '%s' given twice", st->index, id);
            return FALSE;
        }
        if (st->ended_us && st->ended_us < st->started_us) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "step %u of shadow run '%s' ends before it starts", st->index, id);
            return FALSE;
        }
        if (st->has_usage && (!(st->cpu_avg >= 0) || !(st->cpu_peak >= 0) ||
                              !isfinite(st->cpu_avg) || !isfinite(st->cpu_peak) ||
                              st->memory_peak_kib > G_MAXINT64 ||
                              st->disk_read_bytes > G_MAXINT64 ||
                              st->disk_write_bytes > G_MAXINT64 || st->samples > G_MAXINT32)) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "step %u of shadow run '%s' has an invalid usage", st->index, id);
            return FALSE;
        }
    }
    return TRUE;
}

static void
vsPgArrayBool(GString *a, gboolean v)
{
    vsPgArrayText(a, v ? "t" : "f");
}

static gboolean
vsPgShadowStepAppend(GString **cols, gconstpointer item, GError **error)
{
    const vsShadowStepRecord *st = item;

    vsPgArrayInt(cols[VS_PG_ST_IDX], st->index);
    vsPgArrayText(cols[VS_PG_ST_NAME], st->name ? st->name : "");
    vsPgArrayInt(cols[VS_PG_ST_START], st->started_us);
    if (st->ended_us)
        vsPgArrayInt(cols[VS_PG_ST_END], st->ended_us);
    else
        vsPgArrayText(cols[VS_PG_ST_END], NULL);
    if (st->has_exit_code)
        vsPgArrayInt(cols[VS_PG_ST_EXIT], st->exit_code);
    else
        vsPgArrayText(cols[VS_PG_ST_EXIT], NULL);
    vsPgArrayText(cols[VS_PG_ST_OUT], st->stdout_text);
    vsPgArrayBool(cols[VS_PG_ST_OUT_TRUNC], st->stdout_truncated);
    vsPgArrayText(cols[VS_PG_ST_ERR], st->stderr_text);
    vsPgArrayBool(cols[VS_PG_ST_ERR_TRUNC], st->stderr_truncated);
    if (st->has_usage) {
        vsPgArrayDouble(cols[VS_PG_ST_CPU_AVG], st->cpu_avg);
        vsPgArrayDouble(cols[VS_PG_ST_CPU_PEAK], st->cpu_peak);
        vsPgArrayInt(cols[VS_PG_ST_MEM], (gint64)st->memory_peak_kib);
        vsPgArrayInt(cols[VS_PG_ST_READ], (gint64)st->disk_read_bytes);
        vsPgArrayInt(cols[VS_PG_ST_WRITE], (gint64)st->disk_write_bytes);
    } else {
        for (guint c = VS_PG_ST_CPU_AVG; c <= VS_PG_ST_WRITE; c++)
            vsPgArrayText(cols[c], NULL);
    }
    vsPgArrayInt(cols[VS_PG_ST_SAMPLES], st->has_usage ? st->samples : 0);
    vsPgArrayBool(cols[VS_PG_ST_ESTIMATED], st->has_usage && st->estimated);
    return TRUE;
}

gboolean
vsPgRecordShadowSteps(gpointer priv, const char *id, GArray *steps, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot record the steps of shadow run '%s'", id);
    gboolean exists = FALSE;

    if (!vsPgShadowCheckSteps(id, steps, error))
        return FALSE;
    if (!steps->len)
        return TRUE;
    if (!vsPgCheckConnection(s, error) ||
        !vsPgShadowRunExists(s, id, FALSE, &exists, what, error))
        return FALSE;
    if (!exists) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "no shadow run '%s' is recorded", id);
        return FALSE;
    }
    return vsPgWriteBatch(s, VS_PG_UPSERT_STEPS, &id, 1, steps, VS_PG_ST_NCOLS,
                          vsPgShadowStepAppend, what, error);
}

/* --- events and dependencies ------------------------------------------------------- */

#define VS_PG_LOCK_STEP \
    "SELECT 1 FROM shadow_steps WHERE run_id = $1 AND idx = $2::int FOR UPDATE"
#define VS_PG_CLEAR_EVENTS \
    "WITH e AS (DELETE FROM shadow_events WHERE run_id = $1 AND step_idx = $2::int)" \
    " DELETE FROM shadow_dependencies WHERE run_id = $1 AND step_idx = $2::int"
/* In the given order, which the ids keep: the execution path. */
#define VS_PG_INSERT_EVENTS \
    "INSERT INTO shadow_events (run_id, step_idx, at, type, path, detail)" \
    " SELECT $1, $2::int, " VS_PG_TS(3) ", t, p, d" \
    " FROM unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS x(t, p, d, ord)" \
    " ORDER BY ord"
#define VS_PG_INSERT_DEPENDENCIES \
    "INSERT INTO shadow_dependencies (run_id, step_idx, package, depends_on)" \
    " SELECT $1, $2::int, k, o FROM unnest($3::text[], $4::text[]) AS x(k, o)" \
    " ON CONFLICT DO NOTHING"

static gboolean
vsPgShadowEventColumns(GPtrArray *events, GString **cols, GString **deps, GError **error)
{
    for (guint i = 0; events && i < events->len; i++) {
        const vsEvent *ev = g_ptr_array_index(events, i);
        const char *type = vsEventTypeToString(ev->type);

        if (!type || !ev->path || !*ev->path) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "invalid event %u: %s", i + 1, type ? "no path" : "unknown type");
            return FALSE;
        }
        vsPgArrayText(cols[0], type);
        vsPgArrayText(cols[1], ev->path);
        vsPgArrayText(cols[2], ev->detail);
        for (guint j = 0; ev->depends && ev->depends[j]; j++) {
            vsPgArrayText(deps[0], ev->path);
            vsPgArrayText(deps[1], ev->depends[j]);
        }
    }
    return TRUE;
}

static gboolean
vsPgShadowReplaceEvents(vsPgStore *s, const char *const *key, const char *at, GString **cols,
                        GString **deps, const char *what, GError **error)
{
    const char *events[] = { key[0], key[1], at, vsPgArrayEnd(cols[0]), vsPgArrayEnd(cols[1]),
                             vsPgArrayEnd(cols[2]) };
    const char *dependencies[] = { key[0], key[1], vsPgArrayEnd(deps[0]),
                                   vsPgArrayEnd(deps[1]) };
    g_autoptr(vsPgResult) step = NULL;

    if (!(step = vsPgExec(s, VS_PG_LOCK_STEP, 2, key, PGRES_TUPLES_OK, what, error)))
        return FALSE;
    if (!PQntuples(step)) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                    "%s: step %s is not recorded", what, key[1]);
        return FALSE;
    }
    return vsPgExecCommand(s, VS_PG_CLEAR_EVENTS, 2, key, PGRES_COMMAND_OK, what, error) &&
           vsPgExecCommand(s, VS_PG_INSERT_EVENTS, G_N_ELEMENTS(events), events,
                           PGRES_COMMAND_OK, what, error) &&
           vsPgExecCommand(s, VS_PG_INSERT_DEPENDENCIES, G_N_ELEMENTS(dependencies),
                           dependencies, PGRES_COMMAND_OK, what, error);
}

gboolean
vsPgRecordShadowEvents(gpointer priv, const char *id, guint index, gint64 at_us,
                       GPtrArray *events, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot record the events of step %u of shadow "
                                            "run '%s'", index, id);
    g_autofree char *idx = g_strdup_printf("%u", index);
    g_autofree char *at = vsPgInt64(at_us);
    g_auto(vsPgArrays) cols = vsPgArraysNew(3);
    g_auto(vsPgArrays) deps = vsPgArraysNew(2);
    const char *key[] = { id, idx };
    g_autoptr(GError) local = NULL;

    if (!vsPgShadowEventColumns(events, cols, deps, &local)) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local), "%s: ", what);
        return FALSE;
    }
    if (!vsPgCheckConnection(s, error) ||
        !vsPgExecCommand(s, "BEGIN", 0, NULL, PGRES_COMMAND_OK, what, error))
        return FALSE;
    if (!vsPgShadowReplaceEvents(s, key, at, cols, deps, what, error) ||
        !vsPgExecCommand(s, "COMMIT", 0, NULL, PGRES_COMMAND_OK, what, error)) {
        PQclear(PQexec(s->conn, "ROLLBACK"));
        return FALSE;
    }
    return TRUE;
}

/* --- profiles -------------------------------------------------------------------- */

/* The version ($2, or any: the one with the newest succeeded run) of app $1.
 * Runs checking an optimized script are no part of any profile. */
#define VS_PG_PROFILE_VERSION \
    "SELECT v.id, v.version FROM apps a JOIN app_versions v ON v.app_id = a.id" \
    " JOIN shadow_runs r ON r.app_version_id = v.id AND r.state = 'succeeded'" \
    "  AND r.optimized_from IS NULL" \
    " WHERE a.name = $1 AND ($2::text IS NULL OR v.version = $2)" \
    " ORDER BY r.started_at DESC, r.id DESC LIMIT 1"

/* The steps with a usage of its $2 latest succeeded runs, newest run first;
 * a run without any still has a row (idx NULL). */
#define VS_PG_PROFILE_STEPS \
    "WITH runs AS (SELECT id, started_at FROM shadow_runs" \
    "  WHERE app_version_id = $1::bigint AND state = 'succeeded' AND optimized_from IS NULL" \
    "  ORDER BY started_at DESC, id DESC LIMIT $2::int)" \
    " SELECT r.id, s.idx, s.name, " VS_PG_US("s.ended_at") " - " VS_PG_US("s.started_at") "," \
    "  s.avg_cpu, s.peak_cpu, s.peak_memory_kib, s.disk_read_bytes, s.disk_write_bytes," \
    "  s.samples, s.estimated" \
    " FROM runs r LEFT JOIN shadow_steps s ON s.run_id = r.id AND s.avg_cpu IS NOT NULL" \
    " ORDER BY r.started_at DESC, r.id DESC, s.idx"

static vsProfileUsage *
vsPgShadowUsageFromRow(PGresult *res, int row)
{
    vsProfileUsage *u = g_new0(vsProfileUsage, 1);

    u->index = (guint)vsPgGetUs(res, row, 1, 0);
    u->name = vsPgGetText(res, row, 2);
    u->duration_us = vsPgGetUs(res, row, 3, 0);
    u->cpu_avg = vsPgGetDouble(res, row, 4);
    u->cpu_peak = vsPgGetDouble(res, row, 5);
    u->memory_peak_kib = (guint64)vsPgGetUs(res, row, 6, 0);
    u->disk_read_bytes = (guint64)vsPgGetUs(res, row, 7, 0);
    u->disk_write_bytes = (guint64)vsPgGetUs(res, row, 8, 0);
    u->samples = (guint)vsPgGetUs(res, row, 9, 0);
    u->estimated = vsPgGetBool(res, row, 10);
    return u;
}

gboolean
vsPgReadShadowProfile(gpointer priv, const char *app, const char *version, guint max_runs,
                      vsShadowProfile **ret_profile, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot read the profile of app '%s'", app);
    g_autofree char *limit = g_strdup_printf("%u", MIN(max_runs, (guint)G_MAXINT32));
    const char *find[] = { app, version };
    g_autoptr(vsPgResult) found = NULL;
    g_autoptr(vsPgResult) res = NULL;
    g_autoptr(vsShadowProfile) profile = NULL;
    GPtrArray *steps = NULL;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(found = vsPgExec(s, VS_PG_PROFILE_VERSION, G_N_ELEMENTS(find), find,
                           PGRES_TUPLES_OK, what, error)))
        return FALSE;
    if (!PQntuples(found)) {
        if (version)
            g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                        "app '%s' version '%s' has no succeeded shadow run", app, version);
        else
            g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                        "app '%s' has no succeeded shadow run", app);
        return FALSE;
    }
    {
        const char *params[] = { PQgetvalue(found, 0, 0), limit };

        if (!(res = vsPgExec(s, VS_PG_PROFILE_STEPS, G_N_ELEMENTS(params), params,
                             PGRES_TUPLES_OK, what, error)))
            return FALSE;
    }
    profile = g_new0(vsShadowProfile, 1);
    profile->app = g_strdup(app);
    profile->version = vsPgGetText(found, 0, 1);
    profile->run_ids = g_ptr_array_new_with_free_func(g_free);
    profile->runs = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
    for (int i = 0; i < PQntuples(res); i++) {
        const char *run = PQgetvalue(res, i, 0);

        if (!profile->run_ids->len ||
            !g_str_equal(run, g_ptr_array_index(profile->run_ids, profile->run_ids->len - 1))) {
            g_ptr_array_add(profile->run_ids, g_strdup(run));
            steps = g_ptr_array_new_with_free_func((GDestroyNotify)vsProfileUsageFree);
            g_ptr_array_add(profile->runs, steps);
        }
        if (!PQgetisnull(res, i, 1))
            g_ptr_array_add(steps, vsPgShadowUsageFromRow(res, i));
    }
    *ret_profile = g_steal_pointer(&profile);
    return TRUE;
}

/* --- a run's steps with their events ------------------------------------------- */

#define VS_PG_RUN_STEPS \
    "SELECT idx, name, " VS_PG_US("started_at") ", " VS_PG_US("ended_at") ", exit_code," \
    " stdout, stdout_truncated, stderr, stderr_truncated, avg_cpu, peak_cpu," \
    " peak_memory_kib, disk_read_bytes, disk_write_bytes, samples, estimated" \
    " FROM shadow_steps WHERE run_id = $1 ORDER BY idx"
/* Within a step, the id is the order the events were seen in. */
#define VS_PG_RUN_EVENTS \
    "SELECT step_idx, type, path, detail FROM shadow_events WHERE run_id = $1" \
    " ORDER BY step_idx, id"
#define VS_PG_RUN_DEPENDENCIES \
    "SELECT step_idx, package, depends_on FROM shadow_dependencies WHERE run_id = $1" \
    " ORDER BY step_idx, package, depends_on"

static vsShadowStepEvents *
vsPgShadowStepFromRow(PGresult *res, int row)
{
    vsShadowStepEvents *se = g_new0(vsShadowStepEvents, 1);
    vsShadowStepRecord *st = &se->step;

    st->index = (guint)vsPgGetUs(res, row, 0, 0);
    st->name = vsPgGetText(res, row, 1);
    st->started_us = vsPgGetUs(res, row, 2, 0);
    st->ended_us = vsPgGetUs(res, row, 3, 0);
    st->has_exit_code = !PQgetisnull(res, row, 4);
    st->exit_code = (int)vsPgGetUs(res, row, 4, 0);
    st->stdout_text = vsPgGetText(res, row, 5);
    st->stdout_truncated = vsPgGetBool(res, row, 6);
    st->stderr_text = vsPgGetText(res, row, 7);
    st->stderr_truncated = vsPgGetBool(res, row, 8);
    st->has_usage = !PQgetisnull(res, row, 9);
    if (st->has_usage) {
        st->cpu_avg = vsPgGetDouble(res, row, 9);
        st->cpu_peak = vsPgGetDouble(res, row, 10);
        st->memory_peak_kib = (guint64)vsPgGetUs(res, row, 11, 0);
        st->disk_read_bytes = (guint64)vsPgGetUs(res, row, 12, 0);
        st->disk_write_bytes = (guint64)vsPgGetUs(res, row, 13, 0);
        st->samples = (guint)vsPgGetUs(res, row, 14, 0);
        st->estimated = vsPgGetBool(res, row, 15);
    }
    se->events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    return se;
}

static vsShadowStepEvents *
vsPgShadowFindStep(GPtrArray *steps, guint index)
{
    for (guint i = 0; i < steps->len; i++) {
        vsShadowStepEvents *se = g_ptr_array_index(steps, i);

        if (se->step.index == index)
            return se;
    }
    return NULL;
}

static void
vsPgShadowAddEvents(GPtrArray *steps, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        vsShadowStepEvents *se = vsPgShadowFindStep(steps, (guint)vsPgGetUs(res, i, 0, 0));
        vsEventType type;

        /* the schema's CHECK allows only the types vsmanifest.h names */
        if (!se || !vsEventTypeFromString(PQgetvalue(res, i, 1), &type))
            continue;
        g_ptr_array_add(se->events, vsEventNew(type, PQgetvalue(res, i, 2),
                                               PQgetisnull(res, i, 3) ? NULL
                                                                      : PQgetvalue(res, i, 3)));
    }
}

/* Each dependency goes back to its package's installed or upgraded event. */
static void
vsPgShadowAddDependencies(GPtrArray *steps, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        vsShadowStepEvents *se = vsPgShadowFindStep(steps, (guint)vsPgGetUs(res, i, 0, 0));
        const char *package = PQgetvalue(res, i, 1);

        for (guint j = 0; se && j < se->events->len; j++) {
            vsEvent *ev = g_ptr_array_index(se->events, j);
            guint n;

            if ((ev->type != VS_EVENT_PACKAGE_INSTALLED &&
                 ev->type != VS_EVENT_PACKAGE_UPGRADED) || !g_str_equal(ev->path, package))
                continue;
            n = ev->depends ? g_strv_length(ev->depends) : 0;
            ev->depends = g_renew(char *, ev->depends, n + 2);
            ev->depends[n] = g_strdup(PQgetvalue(res, i, 2));
            ev->depends[n + 1] = NULL;
            break;
        }
    }
}

/* Three reads of one snapshot: a step recorded meanwhile cannot show up
 * without its events. */
static gboolean
vsPgShadowReadSteps(vsPgStore *s, const char *id, const char *what, GPtrArray **ret_steps,
                    GError **error)
{
    const char *params[] = { id };
    g_autoptr(vsPgResult) steps = NULL;
    g_autoptr(vsPgResult) events = NULL;
    g_autoptr(vsPgResult) deps = NULL;
    g_autoptr(GPtrArray) out = NULL;
    gboolean exists = FALSE;

    if (!vsPgShadowRunExists(s, id, FALSE, &exists, what, error))
        return FALSE;
    if (!exists) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "no shadow run '%s' is recorded", id);
        return FALSE;
    }
    if (!(steps = vsPgExec(s, VS_PG_RUN_STEPS, 1, params, PGRES_TUPLES_OK, what, error)) ||
        !(events = vsPgExec(s, VS_PG_RUN_EVENTS, 1, params, PGRES_TUPLES_OK, what, error)) ||
        !(deps = vsPgExec(s, VS_PG_RUN_DEPENDENCIES, 1, params, PGRES_TUPLES_OK, what, error)))
        return FALSE;
    out = g_ptr_array_new_with_free_func((GDestroyNotify)vsShadowStepEventsFree);
    for (int i = 0; i < PQntuples(steps); i++)
        g_ptr_array_add(out, vsPgShadowStepFromRow(steps, i));
    vsPgShadowAddEvents(out, events);
    vsPgShadowAddDependencies(out, deps);
    *ret_steps = g_steal_pointer(&out);
    return TRUE;
}

gboolean
vsPgReadShadowRunSteps(gpointer priv, const char *id, GPtrArray **ret_steps, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot read the steps of shadow run '%s'", id);

    if (!vsPgCheckConnection(s, error) ||
        !vsPgExecCommand(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
                         PGRES_COMMAND_OK, what, error))
        return FALSE;
    if (!vsPgShadowReadSteps(s, id, what, ret_steps, error)) {
        PQclear(PQexec(s->conn, "ROLLBACK"));
        return FALSE;
    }
    if (!vsPgExecCommand(s, "COMMIT", 0, NULL, PGRES_COMMAND_OK, what, error)) {
        g_clear_pointer(ret_steps, g_ptr_array_unref);
        return FALSE;
    }
    return TRUE;
}

/* --- versions ------------------------------------------------------------------ */

#define VS_PG_APP_VERSIONS \
    "SELECT v.version, count(r.id), count(r.id) FILTER (WHERE r.state = 'succeeded')," \
    " " VS_PG_US("max(r.started_at)") \
    " FROM apps a JOIN app_versions v ON v.app_id = a.id" \
    " LEFT JOIN shadow_runs r ON r.app_version_id = v.id AND r.optimized_from IS NULL" \
    " WHERE a.name = $1 GROUP BY v.id ORDER BY v.created_at, v.id"

gboolean
vsPgListAppVersions(gpointer priv, const char *app, GPtrArray **ret_versions, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot list the versions of app '%s'", app);
    const char *params[] = { app };
    g_autoptr(vsPgResult) res = NULL;
    GPtrArray *versions;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_APP_VERSIONS, G_N_ELEMENTS(params), params, PGRES_TUPLES_OK,
                         what, error)))
        return FALSE;
    /* an app is made with its first version */
    if (!PQntuples(res)) {
        vsPgShadowNoApp(app, NULL, "is not stored", error);
        return FALSE;
    }
    versions = g_ptr_array_new_with_free_func((GDestroyNotify)vsShadowVersionFree);
    for (int i = 0; i < PQntuples(res); i++) {
        vsShadowVersion *v = g_new0(vsShadowVersion, 1);

        v->version = vsPgGetText(res, i, 0);
        v->runs = (guint)vsPgGetUs(res, i, 1, 0);
        v->succeeded = (guint)vsPgGetUs(res, i, 2, 0);
        v->latest_us = vsPgGetUs(res, i, 3, 0);
        g_ptr_array_add(versions, v);
    }
    *ret_versions = versions;
    return TRUE;
}

/* --- optimizations --------------------------------------------------------------- */

#define VS_PG_INSERT_OPTIMIZATION \
    "INSERT INTO shadow_optimizations (original_run_id, optimized_run_id, script," \
    " dropped_steps, groups, original_us, optimized_us, same_files, same_services," \
    " differences)" \
    " VALUES ($1, $2, $3, $4::text[], $5::int, $6::bigint, $7::bigint, $8::boolean," \
    " $9::boolean, $10)"

static gboolean
vsPgShadowCheckOptimization(const vsShadowOptimization *opt, GError **error)
{
    if (!opt->script || !*opt->script) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "the optimization checked by shadow run '%s' has no script",
                    opt->optimized_run);
        return FALSE;
    }
    if (opt->original_us < 0 || opt->optimized_us < 0 || opt->groups > G_MAXINT32) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "the optimization checked by shadow run '%s' has an invalid duration or "
                    "group count", opt->optimized_run);
        return FALSE;
    }
    for (guint i = 0; opt->dropped && opt->dropped[i]; i++) {
        if (strchr(opt->dropped[i], '\n')) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "invalid dropped step name for shadow run '%s'", opt->optimized_run);
            return FALSE;
        }
    }
    return TRUE;
}

/* The optimized run exists, checks the original and has no result yet. */
static gboolean
vsPgShadowCheckOptimizedRun(vsPgStore *s, const vsShadowOptimization *opt, const char *what,
                            GError **error)
{
    const char *params[] = { opt->optimized_run, opt->original_run };
    g_autoptr(vsPgResult) res = vsPgExec(s,
        "SELECT r.optimized_from, (SELECT count(*) FROM shadow_runs WHERE id = $2),"
        " (SELECT count(*) FROM shadow_optimizations WHERE optimized_run_id = $1)"
        " FROM shadow_runs r WHERE r.id = $1",
        G_N_ELEMENTS(params), params, PGRES_TUPLES_OK, what, error);

    if (!res)
        return FALSE;
    if (!PQntuples(res) || g_str_equal(PQgetvalue(res, 0, 1), "0")) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "no shadow run '%s' is recorded",
                    PQntuples(res) ? opt->original_run : opt->optimized_run);
        return FALSE;
    }
    if (PQgetisnull(res, 0, 0) || !g_str_equal(PQgetvalue(res, 0, 0), opt->original_run)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "shadow run '%s' is not optimized from run '%s'", opt->optimized_run,
                    opt->original_run);
        return FALSE;
    }
    if (!g_str_equal(PQgetvalue(res, 0, 2), "0")) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "the optimization checked by shadow run '%s' is already recorded",
                    opt->optimized_run);
        return FALSE;
    }
    return TRUE;
}

gboolean
vsPgRecordShadowOptimization(gpointer priv, const vsShadowOptimization *opt, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot record the optimization checked by shadow "
                                            "run '%s'", opt->optimized_run);
    g_autoptr(GString) dropped = g_string_new(NULL);
    g_autofree char *groups = g_strdup_printf("%u", opt->groups);
    g_autofree char *orig_us = vsPgInt64(opt->original_us);
    g_autofree char *opt_us = vsPgInt64(opt->optimized_us);

    if (!vsPgShadowCheckOptimization(opt, error) || !vsPgCheckConnection(s, error) ||
        !vsPgShadowCheckOptimizedRun(s, opt, what, error))
        return FALSE;
    for (guint i = 0; opt->dropped && opt->dropped[i]; i++)
        vsPgArrayText(dropped, opt->dropped[i]);
    {
        const char *params[] = { opt->original_run, opt->optimized_run, opt->script,
                                 vsPgArrayEnd(dropped), groups, orig_us, opt_us,
                                 opt->same_files ? "t" : "f", opt->same_services ? "t" : "f",
                                 opt->differences ? opt->differences : "" };

        return vsPgExecCommand(s, VS_PG_INSERT_OPTIMIZATION, G_N_ELEMENTS(params), params,
                               PGRES_COMMAND_OK, what, error);
    }
}

/* Step names hold no newline (a step is named on one line). */
#define VS_PG_OPTIMIZATIONS \
    "SELECT o.original_run_id, o.optimized_run_id, o.script," \
    " array_to_string(o.dropped_steps, E'\\n'), o.groups, o.original_us, o.optimized_us," \
    " o.same_files, o.same_services, o.differences, " VS_PG_US("o.created_at") ", r.state" \
    " FROM shadow_optimizations o JOIN shadow_runs r ON r.id = o.optimized_run_id" \
    " WHERE o.original_run_id = $1 ORDER BY o.created_at DESC, o.id DESC"

static vsShadowOptimization *
vsPgShadowOptimizationFromRow(PGresult *res, int row)
{
    vsShadowOptimization *opt = g_new0(vsShadowOptimization, 1);
    const char *dropped = PQgetvalue(res, row, 3);

    opt->original_run = vsPgGetText(res, row, 0);
    opt->optimized_run = vsPgGetText(res, row, 1);
    opt->script = vsPgGetText(res, row, 2);
    opt->dropped = *dropped ? g_strsplit(dropped, "\n", -1) : g_new0(char *, 1);
    opt->groups = (guint)vsPgGetUs(res, row, 4, 0);
    opt->original_us = vsPgGetUs(res, row, 5, 0);
    opt->optimized_us = vsPgGetUs(res, row, 6, 0);
    opt->same_files = vsPgGetBool(res, row, 7);
    opt->same_services = vsPgGetBool(res, row, 8);
    opt->differences = vsPgGetText(res, row, 9);
    opt->created_us = vsPgGetUs(res, row, 10, 0);
    if (!vsShadowStateFromString(PQgetvalue(res, row, 11), &opt->optimized_state))
        opt->optimized_state = VS_SHADOW_FAILED;
    return opt;
}

gboolean
vsPgListShadowOptimizations(gpointer priv, const char *id, GPtrArray **ret_opts,
                            GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot read the optimizations of shadow run '%s'",
                                            id);
    const char *params[] = { id };
    g_autoptr(vsPgResult) res = NULL;
    GPtrArray *opts;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_OPTIMIZATIONS, G_N_ELEMENTS(params), params, PGRES_TUPLES_OK,
                         what, error)))
        return FALSE;
    opts = g_ptr_array_new_with_free_func((GDestroyNotify)vsShadowOptimizationFree);
    for (int i = 0; i < PQntuples(res); i++)
        g_ptr_array_add(opts, vsPgShadowOptimizationFromRow(res, i));
    *ret_opts = opts;
    return TRUE;
}

/* --- the script deploy runs ------------------------------------------------------ */

/* The latest succeeded run of the version, and the newest optimized script
 * of it that is verified: the same test as vsShadowOptimizationVerified(),
 * in SQL so that one statement sees one state. */
#define VS_PG_SCRIPT \
    "SELECT r.id, r.script, o.script" \
    " FROM apps a JOIN app_versions v ON v.app_id = a.id" \
    " JOIN shadow_runs r ON r.app_version_id = v.id AND r.state = 'succeeded'" \
    "  AND r.optimized_from IS NULL" \
    " LEFT JOIN LATERAL (SELECT o.script FROM shadow_optimizations o" \
    "   JOIN shadow_runs c ON c.id = o.optimized_run_id AND c.state = 'succeeded'" \
    "  WHERE o.original_run_id = r.id AND o.same_files AND o.same_services" \
    "  ORDER BY o.created_at DESC, o.id DESC LIMIT 1) o ON true" \
    " WHERE a.name = $1 AND ($2::text IS NULL OR v.version = $2)" \
    " ORDER BY r.started_at DESC, r.id DESC LIMIT 1"

gboolean
vsPgReadShadowScript(gpointer priv, const char *app, const char *version, char **ret_text,
                     gboolean *ret_is_optimized, char **ret_run_id, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *what = g_strdup_printf("cannot read the install script of app '%s'", app);
    const char *params[] = { app, version };
    g_autoptr(vsPgResult) res = NULL;
    gboolean optimized;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_SCRIPT, G_N_ELEMENTS(params), params, PGRES_TUPLES_OK,
                         what, error)))
        return FALSE;
    if (!PQntuples(res)) {
        vsPgShadowNoApp(app, version, "has no succeeded shadow run", error);
        return FALSE;
    }
    optimized = !PQgetisnull(res, 0, 2);
    *ret_text = vsPgGetText(res, 0, optimized ? 2 : 1);
    *ret_is_optimized = optimized;
    if (ret_run_id)
        *ret_run_id = vsPgGetText(res, 0, 0);
    return TRUE;
}
