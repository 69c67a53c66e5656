/*
 * vsmodelar.h: what the AR driver shows beyond the vtable
 *
 * The driver itself is vsModelAr (vsmodel.h); this is for tests and the
 * audit trail.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VS_AR_MAX_ORDER 12

/* The fitted model y_t = c + Σ phi_i·y_(t−i), in the series' own unit.
 * Returns the order p (phi[0..p−1] are written, @ret_phi holds
 * VS_AR_MAX_ORDER), or 0, outputs untouched, before a successful fit. */
guint vsModelArGetCoefficients(gpointer model, double *ret_intercept, double *ret_phi);

G_END_DECLS
