/*
 * vscontroller.h: one control interval of the allocator, for every domain
 *
 * Ties the parts together: each managed domain's policy (from its XML,
 * cached; an invalid one is refused and the last valid one kept), its
 * live resources, its forecasts and hints go through vsDecide; the rises
 * go through the host ledger (a rise it cannot serve is queued, with a
 * migration target among the other hosts' published room); in mode auto
 * the result is carried out (vsactuate), one domain at a time under its
 * lock, and retried with backoff when it fails.  Every decision worth recording is returned.
 *
 * The daemon runs it on its allocator thread; "plan" runs it as a dry run
 * on inputs it reads from the store; the simulation test on test:///.
 * It never logs: problems come back as text for the caller to report.
 */
#pragma once

#include "allocator/vsactuate.h"
#include "allocator/vsdecide.h"
#include "allocator/vshint.h"
#include "allocator/vsledger.h"
#include "forecast/vspredictor.h"
#include "hypervisor/vshypervisor.h"

G_BEGIN_DECLS

typedef struct _vsControllerConfig vsControllerConfig;
struct _vsControllerConfig {
    double host_cpus;           /* capacity; 0: ask the hypervisor */
    double host_memory_kib;
    double cpu_overcommit;      /* capacity x overcommit is the most granted */
    double memory_overcommit;
    guint interval_s;           /* between runs; sets how long reservations live */
    guint max_backoff_s;        /* between retries of a failed resize */
    vsDecideConfig decide;
    vsActuateOptions actuate;
};

/* 4x CPU overcommit, none for memory, a 15-second interval, backoff up to
 * 30 minutes. */
void vsControllerConfigDefaults(vsControllerConfig *cfg);

/* One domain as the daemon (or "plan") sees it: its newest sample and its
 * forecasts.  CPU in vCPU-equivalents, memory in KiB. */
typedef struct _vsControllerDomain vsControllerDomain;
struct _vsControllerDomain {
    char uuid[VS_UUID_STRLEN];
    char *name;
    double vcpus;               /* plugged, from the sample: for the ledger */
    double memory_kib;          /* the balloon, from the sample */
    double cpu_use;             /* newest sample; NaN: none */
    double memory_used_kib;     /* newest sample, when the balloon cannot say; NaN: none */
    vsDecideForecast cpu;       /* the model names are owned here */
    vsDecideForecast memory;
};

void vsControllerDomainInit(vsControllerDomain *d);
void vsControllerDomainClear(vsControllerDomain *d);

/* Fill @d's forecasts from @p's view of its domain (by @d->uuid); left
 * unknown when @p does not track it.  The interval is the 90 % one; the
 * domain is sized for the allocation the forecaster's backtest chose. */
void vsControllerDomainForecasts(vsControllerDomain *d, vsPredictor *p);

/* Serialises resizes of one domain across controllers: @lock returns FALSE
 * when another holds it (the resize is then held back this interval). */
typedef struct _vsControllerLock vsControllerLock;
struct _vsControllerLock {
    gboolean (*lock)(const char *uuid, gpointer opaque, GError **error);
    void (*unlock)(const char *uuid, gpointer opaque);
    gpointer opaque;
};

typedef struct _vsController vsController;

vsController *vsControllerNew(const vsControllerConfig *cfg);
void vsControllerFree(vsController *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsController, vsControllerFree)

/* Read @uuid's policy again at the next run (it changed). */
void vsControllerForgetPolicy(vsController *c, const char *uuid);

/* Replace the hints (vsHint, any domains; copied). */
void vsControllerSetHints(vsController *c, GArray *hints);

/* Replace what is known of the other hosts' free room (vsHostRoom, host
 * names included, copied; NULL: none), as their controllers last
 * published it.  A rise this host cannot serve is queued with, as its
 * migration target, the host among them with room for the whole domain
 * (vsLedgerServe); with none known, nothing is suggested.  Kept until
 * replaced: the caller refreshes it before each run. */
void vsControllerSetOtherHosts(vsController *c, GArray *rooms);

/* This host's free room after the last run, for the other controllers:
 * vsLedgerRoom of CPU (vCPUs) and memory (KiB), capacity x overcommit
 * minus what the domains hold and what is still reserved for them.  FALSE,
 * writing nothing, until a run has sized the host (its capacity was
 * never known). */
gboolean vsControllerRoom(vsController *c, double *ret_vcpus, double *ret_memory_kib);

/* How old another host's published room may be and still be used, for a
 * controller run every @interval_s: four intervals, at least a minute.
 * An older one belongs to a controller that stopped. */
guint vsControllerRoomMaxAge(guint interval_s);

/* Seed a domain's memory of its last resizes (cooldowns), as "plan" does
 * from the stored decisions. */
void vsControllerSeedState(vsController *c, const vsDecision *last);

/* One interval at @now_us over the running @domains (vsControllerDomain).
 * Domains whose policy is off are left alone.  With @dry_run nothing is
 * carried out, mode auto is decided as if advise, and every decision is
 * returned, "none" included.  @lock may be NULL.  Otherwise returns the
 * decisions to record (vsDecision): every one that changes something, and
 * a hold or a queued rise only when it differs from the last recorded for
 * that domain and resource.  @problems (optional) gets
 * one message per domain that could not be decided (invalid policy,
 * unreadable resources), each only when it is new. */
GArray *vsControllerRun(vsController *c, vsHypervisor *hv, GArray *domains, gint64 now_us,
                        gboolean dry_run, const vsControllerLock *lock,
                        GPtrArray *problems);

G_END_DECLS
