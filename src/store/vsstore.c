/*
 * vsstore.c: wrappers around the store driver table
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vsstore.h"
#include "vsmigration.h"
#include "conf/vsmetadata.h"
#include "shadow/vsschedule.h"
#include "util/vserror.h"

struct _vsStore {
    const vsStoreDriver *driver;
    gpointer priv;
};

static const vsStoreDriver *vsStoreDriverRegistered;

static const char *const vsStoreEmbeddedStateNames[] = {
    "absent", "stopped", "running",
};

void
vsStoreTargetCopy(vsStoreTarget *dst, const vsStoreTarget *src)
{
    vsStoreTargetClear(dst);
    dst->url = g_strdup(src->url);
    dst->state_dir = g_strdup(src->state_dir);
    dst->pg_user = g_strdup(src->pg_user);
}

void
vsStoreTargetClear(vsStoreTarget *target)
{
    if (!target)
        return;
    g_clear_pointer(&target->url, g_free);
    g_clear_pointer(&target->state_dir, g_free);
    g_clear_pointer(&target->pg_user, g_free);
}

const char *
vsStoreEmbeddedStateToString(vsStoreEmbeddedState state)
{
    if ((int)state < 0 || (gsize)state >= G_N_ELEMENTS(vsStoreEmbeddedStateNames))
        return "unknown";
    return vsStoreEmbeddedStateNames[state];
}

void
vsStoreRegisterDriver(const vsStoreDriver *driver)
{
    vsStoreDriverRegistered = driver;
}

static gboolean
vsStoreCheckDriver(GError **error)
{
    if (!vsStoreDriverRegistered) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED, "no store driver registered");
        return FALSE;
    }
    return TRUE;
}

vsStore *
vsStoreOpen(const vsStoreTarget *target, gboolean autostart, GError **error)
{
    g_autoptr(vsStore) store = NULL;

    if (!vsStoreCheckDriver(error))
        return NULL;
    store = g_new0(vsStore, 1);
    store->driver = vsStoreDriverRegistered;
    store->priv = store->driver->open(target, autostart, error);
    if (!store->priv)
        return NULL;
    return g_steal_pointer(&store);
}

void
vsStoreFree(vsStore *store)
{
    if (!store)
        return;
    if (store->priv)
        store->driver->close(store->priv);
    g_free(store);
}

char *
vsStoreDescribe(vsStore *store)
{
    return store->driver->describe(store->priv);
}

char *
vsStoreServerVersion(vsStore *store, GError **error)
{
    return store->driver->serverVersion(store->priv, error);
}

/* Known migrations and their status against the database, for the three
 * migration entry points below. */
static gboolean
vsStoreLoadMigrationStatus(vsStore *store, GPtrArray **ret_known,
                           GPtrArray **ret_status, GError **error)
{
    g_autoptr(GPtrArray) known = NULL;
    g_autoptr(GPtrArray) applied = NULL;

    if (!(known = vsMigrationsBuiltin(error)))
        return FALSE;
    if (!(applied = store->driver->appliedMigrations(store->priv, error)))
        return FALSE;

    *ret_status = vsMigrationCompare(known, applied);
    *ret_known = g_steal_pointer(&known);
    return TRUE;
}

GPtrArray *
vsStoreMigrationStatus(vsStore *store, GError **error)
{
    g_autoptr(GPtrArray) known = NULL;
    GPtrArray *status = NULL;

    if (!vsStoreLoadMigrationStatus(store, &known, &status, error))
        return NULL;
    return status;
}

