/*
 * vsbenchdecide.c: what the allocator costs, and whether it is ahead
 *
 * 1. Decision cost.  "The CPU time per control interval for 10,000
 *    domains: forecast update, decision and ledger, excluding libvirt
 *    calls."  Each domain has a real vsSelector per resource, fed a daily
 *    wave with deterministic noise; domains joined at different times of
 *    the day, so their daily refits are spread as in a running daemon.
 *    After ten days of warm-up (past the first eight, whose daily refits
 *    also search the season; later one refit in seven does), 48 slots are
 *    timed, every 15-second control interval of them ([allocator]
 *    interval), as virt-shadowd runs them: its domains' slots are
 *    staggered over the intervals of a step, so each interval forecasts a
 *    twentieth of the domains (refitting at most twice its share of the
 *    day's refits), then decides every one and serves the rises.  The worst interval must stay under the target.  The
 *    baseline is the same work with slots aligned to the step: every
 *    domain forecast in one interval.
 *
 * 2. Ahead or behind.  Every VM of the shared Bitbrains traces is replayed
 *    as a domain (its provisioned cores and memory as <vcpu> and <memory>)
 *    through the forecaster and vsDecide, once with the auto policy and
 *    once purely reactive (no forecast given), in the same run.  The
 *    allocation in force during slot t is decided at its start, from the
 *    slots before.  A demand rise is a slot whose needed vCPUs,
 *    ceil(use / target utilisation), exceed the previous slot's (memory:
 *    whose use x (1 + headroom) crosses into a higher 256 MiB step); it
 *    is met ahead when the allocation in force already covers the slot's
 *    need (use / target utilisation, or use x (1 + headroom)), else late.
 *
 * Usage: vsbenchdecide [DOMAINS [TRACE_DIR]]
 *
 * VS_BENCH_PART=1 runs part 1 only, VS_BENCH_PART=2 part 2 only (unset:
 * both).  For quick iterations on the decision cost, e.g.
 * "VS_BENCH_PART=1 bench/vsbenchdecide 1000": the warm-up takes minutes
 * at 10,000 domains.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "allocator/vsdecide.h"
#include "allocator/vsledger.h"
#include "forecast/vsselect.h"
#include "forecast/vstrace.h"
#include "vstestutils.h"

#define BENCH_DOMAINS 10000
#define BENCH_STEP_S 300
#define BENCH_DAY 288
#define BENCH_WARM_SLOTS (10 * BENCH_DAY)
#define BENCH_TIMED 48
#define BENCH_TARGET_MS 50.0
/* the daemon's [allocator] interval: decisions every 15 s, forecasts
 * updated once a slot */
#define BENCH_CONTROL_S 15
/* the intervals the daemon's predictor makes; the decision takes its
 * upper bound from one of them */
#define BENCH_COVERAGES 2
static const double benchCoverage[BENCH_COVERAGES] = { 0.9, 0.99 };
/* in place of a coverage: the 90 % interval, sized for the selector's
 * allocation, as the daemon does */
#define BENCH_ALLOCATION BENCH_COVERAGES
#define BENCH_MEMORY_STEP_KIB (256.0 * 1024)

/* vspolicy.h's documented defaults, in auto mode. */
static void
benchPolicy(vsPolicy *p)
{
    vsPolicyInitDefaults(p);
    p->mode = VS_POLICY_MODE_AUTO;
    p->lead_s = BENCH_STEP_S;
}

/* --- one resource's forecast and its recent quality --------------------- */

typedef struct {
    vsSelector *sel;
    double scale;           /* series unit -> decision unit (MiB -> KiB) */
    gboolean have;          /* a forecast was made for the slot now observed */
    double point, lower[BENCH_COVERAGES], upper[BENCH_COVERAGES];
    double allocation;      /* the selector's, for the slot forecast */
    double last;            /* the previous observation */
    double err, naive, inside;  /* exponentially weighted */
    guint seen;
    guint scored;
} benchSeries;

