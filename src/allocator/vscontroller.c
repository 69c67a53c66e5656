/*
 * vscontroller.c: one control interval of the allocator, for every domain
 */
#include <config.h>

#include <math.h>

#include "vscontroller.h"
#include "conf/vspolicy.h"
#include "util/vserror.h"

#define VS_RESOURCES 2

/* A domain's policy as last read from its XML. */
typedef struct {
    vsPolicy policy;
    gboolean have;              /* a valid one was read (or none is set: off) */
    gboolean stale;             /* read it again at the next run */
    gint64 read_us;             /* when it was last read */
} vsControllerPolicy;

/* What the controller remembers of a domain between runs. */
typedef struct {
    vsControllerPolicy policy;
    vsDecideState state[VS_RESOURCES];
    guint failures[VS_RESOURCES];       /* resizes failed in a row */
    gint64 retry_us[VS_RESOURCES];      /* not before, after a failure */
    /* the last decision recorded, to record a hold only when it changes */
    vsAction last_action[VS_RESOURCES];
    double last_target[VS_RESOURCES];
    char *last_clause[VS_RESOURCES];
    char *problem;              /* the last one reported */
    gboolean seen;              /* running at the current run */
} vsControllerTrack;

struct _vsController {
    vsControllerConfig cfg;
    vsLedger *ledger;           /* made at the first run, once the host's size is known */
    GHashTable *tracks;         /* uuid -> vsControllerTrack */
    GHashTable *hints;          /* uuid -> GArray of vsHint */
    GArray *others;             /* vsHostRoom, host names owned */
};

/* One managed domain's decisions in the current run. */
typedef struct {
    vsControllerTrack *track;
    vsDecision d[VS_RESOURCES];
} vsControllerPending;

void
vsControllerConfigDefaults(vsControllerConfig *cfg)
{
    *cfg = (vsControllerConfig){
        .cpu_overcommit = 4,
        .memory_overcommit = 1,
        .interval_s = 15,
        .max_backoff_s = 1800,
    };
    vsDecideConfigDefaults(&cfg->decide);
    vsActuateOptionsDefaults(&cfg->actuate);
}

void
vsControllerDomainInit(vsControllerDomain *d)
{
    *d = (vsControllerDomain){
        .vcpus = NAN, .memory_kib = NAN, .memory_used_kib = NAN, .cpu_use = NAN,
    };
    vsDecideForecastInit(&d->cpu);
    vsDecideForecastInit(&d->memory);
}

void
vsControllerDomainClear(vsControllerDomain *d)
{
    g_free(d->name);
    g_free((char *)d->cpu.model);
    g_free((char *)d->memory.model);
}

/* One resource's view in the decision's unit (@scale: MiB to KiB). */
static void
vsControllerForecastFrom(vsPredictor *p, const char *uuid, vsResourceKind r, double scale,
                         vsDecideForecast *ret)
{
    vsPredictorView v;

    if (!vsPredictorLookup(p, uuid, r, &v))
        return;
    ret->point = v.point * scale;
    ret->lower = v.lower90 * scale;
    ret->upper = v.upper90 * scale;
    ret->allocation = v.allocation * scale;
    ret->mae = v.mae * scale;
    ret->mase = v.mase;
    ret->coverage = v.coverage90;
    ret->history = (guint)MIN(v.slots, G_MAXUINT);
    ret->ahead_s = v.ahead_s;
    g_free((char *)ret->model);
    ret->model = g_strdup(v.model);
}

void
vsControllerDomainForecasts(vsControllerDomain *d, vsPredictor *p)
{
    vsControllerForecastFrom(p, d->uuid, VS_RESOURCE_CPU, 1, &d->cpu);
    vsControllerForecastFrom(p, d->uuid, VS_RESOURCE_MEMORY, 1024, &d->memory);
}

static void
vsControllerTrackFree(vsControllerTrack *t)
{
    for (guint r = 0; r < VS_RESOURCES; r++) {
        vsDecideStateClear(&t->state[r]);
        g_free(t->last_clause[r]);
    }
    g_free(t->problem);
    g_free(t);
}

static vsControllerTrack *
vsControllerTrackOf(vsController *c, const char *uuid)
{
    vsControllerTrack *t = g_hash_table_lookup(c->tracks, uuid);

    if (!t) {
        t = g_new0(vsControllerTrack, 1);
        t->policy.stale = TRUE;
        for (guint r = 0; r < VS_RESOURCES; r++) {
            vsDecideStateInit(&t->state[r]);
            t->last_target[r] = NAN;
        }
        g_hash_table_insert(c->tracks, g_strdup(uuid), t);
    }
    return t;
}

