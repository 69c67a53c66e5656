/*
 * vsdecidetest.c: targets, clamps, the confidence gate, the reactive
 * fallback, hysteresis, steps, the memory floor, hints, and a property
 * test of the bounds over random forecasts, policies and hosts
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "allocator/vsdecide.h"
#include "allocator/vshint.h"
#include "allocator/vsledger.h"
#include "vstestutils.h"

#define GIB (G_GUINT64_CONSTANT(1048576))       /* in KiB */
#define MIB (G_GUINT64_CONSTANT(1024))
#define SEC G_USEC_PER_SEC
#define T0 (G_GINT64_CONSTANT(1700000000) * SEC)

/* The documented defaults of vspolicy.h, filled by hand: the parser is
 * another module's. */
static void
vsTestPolicy(vsPolicy *p)
{
    memset(p, 0, sizeof(*p));
    p->mode = VS_POLICY_MODE_AUTO;
    p->target_utilization = 0.7;
    p->memory_headroom = 0.2;
    p->memory_floor_kib = 128 * MIB;
    p->lead_s = 300;
    p->confidence = 0.8;
    p->tier = 5;
    p->cooldown_up_s = 60;
    p->cooldown_down_s = 900;
    p->max_step_vcpus = 2;
    p->max_step_memory_kib = GIB;
}

static void
vsTestForecast(vsDecideForecast *fc, double point, double lower, double upper)
{
    fc->point = point;
    fc->lower = lower;
    fc->upper = upper;
    fc->mae = NAN;
    fc->mase = 0.3;
    fc->coverage = 0.95;
    fc->history = 288;
    fc->model = "holt-winters";
}

/* 2 of 8 vCPUs, 2 of 8 GiB, 1 GiB used, a confident forecast of 1.5 cores
 * (upper 2) and 1.2 GiB (upper 1.4 GiB). */
static void
vsTestInput(vsDecideInput *in, const vsPolicy *p)
{
    vsDecideInputInit(in);
    in->policy = p;
    in->uuid = "00000000-0000-4000-8000-000000000001";
    in->name = "web1";
    in->vcpus = 2;
    in->max_vcpus = 8;
    in->memory_kib = 2 * GIB;
    in->max_memory_kib = 8 * GIB;
    in->used_memory_kib = GIB;
    in->cpu_use = 1.0;
    vsTestForecast(&in->cpu, 1.5, 1.2, 2.0);
    vsTestForecast(&in->memory, 1.2 * GIB, 1.1 * GIB, 1.4 * GIB);
    in->now_us = T0;
}

/* A 15-minute scale-down window, so that tests need fewer steps. */
static void
vsTestShortWindow(vsDecideInput *in, vsDecideConfig *cfg)
{
    vsDecideConfigDefaults(cfg);
    cfg->shrink_window_s = 900;
    in->config = cfg;
}

/* Decide on a fresh state; the decision is the caller's to clear. */
static void
vsTestDecide(const vsDecideInput *in, vsResourceKind r, vsDecision *d)
{
    vsDecideState st;

    vsDecideStateInit(&st);
    vsDecide(in, r, &st, d);
}

#define vsTestAssertDecision(d, act, tgt, cls) do { \
        ck_assert_msg((d)->action == (act) && (d)->target == (tgt) && \
                      g_strcmp0((d)->clause, (cls)) == 0, \
                      "action %s target %g clause %s (%s)", vsActionToString((d)->action), \
                      (d)->target, (d)->clause, (d)->reason); \
    } while (0)

/* Advance the clock by @dt_s, decide @r on @st and check the result.  The
 * decision goes to @keep (the caller clears it) or is cleared. */
static void
vsTestAdvance(vsDecideInput *in, vsDecideState *st, gint64 dt_s, vsResourceKind r,
              vsAction action, double target, const char *clause, vsDecision *keep)
{
    vsDecision d;

    in->now_us += dt_s * SEC;
    vsDecide(in, r, st, &d);
    vsTestAssertDecision(&d, action, target, clause);
    if (keep)
        *keep = d;
    else
        vsDecisionClear(&d);
}

/* Decide @r on a fresh state and check the result. */
static void
vsTestCheck(vsDecideInput *in, vsResourceKind r, vsAction action, double target,
            const char *clause)
{
    vsDecideState st;

    vsDecideStateInit(&st);
    vsTestAdvance(in, &st, 0, r, action, target, clause, NULL);
}

START_TEST(test_strings)
{
    vsAction a = VS_ACTION_LAST;
    vsOutcome o = VS_OUTCOME_LAST;

    for (int i = 0; i < VS_ACTION_LAST; i++) {
        ck_assert(vsActionFromString(vsActionToString(i), &a));
        ck_assert_int_eq(a, i);
    }
    for (int i = 0; i < VS_OUTCOME_LAST; i++) {
        ck_assert(vsOutcomeFromString(vsOutcomeToString(i), &o));
        ck_assert_int_eq(o, i);
    }
    a = VS_ACTION_HOLD;
    ck_assert(!vsActionFromString("grown", &a));
    ck_assert(!vsActionFromString(NULL, &a));
    ck_assert_int_eq(a, VS_ACTION_HOLD);
    ck_assert(!vsOutcomeFromString("", &o));
    ck_assert_str_eq(vsActionToString(VS_ACTION_QUEUED), "queued");
    ck_assert_str_eq(vsOutcomeToString(VS_OUTCOME_ADVISED), "advised");
    ck_assert_ptr_null(vsActionToString(VS_ACTION_LAST));
}
END_TEST

