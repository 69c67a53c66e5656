/*
 * vspgforecasttest.c: forecasts, forecast errors, anomalies and history in
 * the PostgreSQL store
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vstestutils.h"
#include "postgres/vspg.h"
#include "store/vsstore.h"
#include "telemetry/vssample.h"
#include "util/vserror.h"

#define UUID_A "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define UUID_B "0b5c3f9e-7d1a-4f3b-9e8c-2a6d4b1c0e7f"
#define UUID_C "5d6e7f80-1a2b-4c3d-8e9f-a0b1c2d3e4f5"
/* 2024-03-10 00:00:00 UTC */
#define DAY0_US (G_GINT64_CONSTANT(1710028800) * G_USEC_PER_SEC)
#define MIN_US (G_GINT64_CONSTANT(60) * G_USEC_PER_SEC)
#define SLOT_US (5 * MIN_US)
#define HOUR_US (60 * MIN_US)
#define DAY_US (24 * HOUR_US)
#define DAY_MS (G_GUINT64_CONSTANT(86400000))
/* Everything an array literal must escape, and a name that reads "NULL". */
#define TRICKY_NAME "vm {\"q\"}, \\back\\ NULL \xc3\xbc"

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

static GArray *
forecastArray(void)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(vsForecastRecord));

    g_array_set_clear_func(a, (GDestroyNotify)vsForecastRecordClear);
    return a;
}

static vsForecastRecord *
addForecast(GArray *a, const char *uuid, const char *name, vsResourceKind resource,
            gint64 at_us, double point, double actual)
{
    vsForecastRecord r;

    vsForecastRecordInit(&r);
    g_strlcpy(r.uuid, uuid, sizeof(r.uuid));
    r.name = g_strdup(name);
    r.resource = resource;
    r.at_us = at_us;
    r.made_at_us = at_us - SLOT_US;
    r.model = g_strdup("ewma");
    r.point = point;
    r.lower90 = point - 1;
    r.upper90 = point + 1;
    r.lower99 = point - 2;
    r.upper99 = point + 2;
    r.actual = actual;
    g_array_append_val(a, r);
    return &g_array_index(a, vsForecastRecord, a->len - 1);
}

static void
writeForecasts(vsStore *store, GArray *records)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vsStoreWriteForecasts(store, "h1", records, &error), "write: %s",
                  error ? error->message : "");
}

static GArray *
queryForecasts(vsStore *store, const char *domain, gint64 since_us)
{
    g_autoptr(GError) error = NULL;
    GArray *got = vsStoreQueryForecasts(store, domain, since_us, &error);

    ck_assert_msg(got != NULL, "query: %s", error ? error->message : "");
    return got;
}

static void
assertForecastEqual(const vsForecastRecord *got, const vsForecastRecord *expect)
{
    ck_assert_str_eq(got->uuid, expect->uuid);
    ck_assert_str_eq(got->name, expect->name);
    ck_assert_int_eq(got->resource, expect->resource);
    ck_assert_int_eq(got->at_us, expect->at_us);
    ck_assert_int_eq(got->made_at_us, expect->made_at_us);
    ck_assert_str_eq(got->model, expect->model);
    vsTestAssertDouble(got->point, expect->point, "point");
    vsTestAssertDouble(got->lower90, expect->lower90, "lower90");
    vsTestAssertDouble(got->upper90, expect->upper90, "upper90");
    vsTestAssertDouble(got->lower99, expect->lower99, "lower99");
    vsTestAssertDouble(got->upper99, expect->upper99, "upper99");
    vsTestAssertDouble(got->actual, expect->actual, "actual");
}

