/*
 * vspgschedule.c: shadow schedules and their job queue in PostgreSQL
 * (sql/0007_shadow.sql's shadow_schedules and shadow_jobs, with
 * sql/0008_shadow_schedule_options.sql's run options and last_error)
 *
 * Every call is one statement, so each is atomic without a transaction
 * of its own: enqueueing inserts the job and moves the schedule on in
 * data-modifying CTEs, leasing picks the job FOR UPDATE SKIP LOCKED and
 * leases it in the same statement.  Lease times are the server's now().
 */
#include <config.h>

#include <string.h>

#include "vspg.h"
#include "util/vserror.h"

static gboolean
vsPgScheduleMissing(const char *value, const char *field, GError **error)
{
    if (value && *value)
        return FALSE;
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "shadow schedule has no %s", field);
    return TRUE;
}

/* NULL (the runner's default) for 0. */
static char *
vsPgTimeout(guint timeout_s)
{
    return timeout_s ? g_strdup_printf("%u", MIN(timeout_s, (guint)G_MAXINT)) : NULL;
}

/* As for runs (vspgshadow.c): the app and version are made on first use. */
#define VS_PG_ADD_SCHEDULE \
    "WITH a AS (" \
    "  INSERT INTO apps (name) VALUES ($1)" \
    "  ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id)," \
    " v AS (" \
    "  INSERT INTO app_versions (app_id, version) SELECT id, $2 FROM a" \
    "  ON CONFLICT (app_id, version) DO UPDATE SET version = EXCLUDED.version RETURNING id)" \
    " INSERT INTO shadow_schedules (app_version_id, base, script, limits, every, next_at," \
    "                               enabled, stage_dir, network, timeout_s)" \
    " SELECT v.id, $3, $4, $5, $6, " VS_PG_TS(7) ", $8::boolean, $9, $10, $11::int FROM v" \
    " RETURNING id, " VS_PG_US("created_at")

gboolean
vsPgAddShadowSchedule(gpointer priv, vsShadowScheduleRecord *sched, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *next = vsPgInt64(sched->next_us);
    g_autofree char *timeout = vsPgTimeout(sched->timeout_s);
    const char *params[] = { sched->app, sched->version, sched->base, sched->script,
                             sched->limits, sched->every, next, sched->enabled ? "t" : "f",
                             sched->stage_dir, sched->network, timeout };
    g_autoptr(vsPgResult) res = NULL;

    if (vsPgScheduleMissing(sched->app, "app", error) ||
        vsPgScheduleMissing(sched->version, "version", error) ||
        vsPgScheduleMissing(sched->base, "base", error) ||
        vsPgScheduleMissing(sched->script, "script", error) ||
        vsPgScheduleMissing(sched->every, "every", error))
        return FALSE;
    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_ADD_SCHEDULE, G_N_ELEMENTS(params), params, PGRES_TUPLES_OK,
                         "cannot add shadow schedule", error)))
        return FALSE;
    sched->id = vsPgGetUs(res, 0, 0, 0);
    sched->created_us = vsPgGetUs(res, 0, 1, 0);
    return TRUE;
}

#define VS_PG_LIST_SCHEDULES \
    "SELECT s.id, a.name, v.version, s.base, s.script, s.limits, s.every, " \
    VS_PG_US("s.next_at") ", s.enabled, " VS_PG_US("s.created_at") ", j.state, " \
    VS_PG_US("j.due_at") ", j.run_id, s.stage_dir, s.network, s.timeout_s, j.last_error" \
    " FROM shadow_schedules s JOIN app_versions v ON v.id = s.app_version_id" \
    " JOIN apps a ON a.id = v.app_id" \
    " LEFT JOIN LATERAL (SELECT state, due_at, run_id, last_error FROM shadow_jobs" \
    "                    WHERE schedule_id = s.id ORDER BY due_at DESC, id DESC LIMIT 1) j" \
    "   ON true" \
    " WHERE $1::bigint IS NULL OR (s.enabled AND s.next_at <= " VS_PG_TS(1) ")" \
    " ORDER BY s.id"

static vsShadowScheduleRecord *
vsPgScheduleFromRow(PGresult *res, int row)
{
    vsShadowScheduleRecord *sched = g_new0(vsShadowScheduleRecord, 1);

    sched->id = vsPgGetUs(res, row, 0, 0);
    sched->app = vsPgGetText(res, row, 1);
    sched->version = vsPgGetText(res, row, 2);
    sched->base = vsPgGetText(res, row, 3);
    sched->script = vsPgGetText(res, row, 4);
    sched->limits = vsPgGetText(res, row, 5);
    sched->every = vsPgGetText(res, row, 6);
    sched->next_us = vsPgGetUs(res, row, 7, 0);
    sched->enabled = vsPgGetBool(res, row, 8);
    sched->created_us = vsPgGetUs(res, row, 9, 0);
    sched->last_state = vsPgGetText(res, row, 10);
    sched->last_due_us = vsPgGetUs(res, row, 11, 0);
    sched->last_run_id = vsPgGetText(res, row, 12);
    sched->stage_dir = vsPgGetText(res, row, 13);
    sched->network = vsPgGetText(res, row, 14);
    sched->timeout_s = (guint)vsPgGetUs(res, row, 15, 0);
    sched->last_error = vsPgGetText(res, row, 16);
    return sched;
}

