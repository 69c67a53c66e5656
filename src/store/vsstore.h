/*
 * vsstore.h: the store driver interface (the system of record)
 *
 * drivers/postgres implements this table.  Callers use the vsStore...()
 * wrappers, never the table.  No libpq type appears here; errors arrive as
 * GError in VS_ERROR and never contain a password.
 */
#pragma once

#include <glib.h>

#include "forecast/vsmodel.h"
#include "telemetry/vssample.h"

G_BEGIN_DECLS

/* The allocator's records (allocator/vsdecide.h, allocator/vshint.h),
 * declared here only: the decision header pulls in the policy's. */
typedef struct _vsDecision vsDecision;
typedef struct _vsHint vsHint;

/* Where the database lives. */
typedef struct _vsStoreTarget vsStoreTarget;
struct _vsStoreTarget {
    char *url;          /* postgresql://... or conninfo; NULL: embedded */
    char *state_dir;    /* embedded cluster lives in STATE_DIR/pg */
    char *pg_user;      /* embedded: system user that runs the server when we are root */
};

void vsStoreTargetClear(vsStoreTarget *target);
/* Replace @dst (cleared first) by a copy of @src. */
void vsStoreTargetCopy(vsStoreTarget *dst, const vsStoreTarget *src);

typedef enum {
    VS_STORE_EMBEDDED_ABSENT,     /* no cluster initialised yet */
    VS_STORE_EMBEDDED_STOPPED,
    VS_STORE_EMBEDDED_RUNNING,
} vsStoreEmbeddedState;

const char *vsStoreEmbeddedStateToString(vsStoreEmbeddedState state);

/* One recorded domain lifecycle event. */
typedef struct _vsDomainEventRecord vsDomainEventRecord;
struct _vsDomainEventRecord {
    gint64 when_us;     /* Unix microseconds */
    char *host;
    char *uuid;         /* may be NULL */
    char *name;
    char *event;
    int detail;
};

void vsDomainEventRecordFree(vsDomainEventRecord *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsDomainEventRecord, vsDomainEventRecordFree)

/* "cpu" or "memory", as the store names a resource; NULL for no resource. */
const char *vsStoreResourceToString(vsResourceKind resource);
gboolean vsStoreResourceFromString(const char *text, vsResourceKind *ret_resource);

/* What virt-shadowd expects one domain to use of one resource in one
 * 5-minute slot: CPU in vCPU-equivalents, memory in MiB. */
typedef struct _vsForecastRecord vsForecastRecord;
struct _vsForecastRecord {
    char uuid[VS_UUID_STRLEN];
    char *name;
    vsResourceKind resource;
    gint64 at_us;               /* slot start, Unix microseconds */
    gint64 made_at_us;          /* when the forecast was made */
    char *model;
    double point;               /* never NaN */
    double lower90, upper90;    /* NaN: no calibrated interval yet */
    double lower99, upper99;
    double actual;              /* NaN: not observed yet */
    double allocation;          /* what the allocator sizes for (the bound the
                                 * forecaster's backtest chose); NaN: none */
};

/* Init sets every double to NaN (unknown); Clear frees the strings.  The
 * structs usually live in a GArray with Clear as its clear func. */
void vsForecastRecordInit(vsForecastRecord *r);
void vsForecastRecordClear(vsForecastRecord *r);

/* The rolling score of one domain's forecasts of one resource. */
typedef struct _vsForecastError vsForecastError;
struct _vsForecastError {
    char uuid[VS_UUID_STRLEN];
    char *name;
    vsResourceKind resource;
    char *model;
    double mae;                 /* mean absolute error, in the resource's unit */
    double mase;                /* MAE / the seasonal naive forecast's MAE */
    double coverage90;          /* fraction (0..1) of actuals inside the 90% interval */
    guint n;                    /* forecasts scored */
    gint64 updated_us;          /* 0 on write: the server's now */
};

void vsForecastErrorInit(vsForecastError *e);
void vsForecastErrorClear(vsForecastError *e);

/* An observation outside the 99% prediction interval. */
typedef struct _vsAnomaly vsAnomaly;
struct _vsAnomaly {
    char uuid[VS_UUID_STRLEN];
    char *name;
    char *host;                 /* read back; a write takes the host argument */
    vsResourceKind resource;
    gint64 at_us;
    double value;
    double lower99, upper99;
    char *model;
    gint64 recorded_us;         /* set by the store */
};

void vsAnomalyInit(vsAnomaly *a);
void vsAnomalyClear(vsAnomaly *a);

/* One closed 5-minute bucket of a domain's history, for warming up
 * forecasters; NaN: not measured. */
typedef struct _vsHistoryPoint vsHistoryPoint;
struct _vsHistoryPoint {
    gint64 at_us;               /* bucket start */
    double cpu;                 /* average vCPU-equivalents */
    double mem_mib;             /* average memory used, MiB */
};

/* Another controller's free room, as it last published it: what its
 * host's ledger could still grant (capacity x overcommit minus what is
 * held and reserved). */
typedef struct _vsStoreHostRoom vsStoreHostRoom;
struct _vsStoreHostRoom {
    char *host;                 /* its hosts.name */
    double vcpus;
    double memory_kib;
};

