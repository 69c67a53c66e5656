/*
 * vsselect.c: model and level selection by running cost, with a change
 * penalty
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vsselect.h"
#include "vsperiod.h"

/* Steps of history replayed after a (re)fit to calibrate a new model. */
#define VS_SELECT_WARMUP_STEPS 288
/* The chosen model is refitted at once when its recent error exceeds its
 * error at the last fit by this factor. */
#define VS_SELECT_DRIFT_FACTOR 2.0
/* Refits between two searches for the season. */
#define VS_SELECT_PERIOD_REFITS 7
/* A refit is put off by a budget at most this many steps in a row. */
#define VS_SELECT_MAX_POSTPONED 3

/* One model, running on the series. */
typedef struct {
    vsForecaster *fc;
    gboolean fitted;
    gboolean level_only;    /* a quantile: allocates as it is, forecasts nothing */
    double gain;            /* its allocations are this times its bounds */
    guint first_cand;       /* its candidates, which are added together */
    guint n_cands;
} vsModelRun;

/* One model at one level: what it would allocate, and what that cost. */
typedef struct {
    double level;
    double cost;            /* decayed */
    double *alloc;          /* ring in the selector's allocs: its allocation
                             * for step i at [i % n] */
    guint run;              /* index into runs */
    gboolean burst;         /* with the burst floor */
} vsCandidate;

struct _vsSelector {
    vsSelectorConfig cfg;
    GPtrArray *drivers;
    /* runs, candidates, their rings and the scratch follow the selector
     * in its allocation (their numbers are the config's): a step walks
     * them all, from the selector, with no pointer to chase in between */
    vsModelRun *runs;
    guint n_runs;           /* 0 until the first fit */
    vsCandidate *cands;
    guint n_cands;
    double *allocs;         /* every candidate's ring */
    double *bounds;         /* scratch: a candidate's bound over the window */
    double low_level;       /* the lowest of the levels */
    guint period;
    guint refits;
    int chosen;             /* index into cands, -1: none */
    guint switches;
    double fit_mae;         /* the chosen model's MAE when last fitted */
    double usual;           /* decayed mean use: the unit of slack */
    double latest;          /* the newest known value, for the burst floor */

    /* the last history_steps observations: grown as they come (a daemon
     * may track thousands of young domains), then a ring.  Observations are
     * one step apart, so times are not kept; single precision is plenty for
     * usage and halves what a domain's week costs. */
    double t0;              /* time of the first observation */
    float *y;
    double *x;              /* n_inputs per observation, when there are inputs */
    gsize cap;
    guint64 seen;
    guint64 next_refit;
    guint postponed;        /* times the refit now due was put off */
};

void
vsSelectorConfigDefaults(vsSelectorConfig *cfg, vsResourceKind resource, double step_s)
{
    vsSelectorConfigSeason(cfg, resource, step_s, 86400);
}

void
vsSelectorConfigSeason(vsSelectorConfig *cfg, vsResourceKind resource, double step_s,
                       double season_s)
{
    /* named for the usual season; every span below is counted in them */
    guint day = (guint)MAX(1, season_s / step_s);
    gboolean memory = resource == VS_RESOURCE_MEMORY;

    *cfg = (vsSelectorConfig){
        .model = { .resource = resource, .step_s = step_s },
        .lead_steps = 1,
        .window_steps = 1,
        .levels = { 0.95, 0.98, 0.99, 1 },
        .n_levels = 4,
        .half_lives_s = { season_s },
        .n_half_lives = 1,
        /* chosen on the Bitbrains traces (bench/vsbenchbacktest.sh): the
         * least slack at a median under-provisioning no worse than VPA's */
        .quantiles = { 0.95, 0.99 },
        .n_quantiles = 2,
        .under_cost = 85,
        .burst_gain = 1.2,
        .change_penalty = 0.03,
        .decay = 2.0 / (day + 1),
        .history_steps = 7 * day,
        .min_history_steps = 2 * day,
        .refit_steps = day,
        .error_window = 7 * day,
    };
    if (memory) {
        cfg->levels[0] = 0.995;
        cfg->levels[1] = 0.999;
        cfg->levels[2] = 1;
        cfg->n_levels = 3;
        cfg->peak_seasons = 3;
        /* the least margin over the noise of the e2e test's guest that
         * no shortfall costs back, and the Bitbrains medians unchanged */
        cfg->peak_margin = 0.05;
        cfg->under_cost = 3000;
        cfg->burst_gain = 0;
        cfg->change_penalty = 0.1;
        /* a week's memory of costs: after any shortfall, stay generous for
         * days, as memory jumps back to levels it has reached before */
        cfg->decay = 2.0 / (7 * day + 1);
    }
}