START_TEST(test_init_clear)
{
    vsDecideConfig cfg;
    vsDecision d;
    vsHint h;

    vsDecideConfigDefaults(&cfg);
    ck_assert_uint_eq(cfg.shrink_window_s, 3600);
    ck_assert_uint_eq(cfg.down_window_s, 3600);
    vsDecisionInit(&d);
    ck_assert(isnan(d.forecast) && isnan(d.upper) && isnan(d.target));
    ck_assert_ptr_null(d.reason);
    d.reason = g_strdup("x");
    d.error = g_strdup("y");
    vsDecisionClear(&d);
    ck_assert_ptr_null(d.reason);
    vsDecisionClear(&d);

    vsHintInit(&h);
    h.name = g_strdup("web1");
    vsHintClear(&h);
    ck_assert_ptr_null(h.name);
}
END_TEST

START_TEST(test_confidence)
{
    vsDecideConfig cfg;
    vsDecideForecast fc;
    const char *weakest = NULL;

    vsDecideConfigDefaults(&cfg);
    vsTestForecast(&fc, 1.5, 1.2, 2.0);
    ck_assert_double_eq_tol(vsDecideConfidence(&fc, VS_RESOURCE_CPU, &cfg, &weakest), 1 - 0.8 / 1.5 / 2, 1e-9);
    ck_assert_str_eq(weakest, "interval width");

    fc.lower = fc.upper = 1.5;
    ck_assert_double_eq(vsDecideConfidence(&fc, VS_RESOURCE_CPU, &cfg, NULL), 1);
    fc.mase = 1.0;      /* as good as the naive forecast: half trusted */
    ck_assert_double_eq_tol(vsDecideConfidence(&fc, VS_RESOURCE_CPU, &cfg, &weakest), 0.5, 1e-9);
    ck_assert_str_eq(weakest, "forecast error");
    fc.mase = NAN;
    ck_assert_double_eq(vsDecideConfidence(&fc, VS_RESOURCE_CPU, &cfg, NULL), 0);
    /* a periodic series: no better than the seasonal naive forecast, yet
     * close in absolute terms (0.15 of 1.5 cores off: 0.8 trusted) */
    fc.mase = 1.4;
    fc.mae = 0.15;
    ck_assert_double_eq_tol(vsDecideConfidence(&fc, VS_RESOURCE_CPU, &cfg, &weakest), 0.8, 1e-9);
    fc.mae = 1.5;
    ck_assert_double_eq_tol(vsDecideConfidence(&fc, VS_RESOURCE_CPU, &cfg, &weakest), 0.1, 1e-9);
    ck_assert_str_eq(weakest, "forecast error");
    fc.mae = NAN;
    fc.mase = 0.3;
    fc.coverage = 0.4;
    ck_assert_double_eq_tol(vsDecideConfidence(&fc, VS_RESOURCE_CPU, &cfg, &weakest), 0.5, 1e-9);
    ck_assert_str_eq(weakest, "interval coverage");
    fc.coverage = NAN;  /* unknown is no evidence against */
    ck_assert_double_eq(vsDecideConfidence(&fc, VS_RESOURCE_CPU, &cfg, NULL), 1);
    fc.history = 144;
    ck_assert_double_eq_tol(vsDecideConfidence(&fc, VS_RESOURCE_CPU, &cfg, &weakest), 0.5, 1e-9);
    ck_assert_str_eq(weakest, "history");
    fc.history = 11;
    ck_assert_double_eq(vsDecideConfidence(&fc, VS_RESOURCE_CPU, &cfg, NULL), 0);
    fc.history = 288;
    fc.point = NAN;
    ck_assert_double_eq(vsDecideConfidence(&fc, VS_RESOURCE_CPU, &cfg, &weakest), 0);
    ck_assert_str_eq(weakest, "no forecast");

    /* an idle domain: [0, 0.4] around 0.1 core is wide relative to the
     * point, not to the one vCPU it asks for; memory has no such unit */
    vsTestForecast(&fc, 0.1, 0, 0.4);
    ck_assert_double_eq_tol(vsDecideConfidence(&fc, VS_RESOURCE_CPU, &cfg, NULL), 0.8, 1e-9);
    ck_assert_double_eq(vsDecideConfidence(&fc, VS_RESOURCE_MEMORY, &cfg, &weakest), 0);
    ck_assert_str_eq(weakest, "interval width");
}
END_TEST

/* Once the forecast is acted on, a confidence a little below the
 * threshold keeps it so; a clear fall hands over to the reactive rule. */