/* Frees the host name; the structs live in a GArray with it as clear func. */
void vsStoreHostRoomClear(vsStoreHostRoom *room);

/* --- shadow runs --------------------------------------------------------- */

/* How a shadow run ended; running until it does.  A run left 'running' by a
 * killed process is closed as killed by gc. */
typedef enum {
    VS_SHADOW_RUNNING,
    VS_SHADOW_SUCCEEDED,
    VS_SHADOW_FAILED,
    VS_SHADOW_TIMEOUT,
    VS_SHADOW_KILLED,
    VS_SHADOW_LAST
} vsShadowState;

/* "running", "succeeded", ... as the store names them. */
const char *vsShadowStateToString(vsShadowState state);
gboolean vsShadowStateFromString(const char *text, vsShadowState *ret_state);

/* One shadow run.  Its id follows the run-id rules of conf/vsmetadata.h. */
typedef struct _vsShadowRunRecord vsShadowRunRecord;
struct _vsShadowRunRecord {
    char *id;
    char *app;
    char *version;
    char *base;                 /* the base domain or volume */
    char *script_sha256;        /* lower-case hex */
    char *script;               /* the script's text, kept so that deploy and
                                 * optimize can run it again */
    char *limits;               /* vsLimitsFormat() */
    char *host;
    vsShadowState state;
    gint64 started_us;
    gint64 ended_us;            /* 0 while running */
    gboolean has_exit_code;
    int exit_code;              /* of the step that ended the run */
    char *error;                /* NULL when none */
    char *optimized_from;       /* the run whose optimized script this run
                                 * checks, or NULL; such runs are left out
                                 * of profiles */
};

void vsShadowRunRecordFree(vsShadowRunRecord *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsShadowRunRecord, vsShadowRunRecordFree)

/* One step of a run, as it started or ended.  Kept in a GArray with
 * vsShadowStepRecordClear as its clear func. */
typedef struct _vsShadowStepRecord vsShadowStepRecord;
struct _vsShadowStepRecord {
    guint index;                /* 1-based, in script order */
    char *name;
    gint64 started_us;
    gint64 ended_us;            /* 0 while it runs */
    gboolean has_exit_code;
    int exit_code;
    char *stdout_text;          /* already truncated; NULL: none captured */
    gboolean stdout_truncated;
    char *stderr_text;
    gboolean stderr_truncated;
    gboolean has_usage;         /* the fields below are known */
    double cpu_avg;             /* cores */
    double cpu_peak;
    guint64 memory_peak_kib;
    guint64 disk_read_bytes;
    guint64 disk_write_bytes;
    guint samples;
    gboolean estimated;
};

void vsShadowStepRecordClear(vsShadowStepRecord *step);

/* The steps of the latest succeeded runs of one app version: what
 * "profile show" aggregates with vsProfileAggregateRuns(). */
typedef struct _vsShadowProfile vsShadowProfile;
struct _vsShadowProfile {
    char *app;
    char *version;
    GPtrArray *run_ids;         /* char *, newest first */
    GPtrArray *runs;            /* per run, in the same order: a GPtrArray of
                                 * vsProfileUsage in step order; steps with no
                                 * usage recorded are left out */
};

void vsShadowProfileFree(vsShadowProfile *profile);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsShadowProfile, vsShadowProfileFree)

/* One step of a recorded run with what it changed: its events in
 * execution order (vsEvent; a package event's depends are its recorded
 * dependencies, in name order; NULL when it has none).  What "profile
 * show" lists and "profile optimize" feeds vsProfileOptimize(). */
typedef struct _vsShadowStepEvents vsShadowStepEvents;
struct _vsShadowStepEvents {
    vsShadowStepRecord step;
    GPtrArray *events;          /* of vsEvent; never NULL */
};

void vsShadowStepEventsFree(vsShadowStepEvents *step);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsShadowStepEvents, vsShadowStepEventsFree)

/* The result of "profile optimize --verify": an optimized script, the
 * shadow run that ran it and how it compared with the original run. */
typedef struct _vsShadowOptimization vsShadowOptimization;
struct _vsShadowOptimization {
    char *original_run;
    char *optimized_run;        /* its optimized_from is original_run */
    char *script;               /* the optimized script's text */
    GStrv dropped;              /* names of the steps left out; NULL: none */
    guint groups;
    gint64 original_us;         /* total of the original run's step durations */
    gint64 optimized_us;        /* ditto, of the optimized run */
    gboolean same_files;        /* files and services end in the same state */
    gboolean same_services;
    char *differences;          /* one per line; NULL or "": none */
    /* Read back only: */
    gint64 created_us;
    vsShadowState optimized_state;  /* how the optimized run ended */
};

void vsShadowOptimizationFree(vsShadowOptimization *opt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsShadowOptimization, vsShadowOptimizationFree)

/* An optimization deploy may use: its run succeeded, with the same end
 * state of files and services as the original. */
gboolean vsShadowOptimizationVerified(const vsShadowOptimization *opt);

/* One version of an app, with how many shadow runs it has (optimization
 * checks left out). */