gboolean
vsStoreMigrate(vsStore *store, guint *ret_applied, GError **error)
{
    g_autoptr(GPtrArray) known = NULL;
    g_autoptr(GPtrArray) status = NULL;
    g_autoptr(GPtrArray) pending = NULL;
    guint i;

    if (!vsStoreLoadMigrationStatus(store, &known, &status, error))
        return FALSE;
    /* A newer or edited schema needs a human: touch nothing. */
    if (!vsMigrationCheckCompatible(status, error))
        return FALSE;

    pending = vsMigrationPending(known, status);
    for (i = 0; i < pending->len; i++) {
        if (!store->driver->applyMigration(store->priv,
                                           g_ptr_array_index(pending, i), error))
            return FALSE;
    }
    if (ret_applied)
        *ret_applied = pending->len;
    return TRUE;
}

gboolean
vsStoreCheckSchema(vsStore *store, GError **error)
{
    g_autoptr(GPtrArray) known = NULL;
    g_autoptr(GPtrArray) status = NULL;
    g_autoptr(GPtrArray) pending = NULL;
    int dbVersion = 0;
    guint i;

    if (!vsStoreLoadMigrationStatus(store, &known, &status, error))
        return FALSE;
    if (!vsMigrationCheckCompatible(status, error))
        return FALSE;

    pending = vsMigrationPending(known, status);
    if (pending->len == 0)
        return TRUE;

    for (i = 0; i < status->len; i++) {
        const vsMigrationStatus *s = g_ptr_array_index(status, i);

        if (s->state != VS_MIGRATION_PENDING)
            dbVersion = MAX(dbVersion, s->version);
    }
    g_set_error(error, VS_ERROR, VS_ERROR_SCHEMA,
                "database schema is at version %d but this virt-shadow needs %d: run 'virt-shadow db migrate'",
                dbVersion,
                ((vsMigration *)g_ptr_array_index(known, known->len - 1))->version);
    return FALSE;
}

gboolean
vsStoreHostHeartbeat(vsStore *store, const char *host, const char *uri,
                     const char *version, GError **error)
{
    return store->driver->hostHeartbeat(store->priv, host, uri, version, error);
}

gboolean
vsStorePublishHostRoom(vsStore *store, const char *host, double vcpus, double memory_kib,
                       GError **error)
{
    return store->driver->publishHostRoom(store->priv, host, vcpus, memory_kib, error);
}

gboolean
vsStoreListHostRooms(vsStore *store, const char *except_host, guint max_age_s,
                     GArray **ret_rooms, GError **error)
{
    return store->driver->listHostRooms(store->priv, except_host, max_age_s, ret_rooms,
                                        error);
}

void
vsStoreHostRoomClear(vsStoreHostRoom *room)
{
    if (!room)
        return;
    g_clear_pointer(&room->host, g_free);
}

gboolean
vsStoreRecordDomainEvent(vsStore *store, gint64 when_us, const char *host,
                         const char *uuid, const char *name,
                         const char *event, int detail, GError **error)
{
    return store->driver->recordDomainEvent(store->priv, when_us, host, uuid,
                                            name, event, detail, error);
}

GPtrArray *
vsStoreListDomainEvents(vsStore *store, const char *domain, gint64 since_us,
                        guint limit, GError **error)
{
    return store->driver->listDomainEvents(store->priv, domain, since_us, limit, error);
}

gboolean
vsStoreWriteSamples(vsStore *store, const char *host, const vsSampleBatch *batch,
                    GError **error)
{
    return store->driver->writeSamples(store->priv, host, batch, error);
}

gboolean
vsStoreMaintainSamples(vsStore *store, gint64 now_us, guint days_ahead,
                       guint64 raw_retention_ms, guint64 rollup_retention_ms,
                       GError **error)
{
    return store->driver->maintainSamples(store->priv, now_us, days_ahead, raw_retention_ms,
                                          rollup_retention_ms, error);
}

GArray *
vsStoreQuerySamples(vsStore *store, const char *domain, gint64 since_us, gint64 until_us,
                    GError **error)
{
    return store->driver->querySamples(store->priv, domain, since_us, until_us, error);
}

gboolean
vsStoreSetDomainLabels(vsStore *store, const char *uuid, const char *name,
                       const char *labels_json, GError **error)
{
    return store->driver->setDomainLabels(store->priv, uuid, name, labels_json, error);
}

