/*
 * vspgalloctest.c: decisions, hints, hosts' room, notifications and domain
 * locks in the PostgreSQL store
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vstestutils.h"
#include "allocator/vsdecide.h"
#include "allocator/vshint.h"
#include "postgres/vspg.h"
#include "store/vsstore.h"
#include "util/vserror.h"

#define UUID_A "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define UUID_B "0b5c3f9e-7d1a-4f3b-9e8c-2a6d4b1c0e7f"
/* 2024-03-10 00:00:00 UTC */
#define DAY0_US (G_GINT64_CONSTANT(1710028800) * G_USEC_PER_SEC)
#define MIN_US (G_GINT64_CONSTANT(60) * G_USEC_PER_SEC)
#define TRICKY "it's {\"q\"}, \\back\\ NULL \xc3\xbc"
/* Notifications travel between connections: allow for a slow machine. */
#define NOTIFY_TIMEOUT_MS 10000

static vsTestPg *pg;

static void
pgSetup(void)
{
    pg = vsTestPgStart();
}

static void
pgTeardown(void)
{
    vsTestPgStop(pg);
    pg = NULL;
}

static void
assertStrOrNull(const char *got, const char *expect, const char *what)
{
    if (!expect) {
        ck_assert_msg(got == NULL, "%s: got '%s', expected NULL", what, got);
        return;
    }
    ck_assert_msg(got && g_str_equal(got, expect), "%s: got '%s', expected '%s'", what,
                  got ? got : "(null)", expect);
}

/* --- decisions -------------------------------------------------------------------- */

static GArray *
decisionArray(void)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(vsDecision));

    g_array_set_clear_func(a, (GDestroyNotify)vsDecisionClear);
    return a;
}

static vsDecision *
addDecision(GArray *a, const char *uuid, const char *name, gint64 at_us, vsAction action)
{
    vsDecision d;

    vsDecisionInit(&d);
    d.at_us = at_us;
    g_strlcpy(d.uuid, uuid, sizeof(d.uuid));
    d.name = g_strdup(name);
    d.resource = VS_RESOURCE_CPU;
    d.current = 2;
    d.wanted = 3.5;
    d.target = 4;
    d.forecast = 2.8;
    d.upper = 3.1;
    d.model = g_strdup("ewma");
    d.confidence = 0.9;
    d.action = action;
    d.clause = g_strdup("max-vcpus");
    d.reason = g_strdup("the forecast rises");
    d.outcome = VS_OUTCOME_APPLIED;
    g_array_append_val(a, d);
    return &g_array_index(a, vsDecision, a->len - 1);
}

static void
assertDecisionEqual(const vsDecision *got, const vsDecision *expect)
{
    ck_assert_int_eq(got->at_us, expect->at_us);
    ck_assert_str_eq(got->uuid, expect->uuid);
    ck_assert_str_eq(got->name, expect->name);
    ck_assert_int_eq(got->resource, expect->resource);
    vsTestAssertDouble(got->current, expect->current, "current");
    vsTestAssertDouble(got->wanted, expect->wanted, "wanted");
    vsTestAssertDouble(got->target, expect->target, "target");
    vsTestAssertDouble(got->forecast, expect->forecast, "forecast");
    vsTestAssertDouble(got->upper, expect->upper, "upper");
    assertStrOrNull(got->model, expect->model, "model");
    vsTestAssertDouble(got->confidence, expect->confidence, "confidence");
    ck_assert_int_eq(got->reactive, expect->reactive);
    ck_assert_int_eq(got->hinted, expect->hinted);
    ck_assert_int_eq(got->action, expect->action);
    assertStrOrNull(got->clause, expect->clause, "clause");
    assertStrOrNull(got->reason, expect->reason, "reason");
    ck_assert_int_eq(got->outcome, expect->outcome);
    assertStrOrNull(got->error, expect->error, "error");
}

