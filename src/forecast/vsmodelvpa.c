/*
 * vsmodelvpa.c: the Kubernetes VPA recommender's target, as a model
 *
 * The histogram follows VPA's Go code step for step, quirks included
 * (which buckets count as non-empty, where a percentile walk starts, what
 * a rescale touches), so that its targets match the reference figures.
 */
#include <config.h>

#include <math.h>

#include "util/vserror.h"
#include "vsmodelvpa.h"

/* VPA's margin over the P90. */
#define VS_VPA_TARGET_PERCENTILE 0.9
#define VS_VPA_MARGIN 1.15
/* Weights are renormalised before 2^exponent overflows. */
#define VS_VPA_MAX_DECAY_EXPONENT 100
#define VS_VPA_BYTES_PER_MIB 1048576.0

struct _vsVpaHistogram {
    double first;           /* size of the first bucket */
    double ratio;           /* 1 + growth */
    double log_ratio;       /* log(ratio), not taken again for every value */
    guint n;                /* buckets */
    double *weight;
    double total;
    /* VPA's minBucket and maxBucket: the first and last bucket holding at
     * least epsilon, or n - 1 and 0 when none does */
    guint min, max;
    double half_life;       /* seconds, <= 0 for none */
    gboolean has_ref;
    double ref;             /* t_ref, a multiple of half_life */
};

/* The weights follow the histogram in its allocation: an update reads
 * both, and a forecaster's step updates several histograms. */
vsVpaHistogram *
vsVpaHistogramNew(double first_bucket, double max_value, double half_life_s)
{
    double ratio = 1.0 + VS_VPA_BUCKET_GROWTH;
    guint n = (guint)ceil(log(max_value * (ratio - 1) / first_bucket + 1) / log(ratio)) + 1;
    vsVpaHistogram *h = g_malloc0(sizeof(*h) + n * sizeof(double));

    h->first = first_bucket;
    h->ratio = ratio;
    h->log_ratio = log(h->ratio);
    h->n = n;
    h->weight = (double *)(h + 1);
    h->min = h->n - 1;
    h->max = 0;
    h->half_life = half_life_s;
    return h;
}

void
vsVpaHistogramFree(vsVpaHistogram *h)
{
    g_free(h);
}

guint
vsVpaHistogramBuckets(const vsVpaHistogram *h)
{
    return h->n;
}

double
vsVpaHistogramBucketStart(const vsVpaHistogram *h, guint bucket)
{
    if (bucket == 0)
        return 0.0;
    return h->first * (pow(h->ratio, bucket) - 1) / (h->ratio - 1);
}

guint
vsVpaHistogramFindBucket(const vsVpaHistogram *h, double value)
{
    double b;

    if (value < h->first)
        return 0;
    /* the inverse of the bucket start, truncated as Go's int() does */
    b = log(value * (h->ratio - 1) / h->first + 1) / h->log_ratio;
    return b >= h->n - 1 ? h->n - 1 : (guint)b;
}

gboolean
vsVpaHistogramIsEmpty(const vsVpaHistogram *h)
{
    return h->weight[h->min] < VS_VPA_EPSILON;
}

/* After any decrease: move min and max past buckets now below epsilon. */
static void
vsVpaHistogramUpdateMinMax(vsVpaHistogram *h)
{
    while (h->weight[h->min] < VS_VPA_EPSILON && h->min < h->n - 1)
        h->min++;
    while (h->weight[h->max] < VS_VPA_EPSILON && h->max > 0)
        h->max--;
}

/* Multiply every weight by @factor.  Like VPA, only [min, max] is scaled
 * (the total entirely). */
static void
vsVpaHistogramScale(vsVpaHistogram *h, double factor)
{
    guint b;

    for (b = h->min; b <= h->max; b++)
        h->weight[b] *= factor;
    h->total *= factor;
    vsVpaHistogramUpdateMinMax(h);
}

/* Move t_ref to the multiple of the half-life nearest @t (halves round
 * up, as Go's Time.Round; multiples of a day since Go's zero time are the
 * UTC midnights), rescaling what is there. */
static void
vsVpaHistogramShift(vsVpaHistogram *h, double t)
{
    double ref = floor(t / h->half_life + 0.5) * h->half_life;

    /* the first shift is from Go's zero time: everything there is empty */
    if (h->has_ref)
        vsVpaHistogramScale(h, ldexp(1.0, (int)floor((h->ref - ref) / h->half_life + 0.5)));
    h->ref = ref;
    h->has_ref = TRUE;
}

static double
vsVpaHistogramDecay(vsVpaHistogram *h, double t)
{
    if (h->half_life <= 0)
        return 1.0;
    if (!h->has_ref || t > h->ref + h->half_life * VS_VPA_MAX_DECAY_EXPONENT)
        vsVpaHistogramShift(h, t);
    return exp2((t - h->ref) / h->half_life);
}

