/*
 * vssample.c: samples, batches and the 5-minute roll-up
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vssample.h"

#define VS_ROLLUP_S 300
#define VS_ROLLUP_US ((gint64) VS_ROLLUP_S * G_USEC_PER_SEC)

void
vsDomainCountersClear(vsDomainCounters *c)
{
    if (!c)
        return;
    g_clear_pointer(&c->name, g_free);
}

void
vsSampleInit(vsSample *s)
{
    memset(s, 0, sizeof(*s));
    s->interval_s = NAN;
    s->cpu_vcpus = NAN;
    s->cpu_per_vcpu = NAN;
    s->vcpus = -1;
    s->vcpus_max = -1;
    s->mem_used_kib = -1;
    s->mem_used_is_rss = FALSE;
    s->mem_current_kib = -1;
    s->mem_max_kib = -1;
    s->disk_rd_bps = NAN;
    s->disk_wr_bps = NAN;
    s->disk_rd_iops = NAN;
    s->disk_wr_iops = NAN;
    s->net_rx_bps = NAN;
    s->net_tx_bps = NAN;
}

void
vsSampleClear(vsSample *s)
{
    if (!s)
        return;
    g_clear_pointer(&s->name, g_free);
    g_clear_pointer(&s->labels, g_free);
}

void
vsSampleCopy(vsSample *dst, const vsSample *src)
{
    *dst = *src;
    dst->name = g_strdup(src->name);
    dst->labels = g_strdup(src->labels);
}

static guint64
vsSampleBatchRandomId(void)
{
    guint64 id = 0;

    /* 63 bits so the id survives a round trip through a signed bigint */
    while (id == 0)
        id = (((guint64) g_random_int() << 32) | g_random_int()) & G_MAXINT64;
    return id;
}

vsSampleBatch *
vsSampleBatchNew(guint32 rollup_s)
{
    vsSampleBatch *b = g_new0(vsSampleBatch, 1);

    b->id = vsSampleBatchRandomId();
    b->rollup_s = rollup_s;
    b->samples = g_array_new(FALSE, FALSE, sizeof(vsSample));
    g_array_set_clear_func(b->samples, (GDestroyNotify) vsSampleClear);
    return b;
}

void
vsSampleBatchFree(vsSampleBatch *b)
{
    if (!b)
        return;
    g_array_unref(b->samples);
    g_free(b);
}

/* --- roll-up ---------------------------------------------------------------- */

/* Averaged fields, addressed by offset so one loop handles them all. */
static const gsize vsRollUpDoubles[] = {
    G_STRUCT_OFFSET(vsSample, cpu_vcpus),
    G_STRUCT_OFFSET(vsSample, cpu_per_vcpu),
    G_STRUCT_OFFSET(vsSample, disk_rd_bps),
    G_STRUCT_OFFSET(vsSample, disk_wr_bps),
    G_STRUCT_OFFSET(vsSample, disk_rd_iops),
    G_STRUCT_OFFSET(vsSample, disk_wr_iops),
    G_STRUCT_OFFSET(vsSample, net_rx_bps),
    G_STRUCT_OFFSET(vsSample, net_tx_bps),
};

static const gsize vsRollUpInts[] = {
    G_STRUCT_OFFSET(vsSample, mem_used_kib),
    G_STRUCT_OFFSET(vsSample, mem_current_kib),
    G_STRUCT_OFFSET(vsSample, mem_max_kib),
};

#define VS_FIELD(s, off, type) (*(type *) ((char *) (s) + (off)))

static gint64
vsRollUpBucket(const vsSample *s)
{
    /* floor division: times before the epoch must not share bucket 0 */
    if (s->time_us >= 0)
        return s->time_us / VS_ROLLUP_US;
    return -((-s->time_us + VS_ROLLUP_US - 1) / VS_ROLLUP_US);
}