START_TEST(test_confidence_gate)
{
    vsPolicy p;
    vsDecideInput in;
    vsDecideState st;
    vsDecision d;

    vsTestPolicy(&p);
    vsTestInput(&in, &p);
    vsDecideStateInit(&st);
    in.memory.coverage = 0.6;   /* confidence 0.75 */
    vsDecide(&in, VS_RESOURCE_MEMORY, &st, &d);
    ck_assert_msg(d.reactive, "%s", d.reason);
    vsDecisionClear(&d);

    in.memory.coverage = 0.95;  /* 0.875: trusted */
    vsDecide(&in, VS_RESOURCE_MEMORY, &st, &d);
    ck_assert_msg(!d.reactive, "%s", d.reason);
    vsDecisionClear(&d);
    in.memory.coverage = 0.6;   /* 0.75: still */
    vsDecide(&in, VS_RESOURCE_MEMORY, &st, &d);
    ck_assert_msg(!d.reactive, "%s", d.reason);
    vsDecisionClear(&d);
    in.memory.coverage = 0.52;  /* 0.65: no more */
    vsDecide(&in, VS_RESOURCE_MEMORY, &st, &d);
    ck_assert_msg(d.reactive, "%s", d.reason);
    vsDecisionClear(&d);
    in.memory.coverage = 0.6;   /* and 0.75 is not enough to come back */
    vsDecide(&in, VS_RESOURCE_MEMORY, &st, &d);
    ck_assert_msg(d.reactive, "%s", d.reason);
    vsDecisionClear(&d);
}
END_TEST

START_TEST(test_cpu_target)
{
    vsPolicy p;
    vsDecideInput in;
    vsDecision d;

    vsTestPolicy(&p);
    vsTestInput(&in, &p);
    in.cpu.lower = 1.5;     /* narrow enough for confidence */
    vsTestDecide(&in, VS_RESOURCE_CPU, &d);
    /* ceil(2.0 / 0.7) = 3 */
    vsTestAssertDecision(&d, VS_ACTION_GROW, 3, NULL);
    ck_assert(!d.reactive);
    ck_assert_double_eq(d.wanted, 3);
    ck_assert_double_eq(d.current, 2);
    ck_assert_double_eq(d.upper, 2.0);
    ck_assert_str_eq(d.model, "holt-winters");
    ck_assert_str_eq(d.name, "web1");
    ck_assert_str_eq(d.uuid, in.uuid);
    ck_assert_int_eq(d.outcome, VS_OUTCOME_PENDING);
    ck_assert_msg(strstr(d.reason, "grow to 3 vCPUs: the forecast upper bound 2.00 cores at "
                         "+5m over the target utilisation 0.70 needs 3 vCPUs"), "%s", d.reason);
    vsDecisionClear(&d);

    /* a lead beyond the forecasts' horizon is served as far as they see */
    p.lead_s = 1800;
    in.cpu.ahead_s = 600;
    vsTestDecide(&in, VS_RESOURCE_CPU, &d);
    ck_assert_msg(strstr(d.reason, "cores at +10m over") &&
                  strstr(d.reason, "(the forecast horizon, short of the policy's lead)"),
                  "%s", d.reason);
    vsDecisionClear(&d);
    p.lead_s = 300;

    /* exactly on a whole vCPU: no extra one */
    in.cpu.upper = 2.1;
    in.cpu.lower = 1.7;
    vsTestDecide(&in, VS_RESOURCE_CPU, &d);
    ck_assert_double_eq(d.wanted, 3);
    vsDecisionClear(&d);

    /* what it has: nothing to do */
    vsTestForecast(&in.cpu, 1.3, 1.2, 1.4);
    vsTestDecide(&in, VS_RESOURCE_CPU, &d);
    vsTestAssertDecision(&d, VS_ACTION_NONE, 2, NULL);
    ck_assert(g_str_has_prefix(d.reason, "keep 2 vCPUs: "));
    vsDecisionClear(&d);
}
END_TEST

START_TEST(test_cpu_clamps)
{
    vsPolicy p;
    vsDecideInput in;
    vsDecision d;

    vsTestPolicy(&p);
    vsTestInput(&in, &p);
    vsTestForecast(&in.cpu, 4.0, 3.8, 4.0);     /* needs 6 */
    p.max_vcpus = 3;
    vsTestDecide(&in, VS_RESOURCE_CPU, &d);
    vsTestAssertDecision(&d, VS_ACTION_GROW, 3, "max-vcpus");
    ck_assert_double_eq(d.wanted, 6);
    ck_assert_msg(strstr(d.reason, "needs 6 vCPUs, capped by max-vcpus 3 vCPUs"), "%s", d.reason);
    vsDecisionClear(&d);

    /* a policy maximum above the domain's is the domain's */
    p.max_vcpus = 10;
    in.max_vcpus = 3;
    vsTestCheck(&in, VS_RESOURCE_CPU, VS_ACTION_GROW, 3, "domain-max");
    p.max_vcpus = 0;
    vsTestCheck(&in, VS_RESOURCE_CPU, VS_ACTION_GROW, 3, "domain-max");

    /* too many vCPUs for the step */
    in.max_vcpus = 8;
    in.vcpus = 1;
    vsTestCheck(&in, VS_RESOURCE_CPU, VS_ACTION_GROW, 3, "max-step");

    /* no step limit */
    p.max_step_vcpus = 0;
    vsTestCheck(&in, VS_RESOURCE_CPU, VS_ACTION_GROW, 6, NULL);

    /* the minimum binds an idle domain */
    p.min_vcpus = 2;
    in.vcpus = 2;
    vsTestForecast(&in.cpu, 0.1, 0.1, 0.1);
    vsTestCheck(&in, VS_RESOURCE_CPU, VS_ACTION_NONE, 2, "min-vcpus");

    /* mode off: never touched */
    p.mode = VS_POLICY_MODE_OFF;
    vsTestForecast(&in.cpu, 4.0, 3.8, 4.0);
    vsTestDecide(&in, VS_RESOURCE_CPU, &d);
    vsTestAssertDecision(&d, VS_ACTION_NONE, 2, NULL);
    ck_assert_msg(strstr(d.reason, "mode is off"), "%s", d.reason);
    vsDecisionClear(&d);
}
END_TEST

