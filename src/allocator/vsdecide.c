/*
 * vsdecide.c: one control interval's decision for one domain
 *
 * The target is built in stages, each of which may bind it and name the
 * clause: the wanted level (forecast or reactive rule), the bounds (hint,
 * memory floor, policy, domain maximum), then the motion rules
 * (cooldowns, scale-down window, max step, memory floor on shrinks).
 */
#include <config.h>

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "allocator/vsdecide.h"
#include "util/vsformat.h"

static const char *const vsActionNames[VS_ACTION_LAST] = {
    "none", "grow", "shrink", "hold", "queued",
};

static const char *const vsOutcomeNames[VS_OUTCOME_LAST] = {
    "pending", "advised", "applied", "failed", "skipped",
};

static gboolean
vsDecideNameIndex(const char *const *names, int n, const char *text, int *ret)
{
    for (int i = 0; text && i < n; i++) {
        if (g_str_equal(names[i], text)) {
            *ret = i;
            return TRUE;
        }
    }
    return FALSE;
}

const char *
vsActionToString(vsAction action)
{
    return action < VS_ACTION_LAST ? vsActionNames[action] : NULL;
}

gboolean
vsActionFromString(const char *text, vsAction *ret_action)
{
    int i;

    if (!vsDecideNameIndex(vsActionNames, VS_ACTION_LAST, text, &i))
        return FALSE;
    *ret_action = i;
    return TRUE;
}

const char *
vsOutcomeToString(vsOutcome outcome)
{
    return outcome < VS_OUTCOME_LAST ? vsOutcomeNames[outcome] : NULL;
}

gboolean
vsOutcomeFromString(const char *text, vsOutcome *ret_outcome)
{
    int i;

    if (!vsDecideNameIndex(vsOutcomeNames, VS_OUTCOME_LAST, text, &i))
        return FALSE;
    *ret_outcome = i;
    return TRUE;
}

void
vsDecisionInit(vsDecision *d)
{
    memset(d, 0, sizeof(*d));
    d->current = d->wanted = d->target = NAN;
    d->forecast = d->upper = d->confidence = NAN;
}

void
vsDecisionClear(vsDecision *d)
{
    if (!d)
        return;
    g_clear_pointer(&d->name, g_free);
    g_clear_pointer(&d->model, g_free);
    g_clear_pointer(&d->clause, g_free);
    g_clear_pointer(&d->reason, g_free);
    g_clear_pointer(&d->error, g_free);
}

void
vsDecideConfigDefaults(vsDecideConfig *cfg)
{
    cfg->high_utilization = 0.8;
    cfg->up_samples = 3;
    cfg->low_utilization = 0.3;
    cfg->down_window_s = 3600;
    cfg->shrink_window_s = 3600;
    cfg->max_relative_width = 2;
    cfg->cpu_width_unit = 1;
    cfg->max_mase = 1.5;
    cfg->max_relative_error = 0.5;
    cfg->min_coverage = 0.8;
    cfg->confidence_margin = 0.1;
    cfg->min_history = 12;
    cfg->full_history = 288;
}

void
vsDecideForecastInit(vsDecideForecast *fc)
{
    memset(fc, 0, sizeof(*fc));
    fc->point = fc->lower = fc->upper = fc->allocation = fc->mae = fc->mase = fc->coverage = NAN;
    fc->ahead_s = NAN;
}

void
vsDecideInputInit(vsDecideInput *in)
{
    memset(in, 0, sizeof(*in));
    in->used_memory_kib = NAN;
    in->cpu_use = NAN;
    vsDecideForecastInit(&in->cpu);
    vsDecideForecastInit(&in->memory);
}

void
vsDecideStateInit(vsDecideState *state)
{
    memset(state, 0, sizeof(*state));
}

void
vsDecideStateClear(vsDecideState *state)
{
    vsDecideStateInit(state);
}

/* --- confidence ------------------------------------------------------- */

static double
vsDecideUnit(double x)
{
    return CLAMP(x, 0.0, 1.0);
}