static gint
vsRollUpCompare(gconstpointer a, gconstpointer b)
{
    const vsSample *x = *(const vsSample * const *) a;
    const vsSample *y = *(const vsSample * const *) b;
    gint64 bx = vsRollUpBucket(x);
    gint64 by = vsRollUpBucket(y);
    int cmp;

    if (bx != by)
        return bx < by ? -1 : 1;
    if ((cmp = strcmp(x->uuid, y->uuid)) != 0)
        return cmp;
    if (x->time_us != y->time_us)
        return x->time_us < y->time_us ? -1 : 1;
    return 0;
}

static gboolean
vsRollUpSameGroup(const vsSample *a, const vsSample *b)
{
    return vsRollUpBucket(a) == vsRollUpBucket(b) && strcmp(a->uuid, b->uuid) == 0;
}

/* A member without a usable interval still counts, with weight 1. */
static double
vsRollUpWeight(const vsSample *s)
{
    return isfinite(s->interval_s) && s->interval_s > 0 ? s->interval_s : 1.0;
}

static void
vsRollUpAverage(const vsSample *const *members, guint n, vsSample *out)
{
    gsize f;
    guint i;

    for (f = 0; f < G_N_ELEMENTS(vsRollUpDoubles); f++) {
        double sum = 0, weight = 0;

        for (i = 0; i < n; i++) {
            double v = VS_FIELD(members[i], vsRollUpDoubles[f], double);

            if (isnan(v))
                continue;
            sum += v * vsRollUpWeight(members[i]);
            weight += vsRollUpWeight(members[i]);
        }
        VS_FIELD(out, vsRollUpDoubles[f], double) = weight > 0 ? sum / weight : NAN;
    }

    for (f = 0; f < G_N_ELEMENTS(vsRollUpInts); f++) {
        double sum = 0, weight = 0;

        for (i = 0; i < n; i++) {
            gint64 v = VS_FIELD(members[i], vsRollUpInts[f], gint64);

            if (v < 0)
                continue;
            sum += (double) v * vsRollUpWeight(members[i]);
            weight += vsRollUpWeight(members[i]);
        }
        VS_FIELD(out, vsRollUpInts[f], gint64) = weight > 0 ? llround(sum / weight) : -1;
    }
}

/* @members are one domain's samples in one bucket, oldest first. */
static void
vsRollUpGroup(const vsSample *const *members, guint n, vsSample *out)
{
    const vsSample *latest = members[n - 1];
    double interval = 0;
    gboolean anyInterval = FALSE;
    guint i;

    vsSampleInit(out);
    out->time_us = (vsRollUpBucket(latest) + 1) * VS_ROLLUP_US;
    memcpy(out->uuid, latest->uuid, sizeof(out->uuid));
    out->name = g_strdup(latest->name);
    out->labels = g_strdup(latest->labels);

    for (i = 0; i < n; i++) {
        const vsSample *m = members[i];

        if (!isnan(m->interval_s)) {
            interval += m->interval_s;
            anyInterval = TRUE;
        }
        out->vcpus = MAX(out->vcpus, m->vcpus);
        out->vcpus_max = MAX(out->vcpus_max, m->vcpus_max);
        out->mem_used_is_rss |= m->mem_used_is_rss;
    }
    out->interval_s = anyInterval ? interval : NAN;
    vsRollUpAverage(members, n, out);
}

vsSampleBatch *
vsSampleBatchRollUp(const vsSampleBatch *raw)
{
    vsSampleBatch *ret = vsSampleBatchNew(VS_ROLLUP_S);
    g_autoptr(GPtrArray) sorted = g_ptr_array_sized_new(raw->samples->len);
    guint start = 0;
    guint i;

    for (i = 0; i < raw->samples->len; i++)
        g_ptr_array_add(sorted, &g_array_index(raw->samples, vsSample, i));
    g_ptr_array_sort(sorted, vsRollUpCompare);

    for (i = 1; i <= sorted->len; i++) {
        vsSample out;

        if (i < sorted->len &&
            vsRollUpSameGroup(g_ptr_array_index(sorted, start),
                              g_ptr_array_index(sorted, i)))
            continue;

        vsRollUpGroup((const vsSample *const *) sorted->pdata + start, i - start, &out);
        g_array_append_val(ret->samples, out);
        start = i;
    }
    return ret;
}
