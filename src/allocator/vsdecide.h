/*
 * vsdecide.h: one control interval's decision for one domain
 *
 * Pure logic, no I/O: given a domain's policy, its current allocation,
 * the forecast at the policy's lead time, its hints and its decision
 * history, say what its vCPUs and memory should be now and why.  The
 * caller (the daemon's control loop, "plan", the simulation) gathers the
 * inputs, runs the result through the host ledger (vsledger.h), carries it
 * out and records it.
 *
 * Units: vCPUs as counts, memory in KiB, times in Unix microseconds.
 */
#pragma once

#include <glib.h>

#include "allocator/vshint.h"
#include "conf/vspolicy.h"
#include "forecast/vsmodel.h"
#include "telemetry/vssample.h"

G_BEGIN_DECLS

/* What a decision does. */
typedef enum {
    VS_ACTION_NONE = 0,     /* the target is what the domain has */
    VS_ACTION_GROW,
    VS_ACTION_SHRINK,
    VS_ACTION_HOLD,         /* the target moved but was held back (cooldown,
                             * hysteresis window, step, confidence) */
    VS_ACTION_QUEUED,       /* a rise the host cannot serve now */
    VS_ACTION_LAST
} vsAction;

const char *vsActionToString(vsAction action);
gboolean vsActionFromString(const char *text, vsAction *ret_action);

/* What became of it. */
typedef enum {
    VS_OUTCOME_PENDING = 0, /* not carried out yet */
    VS_OUTCOME_ADVISED,     /* mode advise, or a dry run: recorded only */
    VS_OUTCOME_APPLIED,     /* carried out and verified by reading back */
    VS_OUTCOME_FAILED,      /* carried out, failed; @error says why */
    VS_OUTCOME_SKIPPED,     /* nothing to carry out (none, hold, queued) */
    VS_OUTCOME_LAST
} vsOutcome;

const char *vsOutcomeToString(vsOutcome outcome);
gboolean vsOutcomeFromString(const char *text, vsOutcome *ret_outcome);

/* One decision on one resource of one domain: its inputs, the policy
 * clause that bound it, the action and its outcome.  Every decision is
 * stored, "do nothing" included when a target moved but was held back. */
typedef struct _vsDecision vsDecision;
struct _vsDecision {
    gint64 at_us;
    char uuid[VS_UUID_STRLEN];
    char *name;
    vsResourceKind resource;
    double current;             /* what the domain has: vCPUs, or KiB */
    double wanted;              /* the raw target, before the policy */
    double target;              /* what it should get now */
    /* inputs */
    double forecast;            /* point forecast at the lead; NaN: none */
    double upper;               /* the upper bound the target came from */
    char *model;                /* the forecaster's name; NULL: none */
    double confidence;          /* 0..1 */
    gboolean reactive;          /* confidence too low: the reactive rule decided */
    gboolean hinted;            /* a hint raised the floor */
    vsAction action;
    char *clause;               /* the policy clause that bound it ("max-vcpus",
                                 * "cooldown-down", "host-capacity", ...); NULL: none */
    char *reason;               /* in plain words, for "explain" */
    vsOutcome outcome;
    char *error;                /* why it failed; NULL otherwise */
};

/* Init zeroes it and sets the doubles to NaN; Clear frees the strings.
 * Decisions usually live in a GArray with Clear as its clear func. */
void vsDecisionInit(vsDecision *d);
void vsDecisionClear(vsDecision *d);

/* The action as the head of a reason: "grow to", "hold at", ... */
const char *vsDecisionVerb(vsAction action);

/* @amount in words for a reason: "3 vCPUs", "1536 MiB" (from KiB). */
char *vsDecisionFormatAmount(vsResourceKind resource, double amount);

/* Tunables of the rules the policy does not name.  The defaults suit a
 * 5-minute control interval. */
typedef struct _vsDecideConfig vsDecideConfig;
struct _vsDecideConfig {
    /* reactive fallback: use / allocation */
    double high_utilization;    /* grow after @up_samples in a row above it (0.8) */
    guint up_samples;           /* (3) */
    double low_utilization;     /* shrink once below it for @down_window_s (0.3) */
    guint down_window_s;        /* (3600) */
    /* forecast mode: shrink once the target has stayed below the current
     * for this long (and cooldown-down has passed) (3600: as the reactive
     * rule; on the Bitbrains traces 900 s tripled the resizes and met
     * fewer rises ahead) */
    guint shrink_window_s;
    /* confidence: each factor runs 0..1, the weakest one is the confidence */
    double max_relative_width;  /* (upper - lower) / point at which width trust is 0 (2) */
    double cpu_width_unit;      /* CPU widths are relative to at least this many
                                 * cores (1): an idle domain's interval is wide
                                 * relative to its point, yet asks for one vCPU */
    /* error trust is the better of two: against the seasonal naive
     * forecast (MASE), and against the size of the forecast itself, since
     * on a strictly periodic series the naive forecast is as good as any,
     * yet a forecast that close is to be trusted */
    double max_mase;            /* MASE at which that trust is 0; 1/3 of it or less is 1 (1.5) */
    double max_relative_error;  /* MAE / point (CPU: at least cpu_width_unit) at which
                                 * that trust is 0 (0.5) */
    double min_coverage;        /* interval coverage at or above which it is trusted (0.8) */
    /* once acting on the forecast, keep doing so until the confidence falls
     * this far below the policy's threshold (0.1): a confidence hovering at
     * the threshold would otherwise switch rules, and sizes, every interval */
    double confidence_margin;
    guint min_history;          /* slots of history below which trust is 0 (12) */
    guint full_history;         /* slots of history for full trust (288) */
};