void
vsVpaHistogramAdd(vsVpaHistogram *h, double value, double weight, double t)
{
    guint b;

    g_return_if_fail(weight >= 0);
    weight *= vsVpaHistogramDecay(h, t);
    b = vsVpaHistogramFindBucket(h, value);
    h->weight[b] += weight;
    h->total += weight;
    if (b < h->min && h->weight[b] >= VS_VPA_EPSILON)
        h->min = b;
    if (b > h->max && h->weight[b] >= VS_VPA_EPSILON)
        h->max = b;
}

void
vsVpaHistogramSubtract(vsVpaHistogram *h, double value, double weight, double t)
{
    guint b;

    g_return_if_fail(weight >= 0);
    weight *= vsVpaHistogramDecay(h, t);
    b = vsVpaHistogramFindBucket(h, value);
    if (weight > h->weight[b] - VS_VPA_EPSILON)
        weight = h->weight[b];
    h->total -= weight;
    h->weight[b] -= weight;
    vsVpaHistogramUpdateMinMax(h);
}

double
vsVpaHistogramPercentile(const vsVpaHistogram *h, double p)
{
    double partial = 0, threshold = p * h->total;
    guint b;

    if (vsVpaHistogramIsEmpty(h))
        return 0.0;
    for (b = h->min; b < h->max; b++) {
        partial += h->weight[b];
        if (partial >= threshold)
            break;
    }
    /* the last bucket has no upper edge */
    if (b < h->n - 1)
        return vsVpaHistogramBucketStart(h, b + 1);
    return vsVpaHistogramBucketStart(h, b);
}

double
vsVpaHistogramTotal(const vsVpaHistogram *h)
{
    return h->total;
}

double
vsVpaHistogramReference(const vsVpaHistogram *h)
{
    return h->has_ref ? h->ref : NAN;
}

/* --- the model ------------------------------------------------------------ */

#define VS_MODEL_VPA_CONFIG_INIT { .memory_interval_s = 24 * 3600.0, .zero_peak_quirk = TRUE }

static vsModelVpaConfig vsModelVpaDefaults = VS_MODEL_VPA_CONFIG_INIT;

void
vsModelVpaGetConfig(vsModelVpaConfig *cfg)
{
    *cfg = vsModelVpaDefaults;
}

void
vsModelVpaSetConfig(const vsModelVpaConfig *cfg)
{
    static const vsModelVpaConfig initial = VS_MODEL_VPA_CONFIG_INIT;

    vsModelVpaDefaults = cfg && cfg->memory_interval_s > 0 ? *cfg : initial;
}

typedef struct {
    const char *name;
    vsResourceKind resource;
    double step_s;
    vsModelVpaConfig cfg;
    vsVpaHistogram *hist;
    gboolean seen;          /* a sample was taken (t below is valid) */
    double last_t;          /* the last sample's time */
    /* memory only: the open aggregation interval, ending (exclusive) at
     * window_end, and its peak as added to the histogram */
    gboolean has_window;
    double window_end;
    double peak;
} vsModelVpaState;

static void
vsModelVpaReset(vsModelVpaState *m)
{
    vsVpaHistogramFree(m->hist);
    if (m->resource == VS_RESOURCE_MEMORY)
        m->hist = vsVpaHistogramNew(VS_VPA_MEMORY_FIRST_BUCKET, VS_VPA_MEMORY_MAX,
                                    VS_VPA_HALF_LIFE_S);
    else
        m->hist = vsVpaHistogramNew(VS_VPA_CPU_FIRST_BUCKET, VS_VPA_CPU_MAX,
                                    VS_VPA_HALF_LIFE_S);
    m->seen = FALSE;
    m->has_window = FALSE;
    m->peak = 0;
}

static gpointer
vsModelVpaCreateWith(const vsModelOptions *opts, const char *name,
                     const vsModelVpaConfig *cfg)
{
    vsModelVpaState *m = g_new0(vsModelVpaState, 1);

    m->name = name;
    m->resource = opts->resource;
    m->step_s = opts->step_s;
    m->cfg = *cfg;
    vsModelVpaReset(m);
    return m;
}

static gpointer
vsModelVpaCreate(const vsModelOptions *opts)
{
    return vsModelVpaCreateWith(opts, "vpa", &vsModelVpaDefaults);
}

static gpointer
vsModelVpa1hCreate(const vsModelOptions *opts)
{
    vsModelVpaConfig cfg = { .memory_interval_s = 3600.0, .zero_peak_quirk = TRUE };

    return vsModelVpaCreateWith(opts, "vpa-1h", &cfg);
}

static void
vsModelVpaDestroy(gpointer model)
{
    vsModelVpaState *m = model;

    if (!m)
        return;
    vsVpaHistogramFree(m->hist);
    g_free(m);
}

const vsVpaHistogram *
vsModelVpaHistogram(gpointer model)
{
    vsModelVpaState *m = model;

    return m->hist;
}

/* One sample per observation, weight 1, at its time (container.go
 * addCPUSample; duplicate or older times are dropped). */