double
vsDecideConfidence(const vsDecideForecast *fc, vsResourceKind resource,
                   const vsDecideConfig *cfg, const char **ret_weakest)
{
    const char *weakest = "no forecast";
    double trust[4];
    const char *names[4] = { "interval width", "forecast error", "interval coverage", "history" };
    double confidence = 0;

    if (isfinite(fc->point)) {
        double unit = resource == VS_RESOURCE_CPU ? cfg->cpu_width_unit : 0;
        double scale = MAX(MAX(fabs(fc->point), unit), 1e-9);
        double width = (fc->upper - fc->lower) / scale;
        double relative = fc->mae / scale;

        trust[0] = isfinite(width) ? vsDecideUnit(1 - width / cfg->max_relative_width) : 0;
        /* MASE at a third of the limit or better is fully trusted */
        trust[1] = isfinite(fc->mase) ?
            vsDecideUnit((cfg->max_mase - fc->mase) / (cfg->max_mase * 2 / 3)) : 0;
        if (isfinite(relative))
            trust[1] = MAX(trust[1], vsDecideUnit(1 - relative / cfg->max_relative_error));
        /* the forecasters calibrate their intervals: unknown is no evidence against */
        trust[2] = isfinite(fc->coverage) ? vsDecideUnit(fc->coverage / cfg->min_coverage) : 1;
        trust[3] = fc->history < cfg->min_history ? 0 :
            vsDecideUnit((double)fc->history / MAX(cfg->full_history, 1));
        confidence = 2;
        for (guint i = 0; i < G_N_ELEMENTS(trust); i++) {
            if (trust[i] < confidence) {
                confidence = trust[i];
                weakest = names[i];
            }
        }
    }
    if (ret_weakest)
        *ret_weakest = weakest;
    return confidence;
}

/* --- one resource's view of the inputs ---------------------------------- */

typedef struct {
    vsResourceKind kind;
    const vsPolicy *policy;
    const vsDecideConfig *cfg;
    const vsDecideForecast *fc;
    gint64 now_us;
    double current;
    double use;             /* observed: cores, or KiB used; NaN: unknown */
    double lo, hi;          /* the policy's bounds within the domain's maximum */
    const char *lo_clause;
    const char *hi_clause;
    double step;            /* 0: unlimited */
    double floor;           /* memory: used + floor; NaN: none */
    double hint;            /* 0: none */
} vsDecideView;

/* What one pass of the rules concludes. */
typedef struct {
    gboolean reactive;
    gboolean hinted;
    double wanted;
    double target;
    vsAction action;
    const char *clause;     /* static */
} vsDecideResult;

static void
vsDecideBounds(vsDecideView *v, double policy_min, double policy_max, double domain_max,
               const char *min_clause, const char *max_clause)
{
    if (domain_max <= 0)
        domain_max = v->current;    /* unknown: never grow past what it has */
    v->hi = domain_max;
    v->hi_clause = "domain-max";
    if (policy_max > 0 && policy_max <= domain_max) {
        v->hi = policy_max;
        v->hi_clause = max_clause;
    }
    v->lo = MIN(policy_min, v->hi);
    v->lo_clause = min_clause;
}

static void
vsDecideViewInit(vsDecideView *v, const vsDecideInput *in, vsResourceKind kind,
                 const vsDecideConfig *cfg)
{
    const vsPolicy *p = in->policy;
    guint hint_vcpus;
    guint64 hint_memory_kib;

    memset(v, 0, sizeof(*v));
    v->kind = kind;
    v->policy = p;
    v->cfg = cfg;
    v->now_us = in->now_us;
    vsHintFloor(in->hints, in->n_hints, (gint64)p->lead_s * G_USEC_PER_SEC, in->now_us,
                &hint_vcpus, &hint_memory_kib);
    if (kind == VS_RESOURCE_CPU) {
        v->fc = &in->cpu;
        v->current = in->vcpus;
        v->use = in->cpu_use;
        v->step = p->max_step_vcpus;
        v->floor = NAN;
        v->hint = hint_vcpus;
        vsDecideBounds(v, MAX(p->min_vcpus, 1), p->max_vcpus, in->max_vcpus,
                       "min-vcpus", "max-vcpus");
    } else {
        v->fc = &in->memory;
        v->current = in->memory_kib;
        v->use = in->used_memory_kib;
        v->step = p->max_step_memory_kib;
        v->floor = in->used_memory_kib + p->memory_floor_kib;
        v->hint = hint_memory_kib;
        vsDecideBounds(v, p->min_memory_kib, p->max_memory_kib, in->max_memory_kib,
                       "min-memory", "max-memory");
    }
}

/* --- words ------------------------------------------------------------------
 * Text costs more than the rules (printf of doubles): every pass runs
 * with @why NULL first, and only a decision with something to say is
 * explained, by a second pass. */

#define VS_DECIDE_AMOUNT_LEN 32

