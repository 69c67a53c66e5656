/*
 * vsledgertest.c: the host capacity ledger: limits, reservations (commit,
 * release, expiry), serving by tier and shortfall, queued demand and
 * migration targets, and decisions bound by what was granted
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "allocator/vsledger.h"
#include "vstestutils.h"

#define GIB 1048576.0       /* in KiB */
#define SEC G_USEC_PER_SEC
#define T0 (G_GINT64_CONSTANT(1700000000) * SEC)

#define A "00000000-0000-4000-8000-00000000000a"
#define B "00000000-0000-4000-8000-00000000000b"
#define C "00000000-0000-4000-8000-00000000000c"

static GArray *
vsTestGrants(void)
{
    GArray *grants = g_array_new(FALSE, FALSE, sizeof(vsLedgerGrant));

    g_array_set_clear_func(grants, (GDestroyNotify)vsLedgerGrantClear);
    return grants;
}

static vsLedgerRequest
vsTestRequest(const char *uuid, guint tier, double amount, double shortfall)
{
    vsLedgerRequest req = {
        .uuid = uuid, .resource = VS_RESOURCE_CPU, .tier = tier,
        .amount = amount, .shortfall = shortfall,
    };

    return req;
}

#define GRANT(grants, i) (&g_array_index((grants), vsLedgerGrant, (i)))

START_TEST(test_limits)
{
    g_autoptr(vsLedger) l = vsLedgerNew(8, 16 * GIB, 1.5, 1.0);

    ck_assert_double_eq(vsLedgerLimit(l, VS_RESOURCE_CPU), 12);
    ck_assert_double_eq(vsLedgerLimit(l, VS_RESOURCE_MEMORY), 16 * GIB);
    vsLedgerSetAllocation(l, A, VS_RESOURCE_CPU, 4);
    vsLedgerSetAllocation(l, B, VS_RESOURCE_CPU, 6);
    ck_assert_double_eq(vsLedgerHeld(l, VS_RESOURCE_CPU), 10);
    ck_assert_double_eq(vsLedgerRoom(l, VS_RESOURCE_CPU), 2);
    /* a new value replaces the old one */
    vsLedgerSetAllocation(l, A, VS_RESOURCE_CPU, 2);
    ck_assert_double_eq(vsLedgerRoom(l, VS_RESOURCE_CPU), 4);
    ck_assert_double_eq(vsLedgerAllocation(l, A, VS_RESOURCE_CPU), 2);
    ck_assert_double_eq(vsLedgerAllocation(l, C, VS_RESOURCE_CPU), 0);
    /* the hypervisor may hold more than the ledger would grant: no room, never negative */
    vsLedgerSetAllocation(l, C, VS_RESOURCE_CPU, 10);
    ck_assert_double_eq(vsLedgerRoom(l, VS_RESOURCE_CPU), 0);
    ck_assert(!vsLedgerReserve(l, A, VS_RESOURCE_CPU, 1, T0));
    vsLedgerForget(l, C);
    vsLedgerForget(l, C);
    ck_assert_double_eq(vsLedgerRoom(l, VS_RESOURCE_CPU), 4);
    vsLedgerFree(NULL);
}
END_TEST