static GArray *
queryDecisions(vsStore *store, const char *uuid, gint64 since_us, guint limit)
{
    g_autoptr(GError) error = NULL;
    GArray *got = NULL;

    ck_assert_msg(vsStoreQueryDecisions(store, uuid, since_us, limit, &got, &error),
                  "query: %s", error ? error->message : "");
    return got;
}

START_TEST(test_decisions_roundtrip)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "al_decisions");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) in = decisionArray();
    g_autoptr(GArray) got = NULL;
    g_autoptr(GError) error = NULL;
    vsDecision *d;

    addDecision(in, UUID_A, "vm1", DAY0_US, VS_ACTION_GROW);
    /* every optional field unknown, odd text, a failure */
    d = addDecision(in, UUID_A, TRICKY, DAY0_US + 1, VS_ACTION_HOLD);
    d->resource = VS_RESOURCE_MEMORY;
    d->current = d->wanted = d->forecast = d->upper = d->confidence = NAN;
    d->target = INFINITY;
    g_clear_pointer(&d->model, g_free);
    g_clear_pointer(&d->clause, g_free);
    g_free(d->reason);
    d->reason = g_strdup(TRICKY);
    d->reactive = d->hinted = TRUE;
    d->outcome = VS_OUTCOME_FAILED;
    d->error = g_strdup("setmem: " TRICKY);
    addDecision(in, UUID_B, "vm2", DAY0_US, VS_ACTION_NONE)->outcome = VS_OUTCOME_SKIPPED;

    ck_assert_msg(vsStoreRecordDecisions(store, "h1", in, &error), "%s",
                  error ? error->message : "");
    vsTestPgAssertQuery(db, "SELECT string_agg(DISTINCT host, ',') FROM decisions", "h1");

    got = queryDecisions(store, NULL, 0, 0);
    ck_assert_uint_eq(got->len, 3);
    /* oldest first; same time in batch order */
    assertDecisionEqual(&g_array_index(got, vsDecision, 0), &g_array_index(in, vsDecision, 0));
    assertDecisionEqual(&g_array_index(got, vsDecision, 1), &g_array_index(in, vsDecision, 2));
    g_array_index(in, vsDecision, 1).target = NAN;     /* infinity is unknown too */
    assertDecisionEqual(&g_array_index(got, vsDecision, 2), &g_array_index(in, vsDecision, 1));

    /* an empty batch is nothing to do */
    g_array_set_size(in, 0);
    ck_assert(vsStoreRecordDecisions(store, "h1", in, &error));
}
END_TEST

START_TEST(test_decisions_query)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "al_query");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) in = decisionArray();
    g_autoptr(GArray) got = NULL;
    g_autoptr(GError) error = NULL;

    for (int i = 0; i < 10; i++)
        addDecision(in, i % 2 ? UUID_B : UUID_A, i % 2 ? "vm2" : "vm1", DAY0_US + i * MIN_US,
                    VS_ACTION_GROW);
    ck_assert(vsStoreRecordDecisions(store, "h1", in, &error));

    got = queryDecisions(store, UUID_A, 0, 0);
    ck_assert_uint_eq(got->len, 5);
    for (guint i = 0; i < got->len; i++)
        ck_assert_str_eq(g_array_index(got, vsDecision, i).uuid, UUID_A);
    g_clear_pointer(&got, g_array_unref);

    /* since is inclusive */
    got = queryDecisions(store, UUID_A, DAY0_US + 4 * MIN_US, 0);
    ck_assert_uint_eq(got->len, 3);
    ck_assert_int_eq(g_array_index(got, vsDecision, 0).at_us, DAY0_US + 4 * MIN_US);
    g_clear_pointer(&got, g_array_unref);

    /* the limit keeps the newest, still oldest first */
    got = queryDecisions(store, NULL, 0, 3);
    ck_assert_uint_eq(got->len, 3);
    ck_assert_int_eq(g_array_index(got, vsDecision, 0).at_us, DAY0_US + 7 * MIN_US);
    ck_assert_int_eq(g_array_index(got, vsDecision, 2).at_us, DAY0_US + 9 * MIN_US);
    g_clear_pointer(&got, g_array_unref);

    got = queryDecisions(store, UUID_A, DAY0_US + 60 * MIN_US, 0);
    ck_assert_uint_eq(got->len, 0);
    g_clear_pointer(&got, g_array_unref);

    ck_assert(!vsStoreQueryDecisions(store, "vm1", 0, 0, &got, &error));
    ck_assert_ptr_null(got);
    ck_assert_str_eq(error->message, "invalid domain UUID 'vm1'");
}
END_TEST