/* @digits (from @start to @end) then @unit into @buf: the 21 characters
 * a 64-bit integer takes and a short unit always fit. */
static const char *
vsDecideUnitText(const char *start, const char *end, const char *unit,
                 char buf[VS_DECIDE_AMOUNT_LEN])
{
    memcpy(buf, start, end - start);
    g_strlcpy(buf + (end - start), unit, VS_DECIDE_AMOUNT_LEN - (end - start));
    return buf;
}

/* As g_snprintf("%" G_GINT64_FORMAT "%s", @n, @unit). */
static const char *
vsDecideIntText(gint64 n, const char *unit, char buf[VS_DECIDE_AMOUNT_LEN])
{
    char digits[24];
    char *end = digits + sizeof(digits);
    char *start = vsFormatUInt(n < 0 ? -(guint64)n : (guint64)n, end);

    if (n < 0)
        *--start = '-';
    return vsDecideUnitText(start, end, unit, buf);
}

static const char *
vsDecideAmountText(vsResourceKind resource, double amount, char buf[VS_DECIDE_AMOUNT_LEN])
{
    char digits[24];
    char *end = digits + sizeof(digits);

    if (resource == VS_RESOURCE_CPU) {
        guint64 n = llround(amount);

        return vsDecideUnitText(vsFormatUInt(n, end), end, n == 1 ? " vCPU" : " vCPUs", buf);
    }
    return vsDecideUnitText(vsFormatUInt((guint64)llround(amount / 1024), end), end, " MiB",
                            buf);
}

char *
vsDecisionFormatAmount(vsResourceKind resource, double amount)
{
    char buf[VS_DECIDE_AMOUNT_LEN];

    return g_strdup(vsDecideAmountText(resource, amount, buf));
}

const char *
vsDecisionVerb(vsAction action)
{
    static const char *const verbs[VS_ACTION_LAST] = {
        "keep", "grow to", "shrink to", "hold at", "queue at",
    };

    return action < VS_ACTION_LAST ? verbs[action] : "?";
}

/* Append @fmt to @why (NULL: nothing to say), as g_string_append_printf
 * would, without printf for the conversions reasons use. */
static void G_GNUC_PRINTF(2, 3)
vsDecideSay(GString *why, const char *fmt, ...)
{
    va_list ap;

    if (!why)
        return;
    va_start(ap, fmt);
    vsStringAppendVprintf(why, fmt, ap);
    va_end(ap);
}

/* "5m", "1h", "90s" */
static const char *
vsDecideDuration(gint64 s, char buf[VS_DECIDE_AMOUNT_LEN])
{
    if (s >= 3600 && s % 3600 == 0)
        return vsDecideIntText(s / 3600, "h", buf);
    if (s >= 60 && s % 60 == 0)
        return vsDecideIntText(s / 60, "m", buf);
    return vsDecideIntText(s, "s", buf);
}

/* What the policy asks for a level of use (cores, or KiB). */
static double
vsDecideNeed(const vsDecideView *v, double level)
{
    double utilization = v->policy->target_utilization;

    if (v->kind == VS_RESOURCE_CPU)
        return ceil(level / (utilization > 0 ? utilization : 1) - 1e-9);
    return ceil(level * (1 + v->policy->memory_headroom));
}

/* --- the wanted level ---------------------------------------------------- */

/* The reactive counters follow the observations in every mode, so that a
 * switch to the reactive rule starts from what has been seen. */
static void
vsDecideObserve(const vsDecideView *v, vsDecideState *state)
{
    double util = v->use / v->current;

    if (!isfinite(util)) {
        state->above = 0;
        state->low_since_us = 0;
        return;
    }
    state->above = util > v->cfg->high_utilization ? state->above + 1 : 0;
    if (util >= v->cfg->low_utilization)
        state->low_since_us = 0;
    else if (!state->low_since_us)
        state->low_since_us = v->now_us;
}

