/*
 * vsallocsimtest.c: the allocator replayed on a simulated clock
 *
 * A workload trace drives the real forecasters (vsPredictor) and the real
 * control loop (vsController) against libvirt's test driver, which
 * carries out live vCPU and memory resizes: every decision goes through
 * the real adapter and is read back.  One control interval per 5-minute
 * slot; the clock is simulated, libvirt is not.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vstestutils.h"
#include "allocator/vscontroller.h"
#include "conf/vspolicy.h"
#include "forecast/vspredictor.h"
#include "hypervisor/vshypervisor.h"
#include "util/vserror.h"
#include "vsdrivers.h"

#define STEP_S 300
#define STEP_US (STEP_S * G_USEC_PER_SEC)
#define DAY (86400 / STEP_S)
/* A burst of CPU every two hours, half an hour long. */
#define PERIOD 24
#define BURST 6
#define QUIET_CPU 0.3
#define BURST_CPU 2.5
#define MIB 1024.0
#define APP "app"
#define APP_UUID "0b6a3c7e-5f1d-4b8e-9a61-2c3d4e5f6a01"
#define BATCH_UUID "0b6a3c7e-5f1d-4b8e-9a61-2c3d4e5f6a02"

static const char *const vsSimPolicy =
    "<domain xmlns='" VS_METADATA_NS "'>"
    "<policy mode='auto' tier='%u' lead='300' confidence='0.5'>"
    "<vcpus min='1' max='6' target-utilization='0.7' max-step='4'/>"
    "<memory min='524288' max='4194304' headroom='0.2' floor='131072' max-step='2097152'/>"
    "<cooldown up='0' down='900'/>"
    "</policy></domain>";

static vsHypervisor *
vsSimOpen(void)
{
    g_autofree char *uri = g_strdup_printf("test://%s/tests/vsallocdata/node.xml",
                                           vsTestSrcDir());
    g_autoptr(GError) error = NULL;
    vsHypervisor *hv = vsHypervisorOpen(uri, NULL, &error);

    ck_assert_msg(hv, "open %s: %s", uri, error ? error->message : "?");
    return hv;
}

static void
vsSimSetPolicy(vsHypervisor *hv, const char *domain, guint tier)
{
    g_autofree char *xml = g_strdup_printf(vsSimPolicy, tier);
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vsHypervisorSetMetadata(hv, domain, xml, VS_AFFECT_LIVE, &error), "%s",
                  error ? error->message : "?");
}

static gboolean
vsSimBursting(guint slot)
{
    return slot % PERIOD >= PERIOD - BURST;
}

/* Up to 5 % either way: a fixed pseudo-random factor per slot, the same
 * whoever asks. */
static double
vsSimNoise(guint slot, guint salt)
{
    guint32 h = (slot * 2654435761u) ^ (salt * 40503u);

    return 1 + 0.05 * (2.0 * (h % 1000) / 999 - 1);
}

/* Demand in cores; the guest cannot use more than it has. */
static double
vsSimDemand(guint slot)
{
    return (vsSimBursting(slot) ? BURST_CPU : QUIET_CPU) * vsSimNoise(slot, 1);
}

static double
vsSimMemoryMiB(guint slot)
{
    return (vsSimBursting(slot) ? 1800 : 600) * vsSimNoise(slot, 2);
}

static void
vsSimSample(vsPredictor *p, const char *uuid, const char *name, gint64 end_us, double cpu,
            double mem_mib, const vsDomainResources *res)
{
    vsSample x = { 0 };
    g_autoptr(vsPredictorOutput) out = NULL;

    x.time_us = end_us;
    g_strlcpy(x.uuid, uuid, sizeof(x.uuid));
    x.name = (char *)name;
    x.interval_s = STEP_S;
    x.cpu_vcpus = MIN(cpu, vsDomainResourcesVcpus(res));
    x.vcpus = (gint32)res->vcpus;
    x.mem_used_kib = (gint64)(mem_mib * 1024);
    x.mem_current_kib = (gint64)res->memory_kib;
    x.mem_max_kib = (gint64)res->max_memory_kib;
    vsPredictorAddSample(p, &x);
    out = vsPredictorAdvance(p, end_us);
}