gboolean
vsPgListShadowSchedules(gpointer priv, gint64 due_by_us, GPtrArray **ret_schedules,
                        GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *due = due_by_us ? vsPgInt64(due_by_us) : NULL;
    const char *params[] = { due };
    g_autoptr(vsPgResult) res = NULL;
    GPtrArray *schedules;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_LIST_SCHEDULES, G_N_ELEMENTS(params), params,
                         PGRES_TUPLES_OK, "cannot list shadow schedules", error)))
        return FALSE;
    schedules = g_ptr_array_new_with_free_func((GDestroyNotify)vsShadowScheduleRecordFree);
    for (int i = 0; i < PQntuples(res); i++)
        g_ptr_array_add(schedules, vsPgScheduleFromRow(res, i));
    *ret_schedules = schedules;
    return TRUE;
}

gboolean
vsPgRemoveShadowSchedule(gpointer priv, gint64 id, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *sid = vsPgInt64(id);
    const char *params[] = { sid };
    g_autofree char *what = g_strdup_printf("cannot remove shadow schedule %s", sid);
    g_autoptr(vsPgResult) res = NULL;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, "DELETE FROM shadow_schedules WHERE id = $1", 1, params,
                         PGRES_COMMAND_OK, what, error)))
        return FALSE;
    if (g_str_equal(PQcmdTuples(res), "0")) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "no shadow schedule %s", sid);
        return FALSE;
    }
    return TRUE;
}

/* A second enqueuer of the same slot waits for the first's row locks, then
 * finds the job there (DO NOTHING) and next_at moved (no row updated). */
#define VS_PG_ENQUEUE_JOB \
    "WITH j AS (" \
    "  INSERT INTO shadow_jobs (schedule_id, due_at)" \
    "  SELECT id, " VS_PG_TS(2) " FROM shadow_schedules WHERE id = $1" \
    "  ON CONFLICT (schedule_id, due_at) DO NOTHING RETURNING id)," \
    " s AS (" \
    "  UPDATE shadow_schedules SET next_at = " VS_PG_TS(3) \
    "  WHERE id = $1 AND next_at = " VS_PG_TS(2) " RETURNING id)" \
    " SELECT (SELECT count(*) FROM j), (SELECT count(*) FROM s)"

gboolean
vsPgEnqueueShadowJob(gpointer priv, gint64 schedule_id, gint64 due_us, gint64 next_us,
                     gboolean *ret_enqueued, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *sid = vsPgInt64(schedule_id);
    g_autofree char *due = vsPgInt64(due_us);
    g_autofree char *next = vsPgInt64(next_us);
    const char *params[] = { sid, due, next };
    g_autofree char *what = g_strdup_printf("cannot queue a job of shadow schedule %s", sid);
    g_autoptr(vsPgResult) res = NULL;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_ENQUEUE_JOB, G_N_ELEMENTS(params), params, PGRES_TUPLES_OK,
                         what, error)))
        return FALSE;
    *ret_enqueued = vsPgGetUs(res, 0, 0, 0) > 0;
    return TRUE;
}

/* A job that used all its attempts is failExhaustedShadowJobs()'s. */
#define VS_PG_LEASE_JOB \
    "WITH c AS (" \
    "  SELECT id FROM shadow_jobs" \
    "  WHERE (state = 'queued' AND due_at <= now())" \
    "     OR (state = 'leased' AND lease_until < now() AND attempts < $3::int)" \
    "  ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)," \
    " u AS (" \
    "  UPDATE shadow_jobs j SET state = 'leased', leased_by = $1," \
    "    lease_until = now() + $2::int * interval '1 second', attempts = j.attempts + 1" \
    "  FROM c WHERE j.id = c.id" \
    "  RETURNING j.id, j.schedule_id, j.due_at, j.attempts, j.lease_until)" \
    " SELECT u.id, u.schedule_id, " VS_PG_US("u.due_at") ", u.attempts, " \
    VS_PG_US("u.lease_until") ", a.name, v.version, s.base, s.script, s.limits," \
    " s.stage_dir, s.network, s.timeout_s" \
    " FROM u JOIN shadow_schedules s ON s.id = u.schedule_id" \
    " JOIN app_versions v ON v.id = s.app_version_id JOIN apps a ON a.id = v.app_id"

