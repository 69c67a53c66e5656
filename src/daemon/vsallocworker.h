/*
 * vsallocworker.h: the daemon's allocator, on a thread of its own
 *
 * A resize blocks until the guest has followed (seconds), and it must hold
 * the domain's lock in PostgreSQL meanwhile; on the main loop that would
 * hold up sampling and libvirt's keepalives.  So the allocator has its own
 * thread with its own libvirt and database connections.  The main loop
 * hands it, every control interval, what it knows of each domain (the
 * newest sample and the forecasts); the thread listens for policy and
 * hint changes (NOTIFY vs_policy, vs_hint), decides, resizes, and records
 * every decision.  Before each run it reads the other hosts' published
 * free room (for migration suggestions), after it publishes this host's.
 * While the database is away nothing is resized: an action that cannot
 * be recorded is not taken.
 */
#pragma once

#include "allocator/vscontroller.h"
#include "store/vsstore.h"

G_BEGIN_DECLS

typedef struct _vsAllocWorkerConfig vsAllocWorkerConfig;
struct _vsAllocWorkerConfig {
    const char *host;           /* recorded with each decision; names this host's room */
    const char *uri;            /* libvirt URI; NULL: libvirt's default */
    vsControllerConfig controller;
};

typedef struct _vsAllocWorker vsAllocWorker;

/* Start the thread; connections are made (and retried) there. */
vsAllocWorker *vsAllocWorkerStart(const vsStoreTarget *target, const vsAllocWorkerConfig *cfg);

/* One control interval at @now_us over @domains (vsControllerDomain), which
 * the worker takes.  Skipped while the previous one is still running. */
void vsAllocWorkerSubmit(vsAllocWorker *w, GArray *domains, gint64 now_us);

/* Stop the thread and wait for it. */
void vsAllocWorkerStop(vsAllocWorker *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsAllocWorker, vsAllocWorkerStop)

G_END_DECLS
