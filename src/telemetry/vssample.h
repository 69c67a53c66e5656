/*
 * vssample.h: what the sampler reads from the hypervisor and what it stores
 *
 * vsDomainCounters is one domain's cumulative counters from one bulk stats
 * call, flattened (block and interface devices summed) so a cycle over
 * thousands of domains allocates almost nothing.  vsSample is the rate over
 * one interval that goes to the store.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VS_UUID_STRLEN 37

/* Which vsDomainCounters fields the hypervisor supplied. */
typedef enum {
    VS_COUNTER_CPU_TIME = 1 << 0,
    VS_COUNTER_VCPU_CURRENT = 1 << 1,
    VS_COUNTER_VCPU_MAXIMUM = 1 << 2,
    VS_COUNTER_BALLOON_CURRENT = 1 << 3,
    VS_COUNTER_BALLOON_MAXIMUM = 1 << 4,
    VS_COUNTER_BALLOON_AVAILABLE = 1 << 5,
    VS_COUNTER_BALLOON_UNUSED = 1 << 6,
    VS_COUNTER_BALLOON_USABLE = 1 << 7,
    VS_COUNTER_BALLOON_RSS = 1 << 8,
    VS_COUNTER_BALLOON_LAST_UPDATE = 1 << 9,
    VS_COUNTER_BLOCK = 1 << 10,         /* at least one block device summed */
    VS_COUNTER_NET = 1 << 11,           /* at least one interface summed */
    VS_COUNTER_STATE = 1 << 12,
} vsCounterFields;

typedef struct _vsDomainCounters vsDomainCounters;
struct _vsDomainCounters {
    char uuid[VS_UUID_STRLEN];
    char *name;
    int state;                  /* vsDomainState */
    guint32 present;            /* vsCounterFields */
    guint64 cpu_time_ns;        /* cpu.time */
    guint32 vcpu_current;
    guint32 vcpu_maximum;
    guint64 balloon_current_kib;
    guint64 balloon_maximum_kib;
    guint64 balloon_available_kib;
    guint64 balloon_unused_kib;
    guint64 balloon_usable_kib;
    guint64 balloon_rss_kib;
    guint64 balloon_last_update;    /* guest's stats timestamp, seconds */
    guint64 block_rd_bytes;     /* sums over block.N */
    guint64 block_wr_bytes;
    guint64 block_rd_reqs;
    guint64 block_wr_reqs;
    guint64 net_rx_bytes;       /* sums over net.N */
    guint64 net_tx_bytes;
};

/* Frees the name; the struct itself usually lives in a GArray. */
void vsDomainCountersClear(vsDomainCounters *c);

/* One stored sample: rates over [time - interval, time].  A double that is
 * NaN, or an integer that is -1, was not measurable this interval. */
typedef struct _vsSample vsSample;
struct _vsSample {
    gint64 time_us;             /* Unix microseconds, end of the interval */
    char uuid[VS_UUID_STRLEN];
    char *name;
    double interval_s;
    double cpu_vcpus;           /* vCPU-equivalents: cpu.time delta / wall time */
    double cpu_per_vcpu;        /* cpu_vcpus / current vCPUs, 0..1 */
    gint32 vcpus;               /* current */
    gint32 vcpus_max;
    gint64 mem_used_kib;        /* available - unused; else rss (see flag) */
    gboolean mem_used_is_rss;   /* fallback: the guest gave no balloon stats */
    gint64 mem_current_kib;     /* balloon.current */
    gint64 mem_max_kib;         /* balloon.maximum */
    double disk_rd_bps;
    double disk_wr_bps;
    double disk_rd_iops;
    double disk_wr_iops;
    double net_rx_bps;
    double net_tx_bps;
    char *labels;               /* workload labels as a JSON object, or NULL */
};

/* Set every measurement to "unknown" (NaN / -1), time and identity zero. */
void vsSampleInit(vsSample *s);
/* Frees name and labels. */
void vsSampleClear(vsSample *s);
/* Deep copy into @dst (which is overwritten, not cleared). */
void vsSampleCopy(vsSample *dst, const vsSample *src);

/* The unit of writing: samples stored in one transaction under one id, so
 * a batch replayed from the spool after an ambiguous commit is recognised
 * and never stored twice. */
typedef struct _vsSampleBatch vsSampleBatch;
struct _vsSampleBatch {
    guint64 id;                 /* random, never 0 */
    guint32 rollup_s;           /* 0: raw samples; 300: 5-minute averages */
    GArray *samples;            /* vsSample, cleared with the array */
};

vsSampleBatch *vsSampleBatchNew(guint32 rollup_s);    /* fresh random id */
void vsSampleBatchFree(vsSampleBatch *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsSampleBatch, vsSampleBatchFree)

/* Average @raw's samples into one sample per domain and 5-minute bucket
 * (rates and memory averaged, the bucket's end as time): the spool's way
 * to keep old data when it must shrink.  A new batch with rollup_s 300. */
vsSampleBatch *vsSampleBatchRollUp(const vsSampleBatch *raw);

G_END_DECLS