START_TEST(test_decisions_invalid)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "al_invalid");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) in = decisionArray();
    g_autoptr(GError) error = NULL;

    addDecision(in, UUID_A, "vm1", DAY0_US, VS_ACTION_GROW);
    addDecision(in, UUID_A, "vm1", DAY0_US, VS_ACTION_LAST);
    ck_assert(!vsStoreRecordDecisions(store, "h1", in, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_msg(strstr(error->message, "'vm1'"), "%s", error->message);
    g_clear_error(&error);

    g_array_index(in, vsDecision, 1).action = VS_ACTION_SHRINK;
    g_strlcpy(g_array_index(in, vsDecision, 1).uuid, "nope", VS_UUID_STRLEN);
    ck_assert(!vsStoreRecordDecisions(store, "h1", in, &error));
    ck_assert_str_eq(error->message, "invalid domain UUID 'nope'");
    /* the whole batch or nothing */
    vsTestPgAssertQuery(db, "SELECT count(*) FROM decisions", "0");
}
END_TEST

/* --- hints ----------------------------------------------------------------------------- */

static void
makeHint(vsHint *h, const char *uuid, const char *name, gint64 start_us, gint64 end_us)
{
    vsHintInit(h);
    g_strlcpy(h->uuid, uuid, sizeof(h->uuid));
    h->name = g_strdup(name);
    h->vcpus = 4;
    h->start_us = start_us;
    h->end_us = end_us;
}

static gint64
addHint(vsStore *store, const char *uuid, const char *name, gint64 start_us, gint64 end_us)
{
    vsHint h;
    g_autoptr(GError) error = NULL;

    makeHint(&h, uuid, name, start_us, end_us);
    ck_assert_msg(vsStoreAddHint(store, &h, &error), "%s", error ? error->message : "");
    ck_assert_int_gt(h.id, 0);
    vsHintClear(&h);
    return h.id;
}

static GArray *
listHints(vsStore *store, const char *uuid, gint64 after_us, gboolean all)
{
    g_autoptr(GError) error = NULL;
    GArray *got = NULL;

    ck_assert_msg(vsStoreListHints(store, uuid, after_us, all, &got, &error), "%s",
                  error ? error->message : "");
    return got;
}

START_TEST(test_hints_roundtrip)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "al_hints");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    vsHint h;
    g_autoptr(GArray) got = NULL;
    g_autoptr(GError) error = NULL;
    gint64 before = g_get_real_time();
    const vsHint *r;

    makeHint(&h, UUID_A, "vm1", DAY0_US, DAY0_US + 10 * MIN_US);
    h.vcpus = 0;
    h.memory_kib = G_GUINT64_CONSTANT(2097152);
    h.reason = g_strdup(TRICKY);
    ck_assert_msg(vsStoreAddHint(store, &h, &error), "%s", error ? error->message : "");
    ck_assert_int_gt(h.id, 0);
    ck_assert_int_ge(h.created_us, before - G_USEC_PER_SEC);

    got = listHints(store, NULL, 0, FALSE);
    ck_assert_uint_eq(got->len, 1);
    r = &g_array_index(got, vsHint, 0);
    ck_assert_int_eq(r->id, h.id);
    ck_assert_str_eq(r->uuid, UUID_A);
    ck_assert_str_eq(r->name, "vm1");
    ck_assert_uint_eq(r->vcpus, 0);
    ck_assert_uint_eq(r->memory_kib, 2097152);
    ck_assert_int_eq(r->start_us, DAY0_US);
    ck_assert_int_eq(r->end_us, DAY0_US + 10 * MIN_US);
    ck_assert_str_eq(r->reason, TRICKY);
    ck_assert_int_eq(r->created_us, h.created_us);
    ck_assert(!r->cancelled);
    vsTestPgAssertQuery(db, "SELECT vcpus IS NULL FROM hints", "t");
    vsHintClear(&h);
}
END_TEST