static void
vsModelVpaAddCpu(vsModelVpaState *m, double t, double cores)
{
    if (m->seen && !(t > m->last_t))
        return;
    vsVpaHistogramAdd(m->hist, cores, 1.0, t);
    m->seen = TRUE;
    m->last_t = t;
}

/* One peak per aggregation interval, stamped with the interval's end
 * (container.go addMemorySample): a higher sample in the open interval
 * replaces the peak; the first sample past it opens the interval that
 * holds it. */
static void
vsModelVpaAddMemory(vsModelVpaState *m, double t, double bytes)
{
    gboolean add = FALSE;

    if (m->seen && t < m->last_t)
        return;
    m->seen = TRUE;
    m->last_t = t;
    if (!m->has_window) {
        m->window_end = t;
        m->has_window = TRUE;
    }
    if (t < m->window_end) {
        /* VPA's quirk: a peak of exactly 0 is never replaced */
        if ((!m->cfg.zero_peak_quirk || m->peak != 0) && bytes > m->peak) {
            vsVpaHistogramSubtract(m->hist, m->peak, 1.0, m->window_end);
            add = TRUE;
        }
    } else {
        double interval = m->cfg.memory_interval_s;

        m->window_end += floor((t - m->window_end) / interval) * interval + interval;
        m->peak = 0;
        add = TRUE;
    }
    if (add) {
        vsVpaHistogramAdd(m->hist, bytes, 1.0, m->window_end);
        m->peak = bytes;
    }
}

/* Negative or missing usage is invalid in VPA and dropped. */
static void
vsModelVpaUpdate(gpointer model, double t, double y, const double *x)
{
    vsModelVpaState *m = model;

    if (!isfinite(y) || y < 0 || !isfinite(t))
        return;
    if (m->resource == VS_RESOURCE_MEMORY)
        vsModelVpaAddMemory(m, t, y * VS_VPA_BYTES_PER_MIB);
    else
        vsModelVpaAddCpu(m, t, y);
}

static gboolean
vsModelVpaFit(gpointer model, const vsSeries *series, GError **error)
{
    vsModelVpaState *m = model;
    gsize i;

    vsModelVpaReset(m);
    for (i = 0; i < series->n; i++)
        vsModelVpaUpdate(m, series->t ? series->t[i] : i * m->step_s, series->y[i], NULL);
    if (vsVpaHistogramIsEmpty(m->hist)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "model '%s' has no valid observation",
                    m->name);
        return FALSE;
    }
    return TRUE;
}

/* 1.15 x P90, in the series' unit; FALSE before any sample. */
static gboolean
vsModelVpaTarget(vsModelVpaState *m, double *target)
{
    double p90;

    if (vsVpaHistogramIsEmpty(m->hist))
        return FALSE;
    p90 = vsVpaHistogramPercentile(m->hist, VS_VPA_TARGET_PERCENTILE);
    if (m->resource == VS_RESOURCE_MEMORY)
        p90 /= VS_VPA_BYTES_PER_MIB;
    *target = VS_VPA_MARGIN * p90;
    return TRUE;
}

static gboolean
vsModelVpaForecast(gpointer model, guint horizon, const double *future_x,
                   double *point)
{
    double target;
    guint i;

    if (!vsModelVpaTarget(model, &target))
        return FALSE;
    for (i = 0; i < horizon; i++)
        point[i] = target;
    return TRUE;
}

static char *
vsModelVpaDescribe(gpointer model)
{
    vsModelVpaState *m = model;
    g_autofree char *target = NULL;
    double value;

    if (!vsModelVpaTarget(m, &value))
        target = g_strdup("none");
    else if (m->resource == VS_RESOURCE_MEMORY)
        target = g_strdup_printf("%.1fMiB", value);
    else
        target = g_strdup_printf("%.3f", value);
    if (m->resource == VS_RESOURCE_MEMORY)
        return g_strdup_printf("%s memory interval=%gh zero-peak-quirk=%s half-life=%gh target=%s",
                               m->name, m->cfg.memory_interval_s / 3600,
                               m->cfg.zero_peak_quirk ? "on" : "off",
                               VS_VPA_HALF_LIFE_S / 3600, target);
    return g_strdup_printf("%s cpu half-life=%gh target=%s", m->name,
                           VS_VPA_HALF_LIFE_S / 3600, target);
}

const vsModelDriver vsModelVpa = {
    .name = "vpa",
    .create = vsModelVpaCreate,
    .destroy = vsModelVpaDestroy,
    .fit = vsModelVpaFit,
    .update = vsModelVpaUpdate,
    .forecast = vsModelVpaForecast,
    .describe = vsModelVpaDescribe,
};

const vsModelDriver vsModelVpa1h = {
    .name = "vpa-1h",
    .create = vsModelVpa1hCreate,
    .destroy = vsModelVpaDestroy,
    .fit = vsModelVpaFit,
    .update = vsModelVpaUpdate,
    .forecast = vsModelVpaForecast,
    .describe = vsModelVpaDescribe,
};
