/*
 * vspg.h: the PostgreSQL store driver and its embedded cluster
 *
 * Only drivers/postgres (and its tests) include libpq-fe.h.
 */
#pragma once

#include <glib.h>
#include <libpq-fe.h>
#include <sys/types.h>

#include "store/vsstore.h"

G_BEGIN_DECLS

extern const vsStoreDriver vsPgStoreDriver;

/* Local names for libpq types so g_autoptr works on them. */
typedef PGconn vsPgConn;
typedef PGresult vsPgResult;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsPgConn, PQfinish)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsPgResult, PQclear)

/* One open store (vspgdriver.c); the samples module (vspgsamples.c) works
 * on it through the helpers below. */
typedef struct _vsPgStore vsPgStore;
struct _vsPgStore {
    vsPgConn *conn;
    char *where;            /* "socket '/x/run'" or "host 'h:5432'" */
    gboolean heartbeatSent;
    GHashTable *labelSets;  /* labels JSON -> sample_label_sets.id */
    GPtrArray *channels;    /* LISTENed, quoted: again after a reset */
};

/* FALSE with VS_ERROR_CONNECT when the connection is gone and one reset
 * did not bring it back. */
gboolean vsPgCheckConnection(vsPgStore *s, GError **error);
/* Run @sql with text @params; NULL with "@what: <server message>" unless
 * the result status is @expect (VS_ERROR_CONNECT when the link dropped). */
vsPgResult *vsPgExec(vsPgStore *s, const char *sql, int nparams, const char *const *params,
                     ExecStatusType expect, const char *what, GError **error);
/* Like vsPgExec, for statements whose result does not matter. */
gboolean vsPgExecCommand(vsPgStore *s, const char *sql, int nparams, const char *const *params,
                         ExecStatusType expect, const char *what, GError **error);
/* The server's primary message for a failed @res, or the connection's. */
char *vsPgResultError(vsPgStore *s, PGresult *res);

/* Unix microseconds in parameter $n as a timestamptz, exact to the
 * microsecond (to_timestamp's float8 would round far from the epoch). */
#define VS_PG_TS(n) "('epoch'::timestamptz + $" #n "::bigint * interval '1 microsecond')"
/* A timestamptz column as Unix microseconds. */
#define VS_PG_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

/* Parameter text of @v. */
char *vsPgInt64(gint64 v);
/* Field (@row, @col) of @res as an integer, or @fallback when NULL. */
gint64 vsPgGetUs(PGresult *res, int row, int col, gint64 fallback);
/* Field (@row, @col) of @res as a double, NaN when NULL. */
double vsPgGetDouble(PGresult *res, int row, int col);
/* Field (@row, @col) of @res as a new string, NULL when SQL NULL. */
char *vsPgGetText(PGresult *res, int row, int col);
/* Field (@row, @col) of @res, a boolean, is true. */
gboolean vsPgGetBool(PGresult *res, int row, int col);

/* Array parameters (vspgforecast.c): a batch goes out as one statement,
 * each column one array parameter unnested server-side.  The literals are
 * built in GStrings, "{a,\"b c\",NULL}"; vsPgArrayEnd closes one. */
void vsPgArrayText(GString *a, const char *v);          /* NULL: NULL */
void vsPgArrayDouble(GString *a, double v);             /* NaN, inf: NULL */
void vsPgArrayInt(GString *a, gint64 v);
const char *vsPgArrayEnd(GString *a);
/* @n empty columns, NULL-terminated. */
GString **vsPgArraysNew(guint n);
void vsPgArraysFree(GString **cols);
typedef GString **vsPgArrays;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(vsPgArrays, vsPgArraysFree, NULL)
/* Appends one item of a batch to its array columns; FALSE (with @error)
 * refuses the whole batch. */
typedef gboolean (*vsPgAppendFunc)(GString **cols, gconstpointer item, GError **error);
/* Write @items (a GArray) in one statement @sql: $1..$@nfixed are @fixed,
 * then come the @ncols array columns @append fills from every item.  An
 * item refused sends nothing; an empty batch is nothing to do.  Errors
 * read "@what: ...". */
gboolean vsPgWriteBatch(vsPgStore *s, const char *sql, const char *const *fixed, guint nfixed,
                        GArray *items, guint ncols, vsPgAppendFunc append, const char *what,
                        GError **error);
/* An element of array parameter @col, as Unix microseconds, as a timestamptz. */
#define VS_PG_US_TS(col) "('epoch'::timestamptz + " col " * interval '1 microsecond')"

