/*
 * vscmd-insight.c: "forecast" and "anomalies": what virt-shadowd expects
 * each domain to use, how well it has guessed, and what surprised it
 *
 * Units are those of the forecasts: CPU in vCPU-equivalents, memory in MiB.
 */
#include <config.h>

#include <math.h>

#include "vscli.h"
#include "util/vserror.h"
#include "util/vsutil.h"

/* --- formatting --------------------------------------------------------------- */

static const char *
vsInsightUnit(vsResourceKind resource)
{
    return resource == VS_RESOURCE_CPU ? "vCPUs" : "MiB";
}

/* The unit as JSON names it. */
static const char *
vsInsightJsonUnit(vsResourceKind resource)
{
    return resource == VS_RESOURCE_CPU ? "vcpus" : "mib";
}

/* CPU with two decimals, memory in whole MiB; "-" when unknown. */
static char *
vsInsightValue(vsResourceKind resource, double v)
{
    if (isnan(v))
        return g_strdup("-");
    return g_strdup_printf(resource == VS_RESOURCE_CPU ? "%.2f" : "%.0f", v);
}

/* "0.40..1.20": ".." because a bound may be negative. */
static char *
vsInsightRange(vsResourceKind resource, double lo, double hi)
{
    g_autofree char *l = NULL;
    g_autofree char *h = NULL;

    if (isnan(lo) || isnan(hi))
        return g_strdup("-");
    l = vsInsightValue(resource, lo);
    h = vsInsightValue(resource, hi);
    return g_strdup_printf("%s..%s", l, h);
}

/* @text (taken) followed by the unit, unless it is "-". */
static char *
vsInsightWithUnit(vsResourceKind resource, char *text)
{
    g_autofree char *owned = text;

    if (g_str_equal(owned, "-"))
        return g_steal_pointer(&owned);
    return g_strdup_printf("%s %s", owned, vsInsightUnit(resource));
}

/* --- options ------------------------------------------------------------------ */

/* --since (or @fallback) as a time: a bad duration is a usage error. */
static gboolean
vsInsightSince(const vsCliArgs *args, const char *fallback, gint64 *ret_since_us,
               GError **error)
{
    const char *text = vsCliArgsGet(args, "since");
    g_autoptr(GError) local = NULL;
    guint64 ms = 0;
    gint64 now = g_get_real_time();

    if (!vsParseDuration(text ? text : fallback, &ms, &local)) {
        g_set_error_literal(error, VS_ERROR, VS_ERROR_USAGE, local->message);
        return FALSE;
    }
    /* no further back than the epoch: the store's times start there */
    *ret_since_us = ms >= (guint64)now / 1000 ? 0 : now - (gint64)ms * 1000;
    return TRUE;
}

/* --- anomalies ---------------------------------------------------------------- */

static void
vsCmdAnomaliesJson(vsCli *cli, GArray *anomalies)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < anomalies->len; i++) {
        const vsAnomaly *a = &g_array_index(anomalies, vsAnomaly, i);

        vsJsonWriterBeginObject(w);
        vsCliJsonMemberTime(w, "time", a->at_us);
        vsJsonWriterMemberString(w, "domain", a->name);
        vsJsonWriterMemberString(w, "uuid", a->uuid);
        vsJsonWriterMemberString(w, "host", a->host);
        vsJsonWriterMemberString(w, "resource", vsStoreResourceToString(a->resource));
        vsJsonWriterMemberString(w, "unit", vsInsightJsonUnit(a->resource));
        vsJsonWriterMemberDouble(w, "value", a->value);
        vsJsonWriterMemberDouble(w, "lower99", a->lower99);
        vsJsonWriterMemberDouble(w, "upper99", a->upper99);
        vsJsonWriterMemberString(w, "model", a->model);
        vsCliJsonMemberTime(w, "recorded", a->recorded_us);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsCliPrintJson(cli, w);
}

static void
vsCmdAnomaliesTable(vsCli *cli, GArray *anomalies)
{
    g_autoptr(vsCliTable) t = vsCliTableNew("Time", "Domain", "Resource", "Value",
                                            "Expected (99%)", "Model", NULL);

    for (guint i = 0; i < anomalies->len; i++) {
        const vsAnomaly *a = &g_array_index(anomalies, vsAnomaly, i);
        g_autofree char *when = vsCliFormatTime(a->at_us);
        g_autofree char *value = vsInsightWithUnit(a->resource,
                                                   vsInsightValue(a->resource, a->value));
        g_autofree char *range = vsInsightWithUnit(a->resource,
                                                   vsInsightRange(a->resource, a->lower99,
                                                                  a->upper99));

        vsCliTableAddRow(t, when, a->name, vsStoreResourceToString(a->resource), value,
                         range, a->model, NULL);
    }
    vsCliTablePrint(cli, t);
}

