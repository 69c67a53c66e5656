/*
 * vsstore.h: the store driver interface (the system of record)
 *
 * drivers/postgres implements this table.  Callers use the vsStore...()
 * wrappers, never the table.  No libpq type appears here; errors arrive as
 * GError in VS_ERROR and never contain a password.
 */
#pragma once

#include <glib.h>

#include "telemetry/vssample.h"

G_BEGIN_DECLS

/* Where the database lives. */
typedef struct _vsStoreTarget vsStoreTarget;
struct _vsStoreTarget {
    char *url;          /* postgresql://... or conninfo; NULL: embedded */
    char *state_dir;    /* embedded cluster lives in STATE_DIR/pg */
    char *pg_user;      /* embedded: system user that runs the server when we are root */
};

void vsStoreTargetClear(vsStoreTarget *target);

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
     * of closed buckets, and delete rollups older than @rollup_retention_ms. */
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

    /* Embedded cluster control (optional: only for drivers that embed). */
    vsStoreEmbeddedState (*embeddedState)(const vsStoreTarget *target);
    gboolean (*embeddedStart)(const vsStoreTarget *target, GError **error);
    gboolean (*embeddedStop)(const vsStoreTarget *target, GError **error);
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

vsStoreEmbeddedState vsStoreEmbeddedGetState(const vsStoreTarget *target);
gboolean vsStoreEmbeddedStart(const vsStoreTarget *target, GError **error);
gboolean vsStoreEmbeddedStop(const vsStoreTarget *target, GError **error);

G_END_DECLS