/* VS_ERROR_INVALID naming @uuid unless it is a valid UUID. */
gboolean vsPgCheckUuid(const char *uuid, GError **error);
/* VS_ERROR_INVALID naming domain @name unless @resource is cpu or memory. */
gboolean vsPgCheckResource(vsResourceKind resource, const char *name, GError **error);
/* @domain (a name or UUID) as a UUID parameter: NULL unless it is one. */
const char *vsPgDomainUuid(const char *domain);
/* The UUID and name in the first row @sql returns for $1 @domain (a name)
 * and $2 (@domain as a UUID, or NULL); VS_ERROR_NOT_FOUND "no @kinds are
 * stored for it" when none.  Nothing is written on failure. */
gboolean vsPgFindDomain(vsPgStore *s, const char *sql, const char *domain, const char *kinds,
                        char **ret_uuid, char **ret_name, GError **error);
/* A resource column ("cpu", "memory") of @res. */
void vsPgResourceFromField(PGresult *res, int row, int col, vsResourceKind *ret);

/* Samples and labels (vspgsamples.c): the vsStoreDriver callbacks. */
gboolean vsPgWriteSamples(gpointer priv, const char *host, const vsSampleBatch *batch,
                          GError **error);
gboolean vsPgMaintainSamples(gpointer priv, gint64 now_us, guint days_ahead,
                             guint64 raw_retention_ms, guint64 rollup_retention_ms,
                             GError **error);
GArray *vsPgQuerySamples(gpointer priv, const char *domain, gint64 since_us,
                         gint64 until_us, GError **error);
gboolean vsPgSetDomainLabels(gpointer priv, const char *uuid, const char *name,
                             const char *labels_json, GError **error);
GHashTable *vsPgGetDomainLabels(gpointer priv, GError **error);

/* Forecasts, their errors and anomalies (vspgforecast.c): the
 * vsStoreDriver callbacks. */
gboolean vsPgWriteForecasts(gpointer priv, const char *host, GArray *records,
                            GError **error);
gboolean vsPgSetForecastErrors(gpointer priv, GArray *errors, GError **error);
gboolean vsPgRecordAnomalies(gpointer priv, const char *host, GArray *anomalies,
                             GError **error);
gboolean vsPgFindForecastDomain(gpointer priv, const char *domain, char **ret_uuid,
                                char **ret_name, GError **error);
GArray *vsPgQueryForecasts(gpointer priv, const char *domain, gint64 since_us,
                           GError **error);
GArray *vsPgQueryForecastErrors(gpointer priv, const char *domain, GError **error);
GArray *vsPgQueryAnomalies(gpointer priv, const char *domain, gint64 since_us,
                           guint limit, GError **error);
GArray *vsPgQueryHistory(gpointer priv, const char *uuid, gint64 since_us, GError **error);
/* Retention of forecasts (@raw_retention_ms), forecast errors, anomalies,
 * decisions and hints (@rollup_retention_ms) as of @now_us; 0 keeps.  Part of
 * vsPgMaintainSamples; errors read "@what: ...". */
gboolean vsPgExpireForecasts(vsPgStore *s, gint64 now_us, guint64 raw_retention_ms,
                             guint64 rollup_retention_ms, const char *what,
                             GError **error);

/* Decisions, hints, hosts' room, notifications and domain locks
 * (vspgalloc.c): the vsStoreDriver callbacks. */
gboolean vsPgRecordDecisions(gpointer priv, const char *host, GArray *decisions,
                             GError **error);
gboolean vsPgQueryDecisions(gpointer priv, const char *uuid, gint64 since_us, guint limit,
                            GArray **ret_decisions, GError **error);
gboolean vsPgAddHint(gpointer priv, vsHint *hint, GError **error);
gboolean vsPgListHints(gpointer priv, const char *uuid, gint64 ending_after_us,
                       gboolean include_cancelled, GArray **ret_hints, GError **error);
gboolean vsPgCancelHint(gpointer priv, gint64 id, GError **error);
gboolean vsPgFindAllocDomain(gpointer priv, const char *domain, char **ret_uuid,
                             char **ret_name, GError **error);
gboolean vsPgPublishHostRoom(gpointer priv, const char *host, double vcpus,
                             double memory_kib, GError **error);
gboolean vsPgListHostRooms(gpointer priv, const char *except_host, guint max_age_s,
                           GArray **ret_rooms, GError **error);
gboolean vsPgNotifyPolicy(gpointer priv, const char *uuid, GError **error);
gboolean vsPgListen(gpointer priv, const char *channel, GError **error);
int vsPgGetSocket(gpointer priv);
gboolean vsPgNextNotification(gpointer priv, char **ret_channel, char **ret_payload,
                              GError **error);
gboolean vsPgTryLockDomain(gpointer priv, const char *uuid, gboolean *ret_locked,
                           GError **error);
gboolean vsPgUnlockDomain(gpointer priv, const char *uuid, GError **error);
/* After a reset: LISTEN again on every channel of @s (best effort). */
void vsPgListenAgain(vsPgStore *s);

/* Shadow runs, steps, events and profiles (vspgshadow.c): the
 * vsStoreDriver callbacks. */