/* A copy in c->others owns its host name. */
static void
vsControllerHostRoomClear(vsHostRoom *h)
{
    g_free((char *)h->host);
}

vsController *
vsControllerNew(const vsControllerConfig *cfg)
{
    vsController *c = g_new0(vsController, 1);

    c->cfg = *cfg;
    c->tracks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)vsControllerTrackFree);
    c->hints = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)g_array_unref);
    c->others = g_array_new(FALSE, TRUE, sizeof(vsHostRoom));
    g_array_set_clear_func(c->others, (GDestroyNotify)vsControllerHostRoomClear);
    return c;
}

void
vsControllerFree(vsController *c)
{
    if (!c)
        return;
    vsLedgerFree(c->ledger);
    g_hash_table_unref(c->tracks);
    g_hash_table_unref(c->hints);
    g_array_unref(c->others);
    g_free(c);
}

void
vsControllerForgetPolicy(vsController *c, const char *uuid)
{
    vsControllerTrack *t = g_hash_table_lookup(c->tracks, uuid);

    if (t)
        t->policy.stale = TRUE;
}

void
vsControllerSetHints(vsController *c, GArray *hints)
{
    g_hash_table_remove_all(c->hints);
    for (guint i = 0; hints && i < hints->len; i++) {
        const vsHint *h = &g_array_index(hints, vsHint, i);
        GArray *mine = g_hash_table_lookup(c->hints, h->uuid);
        vsHint copy = *h;

        if (!mine) {
            mine = g_array_new(FALSE, TRUE, sizeof(vsHint));
            g_array_set_clear_func(mine, (GDestroyNotify)vsHintClear);
            g_hash_table_insert(c->hints, g_strdup(h->uuid), mine);
        }
        copy.name = g_strdup(h->name);
        copy.reason = g_strdup(h->reason);
        g_array_append_val(mine, copy);
    }
}

void
vsControllerSetOtherHosts(vsController *c, GArray *rooms)
{
    g_array_set_size(c->others, 0);
    for (guint i = 0; rooms && i < rooms->len; i++) {
        vsHostRoom copy = g_array_index(rooms, vsHostRoom, i);

        copy.host = g_strdup(copy.host);
        g_array_append_val(c->others, copy);
    }
}

gboolean
vsControllerRoom(vsController *c, double *ret_vcpus, double *ret_memory_kib)
{
    if (!c->ledger)
        return FALSE;
    *ret_vcpus = vsLedgerRoom(c->ledger, VS_RESOURCE_CPU);
    *ret_memory_kib = vsLedgerRoom(c->ledger, VS_RESOURCE_MEMORY);
    return TRUE;
}

guint
vsControllerRoomMaxAge(guint interval_s)
{
    return MAX(60, (guint)MIN(4 * (guint64)interval_s, G_MAXUINT));
}

void
vsControllerSeedState(vsController *c, const vsDecision *last)
{
    vsControllerTrack *t = vsControllerTrackOf(c, last->uuid);

    if (last->outcome == VS_OUTCOME_APPLIED)
        vsDecideStateCommit(&t->state[last->resource], last);
}

/* Report @message for @t's domain unless it was the last one reported;
 * NULL means the domain is fine again. */
static void
vsControllerProblem(vsControllerTrack *t, GPtrArray *problems, char *message)
{
    if (g_strcmp0(t->problem, message) != 0 && message && problems)
        g_ptr_array_add(problems, g_strdup(message));
    g_free(t->problem);
    t->problem = message;
}

/* @dom's policy, read again when stale or old (a change made with virsh
 * is not notified); an invalid one is refused and the last valid one
 * kept.  NULL when there is none to go by. */
static const vsPolicy *
vsControllerPolicyOf(vsControllerTrack *t, vsHypervisor *hv, const vsControllerDomain *dom,
                     gint64 now_us, GPtrArray *problems)
{
    vsControllerPolicy *p = &t->policy;
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    vsPolicy fresh;
    gboolean present;

    if (!p->stale && now_us - p->read_us < VS_POLICY_REREAD_S * G_USEC_PER_SEC)
        return p->have ? &p->policy : NULL;
    p->read_us = now_us;
    xml = vsHypervisorGetMetadata(hv, dom->uuid, VS_AFFECT_LIVE, &error);
    if (!xml && !g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND)) {
        vsControllerProblem(t, problems, g_strdup_printf("domain '%s': cannot read its policy: %s",
                                                         dom->name, error->message));
        return p->have ? &p->policy : NULL;
    }
    if (!vsPolicyParse(xml, &fresh, &present, &error)) {
        vsControllerProblem(t, problems,
                            g_strdup_printf("domain '%s': invalid policy refused%s: %s", dom->name,
                                            p->have ? ", the last valid one stays" : "",
                                            error->message));
        p->stale = FALSE;
        return p->have ? &p->policy : NULL;
    }
    p->policy = fresh;
    p->have = TRUE;
    p->stale = FALSE;
    return &p->policy;
}