void vsDecideConfigDefaults(vsDecideConfig *cfg);

/* One resource's forecast at the policy's lead time, in the decision's
 * unit: cores (vCPU-equivalents) for CPU, KiB for memory (the forecasters
 * work in MiB: multiply by 1024). */
typedef struct _vsDecideForecast vsDecideForecast;
struct _vsDecideForecast {
    double point;           /* NaN: no forecast, the reactive rule decides */
    double lower;           /* interval bounds; NaN: unknown (width trust 0) */
    double upper;
    double allocation;      /* what to size for, when the forecaster says
                             * better than @upper (the bound its backtest
                             * chose, over the lead); NaN: @upper */
    double mae;             /* recent mean absolute error, in the unit above; NaN: unknown */
    double mase;            /* recent mean absolute scaled error; NaN: unknown */
    double coverage;        /* recent share of actuals inside the interval; NaN: unknown */
    guint history;          /* slots of history behind the forecast */
    double ahead_s;         /* how far ahead @allocation looks, when the
                             * policy's lead is beyond it; NaN: as far */
    const char *model;      /* borrowed; NULL: none */
};

/* Everything one decision on one domain reads.  Nothing is owned. */
typedef struct _vsDecideInput vsDecideInput;
struct _vsDecideInput {
    const vsPolicy *policy;
    const vsDecideConfig *config;   /* NULL: the defaults */
    const char *uuid;
    const char *name;               /* may be NULL */
    guint vcpus;                    /* online now */
    guint max_vcpus;                /* the domain's maximum, <vcpu>; 0: unknown, never
                                     * grown past the current */
    guint64 memory_kib;             /* the balloon now, <currentMemory> */
    guint64 max_memory_kib;         /* <memory>; 0: unknown, as max_vcpus */
    double used_memory_kib;         /* in the guest; NaN: unknown (no floor known) */
    double cpu_use;                 /* newest observed CPU use, cores; NaN: none */
    vsDecideForecast cpu;
    vsDecideForecast memory;
    const vsHint *hints;            /* this domain's hints, @n_hints of them */
    gsize n_hints;
    gint64 now_us;
};

/* Every value unknown (NaN), no history, no model. */
void vsDecideForecastInit(vsDecideForecast *fc);
void vsDecideInputInit(vsDecideInput *in);

/* What one resource of one domain remembers between intervals.  Plain
 * data: a dry run ("plan") decides on a copy.  Times are Unix us, 0 for
 * never. */
typedef struct _vsDecideState vsDecideState;
struct _vsDecideState {
    gint64 last_grow_us;
    gint64 last_shrink_us;
    gint64 below_since_us;      /* the target has been below the current since */
    gint64 low_since_us;        /* observed use has been below low_utilization since */
    guint above;                /* observations in a row above high_utilization */
    gboolean trusted;           /* the last decision acted on the forecast */
};

void vsDecideStateInit(vsDecideState *state);
void vsDecideStateClear(vsDecideState *state);

/* One control interval's decision on @resource of the domain in @in.
 * Initialises @ret (the caller clears it) and fills every field but
 * outcome (PENDING) and error; clause names the last rule that bound the
 * target (NULL: none did), reason says it all in words.
 *
 * Rules: at or above policy->confidence the target is the policy's need
 * for the forecast's upper bound (CPU: ceil(upper / target utilisation);
 * memory: upper x (1 + headroom)); below it, or without a forecast, the
 * reactive rule: grow after up_samples observations in a row above
 * high_utilization of the allocation, shrink once below low_utilization
 * for down_window_s.  Then active hints and guest used + memory floor
 * raise it, policy [min, max] and the domain's maximum bound it.  Grows
 * wait for cooldown-up, shrinks for shrink_window_s below (forecast
 * mode) and cooldown-down, both since the last committed resize; each
 * moves at most max-step (0: unlimited).
 *
 * Guarantees, for a current within the bounds: the target stays within
 * the policy's [min, max] and the domain's maximum, moves by at most
 * max-step, and memory never shrinks below guest used + memory floor (the
 * shrink is held instead).  Policy mode off gives NONE.
 *
 * @state: updated (observation counters, windows) on every call, so a dry
 * run ("plan") passes a copy.  The resize itself is recorded only by
 * vsDecideStateCommit, once carried out.  A GROW is a request: run it
 * through the host ledger (vsLedgerServe, vsLedgerLimitDecision) first. */
void vsDecide(const vsDecideInput *in, vsResourceKind resource, vsDecideState *state,
              vsDecision *ret);

/* Record that @d was carried out at d->at_us (GROW or SHRINK; other
 * actions are ignored): starts its cooldown and resets the windows. */
void vsDecideStateCommit(vsDecideState *state, const vsDecision *d);

/* The confidence in [0, 1] of @fc, a forecast of @resource, under @cfg: the
 * weakest of width, error, coverage and history trust.  @ret_weakest (may be NULL) names it:
 * "no forecast", "interval width", "forecast error", "interval coverage"
 * or "history". */
double vsDecideConfidence(const vsDecideForecast *fc, vsResourceKind resource,
                          const vsDecideConfig *cfg, const char **ret_weakest);

G_END_DECLS