typedef struct _vsShadowVersion vsShadowVersion;
struct _vsShadowVersion {
    char *version;
    guint runs;
    guint succeeded;
    gint64 latest_us;           /* start of its latest run; 0: none */
};

void vsShadowVersionFree(vsShadowVersion *version);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsShadowVersion, vsShadowVersionFree)

/* --- shadow schedules and their job queue ---------------------------------- */

/* A recurring shadow run ("shadow schedule add"). */
typedef struct _vsShadowScheduleRecord vsShadowScheduleRecord;
struct _vsShadowScheduleRecord {
    gint64 id;                  /* set by the store */
    char *app;
    char *version;
    char *base;
    char *script;               /* the script's text */
    char *limits;               /* vsLimitsFormat(); NULL: the defaults */
    char *stage_dir;            /* an absolute directory, staged when a job
                                 * runs; NULL: none */
    char *network;              /* NULL: no NIC; else an isolated network */
    guint timeout_s;            /* the whole run; 0: the runner's default */
    char *every;                /* shadow/vsschedule.h */
    gint64 next_us;             /* the next due time */
    gboolean enabled;
    gint64 created_us;          /* set by the store */
    /* Read back only: its newest job, if any. */
    char *last_state;           /* "queued", "leased", "done", "failed"; NULL: none */
    gint64 last_due_us;
    char *last_run_id;          /* NULL: none (yet) */
    char *last_error;           /* why it failed; NULL: it did not, or no reason */
};

void vsShadowScheduleRecordFree(vsShadowScheduleRecord *sched);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsShadowScheduleRecord, vsShadowScheduleRecordFree)

/* A leased job, with what its schedule says to run. */
typedef struct _vsShadowJobRecord vsShadowJobRecord;
struct _vsShadowJobRecord {
    gint64 id;
    gint64 schedule_id;
    gint64 due_us;
    guint attempts;             /* this lease included */
    gint64 lease_until_us;
    char *app;
    char *version;
    char *base;
    char *script;
    char *limits;               /* NULL: the defaults */
    char *stage_dir;            /* the schedule's run options, as stored */
    char *network;
    guint timeout_s;
};

void vsShadowJobRecordFree(vsShadowJobRecord *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsShadowJobRecord, vsShadowJobRecordFree)

typedef struct _vsStoreDriver vsStoreDriver;
struct _vsStoreDriver {
    const char *name;

    /* Connect to @target and return private data, or NULL with @error set.
     * For an embedded target with @autostart, initialise the cluster on
     * first use and start it.  VS_ERROR_CONNECT names the host or socket,
     * never a password. */
    gpointer (*open)(const vsStoreTarget *target, gboolean autostart, GError **error);
    /* Close the connection; @priv may be NULL. */
    void (*close)(gpointer priv);
    /* Where we are connected, for humans: "socket '/x/run'" or "host 'h:5432'". */
    char *(*describe)(gpointer priv);
    /* Server version string, e.g. "15.8". */
    char *(*serverVersion)(gpointer priv, GError **error);

    /* Rows of the migration table (vsAppliedMigration); empty when the
     * table does not exist yet. */
    GPtrArray *(*appliedMigrations)(gpointer priv, GError **error);
    /* Apply @m in its own transaction and record it with its checksum.
     * Concurrent callers are serialised; a migration another caller already
     * applied is skipped (FALSE is only for errors). */
    gboolean (*applyMigration)(gpointer priv, const void *m /* vsMigration */,
                               GError **error);

    /* Upsert this controller's host row and refresh its heartbeat. */
    gboolean (*hostHeartbeat)(gpointer priv, const char *host, const char *uri,
                              const char *version, GError **error);
    /* Publish @host's free room (@vcpus, @memory_kib: finite, not
     * negative, else VS_ERROR_INVALID and nothing is sent) stamped with
     * the database's now, in @host's row of the hosts table; a host
     * without a row gets one, its heartbeat now.  The heartbeat of an
     * existing row is left alone. */
    gboolean (*publishHostRoom)(gpointer priv, const char *host, double vcpus,
                                double memory_kib, GError **error);
    /* The rooms of every host but @except_host (NULL: none left out)
     * published within the last @max_age_s seconds by the database's
     * clock, by host name: a GArray of vsStoreHostRoom (with clear func)
     * in @ret_rooms, empty when there is none.  Nothing is written on
     * failure. */
    gboolean (*listHostRooms)(gpointer priv, const char *except_host, guint max_age_s,
                              GArray **ret_rooms, GError **error);
    /* Append one domain lifecycle event. */
    gboolean (*recordDomainEvent)(gpointer priv, gint64 when_us, const char *host,
                                  const char *uuid, const char *name,
                                  const char *event, int detail, GError **error);

    /* Events at or after @since_us, oldest first, at most @limit of the
     * newest; only those of @domain (a name or UUID) unless it is NULL.
     * A GPtrArray of vsDomainEventRecord. */
    GPtrArray *(*listDomainEvents)(gpointer priv, const char *domain, gint64 since_us,
                                   guint limit, GError **error);