START_TEST(test_forecast_roundtrip)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "fc_roundtrip");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) in = forecastArray();
    g_autoptr(GArray) got = NULL;
    vsForecastRecord *r;

    addForecast(in, UUID_A, "vm1", VS_RESOURCE_MEMORY, DAY0_US, 2048.5, NAN);
    addForecast(in, UUID_A, "vm1", VS_RESOURCE_CPU, DAY0_US, 0.1, 0.30000000000000004);
    addForecast(in, UUID_A, "vm1", VS_RESOURCE_CPU, DAY0_US + SLOT_US, 1e-300, NAN);
    addForecast(in, UUID_B, TRICKY_NAME, VS_RESOURCE_CPU, DAY0_US, -0.5, NAN);
    /* no calibrated interval yet */
    r = &g_array_index(in, vsForecastRecord, 2);
    r->lower90 = r->upper90 = r->lower99 = r->upper99 = NAN;
    r->made_at_us = DAY0_US + 123456;
    writeForecasts(store, in);

    /* by UUID, in slot then resource order */
    got = queryForecasts(store, UUID_A, DAY0_US);
    ck_assert_uint_eq(got->len, 3);
    assertForecastEqual(&g_array_index(got, vsForecastRecord, 0),
                        &g_array_index(in, vsForecastRecord, 1));
    assertForecastEqual(&g_array_index(got, vsForecastRecord, 1),
                        &g_array_index(in, vsForecastRecord, 0));
    assertForecastEqual(&g_array_index(got, vsForecastRecord, 2),
                        &g_array_index(in, vsForecastRecord, 2));
    g_clear_pointer(&got, g_array_unref);

    /* by name, with the escapes an array literal needs */
    got = queryForecasts(store, TRICKY_NAME, 0);
    ck_assert_uint_eq(got->len, 1);
    assertForecastEqual(&g_array_index(got, vsForecastRecord, 0),
                        &g_array_index(in, vsForecastRecord, 3));
    vsTestPgAssertQuery(db, "SELECT host FROM forecasts WHERE domain_uuid = '" UUID_B "'", "h1");
    g_clear_pointer(&got, g_array_unref);

    /* since is inclusive, and future slots come too */
    got = queryForecasts(store, "vm1", DAY0_US + 1);
    ck_assert_uint_eq(got->len, 1);
    ck_assert_int_eq(g_array_index(got, vsForecastRecord, 0).at_us, DAY0_US + SLOT_US);
    g_clear_pointer(&got, g_array_unref);
    got = queryForecasts(store, "nosuch", 0);
    ck_assert_uint_eq(got->len, 0);
}
END_TEST

