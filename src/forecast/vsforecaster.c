/*
 * vsforecaster.c: a model plus conformal prediction intervals
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vsforecaster.h"
#include "vsselect.h"

/* The errors at one horizon: a FIFO of the last @cap, and the same values
 * in order, cut into blocks that each keep some room, so that an update
 * shifts part of one block and a quantile walks the block counts.  (One
 * sorted array shifted half its length twice a step: at 10,000 domains
 * that was most of the forecast update's memory traffic.  Scaling errors
 * by the recent error level, normalised conformal prediction, was tried:
 * on the Bitbrains traces it chased isolated spikes and cost more slack
 * than it saved.) */
typedef struct {
    float *fifo;            /* single precision: plenty for errors, and a
                             * domain's windows cost half */
    float *blocks;          /* @n_blocks of @block, each sorted, in order:
                             * together the window sorted (after the fifo,
                             * in its allocation) */
    float *top;             /* each block's largest, when it has any */
    guint8 *count;          /* values in each block */
    guint n_blocks;
    guint block;
    guint cap;
    guint len;
    guint head;             /* oldest in fifo */
    double abs_sum;
} vsErrorWindow;

struct _vsForecaster {
    const vsModelDriver *drv;
    gpointer model;
    guint first;            /* errors are kept from this horizon on */
    guint horizon;
    /* pending[(target % (horizon + 1)) * horizon + (h - 1)]: the forecast
     * made h steps before @target, NaN when none */
    double *pending;
    guint phase;            /* observations so far, modulo horizon + 1: kept,
                             * not divided out each step */
    vsErrorWindow *errors;  /* one per horizon */
    double *point;          /* scratch: the last forecasts, h = 1..horizon */
    gboolean ready;         /* @point holds valid forecasts */
};

/* Values per block; a rebuild leaves an eighth of each free. */
#define VS_ERROR_BLOCK 64

/* Blocks a window of @cap is cut into. */
static guint
vsErrorWindowBlocks(guint cap)
{
    guint fill = VS_ERROR_BLOCK - VS_ERROR_BLOCK / 8;

    return cap <= VS_ERROR_BLOCK ? 1 : (cap + fill - 1) / fill;
}

/* Bytes of @w's block tops and counts, which live at @meta (beside the
 * forecaster, where a step finds them without another cache miss). */
static gsize
vsErrorWindowMetaSize(guint cap)
{
    gsize size = vsErrorWindowBlocks(cap) * (sizeof(float) + sizeof(guint8));

    return (size + sizeof(double) - 1) / sizeof(double) * sizeof(double);
}

/* @cap 0: a window that never takes an error. */
static void
vsErrorWindowInit(vsErrorWindow *w, guint cap, gpointer meta)
{
    w->cap = cap;
    w->block = MIN(cap, VS_ERROR_BLOCK);
    w->n_blocks = vsErrorWindowBlocks(cap);
    w->fifo = cap ? g_new(float, cap + w->n_blocks * w->block) : NULL;
    w->blocks = w->fifo ? w->fifo + cap : NULL;
    w->top = meta;
    w->count = (guint8 *)(w->top + w->n_blocks);
    memset(w->count, 0, w->n_blocks);
}

static void
vsErrorWindowClear(vsErrorWindow *w)
{
    g_free(w->fifo);
}