    /* Store @batch in one transaction (COPY) together with its id: raw
     * samples (rollup_s 0) into the samples table, 5-minute averages into
     * the 5-minute rollups.  A batch whose id is already stored is skipped
     * with success, so replays never duplicate.  @host names this
     * controller.  VS_ERROR_CONNECT when the database is unreachable. */
    gboolean (*writeSamples)(gpointer priv, const char *host, const vsSampleBatch *batch,
                             GError **error);
    /* Housekeeping, idempotent: create the daily partitions of the samples
     * table from yesterday to @days_ahead days ahead, drop raw partitions
     * older than @raw_retention_ms, compute the 5-minute and 1-hour rollups
     * of closed buckets, and delete rollups older than @rollup_retention_ms.
     * Forecasts follow the raw retention; forecast errors, anomalies,
     * decisions and hints over the rollup retention (0 keeps, for both). */
    gboolean (*maintainSamples)(gpointer priv, gint64 now_us, guint days_ahead,
                                guint64 raw_retention_ms, guint64 rollup_retention_ms,
                                GError **error);
    /* Raw samples of @domain (name or UUID) in [@since_us, @until_us), oldest
     * first: a GArray of vsSample (with clear func). */
    GArray *(*querySamples)(gpointer priv, const char *domain, gint64 since_us,
                            gint64 until_us, GError **error);
    /* Set (replace) the workload labels of a domain: @labels_json is a JSON
     * object of string values, or NULL to remove them. */
    gboolean (*setDomainLabels)(gpointer priv, const char *uuid, const char *name,
                                const char *labels_json, GError **error);
    /* Every domain's labels: UUID -> JSON object text. */
    GHashTable *(*getDomainLabels)(gpointer priv, GError **error);

    /* Upsert @records (vsForecastRecord) in one statement, keyed by domain
     * UUID, resource and slot; @host names this controller.  A row whose
     * actual is known is history: later records neither change nor clear
     * it.  Within one batch a record with an actual wins, then the last.
     * An invalid UUID or a NaN point fails the batch (VS_ERROR_INVALID). */
    gboolean (*writeForecasts)(gpointer priv, const char *host, GArray *records,
                               GError **error);
    /* Upsert @errors (vsForecastError), keyed by domain UUID and resource. */
    gboolean (*setForecastErrors)(gpointer priv, GArray *errors, GError **error);
    /* Append @anomalies (vsAnomaly) seen by @host; one already recorded
     * (same domain, resource and time) is skipped, so retries are safe. */
    gboolean (*recordAnomalies)(gpointer priv, const char *host, GArray *anomalies,
                                GError **error);
    /* The UUID and latest name of @domain (a name or UUID) among domains
     * with forecasts, errors or anomalies; FALSE with VS_ERROR_NOT_FOUND
     * when there is none.  Nothing is written on failure. */
    gboolean (*findForecastDomain)(gpointer priv, const char *domain, char **ret_uuid,
                                   char **ret_name, GError **error);
    /* Forecasts of @domain (name or UUID) for slots at or after @since_us,
     * future ones included, by slot then resource (cpu first): a GArray of
     * vsForecastRecord (with clear func). */
    GArray *(*queryForecasts)(gpointer priv, const char *domain, gint64 since_us,
                              GError **error);
    /* Rolling errors of @domain (name or UUID; NULL: every domain), by name
     * then resource: a GArray of vsForecastError (with clear func). */
    GArray *(*queryForecastErrors)(gpointer priv, const char *domain, GError **error);
    /* Anomalies at or after @since_us, newest first, at most @limit (0: no
     * limit); only @domain's (name or UUID) unless it is NULL.  A GArray of vsAnomaly
     * (with clear func). */
    GArray *(*queryAnomalies)(gpointer priv, const char *domain, gint64 since_us,
                              guint limit, GError **error);
    /* The 5-minute rollups of domain @uuid from @since_us on, oldest first
     * (buckets maintenance has not rolled up yet, at most the last hour or
     * so, are not there).  A GArray of vsHistoryPoint. */
    GArray *(*queryHistory)(gpointer priv, const char *uuid, gint64 since_us, GError **error);

    /* The allocator's audit trail and hints (vspgalloc.c).  Decisions and
     * hints name their domain by UUID. */

    /* Append @decisions (vsDecision) made by @host in one statement.  An
     * invalid UUID, resource, action or outcome fails the whole batch with
     * VS_ERROR_INVALID before anything is sent.  NaN doubles are stored as
     * unknown and read back as NaN. */
    gboolean (*recordDecisions)(gpointer priv, const char *host, GArray *decisions,
                                GError **error);
    /* Decisions made at or after @since_us, oldest first (time order, for
     * "explain"), at most the @limit newest (0: no limit); only those of
     * domain @uuid unless it is NULL.  @ret_decisions: a GArray of
     * vsDecision with its clear func. */
    gboolean (*queryDecisions)(gpointer priv, const char *uuid, gint64 since_us, guint limit,
                               GArray **ret_decisions, GError **error);
    /* Store @hint (its id and created time are ignored) and set its id and
     * created_us.  VS_ERROR_INVALID, nothing stored, when its window is
     * empty or it asks for neither vCPUs nor memory.  Every insert or
     * update of a hint NOTIFYs 'vs_hint' with the domain's UUID. */
    gboolean (*addHint)(gpointer priv, vsHint *hint, GError **error);
    /* Hints by start, then id; only those of domain @uuid unless it is
     * NULL; only those whose window ends after @ending_after_us (current
     * and future ones) unless it is 0; cancelled ones only with
     * @include_cancelled.  @ret_hints: a GArray of vsHint with its clear
     * func. */
    gboolean (*listHints)(gpointer priv, const char *uuid, gint64 ending_after_us,
                          gboolean include_cancelled, GArray **ret_hints, GError **error);
    /* Cancel hint @id (cancelling twice is no error); VS_ERROR_NOT_FOUND
     * naming the id when there is no such hint. */
    gboolean (*cancelHint)(gpointer priv, gint64 id, GError **error);
    /* The UUID and latest name of @domain (a name or UUID) among domains
     * with decisions or hints; VS_ERROR_NOT_FOUND when there is none.
     * Nothing is written on failure. */
    gboolean (*findAllocDomain)(gpointer priv, const char *domain, char **ret_uuid,
                                char **ret_name, GError **error);

