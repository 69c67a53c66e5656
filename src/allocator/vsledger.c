/*
 * vsledger.c: one host's capacity ledger, with soft reservations
 *
 * Totals are kept as running sums so that serving a request is O(1) and a
 * control interval over 10,000 domains stays linear.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "allocator/vsledger.h"

typedef struct {
    double allocated[VS_LEDGER_RESOURCES];
    double reserved[VS_LEDGER_RESOURCES];
    gint64 expires_us[VS_LEDGER_RESOURCES];
} vsLedgerEntry;

struct _vsLedger {
    double limit[VS_LEDGER_RESOURCES];
    double allocated[VS_LEDGER_RESOURCES];
    double reserved[VS_LEDGER_RESOURCES];
    GHashTable *entries;        /* uuid -> vsLedgerEntry */
    /* no reservation expires before this: a serve need not walk every
     * domain's entry to find none expired */
    gint64 next_expiry_us;
};

vsLedger *
vsLedgerNew(double cpus, double memory_kib, double cpu_overcommit, double memory_overcommit)
{
    vsLedger *l = g_new0(vsLedger, 1);

    l->limit[VS_RESOURCE_CPU] = cpus * cpu_overcommit;
    l->limit[VS_RESOURCE_MEMORY] = memory_kib * memory_overcommit;
    l->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    l->next_expiry_us = G_MAXINT64;
    return l;
}

void
vsLedgerFree(vsLedger *l)
{
    if (!l)
        return;
    g_hash_table_unref(l->entries);
    g_free(l);
}

double
vsLedgerLimit(const vsLedger *l, vsResourceKind resource)
{
    return l->limit[resource];
}

double
vsLedgerHeld(const vsLedger *l, vsResourceKind resource)
{
    return l->allocated[resource] + l->reserved[resource];
}

double
vsLedgerRoom(const vsLedger *l, vsResourceKind resource)
{
    return MAX(l->limit[resource] - vsLedgerHeld(l, resource), 0);
}

static vsLedgerEntry *
vsLedgerLookup(const vsLedger *l, const char *uuid)
{
    return g_hash_table_lookup(l->entries, uuid);
}

static vsLedgerEntry *
vsLedgerEnsure(vsLedger *l, const char *uuid)
{
    vsLedgerEntry *e = vsLedgerLookup(l, uuid);

    if (!e) {
        e = g_new0(vsLedgerEntry, 1);
        g_hash_table_insert(l->entries, g_strdup(uuid), e);
    }
    return e;
}

void
vsLedgerSetAllocation(vsLedger *l, const char *uuid, vsResourceKind resource, double amount)
{
    vsLedgerEntry *e = vsLedgerEnsure(l, uuid);

    l->allocated[resource] += amount - e->allocated[resource];
    e->allocated[resource] = amount;
}

double
vsLedgerAllocation(const vsLedger *l, const char *uuid, vsResourceKind resource)
{
    vsLedgerEntry *e = vsLedgerLookup(l, uuid);

    return e ? e->allocated[resource] : 0;
}

double
vsLedgerReserved(const vsLedger *l, const char *uuid, vsResourceKind resource)
{
    vsLedgerEntry *e = vsLedgerLookup(l, uuid);

    return e ? e->reserved[resource] : 0;
}

static void
vsLedgerUnreserve(vsLedger *l, vsLedgerEntry *e, vsResourceKind resource)
{
    l->reserved[resource] -= e->reserved[resource];
    e->reserved[resource] = 0;
    e->expires_us[resource] = 0;
}

void
vsLedgerForget(vsLedger *l, const char *uuid)
{
    vsLedgerEntry *e = vsLedgerLookup(l, uuid);

    if (!e)
        return;
    for (guint r = 0; r < VS_LEDGER_RESOURCES; r++) {
        vsLedgerUnreserve(l, e, r);
        l->allocated[r] -= e->allocated[r];
    }
    g_hash_table_remove(l->entries, uuid);
}

gboolean
vsLedgerReserve(vsLedger *l, const char *uuid, vsResourceKind resource, double amount,
                gint64 expires_us)
{
    vsLedgerEntry *e = vsLedgerEnsure(l, uuid);

    /* the domain's earlier reservation is replaced, so it is room too */
    if (amount < 0 || amount > vsLedgerRoom(l, resource) + e->reserved[resource])
        return FALSE;
    vsLedgerUnreserve(l, e, resource);
    e->reserved[resource] = amount;
    e->expires_us[resource] = expires_us;
    l->reserved[resource] += amount;
    if (amount > 0)
        l->next_expiry_us = MIN(l->next_expiry_us, expires_us);
    return TRUE;
}

void
vsLedgerCommit(vsLedger *l, const char *uuid, vsResourceKind resource)
{
    vsLedgerEntry *e = vsLedgerLookup(l, uuid);
    double amount;

    if (!e)
        return;
    amount = e->reserved[resource];
    vsLedgerUnreserve(l, e, resource);
    e->allocated[resource] += amount;
    l->allocated[resource] += amount;
}

void
vsLedgerRelease(vsLedger *l, const char *uuid, vsResourceKind resource)
{
    vsLedgerEntry *e = vsLedgerLookup(l, uuid);

    if (e)
        vsLedgerUnreserve(l, e, resource);
}

