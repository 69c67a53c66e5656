/*
 * vsbacktest.h: replay a usage series against allocation policies
 *
 * The series is on a fixed grid (vstrace.h).  At each decision time t (a
 * slot boundary, every decision_s), every policy sees only the slots
 * before t and sets the allocation of [t + lead, t + lead + decision).
 * The first train_s of the series is history only; every later slot that
 * is scored (not in a long gap) is scored against the allocation decided
 * for it.  The rules are those of shared/research/rightsizing-baselines.md,
 * so the baselines' figures can be checked against the reference.
 */
#pragma once

#include "forecast/vsmodel.h"

G_BEGIN_DECLS

typedef enum {
    VS_POLICY_VIRT_SHADOW,  /* the selected forecaster's upper bound */
    VS_POLICY_STATIC,       /* the provisioned size, else the series maximum */
    VS_POLICY_REACTIVE,     /* +25 % above 80 % use, -25 % after 1 h below 30 % */
    VS_POLICY_PEAK24H,      /* the largest use of the last 24 h */
    VS_POLICY_VPA,          /* the Kubernetes VPA recommender's target */
    VS_POLICY_N,
} vsBacktestPolicy;

const char *vsBacktestPolicyToString(vsBacktestPolicy p);

typedef struct _vsBacktestOptions vsBacktestOptions;
struct _vsBacktestOptions {
    double decision_s;      /* 300 */
    double lead_s;          /* 300 */
    double train_s;         /* 7 days */
    double min_s;           /* shorter series are skipped: 8 days */
};

void vsBacktestOptionsDefaults(vsBacktestOptions *o);

/* One resource of one series, slot i at start_t + i * step_s. */
typedef struct _vsBacktestSeries vsBacktestSeries;
struct _vsBacktestSeries {
    vsResourceKind resource;
    double start_t;
    double step_s;
    gsize n;
    const double *use;
    const double *prov;     /* provisioned size per slot, or NULL */
    const guint8 *scored;   /* NULL: every slot */
};

typedef struct _vsBacktestScore vsBacktestScore;
struct _vsBacktestScore {
    guint scored;           /* slots scored */
    double slack;           /* sum(max(alloc - use, 0)) / sum(alloc); NaN if sum(alloc) = 0 */
    double underprov;       /* share of slots with use > alloc */
    double severity;        /* mean (use - alloc) / use over those; NaN if none */
    double mase;            /* of the policy's forecast, scaled by seasonal naive (1 day) */
    guint covered90;        /* slots inside the 90 % interval (virt-shadow only) */
    guint intervals;        /* slots that had one */
    double resizes_per_day;
};

typedef struct _vsBacktestResult vsBacktestResult;
struct _vsBacktestResult {
    vsBacktestScore score[VS_POLICY_N];
    guint period;           /* detected season length in steps; 0: none */
    char *model;            /* virt-shadow's choice at the end */
    double level;           /* and its level: an error quantile, NaN for an
                             * allocation taken as it is (vpa, quantile) */
    gboolean burst;         /* and whether it has the burst floor */
    guint switches;         /* how often that choice changed */
};

void vsBacktestResultClear(vsBacktestResult *r);

/* Replay @series.  FALSE with VS_ERROR_INVALID when it is shorter than
 * min_s or the options do not fit its grid. */
gboolean vsBacktestRun(const vsBacktestSeries *series, const vsBacktestOptions *o,
                       vsBacktestResult *ret, GError **error);

/* numpy's default percentile (linear interpolation) of @v[0..n-1], NaNs
 * ignored; sorts @v.  NaN when empty. */
double vsPercentile(double *v, gsize n, double p);

G_END_DECLS