START_TEST(test_memory_target)
{
    vsPolicy p;
    vsDecideInput in;
    vsDecision d;

    vsTestPolicy(&p);
    vsTestInput(&in, &p);
    vsTestForecast(&in.memory, 1.5 * GIB, 1.4 * GIB, 1.5 * GIB);
    in.memory_kib = GIB;
    vsTestDecide(&in, VS_RESOURCE_MEMORY, &d);
    /* 1.5 GiB plus 20 % */
    vsTestAssertDecision(&d, VS_ACTION_GROW, ceil(1.8 * GIB), NULL);
    ck_assert_msg(strstr(d.reason, "grow to 1843 MiB: the forecast upper bound 1536 MiB at +5m "
                         "plus headroom 0.20"), "%s", d.reason);
    vsDecisionClear(&d);

    p.max_memory_kib = 1.5 * GIB;
    vsTestCheck(&in, VS_RESOURCE_MEMORY, VS_ACTION_GROW, 1.5 * GIB, "max-memory");

    p.max_memory_kib = 0;
    in.max_memory_kib = 1.25 * GIB;
    vsTestCheck(&in, VS_RESOURCE_MEMORY, VS_ACTION_GROW, 1.25 * GIB, "domain-max");

    /* a guest using more than the forecast says: used + floor */
    in.max_memory_kib = 8 * GIB;
    in.memory_kib = 2 * GIB;
    in.used_memory_kib = 1.9 * GIB;
    vsTestCheck(&in, VS_RESOURCE_MEMORY, VS_ACTION_GROW, 1.9 * GIB + 128 * MIB, "memory-floor");

    /* a balloon that settled a little off its target is left there */
    in.used_memory_kib = GIB;
    vsTestForecast(&in.memory, 1.7 * GIB, 1.6 * GIB, 1.7 * GIB);
    in.memory_kib = ceil(2.04 * GIB) + 200;
    vsTestDecide(&in, VS_RESOURCE_MEMORY, &d);
    vsTestAssertDecision(&d, VS_ACTION_NONE, in.memory_kib, NULL);
    vsDecisionClear(&d);
    in.memory_kib = 2 * GIB;
    vsTestCheck(&in, VS_RESOURCE_MEMORY, VS_ACTION_GROW, ceil(2.04 * GIB), NULL);
}
END_TEST

START_TEST(test_memory_floor_on_shrink)
{
    vsPolicy p;
    vsDecideConfig cfg;
    vsDecideInput in;
    vsDecideState st;

    vsTestPolicy(&p);
    vsTestInput(&in, &p);
    vsTestShortWindow(&in, &cfg);
    vsDecideStateInit(&st);
    /* the policy maximum was lowered under what the guest uses */
    p.max_memory_kib = GIB;
    in.used_memory_kib = 1.5 * GIB;
    vsTestForecast(&in.memory, 0.5 * GIB, 0.5 * GIB, 0.5 * GIB);
    vsTestAdvance(&in, &st, 0, VS_RESOURCE_MEMORY, VS_ACTION_HOLD, 2 * GIB, "scale-down-window", NULL);
    vsTestAdvance(&in, &st, 900, VS_RESOURCE_MEMORY, VS_ACTION_SHRINK, 1.5 * GIB + 128 * MIB, "memory-floor", NULL);

    /* nothing left to take: held */
    in.memory_kib = 1.5 * GIB + 128 * MIB;
    vsTestAdvance(&in, &st, 0, VS_RESOURCE_MEMORY, VS_ACTION_HOLD, in.memory_kib, "memory-floor", NULL);
}
END_TEST