static double
vsDecideFromForecast(const vsDecideView *v, GString *why)
{
    const vsDecideForecast *fc = v->fc;
    double bound = isfinite(fc->allocation) ? fc->allocation : fc->upper;
    double level = isfinite(bound) ? MAX(bound, fc->point) : fc->point;
    double wanted = vsDecideNeed(v, MAX(level, 0));
    char lead[VS_DECIDE_AMOUNT_LEN], amount[VS_DECIDE_AMOUNT_LEN];
    /* a lead beyond the forecasts' horizon is served as far as they see */
    gboolean short_of_lead = fc->ahead_s < v->policy->lead_s;

    if (!why)
        return wanted;
    vsDecideDuration(short_of_lead ? (gint64)fc->ahead_s : v->policy->lead_s, lead);
    vsDecideAmountText(v->kind, wanted, amount);
    if (v->kind == VS_RESOURCE_CPU)
        vsDecideSay(why, "the forecast upper bound %.2f cores at +%s over the target "
                    "utilisation %.2f needs %s", level, lead, v->policy->target_utilization,
                    amount);
    else
        vsDecideSay(why, "the forecast upper bound %.0f MiB at +%s plus headroom %.2f needs %s",
                    level / 1024, lead, v->policy->memory_headroom, amount);
    if (short_of_lead)
        vsDecideSay(why, " (the forecast horizon, short of the policy's lead)");
    return wanted;
}

static double
vsDecideReactive(const vsDecideView *v, const vsDecideState *state, GString *why)
{
    const vsDecideConfig *cfg = v->cfg;
    char amount[VS_DECIDE_AMOUNT_LEN], window[VS_DECIDE_AMOUNT_LEN];
    double wanted;

    if (state->above >= cfg->up_samples) {
        /* a rise is under way: at least one vCPU, or 5 % of memory, more */
        double least = v->kind == VS_RESOURCE_CPU ? v->current + 1 : ceil(v->current * 1.05);

        wanted = MAX(vsDecideNeed(v, v->use), least);
        if (why)
            vsDecideSay(why, "use above %.2f of the allocation for %u samples needs %s",
                        cfg->high_utilization, state->above,
                        vsDecideAmountText(v->kind, wanted, amount));
        return wanted;
    }
    if (state->low_since_us &&
        v->now_us - state->low_since_us >= (gint64)cfg->down_window_s * G_USEC_PER_SEC) {
        wanted = MIN(vsDecideNeed(v, v->use), v->current);
        if (why)
            vsDecideSay(why, "use below %.2f of the allocation for %s needs %s",
                        cfg->low_utilization, vsDecideDuration(cfg->down_window_s, window),
                        vsDecideAmountText(v->kind, wanted, amount));
        return wanted;
    }
    vsDecideSay(why, "use crossed no threshold long enough to act");
    return v->current;
}

/* --- bounds --------------------------------------------------------------- */

/* Move @target to @bound when it lies on the wrong side: below it when
 * @raise, above it otherwise. */
static double
vsDecideBind(const vsDecideView *v, double target, double bound, gboolean raise,
             const char *clause, vsDecideResult *res, GString *why)
{
    char amount[VS_DECIDE_AMOUNT_LEN];

    if (raise ? bound <= target : bound >= target)
        return target;
    res->clause = clause;
    if (!why)
        return bound;
    vsDecideAmountText(v->kind, bound, amount);
    if (g_str_equal(clause, "max-step"))
        vsDecideSay(why, ", limited by max-step to %s", amount);
    else
        vsDecideSay(why, ", %s by %s %s", raise ? "raised" : "capped", clause, amount);
    return bound;
}

static double
vsDecideBound(const vsDecideView *v, double wanted, vsDecideResult *res, GString *why)
{
    double target = wanted;

    if (v->hint > target) {
        target = vsDecideBind(v, target, v->hint, TRUE, "hint", res, why);
        res->hinted = TRUE;
    }
    if (isfinite(v->floor))
        target = vsDecideBind(v, target, v->floor, TRUE, "memory-floor", res, why);
    target = vsDecideBind(v, target, v->lo, TRUE, v->lo_clause, res, why);
    return vsDecideBind(v, target, v->hi, FALSE, v->hi_clause, res, why);
}

/* --- motion --------------------------------------------------------------- */

static vsAction
vsDecideHold(const vsDecideView *v, vsDecideResult *res, const char *clause, GString *why)
{
    vsDecideSay(why, "; held by %s", clause);
    res->clause = clause;
    res->target = v->current;
    return VS_ACTION_HOLD;
}

/* "the last resize was 30s ago, the cooldown is 1m" */
static void
vsDecideSayCooldown(GString *why, gint64 ago_us, guint cooldown_s)
{
    char ago[VS_DECIDE_AMOUNT_LEN], cooldown[VS_DECIDE_AMOUNT_LEN];

    if (why)
        vsDecideSay(why, ": the last resize was %s ago, the cooldown is %s",
                    vsDecideDuration(ago_us / G_USEC_PER_SEC, ago),
                    vsDecideDuration(cooldown_s, cooldown));
}