START_TEST(test_forecast_upsert)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "fc_upsert");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) in = forecastArray();
    g_autoptr(GArray) got = NULL;
    vsForecastRecord *r;

    /* a slot is re-forecast as it approaches: the latest forecast stays */
    addForecast(in, UUID_A, "vm1", VS_RESOURCE_CPU, DAY0_US, 1.0, NAN);
    addForecast(in, UUID_A, "vm1", VS_RESOURCE_CPU, DAY0_US + SLOT_US, 1.5, NAN);
    writeForecasts(store, in);
    g_array_set_size(in, 0);
    r = addForecast(in, UUID_A, "vm1", VS_RESOURCE_CPU, DAY0_US, 2.0, NAN);
    g_free(r->model);
    r->model = g_strdup("ar");
    writeForecasts(store, in);
    got = queryForecasts(store, UUID_A, 0);
    ck_assert_uint_eq(got->len, 2);
    vsTestAssertDouble(g_array_index(got, vsForecastRecord, 0).point, 2.0, "re-forecast point");
    ck_assert_str_eq(g_array_index(got, vsForecastRecord, 0).model, "ar");
    g_clear_pointer(&got, g_array_unref);

    /* the slot is observed */
    g_array_set_size(in, 0);
    addForecast(in, UUID_A, "vm1", VS_RESOURCE_CPU, DAY0_US, 2.0, 2.25);
    writeForecasts(store, in);
    /* a later forecast of the observed slot changes nothing, nor clears it */
    g_array_set_size(in, 0);
    addForecast(in, UUID_A, "vm1-renamed", VS_RESOURCE_CPU, DAY0_US, 9.0, NAN);
    addForecast(in, UUID_A, "vm1-renamed", VS_RESOURCE_CPU, DAY0_US + SLOT_US, 1.75, NAN);
    writeForecasts(store, in);
    g_array_set_size(in, 0);
    addForecast(in, UUID_A, "vm1", VS_RESOURCE_CPU, DAY0_US, 9.0, 7.0);
    writeForecasts(store, in);

    got = queryForecasts(store, UUID_A, 0);
    ck_assert_uint_eq(got->len, 2);
    vsTestAssertDouble(g_array_index(got, vsForecastRecord, 0).actual, 2.25, "actual kept");
    vsTestAssertDouble(g_array_index(got, vsForecastRecord, 0).point, 2.0, "scored point kept");
    ck_assert_str_eq(g_array_index(got, vsForecastRecord, 0).name, "vm1");
    vsTestAssertDouble(g_array_index(got, vsForecastRecord, 1).point, 1.75, "open slot updated");
    ck_assert_str_eq(g_array_index(got, vsForecastRecord, 1).name, "vm1-renamed");
    g_clear_pointer(&got, g_array_unref);

    /* duplicates in one batch: one with an actual wins, else the last */
    g_array_set_size(in, 0);
    addForecast(in, UUID_B, "vm2", VS_RESOURCE_MEMORY, DAY0_US, 100, NAN);
    addForecast(in, UUID_B, "vm2", VS_RESOURCE_MEMORY, DAY0_US, 200, NAN);
    addForecast(in, UUID_B, "vm2", VS_RESOURCE_MEMORY, DAY0_US + SLOT_US, 300, 310);
    addForecast(in, UUID_B, "vm2", VS_RESOURCE_MEMORY, DAY0_US + SLOT_US, 400, NAN);
    writeForecasts(store, in);
    got = queryForecasts(store, UUID_B, 0);
    ck_assert_uint_eq(got->len, 2);
    vsTestAssertDouble(g_array_index(got, vsForecastRecord, 0).point, 200, "last duplicate");
    vsTestAssertDouble(g_array_index(got, vsForecastRecord, 1).actual, 310, "observed duplicate");
    vsTestAssertDouble(g_array_index(got, vsForecastRecord, 1).point, 300, "observed duplicate");
}
END_TEST

START_TEST(test_forecast_invalid)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "fc_invalid");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) in = forecastArray();
    g_autoptr(GError) error = NULL;

    /* empty: nothing to do */
    ck_assert(vsStoreWriteForecasts(store, "h1", in, &error));
    ck_assert(vsStoreWriteForecasts(store, "h1", NULL, &error));

    /* one bad record fails the whole batch, before anything is sent */
    addForecast(in, UUID_A, "vm1", VS_RESOURCE_CPU, DAY0_US, 1.0, NAN);
    addForecast(in, "not-a-uuid", "vm2", VS_RESOURCE_CPU, DAY0_US, 1.0, NAN);
    ck_assert(!vsStoreWriteForecasts(store, "h1", in, &error));
    ck_assert_msg(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID), "%s", error->message);
    ck_assert_str_eq(error->message, "invalid domain UUID 'not-a-uuid'");
    g_clear_error(&error);

    g_array_set_size(in, 1);
    addForecast(in, UUID_B, "vm2", VS_RESOURCE_CPU, DAY0_US, NAN, NAN);
    ck_assert(!vsStoreWriteForecasts(store, "h1", in, &error));
    ck_assert_msg(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID), "%s", error->message);
    ck_assert_msg(strstr(error->message, "'vm2'"), "%s", error->message);
    g_clear_error(&error);

    g_array_set_size(in, 1);
    addForecast(in, UUID_B, "vm2", (vsResourceKind)7, DAY0_US, 1.0, NAN);
    ck_assert(!vsStoreWriteForecasts(store, "h1", in, &error));
    ck_assert_msg(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID), "%s", error->message);
    g_clear_error(&error);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM forecasts", "0");
}
END_TEST