START_TEST(test_hysteresis)
{
    vsPolicy p;
    vsDecideConfig cfg;
    vsDecideInput in;
    vsDecideState st;
    vsDecision d;

    vsTestPolicy(&p);
    vsTestInput(&in, &p);
    vsTestShortWindow(&in, &cfg);
    vsDecideStateInit(&st);
    p.cooldown_down_s = 1200;
    vsTestForecast(&in.cpu, 2.0, 1.9, 2.0);

    /* grow at once, then only after cooldown-up */
    vsTestAdvance(&in, &st, 0, VS_RESOURCE_CPU, VS_ACTION_GROW, 3, NULL, &d);
    vsDecideStateCommit(&st, &d);
    vsDecisionClear(&d);
    in.vcpus = 3;
    vsTestForecast(&in.cpu, 2.7, 2.6, 2.7);
    vsTestAdvance(&in, &st, 30, VS_RESOURCE_CPU, VS_ACTION_HOLD, 3, "cooldown-up", &d);
    ck_assert_double_eq(d.wanted, 4);
    ck_assert_msg(strstr(d.reason, "hold at 3 vCPUs") &&
                  strstr(d.reason, "held by cooldown-up: the last resize was 30s ago, "
                         "the cooldown is 1m"), "%s", d.reason);
    vsDecisionClear(&d);
    vsTestAdvance(&in, &st, 30, VS_RESOURCE_CPU, VS_ACTION_GROW, 4, NULL, &d);
    vsDecideStateCommit(&st, &d);
    vsDecisionClear(&d);
    in.vcpus = 4;

    /* the demand passes: shrink only after the window and cooldown-down */
    vsTestForecast(&in.cpu, 0.6, 0.5, 0.6);
    vsTestAdvance(&in, &st, 60, VS_RESOURCE_CPU, VS_ACTION_HOLD, 4, "scale-down-window", NULL);
    vsTestAdvance(&in, &st, 600, VS_RESOURCE_CPU, VS_ACTION_HOLD, 4, "scale-down-window", NULL);
    /* the window (900 s) has passed, the cooldown since the grow (1200 s) not */
    vsTestAdvance(&in, &st, 300, VS_RESOURCE_CPU, VS_ACTION_HOLD, 4, "cooldown-down", NULL);
    vsTestAdvance(&in, &st, 240, VS_RESOURCE_CPU, VS_ACTION_SHRINK, 2, "max-step", &d);
    ck_assert_double_eq(d.wanted, 1);
    ck_assert_msg(strstr(d.reason, "needs 1 vCPU, limited by max-step to 2 vCPUs"), "%s", d.reason);
    vsDecideStateCommit(&st, &d);
    vsDecisionClear(&d);
    ck_assert_int_eq(st.last_shrink_us, in.now_us);
    ck_assert_int_eq(st.below_since_us, 0);
}
END_TEST

START_TEST(test_window_restarts)
{
    vsPolicy p;
    vsDecideConfig cfg;
    vsDecideInput in;
    vsDecideState st;
    vsDecision d;

    vsTestPolicy(&p);
    vsTestInput(&in, &p);
    vsTestShortWindow(&in, &cfg);
    vsDecideStateInit(&st);
    in.vcpus = 4;
    vsTestForecast(&in.cpu, 0.6, 0.5, 0.6);
    vsDecide(&in, VS_RESOURCE_CPU, &st, &d);
    vsDecisionClear(&d);
    /* a rise back to what it has in the middle restarts the window */
    in.now_us += 600 * SEC;
    vsTestForecast(&in.cpu, 2.7, 2.6, 2.7);
    vsTestAdvance(&in, &st, 0, VS_RESOURCE_CPU, VS_ACTION_NONE, 4, NULL, NULL);
    vsTestForecast(&in.cpu, 0.6, 0.5, 0.6);
    vsTestAdvance(&in, &st, 600, VS_RESOURCE_CPU, VS_ACTION_HOLD, 4, "scale-down-window", NULL);
    vsTestAdvance(&in, &st, 900, VS_RESOURCE_CPU, VS_ACTION_SHRINK, 2, "max-step", NULL);
}
END_TEST

START_TEST(test_reactive)
{
    vsPolicy p;
    vsDecideInput in;
    vsDecideState st;
    vsDecision d;

    vsTestPolicy(&p);
    vsTestInput(&in, &p);
    vsDecideStateInit(&st);
    in.cpu.history = 5;     /* too little history to trust */
    in.cpu.upper = 10;      /* would ask for 8 if trusted */
    in.cpu_use = 1.8;       /* 0.9 of 2 vCPUs */
    for (int i = 0; i < 2; i++) {
        vsDecide(&in, VS_RESOURCE_CPU, &st, &d);
        ck_assert(d.reactive);
        vsTestAssertDecision(&d, VS_ACTION_NONE, 2, NULL);
        vsDecisionClear(&d);
        in.now_us += 300 * SEC;
    }
    vsDecide(&in, VS_RESOURCE_CPU, &st, &d);
    /* ceil(1.8 / 0.7) */
    vsTestAssertDecision(&d, VS_ACTION_GROW, 3, NULL);
    ck_assert_msg(strstr(d.reason, "confidence 0.00 is below 0.80 (weakest: ") &&
                  strstr(d.reason, "so reactively: use above 0.80 of the allocation for 3 samples"),
                  "%s", d.reason);
    vsDecideStateCommit(&st, &d);
    vsDecisionClear(&d);
    ck_assert_uint_eq(st.above, 0);

    /* a dip in between restarts the count */
    in.vcpus = 3;
    in.cpu_use = 2.9;
    in.now_us += 300 * SEC;
    vsDecide(&in, VS_RESOURCE_CPU, &st, &d);
    vsDecisionClear(&d);
    in.cpu_use = 1.0;
    vsDecide(&in, VS_RESOURCE_CPU, &st, &d);
    vsDecisionClear(&d);
    ck_assert_uint_eq(st.above, 0);

    /* idle: shrink only after an hour below 0.3 */
    in.vcpus = 4;
    in.cpu_use = 0.2;
    for (int i = 0; i <= 12; i++) {
        in.now_us += 300 * SEC;
        vsDecide(&in, VS_RESOURCE_CPU, &st, &d);
        ck_assert_msg(i == 12 ? d.action == VS_ACTION_SHRINK : d.action == VS_ACTION_NONE,
                      "%d: %s", i, d.reason);
        if (i < 12)
            vsDecisionClear(&d);
    }
    vsTestAssertDecision(&d, VS_ACTION_SHRINK, 2, "max-step");
    ck_assert_double_eq(d.wanted, 1);
    vsDecisionClear(&d);

    /* no forecast at all is the reactive rule too */
    in.cpu.point = NAN;
    p.confidence = 0;
    vsTestDecide(&in, VS_RESOURCE_CPU, &d);
    ck_assert(d.reactive);
    vsDecisionClear(&d);
}
END_TEST

