/*
 * vssamplertest.c: the collection cycle against real services
 *
 * libvirt's test driver supplies the domains; a throwaway PostgreSQL is
 * the store.  The database is killed mid-run: the samples taken meanwhile
 * go to the spool and arrive exactly once when it is back.
 */
#include <config.h>

#include "hypervisor/vshypervisor.h"
#include "store/vsstore.h"
#include "telemetry/vssampler.h"
#include "util/vserror.h"
#include "vsdrivers.h"
#include "vstestutils.h"

#define VS_TEST_DOMAIN_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"   /* test:///default's "test" */
#define VS_STEP_US (1000 * 1000)

static vsTestPg *vsPg;

static void
vsSetupPg(void)
{
    vsDriversInit();
    vsPg = vsTestPgStart();
}

static void
vsTeardownPg(void)
{
    vsTestPgStop(vsPg);
    vsPg = NULL;
}

static vsStore *
vsOpenStore(const char *conninfo)
{
    vsStoreTarget target = { .url = (char *)conninfo };
    g_autoptr(GError) error = NULL;
    vsStore *store = vsStoreOpen(&target, FALSE, &error);

    ck_assert_msg(store != NULL, "%s", error ? error->message : "");
    return store;
}

static vsSampler *
vsNewSampler(const char *dir)
{
    vsSamplerConfig cfg = { 0 };
    g_autoptr(GError) error = NULL;
    g_autofree char *spool = g_build_filename(dir, "spool", NULL);
    vsSampler *s;

    vsAdaptiveConfigDefaults(&cfg.adaptive);
    /* every cycle samples: the test steps time by exactly this */
    cfg.adaptive.min_interval_ms = 1000;
    cfg.adaptive.max_interval_ms = 1000;
    cfg.spool_max_bytes = 1 << 20;
    s = vsSamplerNew(&cfg, "testhost", spool, &error);
    ck_assert_msg(s != NULL, "%s", error ? error->message : "");
    return s;
}

static vsHypervisor *
vsOpenTestDriver(void)
{
    g_autoptr(GError) error = NULL;
    vsHypervisor *hv = vsHypervisorOpen("test:///default", NULL, &error);

    ck_assert_msg(hv != NULL, "%s", error ? error->message : "");
    return hv;
}

static void
vsCycle(vsSampler *s, vsHypervisor *hv, vsStore *store, gint64 now_us)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vsSamplerCycle(s, hv, store, now_us, &error), "%s",
                  error ? error->message : "");
}

/* Each expected sample time appears exactly once, for the test domain. */
static void
vsAssertSeries(vsStore *store, gint64 t0, guint first, guint last)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) series = vsStoreQuerySamples(store, VS_TEST_DOMAIN_UUID, t0, G_MAXINT64, &error);

    ck_assert_msg(series != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(series->len, last - first + 1);
    for (guint i = 0; i < series->len; i++) {
        const vsSample *smp = &g_array_index(series, vsSample, i);

        ck_assert_int_eq(smp->time_us, t0 + (gint64)(first + i) * VS_STEP_US);
        ck_assert_str_eq(smp->uuid, VS_TEST_DOMAIN_UUID);
        ck_assert_str_eq(smp->name, "test");
        ck_assert_double_eq_tol(smp->interval_s, 1.0, 1e-6);
    }
}

START_TEST(test_outage_spools_and_replays_once)
{
    g_autofree char *dir = vsTestMakeTempDir("vssampler-XXXXXX");
    g_autofree char *db = vsTestPgCreateDatabase(vsPg, "sampler_outage");
    g_autoptr(vsHypervisor) hv = vsOpenTestDriver();
    g_autoptr(vsSampler) s = vsNewSampler(dir);
    g_autoptr(GError) error = NULL;
    vsStore *store = vsOpenStore(db);
    gint64 t0 = (g_get_real_time() / VS_STEP_US) * VS_STEP_US;
    guint i;

    ck_assert_msg(vsStoreMigrate(store, NULL, &error), "%s", error ? error->message : "");
    /* cycle 0 only primes the counters; 1..4 are stored directly */
    for (i = 0; i <= 4; i++)
        vsCycle(s, hv, store, t0 + (gint64)i * VS_STEP_US);
    ck_assert(vsTestSamplerStats(s).database_up);
    ck_assert_uint_eq(vsTestSamplerStats(s).samples_stored, 4);

    vsTestPgKill(vsPg);
    for (; i <= 9; i++)
        vsCycle(s, hv, store, t0 + (gint64)i * VS_STEP_US);
    ck_assert(!vsTestSamplerStats(s).database_up);
    ck_assert_uint_eq(vsTestSamplerStats(s).samples_spooled, 5);
    ck_assert_uint_eq(vsTestSamplerStats(s).spool_batches, 5);
    vsStoreFree(store);

    vsTestPgRestart(vsPg);
    store = vsOpenStore(db);
    /* the next cycle replays the spool first, then stores its own sample */
    vsCycle(s, hv, store, t0 + (gint64)i * VS_STEP_US);
    ck_assert(vsTestSamplerStats(s).database_up);
    ck_assert_uint_eq(vsTestSamplerStats(s).spool_batches, 0);
    ck_assert_uint_eq(vsTestSamplerStats(s).samples_stored, 10);
    vsAssertSeries(store, t0, 1, 10);
    vsStoreFree(store);
    vsTestRemoveTree(dir);
}
END_TEST

