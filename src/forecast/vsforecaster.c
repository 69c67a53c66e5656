/*
 * vsforecaster.c: a model plus conformal prediction intervals
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vsforecaster.h"

/* The errors at one horizon: a FIFO of the last @cap, and the same values
 * sorted, so a quantile is a lookup and an update two memmoves.  (Scaling
 * errors by the recent error level, normalised conformal prediction, was
 * tried: on the Bitbrains traces it chased isolated spikes and cost more
 * slack than it saved.) */
typedef struct {
    float *fifo;            /* single precision: plenty for errors, and a
                             * domain's windows cost half */
    float *sorted;
    guint cap;
    guint len;
    guint head;             /* oldest in fifo */
    double abs_sum;
} vsErrorWindow;

struct _vsForecaster {
    const vsModelDriver *drv;
    gpointer model;
    guint first;            /* errors are kept from this horizon on */
    guint horizon;
    /* pending[(target % (horizon + 1)) * horizon + (h - 1)]: the forecast
     * made h steps before @target, NaN when none */
    double *pending;
    guint64 seen;           /* observations so far; the next is index @seen */
    vsErrorWindow *errors;  /* one per horizon */
    double *point;          /* scratch: the last forecasts, h = 1..horizon */
    gboolean ready;         /* @point holds valid forecasts */
};

static void
vsErrorWindowInit(vsErrorWindow *w, guint cap)
{
    w->fifo = g_new(float, cap);
    w->sorted = g_new(float, cap);
    w->cap = cap;
}

static void
vsErrorWindowClear(vsErrorWindow *w)
{
    g_free(w->fifo);
    g_free(w->sorted);
}

/* First index whose value is >= @v. */
static guint
vsSortedLowerBound(const float *a, guint n, float v)
{
    guint lo = 0, hi = n;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;

        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
vsErrorWindowAdd(vsErrorWindow *w, double error)
{
    float e = (float)error;
    guint i, slot;

    if (w->len == w->cap) {
        i = vsSortedLowerBound(w->sorted, w->len, w->fifo[w->head]);
        memmove(w->sorted + i, w->sorted + i + 1, (w->len - i - 1) * sizeof(float));
        w->len--;
        w->abs_sum -= fabs(w->fifo[w->head]);
        slot = w->head;
        w->head = (w->head + 1) % w->cap;
    } else {
        slot = (w->head + w->len) % w->cap;
    }
    w->fifo[slot] = e;
    i = vsSortedLowerBound(w->sorted, w->len, e);
    memmove(w->sorted + i + 1, w->sorted + i, (w->len - i) * sizeof(float));
    w->sorted[i] = e;
    w->len++;
    w->abs_sum += fabs(e);
}

/* Linear interpolation between order statistics, like numpy's default. */
static double
vsErrorWindowQuantile(const vsErrorWindow *w, double q)
{
    double pos = CLAMP(q, 0, 1) * (w->len - 1);
    guint i = (guint)pos;

    if (i + 1 >= w->len)
        return w->sorted[w->len - 1];
    return w->sorted[i] + (pos - i) * (w->sorted[i + 1] - w->sorted[i]);
}

vsForecaster *
vsForecasterNew(const vsModelDriver *drv, const vsModelOptions *opts, guint first,
                guint horizon, guint window)
{
    vsForecaster *f = g_new0(vsForecaster, 1);
    guint n = (horizon + 1) * horizon;

    g_return_val_if_fail(first >= 1 && horizon >= first && window > 1, NULL);
    f->drv = drv;
    f->model = drv->create(opts);
    f->first = first;
    f->horizon = horizon;
    f->pending = g_new(double, n);
    for (guint i = 0; i < n; i++)
        f->pending[i] = NAN;
    f->errors = g_new0(vsErrorWindow, horizon);
    for (guint h = 0; h < horizon; h++)
        vsErrorWindowInit(&f->errors[h], window);
    f->point = g_new(double, horizon);
    return f;
}

void
vsForecasterFree(vsForecaster *f)
{
    if (!f)
        return;
    f->drv->destroy(f->model);
    for (guint h = 0; h < f->horizon; h++)
        vsErrorWindowClear(&f->errors[h]);
    g_free(f->errors);
    g_free(f->pending);
    g_free(f->point);
    g_free(f);
}

const vsModelDriver *
vsForecasterDriver(vsForecaster *f)
{
    return f->drv;
}

static guint
vsForecasterSlot(vsForecaster *f, guint64 target)
{
    return (target % (f->horizon + 1)) * f->horizon;
}



/* Forecast from the model's current state, for the targets after @seen. */
static void
vsForecasterRefresh(vsForecaster *f)
{
    f->ready = f->drv->forecast(f->model, f->horizon, NULL, f->point);
    for (guint h = 1; h <= f->horizon; h++) {
        double p = f->ready && isfinite(f->point[h - 1]) ? f->point[h - 1] : NAN;

        f->pending[vsForecasterSlot(f, f->seen + h - 1) + h - 1] = p;
    }
}

gboolean
vsForecasterFit(vsForecaster *f, const vsSeries *series, GError **error)
{
    if (!f->drv->fit(f->model, series, error))
        return FALSE;
    vsForecasterRefresh(f);
    return TRUE;
}

void
vsForecasterObserve(vsForecaster *f, double t, double y, const double *x)
{
    guint slot = vsForecasterSlot(f, f->seen);

    for (guint h = 1; h <= f->horizon; h++) {
        double fc = f->pending[slot + h - 1];

        f->pending[slot + h - 1] = NAN;
        if (isnan(y) || isnan(fc) || h < f->first)
            continue;
        vsErrorWindowAdd(&f->errors[h - 1], y - fc);
    }
    f->drv->update(f->model, t, y, x);
    f->seen++;
    vsForecasterRefresh(f);
}

gboolean
vsForecasterQuantile(vsForecaster *f, guint h, double q, double *ret)
{
    const vsErrorWindow *w;

    g_return_val_if_fail(h >= 1 && h <= f->horizon, FALSE);
    if (!f->ready || !isfinite(f->point[h - 1]))
        return FALSE;
    w = &f->errors[h - 1];
    *ret = f->point[h - 1] + (w->len ? vsErrorWindowQuantile(w, q) : 0);
    return TRUE;
}

gboolean
vsForecasterPoint(vsForecaster *f, guint h, double *ret)
{
    g_return_val_if_fail(h >= 1 && h <= f->horizon, FALSE);
    if (!f->ready || !isfinite(f->point[h - 1]))
        return FALSE;
    *ret = f->point[h - 1];
    return TRUE;
}

gboolean
vsForecasterPredict(vsForecaster *f, guint h, double coverage, double *point,
                    double *lower, double *upper)
{
    double tail = (1 - CLAMP(coverage, 0, 1)) / 2;

    if (!vsForecasterQuantile(f, h, tail, lower) ||
        !vsForecasterQuantile(f, h, 1 - tail, upper))
        return FALSE;
    *point = f->point[h - 1];
    return TRUE;
}

guint
vsForecasterErrors(vsForecaster *f, guint h)
{
    g_return_val_if_fail(h >= 1 && h <= f->horizon, 0);
    return f->errors[h - 1].len;
}

double
vsForecasterMae(vsForecaster *f, guint h)
{
    const vsErrorWindow *w;

    g_return_val_if_fail(h >= 1 && h <= f->horizon, NAN);
    w = &f->errors[h - 1];
    return w->len ? w->abs_sum / w->len : NAN;
}