START_TEST(test_reactive_memory)
{
    vsPolicy p;
    vsDecideInput in;
    vsDecideState st;
    vsDecision d;

    vsTestPolicy(&p);
    vsTestInput(&in, &p);
    vsDecideStateInit(&st);
    in.memory.mase = NAN;
    in.used_memory_kib = 1.8 * GIB;     /* 0.9 of 2 GiB */
    for (int i = 0; i < 3; i++) {
        vsDecide(&in, VS_RESOURCE_MEMORY, &st, &d);
        if (i < 2)
            vsDecisionClear(&d);
        in.now_us += 300 * SEC;
    }
    /* 1.8 GiB plus 20 % headroom */
    ck_assert(d.reactive);
    vsTestAssertDecision(&d, VS_ACTION_GROW, ceil(1.8 * GIB * 1.2), NULL);
    vsDecisionClear(&d);
}
END_TEST

START_TEST(test_hint_floor)
{
    vsHint h[3];
    guint vcpus = 99;
    guint64 memory = 99;

    for (guint i = 0; i < G_N_ELEMENTS(h); i++) {
        vsHintInit(&h[i]);
        h[i].start_us = T0 + 600 * SEC;
        h[i].end_us = T0 + 1200 * SEC;
    }
    h[0].vcpus = 4;
    h[1].vcpus = 6;
    h[1].cancelled = TRUE;
    h[2].memory_kib = 2 * GIB;
    h[2].vcpus = 3;
    ck_assert(!vsHintFloor(h, 3, 300 * SEC, T0 + 299 * SEC, &vcpus, &memory));
    ck_assert_uint_eq(vcpus, 0);
    ck_assert_uint_eq(memory, 0);
    /* from start - lead, so the allocation lands by the window's start */
    ck_assert(vsHintFloor(h, 3, 300 * SEC, T0 + 300 * SEC, &vcpus, &memory));
    ck_assert_uint_eq(vcpus, 4);
    ck_assert_uint_eq(memory, 2 * GIB);
    ck_assert(vsHintFloor(h, 3, 300 * SEC, T0 + 1199 * SEC, &vcpus, &memory));
    ck_assert(!vsHintFloor(h, 3, 300 * SEC, T0 + 1200 * SEC, &vcpus, &memory));
    ck_assert(!vsHintFloor(NULL, 0, 0, T0, &vcpus, &memory));
    ck_assert(vsHintActive(&h[0], 0, T0 + 600 * SEC));
    ck_assert(!vsHintActive(&h[0], 0, T0 + 599 * SEC));
}
END_TEST

START_TEST(test_hint_decision)
{
    vsPolicy p;
    vsDecideInput in;
    vsDecision d;
    vsHint h;

    vsTestPolicy(&p);
    vsTestInput(&in, &p);
    vsHintInit(&h);
    h.vcpus = 6;
    h.memory_kib = 3 * GIB;
    h.start_us = T0 + 600 * SEC;
    h.end_us = T0 + 1200 * SEC;
    in.hints = &h;
    in.n_hints = 1;
    in.cpu.lower = 1.5;
    p.max_step_vcpus = 8;

    vsTestDecide(&in, VS_RESOURCE_CPU, &d);
    vsTestAssertDecision(&d, VS_ACTION_GROW, 3, NULL);
    ck_assert(!d.hinted);
    vsDecisionClear(&d);

    in.now_us = T0 + 300 * SEC;
    vsTestDecide(&in, VS_RESOURCE_CPU, &d);
    vsTestAssertDecision(&d, VS_ACTION_GROW, 6, "hint");
    ck_assert(d.hinted);
    ck_assert_msg(strstr(d.reason, "raised by hint 6 vCPUs"), "%s", d.reason);
    vsDecisionClear(&d);
    vsTestCheck(&in, VS_RESOURCE_MEMORY, VS_ACTION_GROW, 3 * GIB, "hint");

    /* never past the policy */
    p.max_vcpus = 4;
    vsTestDecide(&in, VS_RESOURCE_CPU, &d);
    vsTestAssertDecision(&d, VS_ACTION_GROW, 4, "max-vcpus");
    ck_assert(d.hinted);
    vsDecisionClear(&d);

    in.now_us = T0 + 1200 * SEC;
    vsTestDecide(&in, VS_RESOURCE_CPU, &d);
    vsTestAssertDecision(&d, VS_ACTION_GROW, 3, NULL);
    ck_assert(!d.hinted);
    vsDecisionClear(&d);
}
END_TEST

/* --- property: random forecasts, policies and hosts -------------------- */

typedef struct {
    char uuid[VS_UUID_STRLEN];
    vsPolicy policy;
    vsDecideInput in;
    vsDecideState state[VS_LEDGER_RESOURCES];
    double level[VS_LEDGER_RESOURCES];     /* the random walk of use */
} vsTestDomain;