    /* Shadow runs and their profiles (vspgshadow.c).  Run ids are valid
     * (the wrappers check them). */

    /* Record @run as started (state running; its ended_us, exit code and
     * error are ignored) with its script and optimized_from, its app and
     * version created when new.  VS_ERROR_INVALID, nothing stored, when
     * its id is taken, a field (script included) is missing, the SHA-256
     * is not 64 lower-case hex digits or not the script's;
     * VS_ERROR_NOT_FOUND when optimized_from names no stored run. */
    gboolean (*startShadowRun)(gpointer priv, const vsShadowRunRecord *run, GError **error);
    /* Close running run @id: @state (not running), @ended_us, the exit code
     * when @has_exit_code, @message (NULL: none).  VS_ERROR_NOT_FOUND
     * naming the run when no run @id is running. */
    gboolean (*finishShadowRun)(gpointer priv, const char *id, vsShadowState state,
                                gint64 ended_us, gboolean has_exit_code, int exit_code,
                                const char *message, GError **error);
    /* Upsert @steps (vsShadowStepRecord) of run @id in one statement, keyed
     * by step index: a step recorded when it started is completed when it
     * ends.  VS_ERROR_INVALID, nothing stored, when a step's index is 0 or
     * its end precedes its start; VS_ERROR_NOT_FOUND when there is no run
     * @id. */
    gboolean (*recordShadowSteps)(gpointer priv, const char *id, GArray *steps,
                                  GError **error);
    /* Replace the events of step @index of run @id by @events (vsEvent, in
     * execution order, seen at @at_us) and its dependencies by those of
     * @events' packages, in one statement.  The step must be recorded
     * first (VS_ERROR_NOT_FOUND). */
    gboolean (*recordShadowEvents)(gpointer priv, const char *id, guint index, gint64 at_us,
                                   GPtrArray *events, GError **error);
    /* The runs still 'running' on @host (NULL: on every host), oldest
     * first: a GPtrArray of vsShadowRunRecord in @ret_runs.  Nothing is
     * written on failure. */
    gboolean (*listRunningShadowRuns)(gpointer priv, const char *host, GPtrArray **ret_runs,
                                      GError **error);
    /* The steps of the @max_runs (at least 1) latest succeeded runs of
     * @app's @version (NULL: the version whose latest succeeded run is the
     * newest).  Runs checking an optimized script (optimized_from set)
     * are left out.  VS_ERROR_NOT_FOUND naming the app (and version) when
     * it has no succeeded run.  Nothing is written on failure. */
    gboolean (*readShadowProfile)(gpointer priv, const char *app, const char *version,
                                  guint max_runs, vsShadowProfile **ret_profile,
                                  GError **error);
    /* The runs of @app's @version (optimization checks too), newest first:
     * a GPtrArray of vsShadowRunRecord, with script and optimized_from, in
     * @ret_runs.  VS_ERROR_NOT_FOUND naming the app (and version) when it
     * is not stored.  Nothing is written on failure. */
    gboolean (*listShadowRuns)(gpointer priv, const char *app, const char *version,
                               GPtrArray **ret_runs, GError **error);
    /* The steps of run @id in index order, each with its events in id
     * order (the execution path) and its packages' dependencies: a
     * GPtrArray of vsShadowStepEvents in @ret_steps.  VS_ERROR_NOT_FOUND
     * naming the run when there is none.  Nothing is written on failure. */
    gboolean (*readShadowRunSteps)(gpointer priv, const char *id, GPtrArray **ret_steps,
                                   GError **error);
    /* The versions of @app, oldest first: a GPtrArray of vsShadowVersion in
     * @ret_versions.  VS_ERROR_NOT_FOUND naming the app when it is not
     * stored.  Nothing is written on failure. */
    gboolean (*listAppVersions)(gpointer priv, const char *app, GPtrArray **ret_versions,
                                GError **error);
    /* Store @opt (its created_us and optimized_state are ignored).
     * VS_ERROR_NOT_FOUND naming a run that is not stored; VS_ERROR_INVALID,
     * nothing stored, when the optimized run's optimized_from is not the
     * original run, it already has a result, the script is empty or a
     * duration is negative. */
    gboolean (*recordShadowOptimization)(gpointer priv, const vsShadowOptimization *opt,
                                         GError **error);
    /* The optimizations of run @id (the original), newest first: a
     * GPtrArray of vsShadowOptimization (dropped never NULL, differences
     * never NULL) in @ret_opts, empty when none.  Nothing is written on
     * failure. */
    gboolean (*listShadowOptimizations)(gpointer priv, const char *id, GPtrArray **ret_opts,
                                        GError **error);
    /* The script to install @app's @version (NULL: the version whose latest
     * succeeded run is the newest) with: the script of its latest succeeded
     * run that is no optimization check, or, when that run has a verified
     * optimization (vsShadowOptimizationVerified), the newest such
     * optimized script (*@ret_is_optimized TRUE).  @ret_run_id (may be
     * NULL): the original run.  VS_ERROR_NOT_FOUND naming the app (and
     * version) when it has no succeeded run.  Nothing is written on
     * failure. */
    gboolean (*readShadowScript)(gpointer priv, const char *app, const char *version,
                                 char **ret_text, gboolean *ret_is_optimized,
                                 char **ret_run_id, GError **error);

