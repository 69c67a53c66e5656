/*
 * vslinalg.c: small dense linear solvers for the forecast models
 */
#include <config.h>

#include <float.h>
#include <math.h>

#include "forecast/vslinalg.h"
#include "util/vserror.h"

/* A pivot this small next to the matrix's scale means "singular": rounding
 * alone produces pivots of about n·eps·scale. */
static double
vsLinalgTiny(double scale, guint n)
{
    return scale * (double)n * DBL_EPSILON;
}

gboolean
vsLinalgCholesky(double *a, guint n)
{
    double scale = 0.0;
    guint i, j, k;

    for (i = 0; i < n; i++)
        scale = MAX(scale, fabs(a[i * n + i]));
    if (scale == 0.0 || !isfinite(scale))
        return FALSE;

    for (j = 0; j < n; j++) {
        double d = a[j * n + j];

        for (k = 0; k < j; k++)
            d -= a[j * n + k] * a[j * n + k];
        if (!(d > vsLinalgTiny(scale, n)))
            return FALSE;
        d = sqrt(d);
        a[j * n + j] = d;
        for (i = j + 1; i < n; i++) {
            double s = a[i * n + j];

            for (k = 0; k < j; k++)
                s -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = s / d;
        }
    }
    return TRUE;
}

void
vsLinalgCholeskySolve(const double *l, guint n, double *b)
{
    guint i, k;

    /* forward: L·z = b */
    for (i = 0; i < n; i++) {
        double s = b[i];

        for (k = 0; k < i; k++)
            s -= l[i * n + k] * b[k];
        b[i] = s / l[i * n + i];
    }
    /* backward: Lᵀ·x = z */
    for (i = n; i-- > 0;) {
        double s = b[i];

        for (k = i + 1; k < n; k++)
            s -= l[k * n + i] * b[k];
        b[i] = s / l[i * n + i];
    }
}

gboolean
vsLinalgSolveSpd(double *a, double *b, guint n, GError **error)
{
    if (!vsLinalgCholesky(a, n)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "matrix is not positive definite (%ux%u)", n, n);
        return FALSE;
    }
    vsLinalgCholeskySolve(a, n, b);
    return TRUE;
}

static double
vsLinalgMaxAbs(const double *a, guint n)
{
    double scale = 0.0;
    guint i;

    for (i = 0; i < n * n; i++)
        scale = MAX(scale, fabs(a[i]));
    return scale;
}

static void
vsLinalgSwapRows(double *a, double *b, guint n, guint r1, guint r2)
{
    guint k;

    for (k = 0; k < n; k++) {
        double t = a[r1 * n + k];

        a[r1 * n + k] = a[r2 * n + k];
        a[r2 * n + k] = t;
    }
    {
        double t = b[r1];

        b[r1] = b[r2];
        b[r2] = t;
    }
}

gboolean
vsLinalgSolve(double *a, double *b, guint n, GError **error)
{
    double scale = vsLinalgMaxAbs(a, n);
    guint i, j, k;

    for (j = 0; j < n; j++) {
        guint piv = j;

        for (i = j + 1; i < n; i++)
            if (fabs(a[i * n + j]) > fabs(a[piv * n + j]))
                piv = i;
        if (!(fabs(a[piv * n + j]) > vsLinalgTiny(scale, n))) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "matrix is singular (%ux%u)", n, n);
            return FALSE;
        }
        if (piv != j)
            vsLinalgSwapRows(a, b, n, piv, j);
        for (i = j + 1; i < n; i++) {
            double f = a[i * n + j] / a[j * n + j];

            a[i * n + j] = 0.0;
            for (k = j + 1; k < n; k++)
                a[i * n + k] -= f * a[j * n + k];
            b[i] -= f * b[j];
        }
    }
    for (i = n; i-- > 0;) {
        double s = b[i];

        for (k = i + 1; k < n; k++)
            s -= a[i * n + k] * b[k];
        b[i] = s / a[i * n + i];
    }
    return TRUE;
}