static void
vsTestRandomPolicy(GRand *r, vsPolicy *p, guint max_vcpus)
{
    vsTestPolicy(p);
    p->min_vcpus = g_rand_int_range(r, 0, 3);
    p->max_vcpus = g_rand_int_range(r, 0, max_vcpus + 3);     /* above the domain's too */
    p->min_memory_kib = g_rand_int_range(r, 0, 2) * 512 * MIB;
    p->max_memory_kib = g_rand_int_range(r, 0, 3) ? (guint64)g_rand_int_range(r, 1, 17) * 512 * MIB : 0;
    p->target_utilization = g_rand_double_range(r, 0.3, 1.0);
    p->memory_headroom = g_rand_double_range(r, 0, 0.5);
    p->memory_floor_kib = g_rand_int_range(r, 0, 512) * MIB;
    p->confidence = g_rand_double(r);
    p->cooldown_up_s = g_rand_int_range(r, 0, 600);
    p->cooldown_down_s = g_rand_int_range(r, 0, 3600);
    p->max_step_vcpus = g_rand_int_range(r, 0, 4);
    p->max_step_memory_kib = g_rand_int_range(r, 0, 4) * 256 * MIB;
    p->lead_s = g_rand_int_range(r, 60, 900);
}

/* Start within the policy, as a domain whose policy was enforced. */
static void
vsTestDomainInit(GRand *r, vsTestDomain *dom, guint i)
{
    vsDecideInput *in = &dom->in;
    guint hi_vcpus;
    guint64 hi_memory;

    g_snprintf(dom->uuid, sizeof(dom->uuid), "00000000-0000-4000-8000-%012u", i);
    vsDecideInputInit(in);
    in->uuid = dom->uuid;
    in->max_vcpus = g_rand_int_range(r, 1, 17);
    in->max_memory_kib = (guint64)g_rand_int_range(r, 1, 17) * 512 * MIB;
    vsTestRandomPolicy(r, &dom->policy, in->max_vcpus);
    in->policy = &dom->policy;
    hi_vcpus = dom->policy.max_vcpus && dom->policy.max_vcpus < in->max_vcpus ?
        dom->policy.max_vcpus : in->max_vcpus;
    hi_memory = dom->policy.max_memory_kib && dom->policy.max_memory_kib < in->max_memory_kib ?
        dom->policy.max_memory_kib : in->max_memory_kib;
    in->vcpus = CLAMP(MAX(dom->policy.min_vcpus, 1), 1, hi_vcpus);
    in->memory_kib = MIN(MAX(dom->policy.min_memory_kib, 256 * MIB), hi_memory);
    for (guint k = 0; k < VS_LEDGER_RESOURCES; k++)
        vsDecideStateInit(&dom->state[k]);
    dom->level[VS_RESOURCE_CPU] = g_rand_double_range(r, 0, in->max_vcpus);
    dom->level[VS_RESOURCE_MEMORY] = g_rand_double_range(r, 0, in->max_memory_kib);
}

static void
vsTestRandomForecast(GRand *r, vsDecideForecast *fc, double level)
{
    double width = level * g_rand_double_range(r, 0, 3);

    fc->point = g_rand_int_range(r, 0, 20) ? level : NAN;
    fc->lower = MAX(level - width / 2, 0);
    fc->upper = level + width / 2;
    fc->mase = g_rand_int_range(r, 0, 10) ? g_rand_double_range(r, 0, 2) : NAN;
    fc->mae = g_rand_int_range(r, 0, 10) ? g_rand_double_range(r, 0, level + 1) : NAN;
    fc->coverage = g_rand_double(r);
    fc->history = g_rand_int_range(r, 0, 600);
    fc->model = "ewma";
}

/* One interval of use, a random walk with bursts; memory used never above
 * the balloon. */
static void
vsTestDomainStep(GRand *r, vsTestDomain *dom)
{
    vsDecideInput *in = &dom->in;
    double *cpu = &dom->level[VS_RESOURCE_CPU];
    double *mem = &dom->level[VS_RESOURCE_MEMORY];

    *cpu = CLAMP(*cpu + g_rand_double_range(r, -1, 1) * (g_rand_int_range(r, 0, 10) ? 0.5 : 4),
                 0, in->max_vcpus * 1.5);
    *mem = CLAMP(*mem + g_rand_double_range(r, -1, 1) * 512 * MIB, 0, in->max_memory_kib * 1.5);
    in->cpu_use = g_rand_int_range(r, 0, 10) ? MIN(*cpu, in->vcpus) : NAN;
    in->used_memory_kib = g_rand_int_range(r, 0, 10) ? MIN(*mem, in->memory_kib * 0.95) : NAN;
    vsTestRandomForecast(r, &in->cpu, *cpu);
    vsTestRandomForecast(r, &in->memory, *mem);
}

static void
vsTestAssertBounds(const vsTestDomain *dom, const vsDecision *d, double step)
{
    const vsDecideInput *in = &dom->in;
    const vsPolicy *p = &dom->policy;
    gboolean cpu = d->resource == VS_RESOURCE_CPU;
    double domain_max = cpu ? in->max_vcpus : in->max_memory_kib;
    double policy_max = cpu ? p->max_vcpus : p->max_memory_kib;
    double hi = policy_max > 0 ? MIN(policy_max, domain_max) : domain_max;
    double lo = MIN(cpu ? MAX(p->min_vcpus, 1) : p->min_memory_kib, hi);

    ck_assert_msg(d->target <= hi && d->target >= lo, "%s target %g outside [%g, %g]: %s",
                  dom->uuid, d->target, lo, hi, d->reason);
    ck_assert_msg(step <= 0 || fabs(d->target - d->current) <= step, "%s step: %s",
                  dom->uuid, d->reason);
    if (!cpu && d->target < d->current && isfinite(in->used_memory_kib))
        ck_assert_msg(d->target >= in->used_memory_kib + p->memory_floor_kib,
                      "%s shrinks under used + floor: %s", dom->uuid, d->reason);
    ck_assert(d->reason && *d->reason);
}