static gboolean
vsControllerEnsureLedger(vsController *c, vsHypervisor *hv, GError **error)
{
    double cpus = c->cfg.host_cpus, memory = c->cfg.host_memory_kib;

    if (c->ledger)
        return TRUE;
    if (!(cpus > 0 && memory > 0)) {
        if (!vsHypervisorGetHostSize(hv, &cpus, &memory, error))
            return FALSE;
        if (c->cfg.host_cpus > 0)
            cpus = c->cfg.host_cpus;
        if (c->cfg.host_memory_kib > 0)
            memory = c->cfg.host_memory_kib;
    }
    c->ledger = vsLedgerNew(cpus, memory, c->cfg.cpu_overcommit, c->cfg.memory_overcommit);
    return TRUE;
}

static gboolean
vsControllerTrackGone(gpointer key, gpointer value, gpointer opaque)
{
    vsController *c = opaque;
    vsControllerTrack *t = value;

    if (t->seen)
        return FALSE;
    vsLedgerForget(c->ledger, key);
    return TRUE;
}

/* Every running domain holds what it has; domains that left are dropped. */
static void
vsControllerAccount(vsController *c, GArray *domains, gint64 now_us)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, c->tracks);
    while (g_hash_table_iter_next(&it, NULL, &value))
        ((vsControllerTrack *)value)->seen = FALSE;
    for (guint i = 0; i < domains->len; i++) {
        const vsControllerDomain *d = &g_array_index(domains, vsControllerDomain, i);

        vsControllerTrackOf(c, d->uuid)->seen = TRUE;
        if (!isnan(d->vcpus))
            vsLedgerSetAllocation(c->ledger, d->uuid, VS_RESOURCE_CPU, d->vcpus);
        if (!isnan(d->memory_kib))
            vsLedgerSetAllocation(c->ledger, d->uuid, VS_RESOURCE_MEMORY, d->memory_kib);
    }
    g_hash_table_foreach_remove(c->tracks, vsControllerTrackGone, c);
    vsLedgerExpire(c->ledger, now_us);
}

/* After a failed resize, the next waits: one interval, doubling per
 * failure, up to max_backoff_s. */
static gint64
vsControllerBackoffUs(const vsController *c, guint failures)
{
    double s = c->cfg.interval_s * pow(2, MIN(failures, 20) - 1);

    return (gint64)(MIN(s, c->cfg.max_backoff_s) * G_USEC_PER_SEC);
}

static void
vsControllerHold(vsDecision *d, const char *clause, const char *why)
{
    char *reason = g_strdup_printf("%s; held: %s", d->reason ? d->reason : "", why);

    d->action = VS_ACTION_HOLD;
    d->target = d->current;
    g_free(d->clause);
    d->clause = g_strdup(clause);
    g_free(d->reason);
    d->reason = reason;
}

static void
vsControllerBackoff(const vsControllerTrack *t, vsResourceKind r, vsDecision *d)
{
    g_autofree char *why = NULL;

    if (d->action != VS_ACTION_GROW && d->action != VS_ACTION_SHRINK)
        return;
    if (d->at_us >= t->retry_us[r])
        return;
    why = g_strdup_printf("the last %u resize(s) failed; the next try waits %" G_GINT64_FORMAT " s",
                          t->failures[r], (t->retry_us[r] - d->at_us) / G_USEC_PER_SEC);
    vsControllerHold(d, "retry-backoff", why);
}

