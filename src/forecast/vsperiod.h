/*
 * vsperiod.h: the season length of a series, or none
 *
 * Candidates are lines in the periodogram that stand well above the local
 * spectral background (so trends, random walks and coloured noise, whose
 * spectra are smooth, yield none) and peaks of their harmonic sum (a
 * spiky daily job is a comb of harmonics); each is confirmed by the lagged
 * correlation of the series with its slower components removed, against
 * what the remainder's own memory yields by chance.  A false period is
 * worse than none: when in doubt, the answer is 0.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The period of @y[0..@n-1] in steps, within [@min_period, @max_period]
 * (min at least 2; max at most @n / 2), or 0 for none.  NaN marks a
 * missing value.  @strength (optional) receives the lagged correlation at
 * the period, in (0, 1], or 0 when there is none.  Never fails. */
guint vsPeriodDetect(const double *y, gsize n, guint min_period,
                     guint max_period, double *strength);

G_END_DECLS