/* One statement per batch, whatever its size. */
START_TEST(test_forecast_large_batch)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "fc_large");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) in = forecastArray();
    g_autoptr(GArray) got = NULL;

    /* 500 domains x 2 resources x 12 slots ahead */
    for (guint d = 0; d < 500; d++) {
        g_autofree char *uuid = g_strdup_printf("00000000-0000-4000-8000-%012x", d);
        g_autofree char *name = g_strdup_printf("vm%u", d);

        for (guint h = 0; h < 12; h++) {
            addForecast(in, uuid, name, VS_RESOURCE_CPU, DAY0_US + h * SLOT_US, d + h / 100.0, NAN);
            addForecast(in, uuid, name, VS_RESOURCE_MEMORY, DAY0_US + h * SLOT_US, 1024 * d, NAN);
        }
    }
    writeForecasts(store, in);
    writeForecasts(store, in);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM forecasts", "12000");
    got = queryForecasts(store, "vm499", 0);
    ck_assert_uint_eq(got->len, 24);
    vsTestAssertDouble(g_array_index(got, vsForecastRecord, 22).point, 499.11, "cpu point");
}
END_TEST

static GArray *
errorArray(void)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(vsForecastError));

    g_array_set_clear_func(a, (GDestroyNotify)vsForecastErrorClear);
    return a;
}

static vsForecastError *
addError(GArray *a, const char *uuid, const char *name, vsResourceKind resource,
         const char *model, double mae, guint n)
{
    vsForecastError e;

    vsForecastErrorInit(&e);
    g_strlcpy(e.uuid, uuid, sizeof(e.uuid));
    e.name = g_strdup(name);
    e.resource = resource;
    e.model = g_strdup(model);
    e.mae = mae;
    e.mase = mae / 2;
    e.coverage90 = 0.9;
    e.n = n;
    e.updated_us = DAY0_US;
    g_array_append_val(a, e);
    return &g_array_index(a, vsForecastError, a->len - 1);
}

static GArray *
queryErrors(vsStore *store, const char *domain)
{
    g_autoptr(GError) error = NULL;
    GArray *got = vsStoreQueryForecastErrors(store, domain, &error);

    ck_assert_msg(got != NULL, "query: %s", error ? error->message : "");
    return got;
}

START_TEST(test_forecast_errors)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "fc_errors");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) in = errorArray();
    g_autoptr(GArray) got = NULL;
    g_autoptr(GError) error = NULL;
    const vsForecastError *e;

    addError(in, UUID_B, "vm2", VS_RESOURCE_CPU, "seasonal", 0.25, 10);
    addError(in, UUID_A, "vm1", VS_RESOURCE_MEMORY, "ar", 64, 12);
    addError(in, UUID_A, "vm1", VS_RESOURCE_CPU, "ewma", 0.125, 12)->mase = NAN;
    ck_assert_msg(vsStoreSetForecastErrors(store, in, &error), "%s", error ? error->message : "");

    /* all, by name then resource */
    got = queryErrors(store, NULL);
    ck_assert_uint_eq(got->len, 3);
    e = &g_array_index(got, vsForecastError, 0);
    ck_assert_str_eq(e->uuid, UUID_A);
    ck_assert_str_eq(e->name, "vm1");
    ck_assert_int_eq(e->resource, VS_RESOURCE_CPU);
    ck_assert_str_eq(e->model, "ewma");
    vsTestAssertDouble(e->mae, 0.125, "mae");
    vsTestAssertDouble(e->mase, NAN, "mase");
    vsTestAssertDouble(e->coverage90, 0.9, "coverage90");
    ck_assert_uint_eq(e->n, 12);
    ck_assert_int_eq(e->updated_us, DAY0_US);
    ck_assert_int_eq(g_array_index(got, vsForecastError, 1).resource, VS_RESOURCE_MEMORY);
    ck_assert_str_eq(g_array_index(got, vsForecastError, 2).name, "vm2");
    g_clear_pointer(&got, g_array_unref);

    /* upsert: the newest score replaces the row; 0 is the server's now */
    g_array_set_size(in, 0);
    addError(in, UUID_A, "vm1", VS_RESOURCE_CPU, "holt-winters", 0.5, 13)->updated_us = 0;
    ck_assert(vsStoreSetForecastErrors(store, in, &error));
    got = queryErrors(store, UUID_A);
    ck_assert_uint_eq(got->len, 2);
    e = &g_array_index(got, vsForecastError, 0);
    ck_assert_str_eq(e->model, "holt-winters");
    vsTestAssertDouble(e->mae, 0.5, "mae");
    vsTestAssertDouble(e->mase, 0.25, "mase");
    ck_assert_uint_eq(e->n, 13);
    ck_assert_msg(llabs(e->updated_us - g_get_real_time()) < 60 * G_USEC_PER_SEC,
                  "updated %" G_GINT64_FORMAT, e->updated_us);
    g_clear_pointer(&got, g_array_unref);

    got = queryErrors(store, "vm2");
    ck_assert_uint_eq(got->len, 1);
    g_clear_pointer(&got, g_array_unref);
    got = queryErrors(store, "nosuch");
    ck_assert_uint_eq(got->len, 0);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM forecast_errors", "3");
}
END_TEST