    /* Notifications between processes (LISTEN/NOTIFY).  A store that
     * listens is best owned by one thread, like every store. */

    /* NOTIFY 'vs_policy' with @uuid: the policy of that domain changed. */
    gboolean (*notifyPolicy)(gpointer priv, const char *uuid, GError **error);
    /* Subscribe to @channel (an SQL identifier: "vs_hint", "vs_policy").
     * The subscription survives a reconnect of this store, but what was
     * sent while it was away is lost. */
    gboolean (*listen)(gpointer priv, const char *channel, GError **error);
    /* The connection's socket, for a main loop to watch for G_IO_IN; -1
     * when not connected.  It may change when the connection is
     * re-established, after a call failed with VS_ERROR_CONNECT. */
    int (*getSocket)(gpointer priv);
    /* Read what has arrived without blocking and hand out the oldest
     * notification not handed out yet: TRUE with @ret_channel and
     * @ret_payload; FALSE when none is pending, or with @error set
     * (VS_ERROR_CONNECT when the connection is gone: the next call tries
     * to reconnect, and listens again). */
    gboolean (*nextNotification)(gpointer priv, char **ret_channel, char **ret_payload,
                                 GError **error);

    /* Per-domain resize locks: session-level PostgreSQL advisory locks,
     * so two controllers never resize one domain at once.  A lock lives
     * as long as this store's connection; after a VS_ERROR_CONNECT the
     * caller must assume it holds none.  Taking a lock this store already
     * holds succeeds again and needs one more unlock. */

    /* Try to take domain @uuid's lock without waiting: TRUE with
     * @ret_locked FALSE when another session holds it. */
    gboolean (*tryLockDomain)(gpointer priv, const char *uuid, gboolean *ret_locked,
                              GError **error);
    /* Release domain @uuid's lock; VS_ERROR_NOT_FOUND when this store
     * does not hold it. */
    gboolean (*unlockDomain)(gpointer priv, const char *uuid, GError **error);

    /* Embedded cluster control (optional: only for drivers that embed). */
    vsStoreEmbeddedState (*embeddedState)(const vsStoreTarget *target);
    gboolean (*embeddedStart)(const vsStoreTarget *target, GError **error);
    gboolean (*embeddedStop)(const vsStoreTarget *target, GError **error);

    /* Shadow schedules and their job queue (vspgschedule.c).  Lease times
     * are the server's clock, so controllers whose clocks disagree still
     * agree on when a lease ran out. */

    /* Store @sched (its id, created time and last job are ignored; its
     * every is valid: the wrapper checks it), its app and version created
     * when new, and set its id and created_us.  VS_ERROR_INVALID, nothing
     * stored, when a field is missing. */
    gboolean (*addShadowSchedule)(gpointer priv, vsShadowScheduleRecord *sched,
                                  GError **error);
    /* The schedules by id, each with its newest job; only the enabled ones
     * due at or before @due_by_us unless it is 0.  A GPtrArray of
     * vsShadowScheduleRecord in @ret_schedules; nothing written on failure. */
    gboolean (*listShadowSchedules)(gpointer priv, gint64 due_by_us, GPtrArray **ret_schedules,
                                    GError **error);
    /* Remove schedule @id and its jobs (the runs stay);
     * VS_ERROR_NOT_FOUND naming it when there is none. */
    gboolean (*removeShadowSchedule)(gpointer priv, gint64 id, GError **error);
    /* In one transaction: queue one job for schedule @schedule_id due at
     * @due_us unless there is one already, and move the schedule's next
     * due time to @next_us if it still is @due_us.  @ret_enqueued: whether
     * this call made the job, so of several controllers enqueueing the
     * same slot exactly one is told TRUE.  A schedule gone meanwhile is
     * no error (FALSE). */
    gboolean (*enqueueShadowJob)(gpointer priv, gint64 schedule_id, gint64 due_us,
                                 gint64 next_us, gboolean *ret_enqueued, GError **error);
    /* Lease the oldest job that is queued and due, or leased with its
     * lease run out and fewer than @max_attempts attempts, to @host for
     * @lease_s seconds (attempts + 1), with FOR UPDATE SKIP LOCKED: two
     * controllers never get the same job.  @ret_job: NULL when there is
     * none. */
    gboolean (*leaseShadowJob)(gpointer priv, const char *host, guint lease_s,
                               guint max_attempts, vsShadowJobRecord **ret_job,
                               GError **error);
    /* Close as failed, with a last_error saying so, the jobs whose lease
     * ran out after @max_attempts attempts (or more), skipping locked
     * ones.  @ret_ids: a GArray of their gint64 ids (maybe empty). */
    gboolean (*failExhaustedShadowJobs)(gpointer priv, guint max_attempts, GArray **ret_ids,
                                        GError **error);
    /* Extend job @id's lease to @lease_s seconds from now.
     * VS_ERROR_NOT_FOUND when @host no longer holds it (it ran out and
     * another controller took it, or it was removed). */
    gboolean (*renewShadowJob)(gpointer priv, gint64 id, const char *host, guint lease_s,
                               GError **error);
    /* Close job @id leased by @host as done (@succeeded) or failed, with
     * the run it made (@run_id; NULL: none started) and why it failed
     * (@reason; NULL: none given).  VS_ERROR_NOT_FOUND when @host no
     * longer holds it. */
    gboolean (*finishShadowJob)(gpointer priv, gint64 id, const char *host, gboolean succeeded,
                                const char *run_id, const char *reason, GError **error);
};

