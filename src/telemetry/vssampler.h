/*
 * vssampler.h: the daemon's collection cycle
 *
 * Every tick: one bulk counters call, rates for the domains that are due
 * (adaptive intervals), workload labels attached, and the batch stored, or
 * spooled on disk when the database is away.  The spool is replayed, oldest
 * first, as soon as the database answers again.
 */
#pragma once

#include "hypervisor/vshypervisor.h"
#include "store/vsstore.h"
#include "telemetry/vsadaptive.h"

G_BEGIN_DECLS

typedef struct _vsSamplerConfig vsSamplerConfig;
struct _vsSamplerConfig {
    vsAdaptiveConfig adaptive;
    int balloon_period_s;       /* stats period set on domains that lack one; 0: leave alone */
    guint64 spool_max_bytes;
};

typedef struct _vsSamplerStats vsSamplerStats;
struct _vsSamplerStats {
    guint64 cycles;
    double last_cycle_s;        /* wall time of the last cycle */
    guint64 samples_collected;
    guint64 samples_stored;     /* reached the database, directly or replayed */
    guint64 samples_spooled;
    guint spool_batches;
    guint64 spool_bytes;
    gboolean database_up;
    guint domains;              /* tracked */
};

typedef struct _vsSampler vsSampler;

/* Open the spool in @spool_dir (created 0700). */
vsSampler *vsSamplerNew(const vsSamplerConfig *cfg, const char *host, const char *spool_dir,
                        GError **error);
void vsSamplerFree(vsSampler *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsSampler, vsSamplerFree)

void vsSamplerSetConfig(vsSampler *s, const vsSamplerConfig *cfg);

/* Labels from `virt-shadow annotate` (UUID -> JSON object), replacing the
 * previous set; they win over labels from domain metadata. */
void vsSamplerSetLabels(vsSampler *s, GHashTable *labels);

/*
 * A cycle has two halves, which may run on two threads (one each):
 * collection talks to libvirt, storing to the database and the spool.
 */

/* Collect at @now_us: rates of the due domains, labels attached.  NULL
 * with @error when libvirt failed; the batch may be empty. */
vsSampleBatch *vsSamplerCollect(vsSampler *s, vsHypervisor *hv, gint64 now_us,
                                GError **error);

/* Store @batch, or spool it when @store is NULL or fails; older spooled
 * batches go first.  Storage problems are not errors (the data is
 * spooled) but show in the stats and messages.  FALSE when @store was
 * given and failed: the caller should reconnect. */
gboolean vsSamplerStore(vsSampler *s, vsStore *store, const vsSampleBatch *batch);

/* Replay the spool into @store; FALSE when the database failed again. */
gboolean vsSamplerReplay(vsSampler *s, vsStore *store, GError **error);

/* Both halves on one thread: collection errors are returned. */
gboolean vsSamplerCycle(vsSampler *s, vsHypervisor *hv, vsStore *store, gint64 now_us,
                        GError **error);

/* A consistent copy, from any thread. */
void vsSamplerGetStats(vsSampler *s, vsSamplerStats *ret);

/* The latest sample of every tracked domain (borrowed vsSample pointers),
 * for the metrics endpoint; collection side only. */
GPtrArray *vsSamplerLatest(vsSampler *s);

/* Messages worth logging since the last call (spool roll-ups, torn
 * records, stats periods turned on); NULL when none.  Any thread. */
GStrv vsSamplerTakeMessages(vsSampler *s);

G_END_DECLS