static GArray *
anomalyArray(void)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(vsAnomaly));

    g_array_set_clear_func(a, (GDestroyNotify)vsAnomalyClear);
    return a;
}

static void
addAnomaly(GArray *a, const char *uuid, const char *name, vsResourceKind resource,
           gint64 at_us, double value)
{
    vsAnomaly x;

    vsAnomalyInit(&x);
    g_strlcpy(x.uuid, uuid, sizeof(x.uuid));
    x.name = g_strdup(name);
    x.resource = resource;
    x.at_us = at_us;
    x.value = value;
    x.lower99 = 0.5;
    x.upper99 = 1.5;
    x.model = g_strdup("ewma");
    g_array_append_val(a, x);
}

static void
recordAnomalies(vsStore *store, const char *host, GArray *anomalies)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vsStoreRecordAnomalies(store, host, anomalies, &error), "record: %s",
                  error ? error->message : "");
}

static GArray *
queryAnomalies(vsStore *store, const char *domain, gint64 since_us, guint limit)
{
    g_autoptr(GError) error = NULL;
    GArray *got = vsStoreQueryAnomalies(store, domain, since_us, limit, &error);

    ck_assert_msg(got != NULL, "query: %s", error ? error->message : "");
    return got;
}

START_TEST(test_anomalies)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "fc_anomalies");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) in = anomalyArray();
    g_autoptr(GArray) got = NULL;
    g_autoptr(GError) error = NULL;
    const vsAnomaly *a;
    gint64 before = g_get_real_time();

    addAnomaly(in, UUID_A, "vm1", VS_RESOURCE_CPU, DAY0_US, 3.5);
    addAnomaly(in, UUID_A, "vm1", VS_RESOURCE_MEMORY, DAY0_US + SLOT_US, 8192);
    addAnomaly(in, UUID_B, "vm2", VS_RESOURCE_CPU, DAY0_US + 2 * SLOT_US, 0.01);
    addAnomaly(in, UUID_A, "vm1", VS_RESOURCE_CPU, DAY0_US + 3 * SLOT_US, 4.0);
    recordAnomalies(store, "h1", in);
    /* a retry records nothing twice */
    recordAnomalies(store, "h2", in);
    vsTestPgAssertQuery(db, "SELECT count(*) FROM anomalies", "4");

    /* all, newest first */
    got = queryAnomalies(store, NULL, 0, 0);
    ck_assert_uint_eq(got->len, 4);
    a = &g_array_index(got, vsAnomaly, 0);
    ck_assert_str_eq(a->uuid, UUID_A);
    ck_assert_str_eq(a->name, "vm1");
    ck_assert_str_eq(a->host, "h1");
    ck_assert_int_eq(a->resource, VS_RESOURCE_CPU);
    ck_assert_int_eq(a->at_us, DAY0_US + 3 * SLOT_US);
    vsTestAssertDouble(a->value, 4.0, "value");
    vsTestAssertDouble(a->lower99, 0.5, "lower99");
    vsTestAssertDouble(a->upper99, 1.5, "upper99");
    ck_assert_str_eq(a->model, "ewma");
    ck_assert_msg(a->recorded_us >= before - 60 * G_USEC_PER_SEC, "recorded");
    ck_assert_str_eq(g_array_index(got, vsAnomaly, 1).name, "vm2");
    ck_assert_int_eq(g_array_index(got, vsAnomaly, 3).at_us, DAY0_US);
    g_clear_pointer(&got, g_array_unref);

    /* by domain (name or UUID), since, limit */
    got = queryAnomalies(store, "vm1", 0, 0);
    ck_assert_uint_eq(got->len, 3);
    g_clear_pointer(&got, g_array_unref);
    got = queryAnomalies(store, UUID_A, DAY0_US + SLOT_US, 0);
    ck_assert_uint_eq(got->len, 2);
    ck_assert_int_eq(g_array_index(got, vsAnomaly, 1).resource, VS_RESOURCE_MEMORY);
    g_clear_pointer(&got, g_array_unref);
    got = queryAnomalies(store, NULL, DAY0_US + SLOT_US, 2);
    ck_assert_uint_eq(got->len, 2);
    ck_assert_int_eq(g_array_index(got, vsAnomaly, 1).at_us, DAY0_US + 2 * SLOT_US);
    g_clear_pointer(&got, g_array_unref);
    got = queryAnomalies(store, "nosuch", 0, 0);
    ck_assert_uint_eq(got->len, 0);

    /* an anomaly needs its value and interval */
    g_array_set_size(in, 0);
    addAnomaly(in, UUID_C, "vm3", VS_RESOURCE_CPU, DAY0_US, NAN);
    ck_assert(!vsStoreRecordAnomalies(store, "h1", in, &error));
    ck_assert_msg(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID), "%s", error->message);
}
END_TEST