static void
vsSimDomain(GArray *domains, vsPredictor *p, const char *uuid, const char *name,
            const vsDomainResources *res, double cpu)
{
    vsControllerDomain dom;

    vsControllerDomainInit(&dom);
    g_strlcpy(dom.uuid, uuid, sizeof(dom.uuid));
    dom.name = g_strdup(name);
    dom.vcpus = res->vcpus;
    dom.memory_kib = (double)res->memory_kib;
    dom.cpu_use = cpu;
    dom.memory_used_kib = NAN;
    if (p)
        vsControllerDomainForecasts(&dom, p);
    g_array_append_val(domains, dom);
}

static GArray *
vsSimDomains(void)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(vsControllerDomain));

    g_array_set_clear_func(a, (GDestroyNotify)vsControllerDomainClear);
    return a;
}

static vsController *
vsSimController(double host_cpus)
{
    vsControllerConfig cfg;

    vsControllerConfigDefaults(&cfg);
    cfg.interval_s = STEP_S;
    cfg.host_cpus = host_cpus;
    cfg.host_memory_kib = 16 * 1024 * 1024;
    cfg.cpu_overcommit = 1;
    /* the test driver resizes at once */
    cfg.actuate.vcpu_timeout_ms = cfg.actuate.memory_timeout_ms = 2000;
    return vsControllerNew(&cfg);
}

static void
vsSimResources(vsHypervisor *hv, const char *domain, vsDomainResources *res)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vsHypervisorGetResources(hv, domain, res, &error), "%s",
                  error ? error->message : "?");
}

/* Every decision explains itself; none leaves the policy. */
static void
vsSimCheckDecision(const vsDecision *d)
{
    ck_assert_msg(d->reason && *d->reason, "a decision without a reason");
    if (d->action == VS_ACTION_HOLD || d->action == VS_ACTION_QUEUED)
        ck_assert_msg(d->clause, "a %s without its clause: %s", vsActionToString(d->action),
                      d->reason);
    if (d->resource == VS_RESOURCE_CPU)
        ck_assert_msg(d->target >= 1 && d->target <= 6, "vCPU target %g: %s", d->target, d->reason);
    else
        ck_assert_msg(d->target >= 524288 && d->target <= 4194304, "memory target %g: %s",
                      d->target, d->reason);
    if (d->action == VS_ACTION_GROW || d->action == VS_ACTION_SHRINK)
        ck_assert_msg(d->outcome == VS_OUTCOME_APPLIED, "%s: %s (%s)", d->reason,
                      vsOutcomeToString(d->outcome), d->error ? d->error : "");
}

/* Four days of a two-hourly CPU burst.  Once learnt, the vCPUs the burst
 * needs are there before it starts, nearly every time, and they go once it
 * has passed; the domain never leaves its policy. */
START_TEST(test_bursts_met_ahead)
{
    g_autoptr(vsHypervisor) hv = vsSimOpen();
    g_autoptr(vsController) c = vsSimController(8);
    g_autoptr(vsPredictor) p = vsPredictorNew(STEP_S, 86400, STEP_S, DAY);
    gint64 t0 = G_GINT64_CONSTANT(1700000000) / STEP_S * STEP_S * G_USEC_PER_SEC;
    guint need = (guint)ceil(BURST_CPU / 0.7);
    guint grows = 0, shrinks = 0, bursts = 0, ahead = 0, mem_grows = 0, mem_ahead = 0;

    vsSimSetPolicy(hv, APP, 2);
    for (guint slot = 0; slot < 4 * DAY; slot++) {
        gint64 start = t0 + slot * (gint64)STEP_US;
        g_autoptr(GArray) domains = vsSimDomains();
        g_autoptr(GArray) decisions = NULL;
        vsDomainResources res;

        /* at the slot's start: what the domain has for it was decided
         * before it began */
        vsSimResources(hv, APP, &res);
        if (slot >= 3 * DAY && vsSimBursting(slot) && !vsSimBursting(slot - 1)) {
            bursts++;
            ahead += vsDomainResourcesVcpus(&res) >= need;
            mem_ahead += res.memory_kib >= 1.05 * 1800 * 1024;
        }
        if (slot > 0)
            vsSimSample(p, APP_UUID, APP, start, vsSimDemand(slot - 1),
                        vsSimMemoryMiB(slot - 1), &res);
        vsSimDomain(domains, p, APP_UUID, APP, &res, slot > 0 ? vsSimDemand(slot - 1) : NAN);
        decisions = vsControllerRun(c, hv, domains, start, FALSE, NULL, NULL);
        for (guint i = 0; i < decisions->len; i++) {
            const vsDecision *d = &g_array_index(decisions, vsDecision, i);

            vsSimCheckDecision(d);
            if (d->resource == VS_RESOURCE_CPU) {
                grows += d->action == VS_ACTION_GROW;
                shrinks += d->action == VS_ACTION_SHRINK;
            } else {
                mem_grows += d->action == VS_ACTION_GROW;
            }
        }
        vsSimResources(hv, APP, &res);
        ck_assert_uint_ge(vsDomainResourcesVcpus(&res), 1);
        ck_assert_uint_le(vsDomainResourcesVcpus(&res), 6);
    }
    ck_assert_uint_eq(bursts, DAY / PERIOD);
    ck_assert_msg(ahead >= bursts * 9 / 10, "%u of %u bursts met ahead", ahead, bursts);
    ck_assert_msg(mem_ahead >= bursts * 9 / 10, "memory: %u of %u bursts met ahead", mem_ahead,
                  bursts);
    ck_assert_uint_gt(mem_grows, 0);
    /* about one rise and one fall per burst, not a resize every slot */
    ck_assert_msg(grows >= 4 * DAY / PERIOD / 2 && grows <= 2 * 4 * DAY / PERIOD,
                  "%u grows over %u bursts", grows, 4 * DAY / PERIOD);
    ck_assert_msg(shrinks >= grows / 2 && shrinks <= grows + 1, "%u shrinks for %u grows",
                  shrinks, grows);
}
END_TEST