static gboolean
vsCmdAnomalies(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const char *domain = vsCliArgsPositional(args, 0);
    g_autofree char *uuid = NULL;
    g_autoptr(GArray) anomalies = NULL;
    vsStore *store;
    gint64 since_us;
    guint limit;

    if (!vsInsightSince(args, "24h", &since_us, error) ||
        !vsCliGetLimit(args, 100, &limit, error))
        return FALSE;
    if (!(store = vsCliGetCheckedStore(cli, error)))
        return FALSE;
    /* a domain the forecasts never saw is an error, not an empty list */
    if (domain && !vsStoreFindForecastDomain(store, domain, &uuid, NULL, error))
        return FALSE;
    if (!(anomalies = vsStoreQueryAnomalies(store, uuid, since_us, limit, error)))
        return FALSE;

    if (vsCliWantJson(cli)) {
        vsCmdAnomaliesJson(cli, anomalies);
        return TRUE;
    }
    vsCmdAnomaliesTable(cli, anomalies);
    if (anomalies->len == 0)
        vsCliInfo(cli, "(no anomalies in that period)\n");
    return TRUE;
}

/* --- forecast ------------------------------------------------------------------- */

static void
vsCmdForecastJsonRecords(vsJsonWriter *w, GArray *forecasts)
{
    vsJsonWriterKey(w, "forecasts");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < forecasts->len; i++) {
        const vsForecastRecord *r = &g_array_index(forecasts, vsForecastRecord, i);

        vsJsonWriterBeginObject(w);
        vsCliJsonMemberTime(w, "slot", r->at_us);
        vsJsonWriterMemberString(w, "resource", vsStoreResourceToString(r->resource));
        vsJsonWriterMemberString(w, "unit", vsInsightJsonUnit(r->resource));
        vsJsonWriterMemberDouble(w, "point", r->point);
        vsJsonWriterMemberDouble(w, "lower90", r->lower90);
        vsJsonWriterMemberDouble(w, "upper90", r->upper90);
        vsJsonWriterMemberDouble(w, "lower99", r->lower99);
        vsJsonWriterMemberDouble(w, "upper99", r->upper99);
        vsJsonWriterMemberDouble(w, "actual", r->actual);
        vsJsonWriterMemberString(w, "model", r->model);
        vsCliJsonMemberTime(w, "made_at", r->made_at_us);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
}

static void
vsCmdForecastJsonErrors(vsJsonWriter *w, GArray *errors)
{
    vsJsonWriterKey(w, "errors");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < errors->len; i++) {
        const vsForecastError *e = &g_array_index(errors, vsForecastError, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "resource", vsStoreResourceToString(e->resource));
        vsJsonWriterMemberString(w, "unit", vsInsightJsonUnit(e->resource));
        vsJsonWriterMemberString(w, "model", e->model);
        vsJsonWriterMemberDouble(w, "mae", e->mae);
        vsJsonWriterMemberDouble(w, "mase", e->mase);
        vsJsonWriterMemberDouble(w, "coverage90", e->coverage90);
        vsJsonWriterMemberInt(w, "n", e->n);
        vsCliJsonMemberTime(w, "updated", e->updated_us);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
}

/* One table per resource: the units differ. */
static void
vsCmdForecastTable(vsCli *cli, GArray *forecasts, vsResourceKind resource)
{
    g_autoptr(vsCliTable) t = vsCliTableNew("Slot", "Forecast", "90%", "99%", "Actual",
                                            "Model", NULL);
    guint rows = 0;

    for (guint i = 0; i < forecasts->len; i++) {
        const vsForecastRecord *r = &g_array_index(forecasts, vsForecastRecord, i);
        g_autofree char *slot = NULL;
        g_autofree char *point = NULL;
        g_autofree char *r90 = NULL;
        g_autofree char *r99 = NULL;
        g_autofree char *actual = NULL;

        if (r->resource != resource)
            continue;
        slot = vsCliFormatTime(r->at_us);
        point = vsInsightValue(resource, r->point);
        r90 = vsInsightRange(resource, r->lower90, r->upper90);
        r99 = vsInsightRange(resource, r->lower99, r->upper99);
        actual = vsInsightValue(resource, r->actual);
        vsCliTableAddRow(t, slot, point, r90, r99, actual, r->model, NULL);
        rows++;
    }
    if (rows == 0)
        return;
    vsCliPrint(cli, "\n%s (%s)\n", resource == VS_RESOURCE_CPU ? "CPU" : "Memory",
               vsInsightUnit(resource));
    vsCliTablePrint(cli, t);
}