START_TEST(test_find_domain)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "fc_find");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) fc = forecastArray();
    g_autoptr(GArray) errs = errorArray();
    g_autoptr(GArray) an = anomalyArray();
    g_autoptr(GError) error = NULL;
    g_autofree char *uuid = NULL;
    g_autofree char *name = NULL;

    ck_assert(!vsStoreFindForecastDomain(store, "vm1", &uuid, &name, &error));
    ck_assert_msg(g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND), "%s", error->message);
    ck_assert_msg(strstr(error->message, "'vm1'"), "%s", error->message);
    ck_assert(uuid == NULL && name == NULL);
    g_clear_error(&error);

    /* known through any of the three tables */
    addForecast(fc, UUID_A, "vm1", VS_RESOURCE_CPU, DAY0_US, 1, NAN);
    writeForecasts(store, fc);
    addError(errs, UUID_B, "vm2", VS_RESOURCE_CPU, "ewma", 1, 1);
    ck_assert(vsStoreSetForecastErrors(store, errs, &error));
    addAnomaly(an, UUID_C, "vm3", VS_RESOURCE_CPU, DAY0_US, 9);
    recordAnomalies(store, "h1", an);

    ck_assert_msg(vsStoreFindForecastDomain(store, "vm1", &uuid, &name, &error), "%s",
                  error ? error->message : "");
    ck_assert_str_eq(uuid, UUID_A);
    ck_assert_str_eq(name, "vm1");
    g_clear_pointer(&uuid, g_free);
    g_clear_pointer(&name, g_free);
    ck_assert(vsStoreFindForecastDomain(store, UUID_B, &uuid, &name, &error));
    ck_assert_str_eq(name, "vm2");
    g_clear_pointer(&uuid, g_free);
    g_clear_pointer(&name, g_free);
    ck_assert(vsStoreFindForecastDomain(store, "vm3", &uuid, NULL, &error));
    ck_assert_str_eq(uuid, UUID_C);
    g_clear_pointer(&uuid, g_free);

    /* a name reused by a new domain: the latest one */
    g_array_set_size(fc, 0);
    addForecast(fc, UUID_C, "vm1", VS_RESOURCE_CPU, DAY0_US + HOUR_US, 1, NAN);
    writeForecasts(store, fc);
    ck_assert(vsStoreFindForecastDomain(store, "vm1", &uuid, NULL, &error));
    ck_assert_str_eq(uuid, UUID_C);
}
END_TEST