START_TEST(test_reservations)
{
    g_autoptr(vsLedger) l = vsLedgerNew(8, 16 * GIB, 1, 1);

    vsLedgerSetAllocation(l, A, VS_RESOURCE_CPU, 2);
    vsLedgerSetAllocation(l, B, VS_RESOURCE_CPU, 2);
    ck_assert(vsLedgerReserve(l, A, VS_RESOURCE_CPU, 3, T0 + 60 * SEC));
    ck_assert_double_eq(vsLedgerHeld(l, VS_RESOURCE_CPU), 7);
    ck_assert_double_eq(vsLedgerReserved(l, A, VS_RESOURCE_CPU), 3);
    /* B cannot take what A has reserved */
    ck_assert(!vsLedgerReserve(l, B, VS_RESOURCE_CPU, 2, T0 + 60 * SEC));
    ck_assert_double_eq(vsLedgerReserved(l, B, VS_RESOURCE_CPU), 0);
    /* A's new reservation replaces its old one, whose room it may reuse */
    ck_assert(vsLedgerReserve(l, A, VS_RESOURCE_CPU, 4, T0 + 60 * SEC));
    ck_assert_double_eq(vsLedgerHeld(l, VS_RESOURCE_CPU), 8);
    ck_assert(!vsLedgerReserve(l, A, VS_RESOURCE_CPU, -1, T0));

    /* commit: the reservation joins the allocation */
    vsLedgerCommit(l, A, VS_RESOURCE_CPU);
    ck_assert_double_eq(vsLedgerAllocation(l, A, VS_RESOURCE_CPU), 6);
    ck_assert_double_eq(vsLedgerReserved(l, A, VS_RESOURCE_CPU), 0);
    ck_assert_double_eq(vsLedgerHeld(l, VS_RESOURCE_CPU), 8);

    /* release: returned */
    vsLedgerSetAllocation(l, A, VS_RESOURCE_CPU, 2);
    ck_assert(vsLedgerReserve(l, B, VS_RESOURCE_CPU, 3, T0 + 60 * SEC));
    vsLedgerRelease(l, B, VS_RESOURCE_CPU);
    ck_assert_double_eq(vsLedgerHeld(l, VS_RESOURCE_CPU), 4);
    vsLedgerRelease(l, C, VS_RESOURCE_CPU);
    vsLedgerCommit(l, C, VS_RESOURCE_CPU);

    /* expiry: at the expiry, not before; per resource */
    ck_assert(vsLedgerReserve(l, B, VS_RESOURCE_CPU, 3, T0 + 60 * SEC));
    ck_assert(vsLedgerReserve(l, B, VS_RESOURCE_MEMORY, GIB, T0 + 120 * SEC));
    ck_assert_uint_eq(vsLedgerExpire(l, T0 + 59 * SEC), 0);
    ck_assert_uint_eq(vsLedgerExpire(l, T0 + 60 * SEC), 1);
    ck_assert_double_eq(vsLedgerReserved(l, B, VS_RESOURCE_CPU), 0);
    ck_assert_double_eq(vsLedgerReserved(l, B, VS_RESOURCE_MEMORY), GIB);
    ck_assert_double_eq(vsLedgerHeld(l, VS_RESOURCE_CPU), 4);
    /* forgetting the domain returns its reservations too */
    vsLedgerForget(l, B);
    ck_assert_double_eq(vsLedgerHeld(l, VS_RESOURCE_MEMORY), 0);
    ck_assert_double_eq(vsLedgerHeld(l, VS_RESOURCE_CPU), 2);
}
END_TEST

START_TEST(test_serve_tiers)
{
    g_autoptr(vsLedger) l = vsLedgerNew(8, 16 * GIB, 1, 1);
    g_autoptr(GArray) grants = vsTestGrants();
    vsLedgerRequest reqs[] = {
        vsTestRequest(A, 5, 3, 3),
        vsTestRequest(B, 1, 2, 1),
    };

    vsLedgerSetAllocation(l, C, VS_RESOURCE_CPU, 4);
    vsLedgerServe(l, reqs, G_N_ELEMENTS(reqs), T0, T0 + 60 * SEC, NULL, 0, grants);
    ck_assert_uint_eq(grants->len, 2);
    /* tier 1 first, whole; tier 5 gets the rest */
    ck_assert_str_eq(GRANT(grants, 0)->uuid, B);
    ck_assert_double_eq(GRANT(grants, 0)->granted, 2);
    ck_assert_double_eq(GRANT(grants, 0)->queued, 0);
    ck_assert_str_eq(GRANT(grants, 1)->uuid, A);
    ck_assert_double_eq(GRANT(grants, 1)->requested, 3);
    ck_assert_double_eq(GRANT(grants, 1)->granted, 2);
    ck_assert_double_eq(GRANT(grants, 1)->queued, 1);
    ck_assert_ptr_null(GRANT(grants, 1)->suggested_host);
    ck_assert_double_eq(vsLedgerReserved(l, A, VS_RESOURCE_CPU), 2);
    ck_assert_double_eq(vsLedgerRoom(l, VS_RESOURCE_CPU), 0);

    /* the next interval: the unused reservations expired first */
    g_array_set_size(grants, 0);
    vsLedgerServe(l, reqs, 1, T0 + 60 * SEC, T0 + 120 * SEC, NULL, 0, grants);
    ck_assert_double_eq(GRANT(grants, 0)->granted, 3);
}
END_TEST

