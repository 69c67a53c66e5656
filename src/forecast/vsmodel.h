/*
 * vsmodel.h: the one vtable behind every demand forecaster
 *
 * A model sees one series (one domain, one resource) at a fixed step, in
 * time order.  It is fitted once on history, then updated one observation
 * at a time, and asked for point forecasts 1..H steps ahead.  Prediction
 * intervals are not the model's business: vsforecaster.h calibrates them
 * from the model's own past errors (conformal style), so every model gets
 * intervals that mean what they say.
 *
 * Contract for every driver:
 *  - NaN marks a missing observation; fit and update must accept it (skip,
 *    carry forward or impute) and never let it reach a forecast.
 *  - forecast never returns NaN or Inf: a model that cannot forecast yet
 *    (too little data) returns FALSE, and callers fall back.
 *  - update is cheap (O(1) or O(period)); fit may be O(n) or more and is
 *    called rarely (model selection, drift).
 *  - fit replaces all earlier state; update after fit continues from the
 *    last fitted observation.
 *  - Values are in the series' unit (cores, MiB); forecasts may be
 *    negative only if the model says so: callers clamp.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    VS_RESOURCE_CPU,        /* vCPU-equivalents (cores) */
    VS_RESOURCE_MEMORY,     /* MiB */
} vsResourceKind;

/* What a model knows about its series before it sees data. */
typedef struct _vsModelOptions vsModelOptions;
struct _vsModelOptions {
    vsResourceKind resource;
    double step_s;          /* seconds between observations, > 0 */
    guint period;           /* season length in steps; 0: the model detects
                             * it; 1: there is none */
    guint n_inputs;         /* covariates per observation (regression) */
    /* "quantile" only: which quantile of the recent values (0: 0.95), and
     * how fast older values fade (seconds; 0: a day) */
    double quantile;
    double half_life_s;
    /* "seasonal-peak" only: the seasons its peak looks back on (0: 3) */
    guint seasons;
};

/* One series as arrays of @n observations, oldest first.  @t is seconds
 * since the epoch; @x holds @n_inputs covariates per observation
 * (row-major) or is NULL. */
typedef struct _vsSeries vsSeries;
struct _vsSeries {
    const double *t;
    const double *y;
    const double *x;
    gsize n;
};

typedef struct _vsModelDriver vsModelDriver;
struct _vsModelDriver {
    const char *name;       /* "last", "ewma", "vpa", "seasonal", ... */

    /* Allocate an empty model; never fails for valid @opts. */
    gpointer (*create)(const vsModelOptions *opts);
    void (*destroy)(gpointer model);

    /* (Re)fit on @series.  FALSE with @error (VS_ERROR_INVALID) when the
     * series is too short or degenerate for this model. */
    gboolean (*fit)(gpointer model, const vsSeries *series, GError **error);

    /* Take one new observation at @t (NaN @y = missing); @x holds its
     * covariates or is NULL. */
    void (*update)(gpointer model, double t, double y, const double *x);

    /* Point forecasts for steps 1..@horizon into @point[0..horizon-1].
     * @future_x holds @horizon rows of covariates (regression) or is NULL
     * (then the last seen inputs are assumed to persist). */
    gboolean (*forecast)(gpointer model, guint horizon, const double *future_x,
                         double *point);

    /* One line for humans and the audit trail, e.g.
     * "holt-winters alpha=0.31 beta=0.01 gamma=0.10 period=288". */
    char *(*describe)(gpointer model);
};

/* The drivers, one file each under src/forecast/. */
extern const vsModelDriver vsModelLast;
extern const vsModelDriver vsModelEwma;
extern const vsModelDriver vsModelVpa;
extern const vsModelDriver vsModelSeasonal;
extern const vsModelDriver vsModelHoltWinters;
extern const vsModelDriver vsModelAr;
extern const vsModelDriver vsModelRegression;
extern const vsModelDriver vsModelQuantile;
extern const vsModelDriver vsModelSeasonalPeak;

/* All drivers in a stable order, NULL-terminated; lookup by name. */
const vsModelDriver *const *vsModelDrivers(void);
const vsModelDriver *vsModelDriverByName(const char *name);

G_END_DECLS