typedef struct _vsStore vsStore;

void vsStoreRegisterDriver(const vsStoreDriver *driver);

vsStore *vsStoreOpen(const vsStoreTarget *target, gboolean autostart, GError **error);
void vsStoreFree(vsStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsStore, vsStoreFree)

char *vsStoreDescribe(vsStore *store);
char *vsStoreServerVersion(vsStore *store, GError **error);

/* Migration status of the database (vsMigrationStatus), against the
 * built-in migrations. */
GPtrArray *vsStoreMigrationStatus(vsStore *store, GError **error);
/* Apply pending migrations; refuses a newer or edited schema.  Returns the
 * number applied in @ret_applied. */
gboolean vsStoreMigrate(vsStore *store, guint *ret_applied, GError **error);
/* FALSE with VS_ERROR_SCHEMA unless every built-in migration is applied. */
gboolean vsStoreCheckSchema(vsStore *store, GError **error);

gboolean vsStoreHostHeartbeat(vsStore *store, const char *host, const char *uri,
                              const char *version, GError **error);
/* Hosts' free room for migration suggestions: see the driver table. */
gboolean vsStorePublishHostRoom(vsStore *store, const char *host, double vcpus,
                                double memory_kib, GError **error);
gboolean vsStoreListHostRooms(vsStore *store, const char *except_host, guint max_age_s,
                              GArray **ret_rooms, GError **error);
gboolean vsStoreRecordDomainEvent(vsStore *store, gint64 when_us, const char *host,
                                  const char *uuid, const char *name,
                                  const char *event, int detail, GError **error);

GPtrArray *vsStoreListDomainEvents(vsStore *store, const char *domain, gint64 since_us,
                                   guint limit, GError **error);

gboolean vsStoreWriteSamples(vsStore *store, const char *host, const vsSampleBatch *batch,
                             GError **error);
gboolean vsStoreMaintainSamples(vsStore *store, gint64 now_us, guint days_ahead,
                                guint64 raw_retention_ms, guint64 rollup_retention_ms,
                                GError **error);
GArray *vsStoreQuerySamples(vsStore *store, const char *domain, gint64 since_us,
                            gint64 until_us, GError **error);
gboolean vsStoreSetDomainLabels(vsStore *store, const char *uuid, const char *name,
                                const char *labels_json, GError **error);
GHashTable *vsStoreGetDomainLabels(vsStore *store, GError **error);

gboolean vsStoreWriteForecasts(vsStore *store, const char *host, GArray *records,
                               GError **error);
gboolean vsStoreSetForecastErrors(vsStore *store, GArray *errors, GError **error);
gboolean vsStoreRecordAnomalies(vsStore *store, const char *host, GArray *anomalies,
                                GError **error);
gboolean vsStoreFindForecastDomain(vsStore *store, const char *domain, char **ret_uuid,
                                   char **ret_name, GError **error);
GArray *vsStoreQueryForecasts(vsStore *store, const char *domain, gint64 since_us,
                              GError **error);
GArray *vsStoreQueryForecastErrors(vsStore *store, const char *domain, GError **error);
GArray *vsStoreQueryAnomalies(vsStore *store, const char *domain, gint64 since_us,
                              guint limit, GError **error);
GArray *vsStoreQueryHistory(vsStore *store, const char *uuid, gint64 since_us,
                            GError **error);

/* The allocator's decisions and hints, notifications and domain locks: see
 * the driver table above for the contracts.  The domain lock's key is the
 * XOR of the UUID's two 64-bit halves (big-endian, as a signed bigint) in
 * PostgreSQL's one-bigint advisory lock space, so an admin can find the
 * holder in pg_locks. */
gboolean vsStoreRecordDecisions(vsStore *store, const char *host, GArray *decisions,
                                GError **error);
