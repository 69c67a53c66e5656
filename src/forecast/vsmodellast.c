/*
 * vsmodellast.c: the last observed value, for every horizon
 *
 * The naive forecast every other model must beat.
 */
#include <config.h>

#include <math.h>

#include "util/vserror.h"
#include "vsmodel.h"

typedef struct {
    gboolean seen;
    double last;
} vsModelLastState;

static gpointer
vsModelLastCreate(const vsModelOptions *opts)
{
    return g_new0(vsModelLastState, 1);
}

static void
vsModelLastDestroy(gpointer model)
{
    g_free(model);
}

/* A missing value leaves the last one standing. */
static void
vsModelLastUpdate(gpointer model, double t, double y, const double *x)
{
    vsModelLastState *m = model;

    if (!isfinite(y))
        return;
    m->last = y;
    m->seen = TRUE;
}

static gboolean
vsModelLastFit(gpointer model, const vsSeries *series, GError **error)
{
    vsModelLastState *m = model;
    gsize i;

    m->seen = FALSE;
    for (i = 0; i < series->n; i++)
        vsModelLastUpdate(m, series->t ? series->t[i] : 0, series->y[i], NULL);
    if (!m->seen) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "model 'last' has no observation among %" G_GSIZE_FORMAT " values",
                    series->n);
        return FALSE;
    }
    return TRUE;
}

static gboolean
vsModelLastForecast(gpointer model, guint horizon, const double *future_x,
                    double *point)
{
    vsModelLastState *m = model;
    guint i;

    if (!m->seen)
        return FALSE;
    for (i = 0; i < horizon; i++)
        point[i] = m->last;
    return TRUE;
}

static char *
vsModelLastDescribe(gpointer model)
{
    vsModelLastState *m = model;

    if (!m->seen)
        return g_strdup("last value=none");
    return g_strdup_printf("last value=%g", m->last);
}

const vsModelDriver vsModelLast = {
    .name = "last",
    .create = vsModelLastCreate,
    .destroy = vsModelLastDestroy,
    .fit = vsModelLastFit,
    .update = vsModelLastUpdate,
    .forecast = vsModelLastForecast,
    .describe = vsModelLastDescribe,
};
