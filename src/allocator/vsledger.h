/*
 * vsledger.h: one host's capacity ledger, with soft reservations (seed 002)
 *
 * Per resource, what the domains have (allocations) plus what has been
 * promised to them (reservations, each with an expiry) stays within the
 * host's capacity times the overcommit: the ledger never grants past it.
 * A forecast rise is first reserved, then committed into the allocation
 * once the resize is carried out, or released when it fails, or left to
 * expire.  When an interval's rises exceed the room, they are served by
 * tier (1 first), then by predicted shortfall (largest first); what is
 * left is queued, with a migration target when other hosts' room is known
 * (seed 003: queue, scale or reject).
 *
 * Pure logic, no I/O.  Units: vCPUs for CPU, KiB for memory, Unix
 * microseconds for times.  Allocations are whatever the caller last set:
 * they mirror the hypervisor and may exceed the limit (the ledger then
 * grants nothing more); only reservations are refused.
 */
#pragma once

#include <glib.h>

#include "allocator/vsdecide.h"
#include "forecast/vsmodel.h"
#include "telemetry/vssample.h"

G_BEGIN_DECLS

#define VS_LEDGER_RESOURCES 2   /* VS_RESOURCE_CPU, VS_RESOURCE_MEMORY */

typedef struct _vsLedger vsLedger;

/* A host of @cpus CPUs and @memory_kib of memory, granting up to
 * capacity x overcommit of each (overcommit > 0; 1: none). */
vsLedger *vsLedgerNew(double cpus, double memory_kib, double cpu_overcommit,
                      double memory_overcommit);
void vsLedgerFree(vsLedger *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsLedger, vsLedgerFree)

/* capacity x overcommit */
double vsLedgerLimit(const vsLedger *l, vsResourceKind resource);
/* allocations + reservations not yet expired away */
double vsLedgerHeld(const vsLedger *l, vsResourceKind resource);
/* limit - held, never negative */
double vsLedgerRoom(const vsLedger *l, vsResourceKind resource);

/* What the domain has now (from the hypervisor), replacing the last value;
 * its reservation is kept. */
void vsLedgerSetAllocation(vsLedger *l, const char *uuid, vsResourceKind resource,
                           double amount);
/* 0 for a domain the ledger does not know. */
double vsLedgerAllocation(const vsLedger *l, const char *uuid, vsResourceKind resource);
double vsLedgerReserved(const vsLedger *l, const char *uuid, vsResourceKind resource);
/* The domain left the host: drop its allocations and reservations. */
void vsLedgerForget(vsLedger *l, const char *uuid);

/* Reserve @amount above the domain's allocation until @expires_us,
 * replacing its earlier reservation of @resource.  FALSE, changing
 * nothing, when it does not fit within the limit. */
gboolean vsLedgerReserve(vsLedger *l, const char *uuid, vsResourceKind resource,
                         double amount, gint64 expires_us);
/* The resize was carried out: the reservation joins the allocation. */
void vsLedgerCommit(vsLedger *l, const char *uuid, vsResourceKind resource);
/* The resize failed or was dropped: the reservation is returned. */
void vsLedgerRelease(vsLedger *l, const char *uuid, vsResourceKind resource);
/* Return every reservation that expired at or before @now_us; how many. */
guint vsLedgerExpire(vsLedger *l, gint64 now_us);

/* One domain's rise in one interval. */
typedef struct _vsLedgerRequest vsLedgerRequest;
struct _vsLedgerRequest {
    const char *uuid;           /* borrowed */
    vsResourceKind resource;
    guint tier;                 /* 1 served first */
    double amount;              /* the rise asked for: target - current */
    double shortfall;           /* predicted: raw need - current; orders within a tier */
    /* the domain's whole size after the rise, for a migration target
     * (0: not known, that resource is not checked) */
    double size_vcpus;
    double size_memory_kib;
};

/* A request from a GROW decision: amount target - current, shortfall
 * wanted - current, the size of its own resource the target. */
void vsLedgerRequestInit(vsLedgerRequest *req, const vsDecision *d, guint tier);

/* Another host's free room, as its controller last published it. */
typedef struct _vsHostRoom vsHostRoom;
struct _vsHostRoom {
    const char *host;           /* borrowed */
    double vcpus;
    double memory_kib;
};

typedef struct _vsLedgerGrant vsLedgerGrant;
struct _vsLedgerGrant {
    char uuid[VS_UUID_STRLEN];
    vsResourceKind resource;
    double requested;
    double granted;             /* reserved on this host: whole vCPUs, whole KiB */
    double queued;              /* requested - granted */
    char *suggested_host;       /* where the whole domain fits; NULL: none */
};

/* Clear frees the host; grants live in a GArray with it as clear func. */
void vsLedgerGrantClear(vsLedgerGrant *g);

/* Serve one interval's @reqs: expire what is due at @now_us, then reserve
 * for each request, by tier then shortfall, as much as the room allows
 * (until @expires_us).  Appends one grant per request to @grants in
 * serving order.  An unserved rest is queued; the host among @others with
 * room for the whole domain and the most room in the resource is
 * suggested, and its room counted as taken for the following requests. */
void vsLedgerServe(vsLedger *l, const vsLedgerRequest *reqs, gsize n, gint64 now_us,
                   gint64 expires_us, const vsHostRoom *others, gsize n_others,
                   GArray *grants);

/* Bind @d to @g (same domain and resource): a partial grant lowers the
 * target, none queues it (action QUEUED, target = current); either way
 * the clause becomes "host-capacity" and the reason says what was queued
 * and where it could go.  A full grant changes nothing. */
void vsLedgerLimitDecision(vsDecision *d, const vsLedgerGrant *g);

G_END_DECLS
