/*
 * vsdecide.h: one control interval's decision for one domain
 *
 * Pure logic, no I/O: given a domain's policy, its current allocation,
 * the forecast at the policy's lead time, its hints and its decision
 * history, say what its vCPUs and memory should be now and why.  The
 * caller (the daemon's control loop, "plan", the simulation) gathers the
 * inputs, runs the result through the host ledger (vsledger.h), carries it
 * out and records it.
 *
 * Units: vCPUs as counts, memory in KiB, times in Unix microseconds.
 */
#pragma once

#include <glib.h>

#include "conf/vspolicy.h"
#include "forecast/vsmodel.h"
#include "telemetry/vssample.h"

G_BEGIN_DECLS

/* What a decision does. */
typedef enum {
    VS_ACTION_NONE = 0,     /* the target is what the domain has */
    VS_ACTION_GROW,
    VS_ACTION_SHRINK,
    VS_ACTION_HOLD,         /* the target moved but was held back (cooldown,
                             * hysteresis window, step, confidence) */
    VS_ACTION_QUEUED,       /* a rise the host cannot serve now */
    VS_ACTION_LAST
} vsAction;

const char *vsActionToString(vsAction action);
gboolean vsActionFromString(const char *text, vsAction *ret_action);

/* What became of it. */
typedef enum {
    VS_OUTCOME_PENDING = 0, /* not carried out yet */
    VS_OUTCOME_ADVISED,     /* mode advise, or a dry run: recorded only */
    VS_OUTCOME_APPLIED,     /* carried out and verified by reading back */
    VS_OUTCOME_FAILED,      /* carried out, failed; @error says why */
    VS_OUTCOME_SKIPPED,     /* nothing to carry out (none, hold, queued) */
    VS_OUTCOME_LAST
} vsOutcome;

const char *vsOutcomeToString(vsOutcome outcome);
gboolean vsOutcomeFromString(const char *text, vsOutcome *ret_outcome);

/* One decision on one resource of one domain: its inputs, the policy
 * clause that bound it, the action and its outcome.  Every decision is
 * stored, "do nothing" included when a target moved but was held back. */
typedef struct _vsDecision vsDecision;
struct _vsDecision {
    gint64 at_us;
    char uuid[VS_UUID_STRLEN];
    char *name;
    vsResourceKind resource;
    double current;             /* what the domain has: vCPUs, or KiB */
    double wanted;              /* the raw target, before the policy */
    double target;              /* what it should get now */
    /* inputs */
    double forecast;            /* point forecast at the lead; NaN: none */
    double upper;               /* the upper bound the target came from */
    char *model;                /* the forecaster's name; NULL: none */
    double confidence;          /* 0..1 */
    gboolean reactive;          /* confidence too low: the reactive rule decided */
    gboolean hinted;            /* a hint raised the floor */
    vsAction action;
    char *clause;               /* the policy clause that bound it ("max-vcpus",
                                 * "cooldown-down", "host-capacity", ...); NULL: none */
    char *reason;               /* in plain words, for "explain" */
    vsOutcome outcome;
    char *error;                /* why it failed; NULL otherwise */
};

/* Init zeroes it and sets the doubles to NaN; Clear frees the strings.
 * Decisions usually live in a GArray with Clear as its clear func. */
void vsDecisionInit(vsDecision *d);
void vsDecisionClear(vsDecision *d);