static void
addSample(vsSampleBatch *b, gint64 time_us, const char *uuid, double cpu, gint64 mem_kib)
{
    vsSample x;

    vsSampleInit(&x);
    x.time_us = time_us;
    g_strlcpy(x.uuid, uuid, sizeof(x.uuid));
    x.name = g_strdup("vm1");
    x.cpu_vcpus = cpu;
    x.mem_used_kib = mem_kib;
    g_array_append_val(b->samples, x);
}

static GArray *
queryHistory(vsStore *store, const char *uuid, gint64 since_us)
{
    g_autoptr(GError) error = NULL;
    GArray *got = vsStoreQueryHistory(store, uuid, since_us, &error);

    ck_assert_msg(got != NULL, "history: %s", error ? error->message : "");
    return got;
}

static void
assertPoint(GArray *h, guint i, gint64 at_us, double cpu, double mem_mib)
{
    const vsHistoryPoint *p = &g_array_index(h, vsHistoryPoint, i);

    ck_assert_int_eq(p->at_us, at_us);
    /* cpu is stored as real */
    if (isnan(cpu))
        ck_assert(isnan(p->cpu));
    else
        ck_assert_msg(fabs(p->cpu - cpu) < 1e-6, "cpu %g, expected %g", p->cpu, cpu);
    vsTestAssertDouble(p->mem_mib, mem_mib, "mem_mib");
}

START_TEST(test_history)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "fc_history");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(vsSampleBatch) raw = vsSampleBatchNew(0);
    g_autoptr(GArray) h = NULL;
    g_autoptr(GError) error = NULL;

    /* two samples in each of the first two buckets, one of another domain */
    addSample(raw, DAY0_US + 1 * MIN_US, UUID_A, 1.0, 1024);
    addSample(raw, DAY0_US + 2 * MIN_US, UUID_A, 2.0, 3072);
    addSample(raw, DAY0_US + 6 * MIN_US, UUID_A, 0.5, -1);
    addSample(raw, DAY0_US + 7 * MIN_US, UUID_A, 1.5, -1);
    addSample(raw, DAY0_US + 1 * MIN_US, UUID_B, 8.0, 8192);
    ck_assert(vsStoreWriteSamples(store, "h1", raw, &error));

    /* raw samples are read only once rolled up: the live day has no
     * per-domain index to find them by */
    h = queryHistory(store, UUID_A, DAY0_US);
    ck_assert_uint_eq(h->len, 0);
    g_clear_pointer(&h, g_array_unref);

    ck_assert(vsStoreMaintainSamples(store, DAY0_US + HOUR_US, 2, 0, 0, &error));
    vsTestPgAssertQuery(db, "SELECT count(*) FROM samples_5m WHERE domain_uuid = '" UUID_A "'", "2");
    h = queryHistory(store, UUID_A, 0);
    ck_assert_uint_eq(h->len, 2);
    assertPoint(h, 0, DAY0_US, 1.5, 2.0);
    assertPoint(h, 1, DAY0_US + SLOT_US, 1.0, NAN);
    g_clear_pointer(&h, g_array_unref);

    /* since drops earlier buckets */
    h = queryHistory(store, UUID_A, DAY0_US + SLOT_US);
    ck_assert_uint_eq(h->len, 1);
    ck_assert_int_eq(g_array_index(h, vsHistoryPoint, 0).at_us, DAY0_US + SLOT_US);
    g_clear_pointer(&h, g_array_unref);

    h = queryHistory(store, UUID_C, 0);
    ck_assert_uint_eq(h->len, 0);
    g_clear_pointer(&h, g_array_unref);
    ck_assert(!vsStoreQueryHistory(store, "vm1", 0, &error));
    ck_assert_msg(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID), "%s", error->message);
}
END_TEST

