/*
 * vsmodelhw.h: what the Holt-Winters driver shows beyond the vtable
 *
 * The driver itself is vsModelHoltWinters (vsmodel.h); this is for tests,
 * benchmarks and the audit trail, which want the numbers, not a string.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _vsModelHwInfo vsModelHwInfo;
struct _vsModelHwInfo {
    double alpha, beta, gamma;  /* smoothing parameters; gamma 0 without season */
    double sse;                 /* in-sample one-step-ahead SSE at the fit */
    guint period;               /* 0: Holt's linear trend */
    guint evals;                /* objective evaluations the fit spent */
};

/* The last fit of a vsModelHoltWinters model.  FALSE, @ret untouched,
 * before a successful fit. */
gboolean vsModelHwGetInfo(gpointer model, vsModelHwInfo *ret);

G_END_DECLS