START_TEST(test_serve_shortfall)
{
    g_autoptr(vsLedger) l = vsLedgerNew(3, 16 * GIB, 1, 1);
    g_autoptr(GArray) grants = vsTestGrants();
    vsLedgerRequest reqs[] = {
        vsTestRequest(A, 2, 2, 1),
        vsTestRequest(B, 2, 2, 5),
        vsTestRequest(C, 2, 2, 5),  /* a tie: by uuid, so runs agree */
    };

    vsLedgerServe(l, reqs, G_N_ELEMENTS(reqs), T0, T0 + 60 * SEC, NULL, 0, grants);
    ck_assert_str_eq(GRANT(grants, 0)->uuid, B);
    ck_assert_double_eq(GRANT(grants, 0)->granted, 2);
    ck_assert_str_eq(GRANT(grants, 1)->uuid, C);
    ck_assert_double_eq(GRANT(grants, 1)->granted, 1);
    ck_assert_str_eq(GRANT(grants, 2)->uuid, A);
    ck_assert_double_eq(GRANT(grants, 2)->granted, 0);
    ck_assert_double_eq(GRANT(grants, 2)->queued, 2);
}
END_TEST

START_TEST(test_serve_whole_units)
{
    g_autoptr(vsLedger) l = vsLedgerNew(2.5, 1000.5, 1, 1);
    g_autoptr(GArray) grants = vsTestGrants();
    vsLedgerRequest reqs[] = {
        vsTestRequest(A, 5, 4, 4),
        vsTestRequest(B, 5, 2000, 1),
    };

    reqs[1].resource = VS_RESOURCE_MEMORY;
    vsLedgerServe(l, reqs, G_N_ELEMENTS(reqs), T0, T0 + 60 * SEC, NULL, 0, grants);
    ck_assert_double_eq(GRANT(grants, 0)->granted, 2);
    ck_assert_double_eq(GRANT(grants, 1)->granted, 1000);
    ck_assert_double_eq(GRANT(grants, 1)->queued, 1000);
}
END_TEST

START_TEST(test_migration_target)
{
    g_autoptr(vsLedger) l = vsLedgerNew(4, 16 * GIB, 1, 1);
    g_autoptr(GArray) grants = vsTestGrants();
    vsHostRoom others[] = {
        { "host-a", 2, 8 * GIB },
        { "host-b", 6, 1 * GIB },   /* most CPU, too little memory */
        { "host-c", 4, 16 * GIB },
        { "host-d", 5, 3 * GIB },
    };
    vsLedgerRequest reqs[] = {
        vsTestRequest(A, 1, 2, 2),
        vsTestRequest(B, 2, 2, 2),
        vsTestRequest(C, 3, 2, 2),
    };

    for (guint i = 0; i < G_N_ELEMENTS(reqs); i++) {
        reqs[i].size_vcpus = 4;
        reqs[i].size_memory_kib = 2 * GIB;
    }
    vsLedgerSetAllocation(l, A, VS_RESOURCE_CPU, 4);
    vsLedgerServe(l, reqs, G_N_ELEMENTS(reqs), T0, T0 + 60 * SEC, others,
                  G_N_ELEMENTS(others), grants);
    /* the most CPU room among the hosts the whole domain fits */
    ck_assert_str_eq(GRANT(grants, 0)->suggested_host, "host-d");
    ck_assert_double_eq(GRANT(grants, 0)->queued, 2);
    /* host-d's room is taken now */
    ck_assert_str_eq(GRANT(grants, 1)->suggested_host, "host-c");
    ck_assert_ptr_null(GRANT(grants, 2)->suggested_host);
    ck_assert_double_eq(GRANT(grants, 2)->queued, 2);
}
END_TEST