GHashTable *
vsStoreGetDomainLabels(vsStore *store, GError **error)
{
    return store->driver->getDomainLabels(store->priv, error);
}

gboolean
vsStoreWriteForecasts(vsStore *store, const char *host, GArray *records, GError **error)
{
    return store->driver->writeForecasts(store->priv, host, records, error);
}

gboolean
vsStoreSetForecastErrors(vsStore *store, GArray *errors, GError **error)
{
    return store->driver->setForecastErrors(store->priv, errors, error);
}

gboolean
vsStoreRecordAnomalies(vsStore *store, const char *host, GArray *anomalies, GError **error)
{
    return store->driver->recordAnomalies(store->priv, host, anomalies, error);
}

gboolean
vsStoreFindForecastDomain(vsStore *store, const char *domain, char **ret_uuid,
                          char **ret_name, GError **error)
{
    return store->driver->findForecastDomain(store->priv, domain, ret_uuid, ret_name, error);
}

GArray *
vsStoreQueryForecasts(vsStore *store, const char *domain, gint64 since_us, GError **error)
{
    return store->driver->queryForecasts(store->priv, domain, since_us, error);
}

GArray *
vsStoreQueryForecastErrors(vsStore *store, const char *domain, GError **error)
{
    return store->driver->queryForecastErrors(store->priv, domain, error);
}

GArray *
vsStoreQueryAnomalies(vsStore *store, const char *domain, gint64 since_us, guint limit,
                      GError **error)
{
    return store->driver->queryAnomalies(store->priv, domain, since_us, limit, error);
}

GArray *
vsStoreQueryHistory(vsStore *store, const char *uuid, gint64 since_us, GError **error)
{
    return store->driver->queryHistory(store->priv, uuid, since_us, error);
}

gboolean
vsStoreRecordDecisions(vsStore *store, const char *host, GArray *decisions, GError **error)
{
    return store->driver->recordDecisions(store->priv, host, decisions, error);
}

gboolean
vsStoreQueryDecisions(vsStore *store, const char *uuid, gint64 since_us, guint limit,
                      GArray **ret_decisions, GError **error)
{
    return store->driver->queryDecisions(store->priv, uuid, since_us, limit, ret_decisions,
                                         error);
}

gboolean
vsStoreAddHint(vsStore *store, vsHint *hint, GError **error)
{
    return store->driver->addHint(store->priv, hint, error);
}

gboolean
vsStoreListHints(vsStore *store, const char *uuid, gint64 ending_after_us,
                 gboolean include_cancelled, GArray **ret_hints, GError **error)
{
    return store->driver->listHints(store->priv, uuid, ending_after_us, include_cancelled,
                                    ret_hints, error);
}

gboolean
vsStoreCancelHint(vsStore *store, gint64 id, GError **error)
{
    return store->driver->cancelHint(store->priv, id, error);
}

gboolean
vsStoreFindAllocDomain(vsStore *store, const char *domain, char **ret_uuid, char **ret_name,
                       GError **error)
{
    return store->driver->findAllocDomain(store->priv, domain, ret_uuid, ret_name, error);
}

gboolean
vsStoreNotifyPolicy(vsStore *store, const char *uuid, GError **error)
{
    return store->driver->notifyPolicy(store->priv, uuid, error);
}

gboolean
vsStoreListen(vsStore *store, const char *channel, GError **error)
{
    return store->driver->listen(store->priv, channel, error);
}

int
vsStoreGetSocket(vsStore *store)
{
    return store->driver->getSocket(store->priv);
}

gboolean
vsStoreNextNotification(vsStore *store, char **ret_channel, char **ret_payload,
                        GError **error)
{
    return store->driver->nextNotification(store->priv, ret_channel, ret_payload, error);
}