/* Two domains burst at once on a host with room for one: the tier-1
 * domain is served, the other is queued with the reason, and the vCPUs
 * granted never pass the host's. */
START_TEST(test_contention_by_tier)
{
    g_autoptr(vsHypervisor) hv = vsSimOpen();
    g_autoptr(vsController) c = vsSimController(6);
    g_autoptr(vsPredictor) p = vsPredictorNew(STEP_S, 86400, STEP_S, DAY);
    gint64 t0 = G_GINT64_CONSTANT(1700000000) / STEP_S * STEP_S * G_USEC_PER_SEC;
    const char *names[] = { APP, "batch" };
    const char *uuids[] = { APP_UUID, BATCH_UUID };
    guint queued_batch = 0, queued_app = 0;

    vsSimSetPolicy(hv, APP, 1);
    vsSimSetPolicy(hv, "batch", 5);
    for (guint slot = 0; slot < 3 * DAY; slot++) {
        gint64 start = t0 + slot * (gint64)STEP_US;
        g_autoptr(GArray) domains = vsSimDomains();
        g_autoptr(GArray) decisions = NULL;
        guint total = 0;

        for (guint k = 0; k < 2; k++) {
            vsDomainResources res;

            vsSimResources(hv, names[k], &res);
            if (slot > 0)
                vsSimSample(p, uuids[k], names[k], start, vsSimDemand(slot - 1),
                            vsSimMemoryMiB(slot - 1), &res);
            vsSimDomain(domains, p, uuids[k], names[k], &res,
                        slot > 0 ? vsSimDemand(slot - 1) : NAN);
        }
        decisions = vsControllerRun(c, hv, domains, start, FALSE, NULL, NULL);
        for (guint i = 0; i < decisions->len; i++) {
            const vsDecision *d = &g_array_index(decisions, vsDecision, i);

            vsSimCheckDecision(d);
            if (d->action == VS_ACTION_QUEUED) {
                ck_assert_str_eq(d->clause, "host-capacity");
                queued_app += g_str_equal(d->uuid, APP_UUID);
                queued_batch += g_str_equal(d->uuid, BATCH_UUID);
            }
        }
        for (guint k = 0; k < 2; k++) {
            vsDomainResources res;

            vsSimResources(hv, names[k], &res);
            total += vsDomainResourcesVcpus(&res);
        }
        ck_assert_msg(total <= 6, "slot %u: %u vCPUs granted on a 6-CPU host", slot, total);
    }
    ck_assert_msg(queued_batch > 0, "the tier-5 domain was never queued");
    ck_assert_msg(queued_app < queued_batch, "tier 1 queued %u times, tier 5 %u times",
                  queued_app, queued_batch);
}
END_TEST

/* An invalid policy found on a domain is refused with the schema's
 * message, and the domain keeps its last valid one. */