static void
vsTestGrowDecision(vsDecision *d, double current, double target)
{
    vsDecisionInit(d);
    g_strlcpy(d->uuid, A, sizeof(d->uuid));
    d->resource = VS_RESOURCE_CPU;
    d->action = VS_ACTION_GROW;
    d->current = current;
    d->wanted = target + 1;
    d->target = target;
    d->reason = g_strdup("grow to 6 vCPUs: the forecast says so");
}

START_TEST(test_limit_decision)
{
    g_autoptr(vsLedger) l = vsLedgerNew(8, 16 * GIB, 1, 1);
    g_autoptr(GArray) grants = vsTestGrants();
    vsHostRoom other = { "host-b", 16, 64 * GIB };
    vsLedgerRequest req;
    vsDecision d;

    vsTestGrowDecision(&d, 2, 6);
    vsLedgerRequestInit(&req, &d, 3);
    ck_assert_double_eq(req.amount, 4);
    ck_assert_double_eq(req.shortfall, 5);
    ck_assert_double_eq(req.size_vcpus, 6);
    ck_assert_uint_eq(req.tier, 3);

    /* all of it: unchanged */
    vsLedgerServe(l, &req, 1, T0, T0 + 60 * SEC, NULL, 0, grants);
    vsLedgerLimitDecision(&d, GRANT(grants, 0));
    ck_assert_int_eq(d.action, VS_ACTION_GROW);
    ck_assert_double_eq(d.target, 6);
    ck_assert_ptr_null(d.clause);
    vsLedgerCommit(l, A, VS_RESOURCE_CPU);
    vsDecisionClear(&d);

    /* part of it: the target is lowered */
    vsLedgerSetAllocation(l, B, VS_RESOURCE_CPU, 3);
    vsTestGrowDecision(&d, 2, 6);
    vsLedgerRequestInit(&req, &d, 3);
    g_array_set_size(grants, 0);
    vsLedgerSetAllocation(l, A, VS_RESOURCE_CPU, 2);
    vsLedgerServe(l, &req, 1, T0, T0 + 60 * SEC, &other, 1, grants);
    vsLedgerLimitDecision(&d, GRANT(grants, 0));
    ck_assert_int_eq(d.action, VS_ACTION_GROW);
    ck_assert_double_eq(d.target, 5);
    ck_assert_str_eq(d.clause, "host-capacity");
    ck_assert_msg(g_str_has_prefix(d.reason, "grow to 5 vCPUs, bound by host-capacity: the host "
                                   "granted 3 vCPUs of the rise, 1 vCPU queued, migration "
                                   "suggested to host-b. Asked: grow to 6 vCPUs"), "%s", d.reason);
    vsDecisionClear(&d);

    /* none: queued */
    vsTestGrowDecision(&d, 2, 6);
    vsLedgerRequestInit(&req, &d, 3);
    req.uuid = C;
    g_array_set_size(grants, 0);
    vsLedgerServe(l, &req, 1, T0, T0 + 60 * SEC, NULL, 0, grants);
    vsLedgerLimitDecision(&d, GRANT(grants, 0));
    ck_assert_int_eq(d.action, VS_ACTION_QUEUED);
    ck_assert_double_eq(d.target, 2);
    ck_assert_msg(g_str_has_prefix(d.reason, "queue at 2 vCPUs, bound by host-capacity"),
                  "%s", d.reason);
    vsDecisionClear(&d);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ledger");
    TCase *tc = tcase_create("ledger");

    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_reservations);
    tcase_add_test(tc, test_serve_tiers);
    tcase_add_test(tc, test_serve_shortfall);
    tcase_add_test(tc, test_serve_whole_units);
    tcase_add_test(tc, test_migration_target);
    tcase_add_test(tc, test_limit_decision);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
