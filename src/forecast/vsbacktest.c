/*
 * vsbacktest.c: replay a usage series against allocation policies
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>

#include "vsbacktest.h"
#include "vsselect.h"
#include "util/vserror.h"

#define VS_DAY_S 86400.0
#define VS_HOUR_S 3600.0

static const char *const vsPolicyNames[VS_POLICY_N] = {
    "virt-shadow", "static", "reactive", "peak24h", "vpa",
};

const char *
vsBacktestPolicyToString(vsBacktestPolicy p)
{
    return p < VS_POLICY_N ? vsPolicyNames[p] : NULL;
}

void
vsBacktestOptionsDefaults(vsBacktestOptions *o)
{
    *o = (vsBacktestOptions){
        .decision_s = 300,
        .lead_s = 300,
        .train_s = 7 * VS_DAY_S,
        .min_s = 8 * VS_DAY_S,
    };
}

void
vsBacktestResultClear(vsBacktestResult *r)
{
    g_clear_pointer(&r->model, g_free);
}

/* The replay's state: the series, the grid in steps, every policy's
 * allocation per slot and its running state. */
typedef struct {
    const vsBacktestSeries *in;
    gsize n;
    guint decision;         /* steps between decisions */
    guint lead;             /* steps from a decision to its window */
    guint train;            /* steps of history only */
    guint day;              /* steps per day */
    guint hour;
    double fallback;        /* static size without a provisioned one */

    double *alloc[VS_POLICY_N];
    double *point;          /* virt-shadow's point forecast per slot */
    double *lower;          /* and its 90 % interval */
    double *upper;

    double reactive;        /* reactive's allocation */
    guint since_down;       /* decisions since it last scaled down */
    gpointer vpa;
    vsSelector *selector;
} vsReplay;

static double
vsSeriesMax(const double *v, gsize n)
{
    double m = 0;

    for (gsize i = 0; i < n; i++)
        m = MAX(m, v[i]);
    return m;
}

static double
vsReplayStatic(vsReplay *r, gsize k)
{
    return r->in->prov && k > 0 ? r->in->prov[k - 1] : r->fallback;
}

static double
vsReplayPeak(vsReplay *r, gsize k)
{
    gsize from = k > r->day ? k - r->day : 0;

    return vsSeriesMax(r->in->use + from, k - from);
}

/* The reference rules: scale up by a quarter above 80 %; down by a quarter
 * after an hour below 30 %, at most once an hour, never below a floor. */
static double
vsReplayReactive(vsReplay *r, gsize k)
{
    const double *use = r->in->use;
    double floor = r->in->resource == VS_RESOURCE_CPU ? 0.01 : 16;
    gboolean low = k >= r->hour;

    if (k == 0)
        return r->reactive;
    r->since_down++;
    if (use[k - 1] > 0.8 * r->reactive) {
        r->reactive *= 1.25;
        return r->reactive;
    }
    for (gsize i = k - MIN(k, r->hour); i < k && low; i++)
        low = use[i] < 0.3 * r->reactive;
    if (low && r->since_down >= r->hour / r->decision) {
        r->reactive = MAX(0.75 * r->reactive, floor);
        r->since_down = 0;
    }
    return r->reactive;
}

static double
vsReplayVpa(vsReplay *r)
{
    double target = 0;

    return vsModelVpa.forecast(r->vpa, 1, NULL, &target) ? target : 0;
}

/* Before the selector has enough history, the last day's peak. */
static double
vsReplayVirtShadow(vsReplay *r, gsize k)
{
    double a;

    if (vsSelectorAllocate(r->selector, &a))
        return a;
    return vsReplayPeak(r, k);
}