guint
vsLedgerExpire(vsLedger *l, gint64 now_us)
{
    GHashTableIter iter;
    gpointer value;
    guint expired = 0;

    if (now_us < l->next_expiry_us)
        return 0;
    l->next_expiry_us = G_MAXINT64;
    g_hash_table_iter_init(&iter, l->entries);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        vsLedgerEntry *e = value;

        for (guint r = 0; r < VS_LEDGER_RESOURCES; r++) {
            if (e->reserved[r] > 0 && e->expires_us[r] <= now_us) {
                vsLedgerUnreserve(l, e, r);
                expired++;
            } else if (e->reserved[r] > 0) {
                l->next_expiry_us = MIN(l->next_expiry_us, e->expires_us[r]);
            }
        }
    }
    return expired;
}

/* --- serving ---------------------------------------------------------------- */

void
vsLedgerRequestInit(vsLedgerRequest *req, const vsDecision *d, guint tier)
{
    memset(req, 0, sizeof(*req));
    req->uuid = d->uuid;
    req->resource = d->resource;
    req->tier = tier;
    req->amount = MAX(d->target - d->current, 0);
    req->shortfall = MAX(d->wanted - d->current, 0);
    if (d->resource == VS_RESOURCE_CPU)
        req->size_vcpus = d->target;
    else
        req->size_memory_kib = d->target;
}

void
vsLedgerGrantClear(vsLedgerGrant *g)
{
    g_clear_pointer(&g->suggested_host, g_free);
}

static int
vsLedgerRequestCompare(gconstpointer a, gconstpointer b)
{
    const vsLedgerRequest *x = *(const vsLedgerRequest *const *)a;
    const vsLedgerRequest *y = *(const vsLedgerRequest *const *)b;

    if (x->tier != y->tier)
        return x->tier < y->tier ? -1 : 1;
    if (x->shortfall != y->shortfall)
        return x->shortfall > y->shortfall ? -1 : 1;
    return strcmp(x->uuid, y->uuid);    /* a stable order between runs */
}

static double
vsHostRoomOf(const vsHostRoom *h, vsResourceKind resource)
{
    return resource == VS_RESOURCE_CPU ? h->vcpus : h->memory_kib;
}

/* The host with room for the whole domain and the most room in @req's
 * resource; its room is taken.  NULL when none fits. */
static const char *
vsLedgerSuggest(const vsLedgerRequest *req, vsHostRoom *rooms, gsize n)
{
    vsHostRoom *best = NULL;

    for (gsize i = 0; i < n; i++) {
        vsHostRoom *h = &rooms[i];

        if (h->vcpus < req->size_vcpus || h->memory_kib < req->size_memory_kib ||
            vsHostRoomOf(h, req->resource) <= 0)
            continue;
        if (!best || vsHostRoomOf(h, req->resource) > vsHostRoomOf(best, req->resource))
            best = h;
    }
    if (!best)
        return NULL;
    best->vcpus -= req->size_vcpus;
    best->memory_kib -= req->size_memory_kib;
    return best->host;
}

static void
vsLedgerServeOne(vsLedger *l, const vsLedgerRequest *req, gint64 expires_us,
                 vsHostRoom *rooms, gsize n_rooms, vsLedgerGrant *g)
{
    double room = vsLedgerRoom(l, req->resource) + vsLedgerReserved(l, req->uuid, req->resource);

    memset(g, 0, sizeof(*g));
    g_strlcpy(g->uuid, req->uuid, sizeof(g->uuid));
    g->resource = req->resource;
    g->requested = req->amount;
    /* only whole vCPUs and whole KiB can be handed out */
    g->granted = floor(MIN(req->amount, room));
    if (g->granted > 0 && !vsLedgerReserve(l, req->uuid, req->resource, g->granted, expires_us))
        g->granted = 0;
    g->queued = req->amount - g->granted;
    if (g->queued > 0)
        g->suggested_host = g_strdup(vsLedgerSuggest(req, rooms, n_rooms));
}

void
vsLedgerServe(vsLedger *l, const vsLedgerRequest *reqs, gsize n, gint64 now_us,
              gint64 expires_us, const vsHostRoom *others, gsize n_others, GArray *grants)
{
    g_autofree const vsLedgerRequest **order = g_new(const vsLedgerRequest *, n + 1);
    g_autofree vsHostRoom *rooms = g_memdup2(others, n_others * sizeof(*others));

    vsLedgerExpire(l, now_us);
    for (gsize i = 0; i < n; i++)
        order[i] = &reqs[i];
    qsort(order, n, sizeof(*order), vsLedgerRequestCompare);
    for (gsize i = 0; i < n; i++) {
        vsLedgerGrant g;

        vsLedgerServeOne(l, order[i], expires_us, rooms, n_others, &g);
        g_array_append_val(grants, g);
    }
}

void
vsLedgerLimitDecision(vsDecision *d, const vsLedgerGrant *g)
{
    g_autofree char *granted = NULL;
    g_autofree char *queued = NULL;
    g_autofree char *target = NULL;
    g_autofree char *reason = NULL;

    if (g->queued <= 0)
        return;
    granted = vsDecisionFormatAmount(g->resource, g->granted);
    queued = vsDecisionFormatAmount(g->resource, g->queued);
    d->target = d->current + g->granted;
    if (g->granted <= 0)
        d->action = VS_ACTION_QUEUED;
    target = vsDecisionFormatAmount(g->resource, d->target);
    /* concatenated, not printed: a busy host queues thousands a cycle */
    reason = g_strconcat(vsDecisionVerb(d->action), " ", target,
                         ", bound by host-capacity: the host granted ", granted,
                         " of the rise, ", queued, " queued",
                         g->suggested_host ? ", migration suggested to " : "",
                         g->suggested_host ? g->suggested_host : "",
                         ". Asked: ", d->reason ? d->reason : "", NULL);
    g_free(d->reason);
    d->reason = g_steal_pointer(&reason);
    g_free(d->clause);
    d->clause = g_strdup("host-capacity");
}