START_TEST(test_invalid_policy_kept)
{
    g_autoptr(vsHypervisor) hv = vsSimOpen();
    g_autoptr(vsController) c = vsSimController(8);
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) domains = vsSimDomains();
    g_autoptr(GArray) first = NULL;
    g_autoptr(GArray) again = NULL;
    vsDomainResources res;

    vsSimSetPolicy(hv, APP, 2);
    vsSimResources(hv, APP, &res);
    /* no forecast: the reactive rule sees a domain using all it has */
    vsSimDomain(domains, NULL, APP_UUID, APP, &res, 1.0);
    first = vsControllerRun(c, hv, domains, G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC, TRUE, NULL, problems);
    ck_assert_uint_eq(problems->len, 0);
    ck_assert_uint_eq(first->len, 2);

    ck_assert(vsHypervisorSetMetadata(hv, APP,
                                      "<domain xmlns='" VS_METADATA_NS "'>"
                                      "<policy mode='sometimes'/></domain>",
                                      VS_AFFECT_LIVE, NULL));
    vsControllerForgetPolicy(c, APP_UUID);
    again = vsControllerRun(c, hv, domains, G_GINT64_CONSTANT(1700000300) * G_USEC_PER_SEC, TRUE, NULL, problems);
    ck_assert_uint_eq(problems->len, 1);
    ck_assert_msg(strstr(g_ptr_array_index(problems, 0), "invalid policy refused, the last valid "
                                                           "one stays"),
                  "%s", (char *)g_ptr_array_index(problems, 0));
    ck_assert_msg(strstr(g_ptr_array_index(problems, 0), "attribute mode"), "%s",
                  (char *)g_ptr_array_index(problems, 0));
    /* still decided, under the last valid policy */
    ck_assert_uint_eq(again->len, 2);
}
END_TEST

/* The domain goes away while its resize waits for the lock. */
static gboolean
vsSimLockAndStop(const char *uuid, gpointer opaque, GError **error)
{
    (void)error;
    return vsHypervisorDestroyDomain(opaque, uuid, NULL);
}

static void
vsSimUnlock(const char *uuid, gpointer opaque)
{
    (void)uuid;
    (void)opaque;
}

static gboolean
vsSimLock(const char *uuid, gpointer opaque, GError **error)
{
    (void)uuid;
    (void)opaque;
    (void)error;
    return TRUE;
}

/* One run over "app" using all the vCPU it has; its decision on CPU. */
static vsAction
vsSimBusyRun(vsController *c, vsHypervisor *hv, gint64 now_us, const vsControllerLock *lock,
             vsOutcome *ret_outcome, char **ret_clause)
{
    g_autoptr(GArray) domains = vsSimDomains();
    g_autoptr(GArray) decisions = NULL;
    vsDomainResources res;
    vsAction action = VS_ACTION_NONE;

    vsSimResources(hv, APP, &res);
    vsSimDomain(domains, NULL, APP_UUID, APP, &res, vsDomainResourcesVcpus(&res));
    decisions = vsControllerRun(c, hv, domains, now_us, FALSE, lock, NULL);
    for (guint i = 0; i < decisions->len; i++) {
        vsDecision *d = &g_array_index(decisions, vsDecision, i);

        if (d->resource != VS_RESOURCE_CPU)
            continue;
        action = d->action;
        *ret_outcome = d->outcome;
        g_free(*ret_clause);
        *ret_clause = g_steal_pointer(&d->clause);
    }
    return action;
}

/* A resize that fails is recorded with its error, held back while the
 * backoff runs, and carried out once it has passed. */
START_TEST(test_failure_backoff)
{
    g_autoptr(vsHypervisor) hv = vsSimOpen();
    g_autoptr(vsController) c = vsSimController(8);
    vsControllerLock stop = { vsSimLockAndStop, vsSimUnlock, hv };
    vsControllerLock fine = { vsSimLock, vsSimUnlock, NULL };
    gint64 t = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC;
    g_autofree char *clause = NULL;
    vsOutcome outcome = VS_OUTCOME_PENDING;
    guint runs = 0;

    vsSimSetPolicy(hv, APP, 2);
    /* the reactive rule grows after a few busy samples; the domain then
     * stops under the lock, so the resize fails */
    while (vsSimBusyRun(c, hv, t, &stop, &outcome, &clause) != VS_ACTION_GROW) {
        ck_assert_uint_lt(++runs, 10);
        t += STEP_US;
    }
    ck_assert_int_eq(outcome, VS_OUTCOME_FAILED);
    ck_assert(vsHypervisorStartDomain(hv, APP, NULL));
    vsSimSetPolicy(hv, APP, 2);
    /* one interval later the backoff still holds it */
    t += STEP_US / 2;
    ck_assert_int_eq(vsSimBusyRun(c, hv, t, &fine, &outcome, &clause), VS_ACTION_HOLD);
    ck_assert_str_eq(clause, "retry-backoff");
    /* once it has passed, the resize is made */
    t += 2 * STEP_US;
    ck_assert_int_eq(vsSimBusyRun(c, hv, t, &fine, &outcome, &clause), VS_ACTION_GROW);
    ck_assert_int_eq(outcome, VS_OUTCOME_APPLIED);
}
END_TEST

