/*
 * vspredictor.c: the daemon's forecasts, and their feedback loop
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vspredictor.h"
#include "util/vsjson.h"

#define VS_RESOURCES 2

static int
vsCompareKeys(const char *const *a, const char *const *b)
{
    return strcmp(*a, *b);
}
/* Misses smaller than this share of the forecast are never anomalies. */
#define VS_ANOMALY_MIN_SHARE 0.05

typedef struct {
    vsSelector *sel;
    double sum;                 /* the open slot's samples */
    double peak;                /* and the largest of them */
    guint count;
    /* the forecast made for the open slot */
    gboolean have;
    double point, lower90, upper90, lower99, upper99;
    double allocation;          /* the selector's, for the open slot and the next */
    char *model;
    gint64 made_us;
    /* feedback: exponentially weighted, about a season */
    double ew_abs;
    double ew_naive;            /* the seasonal naive forecast's error */
    double ew_cover;
    guint scored;
} vsResourceState;

typedef struct {
    char uuid[VS_UUID_STRLEN];
    char *name;
    gint64 slot_us;             /* start of the open slot */
    gint64 phase_us;            /* of its slots within the step */
    guint64 closed;             /* slots closed so far */
    gint64 last_sample_us;
    vsResourceState res[VS_RESOURCES];
    /* workload inputs: the numeric labels the domain had when first seen */
    GStrv inputs;
    guint n_inputs;
    double *x_sum;              /* the open slot's, per input */
    guint *x_count;
} vsDomainState;

struct _vsPredictor {
    double step_s;
    gint64 step_us;
    double season_s;
    guint season_slots;
    guint window_slots;         /* the open slot and those to the horizon */
    gint64 spread_us;           /* slots start at multiples of this (0: aligned) */
    gint64 budget_window;       /* the interval the refit budget is for */
    guint refits_left;          /* in it */
    guint error_window;
    GHashTable *domains;        /* uuid -> vsDomainState */
    vsPredictorOutput *out;     /* what closed since the last Advance */
};

void
vsPredictorOutputFree(vsPredictorOutput *out)
{
    if (!out)
        return;
    g_array_unref(out->forecasts);
    g_array_unref(out->errors);
    g_array_unref(out->anomalies);
    g_free(out);
}

static vsPredictorOutput *
vsPredictorOutputNew(void)
{
    vsPredictorOutput *out = g_new0(vsPredictorOutput, 1);

    out->forecasts = g_array_new(FALSE, TRUE, sizeof(vsForecastRecord));
    g_array_set_clear_func(out->forecasts, (GDestroyNotify)vsForecastRecordClear);
    out->errors = g_array_new(FALSE, TRUE, sizeof(vsForecastError));
    g_array_set_clear_func(out->errors, (GDestroyNotify)vsForecastErrorClear);
    out->anomalies = g_array_new(FALSE, TRUE, sizeof(vsAnomaly));
    g_array_set_clear_func(out->anomalies, (GDestroyNotify)vsAnomalyClear);
    return out;
}

static void
vsDomainStateFree(vsDomainState *d)
{
    for (guint r = 0; r < VS_RESOURCES; r++) {
        vsSelectorFree(d->res[r].sel);
        g_free(d->res[r].model);
    }
    g_free(d->name);
    g_strfreev(d->inputs);
    g_free(d->x_sum);
    g_free(d->x_count);
    g_free(d);
}

vsPredictor *
vsPredictorNew(double step_s, double season_s, double horizon_s, guint error_window)
{
    vsPredictor *p = g_new0(vsPredictor, 1);

    p->step_s = step_s;
    p->step_us = (gint64)(step_s * G_USEC_PER_SEC);
    p->season_s = season_s;
    p->season_slots = (guint)MAX(1, season_s / step_s);
    p->window_slots = 1 + (guint)MAX(1, ceil(horizon_s / step_s - 1e-9));
    p->error_window = error_window;
    p->domains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify)vsDomainStateFree);
    return p;
}

void
vsPredictorFree(vsPredictor *p)
{
    if (!p)
        return;
    g_hash_table_unref(p->domains);
    vsPredictorOutputFree(p->out);
    g_free(p);
}

guint
vsPredictorDomains(vsPredictor *p)
{
    return g_hash_table_size(p->domains);
}