/* A spool left by a killed process is replayed by the next one, and a
 * second replay of the same batches (a crash after commit, before the
 * spool shrank) stores nothing twice. */
START_TEST(test_spool_survives_restart)
{
    g_autofree char *dir = vsTestMakeTempDir("vssampler-XXXXXX");
    g_autofree char *db = vsTestPgCreateDatabase(vsPg, "sampler_restart");
    g_autoptr(vsHypervisor) hv = vsOpenTestDriver();
    g_autoptr(GError) error = NULL;
    g_autoptr(vsStore) store = vsOpenStore(db);
    gint64 t0 = (g_get_real_time() / VS_STEP_US) * VS_STEP_US;
    vsSampler *s = vsNewSampler(dir);

    ck_assert_msg(vsStoreMigrate(store, NULL, &error), "%s", error ? error->message : "");
    for (guint i = 0; i <= 3; i++)
        vsCycle(s, hv, NULL, t0 + (gint64)i * VS_STEP_US);
    ck_assert_uint_eq(vsTestSamplerStats(s).spool_batches, 3);
    vsSamplerFree(s);

    s = vsNewSampler(dir);
    ck_assert_uint_eq(vsTestSamplerStats(s).spool_batches, 3);
    ck_assert_msg(vsSamplerReplay(s, store, &error), "%s", error ? error->message : "");
    ck_assert_uint_eq(vsTestSamplerStats(s).spool_batches, 0);
    vsAssertSeries(store, t0, 1, 3);
    vsSamplerFree(s);
    vsTestRemoveTree(dir);
}
END_TEST

START_TEST(test_labels_travel_with_samples)
{
    g_autofree char *dir = vsTestMakeTempDir("vssampler-XXXXXX");
    g_autofree char *db = vsTestPgCreateDatabase(vsPg, "sampler_labels");
    g_autoptr(vsHypervisor) hv = vsOpenTestDriver();
    g_autoptr(vsSampler) s = vsNewSampler(dir);
    g_autoptr(GError) error = NULL;
    g_autoptr(vsStore) store = vsOpenStore(db);
    g_autoptr(GHashTable) labels = NULL;
    g_autoptr(GArray) series = NULL;
    gint64 t0 = (g_get_real_time() / VS_STEP_US) * VS_STEP_US;

    ck_assert_msg(vsStoreMigrate(store, NULL, &error), "%s", error ? error->message : "");
    /* labels in the domain's metadata, and from annotate, which wins */
    ck_assert_msg(vsHypervisorSetMetadata(hv, "test",
                                          "<domain><labels><label name='requests_per_s'>5</label>"
                                          "<label name='tier'>gold</label></labels></domain>",
                                          VS_AFFECT_LIVE, &error),
                  "%s", error ? error->message : "");
    ck_assert_msg(vsStoreSetDomainLabels(store, VS_TEST_DOMAIN_UUID, "test",
                                         "{\"requests_per_s\": \"1200\"}", &error),
                  "%s", error ? error->message : "");
    ck_assert((labels = vsStoreGetDomainLabels(store, &error)));
    vsSamplerSetLabels(s, labels);
    vsCycle(s, hv, store, t0);
    vsCycle(s, hv, store, t0 + VS_STEP_US);
    series = vsStoreQuerySamples(store, "test", t0, G_MAXINT64, &error);
    ck_assert_msg(series != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(series->len, 1);
    ck_assert_ptr_nonnull(g_array_index(series, vsSample, 0).labels);
    ck_assert_str_eq(g_array_index(series, vsSample, 0).labels,
                     "{\"tier\": \"gold\", \"requests_per_s\": \"1200\"}");
    vsTestRemoveTree(dir);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("sampler");
    TCase *outage = tcase_create("outage");
    TCase *store = tcase_create("store");

    /* the outage kills its own server: a tcase of its own */
    tcase_add_unchecked_fixture(outage, vsSetupPg, vsTeardownPg);
    tcase_set_timeout(outage, 120);
    tcase_add_test(outage, test_outage_spools_and_replays_once);
    suite_add_tcase(s, outage);

    tcase_add_unchecked_fixture(store, vsSetupPg, vsTeardownPg);
    tcase_set_timeout(store, 120);
    tcase_add_test(store, test_spool_survives_restart);
    tcase_add_test(store, test_labels_travel_with_samples);
    suite_add_tcase(s, store);
    return vsTestRunSuite(s);
}