/* First index whose value is >= @v. */
static guint
vsSortedLowerBound(const float *a, guint n, float v)
{
    guint lo = 0, hi = n;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;

        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The block holding the first value >= @v, where @v goes in order: every
 * value before it is smaller.  Past the largest: the last block with
 * values (the first when there are none). */
static guint
vsErrorWindowFind(const vsErrorWindow *w, float v)
{
    guint last = 0;

    for (guint b = 0; b < w->n_blocks; b++) {
        if (!w->count[b])
            continue;
        if (!(w->top[b] < v))
            return b;
        last = b;
    }
    return last;
}

/* Spread the values evenly over the blocks again, keeping their order:
 * packed to the front first, then moved to their places from the back. */
static void
vsErrorWindowRebuild(vsErrorWindow *w)
{
    guint packed = 0, end;

    for (guint b = 0; b < w->n_blocks; b++) {
        memmove(w->blocks + packed, w->blocks + b * w->block, w->count[b] * sizeof(float));
        packed += w->count[b];
    }
    end = packed;
    for (guint b = w->n_blocks; b-- > 0;) {
        guint n = packed / w->n_blocks + (b < packed % w->n_blocks);

        end -= n;
        memmove(w->blocks + b * w->block, w->blocks + end, n * sizeof(float));
        w->count[b] = n;
        if (n)
            w->top[b] = w->blocks[b * w->block + n - 1];
    }
}

/* Remove the first value equal to @v, which is there. */
static void
vsErrorWindowRemove(vsErrorWindow *w, float v)
{
    guint b = vsErrorWindowFind(w, v);
    float *a = w->blocks + b * w->block;
    guint i = vsSortedLowerBound(a, w->count[b], v);

    memmove(a + i, a + i + 1, (w->count[b] - i - 1) * sizeof(float));
    if (--w->count[b])
        w->top[b] = a[w->count[b] - 1];
}

/* Insert @v before the values equal to it. */
static void
vsErrorWindowInsert(vsErrorWindow *w, float v)
{
    guint b = vsErrorWindowFind(w, v);
    float *a;
    guint i;

    if (w->count[b] == w->block) {
        vsErrorWindowRebuild(w);
        b = vsErrorWindowFind(w, v);
    }
    a = w->blocks + b * w->block;
    i = vsSortedLowerBound(a, w->count[b], v);
    memmove(a + i + 1, a + i, (w->count[b] - i) * sizeof(float));
    a[i] = v;
    w->top[b] = a[w->count[b]++];
}

static void
vsErrorWindowAdd(vsErrorWindow *w, double error)
{
    float e = (float)error;
    guint slot;

    if (w->len == w->cap) {
        vsErrorWindowRemove(w, w->fifo[w->head]);
        w->len--;
        w->abs_sum -= fabs(w->fifo[w->head]);
        slot = w->head;
        w->head = (w->head + 1) % w->cap;
    } else {
        slot = (w->head + w->len) % w->cap;
    }
    w->fifo[slot] = e;
    vsErrorWindowInsert(w, e);
    w->len++;
    w->abs_sum += fabs(e);
}

/* The values ranked @i and @i + 1 (0: the smallest); the second only when
 * there is one.  Counted from whichever end is nearer. */
static void
vsErrorWindowRanked(const vsErrorWindow *w, guint i, float *ret_a, float *ret_b)
{
    guint b = 0, k = i;

    if (i < w->len / 2) {
        while (k >= w->count[b])
            k -= w->count[b++];
    } else {
        guint from_end = w->len - 1 - i;

        b = w->n_blocks - 1;
        while (from_end >= w->count[b])
            from_end -= w->count[b--];
        k = w->count[b] - 1 - from_end;
    }
    *ret_a = w->blocks[b * w->block + k];
    if (i + 1 >= w->len)
        return;
    if (k + 1 < w->count[b]) {
        *ret_b = w->blocks[b * w->block + k + 1];
        return;
    }
    while (!w->count[++b])
        ;
    *ret_b = w->blocks[b * w->block];
}

/* Linear interpolation between order statistics, like numpy's default. */
static double
vsErrorWindowQuantile(const vsErrorWindow *w, double q)
{
    double pos = CLAMP(q, 0, 1) * (w->len - 1);
    guint i = (guint)pos;
    float a, b = 0;

    vsErrorWindowRanked(w, MIN(i, w->len - 1), &a, &b);
    if (i + 1 >= w->len)
        return a;
    return a + (pos - i) * (b - a);
}

/* The forecaster, its windows' bookkeeping, pending forecasts and
 * scratch are one allocation: a step touches them all. */
vsForecaster *
vsForecasterNew(const vsModelDriver *drv, const vsModelOptions *opts, guint first,
                guint horizon, guint window)
{
    vsForecaster *f;
    guint n = (horizon + 1) * horizon;
    gsize size = sizeof(*f) + horizon * sizeof(vsErrorWindow) + (n + horizon) * sizeof(double);
    char *meta;

    g_return_val_if_fail(first >= 1 && horizon >= first && window > 1, NULL);
    for (guint h = first; h <= horizon; h++)
        size += vsErrorWindowMetaSize(window);
    /* horizons before @first are never scored: their windows keep nothing */
    size += (first - 1) * vsErrorWindowMetaSize(0);
    f = g_malloc0(size);
    f->errors = (vsErrorWindow *)(f + 1);
    f->pending = (double *)(f->errors + horizon);
    f->point = f->pending + n;
    meta = (char *)(f->point + horizon);
    f->drv = drv;
    f->model = drv->create(opts);
    f->first = first;
    f->horizon = horizon;
    for (guint i = 0; i < n; i++)
        f->pending[i] = NAN;
    for (guint h = 1; h <= horizon; h++) {
        guint cap = h < first ? 0 : window;

        vsErrorWindowInit(&f->errors[h - 1], cap, meta);
        meta += vsErrorWindowMetaSize(cap);
    }
    return f;
}

void
vsForecasterFree(vsForecaster *f)
{
    if (!f)
        return;
    f->drv->destroy(f->model);
    for (guint h = 0; h < f->horizon; h++)
        vsErrorWindowClear(&f->errors[h]);
    g_free(f);
}

const vsModelDriver *
vsForecasterDriver(vsForecaster *f)
{
    return f->drv;
}

/* The pending slot of the observation @k (< horizon) after the next. */
static guint
vsForecasterSlot(vsForecaster *f, guint k)
{
    guint i = f->phase + k;

    return (i > f->horizon ? i - f->horizon - 1 : i) * f->horizon;
}

/* Forecast from the model's current state, for the observations to come. */
static void
vsForecasterRefresh(vsForecaster *f)
{
    f->ready = f->drv->forecast(f->model, f->horizon, NULL, f->point);
    for (guint h = 1; h <= f->horizon; h++) {
        double p = f->ready && isfinite(f->point[h - 1]) ? f->point[h - 1] : NAN;

        f->pending[vsForecasterSlot(f, h - 1) + h - 1] = p;
    }
}

gboolean
vsForecasterFit(vsForecaster *f, const vsSeries *series, GError **error)
{
    if (!f->drv->fit(f->model, series, error))
        return FALSE;
    vsForecasterRefresh(f);
    return TRUE;
}

/* Ask for the cache lines holding the @bytes at @p. */
static void
vsPrefetch(const void *p, gsize bytes)
{
    guintptr line = (guintptr)p & ~(guintptr)63;

    for (; bytes && line < (guintptr)p + bytes; line += 64)
        __builtin_prefetch((const void *)line);
}

/* A step reads the model, each window's oldest error, the block the new
 * one goes into and the largest errors (where the quantiles from @q up
 * lie): far apart, and with 10,000 domains none of them still in cache.
 * Asked for at once, their misses overlap instead of coming one by one. */
void
vsForecasterPrefetch(vsForecaster *f, double y, double q)
{
    guint slot = vsForecasterSlot(f, 0);

    __builtin_prefetch(f->model);
    for (guint h = f->first; h <= f->horizon; h++) {
        vsErrorWindow *w = &f->errors[h - 1];
        double fc = f->pending[slot + h - 1];
        guint high = w->len ? w->len - (guint)(CLAMP(q, 0, 1) * (w->len - 1)) : 0;

        if (w->len == w->cap)
            __builtin_prefetch(&w->fifo[w->head]);
        if (!isnan(y) && !isnan(fc))
            vsPrefetch(w->blocks + vsErrorWindowFind(w, (float)(y - fc)) * w->block,
                       w->block * sizeof(float));
        for (guint b = w->n_blocks; high > 0 && b-- > 0;) {
            guint take = MIN(high, w->count[b]);

            vsPrefetch(w->blocks + b * w->block + w->count[b] - take, take * sizeof(float));
            high -= take;
        }
    }
}

void
vsForecasterObserve(vsForecaster *f, double t, double y, const double *x)
{
    guint slot = vsForecasterSlot(f, 0);

    for (guint h = 1; h <= f->horizon; h++) {
        double fc = f->pending[slot + h - 1];

        f->pending[slot + h - 1] = NAN;
        if (isnan(y) || isnan(fc) || h < f->first)
            continue;
        vsErrorWindowAdd(&f->errors[h - 1], y - fc);
    }
    f->drv->update(f->model, t, y, x);
    f->phase = f->phase == f->horizon ? 0 : f->phase + 1;
    vsForecasterRefresh(f);
}

gboolean
vsForecasterQuantile(vsForecaster *f, guint h, double q, double *ret)
{
    const vsErrorWindow *w;

    g_return_val_if_fail(h >= 1 && h <= f->horizon, FALSE);
    if (!f->ready || !isfinite(f->point[h - 1]))
        return FALSE;
    w = &f->errors[h - 1];
    *ret = f->point[h - 1] + (w->len ? vsErrorWindowQuantile(w, q) : 0);
    return TRUE;
}

gboolean
vsForecasterPoint(vsForecaster *f, guint h, double *ret)
{
    g_return_val_if_fail(h >= 1 && h <= f->horizon, FALSE);
    if (!f->ready || !isfinite(f->point[h - 1]))
        return FALSE;
    *ret = f->point[h - 1];
    return TRUE;
}

gboolean
vsForecasterPredict(vsForecaster *f, guint h, double coverage, double *point,
                    double *lower, double *upper)
{
    double tail = (1 - CLAMP(coverage, 0, 1)) / 2;

    if (!vsForecasterQuantile(f, h, tail, lower) ||
        !vsForecasterQuantile(f, h, 1 - tail, upper))
        return FALSE;
    *point = f->point[h - 1];
    return TRUE;
}

guint
vsForecasterErrors(vsForecaster *f, guint h)
{
    g_return_val_if_fail(h >= 1 && h <= f->horizon, 0);
    return f->errors[h - 1].len;
}

double
vsForecasterMae(vsForecaster *f, guint h)
{
    const vsErrorWindow *w;

    g_return_val_if_fail(h >= 1 && h <= f->horizon, NAN);
    w = &f->errors[h - 1];
    return w->len ? w->abs_sum / w->len : NAN;
}