/* The value of every label of @labels (JSON) named in @keys that reads as
 * a number, NaN for the others. */
static void
vsLabelsToInputs(const char *labels, GStrv keys, double *ret)
{
    g_autoptr(vsJson) doc = labels ? vsJsonParse(labels, -1, NULL) : NULL;

    for (guint i = 0; keys && keys[i]; i++) {
        ret[i] = NAN;
        for (guint j = 0; doc && j < vsJsonObjectSize(doc); j++) {
            const char *v = vsJsonGetString(vsJsonObjectValue(doc, j));
            char *end = NULL;
            double n;

            if (!v || !g_str_equal(vsJsonObjectKey(doc, j), keys[i]))
                continue;
            n = g_ascii_strtod(v, &end);
            if (end != v && *end == '\0' && isfinite(n))
                ret[i] = n;
        }
    }
}

/* The labels of @labels whose values are numbers, sorted: the workload
 * inputs (seed 003: request rate, job size...). */
static GStrv
vsLabelsNumericKeys(const char *labels)
{
    g_autoptr(vsJson) doc = labels ? vsJsonParse(labels, -1, NULL) : NULL;
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    GStrv keys;

    for (guint j = 0; doc && j < vsJsonObjectSize(doc); j++) {
        const char *key = vsJsonObjectKey(doc, j);
        const char *one[] = { key, NULL };
        double v;

        vsLabelsToInputs(labels, (GStrv)one, &v);
        if (!isnan(v))
            g_strv_builder_add(b, key);
    }
    keys = g_strv_builder_end(b);
    qsort(keys, g_strv_length(keys), sizeof(char *), (GCompareFunc)vsCompareKeys);
    return keys;
}

static vsDomainState *
vsDomainStateNew(vsPredictor *p, const vsSample *x, gint64 phase_us)
{
    vsDomainState *d = g_new0(vsDomainState, 1);

    g_strlcpy(d->uuid, x->uuid, sizeof(d->uuid));
    d->phase_us = phase_us;
    d->inputs = vsLabelsNumericKeys(x->labels);
    d->n_inputs = g_strv_length(d->inputs);
    d->x_sum = g_new0(double, MAX(d->n_inputs, 1));
    d->x_count = g_new0(guint, MAX(d->n_inputs, 1));
    for (guint r = 0; r < VS_RESOURCES; r++) {
        vsSelectorConfig cfg;

        vsSelectorConfigSeason(&cfg, r, p->step_s, p->season_s);
        /* the open slot is forecast; the allocator covers it and the
         * slots to the horizon, so that it acts a lead time ahead */
        cfg.lead_steps = 0;
        cfg.window_steps = p->window_slots;
        cfg.error_window = p->error_window;
        cfg.model.n_inputs = d->n_inputs;
        d->res[r].sel = vsSelectorNew(&cfg, NULL);
    }
    return d;
}

static double
vsSampleValue(const vsSample *x, vsResourceKind r)
{
    if (r == VS_RESOURCE_CPU)
        return x->cpu_vcpus;
    return x->mem_used_kib >= 0 ? x->mem_used_kib / 1024.0 : NAN;
}

static void
vsPredictorEmitForecast(vsPredictor *p, const vsDomainState *d, vsResourceKind r,
                        gint64 slot_us, double actual)
{
    const vsResourceState *s = &d->res[r];
    vsForecastRecord rec;

    vsForecastRecordInit(&rec);
    g_strlcpy(rec.uuid, d->uuid, sizeof(rec.uuid));
    rec.name = g_strdup(d->name);
    rec.resource = r;
    rec.at_us = slot_us;
    rec.made_at_us = s->made_us;
    rec.model = g_strdup(s->model);
    rec.point = s->point;
    rec.lower90 = s->lower90;
    rec.upper90 = s->upper90;
    rec.lower99 = s->lower99;
    rec.upper99 = s->upper99;
    rec.allocation = isnan(actual) ? s->allocation : NAN;
    rec.actual = actual;
    g_array_append_val(p->out->forecasts, rec);
}

