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

/* One cycle at @now_us.  @store may be NULL (database away): samples are
 * spooled.  Collection errors are returned; storage problems are not
 * errors (the data is spooled) but show in the stats and warnings. */
gboolean vsSamplerCycle(vsSampler *s, vsHypervisor *hv, vsStore *store, gint64 now_us,
                        GError **error);

/* Replay the spool into @store; FALSE when the database failed again. */
gboolean vsSamplerReplay(vsSampler *s, vsStore *store, GError **error);

const vsSamplerStats *vsSamplerGetStats(vsSampler *s);

/* The latest sample of every tracked domain (borrowed vsSample pointers),
 * for the metrics endpoint. */
GPtrArray *vsSamplerLatest(vsSampler *s);

/* Messages worth logging since the last call (spool roll-ups, torn
 * records, stats periods turned on); NULL when none. */
GStrv vsSamplerTakeMessages(vsSampler *s);

G_END_DECLS
