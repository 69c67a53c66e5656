/*
 * vsallocstub.c: TEMPORARY stand-ins for src/allocator/vsdecide.c
 *
 * To be replaced at merge: the real vsdecide.c (written in parallel) owns
 * these functions.  This file holds only what the store and CLI need to
 * link meanwhile; drop it and its Makefile.am line when vsdecide.c lands.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "allocator/vsdecide.h"
#include "allocator/vshint.h"

static const char *const vsActionNames[] = {
    "none", "grow", "shrink", "hold", "queued",
};
G_STATIC_ASSERT(G_N_ELEMENTS(vsActionNames) == VS_ACTION_LAST);

static const char *const vsOutcomeNames[] = {
    "pending", "advised", "applied", "failed", "skipped",
};
G_STATIC_ASSERT(G_N_ELEMENTS(vsOutcomeNames) == VS_OUTCOME_LAST);

static gboolean
vsStubFromString(const char *const *names, int n, const char *text, int *ret)
{
    for (int i = 0; text && i < n; i++) {
        if (g_str_equal(text, names[i])) {
            *ret = i;
            return TRUE;
        }
    }
    return FALSE;
}

const char *
vsActionToString(vsAction action)
{
    return (guint)action < VS_ACTION_LAST ? vsActionNames[action] : NULL;
}

gboolean
vsActionFromString(const char *text, vsAction *ret_action)
{
    int v;

    if (!vsStubFromString(vsActionNames, VS_ACTION_LAST, text, &v))
        return FALSE;
    *ret_action = (vsAction)v;
    return TRUE;
}

const char *
vsOutcomeToString(vsOutcome outcome)
{
    return (guint)outcome < VS_OUTCOME_LAST ? vsOutcomeNames[outcome] : NULL;
}

gboolean
vsOutcomeFromString(const char *text, vsOutcome *ret_outcome)
{
    int v;

    if (!vsStubFromString(vsOutcomeNames, VS_OUTCOME_LAST, text, &v))
        return FALSE;
    *ret_outcome = (vsOutcome)v;
    return TRUE;
}

void
vsDecisionInit(vsDecision *d)
{
    memset(d, 0, sizeof(*d));
    d->current = d->wanted = d->target = NAN;
    d->forecast = d->upper = d->confidence = NAN;
}

void
vsDecisionClear(vsDecision *d)
{
    if (!d)
        return;
    g_clear_pointer(&d->name, g_free);
    g_clear_pointer(&d->model, g_free);
    g_clear_pointer(&d->clause, g_free);
    g_clear_pointer(&d->reason, g_free);
    g_clear_pointer(&d->error, g_free);
}

void
vsHintInit(vsHint *hint)
{
    memset(hint, 0, sizeof(*hint));
}

void
vsHintClear(vsHint *hint)
{
    if (!hint)
        return;
    g_clear_pointer(&hint->name, g_free);
    g_clear_pointer(&hint->reason, g_free);
}