static void
vsPredictorEmitAnomaly(vsPredictor *p, const vsDomainState *d, vsResourceKind r,
                       gint64 slot_us, double y)
{
    const vsResourceState *s = &d->res[r];
    vsAnomaly a;

    vsAnomalyInit(&a);
    g_strlcpy(a.uuid, d->uuid, sizeof(a.uuid));
    a.name = g_strdup(d->name);
    a.resource = r;
    a.at_us = slot_us;
    a.value = y;
    a.lower99 = s->lower99;
    a.upper99 = s->upper99;
    a.model = g_strdup(s->model);
    g_array_append_val(p->out->anomalies, a);
}

static void
vsPredictorEmitError(vsPredictor *p, const vsDomainState *d, vsResourceKind r)
{
    const vsResourceState *s = &d->res[r];
    vsForecastError e;

    vsForecastErrorInit(&e);
    g_strlcpy(e.uuid, d->uuid, sizeof(e.uuid));
    e.name = g_strdup(d->name);
    e.resource = r;
    e.model = g_strdup(s->model);
    e.mae = s->ew_abs;
    e.mase = s->ew_naive > 0 ? s->ew_abs / s->ew_naive : NAN;
    e.coverage90 = s->ew_cover;
    e.n = s->scored;
    g_array_append_val(p->out->errors, e);
}

/* The rolling error weighs about the last @window slots (a season). */
static void
vsRolling(double *avg, double v, guint n, guint window)
{
    double w = MAX(1.0 / window, 1.0 / n);

    *avg = n == 1 ? v : *avg + w * (v - *avg);
}

/* Outside the 99 % interval, and by more than noise: on a very regular
 * series the interval is so narrow that a refit's nudge would leave it. */
static gboolean
vsPredictorAnomalous(const vsResourceState *s, double y)
{
    double miss = fabs(y - s->point);

    if (isnan(s->lower99) || (y >= s->lower99 && y <= s->upper99))
        return FALSE;
    return miss > 3 * s->ew_abs && miss > VS_ANOMALY_MIN_SHARE * fabs(s->point);
}

/* Compare the closed slot's actual with what was forecast for it. */
static void
vsPredictorScore(vsPredictor *p, vsDomainState *d, vsResourceKind r, gint64 slot_us, double y)
{
    vsResourceState *s = &d->res[r];

    if (!s->have)
        return;
    vsPredictorEmitForecast(p, d, r, slot_us, y);
    if (isnan(y))
        return;
    s->scored++;
    vsRolling(&s->ew_abs, fabs(y - s->point), s->scored, p->season_slots);
    if (!isnan(s->lower90))
        vsRolling(&s->ew_cover, y >= s->lower90 && y <= s->upper90, s->scored,
                  p->season_slots);
    /* the selector has not seen @y yet: a season ago is season_slots back */
    if (!isnan(vsSelectorAgo(s->sel, p->season_slots)))
        vsRolling(&s->ew_naive, fabs(y - vsSelectorAgo(s->sel, p->season_slots)), s->scored,
                  p->season_slots);
    if (vsPredictorAnomalous(s, y))
        vsPredictorEmitAnomaly(p, d, r, slot_us, y);
    vsPredictorEmitError(p, d, r);
}

/* The forecast for the slot starting at @slot_us, from what is known now. */
static void
vsPredictorForecast(vsPredictor *p, vsDomainState *d, vsResourceKind r, gint64 slot_us,
                    gint64 now_us)
{
    vsResourceState *s = &d->res[r];
    double lo99, hi99;

    s->have = vsSelectorPredict(s->sel, 0.9, &s->point, &s->lower90, &s->upper90) &&
              vsSelectorPredict(s->sel, 0.99, &s->point, &lo99, &hi99);
    if (!s->have)
        return;
    s->lower99 = lo99;
    s->upper99 = hi99;
    /* a bound is calibrated only once errors were seen: until then it is
     * the point itself, which is no interval */
    if (s->lower90 == s->upper90) {
        s->lower90 = s->upper90 = NAN;
        s->lower99 = s->upper99 = NAN;
    }
    if (!vsSelectorAllocate(s->sel, &s->allocation))
        s->allocation = NAN;
    g_free(s->model);
    s->model = g_strdup(vsSelectorModel(s->sel));
    s->made_us = now_us;
    vsPredictorEmitForecast(p, d, r, slot_us, NAN);
}

/* Refits in one control interval (a step without spread): twice the
 * share each interval would take if they were even, so they cannot fall
 * behind, and the interval's cost stays bounded when many come due at
 * once (a restart sees every domain at the same time of day). */