static void
benchSeriesInit(benchSeries *s, vsResourceKind resource)
{
    vsSelectorConfig cfg;

    vsSelectorConfigDefaults(&cfg, resource, BENCH_STEP_S);
    /* the next slot: the allocation decided now is in force during it */
    cfg.lead_steps = 0;
    *s = (benchSeries) {
        .sel = vsSelectorNew(&cfg, NULL),
        .scale = resource == VS_RESOURCE_MEMORY ? 1024 : 1,
        .last = NAN,
    };
}

static void
benchSeriesClear(benchSeries *s)
{
    g_clear_pointer(&s->sel, vsSelectorFree);
}

/* Score the forecast made for @y (MASE against the naive forecast,
 * coverage), feed @y, forecast the next slot.  A refit due takes one of
 * *@refits_left, as in the daemon's predictor (NULL: no budget). */
static void
benchSeriesObserve(benchSeries *s, double t, double y, guint *refits_left)
{
    /* a plain mean until there are 50 scores, then weighted */
    double w = MAX(0.02, 1.0 / (s->scored + 1));

    if (s->have && isfinite(y)) {
        s->scored++;
        s->err += w * (fabs(y - s->point) - s->err);
        s->inside += w * ((y >= s->lower[0] && y <= s->upper[0]) - s->inside);
        if (isfinite(s->last))
            s->naive += w * (fabs(y - s->last) - s->naive);
    }
    s->last = y;
    s->seen++;
    if (refits_left)
        vsSelectorBudgetRefit(s->sel, refits_left);
    vsSelectorObserve(s->sel, t, y, NULL);
    s->have = TRUE;
    for (guint c = 0; c < BENCH_COVERAGES; c++)
        s->have &= vsSelectorPredict(s->sel, benchCoverage[c], &s->point, &s->lower[c],
                                     &s->upper[c]);
    if (!vsSelectorAllocate(s->sel, &s->allocation))
        s->allocation = NAN;
}

/* The forecast with the interval of benchCoverage[@c], or BENCH_ALLOCATION;
 * its recent coverage is always the first interval's. */
static void
benchSeriesForecast(const benchSeries *s, guint c, vsDecideForecast *fc)
{
    gboolean allocation = c == BENCH_ALLOCATION;

    fc->point = fc->lower = fc->upper = fc->allocation = fc->mae = fc->mase = fc->coverage = NAN;
    fc->history = s->seen;
    fc->model = vsSelectorModel(s->sel);
    if (!s->have)
        return;
    if (allocation)
        c = 0;
    fc->point = MAX(s->point, 0) * s->scale;
    fc->lower = MAX(s->lower[c], 0) * s->scale;
    fc->upper = MAX(s->upper[c], 0) * s->scale;
    if (allocation && isfinite(s->allocation))
        fc->allocation = MAX(s->allocation, 0) * s->scale;
    if (s->naive > 0)
        fc->mase = s->err / s->naive;
    fc->coverage = s->inside;
    fc->mae = s->err * s->scale;
}

/* --- one simulated domain ------------------------------------------------ */

typedef struct {
    char uuid[VS_UUID_STRLEN];
    vsPolicy policy;
    vsDecideInput in;
    vsDecideState state[VS_LEDGER_RESOURCES];
    vsDecision decision[VS_LEDGER_RESOURCES];
    benchSeries series[VS_LEDGER_RESOURCES];
    guint resizes;
} benchDomain;

static void
benchDomainInit(benchDomain *d, guint i, guint max_vcpus, guint64 max_memory_kib)
{
    g_snprintf(d->uuid, sizeof(d->uuid), "00000000-0000-4000-8000-%012u", i);
    benchPolicy(&d->policy);
    vsDecideInputInit(&d->in);
    d->in.policy = &d->policy;
    d->in.uuid = d->uuid;
    d->in.max_vcpus = max_vcpus;
    d->in.max_memory_kib = max_memory_kib;
    d->in.vcpus = 1;
    d->in.memory_kib = MIN(max_memory_kib, 1048576);
    d->resizes = 0;
    for (guint k = 0; k < VS_LEDGER_RESOURCES; k++) {
        vsDecideStateInit(&d->state[k]);
        vsDecisionInit(&d->decision[k]);
        benchSeriesInit(&d->series[k], k);
    }
}