START_TEST(test_hints_filter_cancel)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "al_cancel");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) got = NULL;
    g_autoptr(GError) error = NULL;
    gint64 over, now, later, other;

    over = addHint(store, UUID_A, "vm1", DAY0_US, DAY0_US + 10 * MIN_US);
    later = addHint(store, UUID_A, "vm1", DAY0_US + 60 * MIN_US, DAY0_US + 70 * MIN_US);
    now = addHint(store, UUID_A, "vm1", DAY0_US + 15 * MIN_US, DAY0_US + 25 * MIN_US);
    other = addHint(store, UUID_B, "vm2", DAY0_US + 20 * MIN_US, DAY0_US + 30 * MIN_US);

    /* by start; the window's end is exclusive */
    got = listHints(store, UUID_A, DAY0_US + 10 * MIN_US, FALSE);
    ck_assert_uint_eq(got->len, 2);
    ck_assert_int_eq(g_array_index(got, vsHint, 0).id, now);
    ck_assert_int_eq(g_array_index(got, vsHint, 1).id, later);
    g_clear_pointer(&got, g_array_unref);
    got = listHints(store, NULL, DAY0_US + 20 * MIN_US, FALSE);
    ck_assert_uint_eq(got->len, 3);
    ck_assert_int_eq(g_array_index(got, vsHint, 1).id, other);
    g_clear_pointer(&got, g_array_unref);

    ck_assert_msg(vsStoreCancelHint(store, now, &error), "%s", error ? error->message : "");
    ck_assert(vsStoreCancelHint(store, now, &error));
    got = listHints(store, UUID_A, 0, FALSE);
    ck_assert_uint_eq(got->len, 2);
    ck_assert_int_eq(g_array_index(got, vsHint, 0).id, over);
    g_clear_pointer(&got, g_array_unref);
    got = listHints(store, UUID_A, 0, TRUE);
    ck_assert_uint_eq(got->len, 3);
    ck_assert(g_array_index(got, vsHint, 1).cancelled);
    ck_assert(!g_array_index(got, vsHint, 0).cancelled);
    g_clear_pointer(&got, g_array_unref);

    ck_assert(!vsStoreCancelHint(store, 999999, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(error->message, "unknown hint '999999'");
}
END_TEST

START_TEST(test_hints_invalid)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "al_hint_invalid");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    vsHint h;
    g_autoptr(GError) error = NULL;
    g_autofree char *check = NULL;

    makeHint(&h, UUID_A, "vm1", DAY0_US, DAY0_US);
    ck_assert(!vsStoreAddHint(store, &h, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_str_eq(error->message, "invalid hint for domain 'vm1': its window ends before it starts");
    g_clear_error(&error);

    h.end_us = DAY0_US + MIN_US;
    h.vcpus = 0;
    ck_assert(!vsStoreAddHint(store, &h, &error));
    ck_assert_str_eq(error->message,
                     "invalid hint for domain 'vm1': it asks for neither vCPUs nor memory");
    g_clear_error(&error);
    ck_assert_int_eq(h.id, 0);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM hints", "0");

    /* the table holds the same rules for other writers */
    check = vsTestPgQuery(db, "SELECT count(*) FROM pg_constraint WHERE conname IN"
                          " ('hints_window_check', 'hints_demand_check')");
    ck_assert_str_eq(check, "2");
    vsHintClear(&h);
}
END_TEST

START_TEST(test_find_domain)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "al_find");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) in = decisionArray();
    g_autoptr(GError) error = NULL;
    g_autofree char *uuid = NULL;
    g_autofree char *name = NULL;

    ck_assert(!vsStoreFindAllocDomain(store, "vm1", &uuid, &name, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(error->message, "unknown domain 'vm1': no decisions or hints are stored for it");
    ck_assert(uuid == NULL && name == NULL);
    g_clear_error(&error);

    addDecision(in, UUID_A, "vm1", DAY0_US, VS_ACTION_GROW);
    ck_assert(vsStoreRecordDecisions(store, "h1", in, &error));
    addHint(store, UUID_B, "vm2", DAY0_US, DAY0_US + MIN_US);

    ck_assert(vsStoreFindAllocDomain(store, "vm1", &uuid, &name, &error));
    ck_assert_str_eq(uuid, UUID_A);
    ck_assert_str_eq(name, "vm1");
    g_clear_pointer(&uuid, g_free);
    g_clear_pointer(&name, g_free);
    ck_assert(vsStoreFindAllocDomain(store, UUID_B, &uuid, &name, &error));
    ck_assert_str_eq(name, "vm2");
}
END_TEST

START_TEST(test_retention)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "al_retention");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) in = decisionArray();
    g_autoptr(GError) error = NULL;
    gint64 day = 24 * 60 * MIN_US;
    gint64 now = DAY0_US + 40 * day;

    addDecision(in, UUID_A, "vm1", now - 31 * day, VS_ACTION_GROW);
    addDecision(in, UUID_A, "vm1", now - 29 * day, VS_ACTION_GROW);
    ck_assert(vsStoreRecordDecisions(store, "h1", in, &error));
    addHint(store, UUID_A, "vm1", now - 32 * day, now - 31 * day);
    addHint(store, UUID_A, "vm1", now - 31 * day, now - 29 * day);

    ck_assert(vsStoreMaintainSamples(store, now, 2, 0, 0, &error));
    vsTestPgAssertQuery(db, "SELECT count(*) FROM decisions", "2");
    /* with the rollups: decisions made and hints over before the cutoff */
    ck_assert_msg(vsStoreMaintainSamples(store, now, 2, 0, 30 * 24 * 3600 * G_GUINT64_CONSTANT(1000),
                                         &error), "%s", error ? error->message : "");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM decisions", "1");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM hints", "1");
}
END_TEST

