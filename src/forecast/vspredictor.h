/*
 * vspredictor.h: the daemon's forecasts, and their feedback loop
 *
 * Samples of each domain are summed up into fixed slots (5 minutes): CPU
 * as their mean, memory as their peak.  When a
 * slot closes, its CPU and memory feed a vsSelector per resource; the
 * actual is set beside the forecast made for that slot, and the rolling
 * error is updated (feedback: the selector refits when it drifts); a value
 * outside the 99 % interval is an anomaly.  Then the next slot is
 * forecast.  Everything produced goes to the store in one output.
 */
#pragma once

#include "forecast/vsselect.h"
#include "store/vsstore.h"
#include "telemetry/vssample.h"

G_BEGIN_DECLS

typedef struct _vsPredictorOutput vsPredictorOutput;
struct _vsPredictorOutput {
    GArray *forecasts;      /* vsForecastRecord: next slots, and closed slots' actuals */
    GArray *errors;         /* vsForecastError */
    GArray *anomalies;      /* vsAnomaly */
};

void vsPredictorOutputFree(vsPredictorOutput *out);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsPredictorOutput, vsPredictorOutputFree)

typedef struct _vsPredictor vsPredictor;

/* @step_s: the slot length; @season_s: the cycle demand repeats on (a
 * day, 86400), which the forecasters count their history in and the MASE's
 * seasonal naive baseline looks back; @horizon_s: how far past the open
 * slot allocations look (rounded up to whole slots, at least one);
 * @error_window: errors kept per model and slot ahead (memory per domain
 * grows with both). */
vsPredictor *vsPredictorNew(double step_s, double season_s, double horizon_s,
                            guint error_window);
void vsPredictorFree(vsPredictor *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsPredictor, vsPredictorFree)

/* Stagger the domains' slots: each starts at one of the step's multiples
 * of @every_s (the allocator's control interval), picked from its UUID, so
 * that about 1/(step / @every_s) of the domains close a slot, and are
 * forecast again, in each interval rather than all at once.  Ignored
 * unless @every_s divides the step; 0 aligns every slot to the step.
 * Domains already tracked keep their slots. */
void vsPredictorSpread(vsPredictor *p, double every_s);

/* Account one sample to its domain's open slot.  Returns TRUE when the
 * domain is new: the caller may load its history (vsPredictorWarm). */
gboolean vsPredictorAddSample(vsPredictor *p, const vsSample *x);

/* Replay stored history (oldest first, slots before the open one) into a
 * domain's forecasters, so a restarted daemon forecasts at once. */
void vsPredictorWarm(vsPredictor *p, const char *uuid, GArray *history /* vsHistoryPoint */);

/* Close every slot that ended at or before @now_us.  NULL when nothing
 * closed. */
vsPredictorOutput *vsPredictorAdvance(vsPredictor *p, gint64 now_us);

/* Drop domains without a sample since @cutoff_us. */
void vsPredictorExpire(vsPredictor *p, gint64 cutoff_us);

guint vsPredictorDomains(vsPredictor *p);

/* What the predictor expects of one domain's resource now, for the
 * allocator.  CPU in vCPU-equivalents, memory in MiB. */
typedef struct _vsPredictorView vsPredictorView;
struct _vsPredictorView {
    double point;               /* the open slot's forecast */
    double lower90, upper90;    /* its 90 % interval; NaN: not calibrated yet */
    double allocation;          /* what to allocate for the open slot and the
                                 * slots to the horizon: the selected model's
                                 * bound at the level its backtest chose;
                                 * NaN: none yet */
    double last;                /* the last closed slot's use; NaN: unknown */
    double mae;                 /* rolling mean absolute error; NaN: not scored yet */
    double mase;                /* rolling; NaN: not scored yet */
    double coverage90;          /* rolling; NaN: not scored yet */
    guint64 slots;              /* slots seen, warm-up history included */
    double ahead_s;             /* how far past the open slot @allocation looks */
    const char *model;          /* owned by the predictor; NULL: none */
};

/* The view of @uuid's @resource; FALSE when the domain is not tracked. */
gboolean vsPredictorLookup(vsPredictor *p, const char *uuid, vsResourceKind resource,
                           vsPredictorView *ret);

G_END_DECLS
