/*
 * vsrates.c: cumulative counters in, per-interval rates out
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vsrates.h"

/* One domain's previous sight.  The hash key is prev.uuid, so a domain
 * costs one allocation for its whole life. */
typedef struct {
    vsDomainCounters prev;      /* name always NULL */
    gint64 time_us;             /* when prev was read; also "last seen" */
} vsRateState;

struct _vsRateTracker {
    GHashTable *domains;        /* uuid -> vsRateState */
};

vsRateTracker *
vsRateTrackerNew(void)
{
    vsRateTracker *t = g_new0(vsRateTracker, 1);

    t->domains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    return t;
}

void
vsRateTrackerFree(vsRateTracker *t)
{
    if (!t)
        return;
    g_hash_table_unref(t->domains);
    g_free(t);
}

static gboolean
vsRatesHave(const vsDomainCounters *prev, const vsDomainCounters *cur, guint32 field)
{
    return (prev->present & field) && (cur->present & field);
}

/* Per-second rate of a cumulative counter; a decrease is a reset. */
static double
vsRatesPerSecond(guint64 before, guint64 now, double interval_s)
{
    if (now < before)
        return NAN;
    return (double) (now - before) / interval_s;
}

static gint64
vsRatesInt64(guint64 v)
{
    return v > G_MAXINT64 ? G_MAXINT64 : (gint64) v;
}

static gint32
vsRatesInt32(guint32 v)
{
    return v > G_MAXINT32 ? G_MAXINT32 : (gint32) v;
}

/* Gauges: they need no history. */
static void
vsRatesFillGauges(const vsDomainCounters *c, vsSample *ret)
{
    const guint32 freeStats = VS_COUNTER_BALLOON_AVAILABLE | VS_COUNTER_BALLOON_UNUSED;

    if (c->present & VS_COUNTER_VCPU_CURRENT)
        ret->vcpus = vsRatesInt32(c->vcpu_current);
    if (c->present & VS_COUNTER_VCPU_MAXIMUM)
        ret->vcpus_max = vsRatesInt32(c->vcpu_maximum);
    if (c->present & VS_COUNTER_BALLOON_CURRENT)
        ret->mem_current_kib = vsRatesInt64(c->balloon_current_kib);
    if (c->present & VS_COUNTER_BALLOON_MAXIMUM)
        ret->mem_max_kib = vsRatesInt64(c->balloon_maximum_kib);

    ret->mem_used_is_rss = FALSE;
    if ((c->present & freeStats) == freeStats &&
        c->balloon_available_kib >= c->balloon_unused_kib) {
        ret->mem_used_kib = vsRatesInt64(c->balloon_available_kib - c->balloon_unused_kib);
    } else if (c->present & VS_COUNTER_BALLOON_RSS) {
        ret->mem_used_kib = vsRatesInt64(c->balloon_rss_kib);
        ret->mem_used_is_rss = TRUE;
    }
}

static void
vsRatesFillCpu(const vsDomainCounters *prev, const vsDomainCounters *c,
               gint64 wall_us, vsSample *ret)
{
    if (!vsRatesHave(prev, c, VS_COUNTER_CPU_TIME) || c->cpu_time_ns < prev->cpu_time_ns)
        return;
    ret->cpu_vcpus = (double) (c->cpu_time_ns - prev->cpu_time_ns) / ((double) wall_us * 1000.0);
    if ((c->present & VS_COUNTER_VCPU_CURRENT) && c->vcpu_current > 0)
        ret->cpu_per_vcpu = ret->cpu_vcpus / c->vcpu_current;
}

static void
vsRatesFillIO(const vsDomainCounters *prev, const vsDomainCounters *c,
              double interval_s, vsSample *ret)
{
    if (vsRatesHave(prev, c, VS_COUNTER_BLOCK)) {
        ret->disk_rd_bps = vsRatesPerSecond(prev->block_rd_bytes, c->block_rd_bytes, interval_s);
        ret->disk_wr_bps = vsRatesPerSecond(prev->block_wr_bytes, c->block_wr_bytes, interval_s);
        ret->disk_rd_iops = vsRatesPerSecond(prev->block_rd_reqs, c->block_rd_reqs, interval_s);
        ret->disk_wr_iops = vsRatesPerSecond(prev->block_wr_reqs, c->block_wr_reqs, interval_s);
    }
    if (vsRatesHave(prev, c, VS_COUNTER_NET)) {
        ret->net_rx_bps = vsRatesPerSecond(prev->net_rx_bytes, c->net_rx_bytes, interval_s);
        ret->net_tx_bps = vsRatesPerSecond(prev->net_tx_bytes, c->net_tx_bytes, interval_s);
    }
}

/* cpu.time going backwards means the domain restarted: every counter was
 * reset, even one that has since grown past its old value. */
static gboolean
vsRatesRestarted(const vsDomainCounters *prev, const vsDomainCounters *c)
{
    return vsRatesHave(prev, c, VS_COUNTER_CPU_TIME) && c->cpu_time_ns < prev->cpu_time_ns;
}

static void
vsRatesRemember(vsRateState *st, const vsDomainCounters *c, gint64 now_us)
{
    st->prev = *c;
    st->prev.name = NULL;
    st->time_us = now_us;
}

gboolean
vsRateTrackerUpdate(vsRateTracker *t, const vsDomainCounters *c,
                    gint64 now_us, vsSample *ret)
{
    vsRateState *st = g_hash_table_lookup(t->domains, c->uuid);
    gint64 wall_us;

    if (!st) {
        st = g_new0(vsRateState, 1);
        vsRatesRemember(st, c, now_us);
        g_hash_table_insert(t->domains, st->prev.uuid, st);
        return FALSE;
    }

    ret->time_us = now_us;
    memcpy(ret->uuid, c->uuid, sizeof(ret->uuid));
    ret->uuid[VS_UUID_STRLEN - 1] = '\0';
    g_free(ret->name);
    ret->name = g_strdup(c->name);
    vsRatesFillGauges(c, ret);

    wall_us = now_us - st->time_us;
    if (wall_us > 0)
        ret->interval_s = (double) wall_us / G_USEC_PER_SEC;
    if (wall_us > 0 && !vsRatesRestarted(&st->prev, c)) {
        vsRatesFillCpu(&st->prev, c, wall_us, ret);
        vsRatesFillIO(&st->prev, c, ret->interval_s, ret);
    }

    /* the key is st->prev.uuid: same string before and after */
    vsRatesRemember(st, c, now_us);
    return TRUE;
}

static gboolean
vsRatesIsStale(gpointer key, gpointer value, gpointer opaque)
{
    const vsRateState *st = value;

    return st->time_us < *(const gint64 *) opaque;
}

guint
vsRateTrackerExpire(vsRateTracker *t, gint64 before_us)
{
    return g_hash_table_foreach_remove(t->domains, vsRatesIsStale, &before_us);
}

guint
vsRateTrackerSize(vsRateTracker *t)
{
    return g_hash_table_size(t->domains);
}