/* A rise the host cannot serve is queued, and the other host with room
 * for the whole domain is named as its migration target; the host's own
 * room after the run is what is left of its capacity. */
START_TEST(test_queued_migration_target)
{
    g_autoptr(vsHypervisor) hv = vsSimOpen();
    g_autoptr(vsController) c = vsSimController(1);
    vsControllerLock fine = { vsSimLock, vsSimUnlock, NULL };
    g_autoptr(GArray) rooms = g_array_new(FALSE, TRUE, sizeof(vsHostRoom));
    /* too few vCPUs for the domain, then enough, then more but not known */
    g_autofree char *small = g_strdup("host-small");
    g_autofree char *big = g_strdup("host-big");
    vsHostRoom others[] = { { small, 1, 64 * 1048576.0 }, { big, 8, 32 * 1048576.0 } };
    gint64 t = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC;
    double vcpus = -1, memory_kib = -1;
    gboolean queued = FALSE;
    vsDomainResources res;

    vsSimSetPolicy(hv, APP, 2);
    ck_assert(!vsControllerRoom(c, &vcpus, &memory_kib));
    ck_assert_double_eq(vcpus, -1);
    g_array_append_vals(rooms, others, G_N_ELEMENTS(others));
    vsControllerSetOtherHosts(c, rooms);
    /* the controller keeps its own copy */
    g_clear_pointer(&rooms, g_array_unref);
    g_clear_pointer(&small, g_free);
    g_clear_pointer(&big, g_free);

    /* "app" uses all of its one vCPU on a one-CPU host: the reactive rule
     * soon asks for more, which the host cannot give */
    for (guint runs = 0; !queued; runs++, t += STEP_US) {
        g_autoptr(GArray) domains = vsSimDomains();
        g_autoptr(GArray) decisions = NULL;

        ck_assert_uint_lt(runs, 10);
        vsSimResources(hv, APP, &res);
        vsSimDomain(domains, NULL, APP_UUID, APP, &res, vsDomainResourcesVcpus(&res));
        decisions = vsControllerRun(c, hv, domains, t, FALSE, &fine, NULL);
        for (guint i = 0; i < decisions->len; i++) {
            const vsDecision *d = &g_array_index(decisions, vsDecision, i);

            vsSimCheckDecision(d);
            ck_assert_int_ne(d->action, VS_ACTION_GROW);
            if (d->action != VS_ACTION_QUEUED)
                continue;
            ck_assert_int_eq(d->resource, VS_RESOURCE_CPU);
            ck_assert_str_eq(d->clause, "host-capacity");
            ck_assert_double_eq(d->target, 1);
            ck_assert_msg(strstr(d->reason, ", migration suggested to host-big."), "%s",
                          d->reason);
            ck_assert_msg(!strstr(d->reason, "host-small"), "%s", d->reason);
            queued = TRUE;
        }
        ck_assert(vsControllerRoom(c, &vcpus, &memory_kib));
        /* nothing was granted: the host is as full as before */
        ck_assert_double_eq(vcpus, 0);
        ck_assert_double_eq(memory_kib, 16 * 1048576.0 - res.memory_kib);
    }
    vsSimResources(hv, APP, &res);
    ck_assert_uint_eq(vsDomainResourcesVcpus(&res), 1);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("allocsim");
    TCase *tc = tcase_create("allocsim");

    vsDriversInit();
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_bursts_met_ahead);
    tcase_add_test(tc, test_contention_by_tier);
    tcase_add_test(tc, test_invalid_policy_kept);
    tcase_add_test(tc, test_failure_backoff);
    tcase_add_test(tc, test_queued_migration_target);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