gboolean
vsStoreTryLockDomain(vsStore *store, const char *uuid, gboolean *ret_locked, GError **error)
{
    return store->driver->tryLockDomain(store->priv, uuid, ret_locked, error);
}

gboolean
vsStoreUnlockDomain(vsStore *store, const char *uuid, GError **error)
{
    return store->driver->unlockDomain(store->priv, uuid, error);
}

static const char *const vsStoreResourceNames[] = {
    [VS_RESOURCE_CPU] = "cpu",
    [VS_RESOURCE_MEMORY] = "memory",
};

const char *
vsStoreResourceToString(vsResourceKind resource)
{
    if ((int)resource < 0 || (gsize)resource >= G_N_ELEMENTS(vsStoreResourceNames))
        return NULL;
    return vsStoreResourceNames[resource];
}

gboolean
vsStoreResourceFromString(const char *text, vsResourceKind *ret_resource)
{
    for (gsize i = 0; text && i < G_N_ELEMENTS(vsStoreResourceNames); i++) {
        if (g_str_equal(text, vsStoreResourceNames[i])) {
            *ret_resource = (vsResourceKind)i;
            return TRUE;
        }
    }
    return FALSE;
}

void
vsForecastRecordInit(vsForecastRecord *r)
{
    memset(r, 0, sizeof(*r));
    r->point = r->lower90 = r->upper90 = r->lower99 = r->upper99 = r->actual = NAN;
    r->allocation = NAN;
}

void
vsForecastRecordClear(vsForecastRecord *r)
{
    if (!r)
        return;
    g_clear_pointer(&r->name, g_free);
    g_clear_pointer(&r->model, g_free);
}

void
vsForecastErrorInit(vsForecastError *e)
{
    memset(e, 0, sizeof(*e));
    e->mae = e->mase = e->coverage90 = NAN;
}

void
vsForecastErrorClear(vsForecastError *e)
{
    if (!e)
        return;
    g_clear_pointer(&e->name, g_free);
    g_clear_pointer(&e->model, g_free);
}

void
vsAnomalyInit(vsAnomaly *a)
{
    memset(a, 0, sizeof(*a));
    a->value = a->lower99 = a->upper99 = NAN;
}

void
vsAnomalyClear(vsAnomaly *a)
{
    if (!a)
        return;
    g_clear_pointer(&a->name, g_free);
    g_clear_pointer(&a->host, g_free);
    g_clear_pointer(&a->model, g_free);
}

void
vsDomainEventRecordFree(vsDomainEventRecord *rec)
{
    if (!rec)
        return;
    g_free(rec->host);
    g_free(rec->uuid);
    g_free(rec->name);
    g_free(rec->event);
    g_free(rec);
}

static gboolean
vsStoreEmbeddedUnsupported(GError **error)
{
    if (!vsStoreCheckDriver(error))
        return FALSE;
    g_set_error(error, VS_ERROR, VS_ERROR_UNSUPPORTED,
                "store driver '%s' has no embedded database",
                vsStoreDriverRegistered->name);
    return FALSE;
}

vsStoreEmbeddedState
vsStoreEmbeddedGetState(const vsStoreTarget *target)
{
    if (!vsStoreDriverRegistered || !vsStoreDriverRegistered->embeddedState)
        return VS_STORE_EMBEDDED_ABSENT;
    return vsStoreDriverRegistered->embeddedState(target);
}

gboolean
vsStoreEmbeddedStart(const vsStoreTarget *target, GError **error)
{
    if (!vsStoreDriverRegistered || !vsStoreDriverRegistered->embeddedStart)
        return vsStoreEmbeddedUnsupported(error);
    return vsStoreDriverRegistered->embeddedStart(target, error);
}

gboolean
vsStoreEmbeddedStop(const vsStoreTarget *target, GError **error)
{
    if (!vsStoreDriverRegistered || !vsStoreDriverRegistered->embeddedStop)
        return vsStoreEmbeddedUnsupported(error);
    return vsStoreDriverRegistered->embeddedStop(target, error);
}