gboolean
vsPgLeaseShadowJob(gpointer priv, const char *host, guint lease_s, guint max_attempts,
                   vsShadowJobRecord **ret_job, GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *lease = g_strdup_printf("%u", MIN(lease_s, (guint)G_MAXINT));
    g_autofree char *max = g_strdup_printf("%u", MIN(max_attempts, (guint)G_MAXINT));
    const char *params[] = { host, lease, max };
    g_autoptr(vsPgResult) res = NULL;
    vsShadowJobRecord *job;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_LEASE_JOB, G_N_ELEMENTS(params), params, PGRES_TUPLES_OK,
                         "cannot lease a shadow job", error)))
        return FALSE;
    if (PQntuples(res) == 0) {
        *ret_job = NULL;
        return TRUE;
    }
    job = g_new0(vsShadowJobRecord, 1);
    job->id = vsPgGetUs(res, 0, 0, 0);
    job->schedule_id = vsPgGetUs(res, 0, 1, 0);
    job->due_us = vsPgGetUs(res, 0, 2, 0);
    job->attempts = (guint)vsPgGetUs(res, 0, 3, 0);
    job->lease_until_us = vsPgGetUs(res, 0, 4, 0);
    job->app = vsPgGetText(res, 0, 5);
    job->version = vsPgGetText(res, 0, 6);
    job->base = vsPgGetText(res, 0, 7);
    job->script = vsPgGetText(res, 0, 8);
    job->limits = vsPgGetText(res, 0, 9);
    job->stage_dir = vsPgGetText(res, 0, 10);
    job->network = vsPgGetText(res, 0, 11);
    job->timeout_s = (guint)vsPgGetUs(res, 0, 12, 0);
    *ret_job = job;
    return TRUE;
}

/* SKIP LOCKED as for leasing: a job another controller is leasing right
 * now is left to it (it will not take it: it used all its attempts). */
#define VS_PG_FAIL_EXHAUSTED \
    "WITH x AS (" \
    "  SELECT id FROM shadow_jobs" \
    "  WHERE state = 'leased' AND lease_until < now() AND attempts >= $1::int" \
    "  FOR UPDATE SKIP LOCKED)" \
    " UPDATE shadow_jobs j SET state = 'failed'," \
    "   last_error = 'gave up after ' || j.attempts || ' attempts: the lease of host '''" \
    "                || j.leased_by || ''' ran out without the job being closed'" \
    " FROM x WHERE j.id = x.id RETURNING j.id"

gboolean
vsPgFailExhaustedShadowJobs(gpointer priv, guint max_attempts, GArray **ret_ids,
                            GError **error)
{
    vsPgStore *s = priv;
    g_autofree char *max = g_strdup_printf("%u", MIN(max_attempts, (guint)G_MAXINT));
    const char *params[] = { max };
    g_autoptr(vsPgResult) res = NULL;
    GArray *ids;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, VS_PG_FAIL_EXHAUSTED, G_N_ELEMENTS(params), params,
                         PGRES_TUPLES_OK, "cannot close exhausted shadow jobs", error)))
        return FALSE;
    ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    for (int i = 0; i < PQntuples(res); i++) {
        gint64 id = vsPgGetUs(res, i, 0, 0);

        g_array_append_val(ids, id);
    }
    *ret_ids = ids;
    return TRUE;
}

/* An update of a job @host holds; VS_ERROR_NOT_FOUND when none matched. */
static gboolean
vsPgUpdateHeldJob(vsPgStore *s, const char *sql, const char *const *params, int nparams,
                  const char *what, const char *sid, const char *host, GError **error)
{
    g_autoptr(vsPgResult) res = NULL;

    if (!vsPgCheckConnection(s, error))
        return FALSE;
    if (!(res = vsPgExec(s, sql, nparams, params, PGRES_COMMAND_OK, what, error)))
        return FALSE;
    if (g_str_equal(PQcmdTuples(res), "0")) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                    "shadow job %s is not leased by host '%s'", sid, host);
        return FALSE;
    }
    return TRUE;
}

gboolean
vsPgRenewShadowJob(gpointer priv, gint64 id, const char *host, guint lease_s, GError **error)
{
    g_autofree char *sid = vsPgInt64(id);
    g_autofree char *lease = g_strdup_printf("%u", MIN(lease_s, (guint)G_MAXINT));
    const char *params[] = { sid, host, lease };
    g_autofree char *what = g_strdup_printf("cannot renew the lease of shadow job %s", sid);

    return vsPgUpdateHeldJob(priv,
                             "UPDATE shadow_jobs SET lease_until = now() + $3::int * interval '1 second'"
                             " WHERE id = $1 AND state = 'leased' AND leased_by = $2",
                             params, G_N_ELEMENTS(params), what, sid, host, error);
}

gboolean
vsPgFinishShadowJob(gpointer priv, gint64 id, const char *host, gboolean succeeded,
                    const char *run_id, const char *reason, GError **error)
{
    g_autofree char *sid = vsPgInt64(id);
    const char *params[] = { sid, host, succeeded ? "done" : "failed", run_id, reason };
    g_autofree char *what = g_strdup_printf("cannot close shadow job %s", sid);

    return vsPgUpdateHeldJob(priv,
                             "UPDATE shadow_jobs SET state = $3, run_id = $4, last_error = $5"
                             " WHERE id = $1 AND state = 'leased' AND leased_by = $2",
                             params, G_N_ELEMENTS(params), what, sid, host, error);
}