/* --- host rooms -------------------------------------------------------------------------- */

static GArray *
listRooms(vsStore *store, const char *except, guint max_age_s)
{
    g_autoptr(GError) error = NULL;
    GArray *got = NULL;

    ck_assert_msg(vsStoreListHostRooms(store, except, max_age_s, &got, &error), "list: %s",
                  error ? error->message : "");
    return got;
}

static void
assertRoom(GArray *rooms, guint i, const char *host, double vcpus, double memory_kib)
{
    const vsStoreHostRoom *r;

    ck_assert_msg(i < rooms->len, "room %u of %u", i, rooms->len);
    r = &g_array_index(rooms, vsStoreHostRoom, i);
    ck_assert_str_eq(r->host, host);
    vsTestAssertDouble(r->vcpus, vcpus, "vcpus");
    vsTestAssertDouble(r->memory_kib, memory_kib, "memory_kib");
}

/* Each controller publishes its room in its row of hosts and reads the
 * others' that are fresh, by name. */
START_TEST(test_host_rooms)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "al_rooms");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) got = NULL;
    g_autoptr(GError) error = NULL;

    /* a host with a heartbeat and no room yet is not listed */
    ck_assert(vsStoreHostHeartbeat(store, "hc", "qemu:///system", "1.0", &error));
    ck_assert(vsStorePublishHostRoom(store, "hb", 12, 32.5 * 1048576, &error));
    ck_assert_msg(vsStorePublishHostRoom(store, "ha", 4.5, 1048576, &error), "%s",
                  error ? error->message : "");
    vsTestPgAssertQuery(db, "SELECT heartbeat_at IS NOT NULL AND room_at IS NOT NULL"
                        " AND uri IS NULL FROM hosts WHERE name = 'ha'", "t");

    got = listRooms(store, "ha", 60);
    ck_assert_uint_eq(got->len, 1);
    assertRoom(got, 0, "hb", 12, 32.5 * 1048576);
    g_clear_pointer(&got, g_array_unref);
    got = listRooms(store, NULL, 60);
    ck_assert_uint_eq(got->len, 2);
    assertRoom(got, 0, "ha", 4.5, 1048576);
    assertRoom(got, 1, "hb", 12, 32.5 * 1048576);
    g_clear_pointer(&got, g_array_unref);

    /* publishing again updates the row; a heartbeat row keeps its fields */
    ck_assert(vsStorePublishHostRoom(store, "ha", 0, 0, &error));
    ck_assert(vsStorePublishHostRoom(store, "hc", 2, 4096, &error));
    ck_assert(vsStorePublishHostRoom(store, TRICKY, 1, 2, &error));
    vsTestPgAssertQuery(db, "SELECT count(*) FROM hosts", "4");
    vsTestPgAssertQuery(db, "SELECT uri || ' ' || version FROM hosts WHERE name = 'hc'",
                        "qemu:///system 1.0");
    got = listRooms(store, "hb", 60);
    ck_assert_uint_eq(got->len, 3);
    assertRoom(got, 0, "ha", 0, 0);
    assertRoom(got, 1, "hc", 2, 4096);
    assertRoom(got, 2, TRICKY, 1, 2);
    g_clear_pointer(&got, g_array_unref);

    /* a room older than the age asked for is from a controller that stopped */
    g_free(vsTestPgQuery(db, "UPDATE hosts SET room_at = now() - interval '1 hour' WHERE name = 'hb'"));
    got = listRooms(store, "ha", 3599);
    ck_assert_uint_eq(got->len, 2);
    assertRoom(got, 0, "hc", 2, 4096);
    g_clear_pointer(&got, g_array_unref);
    got = listRooms(store, "ha", 3700);
    ck_assert_uint_eq(got->len, 3);
    assertRoom(got, 0, "hb", 12, 32.5 * 1048576);
    g_clear_pointer(&got, g_array_unref);
    g_free(vsTestPgQuery(db, "UPDATE hosts SET room_at = now() - interval '1 second'"));
    got = listRooms(store, NULL, 0);
    ck_assert_uint_eq(got->len, 0);
    g_clear_pointer(&got, g_array_unref);

    /* nothing that is not a room goes in */
    ck_assert(!vsStorePublishHostRoom(store, "ha", NAN, 1, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_msg(strstr(error->message, "'ha'"), "%s", error->message);
    g_clear_error(&error);
    ck_assert(!vsStorePublishHostRoom(store, "hd", 1, -1, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
    g_clear_error(&error);
    ck_assert(!vsStorePublishHostRoom(store, "hd", INFINITY, 1, &error));
    g_clear_error(&error);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM hosts", "4");
    vsTestPgAssertQuery(db, "SELECT room_vcpus FROM hosts WHERE name = 'ha'", "0");
}
END_TEST

/* --- notifications ------------------------------------------------------------------------ */

typedef struct {
    vsStore *store;
    char *channel;
    char *payload;
} notifyWait;

static gboolean
notifyArrived(gpointer opaque)
{
    notifyWait *w = opaque;
    g_autoptr(GError) error = NULL;

    if (vsStoreNextNotification(w->store, &w->channel, &w->payload, &error))
        return TRUE;
    ck_assert_msg(error == NULL, "%s", error ? error->message : "");
    return FALSE;
}

/* The next notification on @store, within the deadline. */
static void
expectNotification(vsStore *store, const char *channel, const char *payload)
{
    notifyWait w = { store, NULL, NULL };

    ck_assert_msg(vsTestPoll(notifyArrived, &w, NOTIFY_TIMEOUT_MS, 10),
                  "no notification on '%s'", channel);
    ck_assert_str_eq(w.channel, channel);
    ck_assert_str_eq(w.payload, payload);
    g_free(w.channel);
    g_free(w.payload);
}

static void
expectNothingPending(vsStore *store)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *channel = NULL;
    g_autofree char *payload = NULL;

    ck_assert(!vsStoreNextNotification(store, &channel, &payload, &error));
    ck_assert_msg(error == NULL, "%s", error ? error->message : "");
    ck_assert(channel == NULL && payload == NULL);
}

START_TEST(test_notify)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "al_notify");
    g_autoptr(vsStore) cli = vsTestStoreOpenMigrated(db);
    g_autoptr(vsStore) daemon = vsTestStoreOpenMigrated(db);
    g_autoptr(GError) error = NULL;
    gint64 id;

    ck_assert_int_ge(vsStoreGetSocket(daemon), 0);
    ck_assert(vsStoreListen(daemon, VS_STORE_CHANNEL_HINT, &error));
    ck_assert(vsStoreListen(daemon, VS_STORE_CHANNEL_POLICY, &error));
    ck_assert(vsStoreListen(daemon, VS_STORE_CHANNEL_POLICY, &error));
    expectNothingPending(daemon);

    id = addHint(cli, UUID_A, "vm1", DAY0_US, DAY0_US + MIN_US);
    expectNotification(daemon, VS_STORE_CHANNEL_HINT, UUID_A);
    ck_assert(vsStoreCancelHint(cli, id, &error));
    expectNotification(daemon, VS_STORE_CHANNEL_HINT, UUID_A);

    ck_assert_msg(vsStoreNotifyPolicy(cli, UUID_B, &error), "%s", error ? error->message : "");
    expectNotification(daemon, VS_STORE_CHANNEL_POLICY, UUID_B);
    /* listening twice delivers once */
    expectNothingPending(daemon);

    ck_assert(!vsStoreNotifyPolicy(cli, "vm2", &error));
    ck_assert_str_eq(error->message, "invalid domain UUID 'vm2'");
}
END_TEST