/* Carry out @d as the daemon would: grows through the ledger. */
static void
vsTestCarryOut(vsLedger *l, vsTestDomain *dom, vsDecision *d, gint64 now_us)
{
    vsResourceKind r = d->resource;

    if (d->action == VS_ACTION_GROW) {
        g_autoptr(GArray) grants = g_array_new(FALSE, FALSE, sizeof(vsLedgerGrant));
        vsLedgerRequest req;

        g_array_set_clear_func(grants, (GDestroyNotify)vsLedgerGrantClear);
        vsLedgerRequestInit(&req, d, dom->policy.tier);
        vsLedgerServe(l, &req, 1, now_us, now_us + 120 * SEC, NULL, 0, grants);
        vsLedgerLimitDecision(d, &g_array_index(grants, vsLedgerGrant, 0));
        ck_assert(d->target >= d->current);
        if (d->action == VS_ACTION_GROW)
            vsLedgerCommit(l, dom->uuid, r);
    }
    if (d->action != VS_ACTION_GROW && d->action != VS_ACTION_SHRINK)
        return;
    vsDecideStateCommit(&dom->state[r], d);
    if (r == VS_RESOURCE_CPU)
        dom->in.vcpus = d->target;
    else
        dom->in.memory_kib = d->target;
    vsLedgerSetAllocation(l, dom->uuid, r, d->target);
}

#define PROP_DOMAINS 40
#define PROP_STEPS 300

START_TEST(test_property)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(0x5eed + _i);
    g_autofree vsTestDomain *doms = g_new0(vsTestDomain, PROP_DOMAINS);
    g_autoptr(vsLedger) l = NULL;
    double cpus = 0, memory = 0;
    gint64 now = T0;
    guint seen[VS_ACTION_LAST] = { 0 };

    for (guint i = 0; i < PROP_DOMAINS; i++) {
        vsTestDomainInit(r, &doms[i], i);
        cpus += doms[i].in.vcpus;
        memory += doms[i].in.memory_kib;
    }
    /* a host that holds the start and a random part of the growth */
    l = vsLedgerNew(cpus * g_rand_double_range(r, 1, 2), memory * g_rand_double_range(r, 1, 2),
                    g_rand_double_range(r, 1, 1.5), 1);
    for (guint i = 0; i < PROP_DOMAINS; i++) {
        vsLedgerSetAllocation(l, doms[i].uuid, VS_RESOURCE_CPU, doms[i].in.vcpus);
        vsLedgerSetAllocation(l, doms[i].uuid, VS_RESOURCE_MEMORY, doms[i].in.memory_kib);
    }
    for (guint s = 0; s < PROP_STEPS; s++) {
        now += g_rand_int_range(r, 10, 600) * SEC;
        for (guint i = 0; i < PROP_DOMAINS; i++) {
            vsTestDomain *dom = &doms[i];

            dom->in.now_us = now;
            vsTestDomainStep(r, dom);
            for (guint k = 0; k < VS_LEDGER_RESOURCES; k++) {
                vsDecision d;

                vsDecide(&dom->in, k, &dom->state[k], &d);
                vsTestAssertBounds(dom, &d, k == VS_RESOURCE_CPU ?
                                   dom->policy.max_step_vcpus : dom->policy.max_step_memory_kib);
                vsTestCarryOut(l, dom, &d, now);
                seen[d.action]++;
                for (guint q = 0; q < VS_LEDGER_RESOURCES; q++)
                    ck_assert_msg(vsLedgerHeld(l, q) <= vsLedgerLimit(l, q) + 1e-6,
                                  "ledger %u: %g held of %g", q, vsLedgerHeld(l, q),
                                  vsLedgerLimit(l, q));
                vsDecisionClear(&d);
            }
        }
    }
    /* not vacuous: every kind of action happened */
    for (guint a = 0; a < VS_ACTION_LAST; a++)
        ck_assert_msg(seen[a] > 0, "no %s in the run", vsActionToString(a));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("decide");
    TCase *tc = tcase_create("decide");

    tcase_add_test(tc, test_strings);
    tcase_add_test(tc, test_init_clear);
    tcase_add_test(tc, test_confidence);
    tcase_add_test(tc, test_cpu_target);
    tcase_add_test(tc, test_cpu_clamps);
    tcase_add_test(tc, test_memory_target);
    tcase_add_test(tc, test_memory_floor_on_shrink);
    tcase_add_test(tc, test_confidence_gate);
    tcase_add_test(tc, test_hysteresis);
    tcase_add_test(tc, test_window_restarts);
    tcase_add_test(tc, test_reactive);
    tcase_add_test(tc, test_reactive_memory);
    tcase_add_test(tc, test_hint_floor);
    tcase_add_test(tc, test_hint_decision);
    tcase_add_loop_test(tc, test_property, 0, 8);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
