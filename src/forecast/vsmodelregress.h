/*
 * vsmodelregress.h: what the regression driver shows beyond the vtable
 *
 * The driver itself is vsModelRegression (vsmodel.h); this is for tests
 * and the audit trail.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The current coefficients (b0, b1..bk) of y = b0 + Σ b_i·x_i into
 * @ret_coef, which holds n_inputs + 1 values.  FALSE, @ret_coef untouched,
 * before a successful fit. */
gboolean vsModelRegressionGetCoefficients(gpointer model, double *ret_coef);

G_END_DECLS