/* --- domain locks ----------------------------------------------------------------------------- */

static gboolean
tryLock(vsStore *store, const char *uuid)
{
    g_autoptr(GError) error = NULL;
    gboolean locked = FALSE;

    ck_assert_msg(vsStoreTryLockDomain(store, uuid, &locked, &error), "%s",
                  error ? error->message : "");
    return locked;
}

static gboolean
lockTaken(gpointer opaque)
{
    return tryLock(opaque, UUID_A);
}

START_TEST(test_domain_lock)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "al_lock");
    g_autoptr(vsStore) one = vsTestStoreOpenMigrated(db);
    g_autoptr(vsStore) two = vsTestStoreOpenMigrated(db);
    g_autoptr(GError) error = NULL;
    gboolean locked = TRUE;

    ck_assert(tryLock(one, UUID_A));
    ck_assert(!tryLock(two, UUID_A));
    /* another domain is another lock */
    ck_assert(tryLock(two, UUID_B));
    ck_assert(!tryLock(one, UUID_B));

    ck_assert(!vsStoreUnlockDomain(two, UUID_A, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND));
    ck_assert_str_eq(error->message, "domain '" UUID_A "' is not locked by this connection");
    g_clear_error(&error);

    ck_assert_msg(vsStoreUnlockDomain(one, UUID_A, &error), "%s", error ? error->message : "");
    ck_assert(tryLock(two, UUID_A));
    ck_assert(!tryLock(one, UUID_A));

    /* the key is documented: an admin finds the holder in pg_locks */
    vsTestPgAssertQuery(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                        " AND ((classid::bigint << 32) | objid::bigint) ="
                        " (x'c7a5fdbdcdaf9455'::bigint # x'926ad65c16db1809'::bigint)"
                        " AND objsubid = 1", "1");

    /* a closed connection releases its locks, once its backend is gone */
    g_clear_pointer(&two, vsStoreFree);
    ck_assert(vsTestPoll(lockTaken, one, NOTIFY_TIMEOUT_MS, 10));

    ck_assert(!vsStoreTryLockDomain(one, "vm1", &locked, &error));
    ck_assert(locked);
    ck_assert_str_eq(error->message, "invalid domain UUID 'vm1'");
}
END_TEST