static guint
vsSelectorHorizon(const vsSelector *s)
{
    return s->cfg.lead_steps + s->cfg.window_steps;
}

static vsModelRun *
vsSelectorRun(vsSelector *s, const vsCandidate *c)
{
    return &s->runs[c->run];
}

static vsCandidate *
vsSelectorCandidate(vsSelector *s, guint i)
{
    return &s->cands[i];
}

static void
vsSelectorClearRuns(vsSelector *s)
{
    for (guint i = 0; i < s->n_runs; i++)
        vsForecasterFree(s->runs[i].fc);
    s->n_runs = 0;
    s->n_cands = 0;
}

/* @run at @level, and with the burst floor too when there is one.  Its
 * ring comes once every candidate is there. */
static void
vsSelectorAddCandidate(vsSelector *s, guint run, double level)
{
    vsModelRun *r = &s->runs[run];

    for (int burst = 0; burst <= (s->cfg.burst_gain > 0); burst++) {
        if (r->n_cands++ == 0)
            r->first_cand = s->n_cands;
        s->cands[s->n_cands++] = (vsCandidate) { .run = run, .level = level, .burst = burst };
    }
}

/* Every candidate's ring, empty. */
static void
vsSelectorAllocRings(vsSelector *s)
{
    guint ring = vsSelectorHorizon(s) + 1;

    for (guint i = 0; i < s->n_cands * ring; i++)
        s->allocs[i] = NAN;
    for (guint i = 0; i < s->n_cands; i++)
        s->cands[i].alloc = s->allocs + i * ring;
}

static guint
vsSelectorAddRun(vsSelector *s, const vsModelDriver *drv, const vsModelOptions *opts,
                 gboolean level_only)
{
    /* a quantile's own errors are never used: keep the fewest */
    vsModelRun run = {
        .fc = vsForecasterNew(drv, opts, s->cfg.lead_steps + 1, vsSelectorHorizon(s),
                              level_only ? 2 : s->cfg.error_window),
        .level_only = level_only,
        .gain = 1,
    };

    s->runs[s->n_runs] = run;
    return s->n_runs++;
}

/* Every forecaster at every level (and VPA's target as it is), the
 * seasons' peak with its margin once there is a season, and every quantile
 * of the recent values at every half-life, as they are. */
static void
vsSelectorCreateCandidates(vsSelector *s)
{
    vsModelOptions opts = s->cfg.model;

    /* detected once here, not again by every model at every fit */
    opts.period = MAX(s->period, 1);
    vsSelectorClearRuns(s);
    for (guint i = 0; i < s->drivers->len; i++) {
        const vsModelDriver *drv = g_ptr_array_index(s->drivers, i);
        guint run = vsSelectorAddRun(s, drv, &opts, FALSE);

        for (guint l = 0; l < s->cfg.n_levels; l++)
            vsSelectorAddCandidate(s, run, s->cfg.levels[l]);
        if (drv == &vsModelVpa)
            vsSelectorAddCandidate(s, run, NAN);
    }
    if (s->cfg.peak_seasons > 0 && s->period > 1) {
        vsModelOptions popts = opts;
        guint run;

        popts.seasons = s->cfg.peak_seasons;
        run = vsSelectorAddRun(s, &vsModelSeasonalPeak, &popts, TRUE);
        s->runs[run].gain = 1 + s->cfg.peak_margin;
        vsSelectorAddCandidate(s, run, NAN);
    }
    for (guint q = 0; q < s->cfg.n_quantiles; q++) {
        for (guint h = 0; h < s->cfg.n_half_lives; h++) {
            vsModelOptions qopts = opts;

            qopts.quantile = s->cfg.quantiles[q];
            qopts.half_life_s = s->cfg.half_lives_s[h];
            vsSelectorAddCandidate(s, vsSelectorAddRun(s, &vsModelQuantile, &qopts, TRUE), NAN);
        }
    }
    vsSelectorAllocRings(s);
    s->chosen = -1;
}

