/*
 * vsshadowworker.h: the daemon's scheduled shadow runs, on a thread of
 * their own
 *
 * A shadow run takes minutes; enqueueing and leasing take database round
 * trips: none of it may hold up sampling or the allocator.  So the worker
 * has its own thread, libvirt and database connections, and each run its
 * own thread too.  The worker thread:
 *
 *   - at start, removes what shadow runs left behind (shadow/vsgc.h),
 *     closing this host's runs left 'running' as killed;
 *   - every interval, queues one job per due schedule and due time
 *     (vsShadowWorkerEnqueueDue: any number of controllers may do it at
 *     once), then leases jobs (FOR UPDATE SKIP LOCKED) while fewer than
 *     max_concurrent run here, and starts each in a thread that runs it
 *     with vsShadowRun() (with the schedule's run options; its stage
 *     directory must still be there) and closes the job done or failed
 *     with its run and why it failed;
 *   - a job whose lease ran out max_attempts times (its controllers died,
 *     or could not reach the database to close it) is closed as failed;
 *   - renews the leases of the jobs running here every third of a lease;
 *     a lease lost (another controller took the job over) cancels the run.
 *
 * Stopping cancels the runs (they clean up) and waits for them.
 */
#pragma once

#include "shadow/vsrunner.h"
#include "store/vsstore.h"

G_BEGIN_DECLS

#define VS_SHADOW_WORKER_INTERVAL_MS 30000
#define VS_SHADOW_WORKER_LEASE_S 120
#define VS_SHADOW_WORKER_MAX_ATTEMPTS 3

typedef struct _vsShadowWorkerConfig vsShadowWorkerConfig;
struct _vsShadowWorkerConfig {
    const char *host;           /* leases and runs are this host's */
    const char *uri;            /* libvirt URI; NULL: libvirt's default */
    const char *pool;           /* the shadow pool (config [shadow] pool) */
    guint max_concurrent;       /* 0: no job is leased here */
    guint interval_ms;          /* 0: VS_SHADOW_WORKER_INTERVAL_MS */
    guint lease_s;              /* 0: VS_SHADOW_WORKER_LEASE_S */
    guint max_attempts;         /* leases of a job before it is given up
                                 * as failed; 0: VS_SHADOW_WORKER_MAX_ATTEMPTS */
};

typedef struct _vsShadowWorker vsShadowWorker;

/* Start the thread; connections are made (and retried) there. */
vsShadowWorker *vsShadowWorkerStart(const vsStoreTarget *target, const vsShadowWorkerConfig *cfg);

/* New settings (after a reload): the URI, pool and lease apply to the
 * jobs leased from now on, max_concurrent at once (runs beyond it finish). */
void vsShadowWorkerConfigure(vsShadowWorker *w, const vsShadowWorkerConfig *cfg);

/* How many jobs run here now. */
guint vsShadowWorkerRunning(vsShadowWorker *w);

/* Cancel the runs, wait for their cleanup, stop the thread. */
void vsShadowWorkerStop(vsShadowWorker *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsShadowWorker, vsShadowWorkerStop)

/* Queue one job for each enabled schedule due at @now_us, at its due time,
 * and move the schedule on to its first due time after both that and
 * @now_us (slots missed while no controller ran are run once, not each).
 * @ret_enqueued: the jobs this call made.  Schedules whose every no longer
 * parses are skipped. */
gboolean vsShadowWorkerEnqueueDue(vsStore *store, gint64 now_us, guint *ret_enqueued,
                                  GError **error);

G_END_DECLS