static void
vsPredictorBudget(vsPredictor *p, gint64 now_us)
{
    gint64 every_us = p->spread_us ? p->spread_us : p->step_us;
    guint64 due = 2 * (guint64)g_hash_table_size(p->domains) * VS_RESOURCES *
                  (guint64)every_us / ((guint64)p->season_slots * p->step_us);

    if (now_us / every_us == p->budget_window)
        return;
    p->budget_window = now_us / every_us;
    /* one domain can always refit both of its resources */
    p->refits_left = VS_RESOURCES + (guint)MIN(due, G_MAXUINT - VS_RESOURCES);
}

/* Close the open slot: score, learn, forecast the next. */
static void
vsPredictorClose(vsPredictor *p, vsDomainState *d, gint64 now_us)
{
    g_autofree double *x = g_new(double, MAX(d->n_inputs, 1));

    for (guint i = 0; i < d->n_inputs; i++) {
        x[i] = d->x_count[i] ? d->x_sum[i] / d->x_count[i] : NAN;
        d->x_sum[i] = 0;
        d->x_count[i] = 0;
    }
    vsPredictorBudget(p, now_us);
    for (guint r = 0; r < VS_RESOURCES; r++) {
        vsResourceState *s = &d->res[r];
        /* memory is forecast at its peak, as VPA sizes it: the mean of a
         * slot that a burst fills only for its end would hide the burst
         * from the slot it starts in */
        double y = !s->count ? NAN : r == VS_RESOURCE_MEMORY ? s->peak : s->sum / s->count;

        vsPredictorScore(p, d, r, d->slot_us, y);
        vsSelectorBudgetRefit(s->sel, &p->refits_left);
        vsSelectorObserve(s->sel, d->slot_us / (double)G_USEC_PER_SEC, y,
                          d->n_inputs ? x : NULL);
        s->sum = 0;
        s->count = 0;
        vsPredictorForecast(p, d, r, d->slot_us + p->step_us, now_us);
    }
    d->slot_us += p->step_us;
    d->closed++;
}

static void
vsPredictorEnsureOutput(vsPredictor *p)
{
    if (!p->out)
        p->out = vsPredictorOutputNew();
}

static void
vsPredictorAddInputs(vsDomainState *d, const char *labels)
{
    g_autofree double *v = NULL;

    if (d->n_inputs == 0)
        return;
    v = g_new(double, d->n_inputs);
    vsLabelsToInputs(labels, d->inputs, v);
    for (guint i = 0; i < d->n_inputs; i++) {
        if (!isnan(v[i])) {
            d->x_sum[i] += v[i];
            d->x_count[i]++;
        }
    }
}

void
vsPredictorSpread(vsPredictor *p, double every_s)
{
    gint64 every_us = (gint64)(every_s * G_USEC_PER_SEC);

    p->spread_us = every_us > 0 && every_us < p->step_us && p->step_us % every_us == 0 ?
                   every_us : 0;
}

/* Where @uuid's slots start within the step: the UUID's first 32 bits
 * (random in practice) pick one of the spread's phases. */
static gint64
vsPredictorPhase(const vsPredictor *p, const char *uuid)
{
    guint64 bits = g_ascii_strtoull(uuid, NULL, 16);

    if (!p->spread_us)
        return 0;
    return (gint64)(bits % (guint64)(p->step_us / p->spread_us)) * p->spread_us;
}

gboolean
vsPredictorAddSample(vsPredictor *p, const vsSample *x)
{
    vsDomainState *d = g_hash_table_lookup(p->domains, x->uuid);
    gboolean fresh = d == NULL;
    gint64 slot_us;

    if (!d) {
        d = vsDomainStateNew(p, x, vsPredictorPhase(p, x->uuid));
        g_hash_table_insert(p->domains, d->uuid, d);
    }
    /* a sample's time ends its interval: it belongs to the slot before */
    slot_us = (x->time_us - 1 - d->phase_us) / p->step_us * p->step_us + d->phase_us;
    if (fresh)
        d->slot_us = slot_us;
    if (g_strcmp0(d->name, x->name) != 0) {
        g_free(d->name);
        d->name = g_strdup(x->name);
    }
    vsPredictorEnsureOutput(p);
    while (d->slot_us < slot_us)
        vsPredictorClose(p, d, x->time_us);
    /* a late sample of a closed slot is not rewritten into history */
    if (slot_us < d->slot_us)
        return fresh;
    for (guint r = 0; r < VS_RESOURCES; r++) {
        double v = vsSampleValue(x, r);

        if (!isnan(v)) {
            d->res[r].sum += v;
            d->res[r].peak = d->res[r].count ? MAX(d->res[r].peak, v) : v;
            d->res[r].count++;
        }
    }
    vsPredictorAddInputs(d, x->labels);
    d->last_sample_us = MAX(d->last_sample_us, x->time_us);
    return fresh;
}