/* The drivers @candidates names that the selector runs. */
static GPtrArray *
vsSelectorDrivers(const vsSelectorConfig *cfg, const vsModelDriver *const *candidates)
{
    GPtrArray *drivers = g_ptr_array_new();

    if (!candidates)
        candidates = vsModelDrivers();
    /* regression only where samples carry inputs (seed 003); the quantiles
     * and the seasons' peak are added on their own terms */
    for (guint i = 0; candidates[i]; i++) {
        if ((candidates[i] != &vsModelRegression || cfg->model.n_inputs > 0) &&
            candidates[i] != &vsModelQuantile && candidates[i] != &vsModelSeasonalPeak)
            g_ptr_array_add(drivers, (gpointer)candidates[i]);
    }
    return drivers;
}

vsSelector *
vsSelectorNew(const vsSelectorConfig *cfg, const vsModelDriver *const *candidates)
{
    g_autoptr(GPtrArray) drivers = vsSelectorDrivers(cfg, candidates);
    vsSelectorConfig c = *cfg;
    guint n_runs, n_cands, ring;
    vsSelector *s;

    c.n_levels = CLAMP(cfg->n_levels, 1, VS_SELECT_MAX_LEVELS);
    c.n_quantiles = MIN(cfg->n_quantiles, VS_SELECT_MAX_LEVELS);
    c.n_half_lives = MIN(cfg->n_half_lives, G_N_ELEMENTS(cfg->half_lives_s));
    /* as vsSelectorCreateCandidates adds them */
    n_runs = drivers->len + (c.peak_seasons > 0) + c.n_quantiles * c.n_half_lives;
    n_cands = drivers->len * c.n_levels + (c.peak_seasons > 0) +
              c.n_quantiles * c.n_half_lives;
    for (guint i = 0; i < drivers->len; i++)
        n_cands += g_ptr_array_index(drivers, i) == &vsModelVpa;
    n_cands *= 1 + (c.burst_gain > 0);
    ring = c.lead_steps + c.window_steps + 1;
    s = g_malloc0(sizeof(*s) + n_runs * sizeof(vsModelRun) + n_cands * sizeof(vsCandidate) +
                  (n_cands * ring + MAX(c.window_steps, 1)) * sizeof(double));
    s->cfg = c;
    s->drivers = g_steal_pointer(&drivers);
    s->runs = (vsModelRun *)(s + 1);
    s->cands = (vsCandidate *)(s->runs + n_runs);
    s->allocs = (double *)(s->cands + n_cands);
    s->bounds = s->allocs + n_cands * ring;
    s->low_level = 1;
    for (guint l = 0; l < c.n_levels; l++) {
        if (c.levels[l] >= 0 && c.levels[l] < s->low_level)
            s->low_level = c.levels[l];
    }
    s->next_refit = cfg->min_history_steps;
    s->chosen = -1;
    s->usual = NAN;
    s->latest = NAN;
    return s;
}

void
vsSelectorFree(vsSelector *s)
{
    if (!s)
        return;
    vsSelectorClearRuns(s);
    g_ptr_array_unref(s->drivers);
    g_free(s->y);
    g_free(s->x);
    g_free(s);
}

/* The history in time order into @t, @y and @x (NULL without inputs);
 * returns its length. */
static gsize
vsSelectorHistory(vsSelector *s, double *t, double *y, double *x)
{
    gsize n = MIN(s->seen, s->cfg.history_steps);
    guint64 first = s->seen - n;
    guint k = s->cfg.model.n_inputs;

    for (gsize i = 0; i < n; i++) {
        gsize j = (first + i) % s->cfg.history_steps;

        t[i] = s->t0 + (first + i) * s->cfg.model.step_s;
        y[i] = s->y[j];
        if (x)
            memcpy(x + i * k, s->x + j * k, k * sizeof(double));
    }
    return n;
}

/* A candidate's allocation for the window after the current step: its
 * model's bound at its level, and with the burst floor, never below
 * burst_gain times the newest use.  On bursty series use that has just
 * risen tends to stay up for a few steps, which no model of the level
 * sees in time; on smooth ones the floor is only slack, and the cost
 * tells which is which. */
static double
vsCandidateAllocationOf(vsSelector *s, const vsCandidate *c, const double *bounds)
{
    double alloc = c->burst && !isnan(s->latest) ? s->cfg.burst_gain * s->latest : -INFINITY;
    double gain = vsSelectorRun(s, c)->gain;

    for (guint h = 0; h < s->cfg.window_steps; h++)
        alloc = MAX(alloc, gain * bounds[h]);
    return MAX(alloc, 0);
}