/* --- shadow runs ---------------------------------------------------------------- */

static const char *const vsShadowStateNames[] = {
    "running", "succeeded", "failed", "timeout", "killed",
};
G_STATIC_ASSERT(G_N_ELEMENTS(vsShadowStateNames) == VS_SHADOW_LAST);

const char *
vsShadowStateToString(vsShadowState state)
{
    return (guint)state < VS_SHADOW_LAST ? vsShadowStateNames[state] : NULL;
}

gboolean
vsShadowStateFromString(const char *text, vsShadowState *ret_state)
{
    for (guint i = 0; text && i < VS_SHADOW_LAST; i++) {
        if (g_str_equal(text, vsShadowStateNames[i])) {
            *ret_state = (vsShadowState)i;
            return TRUE;
        }
    }
    return FALSE;
}

void
vsShadowRunRecordFree(vsShadowRunRecord *run)
{
    if (!run)
        return;
    g_free(run->id);
    g_free(run->app);
    g_free(run->version);
    g_free(run->base);
    g_free(run->script_sha256);
    g_free(run->script);
    g_free(run->limits);
    g_free(run->host);
    g_free(run->error);
    g_free(run->optimized_from);
    g_free(run);
}

void
vsShadowStepRecordClear(vsShadowStepRecord *step)
{
    g_clear_pointer(&step->name, g_free);
    g_clear_pointer(&step->stdout_text, g_free);
    g_clear_pointer(&step->stderr_text, g_free);
}

void
vsShadowProfileFree(vsShadowProfile *profile)
{
    if (!profile)
        return;
    g_free(profile->app);
    g_free(profile->version);
    g_clear_pointer(&profile->run_ids, g_ptr_array_unref);
    g_clear_pointer(&profile->runs, g_ptr_array_unref);
    g_free(profile);
}

void
vsShadowStepEventsFree(vsShadowStepEvents *step)
{
    if (!step)
        return;
    vsShadowStepRecordClear(&step->step);
    g_clear_pointer(&step->events, g_ptr_array_unref);
    g_free(step);
}

void
vsShadowOptimizationFree(vsShadowOptimization *opt)
{
    if (!opt)
        return;
    g_free(opt->original_run);
    g_free(opt->optimized_run);
    g_free(opt->script);
    g_strfreev(opt->dropped);
    g_free(opt->differences);
    g_free(opt);
}

gboolean
vsShadowOptimizationVerified(const vsShadowOptimization *opt)
{
    return opt->optimized_state == VS_SHADOW_SUCCEEDED && opt->same_files &&
           opt->same_services;
}

void
vsShadowVersionFree(vsShadowVersion *version)
{
    if (!version)
        return;
    g_free(version->version);
    g_free(version);
}

/* The run-id rules live in the metadata schema: one definition. */
static gboolean
vsStoreCheckRunId(const char *id, GError **error)
{
    g_autofree char *mark = vsMetadataShadowRunXML(id, error);

    return mark != NULL;
}

/* The SHA-256 names the script: a run whose text and sum disagree could
 * not be told from another's. */
static gboolean
vsStoreCheckScriptSum(const vsShadowRunRecord *run, GError **error)
{
    g_autofree char *sum = NULL;

    if (!run->script || !run->script_sha256 || strlen(run->script_sha256) != 64)
        return TRUE;        /* the driver names what is missing or malformed */
    sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, run->script, -1);
    if (!g_str_equal(sum, run->script_sha256)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "script SHA-256 '%s' of shadow run '%s' is not its script's",
                    run->script_sha256, run->id);
        return FALSE;
    }
    return TRUE;
}

gboolean
vsStoreStartShadowRun(vsStore *store, const vsShadowRunRecord *run, GError **error)
{
    if (!vsStoreCheckRunId(run->id, error) ||
        (run->optimized_from && !vsStoreCheckRunId(run->optimized_from, error)) ||
        !vsStoreCheckScriptSum(run, error))
        return FALSE;
    return store->driver->startShadowRun(store->priv, run, error);
}