static void
benchDomainClear(benchDomain *d)
{
    for (guint k = 0; k < VS_LEDGER_RESOURCES; k++) {
        vsDecisionClear(&d->decision[k]);
        benchSeriesClear(&d->series[k]);
    }
}

/* The slot that just ended used @cpu cores and @mem_mib MiB. */
static void
benchDomainObserve(benchDomain *d, double t, double cpu, double mem_mib, gboolean forecast,
                   guint *refits_left)
{
    d->in.cpu_use = cpu;
    d->in.used_memory_kib = mem_mib * 1024;
    if (!forecast)
        return;
    benchSeriesObserve(&d->series[VS_RESOURCE_CPU], t, cpu, refits_left);
    benchSeriesObserve(&d->series[VS_RESOURCE_MEMORY], t, mem_mib, refits_left);
    benchSeriesForecast(&d->series[VS_RESOURCE_CPU], 0, &d->in.cpu);
    benchSeriesForecast(&d->series[VS_RESOURCE_MEMORY], 0, &d->in.memory);
}

static void
benchDomainDecide(benchDomain *d, gint64 now_us)
{
    d->in.now_us = now_us;
    for (guint k = 0; k < VS_LEDGER_RESOURCES; k++) {
        vsDecisionClear(&d->decision[k]);
        vsDecide(&d->in, k, &d->state[k], &d->decision[k]);
    }
}

/* Carry out one decision, as the daemon would after a verified resize. */
static void
benchDomainApply(benchDomain *d, vsResourceKind k, vsLedger *l)
{
    vsDecision *dec = &d->decision[k];

    if (dec->action != VS_ACTION_GROW && dec->action != VS_ACTION_SHRINK)
        return;
    vsDecideStateCommit(&d->state[k], dec);
    if (k == VS_RESOURCE_CPU)
        d->in.vcpus = dec->target;
    else
        d->in.memory_kib = dec->target;
    d->resizes++;
    if (!l)
        return;
    if (dec->action == VS_ACTION_GROW)
        vsLedgerCommit(l, d->uuid, k);
    else
        vsLedgerSetAllocation(l, d->uuid, k, dec->target);
}

/* --- 1. decision cost ------------------------------------------------------ */

typedef struct {
    double forecast, decide, ledger;
} benchPhases;

static void
benchSynthetic(guint i, guint slot, double *cpu, double *mem_mib)
{
    guint32 noise = (slot * 2654435761u) ^ (i * 40503u);

    *cpu = 1 + sin(2 * G_PI * slot / BENCH_DAY + i) + 0.1 * ((slot * 7919 + i) % 13) +
        0.4 * (noise % 1000) / 1000.0;
    *mem_mib = 1024 + ((slot * 31 + i) % 97) + 512 * (1 + sin(2 * G_PI * slot / BENCH_DAY + i));
}