/* Decide both resources of one managed domain. */
static gboolean
vsControllerDecide(vsController *c, vsHypervisor *hv, const vsControllerDomain *dom,
                   const vsPolicy *policy, vsControllerTrack *t, gint64 now_us,
                   vsControllerPending *ret, GPtrArray *problems)
{
    g_autoptr(GError) error = NULL;
    GArray *hints = g_hash_table_lookup(c->hints, dom->uuid);
    vsDomainResources res;
    vsDecideInput in;

    if (!vsHypervisorGetResources(hv, dom->uuid, &res, &error)) {
        /* stopped or gone since its last sample: nothing to decide */
        if (!g_error_matches(error, VS_ERROR, VS_ERROR_INVALID) &&
            !g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND))
            vsControllerProblem(t, problems, g_strdup_printf("domain '%s': %s", dom->name,
                                                             error->message));
        return FALSE;
    }
    vsDecideInputInit(&in);
    in.policy = policy;
    in.config = &c->cfg.decide;
    in.uuid = dom->uuid;
    in.name = dom->name;
    in.vcpus = vsDomainResourcesVcpus(&res);
    in.max_vcpus = res.max_vcpus;
    in.memory_kib = res.memory_kib;
    in.max_memory_kib = res.max_memory_kib;
    in.used_memory_kib = res.used_kib ? (double)res.used_kib : dom->memory_used_kib;
    in.cpu_use = dom->cpu_use;
    in.cpu = dom->cpu;
    in.memory = dom->memory;
    in.hints = hints ? (const vsHint *)hints->data : NULL;
    in.n_hints = hints ? hints->len : 0;
    in.now_us = now_us;
    /* what the guest can use, not what is plugged in, is what it holds */
    vsLedgerSetAllocation(c->ledger, dom->uuid, VS_RESOURCE_CPU, in.vcpus);
    vsLedgerSetAllocation(c->ledger, dom->uuid, VS_RESOURCE_MEMORY, (double)res.memory_kib);
    ret->track = t;
    for (guint r = 0; r < VS_RESOURCES; r++) {
        vsDecide(&in, r, &t->state[r], &ret->d[r]);
        vsControllerBackoff(t, r, &ret->d[r]);
    }
    vsControllerProblem(t, problems, NULL);
    return TRUE;
}

/* The rises go through the ledger: by tier, then shortfall; what does not
 * fit is cut back or queued. */
static void
vsControllerServe(vsController *c, GArray *pending, gint64 now_us)
{
    g_autoptr(GArray) reqs = g_array_new(FALSE, TRUE, sizeof(vsLedgerRequest));
    g_autoptr(GArray) owners = g_array_new(FALSE, FALSE, sizeof(vsDecision *));
    g_autoptr(GArray) grants = g_array_new(FALSE, TRUE, sizeof(vsLedgerGrant));
    gint64 expires = now_us + 2 * (gint64)c->cfg.interval_s * G_USEC_PER_SEC;

    g_array_set_clear_func(grants, (GDestroyNotify)vsLedgerGrantClear);
    for (guint i = 0; i < pending->len; i++) {
        vsControllerPending *p = &g_array_index(pending, vsControllerPending, i);

        for (guint r = 0; r < VS_RESOURCES; r++) {
            vsDecision *d = &p->d[r];
            vsLedgerRequest req;

            if (d->action != VS_ACTION_GROW)
                continue;
            vsLedgerRequestInit(&req, d, p->track->policy.policy.tier);
            g_array_append_val(reqs, req);
            g_array_append_val(owners, d);
        }
    }
    vsLedgerServe(c->ledger, (const vsLedgerRequest *)reqs->data, reqs->len, now_us, expires,
                  (const vsHostRoom *)c->others->data, c->others->len, grants);
    for (guint g = 0; g < grants->len; g++) {
        const vsLedgerGrant *grant = &g_array_index(grants, vsLedgerGrant, g);

        for (guint o = 0; o < owners->len; o++) {
            vsDecision *d = g_array_index(owners, vsDecision *, o);

            if (d->resource == grant->resource && g_str_equal(d->uuid, grant->uuid))
                vsLedgerLimitDecision(d, grant);
        }
    }
}

static gboolean
vsControllerActuate(vsController *c, vsHypervisor *hv, const vsDecision *d, GError **error)
{
    if (d->resource == VS_RESOURCE_CPU)
        return vsActuateVcpus(hv, d->uuid, (guint)d->target, &c->cfg.actuate, NULL, error);
    return vsActuateMemory(hv, d->uuid, (guint64)d->target, &c->cfg.actuate, NULL, error);
}

static void
vsControllerApplied(vsController *c, vsControllerTrack *t, vsDecision *d)
{
    d->outcome = VS_OUTCOME_APPLIED;
    if (d->action == VS_ACTION_GROW)
        vsLedgerCommit(c->ledger, d->uuid, d->resource);
    vsLedgerSetAllocation(c->ledger, d->uuid, d->resource, d->target);
    vsDecideStateCommit(&t->state[d->resource], d);
    t->failures[d->resource] = 0;
    t->retry_us[d->resource] = 0;
}