/* @c's model's bound at its level for each step of the window, into
 * @bounds; FALSE when the model cannot forecast. */
static gboolean
vsCandidateBounds(vsSelector *s, const vsCandidate *c, double *bounds)
{
    vsModelRun *run = vsSelectorRun(s, c);

    for (guint h = s->cfg.lead_steps + 1; h <= vsSelectorHorizon(s); h++) {
        double *q = &bounds[h - s->cfg.lead_steps - 1];

        if (isnan(c->level) ? !vsForecasterPoint(run->fc, h, q)
                            : !vsForecasterQuantile(run->fc, h, c->level, q))
            return FALSE;
    }
    return TRUE;
}

static double
vsCandidateAllocation(vsSelector *s, const vsCandidate *c)
{
    return vsCandidateBounds(s, c, s->bounds) ? vsCandidateAllocationOf(s, c, s->bounds) : NAN;
}

static gboolean
vsSameLevel(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

/* What the candidates of @run would allocate for the window after step
 * @index, recorded so the steps it lands on can charge them.  A level's
 * bounds serve both of its candidates, with and without the floor. */
static void
vsSelectorRecord(vsSelector *s, guint run, guint64 index)
{
    guint ring = vsSelectorHorizon(s) + 1;
    const vsModelRun *r = &s->runs[run];
    const vsCandidate *prev = NULL;
    gboolean bounded = FALSE;

    for (guint i = r->first_cand; i < r->first_cand + r->n_cands; i++) {
        vsCandidate *c = vsSelectorCandidate(s, i);
        double a;

        if (!prev || !vsSameLevel(prev->level, c->level))
            bounded = vsCandidateBounds(s, c, s->bounds);
        prev = c;
        a = bounded ? vsCandidateAllocationOf(s, c, s->bounds) : NAN;

        for (guint h = s->cfg.lead_steps + 1; h <= vsSelectorHorizon(s); h++)
            c->alloc[(index + h) % ring] = a;
    }
}

/* Charge the candidates of @run for their allocations of step @index,
 * whose value is @y. */
static void
vsSelectorCharge(vsSelector *s, guint run, guint64 index, double y)
{
    guint ring = vsSelectorHorizon(s) + 1;
    double unit = s->usual > 0 ? s->usual : 1;
    const vsModelRun *r = &s->runs[run];

    for (guint i = r->first_cand; i < r->first_cand + r->n_cands; i++) {
        vsCandidate *c = vsSelectorCandidate(s, i);
        double *slot = &c->alloc[index % ring];
        /* a model that could not allocate is charged as if it gave nothing */
        double a = isnan(*slot) ? 0 : *slot;
        double cost;

        *slot = NAN;
        if (isnan(y))
            continue;
        cost = y > a ? s->cfg.under_cost : (a - y) / unit;
        c->cost = s->cfg.decay * cost + (1 - s->cfg.decay) * c->cost;
    }
}

static void
vsSelectorChoose(vsSelector *s)
{
    int best = -1;

    for (guint i = 0; i < s->n_cands; i++) {
        vsCandidate *c = vsSelectorCandidate(s, i);

        if (vsSelectorRun(s, c)->fitted &&
            (best < 0 || c->cost < vsSelectorCandidate(s, best)->cost))
            best = (int)i;
    }
    if (best < 0 || best == s->chosen)
        return;
    if (s->chosen >= 0) {
        double cur = vsSelectorCandidate(s, s->chosen)->cost;

        if (vsSelectorCandidate(s, best)->cost >= cur * (1 - s->cfg.change_penalty))
            return;
        s->switches++;
    }
    s->chosen = best;
    s->fit_mae = vsForecasterMae(vsSelectorRun(s, vsSelectorCandidate(s, best))->fc,
                                 s->cfg.lead_steps + 1);
}

static void
vsSelectorLearn(vsSelector *s, double y)
{
    if (isnan(y))
        return;
    s->usual = isnan(s->usual) ? y : s->usual + s->cfg.decay * (y - s->usual);
}

/* One step of one model: charge its candidates, update it, record their
 * allocations for the window ahead. */
static void
vsSelectorStep(vsSelector *s, guint run, guint64 index, double t, double y, const double *x)
{
    vsSelectorCharge(s, run, index, y);
    vsForecasterObserve(s->runs[run].fc, t, y, x);
    vsSelectorRecord(s, run, index);
}

static double
vsLastKnown(const double *y, gsize n)
{
    while (n > 0 && isnan(y[n - 1]))
        n--;
    return n > 0 ? y[n - 1] : NAN;
}

/* Fit every model on the history but its last day, then replay that day
 * so errors and costs start out calibrated. */
static void
vsSelectorWarmFit(vsSelector *s, const double *t, const double *y, const double *x, gsize n)
{
    gsize warm = MIN(VS_SELECT_WARMUP_STEPS, n / 2);
    vsSeries head = { .t = t, .y = y, .x = x, .n = n - warm };
    guint k = s->cfg.model.n_inputs;
    guint64 base = s->seen - n;     /* step index of y[0] */

    for (guint i = 0; i < s->n_runs; i++) {
        vsModelRun *run = &s->runs[i];

        if (!(run->fitted = vsForecasterFit(run->fc, &head, NULL)))
            continue;
        s->latest = vsLastKnown(y, n - warm);
        vsSelectorRecord(s, i, base + n - warm - 1);
        for (gsize j = n - warm; j < n; j++) {
            if (!isnan(y[j]))
                s->latest = y[j];
            vsSelectorStep(s, i, base + j, t[j], y[j], x ? x + j * k : NULL);
        }
    }
    s->latest = vsLastKnown(y, n);
}

/* Refit on the recent history; when the season length changed, start the
 * models afresh (calibrated on the history's last day). */
static void
vsSelectorRefit(vsSelector *s)
{
    g_autofree double *t = g_new(double, s->cfg.history_steps);
    g_autofree double *y = g_new(double, s->cfg.history_steps);
    g_autofree double *x = s->x ? g_new(double, s->cfg.history_steps * s->cfg.model.n_inputs)
                                : NULL;
    gsize n = vsSelectorHistory(s, t, y, x);
    guint period = s->period;

    /* the season is looked for at every refit of the first week, as more
     * cycles make it clearer, then weekly: it rarely changes, and the
     * search costs as much as fitting every model */
    if (s->cfg.model.period)
        period = s->cfg.model.period;
    else if (s->refits < VS_SELECT_PERIOD_REFITS || s->refits % VS_SELECT_PERIOD_REFITS == 0)
        period = vsPeriodDetect(y, n, 2, MIN(n / 2, 7 * 288), NULL);
    s->refits++;

    if (period != s->period || s->n_runs == 0) {
        s->period = period;
        vsSelectorCreateCandidates(s);
        vsSelectorWarmFit(s, t, y, x, n);
    } else {
        vsSeries all = { .t = t, .y = y, .x = x, .n = n };

        for (guint i = 0; i < s->n_runs; i++) {
            vsModelRun *run = &s->runs[i];

            run->fitted = vsForecasterFit(run->fc, &all, NULL) || run->fitted;
            vsSelectorRecord(s, i, s->seen - 1);
        }
    }
    vsSelectorChoose(s);
    if (s->chosen >= 0)
        s->fit_mae = vsForecasterMae(vsSelectorRun(s, vsSelectorCandidate(s, s->chosen))->fc,
                                     s->cfg.lead_steps + 1);
    s->next_refit = s->seen + s->cfg.refit_steps;
}

/* Feedback: the chosen model's recent error against its error when fitted. */
static gboolean
vsSelectorDrifted(vsSelector *s)
{
    double mae;

    if (s->chosen < 0 || !(s->fit_mae > 0))
        return FALSE;
    mae = vsForecasterMae(vsSelectorRun(s, vsSelectorCandidate(s, s->chosen))->fc,
                          s->cfg.lead_steps + 1);
    return mae > VS_SELECT_DRIFT_FACTOR * s->fit_mae;
}

static void
vsSelectorRemember(vsSelector *s, double t, double y, const double *x)
{
    gsize i = s->seen % s->cfg.history_steps;
    guint k = s->cfg.model.n_inputs;

    if (s->seen == 0)
        s->t0 = t;
    if (i >= s->cap) {
        s->cap = MIN(MAX(64, s->cap * 2), s->cfg.history_steps);
        s->y = g_renew(float, s->y, s->cap);
        if (k)
            s->x = g_renew(double, s->x, s->cap * k);
    }
    s->y[i] = (float)y;
    for (guint j = 0; j < k; j++)
        s->x[i * k + j] = x ? x[j] : NAN;
    s->seen++;
}

/* Each forecaster's state is one allocation of a few cache lines
 * (vsforecaster.c), somewhere else in memory for each, and it points to
 * what the step reads next: ask for all of the former, then for all of
 * the latter, before the first run steps. */
static void
vsSelectorPrefetch(vsSelector *s, double y)
{
    gsize next = s->seen % s->cfg.history_steps;

    /* where the history takes @y */
    if (next < s->cap)
        __builtin_prefetch(&s->y[next]);
    for (guint i = 0; i < s->n_runs; i++) {
        const char *fc = (const char *)s->runs[i].fc;

        for (guint line = 0; line < 6; line++)
            __builtin_prefetch(fc + 64 * line);
    }
    for (guint i = 0; i < s->n_runs; i++) {
        if (s->runs[i].fitted)
            vsForecasterPrefetch(s->runs[i].fc, y, s->low_level);
    }
}

void
vsSelectorObserve(vsSelector *s, double t, double y, const double *x)
{
    vsSelectorPrefetch(s, y);
    if (!isnan(y))
        s->latest = y;
    for (guint i = 0; i < s->n_runs; i++) {
        if (s->runs[i].fitted)
            vsSelectorStep(s, i, s->seen, t, y, x);
    }
    vsSelectorLearn(s, y);
    vsSelectorRemember(s, t, y, x);
    if (s->seen >= s->next_refit)
        vsSelectorRefit(s);
    vsSelectorChoose(s);
    if (vsSelectorDrifted(s))
        s->next_refit = s->seen + 1;
}

void
vsSelectorBudgetRefit(vsSelector *s, guint *refits_left)
{
    /* the next observation refits: its day has come, or its error drifted */
    if (s->seen + 1 < s->next_refit)
        return;
    /* one put off often enough goes over the budget: selectors that
     * drift at every step must not starve the others */
    if (*refits_left > 0 || s->postponed >= VS_SELECT_MAX_POSTPONED) {
        *refits_left -= *refits_left > 0;
        s->postponed = 0;
        return;
    }
    s->postponed++;
    s->next_refit = s->seen + 2;
}

gboolean
vsSelectorAllocate(vsSelector *s, double *ret)
{
    vsCandidate *c;
    double a;

    if (s->chosen < 0)
        return FALSE;
    c = vsSelectorCandidate(s, s->chosen);
    a = vsCandidateAllocation(s, c);
    if (isnan(a))
        return FALSE;
    *ret = a;
    return TRUE;
}

/* The forecast is the most accurate model's, which need not be the one
 * allocating: VPA's target, say, allocates well and forecasts nothing. */
static vsModelRun *
vsSelectorBestForecaster(vsSelector *s)
{
    vsModelRun *best = NULL;
    double best_mae = INFINITY;

    for (guint i = 0; i < s->n_runs; i++) {
        vsModelRun *run = &s->runs[i];
        double mae = vsForecasterMae(run->fc, s->cfg.lead_steps + 1);

        if (run->fitted && !run->level_only && mae < best_mae) {
            best = run;
            best_mae = mae;
        }
    }
    return best;
}

gboolean
vsSelectorPredict(vsSelector *s, double coverage, double *point, double *lower,
                  double *upper)
{
    vsModelRun *best = vsSelectorBestForecaster(s);

    return best && vsForecasterPredict(best->fc, s->cfg.lead_steps + 1, coverage, point,
                                       lower, upper);
}

const char *
vsSelectorModel(vsSelector *s)
{
    if (s->chosen < 0)
        return NULL;
    return vsForecasterDriver(vsSelectorRun(s, vsSelectorCandidate(s, s->chosen))->fc)->name;
}

double
vsSelectorLevel(vsSelector *s)
{
    return s->chosen < 0 ? NAN : vsSelectorCandidate(s, s->chosen)->level;
}

gboolean
vsSelectorBurst(vsSelector *s)
{
    return s->chosen >= 0 && vsSelectorCandidate(s, s->chosen)->burst;
}

double
vsSelectorAgo(vsSelector *s, guint k)
{
    if (k == 0 || k > s->seen || k > s->cfg.history_steps)
        return NAN;
    return s->y[(s->seen - k) % s->cfg.history_steps];
}

guint64
vsSelectorSeen(vsSelector *s)
{
    return s->seen;
}

guint
vsSelectorRefits(vsSelector *s)
{
    return s->refits;
}

guint
vsSelectorSwitches(vsSelector *s)
{
    return s->switches;
}

guint
vsSelectorPeriod(vsSelector *s)
{
    return s->period;
}
