/*
 * vsoptim.h: derivative-free minimisation for model fitting
 *
 * The smoothing models fit two or three parameters by minimising an
 * in-sample error that is cheap to evaluate but has no handy gradient, so a
 * Nelder-Mead simplex on an unbounded reparametrisation (the caller maps
 * R^d onto its box, e.g. with a logistic) is all they need.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VS_OPTIM_MAX_DIM 8

/* The objective; return HUGE_VAL (never NaN) where it is undefined. */
typedef double (*vsOptimFunc)(const double *x, gpointer opaque);

typedef struct _vsOptimOptions vsOptimOptions;
struct _vsOptimOptions {
    double step;            /* initial simplex edge along each axis */
    guint max_evals;        /* hard cap on objective evaluations */
    double ftol;            /* stop when the simplex's f spread <= ftol·|f_best| ... */
    double fabs_tol;        /* ... + fabs_tol */
    double xtol;            /* and its largest edge from the best vertex <= xtol */
};

/* Minimise @func from @x (@dim <= VS_OPTIM_MAX_DIM); @x receives the best
 * point found.  Returns its value; *@ret_evals (may be NULL) the number of
 * evaluations spent. */
double vsOptimNelderMead(vsOptimFunc func, gpointer opaque, double *x, guint dim,
                         const vsOptimOptions *opts, guint *ret_evals);

G_END_DECLS
