/*
 * vsselect.h: pick the forecaster that would have cost least, and keep it
 *
 * Every candidate model runs side by side on the series (all are cheap to
 * update), each allocating at a few levels (quantiles of its own errors).
 * Each step, each (model, level) allocation for that step is charged an
 * asymmetric cost: a step under-provisioned costs @under_cost, slack costs
 * its size relative to the usual use.  Costs decay
 * exponentially, and switching to another model must beat the current
 * one by @change_penalty, as in Autopilot's ML recommender, so the choice
 * does not flip-flop.  Models are refitted on the recent history every
 * @refit_steps, and at once when the chosen one's error drifts.
 */
#pragma once

#include "forecast/vsforecaster.h"

G_BEGIN_DECLS

#define VS_SELECT_MAX_LEVELS 4

typedef struct _vsSelectorConfig vsSelectorConfig;
struct _vsSelectorConfig {
    vsModelOptions model;       /* resource, step, period (0: detect) */
    guint lead_steps;           /* first step of the allocation window */
    guint window_steps;         /* steps the allocation covers */
    /* Allocation levels tried with every model: quantiles of its errors.
     * A heavy-tailed series pays dearly for its top percent; the cost
     * decides per series which level is worth it. */
    double levels[VS_SELECT_MAX_LEVELS];
    guint n_levels;
    /* Quantiles of the recent values ("quantile" model) tried as
     * allocations as they are, each with every half-life. */
    double quantiles[VS_SELECT_MAX_LEVELS];
    guint n_quantiles;
    double half_lives_s[2];
    guint n_half_lives;
    /* Once a season is found, the peak of the last @peak_seasons at each
     * phase (0: none), times 1 + @peak_margin, allocated as it is: on
     * periodic demand it gives back between peaks what a flat quantile
     * holds all season, and the margin keeps noise from costing it. */
    guint peak_seasons;
    double peak_margin;
    double under_cost;          /* a step with use above the allocation costs this
                                 * many steps of slack worth the usual use */
    double burst_gain;          /* every candidate also runs with a floor of this
                                 * times the newest use (0: none) */
    double change_penalty;      /* relative margin to switch candidates */
    double decay;               /* weight of the newest cost, 0..1 */
    guint history_steps;        /* fitted on at most this much history */
    guint min_history_steps;    /* nothing is allocated before this much */
    guint refit_steps;          /* refit period */
    guint error_window;         /* errors kept for the intervals */
};

/* Defaults for @resource at @step_s: lead 1, window 1, history 7 days,
 * refit daily.  Candidates: every model at a few error levels, VPA's
 * target, quantiles 0.95 and 0.99 of the recent values (half-life a day).
 * CPU: levels 0.95 to 1, each also with a burst floor of 1.2 x the newest
 * use; a switch must save 3 % of the cost.  Memory: levels 0.995 to 1 and
 * no floor (its bursts in the traces do not last); a shortfall is an OOM
 * risk, so it costs 35 times more, costs are remembered for a week, not a
 * day, and a switch must save 10 %; and once a season is found, the
 * peak of the last three at each phase plus 5 % competes too, so memory a
 * job takes at the same time every season is given back in between. */
void vsSelectorConfigDefaults(vsSelectorConfig *cfg, vsResourceKind resource, double step_s);
/* The same for demand that repeats every @season_s rather than every day:
 * every span above (history, refits, the memory of costs, the quantiles'
 * half-life) is counted in seasons instead of days. */
void vsSelectorConfigSeason(vsSelectorConfig *cfg, vsResourceKind resource, double step_s,
                            double season_s);

typedef struct _vsSelector vsSelector;

/* Candidates: NULL-terminated drivers; NULL means all of vsModelDrivers(),
 * the input-conditioned regression only when model.n_inputs > 0. */
vsSelector *vsSelectorNew(const vsSelectorConfig *cfg, const vsModelDriver *const *candidates);
void vsSelectorFree(vsSelector *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsSelector, vsSelectorFree)

/* The next value of the series, at @t: one step after the last (NaN: missing), with the
 * model.n_inputs workload inputs behind it in @x (NULL or NaN: unknown). */
void vsSelectorObserve(vsSelector *s, double t, double y, const double *x);

/* Before the next vsSelectorObserve: when it would refit, take one refit
 * from *@refits_left, or put the refit off to the observation after when
 * none is left, though not more than three times in a row (then it goes
 * over the budget).  A refit costs as much as hundreds of observations; a
 * caller that steps many selectors at once keeps any one step's cost
 * bounded by spreading their refits, three steps late at worst. */
void vsSelectorBudgetRefit(vsSelector *s, guint *refits_left);

/* The allocation for the window ahead: the chosen model's bound at the
 * chosen level, the largest over the window.  FALSE before enough history. */
gboolean vsSelectorAllocate(vsSelector *s, double *ret);

/* The chosen model's forecast at the lead with a central @coverage
 * interval.  FALSE when there is none yet. */
gboolean vsSelectorPredict(vsSelector *s, double coverage, double *point, double *lower,
                           double *upper);

/* The chosen model ("holt-winters", ...), NULL before the first choice. */
const char *vsSelectorModel(vsSelector *s);
/* The chosen allocation level (an error quantile), NaN before. */
double vsSelectorLevel(vsSelector *s);
/* Whether the chosen allocation has the burst floor. */
gboolean vsSelectorBurst(vsSelector *s);
/* The value observed @k steps ago (1: the last), NaN when not kept. */
double vsSelectorAgo(vsSelector *s, guint k);
/* Observations seen so far. */
guint64 vsSelectorSeen(vsSelector *s);
/* Refits so far, the first fit included. */
guint vsSelectorRefits(vsSelector *s);
/* How often the choice changed. */
guint vsSelectorSwitches(vsSelector *s);
/* Season length found at the last fit, in steps; 0 when none. */
guint vsSelectorPeriod(vsSelector *s);

G_END_DECLS