/* --- outage ----------------------------------------------------------------------------------- */

static gboolean
connectionLost(gpointer opaque)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *channel = NULL;
    g_autofree char *payload = NULL;

    ck_assert(!vsStoreNextNotification(opaque, &channel, &payload, &error));
    if (!error)
        return FALSE;
    ck_assert_msg(g_error_matches(error, VS_ERROR, VS_ERROR_CONNECT), "%s", error->message);
    ck_assert_int_eq(vsStoreGetSocket(opaque), -1);
    return TRUE;
}

START_TEST(test_listen_survives_reset)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "al_reset");
    g_autoptr(vsStore) daemon = vsTestStoreOpenMigrated(db);
    g_autoptr(vsStore) cli = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) got = NULL;

    ck_assert(vsStoreListen(daemon, VS_STORE_CHANNEL_POLICY, &error));
    vsTestPgKill(pg);
    /* the server's end of the socket may take a moment to close */
    ck_assert_msg(vsTestPoll(connectionLost, daemon, NOTIFY_TIMEOUT_MS, 10),
                  "the lost connection went unnoticed");
    vsTestPgRestart(pg);

    /* the next call reconnects and listens again, be it another call or a
     * read of notifications (what was sent before is lost) */
    if (_i == 0)
        got = queryDecisions(daemon, NULL, 0, 0);
    else
        expectNothingPending(daemon);
    cli = vsTestStoreOpenMigrated(db);
    ck_assert(vsStoreNotifyPolicy(cli, UUID_A, &error));
    expectNotification(daemon, VS_STORE_CHANNEL_POLICY, UUID_A);
}
END_TEST

