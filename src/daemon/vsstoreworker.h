/*
 * vsstoreworker.h: the daemon's database side, on a thread of its own
 *
 * libpq calls block.  On the main loop they would hold up libvirt's
 * keepalives, its events and the metrics endpoint for as long as a sick
 * database takes to time out.  So the store connection and its reconnect
 * backoff, the heartbeat, the domain-event queue, sample writes (and the
 * spool) and housekeeping all live on one worker thread with its own
 * GMainContext.  The main loop hands work over and never waits for it.
 */
#pragma once

#include "forecast/vspredictor.h"
#include "store/vsstore.h"
#include "telemetry/vssampler.h"

G_BEGIN_DECLS

typedef struct _vsStoreWorkerConfig vsStoreWorkerConfig;
struct _vsStoreWorkerConfig {
    const char *host;               /* recorded with events and the heartbeat */
    const char *uri;                /* libvirt URI, for the heartbeat */
    guint64 heartbeat_interval_ms;
    guint64 raw_retention_ms;
    guint64 rollup_retention_ms;
};

/* Called on the creator's main context with labels from "virt-shadow
 * annotate" (UUID -> JSON), after every heartbeat. */
typedef void (*vsStoreWorkerLabelsFunc)(GHashTable *labels, gpointer opaque);

typedef struct _vsStoreWorker vsStoreWorker;

/* Connect once, synchronously, so a database whose schema this binary
 * cannot use fails start-up (VS_ERROR_SCHEMA); other failures are logged
 * and retried with backoff on the thread.  @sampler's store half (the
 * spool) belongs to the worker from now on. */
vsStoreWorker *vsStoreWorkerStart(const vsStoreTarget *target, const vsStoreWorkerConfig *cfg,
                                  vsSampler *sampler, vsStoreWorkerLabelsFunc on_labels,
                                  gpointer opaque, GError **error);

/* New configuration; reconnects when the database target changed. */
void vsStoreWorkerConfigure(vsStoreWorker *w, const vsStoreTarget *target,
                            const vsStoreWorkerConfig *cfg);

/* Queue a domain lifecycle event; kept while the database is away. */
void vsStoreWorkerRecordEvent(vsStoreWorker *w, gint64 when_us, const char *uuid,
                              const char *name, const char *event, int detail);

/* FALSE while too many batches wait for the database: skip collecting
 * then.  That loses nothing, since libvirt's counters are cumulative: the
 * next sample covers the longer interval. */
gboolean vsStoreWorkerReady(vsStoreWorker *w);

/* Store (or spool) @batch, which the worker takes. */
void vsStoreWorkerWriteSamples(vsStoreWorker *w, vsSampleBatch *batch);

/* Store forecasts, their errors and anomalies, which the worker takes.
 * They are derived data: when the database is away they are dropped (with
 * a warning), never spooled. */
void vsStoreWorkerWriteForecasts(vsStoreWorker *w, vsPredictorOutput *out);

/* Called on the creator's main context with @uuid's history (a GArray of
 * vsHistoryPoint, borrowed), empty when it could not be read. */
typedef void (*vsStoreWorkerHistoryFunc)(const char *uuid, GArray *history, gpointer opaque);

/* Read @uuid's 5-minute history since @since_us, for warming up its
 * forecasters. */
void vsStoreWorkerLoadHistory(vsStoreWorker *w, const char *uuid, gint64 since_us,
                              vsStoreWorkerHistoryFunc done, gpointer opaque);

/* Record what events it can, stop the thread and wait for it. */
void vsStoreWorkerStop(vsStoreWorker *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsStoreWorker, vsStoreWorkerStop)

G_END_DECLS
