/*
 * vsmodelvpa.h: the Kubernetes VPA recommender's target, as a model
 *
 * A port of vertical-pod-autoscaler/pkg/recommender/util/{histogram,
 * histogram_options,decaying_histogram}.go and model/container.go as the
 * rightsizing baselines specify it: target = 1.15 x P90 of a decaying
 * histogram of CPU samples, or of memory peaks per aggregation interval.
 * It is not a forecaster: every horizon gets the target.  VPA's pod
 * minimums, OOM bump-up, request weighting and confidence bounds are not
 * applied.
 */
#pragma once

#include <glib.h>

#include "vsmodel.h"

G_BEGIN_DECLS

/* Histogram buckets grow 5% each: bucket n starts at
 * first * (1.05^n - 1) / 0.05. */
#define VS_VPA_BUCKET_GROWTH 0.05
/* CPU in cores.  The reference figures used 0.01 (176 buckets); VPA since
 * 0.14 uses 0.001 (223 buckets). */
#define VS_VPA_CPU_FIRST_BUCKET 0.01
#define VS_VPA_CPU_MAX 1000.0
/* Memory in bytes (the series is MiB). */
#define VS_VPA_MEMORY_FIRST_BUCKET 1e7
#define VS_VPA_MEMORY_MAX 1e12
/* A bucket lighter than this is empty (0.001 x VPA's minimum weight). */
#define VS_VPA_EPSILON 1e-4
/* Samples lose half their weight every day (CPU and memory alike). */
#define VS_VPA_HALF_LIFE_S (24 * 3600.0)

/* A decaying histogram with VPA's exponential buckets. */
typedef struct _vsVpaHistogram vsVpaHistogram;

/* Buckets from 0 of size @first_bucket, growing 5%, until one starts at or
 * beyond @max_value.  A sample at @t weighs 2^((t - t_ref) / @half_life_s)
 * times its weight; @half_life_s <= 0 disables decay. */
vsVpaHistogram *vsVpaHistogramNew(double first_bucket, double max_value,
                                  double half_life_s);
void vsVpaHistogramFree(vsVpaHistogram *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsVpaHistogram, vsVpaHistogramFree)

guint vsVpaHistogramBuckets(const vsVpaHistogram *h);
double vsVpaHistogramBucketStart(const vsVpaHistogram *h, guint bucket);
guint vsVpaHistogramFindBucket(const vsVpaHistogram *h, double value);
/* Add or remove @weight (>= 0) of @value observed at @t (seconds).
 * Removal never takes a bucket below zero. */
void vsVpaHistogramAdd(vsVpaHistogram *h, double value, double weight, double t);
void vsVpaHistogramSubtract(vsVpaHistogram *h, double value, double weight,
                            double t);
gboolean vsVpaHistogramIsEmpty(const vsVpaHistogram *h);
/* The upper edge of the first bucket whose cumulative weight reaches
 * @p x total (the last bucket's start for the last bucket); 0 when
 * empty. */
double vsVpaHistogramPercentile(const vsVpaHistogram *h, double p);
/* The total weight, and the reference time t_ref (a multiple of the
 * half-life; NaN before the first sample). */
double vsVpaHistogramTotal(const vsVpaHistogram *h);
double vsVpaHistogramReference(const vsVpaHistogram *h);

/* How memory samples become peaks. */
typedef struct _vsModelVpaConfig vsModelVpaConfig;
struct _vsModelVpaConfig {
    double memory_interval_s;   /* aggregation interval, 24 h in VPA */
    gboolean zero_peak_quirk;   /* keep VPA's "a peak of 0 is never
                                 * replaced within its interval" */
};

/* The configuration models take at creation: 24 h with the quirk, unless
 * set.  vsModelVpaSetConfig(NULL) restores that default.  Not thread-safe:
 * set it before creating models. */
void vsModelVpaGetConfig(vsModelVpaConfig *cfg);
void vsModelVpaSetConfig(const vsModelVpaConfig *cfg);

/* The histogram behind a model of the "vpa" drivers (for inspection). */
const vsVpaHistogram *vsModelVpaHistogram(gpointer model);

/* "vpa-1h": memory peaks per hour (the quirk kept); CPU as "vpa". */
extern const vsModelDriver vsModelVpa1h;

G_END_DECLS