static Suite *
pgAllocSuite(void)
{
    Suite *s = suite_create("pgalloc");
    TCase *tc = tcase_create("server");

    tcase_add_unchecked_fixture(tc, pgSetup, pgTeardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_decisions_roundtrip);
    tcase_add_test(tc, test_decisions_query);
    tcase_add_test(tc, test_decisions_invalid);
    tcase_add_test(tc, test_hints_roundtrip);
    tcase_add_test(tc, test_hints_filter_cancel);
    tcase_add_test(tc, test_hints_invalid);
    tcase_add_test(tc, test_find_domain);
    tcase_add_test(tc, test_retention);
    tcase_add_test(tc, test_host_rooms);
    tcase_add_test(tc, test_notify);
    tcase_add_test(tc, test_domain_lock);
    suite_add_tcase(s, tc);

    /* Each its own server (a restarted one lives only as long as its
     * test): 0, another call reconnects; 1, reading notifications does. */
    for (int i = 0; i < 2; i++) {
        TCase *outage = tcase_create(i ? "outage-read" : "outage");

        tcase_add_unchecked_fixture(outage, pgSetup, pgTeardown);
        tcase_set_timeout(outage, 120);
        tcase_add_loop_test(outage, test_listen_survives_reset, i, i + 1);
        suite_add_tcase(s, outage);
    }
    return s;
}

int
main(void)
{
    vsStoreRegisterDriver(&vsPgStoreDriver);
    return vsTestRunSuite(pgAllocSuite());
}