static void
vsCmdForecastErrorsTable(vsCli *cli, GArray *errors)
{
    g_autoptr(vsCliTable) t = vsCliTableNew("Resource", "Model", "MAE", "MASE",
                                            "Coverage 90%", "Scored", "Updated", NULL);

    if (errors->len == 0) {
        vsCliInfo(cli, "\n(no forecast scored yet)\n");
        return;
    }
    for (guint i = 0; i < errors->len; i++) {
        const vsForecastError *e = &g_array_index(errors, vsForecastError, i);
        g_autofree char *mae = vsInsightWithUnit(e->resource, vsInsightValue(e->resource, e->mae));
        g_autofree char *mase = isnan(e->mase) ? g_strdup("-") : g_strdup_printf("%.2f", e->mase);
        g_autofree char *cov = isnan(e->coverage90) ? g_strdup("-") :
            g_strdup_printf("%.1f%%", e->coverage90 * 100);
        g_autofree char *n = g_strdup_printf("%u", e->n);
        g_autofree char *updated = vsCliFormatTime(e->updated_us);

        vsCliTableAddRow(t, vsStoreResourceToString(e->resource), e->model, mae, mase, cov, n,
                         updated, NULL);
    }
    vsCliPrint(cli, "\nRolling errors\n");
    vsCliTablePrint(cli, t);
}

static gboolean
vsCmdForecastShow(vsCli *cli, const vsCliArgs *args, GError **error)
{
    g_autofree char *uuid = NULL;
    g_autofree char *name = NULL;
    g_autoptr(GArray) forecasts = NULL;
    g_autoptr(GArray) errors = NULL;
    vsStore *store;
    gint64 since_us;

    if (!vsInsightSince(args, "1h", &since_us, error))
        return FALSE;
    if (!(store = vsCliGetCheckedStore(cli, error)))
        return FALSE;
    /* by UUID from here on: a name may have been reused by a new domain */
    if (!vsStoreFindForecastDomain(store, vsCliArgsPositional(args, 0), &uuid, &name, error) ||
        !(forecasts = vsStoreQueryForecasts(store, uuid, since_us, error)) ||
        !(errors = vsStoreQueryForecastErrors(store, uuid, error)))
        return FALSE;

    if (vsCliWantJson(cli)) {
        g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "domain", name);
        vsJsonWriterMemberString(w, "uuid", uuid);
        vsCmdForecastJsonRecords(w, forecasts);
        vsCmdForecastJsonErrors(w, errors);
        vsJsonWriterEndObject(w);
        vsCliPrintJson(cli, w);
        return TRUE;
    }
    vsCliPrint(cli, "Domain %s (%s)\n", name, uuid);
    vsCmdForecastTable(cli, forecasts, VS_RESOURCE_CPU);
    vsCmdForecastTable(cli, forecasts, VS_RESOURCE_MEMORY);
    if (forecasts->len == 0)
        vsCliInfo(cli, "\n(no forecasts for that period)\n");
    vsCmdForecastErrorsTable(cli, errors);
    return TRUE;
}

/* --- table ---------------------------------------------------------------------- */

static const vsCliOption vsCmdForecastOptions[] = {
    { "since", 's', VS_OPT_STRING, "DURATION",
      "slots from this far back; future slots always show (default 1h)" },
    { NULL }
};

static const vsCliOption vsCmdAnomaliesOptions[] = {
    { "since", 's', VS_OPT_STRING, "DURATION", "how far back (default 24h)" },
    { "limit", 'n', VS_OPT_STRING, "N", "show at most the N newest (default 100)" },
    { NULL }
};

const vsCliCommand vsCmdInsight[] = {
    { "forecast", "DOMAIN", "show what virt-shadowd expects a domain to use, and how well it guessed",
      "Shows the forecasts virt-shadowd stored for DOMAIN (a name or UUID),\n"
      "one per 5-minute slot and resource, with their 90% and 99% prediction\n"
      "intervals and, once the slot is over, the actual use; then the rolling\n"
      "errors of its models (MAE, MASE, 90% interval coverage).  CPU is in\n"
      "vCPU-equivalents, memory in MiB.",
      vsCmdForecastOptions, 1, 1, vsCmdForecastShow },
    { "anomalies", "[DOMAIN]", "show use that fell outside the 99% prediction interval",
      "Shows, newest first, the observations virt-shadowd flagged because\n"
      "they fell outside the 99% prediction interval of their forecast, for\n"
      "every domain or only DOMAIN (a name or UUID).",
      vsCmdAnomaliesOptions, 0, 1, vsCmdAnomalies },
    { NULL }
};
