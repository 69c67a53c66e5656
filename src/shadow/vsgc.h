/*
 * vsgc.h: remove what shadow runs left behind ("shadow gc", and
 * virt-shadowd at start)
 *
 * Domains carrying our <shadow-run> mark go with their overlays (destroy,
 * undefine, then delete: an overlay is never deleted under a domain that
 * could not be stopped), then the overlays named vs-shadow-RUNID-* in the
 * shadow pool whose domain is gone.  Then gc looks again: what it removed
 * and is still there is a failure.  With a store, the runs still 'running'
 * on this host whose shadow domain no longer exists (their process was
 * killed) are closed as killed.
 *
 * A run in progress (its lock is held: vsrunlock.h) is left alone: its
 * domain, overlays and row are reported with in_progress set.  The lock
 * files of the runs gc cleaned are removed.
 */
#pragma once

#include "hypervisor/vshypervisor.h"
#include "store/vsstore.h"

G_BEGIN_DECLS

/* One leftover and what became of it. */
typedef struct _vsGcItem vsGcItem;
struct _vsGcItem {
    char *kind;         /* "domain" or "volume" */
    char *name;         /* domain name, or volume path */
    char *uuid;         /* domains only */
    char *run_id;       /* domains only */
    gboolean active;
    gboolean persistent;
    GStrv overlays;     /* domains only; never NULL */
    gboolean in_progress; /* its run holds its lock: left alone */
    char *error;        /* NULL: removed (or, on a dry run, would be);
                         * else its failures, joined by "; " */
};

void vsGcItemFree(vsGcItem *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsGcItem, vsGcItemFree)

/* A run left 'running' in the store with no domain, and what became of it. */
typedef struct _vsGcRun vsGcRun;
struct _vsGcRun {
    char *id;
    char *app;
    char *version;
    gint64 started_us;
    gboolean in_progress; /* its run holds its lock: left open */
    char *error;        /* NULL: closed as killed (or, on a dry run, would be) */
};

void vsGcRunFree(vsGcRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsGcRun, vsGcRunFree)

typedef struct _vsGcOptions vsGcOptions;
struct _vsGcOptions {
    const char *run;        /* only this run's leftovers; NULL: every run's */
    const char *pool;       /* the shadow pool (config [shadow] pool) */
    const char *host;       /* this host, as its runs are recorded */
    gboolean dry_run;       /* find, remove nothing */
    const char *lock_dir;   /* the runs' locks (vsRunLockDir); NULL: none */
};

typedef struct _vsGcResult vsGcResult;
struct _vsGcResult {
    GPtrArray *items;       /* vsGcItem: domains first, then volumes */
    GPtrArray *runs;        /* vsGcRun */
};

void vsGcResultFree(vsGcResult *res);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsGcResult, vsGcResultFree)

/* How many leftovers (items and runs) could not be removed or closed. */
guint vsGcResultFailed(const vsGcResult *res);

/* Find and (unless a dry run) remove the leftovers; close stale runs when
 * @store is not NULL.  FALSE with @error only when the leftovers cannot
 * even be listed (the hypervisor, the pool, the store); a leftover that
 * cannot be removed is named in its item and counted by
 * vsGcResultFailed(). */
gboolean vsGcCollect(vsHypervisor *hv, vsStore *store, const vsGcOptions *opts,
                     vsGcResult **ret_result, GError **error);

G_END_DECLS
