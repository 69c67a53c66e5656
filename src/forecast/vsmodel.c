/*
 * vsmodel.c: the registry of model drivers
 */
#include <config.h>

#include "vsmodel.h"

/* Cheapest first: a selection tie goes to the simpler model. */
static const vsModelDriver *const vsModelAll[] = {
    &vsModelLast,
    &vsModelEwma,
    &vsModelSeasonal,
    &vsModelVpa,
    &vsModelAr,
    &vsModelHoltWinters,
    &vsModelRegression,
    &vsModelQuantile,
    &vsModelSeasonalPeak,
    NULL,
};

const vsModelDriver *const *
vsModelDrivers(void)
{
    return vsModelAll;
}

const vsModelDriver *
vsModelDriverByName(const char *name)
{
    for (guint i = 0; vsModelAll[i]; i++) {
        if (g_strcmp0(vsModelAll[i]->name, name) == 0)
            return vsModelAll[i];
    }
    return NULL;
}
