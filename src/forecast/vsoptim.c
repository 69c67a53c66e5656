/*
 * vsoptim.c: Nelder-Mead simplex (Lagarias et al. 1998 coefficients)
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "forecast/vsoptim.h"

typedef struct {
    vsOptimFunc func;
    gpointer opaque;
    guint dim;
    guint evals;
    double v[VS_OPTIM_MAX_DIM + 1][VS_OPTIM_MAX_DIM];   /* vertices, best first */
    double f[VS_OPTIM_MAX_DIM + 1];
} vsSimplex;

static double
vsSimplexEval(vsSimplex *s, const double *x)
{
    double f = s->func(x, s->opaque);

    s->evals++;
    return isnan(f) ? HUGE_VAL : f;
}

/* Insertion sort: d+1 vertices, mostly sorted already. */
static void
vsSimplexSort(vsSimplex *s)
{
    guint i, j;

    for (i = 1; i <= s->dim; i++) {
        double fv = s->f[i];
        double v[VS_OPTIM_MAX_DIM];

        memcpy(v, s->v[i], sizeof(v));
        for (j = i; j > 0 && s->f[j - 1] > fv; j--) {
            s->f[j] = s->f[j - 1];
            memcpy(s->v[j], s->v[j - 1], sizeof(v));
        }
        s->f[j] = fv;
        memcpy(s->v[j], v, sizeof(v));
    }
}

static gboolean
vsSimplexConverged(const vsSimplex *s, const vsOptimOptions *opts)
{
    double size = 0.0;
    guint i, k;

    if (s->f[s->dim] - s->f[0] > opts->ftol * fabs(s->f[0]) + opts->fabs_tol)
        return FALSE;
    for (i = 1; i <= s->dim; i++)
        for (k = 0; k < s->dim; k++)
            size = MAX(size, fabs(s->v[i][k] - s->v[0][k]));
    return size <= opts->xtol;
}

/* @out = @c + @t·(@c − worst). */
static void
vsSimplexLine(const vsSimplex *s, const double *c, double t, double *out)
{
    guint k;

    for (k = 0; k < s->dim; k++)
        out[k] = c[k] + t * (c[k] - s->v[s->dim][k]);
}

static void
vsSimplexReplaceWorst(vsSimplex *s, const double *x, double f)
{
    memcpy(s->v[s->dim], x, s->dim * sizeof(double));
    s->f[s->dim] = f;
}

static void
vsSimplexShrink(vsSimplex *s)
{
    guint i, k;

    for (i = 1; i <= s->dim; i++) {
        for (k = 0; k < s->dim; k++)
            s->v[i][k] = s->v[0][k] + 0.5 * (s->v[i][k] - s->v[0][k]);
        s->f[i] = vsSimplexEval(s, s->v[i]);
    }
}

/* One iteration: reflect, expand, contract or shrink. */
static void
vsSimplexStep(vsSimplex *s)
{
    guint d = s->dim;
    double c[VS_OPTIM_MAX_DIM] = { 0 };
    double xr[VS_OPTIM_MAX_DIM], xt[VS_OPTIM_MAX_DIM];
    double fr, ft;
    guint i, k;

    for (i = 0; i < d; i++)
        for (k = 0; k < d; k++)
            c[k] += s->v[i][k] / d;

    vsSimplexLine(s, c, 1.0, xr);
    fr = vsSimplexEval(s, xr);
    if (fr < s->f[0]) {
        vsSimplexLine(s, c, 2.0, xt);
        ft = vsSimplexEval(s, xt);
        if (ft < fr)
            vsSimplexReplaceWorst(s, xt, ft);
        else
            vsSimplexReplaceWorst(s, xr, fr);
    } else if (fr < s->f[d - 1]) {
        vsSimplexReplaceWorst(s, xr, fr);
    } else if (fr < s->f[d]) {
        vsSimplexLine(s, c, 0.5, xt);          /* outside contraction */
        ft = vsSimplexEval(s, xt);
        if (ft <= fr)
            vsSimplexReplaceWorst(s, xt, ft);
        else
            vsSimplexShrink(s);
    } else {
        vsSimplexLine(s, c, -0.5, xt);         /* inside contraction */
        ft = vsSimplexEval(s, xt);
        if (ft < s->f[d])
            vsSimplexReplaceWorst(s, xt, ft);
        else
            vsSimplexShrink(s);
    }
}

double
vsOptimNelderMead(vsOptimFunc func, gpointer opaque, double *x, guint dim,
                  const vsOptimOptions *opts, guint *ret_evals)
{
    vsSimplex s = { .func = func, .opaque = opaque, .dim = dim };
    guint i;

    g_return_val_if_fail(dim >= 1 && dim <= VS_OPTIM_MAX_DIM, HUGE_VAL);

    for (i = 0; i <= dim; i++) {
        memcpy(s.v[i], x, dim * sizeof(double));
        if (i > 0)
            s.v[i][i - 1] += opts->step;
        s.f[i] = vsSimplexEval(&s, s.v[i]);
    }
    for (;;) {
        vsSimplexSort(&s);
        if (s.evals >= opts->max_evals || vsSimplexConverged(&s, opts))
            break;
        vsSimplexStep(&s);
    }
    memcpy(x, s.v[0], dim * sizeof(double));
    if (ret_evals)
        *ret_evals = s.evals;
    return s.f[0];
}