START_TEST(test_retention)
{
    g_autofree char *db = vsTestPgFreshDatabase(pg, "fc_retention");
    g_autoptr(vsStore) store = vsTestStoreOpenMigrated(db);
    g_autoptr(GArray) fc = forecastArray();
    g_autoptr(GArray) errs = errorArray();
    g_autoptr(GArray) an = anomalyArray();
    g_autoptr(GError) error = NULL;
    gint64 now = DAY0_US + 40 * DAY_US;

    addForecast(fc, UUID_A, "vm1", VS_RESOURCE_CPU, now - 8 * DAY_US, 1, 1);
    addForecast(fc, UUID_A, "vm1", VS_RESOURCE_CPU, now - 6 * DAY_US, 1, 1);
    addForecast(fc, UUID_A, "vm1", VS_RESOURCE_CPU, now + SLOT_US, 1, NAN);
    writeForecasts(store, fc);
    addError(errs, UUID_A, "vm1", VS_RESOURCE_CPU, "ewma", 1, 1)->updated_us = now - 31 * DAY_US;
    addError(errs, UUID_B, "vm2", VS_RESOURCE_CPU, "ewma", 1, 1)->updated_us = now - DAY_US;
    ck_assert(vsStoreSetForecastErrors(store, errs, &error));
    addAnomaly(an, UUID_A, "vm1", VS_RESOURCE_CPU, now - 31 * DAY_US, 9);
    addAnomaly(an, UUID_A, "vm1", VS_RESOURCE_CPU, now - 29 * DAY_US, 9);
    recordAnomalies(store, "h1", an);

    /* 0 keeps everything */
    ck_assert_msg(vsStoreMaintainSamples(store, now, 2, 0, 0, &error), "%s",
                  error ? error->message : "");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM forecasts", "3");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM forecast_errors", "2");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM anomalies", "2");

    /* forecasts with the raw samples, scores and anomalies with the rollups */
    ck_assert(vsStoreMaintainSamples(store, now, 2, 7 * DAY_MS, 30 * DAY_MS, &error));
    vsTestPgAssertQuery(db, "SELECT count(*) FROM forecasts", "2");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM forecasts WHERE at < now() - interval '1 year'"
                    " AND actual IS NULL", "1");
    vsTestPgAssertQuery(db, "SELECT string_agg(domain_name, ' ') FROM forecast_errors", "vm2");
    vsTestPgAssertQuery(db, "SELECT count(*) FROM anomalies", "1");
}
END_TEST

static Suite *
pgForecastSuite(void)
{
    Suite *s = suite_create("pgforecast");
    TCase *tc = tcase_create("server");

    tcase_add_unchecked_fixture(tc, pgSetup, pgTeardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_forecast_roundtrip);
    tcase_add_test(tc, test_forecast_upsert);
    tcase_add_test(tc, test_forecast_invalid);
    tcase_add_test(tc, test_forecast_large_batch);
    tcase_add_test(tc, test_forecast_errors);
    tcase_add_test(tc, test_anomalies);
    tcase_add_test(tc, test_find_domain);
    tcase_add_test(tc, test_history);
    tcase_add_test(tc, test_retention);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    vsStoreRegisterDriver(&vsPgStoreDriver);
    return vsTestRunSuite(pgForecastSuite());
}