/* Decide, at slot boundary @k, every policy's allocation for its window. */
static void
vsReplayDecide(vsReplay *r, gsize k)
{
    double a[VS_POLICY_N];
    double point = NAN, lower = NAN, upper = NAN;
    gsize lo = k + r->lead, hi = MIN(k + r->lead + r->decision, r->n);

    a[VS_POLICY_VIRT_SHADOW] = vsReplayVirtShadow(r, k);
    a[VS_POLICY_STATIC] = vsReplayStatic(r, k);
    a[VS_POLICY_REACTIVE] = vsReplayReactive(r, k);
    a[VS_POLICY_PEAK24H] = vsReplayPeak(r, k);
    a[VS_POLICY_VPA] = vsReplayVpa(r);
    vsSelectorPredict(r->selector, 0.9, &point, &lower, &upper);
    for (gsize j = lo; j < hi; j++) {
        for (guint p = 0; p < VS_POLICY_N; p++)
            r->alloc[p][j] = a[p];
        r->point[j] = point;
        r->lower[j] = lower;
        r->upper[j] = upper;
    }
}

static void
vsReplayObserve(vsReplay *r, gsize k)
{
    double t = r->in->start_t + k * r->in->step_s;
    double y = r->in->use[k];

    vsModelVpa.update(r->vpa, t, y, NULL);
    vsSelectorObserve(r->selector, t, y, NULL);
}

/* Mean absolute seasonal-naive (1 day) error over the history: MASE's scale. */
static double
vsReplayMaseScale(const vsReplay *r)
{
    double sum = 0;
    gsize n = 0;

    for (gsize i = r->day; i < r->train; i++, n++)
        sum += fabs(r->in->use[i] - r->in->use[i - r->day]);
    return n && sum > 0 ? sum / n : NAN;
}

static gboolean
vsReplayScored(const vsReplay *r, gsize j)
{
    return j >= r->train && (!r->in->scored || r->in->scored[j]);
}

static void
vsReplayScore(const vsReplay *r, const double *alloc, const double *forecast,
              vsBacktestScore *s)
{
    double slack = 0, total = 0, severity = 0, err = 0, scale = vsReplayMaseScale(r);
    guint under = 0, resizes = 0;

    for (gsize j = r->train; j < r->n; j++) {
        double use = r->in->use[j];

        if (!vsReplayScored(r, j))
            continue;
        s->scored++;
        total += alloc[j];
        slack += MAX(alloc[j] - use, 0);
        err += fabs(forecast[j] - use);
        if (use > alloc[j]) {
            under++;
            severity += (use - alloc[j]) / use;
        }
        if (vsReplayScored(r, j - 1) &&
            fabs(alloc[j] - alloc[j - 1]) > 0.01 * fabs(alloc[j - 1]))
            resizes++;
    }
    s->slack = total > 0 ? slack / total : NAN;
    s->underprov = s->scored ? (double)under / s->scored : NAN;
    s->severity = under ? severity / under : NAN;
    s->mase = s->scored ? err / s->scored / scale : NAN;
    s->resizes_per_day = s->scored ? resizes / (s->scored / (double)r->day) : NAN;
}

static void
vsReplayScoreIntervals(const vsReplay *r, vsBacktestScore *s)
{
    for (gsize j = r->train; j < r->n; j++) {
        double use = r->in->use[j];

        if (!vsReplayScored(r, j) || isnan(r->lower[j]))
            continue;
        s->intervals++;
        s->covered90 += use >= r->lower[j] && use <= r->upper[j];
    }
}

static gboolean
vsReplaySteps(double seconds, double step, const char *what, guint *ret, GError **error)
{
    double steps = seconds / step;

    if (steps < 0 || fabs(steps - round(steps)) > 1e-9 || steps > G_MAXUINT / 4) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "%s of %g s is not a whole number of %g s steps", what, seconds, step);
        return FALSE;
    }
    *ret = (guint)round(steps);
    return TRUE;
}