static double
vsDecideStep(const vsDecideView *v, double target, vsDecideResult *res, GString *why)
{
    double delta = target - v->current;

    if (v->step <= 0 || fabs(delta) <= v->step)
        return target;
    return vsDecideBind(v, target, v->current + (delta > 0 ? v->step : -v->step),
                        delta < 0, "max-step", res, why);
}

static gint64
vsDecideLastResize(const vsDecideState *state)
{
    return MAX(state->last_grow_us, state->last_shrink_us);
}

static vsAction
vsDecideGrow(const vsDecideView *v, const vsDecideState *state, vsDecideResult *res,
             GString *why)
{
    gint64 last = vsDecideLastResize(state);

    if (last && v->now_us - last < (gint64)v->policy->cooldown_up_s * G_USEC_PER_SEC) {
        vsAction action = vsDecideHold(v, res, "cooldown-up", why);

        vsDecideSayCooldown(why, v->now_us - last, v->policy->cooldown_up_s);
        return action;
    }
    res->target = vsDecideStep(v, res->target, res, why);
    return VS_ACTION_GROW;
}

static vsAction
vsDecideShrink(const vsDecideView *v, const vsDecideState *state, vsDecideResult *res,
               GString *why)
{
    gint64 last = vsDecideLastResize(state);
    gint64 below_us = v->now_us - state->below_since_us;
    guint window_s = v->cfg->shrink_window_s;
    double floor;

    /* the reactive rule has waited out its own, longer, window */
    if (!res->reactive && below_us < (gint64)window_s * G_USEC_PER_SEC) {
        vsAction action = vsDecideHold(v, res, "scale-down-window", why);
        char below[VS_DECIDE_AMOUNT_LEN], window[VS_DECIDE_AMOUNT_LEN];

        if (why)
            vsDecideSay(why, ": the target has been below for %s of %s",
                        vsDecideDuration(below_us / G_USEC_PER_SEC, below),
                        vsDecideDuration(window_s, window));
        return action;
    }
    if (last && v->now_us - last < (gint64)v->policy->cooldown_down_s * G_USEC_PER_SEC) {
        vsAction action = vsDecideHold(v, res, "cooldown-down", why);

        vsDecideSayCooldown(why, v->now_us - last, v->policy->cooldown_down_s);
        return action;
    }
    res->target = vsDecideStep(v, res->target, res, why);
    /* whatever bound it, a shrink never takes what the guest uses */
    floor = MIN(v->current, v->floor);
    if (isfinite(floor) && res->target < floor) {
        res->target = vsDecideBind(v, res->target, floor, TRUE, "memory-floor", res, why);
        if (res->target >= v->current) {
            vsAction action = vsDecideHold(v, res, "memory-floor", why);

            vsDecideSay(why, ": the guest uses what would be taken");
            return action;
        }
    }
    return VS_ACTION_SHRINK;
}

/* The balloon settles within a few hundred KiB of its target: chasing
 * that would resize it every interval.  Never when a bound asks for it. */
#define VS_DECIDE_MEMORY_SETTLE 0.01

static gboolean
vsDecideSettled(const vsDecideView *v, double target)
{
    return v->kind == VS_RESOURCE_MEMORY &&
           fabs(target - v->current) <= VS_DECIDE_MEMORY_SETTLE * v->current &&
           v->current >= v->lo && v->current <= v->hi && !(v->current < v->floor);
}

static vsAction
vsDecideMove(const vsDecideView *v, vsDecideState *state, vsDecideResult *res, GString *why)
{
    if (vsDecideSettled(v, res->target))
        res->target = v->current;
    if (res->target >= v->current)
        state->below_since_us = 0;
    else if (!state->below_since_us)
        state->below_since_us = v->now_us;

    if (res->target > v->current)
        return vsDecideGrow(v, state, res, why);
    if (res->target < v->current)
        return vsDecideShrink(v, state, res, why);
    return VS_ACTION_NONE;
}

/* --- the decision --------------------------------------------------------- */

/* The confidence the forecast needs now: less while it is acted on. */
static double
vsDecideThreshold(const vsDecideView *v, const vsDecideState *state)
{
    return v->policy->confidence - (state->trusted ? v->cfg->confidence_margin : 0);
}