static void
vsPredictorObserveBoth(vsDomainState *d, gint64 slot_us, double cpu, double mem_mib)
{
    double t = slot_us / (double)G_USEC_PER_SEC;

    /* history has no inputs: the regression learns from now on */
    vsSelectorObserve(d->res[VS_RESOURCE_CPU].sel, t, cpu, NULL);
    vsSelectorObserve(d->res[VS_RESOURCE_MEMORY].sel, t, mem_mib, NULL);
}

void
vsPredictorWarm(vsPredictor *p, const char *uuid, GArray *history)
{
    vsDomainState *d = g_hash_table_lookup(p->domains, uuid);
    gint64 next;

    /* history that comes late (a slow database) would land after newer
     * slots: the domain then learns from its own slots only */
    if (!d || d->closed > 0 || history->len == 0)
        return;
    next = g_array_index(history, vsHistoryPoint, 0).at_us;
    for (guint i = 0; i < history->len; i++) {
        const vsHistoryPoint *h = &g_array_index(history, vsHistoryPoint, i);

        if (h->at_us >= d->slot_us)
            break;
        if (h->at_us < next)
            continue;
        /* models count steps, not time: a missing bucket is a missing value */
        for (; next < h->at_us; next += p->step_us)
            vsPredictorObserveBoth(d, next, NAN, NAN);
        vsPredictorObserveBoth(d, h->at_us, h->cpu, h->mem_mib);
        next += p->step_us;
    }
    for (; next < d->slot_us; next += p->step_us)
        vsPredictorObserveBoth(d, next, NAN, NAN);
}

vsPredictorOutput *
vsPredictorAdvance(vsPredictor *p, gint64 now_us)
{
    GHashTableIter it;
    gpointer value;

    vsPredictorEnsureOutput(p);
    g_hash_table_iter_init(&it, p->domains);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        vsDomainState *d = value;

        while (d->slot_us + p->step_us <= now_us)
            vsPredictorClose(p, d, now_us);
    }
    if (p->out->forecasts->len == 0 && p->out->anomalies->len == 0 &&
        p->out->errors->len == 0)
        return NULL;
    return g_steal_pointer(&p->out);
}

static gboolean
vsDomainStateIdle(gpointer key, gpointer value, gpointer cutoff)
{
    return ((vsDomainState *)value)->last_sample_us < *(gint64 *)cutoff;
}

void
vsPredictorExpire(vsPredictor *p, gint64 cutoff_us)
{
    g_hash_table_foreach_remove(p->domains, vsDomainStateIdle, &cutoff_us);
}

gboolean
vsPredictorLookup(vsPredictor *p, const char *uuid, vsResourceKind resource,
                  vsPredictorView *ret)
{
    vsDomainState *d = g_hash_table_lookup(p->domains, uuid);
    vsResourceState *s;
    double alloc;

    if (!d || (guint)resource >= VS_RESOURCES)
        return FALSE;
    s = &d->res[resource];
    *ret = (vsPredictorView){
        .point = s->have ? s->point : NAN,
        .lower90 = s->have ? s->lower90 : NAN,
        .upper90 = s->have ? s->upper90 : NAN,
        .allocation = vsSelectorAllocate(s->sel, &alloc) ? alloc : NAN,
        .last = vsSelectorAgo(s->sel, 1),
        .mae = s->scored ? s->ew_abs : NAN,
        .mase = s->scored && s->ew_naive > 0 ? s->ew_abs / s->ew_naive : NAN,
        .coverage90 = s->scored ? s->ew_cover : NAN,
        .slots = vsSelectorSeen(s->sel),
        .ahead_s = (p->window_slots - 1) * p->step_s,
        .model = s->model,
    };
    return TRUE;
}