gboolean
vsStoreFinishShadowRun(vsStore *store, const char *id, vsShadowState state, gint64 ended_us,
                       gboolean has_exit_code, int exit_code, const char *message,
                       GError **error)
{
    if (!vsStoreCheckRunId(id, error))
        return FALSE;
    if (state == VS_SHADOW_RUNNING || !vsShadowStateToString(state)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid end state '%d' for shadow run '%s'", (int)state, id);
        return FALSE;
    }
    return store->driver->finishShadowRun(store->priv, id, state, ended_us, has_exit_code,
                                          exit_code, message, error);
}

gboolean
vsStoreRecordShadowSteps(vsStore *store, const char *id, GArray *steps, GError **error)
{
    if (!vsStoreCheckRunId(id, error))
        return FALSE;
    return store->driver->recordShadowSteps(store->priv, id, steps, error);
}

gboolean
vsStoreRecordShadowEvents(vsStore *store, const char *id, guint index, gint64 at_us,
                          GPtrArray *events, GError **error)
{
    if (!vsStoreCheckRunId(id, error))
        return FALSE;
    return store->driver->recordShadowEvents(store->priv, id, index, at_us, events, error);
}

gboolean
vsStoreListRunningShadowRuns(vsStore *store, const char *host, GPtrArray **ret_runs,
                             GError **error)
{
    return store->driver->listRunningShadowRuns(store->priv, host, ret_runs, error);
}

gboolean
vsStoreReadShadowProfile(vsStore *store, const char *app, const char *version, guint max_runs,
                         vsShadowProfile **ret_profile, GError **error)
{
    if (!max_runs) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "a profile of app '%s' needs at least one run", app);
        return FALSE;
    }
    return store->driver->readShadowProfile(store->priv, app, version, max_runs, ret_profile,
                                            error);
}

gboolean
vsStoreListShadowRuns(vsStore *store, const char *app, const char *version,
                      GPtrArray **ret_runs, GError **error)
{
    return store->driver->listShadowRuns(store->priv, app, version, ret_runs, error);
}

gboolean
vsStoreReadShadowRunSteps(vsStore *store, const char *id, GPtrArray **ret_steps,
                          GError **error)
{
    if (!vsStoreCheckRunId(id, error))
        return FALSE;
    return store->driver->readShadowRunSteps(store->priv, id, ret_steps, error);
}

gboolean
vsStoreListAppVersions(vsStore *store, const char *app, GPtrArray **ret_versions,
                       GError **error)
{
    return store->driver->listAppVersions(store->priv, app, ret_versions, error);
}

gboolean
vsStoreRecordShadowOptimization(vsStore *store, const vsShadowOptimization *opt,
                                GError **error)
{
    if (!vsStoreCheckRunId(opt->original_run, error) ||
        !vsStoreCheckRunId(opt->optimized_run, error))
        return FALSE;
    return store->driver->recordShadowOptimization(store->priv, opt, error);
}

gboolean
vsStoreListShadowOptimizations(vsStore *store, const char *id, GPtrArray **ret_opts,
                               GError **error)
{
    if (!vsStoreCheckRunId(id, error))
        return FALSE;
    return store->driver->listShadowOptimizations(store->priv, id, ret_opts, error);
}

gboolean
vsStoreReadShadowScript(vsStore *store, const char *app, const char *version,
                        char **ret_text, gboolean *ret_is_optimized, char **ret_run_id,
                        GError **error)
{
    return store->driver->readShadowScript(store->priv, app, version, ret_text,
                                           ret_is_optimized, ret_run_id, error);
}

/* --- shadow schedules and jobs ---------------------------------------------------- */