/* One pass of the rules; explains itself into @why unless NULL. */
static void
vsDecideRun(const vsDecideView *v, double confidence, const char *weakest,
            vsDecideState *state, vsDecideResult *res, GString *why)
{
    double threshold = vsDecideThreshold(v, state);

    memset(res, 0, sizeof(*res));
    vsDecideObserve(v, state);
    res->reactive = !isfinite(v->fc->point) || confidence < threshold;
    state->trusted = !res->reactive;
    if (res->reactive)
        vsDecideSay(why, "confidence %.2f is below %.2f (weakest: %s), so reactively: ",
                    confidence, threshold, weakest);
    res->wanted = res->reactive ? vsDecideReactive(v, state, why) : vsDecideFromForecast(v, why);
    res->target = vsDecideBound(v, res->wanted, res, why);
    res->action = vsDecideMove(v, state, res, why);
}

/* Nothing moved and nothing bound it: said in a few words, without the
 * numbers behind it. */
static gboolean
vsDecideQuiet(const vsDecideResult *res)
{
    return res->action == VS_ACTION_NONE && !res->clause && !res->hinted;
}

static char *
vsDecideSummary(const vsDecideView *v, vsAction action, double target, const char *why)
{
    char amount[VS_DECIDE_AMOUNT_LEN];

    return g_strconcat(vsDecisionVerb(action), " ", vsDecideAmountText(v->kind, target, amount),
                       ": ", why, NULL);
}

static void
vsDecideExplain(const vsDecideView *v, double confidence, const char *weakest,
                const vsDecideState *before, const vsDecideResult *res, vsDecision *ret)
{
    g_autoptr(GString) why = NULL;
    vsDecideState again = *before;
    vsDecideResult same;
    char amount[VS_DECIDE_AMOUNT_LEN];

    if (vsDecideQuiet(res)) {
        ret->reason = vsDecideSummary(v, res->action, res->target, res->reactive ?
                                      "reactively, no threshold crossed" :
                                      "the forecast needs what it has");
        return;
    }
    /* the rules are deterministic: the second pass concludes the same,
     * so the summary's head is written first, and the words follow it in
     * place */
    why = g_string_sized_new(256);
    g_string_append(why, vsDecisionVerb(res->action));
    g_string_append_c(why, ' ');
    g_string_append(why, vsDecideAmountText(v->kind, res->target, amount));
    g_string_append(why, ": ");
    vsDecideRun(v, confidence, weakest, &again, &same, why);
    ret->reason = g_string_free(g_steal_pointer(&why), FALSE);
}

void
vsDecide(const vsDecideInput *in, vsResourceKind resource, vsDecideState *state,
         vsDecision *ret)
{
    vsDecideConfig defaults;
    vsDecideView v;
    vsDecideState before = *state;
    vsDecideResult res;
    const char *weakest = NULL;

    if (!in->config)
        vsDecideConfigDefaults(&defaults);
    vsDecideViewInit(&v, in, resource, in->config ? in->config : &defaults);

    vsDecisionInit(ret);
    ret->at_us = in->now_us;
    g_strlcpy(ret->uuid, in->uuid ? in->uuid : "", sizeof(ret->uuid));
    ret->name = g_strdup(in->name);
    ret->resource = resource;
    ret->current = ret->wanted = ret->target = v.current;
    ret->forecast = v.fc->point;
    ret->upper = isfinite(v.fc->allocation) ? v.fc->allocation : v.fc->upper;
    ret->model = g_strdup(v.fc->model);
    ret->confidence = vsDecideConfidence(v.fc, v.kind, v.cfg, &weakest);

    if (in->policy->mode == VS_POLICY_MODE_OFF) {
        ret->reason = vsDecideSummary(&v, VS_ACTION_NONE, v.current, "the policy mode is off");
        return;
    }
    vsDecideRun(&v, ret->confidence, weakest, state, &res, NULL);
    ret->reactive = res.reactive;
    ret->hinted = res.hinted;
    ret->wanted = res.wanted;
    ret->target = res.target;
    ret->action = res.action;
    ret->clause = g_strdup(res.clause);
    vsDecideExplain(&v, ret->confidence, weakest, &before, &res, ret);
}

void
vsDecideStateCommit(vsDecideState *state, const vsDecision *d)
{
    if (d->action == VS_ACTION_GROW)
        state->last_grow_us = d->at_us;
    else if (d->action == VS_ACTION_SHRINK)
        state->last_shrink_us = d->at_us;
    else
        return;
    state->below_since_us = 0;
    state->low_since_us = 0;
    state->above = 0;
}
