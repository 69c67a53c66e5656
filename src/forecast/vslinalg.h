/*
 * vslinalg.h: small dense linear solvers for the forecast models
 *
 * The models solve systems of at most a few dozen unknowns (AR lags,
 * regression inputs), so plain row-major arrays and textbook algorithms are
 * enough; no BLAS.  Matrices are @n x @n, row-major, and are overwritten.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Factor the symmetric positive definite @a in place into L·Lᵀ (L in the
 * lower triangle; the upper triangle is left alone).  FALSE when @a is not
 * positive definite to working precision, @a is then garbage. */
gboolean vsLinalgCholesky(double *a, guint n);

/* Solve L·Lᵀ·x = @b in place, with L from vsLinalgCholesky. */
void vsLinalgCholeskySolve(const double *l, guint n, double *b);

/* Solve the symmetric positive definite system @a·x = @b: x replaces @b,
 * @a is destroyed.  VS_ERROR_INVALID when @a is not positive definite. */
gboolean vsLinalgSolveSpd(double *a, double *b, guint n, GError **error);

/* Solve the general system @a·x = @b by LU with partial pivoting: x
 * replaces @b, @a is destroyed.  VS_ERROR_INVALID when @a is singular to
 * working precision. */
gboolean vsLinalgSolve(double *a, double *b, guint n, GError **error);

G_END_DECLS