gboolean vsStoreQueryDecisions(vsStore *store, const char *uuid, gint64 since_us, guint limit,
                               GArray **ret_decisions, GError **error);
gboolean vsStoreAddHint(vsStore *store, vsHint *hint, GError **error);
gboolean vsStoreListHints(vsStore *store, const char *uuid, gint64 ending_after_us,
                          gboolean include_cancelled, GArray **ret_hints, GError **error);
gboolean vsStoreCancelHint(vsStore *store, gint64 id, GError **error);
gboolean vsStoreFindAllocDomain(vsStore *store, const char *domain, char **ret_uuid,
                                char **ret_name, GError **error);

/* Shadow runs: see the driver table above for the contracts.  The
 * wrappers refuse a run id that breaks conf/vsmetadata.h's rules
 * (VS_ERROR_INVALID naming it) before the driver sees it. */
gboolean vsStoreStartShadowRun(vsStore *store, const vsShadowRunRecord *run, GError **error);
gboolean vsStoreFinishShadowRun(vsStore *store, const char *id, vsShadowState state,
                                gint64 ended_us, gboolean has_exit_code, int exit_code,
                                const char *message, GError **error);
gboolean vsStoreRecordShadowSteps(vsStore *store, const char *id, GArray *steps,
                                  GError **error);
gboolean vsStoreRecordShadowEvents(vsStore *store, const char *id, guint index,
                                   gint64 at_us, GPtrArray *events, GError **error);
gboolean vsStoreListRunningShadowRuns(vsStore *store, const char *host, GPtrArray **ret_runs,
                                      GError **error);
gboolean vsStoreReadShadowProfile(vsStore *store, const char *app, const char *version,
                                  guint max_runs, vsShadowProfile **ret_profile,
                                  GError **error);
gboolean vsStoreListShadowRuns(vsStore *store, const char *app, const char *version,
                               GPtrArray **ret_runs, GError **error);
gboolean vsStoreReadShadowRunSteps(vsStore *store, const char *id, GPtrArray **ret_steps,
                                   GError **error);
gboolean vsStoreListAppVersions(vsStore *store, const char *app, GPtrArray **ret_versions,
                                GError **error);
gboolean vsStoreRecordShadowOptimization(vsStore *store, const vsShadowOptimization *opt,
                                         GError **error);
gboolean vsStoreListShadowOptimizations(vsStore *store, const char *id, GPtrArray **ret_opts,
                                        GError **error);
/* What deploy runs: see readShadowScript above.  @ret_run_id may be NULL. */
gboolean vsStoreReadShadowScript(vsStore *store, const char *app, const char *version,
                                 char **ret_text, gboolean *ret_is_optimized,
                                 char **ret_run_id, GError **error);

/* Shadow schedules and jobs: see the driver table above.  Adding refuses
 * a schedule whose every does not parse (shadow/vsschedule.h), naming it;
 * a @lease_s or @max_attempts of 0 is refused too. */
gboolean vsStoreAddShadowSchedule(vsStore *store, vsShadowScheduleRecord *sched,
                                  GError **error);
gboolean vsStoreListShadowSchedules(vsStore *store, gint64 due_by_us,
                                    GPtrArray **ret_schedules, GError **error);
gboolean vsStoreRemoveShadowSchedule(vsStore *store, gint64 id, GError **error);
gboolean vsStoreEnqueueShadowJob(vsStore *store, gint64 schedule_id, gint64 due_us,
                                 gint64 next_us, gboolean *ret_enqueued, GError **error);
gboolean vsStoreLeaseShadowJob(vsStore *store, const char *host, guint lease_s,
                               guint max_attempts, vsShadowJobRecord **ret_job,
                               GError **error);
gboolean vsStoreFailExhaustedShadowJobs(vsStore *store, guint max_attempts, GArray **ret_ids,
                                        GError **error);
gboolean vsStoreRenewShadowJob(vsStore *store, gint64 id, const char *host, guint lease_s,
                               GError **error);
gboolean vsStoreFinishShadowJob(vsStore *store, gint64 id, const char *host,
                                gboolean succeeded, const char *run_id, const char *reason,
                                GError **error);

/* Channels: a hint changed (payload: domain UUID), a policy changed (ditto). */
#define VS_STORE_CHANNEL_HINT "vs_hint"
#define VS_STORE_CHANNEL_POLICY "vs_policy"

gboolean vsStoreNotifyPolicy(vsStore *store, const char *uuid, GError **error);
gboolean vsStoreListen(vsStore *store, const char *channel, GError **error);
int vsStoreGetSocket(vsStore *store);
gboolean vsStoreNextNotification(vsStore *store, char **ret_channel, char **ret_payload,
                                 GError **error);
gboolean vsStoreTryLockDomain(vsStore *store, const char *uuid, gboolean *ret_locked,
                              GError **error);
gboolean vsStoreUnlockDomain(vsStore *store, const char *uuid, GError **error);

vsStoreEmbeddedState vsStoreEmbeddedGetState(const vsStoreTarget *target);
gboolean vsStoreEmbeddedStart(const vsStoreTarget *target, GError **error);
gboolean vsStoreEmbeddedStop(const vsStoreTarget *target, GError **error);

G_END_DECLS