gboolean vsPgStartShadowRun(gpointer priv, const vsShadowRunRecord *run, GError **error);
gboolean vsPgFinishShadowRun(gpointer priv, const char *id, vsShadowState state,
                             gint64 ended_us, gboolean has_exit_code, int exit_code,
                             const char *message, GError **error);
gboolean vsPgRecordShadowSteps(gpointer priv, const char *id, GArray *steps, GError **error);
gboolean vsPgRecordShadowEvents(gpointer priv, const char *id, guint index, gint64 at_us,
                                GPtrArray *events, GError **error);
gboolean vsPgListRunningShadowRuns(gpointer priv, const char *host, GPtrArray **ret_runs,
                                   GError **error);
gboolean vsPgReadShadowProfile(gpointer priv, const char *app, const char *version,
                               guint max_runs, vsShadowProfile **ret_profile,
                               GError **error);
gboolean vsPgListShadowRuns(gpointer priv, const char *app, const char *version,
                            GPtrArray **ret_runs, GError **error);
gboolean vsPgReadShadowRunSteps(gpointer priv, const char *id, GPtrArray **ret_steps,
                                GError **error);
gboolean vsPgListAppVersions(gpointer priv, const char *app, GPtrArray **ret_versions,
                             GError **error);
gboolean vsPgRecordShadowOptimization(gpointer priv, const vsShadowOptimization *opt,
                                      GError **error);
gboolean vsPgListShadowOptimizations(gpointer priv, const char *id, GPtrArray **ret_opts,
                                     GError **error);
gboolean vsPgReadShadowScript(gpointer priv, const char *app, const char *version,
                              char **ret_text, gboolean *ret_is_optimized, char **ret_run_id,
                              GError **error);

/* Shadow schedules and their job queue (vspgschedule.c): the vsStoreDriver
 * callbacks. */
gboolean vsPgAddShadowSchedule(gpointer priv, vsShadowScheduleRecord *sched, GError **error);
gboolean vsPgListShadowSchedules(gpointer priv, gint64 due_by_us, GPtrArray **ret_schedules,
                                 GError **error);
gboolean vsPgRemoveShadowSchedule(gpointer priv, gint64 id, GError **error);
gboolean vsPgEnqueueShadowJob(gpointer priv, gint64 schedule_id, gint64 due_us, gint64 next_us,
                              gboolean *ret_enqueued, GError **error);
gboolean vsPgLeaseShadowJob(gpointer priv, const char *host, guint lease_s, guint max_attempts,
                            vsShadowJobRecord **ret_job, GError **error);
gboolean vsPgFailExhaustedShadowJobs(gpointer priv, guint max_attempts, GArray **ret_ids,
                                     GError **error);
gboolean vsPgRenewShadowJob(gpointer priv, gint64 id, const char *host, guint lease_s,
                            GError **error);
gboolean vsPgFinishShadowJob(gpointer priv, gint64 id, const char *host, gboolean succeeded,
                             const char *run_id, const char *reason, GError **error);

/* The role and database of the embedded cluster. */
#define VS_PG_EMBEDDED_USER "virtshadow"
#define VS_PG_EMBEDDED_DATABASE "virtshadow"

/* The first line of a (libpq or server) message, without its trailing
 * newline; "unknown error" when empty. */
char *vsPgFirstLine(const char *msg);

/* Server programs (vspgcluster.c, also used by the tests' throwaway server). */

/* The directory holding initdb, pg_ctl and postgres. */
char *vsPgFindBinDir(GError **error);

/* The system user the server programs run as when we are root: initdb,
 * pg_ctl and postgres refuse root. */
typedef struct _vsPgIdentity vsPgIdentity;
struct _vsPgIdentity {
    char *user;
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    int ngroups;
};

/* Look up @user and its groups now (NSS is not safe after fork); fails
 * when @user does not exist or is root. */
vsPgIdentity *vsPgIdentityNew(const char *user, GError **error);
void vsPgIdentityFree(vsPgIdentity *id);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsPgIdentity, vsPgIdentityFree)
/* Between fork and exec (async-signal-safe): become @id, or say so on
 * stderr and _exit(126); nothing when @id is NULL. */
void vsPgIdentityApply(const vsPgIdentity *id);

/* Embedded cluster (vspgcluster.c).  Layout under STATE_DIR/pg: data/ (the
 * cluster), run/ (the Unix socket) and server.log. */
char *vsPgClusterRunDir(const vsStoreTarget *target);
char *vsPgClusterDataDir(const vsStoreTarget *target);
vsStoreEmbeddedState vsPgClusterState(const vsStoreTarget *target);
/* initdb on first use, then start; success when already running. */
gboolean vsPgClusterStart(const vsStoreTarget *target, GError **error);
/* Fast shutdown; success when not running. */
gboolean vsPgClusterStop(const vsStoreTarget *target, GError **error);

G_END_DECLS
