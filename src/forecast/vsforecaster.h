/*
 * vsforecaster.h: a model plus prediction intervals that mean what they say
 *
 * A forecaster runs one model over one series and remembers what it
 * forecast.  As each actual value arrives, the error of every earlier
 * forecast for it goes into a window of errors per horizon.  Intervals are
 * the model's point forecast plus empirical quantiles of those errors
 * (split-conformal style): a nominal 90 % interval covers about 90 % of
 * what the recent past looked like, whatever the model's own assumptions.
 */
#pragma once

#include "forecast/vsmodel.h"

G_BEGIN_DECLS

typedef struct _vsForecaster vsForecaster;

/* Forecasts @first..@horizon steps ahead; @window: errors kept per
 * horizon (the calibration set). */
vsForecaster *vsForecasterNew(const vsModelDriver *drv, const vsModelOptions *opts,
                              guint first, guint horizon, guint window);
void vsForecasterFree(vsForecaster *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsForecaster, vsForecasterFree)

const vsModelDriver *vsForecasterDriver(vsForecaster *f);

/* Refit the model on @series (the recent history); the error windows are
 * kept, since they describe the data, and the model that follows is
 * judged from now on. */
gboolean vsForecasterFit(vsForecaster *f, const vsSeries *series, GError **error);

/* The next value of the series (NaN: missing).  Scores the forecasts made
 * for it, updates the model and forecasts again. */
void vsForecasterObserve(vsForecaster *f, double t, double y, const double *x);

/* Forecast @h steps ahead (first..horizon) with a central interval of
 * @coverage (0..1).  FALSE while the model cannot forecast; the bounds are
 * the point itself until errors at @h have been seen. */
gboolean vsForecasterPredict(vsForecaster *f, guint h, double coverage, double *point,
                             double *lower, double *upper);

/* The point forecast plus the @q quantile of the errors at @h (q = 0.99:
 * exceeded about 1 % of the time).  FALSE while the model cannot forecast. */
gboolean vsForecasterQuantile(vsForecaster *f, guint h, double q, double *ret);

/* The model's point forecast @h steps ahead.  FALSE while it has none. */
gboolean vsForecasterPoint(vsForecaster *f, guint h, double *ret);

/* Errors seen at horizon @h so far (at most the window). */
guint vsForecasterErrors(vsForecaster *f, guint h);

/* Mean absolute error at @h over the window; NaN before any. */
double vsForecasterMae(vsForecaster *f, guint h);

/* Ask for the memory that @f's next observation, @y, will touch, and
 * its quantiles from @q up will read, without waiting for it.  A selector
 * asks for all of its forecasters' before stepping the first, so that
 * their cache misses are under way together. */
void vsForecasterPrefetch(vsForecaster *f, double y, double q);

G_END_DECLS