static int
benchCompareDouble(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* A domain's phase among @phases: from a hash of its number, as the
 * daemon's from its UUID, so it says nothing of when the domain joined
 * (and its daily refits come due). */
static guint
benchPhase(guint i, guint phases)
{
    return (guint)(((guint32)i * 2654435761u) >> 8) % phases;
}

/* One control interval at @now_us over every domain: those whose @slot
 * closes in it (benchPhase() == @phase; 0 of 1: all) forecast again, with
 * the refit budget of vspredictor.c, every domain is decided, then the
 * interval's rises are served from the host ledger. */
static void
benchInterval(benchDomain *doms, guint n, vsLedger *l, guint slot, guint phase, guint phases,
              gint64 now_us, GArray *reqs, GArray *grants, benchPhases *ph)
{
    double c0 = vsTestCpuSeconds(), c1, c2;
    guint refits_left = VS_LEDGER_RESOURCES + 2 * n * VS_LEDGER_RESOURCES / (BENCH_DAY * phases);

    for (guint i = 0; i < n; i++) {
        double cpu, mem;

        /* domains join over the first day */
        if (slot < i % BENCH_DAY || benchPhase(i, phases) != phase)
            continue;
        benchSynthetic(i, slot, &cpu, &mem);
        benchDomainObserve(&doms[i], now_us / (double)G_USEC_PER_SEC, cpu, mem, TRUE,
                           &refits_left);
    }
    c1 = vsTestCpuSeconds();
    g_array_set_size(reqs, 0);
    for (guint i = 0; i < n; i++) {
        benchDomainDecide(&doms[i], now_us);
        for (guint k = 0; k < VS_LEDGER_RESOURCES; k++) {
            vsLedgerRequest req;

            if (doms[i].decision[k].action != VS_ACTION_GROW)
                continue;
            vsLedgerRequestInit(&req, &doms[i].decision[k], doms[i].policy.tier);
            g_array_append_val(reqs, req);
        }
    }
    c2 = vsTestCpuSeconds();
    g_array_set_size(grants, 0);
    vsLedgerServe(l, (vsLedgerRequest *)reqs->data, reqs->len, now_us,
                  now_us + 60 * G_USEC_PER_SEC, NULL, 0, grants);
    for (guint g = 0; g < grants->len; g++) {
        vsLedgerGrant *grant = &g_array_index(grants, vsLedgerGrant, g);
        guint i = g_ascii_strtoull(grant->uuid + 24, NULL, 10);

        vsLedgerLimitDecision(&doms[i].decision[grant->resource], grant);
    }
    for (guint i = 0; i < n; i++)
        for (guint k = 0; k < VS_LEDGER_RESOURCES; k++)
            benchDomainApply(&doms[i], k, l);
    if (ph) {
        ph->forecast += c1 - c0;
        ph->decide += c2 - c1;
        ph->ledger += vsTestCpuSeconds() - c2;
    }
}

static void
benchDecisionCost(guint n)
{
    g_autofree benchDomain *doms = g_new0(benchDomain, n);
    /* room for 4 vCPUs and 2.5 GiB a domain: the peaks of some contend */
    g_autoptr(vsLedger) l = vsLedgerNew(4.0 * n, 2621440.0 * n, 1, 1);
    g_autoptr(GArray) reqs = g_array_new(FALSE, FALSE, sizeof(vsLedgerRequest));
    g_autoptr(GArray) grants = g_array_new(FALSE, FALSE, sizeof(vsLedgerGrant));
    gint64 t0_us = G_GINT64_CONSTANT(1700000000) / BENCH_STEP_S * BENCH_STEP_S * G_USEC_PER_SEC;
    const guint phases = BENCH_STEP_S / BENCH_CONTROL_S;
    benchPhases ph = { 0 }, worst_ph = { 0 };
    guint actions[VS_ACTION_LAST] = { 0 };
    g_autoptr(GArray) totals = g_array_new(FALSE, FALSE, sizeof(double));
    double worst = 0, mean, aligned, p99, warm = vsTestCpuSeconds();

    g_array_set_clear_func(grants, (GDestroyNotify)vsLedgerGrantClear);
    for (guint i = 0; i < n; i++) {
        benchDomainInit(&doms[i], i, 8, 8388608);
        vsLedgerSetAllocation(l, doms[i].uuid, VS_RESOURCE_CPU, doms[i].in.vcpus);
        vsLedgerSetAllocation(l, doms[i].uuid, VS_RESOURCE_MEMORY, doms[i].in.memory_kib);
    }
    /* warm-up a slot at a time, every domain at once */
    for (guint slot = 0; slot < BENCH_WARM_SLOTS; slot++)
        benchInterval(doms, n, l, slot, 0, 1,
                      t0_us + (gint64)(slot + 1) * BENCH_STEP_S * G_USEC_PER_SEC,
                      reqs, grants, NULL);
    warm = vsTestCpuSeconds() - warm;
    /* then every control interval, each closing the slots of a share of
     * the domains, as the daemon staggers them */
    for (guint slot = BENCH_WARM_SLOTS; slot < BENCH_WARM_SLOTS + BENCH_TIMED; slot++) {
        for (guint c = 0; c < phases; c++) {
            gint64 now_us = t0_us + ((gint64)(slot + 1) * BENCH_STEP_S + c * BENCH_CONTROL_S) *
                            G_USEC_PER_SEC;
            benchPhases one = { 0 };

            double total;

            benchInterval(doms, n, l, slot, c, phases, now_us, reqs, grants, &one);
            total = one.forecast + one.decide + one.ledger;
            g_array_append_val(totals, total);
            if (total > worst) {
                worst = total;
                worst_ph = one;
            }
            ph.forecast += one.forecast;
            ph.decide += one.decide;
            ph.ledger += one.ledger;
            for (guint i = 0; i < n; i++)
                for (guint k = 0; k < VS_LEDGER_RESOURCES; k++)
                    actions[doms[i].decision[k].action]++;
        }
    }
    mean = (ph.forecast + ph.decide + ph.ledger) / (BENCH_TIMED * phases) * 1e3;
    worst *= 1e3;
    g_array_sort(totals, benchCompareDouble);
    p99 = g_array_index(totals, double, totals->len * 99 / 100) * 1e3;
    /* the baseline: slots aligned to the step, every domain forecast in
     * one interval, which also decides and serves once */
    aligned = (ph.forecast + (ph.decide + ph.ledger) / phases) / BENCH_TIMED * 1e3;
    printf("decision cost: %u domains, %u control intervals of %u s (%u slots of 5 minutes) "
           "after %.0f s of warm-up\n", n, BENCH_TIMED * phases, BENCH_CONTROL_S, BENCH_TIMED,
           warm);
    printf("  per control interval, slots staggered as virt-shadowd does: mean %.1f ms, "
           "worst %.1f ms of CPU (on average forecast update %.1f ms, decide %.1f ms, "
           "ledger %.1f ms); target < %.0f ms%s\n", mean, worst,
           ph.forecast / (BENCH_TIMED * phases) * 1e3, ph.decide / (BENCH_TIMED * phases) * 1e3,
           ph.ledger / (BENCH_TIMED * phases) * 1e3, BENCH_TARGET_MS,
           worst < BENCH_TARGET_MS ? "" : "  MISSED");
    printf("  99th percentile %.1f ms; the worst interval: forecast update %.1f ms, decide "
           "%.1f ms, ledger %.1f ms\n", p99, worst_ph.forecast * 1e3, worst_ph.decide * 1e3,
           worst_ph.ledger * 1e3);
    printf("  baseline, slots aligned to the step: %.1f ms of CPU in the interval every domain "
           "is forecast in; staggered worst / aligned: ratio %.2f\n", aligned, worst / aligned);
    printf("  decisions: %u grow, %u shrink, %u hold, %u queued, %u none\n",
           actions[VS_ACTION_GROW], actions[VS_ACTION_SHRINK], actions[VS_ACTION_HOLD],
           actions[VS_ACTION_QUEUED], actions[VS_ACTION_NONE]);
    for (guint i = 0; i < n; i++)
        benchDomainClear(&doms[i]);
}

/* --- 2. ahead or behind ------------------------------------------------------ */

typedef struct {
    guint rises[VS_LEDGER_RESOURCES];
    guint ahead[VS_LEDGER_RESOURCES];
    guint resizes;
    double slots;
    double forecast_led;    /* decisions taken on the forecast, not reactively */
    double cpu_alloc, cpu_slack;    /* vCPU-slots allocated, and unused */
} benchScore;

/* The resource's need in a slot, in the decision's unit. */
static double
benchNeed(const vsPolicy *p, vsResourceKind k, double use)
{
    return k == VS_RESOURCE_CPU ? use / p->target_utilization : use * 1024 * (1 + p->memory_headroom);
}

/* The steps rises are counted in: whole vCPUs, 256 MiB. */
static double
benchNeedStep(const vsPolicy *p, vsResourceKind k, double use, double max)
{
    double need = MIN(benchNeed(p, k, use), max);

    return k == VS_RESOURCE_CPU ? ceil(need - 1e-9) : ceil(need / BENCH_MEMORY_STEP_KIB);
}

static void
benchScoreSlot(benchScore *sc, const benchDomain *d, const double use[2], const double prev[2])
{
    const double alloc[2] = { d->in.vcpus, d->in.memory_kib };
    const double max[2] = { d->in.max_vcpus, d->in.max_memory_kib };

    if (isfinite(use[0])) {
        sc->cpu_alloc += alloc[0];
        sc->cpu_slack += MAX(alloc[0] - use[0], 0);
    }
    for (guint k = 0; k < VS_LEDGER_RESOURCES; k++) {
        if (!isfinite(use[k]) || !isfinite(prev[k]) ||
            benchNeedStep(&d->policy, k, use[k], max[k]) <=
            benchNeedStep(&d->policy, k, prev[k], max[k]))
            continue;
        sc->rises[k]++;
        /* a need past the domain's maximum is met by the maximum */
        sc->ahead[k] += alloc[k] + 1e-9 >= MIN(benchNeed(&d->policy, k, use[k]), max[k]);
    }
}

static double
benchMax(const double *x, gsize n, double floor)
{
    double m = floor;

    for (gsize i = 0; x && i < n; i++)
        if (isfinite(x[i]))
            m = MAX(m, x[i]);
    return m;
}

/* The replayed policies: auto at the default confidence and at 0 (always
 * on the forecast), each sized for the selector's allocation (as the
 * daemon is), for the upper bound of the 90 % and of the 99 % interval,
 * and reactive (given no forecast), last. */
#define BENCH_POLICIES 7
static const struct {
    const char *name;
    double confidence;      /* NaN: reactive */
    guint coverage;         /* index into benchCoverage, or BENCH_ALLOCATION */
} benchPolicies[BENCH_POLICIES] = {
    { "auto 0.8, alloc", 0.8, BENCH_ALLOCATION },
    { "auto 0, alloc", 0, BENCH_ALLOCATION },
    { "auto 0.8, 90 %", 0.8, 0 },
    { "auto 0, 90 %", 0, 0 },
    { "auto 0.8, 99 %", 0.8, 1 },
    { "auto 0, 99 %", 0, 1 },
    { "reactive", NAN, 0 },
};
#define BENCH_REACTIVE (BENCH_POLICIES - 1)

/* Replay one VM through every policy; the forecaster runs once. */
static void
benchReplay(const vsTrace *t, guint id, benchScore sc[BENCH_POLICIES])
{
    benchDomain doms[BENCH_POLICIES];
    guint max_vcpus = ceil(benchMax(t->cpu_prov, t->n, 1));
    guint64 max_memory_kib = ceil(benchMax(t->mem_prov_mib, t->n, 256)) * 1024;

    for (guint p = 0; p < BENCH_POLICIES; p++) {
        benchDomainInit(&doms[p], id, max_vcpus, max_memory_kib);
        doms[p].policy.confidence = isnan(benchPolicies[p].confidence) ? 0 :
            benchPolicies[p].confidence;
    }
    for (gsize s = 1; s < t->n; s++) {
        const double use[2] = { t->cpu[s], t->mem_mib[s] };
        const double prev[2] = { t->cpu[s - 1], t->mem_mib[s - 1] };
        double start = t->start_t + s * t->step_s;

        /* at the start of slot s, from the slots before */
        benchDomainObserve(&doms[0], start - t->step_s, prev[0], prev[1], TRUE, NULL);
        for (guint p = 0; p < BENCH_POLICIES; p++) {
            guint c = benchPolicies[p].coverage;

            if (p > 0)
                benchDomainObserve(&doms[p], start - t->step_s, prev[0], prev[1], FALSE, NULL);
            if (isnan(benchPolicies[p].confidence))
                continue;
            benchSeriesForecast(&doms[0].series[VS_RESOURCE_CPU], c, &doms[p].in.cpu);
            benchSeriesForecast(&doms[0].series[VS_RESOURCE_MEMORY], c, &doms[p].in.memory);
        }
        for (guint p = 0; p < BENCH_POLICIES; p++) {
            benchDomainDecide(&doms[p], (gint64)start * G_USEC_PER_SEC);
            for (guint k = 0; k < VS_LEDGER_RESOURCES; k++)
                benchDomainApply(&doms[p], k, NULL);
            if (t->scored[s])
                benchScoreSlot(&sc[p], &doms[p], use, prev);
            for (guint k = 0; k < VS_LEDGER_RESOURCES; k++)
                sc[p].forecast_led += !doms[p].decision[k].reactive;
            sc[p].slots++;
        }
    }
    for (guint p = 0; p < BENCH_POLICIES; p++) {
        sc[p].resizes += doms[p].resizes;
        benchDomainClear(&doms[p]);
    }
}

static double
benchShare(double part, double whole)
{
    return whole ? 100.0 * part / whole : NAN;
}

static void
benchAheadOrBehind(const char *dir)
{
    const char *paths[] = { dir, NULL };
    g_autoptr(GPtrArray) traces = NULL;
    g_autoptr(GError) error = NULL;
    benchScore sc[BENCH_POLICIES] = { { { 0 } } };
    vsTraceOptions o;
    double cpu = vsTestCpuSeconds();
    guint vms = 0;

    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        printf("ahead or behind: no traces in '%s', skipped\n", dir);
        return;
    }
    vsTraceOptionsDefaults(&o);
    if (!(traces = vsTraceReadPaths(paths, &o, NULL, &error))) {
        fprintf(stderr, "vsbenchdecide: %s\n", error->message);
        exit(EXIT_FAILURE);
    }
    for (guint i = 0; i < traces->len; i++) {
        const vsTrace *t = traces->pdata[i];

        if (t->n < 2 || !t->cpu || !t->mem_mib)
            continue;
        benchReplay(t, i, sc);
        vms++;
    }
    printf("ahead or behind: %u VMs of '%s', %.0f domain-slots, %.1f s of CPU\n", vms, dir,
           sc[0].slots, vsTestCpuSeconds() - cpu);
    for (guint p = 0; p < BENCH_POLICIES; p++) {
        printf("  %-15s CPU rises %u: %.1f %% met ahead, %.1f %% late; memory rises %u: "
               "%.1f %% ahead, %.1f %% late; CPU slack %.1f %%; %.2f resizes per VM-day; "
               "%.1f %% of decisions on the forecast\n", benchPolicies[p].name,
               sc[p].rises[0], benchShare(sc[p].ahead[0], sc[p].rises[0]),
               benchShare(sc[p].rises[0] - sc[p].ahead[0], sc[p].rises[0]),
               sc[p].rises[1], benchShare(sc[p].ahead[1], sc[p].rises[1]),
               benchShare(sc[p].rises[1] - sc[p].ahead[1], sc[p].rises[1]),
               benchShare(sc[p].cpu_slack, sc[p].cpu_alloc), sc[p].resizes / (sc[p].slots / BENCH_DAY),
               benchShare(sc[p].forecast_led, 2 * sc[p].slots));
    }
    for (guint p = 0; p < BENCH_REACTIVE; p++)
        printf("  share met ahead, %s over reactive: ratio %.3f (CPU), %.3f (memory)\n",
               benchPolicies[p].name,
               benchShare(sc[p].ahead[0], sc[p].rises[0]) /
               benchShare(sc[BENCH_REACTIVE].ahead[0], sc[BENCH_REACTIVE].rises[0]),
               benchShare(sc[p].ahead[1], sc[p].rises[1]) /
               benchShare(sc[BENCH_REACTIVE].ahead[1], sc[BENCH_REACTIVE].rises[1]));
}

int
main(int argc, char **argv)
{
    guint n = argc > 1 ? (guint)g_ascii_strtoull(argv[1], NULL, 10) : BENCH_DOMAINS;
    g_autofree char *dir = argc > 2 ? g_strdup(argv[2])
        : g_build_filename(vsTestSrcDir(), "..", "shared", "traces", "bitbrains-rnd", "2013-8", NULL);
    const char *part = g_getenv("VS_BENCH_PART");

    if (!part || g_str_equal(part, "1"))
        benchDecisionCost(n ? n : BENCH_DOMAINS);
    if (!part || g_str_equal(part, "2"))
        benchAheadOrBehind(dir);
    return EXIT_SUCCESS;
}