void
vsShadowScheduleRecordFree(vsShadowScheduleRecord *sched)
{
    if (!sched)
        return;
    g_free(sched->app);
    g_free(sched->version);
    g_free(sched->base);
    g_free(sched->script);
    g_free(sched->limits);
    g_free(sched->stage_dir);
    g_free(sched->network);
    g_free(sched->every);
    g_free(sched->last_state);
    g_free(sched->last_run_id);
    g_free(sched->last_error);
    g_free(sched);
}

void
vsShadowJobRecordFree(vsShadowJobRecord *job)
{
    if (!job)
        return;
    g_free(job->app);
    g_free(job->version);
    g_free(job->base);
    g_free(job->script);
    g_free(job->limits);
    g_free(job->stage_dir);
    g_free(job->network);
    g_free(job);
}

gboolean
vsStoreAddShadowSchedule(vsStore *store, vsShadowScheduleRecord *sched, GError **error)
{
    g_autoptr(vsSchedule) parsed = vsScheduleParse(sched->every, error);

    if (!parsed)
        return FALSE;
    return store->driver->addShadowSchedule(store->priv, sched, error);
}

gboolean
vsStoreListShadowSchedules(vsStore *store, gint64 due_by_us, GPtrArray **ret_schedules,
                           GError **error)
{
    return store->driver->listShadowSchedules(store->priv, due_by_us, ret_schedules, error);
}

gboolean
vsStoreRemoveShadowSchedule(vsStore *store, gint64 id, GError **error)
{
    return store->driver->removeShadowSchedule(store->priv, id, error);
}

gboolean
vsStoreEnqueueShadowJob(vsStore *store, gint64 schedule_id, gint64 due_us, gint64 next_us,
                        gboolean *ret_enqueued, GError **error)
{
    return store->driver->enqueueShadowJob(store->priv, schedule_id, due_us, next_us,
                                           ret_enqueued, error);
}

/* @value must not be 0; @what says what it is when it is. */
static gboolean
vsStoreCheckNonZero(guint value, const char *what, GError **error)
{
    if (value > 0)
        return TRUE;
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "%s", what);
    return FALSE;
}

static gboolean
vsStoreCheckLease(guint lease_s, GError **error)
{
    return vsStoreCheckNonZero(lease_s, "a shadow job lease must last at least 1 s", error);
}

static gboolean
vsStoreCheckAttempts(guint max_attempts, GError **error)
{
    return vsStoreCheckNonZero(max_attempts, "a shadow job needs at least 1 attempt", error);
}

gboolean
vsStoreLeaseShadowJob(vsStore *store, const char *host, guint lease_s, guint max_attempts,
                      vsShadowJobRecord **ret_job, GError **error)
{
    if (!vsStoreCheckLease(lease_s, error) || !vsStoreCheckAttempts(max_attempts, error))
        return FALSE;
    return store->driver->leaseShadowJob(store->priv, host, lease_s, max_attempts, ret_job,
                                         error);
}

gboolean
vsStoreFailExhaustedShadowJobs(vsStore *store, guint max_attempts, GArray **ret_ids,
                               GError **error)
{
    if (!vsStoreCheckAttempts(max_attempts, error))
        return FALSE;
    return store->driver->failExhaustedShadowJobs(store->priv, max_attempts, ret_ids, error);
}

gboolean
vsStoreRenewShadowJob(vsStore *store, gint64 id, const char *host, guint lease_s,
                      GError **error)
{
    if (!vsStoreCheckLease(lease_s, error))
        return FALSE;
    return store->driver->renewShadowJob(store->priv, id, host, lease_s, error);
}

gboolean
vsStoreFinishShadowJob(vsStore *store, gint64 id, const char *host, gboolean succeeded,
                       const char *run_id, const char *reason, GError **error)
{
    if (run_id && !vsStoreCheckRunId(run_id, error))
        return FALSE;
    return store->driver->finishShadowJob(store->priv, id, host, succeeded, run_id, reason,
                                          error);
}