static gboolean
vsReplayInit(vsReplay *r, const vsBacktestSeries *in, const vsBacktestOptions *o,
             GError **error)
{
    vsModelOptions mopts = { .resource = in->resource, .step_s = in->step_s };
    vsSelectorConfig scfg;

    r->in = in;
    r->n = in->n;
    if (!vsReplaySteps(o->decision_s, in->step_s, "decision interval", &r->decision, error) ||
        !vsReplaySteps(o->lead_s, in->step_s, "lead", &r->lead, error) ||
        !vsReplaySteps(o->train_s, in->step_s, "training period", &r->train, error))
        return FALSE;
    if (r->decision == 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "the decision interval must be > 0");
        return FALSE;
    }
    if (in->n * in->step_s < o->min_s || r->n <= r->train) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "%.1f days of data, fewer than the %.1f needed",
                    in->n * in->step_s / VS_DAY_S, MAX(o->min_s, o->train_s) / VS_DAY_S);
        return FALSE;
    }
    r->day = (guint)MAX(1, round(VS_DAY_S / in->step_s));
    r->hour = (guint)MAX(1, round(VS_HOUR_S / in->step_s));
    r->fallback = vsSeriesMax(in->use, in->n);
    r->reactive = in->prov ? in->prov[0] : r->fallback;
    for (guint p = 0; p < VS_POLICY_N; p++)
        r->alloc[p] = g_new0(double, r->n);
    r->point = g_new(double, r->n);
    r->lower = g_new(double, r->n);
    r->upper = g_new(double, r->n);
    r->vpa = vsModelVpa.create(&mopts);
    vsSelectorConfigDefaults(&scfg, in->resource, in->step_s);
    scfg.lead_steps = r->lead;
    scfg.window_steps = r->decision;
    r->selector = vsSelectorNew(&scfg, NULL);
    return TRUE;
}

static void
vsReplayClear(vsReplay *r)
{
    for (guint p = 0; p < VS_POLICY_N; p++)
        g_free(r->alloc[p]);
    g_free(r->point);
    g_free(r->lower);
    g_free(r->upper);
    if (r->vpa)
        vsModelVpa.destroy(r->vpa);
    vsSelectorFree(r->selector);
}

gboolean
vsBacktestRun(const vsBacktestSeries *series, const vsBacktestOptions *o,
              vsBacktestResult *ret, GError **error)
{
    vsReplay r = { 0 };
    gboolean ok = vsReplayInit(&r, series, o, error);

    memset(ret, 0, sizeof(*ret));
    if (ok) {
        for (gsize k = 0; k < r.n; k++) {
            if (k % r.decision == 0)
                vsReplayDecide(&r, k);
            vsReplayObserve(&r, k);
        }
        for (guint p = 0; p < VS_POLICY_N; p++)
            vsReplayScore(&r, r.alloc[p], p == VS_POLICY_VIRT_SHADOW ? r.point : r.alloc[p],
                          &ret->score[p]);
        vsReplayScoreIntervals(&r, &ret->score[VS_POLICY_VIRT_SHADOW]);
        ret->period = vsSelectorPeriod(r.selector);
        ret->model = g_strdup(vsSelectorModel(r.selector));
        ret->switches = vsSelectorSwitches(r.selector);
        ret->level = vsSelectorLevel(r.selector);
        ret->burst = vsSelectorBurst(r.selector);
    }
    vsReplayClear(&r);
    return ok;
}

static int
vsCompareDouble(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double
vsPercentile(double *v, gsize n, double p)
{
    gsize m = 0;
    double pos;
    gsize i;

    for (gsize k = 0; k < n; k++) {
        if (!isnan(v[k]))
            v[m++] = v[k];
    }
    if (m == 0)
        return NAN;
    qsort(v, m, sizeof(double), vsCompareDouble);
    pos = CLAMP(p, 0, 1) * (m - 1);
    i = (gsize)pos;
    return i + 1 >= m ? v[m - 1] : v[i] + (pos - i) * (v[i + 1] - v[i]);
}