static void
vsControllerFailed(vsController *c, vsControllerTrack *t, vsDecision *d, const GError *error)
{
    d->outcome = VS_OUTCOME_FAILED;
    d->error = g_strdup(error->message);
    vsLedgerRelease(c->ledger, d->uuid, d->resource);
    t->failures[d->resource]++;
    t->retry_us[d->resource] = d->at_us + vsControllerBackoffUs(c, t->failures[d->resource]);
}

/* Carry @d out when the mode says so, under the domain's lock. */
static void
vsControllerCarryOut(vsController *c, vsHypervisor *hv, vsControllerTrack *t, vsDecision *d,
                     gboolean dry_run, const vsControllerLock *lock)
{
    g_autoptr(GError) error = NULL;
    gboolean ok;

    if (d->action != VS_ACTION_GROW && d->action != VS_ACTION_SHRINK) {
        d->outcome = VS_OUTCOME_SKIPPED;
        return;
    }
    if (dry_run || t->policy.policy.mode != VS_POLICY_MODE_AUTO) {
        d->outcome = VS_OUTCOME_ADVISED;
        vsLedgerRelease(c->ledger, d->uuid, d->resource);
        return;
    }
    if (lock && !lock->lock(d->uuid, lock->opaque, &error)) {
        vsLedgerRelease(c->ledger, d->uuid, d->resource);
        vsControllerHold(d, "lock", error ? error->message
                                          : "another controller is resizing this domain");
        d->outcome = VS_OUTCOME_SKIPPED;
        return;
    }
    ok = vsControllerActuate(c, hv, d, &error);
    if (lock)
        lock->unlock(d->uuid, lock->opaque);
    if (ok)
        vsControllerApplied(c, t, d);
    else
        vsControllerFailed(c, t, d, error);
}

/* Whether @d is worth a row: a change, or a hold or a queued rise unlike
 * the last one (a full host would otherwise add a row every interval). */
static gboolean
vsControllerRecordable(vsControllerTrack *t, const vsDecision *d)
{
    vsResourceKind r = d->resource;
    gboolean same = d->action == t->last_action[r] && d->target == t->last_target[r] &&
                    g_strcmp0(d->clause, t->last_clause[r]) == 0;

    if (d->action == VS_ACTION_NONE)
        return FALSE;
    if ((d->action == VS_ACTION_HOLD || d->action == VS_ACTION_QUEUED) && same)
        return FALSE;
    t->last_action[r] = d->action;
    t->last_target[r] = d->target;
    g_free(t->last_clause[r]);
    t->last_clause[r] = g_strdup(d->clause);
    return TRUE;
}

static void
vsControllerPendingClear(vsControllerPending *p)
{
    for (guint r = 0; r < VS_RESOURCES; r++)
        vsDecisionClear(&p->d[r]);
}

GArray *
vsControllerRun(vsController *c, vsHypervisor *hv, GArray *domains, gint64 now_us,
                gboolean dry_run, const vsControllerLock *lock, GPtrArray *problems)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(vsDecision));
    g_autoptr(GArray) pending = g_array_new(FALSE, TRUE, sizeof(vsControllerPending));
    g_autoptr(GError) error = NULL;

    g_array_set_clear_func(out, (GDestroyNotify)vsDecisionClear);
    g_array_set_clear_func(pending, (GDestroyNotify)vsControllerPendingClear);
    if (!vsControllerEnsureLedger(c, hv, &error)) {
        if (problems)
            g_ptr_array_add(problems, g_strdup_printf("host capacity unknown: %s",
                                                      error->message));
        return out;
    }
    vsControllerAccount(c, domains, now_us);
    for (guint i = 0; i < domains->len; i++) {
        const vsControllerDomain *dom = &g_array_index(domains, vsControllerDomain, i);
        vsControllerTrack *t = vsControllerTrackOf(c, dom->uuid);
        const vsPolicy *policy = vsControllerPolicyOf(t, hv, dom, now_us, problems);
        vsControllerPending p = { 0 };

        if (!policy || policy->mode == VS_POLICY_MODE_OFF)
            continue;
        if (vsControllerDecide(c, hv, dom, policy, t, now_us, &p, problems))
            g_array_append_val(pending, p);
    }
    vsControllerServe(c, pending, now_us);
    for (guint i = 0; i < pending->len; i++) {
        vsControllerPending *p = &g_array_index(pending, vsControllerPending, i);

        for (guint r = 0; r < VS_RESOURCES; r++) {
            vsControllerCarryOut(c, hv, p->track, &p->d[r], dry_run, lock);
            if (dry_run || vsControllerRecordable(p->track, &p->d[r])) {
                g_array_append_val(out, p->d[r]);
                vsDecisionInit(&p->d[r]);
            }
        }
    }
    return out;
}
