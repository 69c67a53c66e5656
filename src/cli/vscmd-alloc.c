/*
 * vscmd-alloc.c: "hint", "hint list", "hint cancel" and "explain": what
 * workloads announce to the allocator, and why it did what it did
 *
 * "hint DOMAIN" and "hint list" share a first word: the longest command
 * name wins, so a domain actually named "list" or "cancel" is given by
 * its UUID.  Units: vCPUs as counts, memory in KiB (printed for humans).
 */
#include <config.h>

#include <math.h>

#include "vscli.h"
#include "allocator/vscontroller.h"
#include "allocator/vsdecide.h"
#include "allocator/vshint.h"
#include "util/vserror.h"
#include "util/vsutil.h"

/* --- options ------------------------------------------------------------------- */

/* Longer durations are typing errors, and would overflow microseconds. */
#define VS_ALLOC_MAX_MS (G_GUINT64_CONSTANT(100) * 366 * 24 * 3600 * 1000)

/* @error from a parser (VS_ERROR_INVALID, naming the value) as a usage
 * error, which exits 2. */
static gboolean
vsAllocUsage(GError *local, GError **error)
{
    g_set_error_literal(error, VS_ERROR, VS_ERROR_USAGE, local->message);
    g_error_free(local);
    return FALSE;
}

static gboolean
vsAllocBadTime(const char *option, const char *text, const char *expected, GError **error)
{
    g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "invalid time '%s' for --%s (expected %s)",
                text, option, expected);
    return FALSE;
}

/* An ISO 8601 time; without a zone it is local time. */
static gboolean
vsAllocParseIso(const char *text, gint64 *ret_us)
{
    g_autoptr(GTimeZone) local = g_time_zone_new_local();
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(text, local);

    if (!dt)
        return FALSE;
    *ret_us = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
    return TRUE;
}

/* --at: "now", "+DURATION" from now, or an ISO 8601 time. */
static gboolean
vsAllocParseAt(const char *text, gint64 now_us, gint64 *ret_us, GError **error)
{
    const char *expected = "+DURATION such as +5m, 'now' or an ISO 8601 time";
    guint64 ms;

    if (g_str_equal(text, "now")) {
        *ret_us = now_us;
        return TRUE;
    }
    if (text[0] == '+') {
        if (!vsParseDuration(text + 1, &ms, NULL) || ms > VS_ALLOC_MAX_MS)
            return vsAllocBadTime("at", text, expected, error);
        *ret_us = now_us + (gint64)ms * 1000;
        return TRUE;
    }
    if (!vsAllocParseIso(text, ret_us))
        return vsAllocBadTime("at", text, expected, error);
    return TRUE;
}

/* --since: a DURATION back from now, or an ISO 8601 time. */
static gboolean
vsAllocParseSince(const char *text, gint64 now_us, gint64 *ret_us, GError **error)
{
    guint64 ms;

    if (vsParseDuration(text, &ms, NULL)) {
        /* no further back than the epoch: the store's times start there */
        *ret_us = ms >= (guint64)now_us / 1000 ? 0 : now_us - (gint64)ms * 1000;
        return TRUE;
    }
    if (!vsAllocParseIso(text, ret_us))
        return vsAllocBadTime("since", text, "a DURATION such as 1h or an ISO 8601 time", error);
    return TRUE;
}

static gboolean
vsAllocParseFor(const char *text, gint64 *ret_us, GError **error)
{
    GError *local = NULL;
    guint64 ms;

    if (!vsParseDuration(text, &ms, &local))
        return vsAllocUsage(local, error);
    if (ms == 0 || ms > VS_ALLOC_MAX_MS) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "invalid duration '%s' for --for (expected more than nothing, at most 100 years)",
                    text);
        return FALSE;
    }
    *ret_us = (gint64)ms * 1000;
    return TRUE;
}

static gboolean
vsAllocParseVcpus(const char *text, guint *ret_vcpus, GError **error)
{
    guint64 n;

    if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT32, &n, NULL)) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "invalid vCPU count '%s' (expected a positive number)", text);
        return FALSE;
    }
    *ret_vcpus = (guint)n;
    return TRUE;
}

/* A bare number is KiB, like virsh setmem. */
static gboolean
vsAllocParseMemory(const char *text, guint64 *ret_kib, GError **error)
{
    GError *local = NULL;
    guint64 bytes;

    if (!vsParseSize(text, 1024, &bytes, &local))
        return vsAllocUsage(local, error);
    if (bytes < 1024) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "invalid size '%s' for --memory (expected at least 1 KiB)", text);
        return FALSE;
    }
    *ret_kib = (bytes + 1023) / 1024;
    return TRUE;
}

/* --- domains ------------------------------------------------------------------- */

/* Lookups below: TRUE when found; FALSE with @error set on failure, or
 * without when the domain is simply not known there. */
static gboolean
vsAllocNotFound(GError *local, GError **error)
{
    if (g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND))
        g_error_free(local);
    else
        g_propagate_error(error, local);
    return FALSE;
}

static gboolean
vsAllocFindLibvirt(vsCli *cli, const char *domain, char **ret_uuid, char **ret_name,
                   GError **error)
{
    vsHypervisor *hv = vsCliGetHypervisor(cli, error);
    g_autoptr(vsDomainInfo) info = NULL;
    GError *local = NULL;

    if (!hv)
        return FALSE;
    if (!(info = vsHypervisorLookupDomain(hv, domain, &local)))
        return vsAllocNotFound(local, error);
    *ret_uuid = g_strdup(info->uuid);
    *ret_name = g_strdup(info->name);
    return TRUE;
}

/* Decisions and hints first: they are what these commands are about. */
static gboolean
vsAllocFindStored(vsStore *store, const char *domain, char **ret_uuid, char **ret_name,
                  GError **error)
{
    GError *local = NULL;

    if (vsStoreFindAllocDomain(store, domain, ret_uuid, ret_name, &local))
        return TRUE;
    if (!g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND)) {
        g_propagate_error(error, local);
        return FALSE;
    }
    g_clear_error(&local);
    if (vsStoreFindForecastDomain(store, domain, ret_uuid, ret_name, &local))
        return TRUE;
    return vsAllocNotFound(local, error);
}

/* Through libvirt when a URI is configured (-c, config, environment);
 * a domain it does not know, or with no URI, through what the store has
 * seen of it; a UUID nobody knows stands for itself. */
static gboolean
vsAllocResolveDomain(vsCli *cli, vsStore *store, const char *domain, char **ret_uuid,
                     char **ret_name, GError **error)
{
    GError *local = NULL;

    if ((vsCliGetURI(cli) && vsAllocFindLibvirt(cli, domain, ret_uuid, ret_name, &local)) ||
        (!local && vsAllocFindStored(store, domain, ret_uuid, ret_name, &local)))
        return TRUE;
    if (local) {
        g_propagate_error(error, local);
        return FALSE;
    }
    if (g_uuid_string_is_valid(domain)) {
        *ret_uuid = g_ascii_strdown(domain, -1);
        *ret_name = g_strdup(domain);
        return TRUE;
    }
    g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                "unknown domain '%s': neither libvirt nor the database knows it", domain);
    return FALSE;
}

/* --- formatting ---------------------------------------------------------------- */

/* "4 vCPUs", "2 GiB"; "?" when unknown. */
static char *
vsAllocAmount(vsResourceKind resource, double v)
{
    if (!isfinite(v))
        return g_strdup("?");
    if (resource == VS_RESOURCE_MEMORY)
        return vsFormatKiB((guint64)MAX(v, 0));
    return g_strdup_printf("%g vCPU%s", v, v == 1 ? "" : "s");
}

/* --- hint ------------------------------------------------------------------------ */

static gboolean
vsHintFromArgs(const vsCliArgs *args, vsHint *hint, GError **error)
{
    const char *vcpus = vsCliArgsGet(args, "vcpus");
    const char *memory = vsCliArgsGet(args, "memory");
    const char *at = vsCliArgsGet(args, "at");
    const char *duration = vsCliArgsGet(args, "for");
    gint64 now = g_get_real_time();
    gint64 length_us;

    if (!vcpus && !memory) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "command 'hint' needs --vcpus or --memory (or both)");
        return FALSE;
    }
    if (!at || !duration) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "command 'hint' needs --%s",
                    at ? "for" : "at");
        return FALSE;
    }
    if ((vcpus && !vsAllocParseVcpus(vcpus, &hint->vcpus, error)) ||
        (memory && !vsAllocParseMemory(memory, &hint->memory_kib, error)) ||
        !vsAllocParseAt(at, now, &hint->start_us, error) ||
        !vsAllocParseFor(duration, &length_us, error))
        return FALSE;
    hint->end_us = hint->start_us + length_us;
    if (hint->end_us <= now) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "hint from '%s' for '%s' is already over", at, duration);
        return FALSE;
    }
    hint->reason = g_strdup(vsCliArgsGet(args, "reason"));
    return TRUE;
}

/* "4 vCPUs, 2 GiB" */
static char *
vsHintDemand(const vsHint *h)
{
    g_autofree char *cpu = h->vcpus ? vsAllocAmount(VS_RESOURCE_CPU, h->vcpus) : NULL;
    g_autofree char *mem = h->memory_kib ? vsFormatKiB(h->memory_kib) : NULL;

    if (cpu && mem)
        return g_strdup_printf("%s, %s", cpu, mem);
    return g_strdup(cpu ? cpu : mem);
}

static void
vsHintJson(vsJsonWriter *w, const vsHint *h)
{
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberInt(w, "id", h->id);
    vsJsonWriterMemberString(w, "domain", h->name);
    vsJsonWriterMemberString(w, "uuid", h->uuid);
    if (h->vcpus)
        vsJsonWriterMemberInt(w, "vcpus", h->vcpus);
    else
        vsJsonWriterMemberString(w, "vcpus", NULL);
    if (h->memory_kib)
        vsJsonWriterMemberInt(w, "memory_kib", (gint64)h->memory_kib);
    else
        vsJsonWriterMemberString(w, "memory_kib", NULL);
    vsCliJsonMemberTime(w, "start", h->start_us);
    vsCliJsonMemberTime(w, "end", h->end_us);
    vsJsonWriterMemberString(w, "reason", h->reason);
    vsCliJsonMemberTime(w, "created", h->created_us);
    vsJsonWriterMemberBool(w, "cancelled", h->cancelled);
    vsJsonWriterEndObject(w);
}

static gboolean
vsCmdHintAdd(vsCli *cli, const vsCliArgs *args, GError **error)
{
    vsHint hint;
    vsStore *store = NULL;
    g_autofree char *uuid = NULL;
    gboolean ok = FALSE;

    vsHintInit(&hint);
    if (!vsHintFromArgs(args, &hint, error) || !(store = vsCliGetCheckedStore(cli, error)) ||
        !vsAllocResolveDomain(cli, store, vsCliArgsPositional(args, 0), &uuid, &hint.name,
                              error))
        goto cleanup;
    g_strlcpy(hint.uuid, uuid, sizeof(hint.uuid));
    if (!vsStoreAddHint(store, &hint, error))
        goto cleanup;

    if (vsCliWantJson(cli)) {
        g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

        vsHintJson(w, &hint);
        vsCliPrintJson(cli, w);
    } else if (vsCliIsQuiet(cli)) {
        vsCliPrint(cli, "%" G_GINT64_FORMAT "\n", hint.id);
    } else {
        g_autofree char *demand = vsHintDemand(&hint);
        g_autofree char *from = vsCliFormatTime(hint.start_us);
        g_autofree char *until = vsCliFormatTime(hint.end_us);

        vsCliPrint(cli, "Hint %" G_GINT64_FORMAT " added: domain '%s' needs %s from %s until %s\n",
                   hint.id, hint.name, demand, from, until);
    }
    ok = TRUE;
cleanup:
    vsHintClear(&hint);
    return ok;
}

static const char *
vsHintState(const vsHint *h, gint64 now_us)
{
    if (h->cancelled)
        return "cancelled";
    if (h->end_us <= now_us)
        return "over";
    return h->start_us <= now_us ? "active" : "upcoming";
}

static void
vsHintTable(vsCli *cli, GArray *hints, gint64 now_us)
{
    g_autoptr(vsCliTable) t = vsCliTableNew("ID", "Domain", "vCPUs", "Memory", "From", "Until",
                                            "State", "Reason", NULL);

    for (guint i = 0; i < hints->len; i++) {
        const vsHint *h = &g_array_index(hints, vsHint, i);
        g_autofree char *id = g_strdup_printf("%" G_GINT64_FORMAT, h->id);
        g_autofree char *vcpus = h->vcpus ? g_strdup_printf("%u", h->vcpus) : g_strdup("-");
        g_autofree char *mem = h->memory_kib ? vsFormatKiB(h->memory_kib) : g_strdup("-");
        g_autofree char *from = vsCliFormatTime(h->start_us);
        g_autofree char *until = vsCliFormatTime(h->end_us);

        vsCliTableAddRow(t, id, h->name, vcpus, mem, from, until, vsHintState(h, now_us),
                         h->reason ? h->reason : "", NULL);
    }
    vsCliTablePrint(cli, t);
}

static gboolean
vsCmdHintList(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const char *domain = vsCliArgsPositional(args, 0);
    gboolean all = vsCliArgsHas(args, "all");
    gint64 now = g_get_real_time();
    g_autofree char *uuid = NULL;
    g_autofree char *name = NULL;
    g_autoptr(GArray) hints = NULL;
    vsStore *store;

    if (!(store = vsCliGetCheckedStore(cli, error)) ||
        (domain && !vsAllocResolveDomain(cli, store, domain, &uuid, &name, error)) ||
        !vsStoreListHints(store, uuid, all ? 0 : now, all, &hints, error))
        return FALSE;

    if (vsCliWantJson(cli)) {
        g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

        vsJsonWriterBeginArray(w);
        for (guint i = 0; i < hints->len; i++)
            vsHintJson(w, &g_array_index(hints, vsHint, i));
        vsJsonWriterEndArray(w);
        vsCliPrintJson(cli, w);
        return TRUE;
    }
    vsHintTable(cli, hints, now);
    if (hints->len == 0)
        vsCliInfo(cli, all ? "(no hints)\n" : "(no current or upcoming hints; --all shows the rest)\n");
    return TRUE;
}

static gboolean
vsCmdHintCancel(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const char *text = vsCliArgsPositional(args, 0);
    guint64 id;
    vsStore *store;

    if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT64, &id, NULL)) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "invalid hint ID '%s' (expected the number 'hint list' shows)", text);
        return FALSE;
    }
    if (!(store = vsCliGetCheckedStore(cli, error)) || !vsStoreCancelHint(store, (gint64)id, error))
        return FALSE;
    vsCliInfo(cli, "Hint %" G_GUINT64_FORMAT " cancelled\n", id);
    return TRUE;
}

/* --- explain ----------------------------------------------------------------------- */

/* What happened, in words: "grew from 2 vCPUs to 4 vCPUs". */
static char *
vsExplainWhat(const vsDecision *d)
{
    g_autofree char *from = vsAllocAmount(d->resource, d->current);
    g_autofree char *to = vsAllocAmount(d->resource, d->target);
    const char *verb = d->action == VS_ACTION_GROW ? "grow" : "shrink";

    switch (d->action) {
    case VS_ACTION_NONE:
        return g_strdup_printf("stayed at %s", from);
    case VS_ACTION_HOLD:
        return g_strdup_printf("held at %s instead of %s", from, to);
    case VS_ACTION_QUEUED:
        return g_strdup_printf("queued a rise from %s to %s: the host cannot serve it now",
                               from, to);
    case VS_ACTION_GROW:
    case VS_ACTION_SHRINK:
    case VS_ACTION_LAST:
        break;
    }
    switch (d->outcome) {
    case VS_OUTCOME_APPLIED:
        return g_strdup_printf("%s from %s to %s", d->action == VS_ACTION_GROW ? "grew" : "shrank",
                               from, to);
    case VS_OUTCOME_ADVISED:
        return g_strdup_printf("should %s from %s to %s (advised only, not done)", verb, from, to);
    case VS_OUTCOME_FAILED:
        return g_strdup_printf("failed to %s from %s to %s: %s", verb, from, to,
                               d->error ? d->error : "no error recorded");
    default:
        return g_strdup_printf("was to %s from %s to %s (%s)", verb, from, to,
                               vsOutcomeToString(d->outcome));
    }
}

/* The inputs: "forecast 2.8 vCPUs (upper 3.1 vCPUs) by ewma, 90% confident". */
static char *
vsExplainInputs(const vsDecision *d)
{
    g_autoptr(GString) out = g_string_new(NULL);

    if (isfinite(d->forecast)) {
        g_autofree char *fc = vsAllocAmount(d->resource, d->forecast);
        g_autofree char *up = vsAllocAmount(d->resource, d->upper);

        g_string_append_printf(out, "forecast %s (upper bound %s) by %s", fc, up,
                               d->model ? d->model : "an unnamed model");
    } else {
        g_string_append(out, "no forecast");
    }
    if (isfinite(d->confidence))
        g_string_append_printf(out, ", %.0f%% confident", d->confidence * 100);
    if (d->reactive)
        g_string_append(out, "; too unsure, so the reactive thresholds decided");
    if (d->hinted)
        g_string_append(out, "; a hint raised the floor");
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
vsExplainText(vsCli *cli, const char *name, GArray *decisions, gint64 since_us)
{
    g_autofree char *since = vsCliFormatTime(since_us);

    if (decisions->len == 0) {
        vsCliPrint(cli, "No decisions recorded for domain '%s' since %s\n", name, since);
        return;
    }
    vsCliPrint(cli, "Decisions for domain '%s' since %s, oldest first:\n", name, since);
    for (guint i = 0; i < decisions->len; i++) {
        const vsDecision *d = &g_array_index(decisions, vsDecision, i);
        g_autofree char *when = vsCliFormatTime(d->at_us);
        g_autofree char *what = vsExplainWhat(d);
        g_autofree char *inputs = vsExplainInputs(d);

        vsCliPrint(cli, "\n%s  %s %s\n", when, vsStoreResourceToString(d->resource), what);
        vsCliPrint(cli, "    why: %s\n", d->reason ? d->reason : "no reason recorded");
        if (d->clause)
            vsCliPrint(cli, "    bound by: %s\n", d->clause);
        vsCliPrint(cli, "    inputs: %s\n", inputs);
    }
}

static void
vsExplainJsonDecision(vsJsonWriter *w, const vsDecision *d)
{
    g_autofree char *what = vsExplainWhat(d);

    vsJsonWriterBeginObject(w);
    vsCliJsonMemberTime(w, "time", d->at_us);
    vsJsonWriterMemberString(w, "resource", vsStoreResourceToString(d->resource));
    vsJsonWriterMemberString(w, "unit", d->resource == VS_RESOURCE_CPU ? "vcpus" : "kib");
    vsJsonWriterMemberString(w, "action", vsActionToString(d->action));
    vsJsonWriterMemberString(w, "outcome", vsOutcomeToString(d->outcome));
    vsJsonWriterMemberDouble(w, "current", d->current);
    vsJsonWriterMemberDouble(w, "wanted", d->wanted);
    vsJsonWriterMemberDouble(w, "target", d->target);
    vsJsonWriterMemberDouble(w, "forecast", d->forecast);
    vsJsonWriterMemberDouble(w, "upper", d->upper);
    vsJsonWriterMemberString(w, "model", d->model);
    vsJsonWriterMemberDouble(w, "confidence", d->confidence);
    vsJsonWriterMemberBool(w, "reactive", d->reactive);
    vsJsonWriterMemberBool(w, "hinted", d->hinted);
    vsJsonWriterMemberString(w, "clause", d->clause);
    vsJsonWriterMemberString(w, "reason", d->reason);
    vsJsonWriterMemberString(w, "error", d->error);
    vsJsonWriterMemberString(w, "summary", what);
    vsJsonWriterEndObject(w);
}

static void
vsExplainJson(vsCli *cli, const char *name, const char *uuid, GArray *decisions,
              gint64 since_us)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "domain", name);
    vsJsonWriterMemberString(w, "uuid", uuid);
    vsCliJsonMemberTime(w, "since", since_us);
    vsJsonWriterKey(w, "decisions");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < decisions->len; i++)
        vsExplainJsonDecision(w, &g_array_index(decisions, vsDecision, i));
    vsJsonWriterEndArray(w);
    vsJsonWriterEndObject(w);
    vsCliPrintJson(cli, w);
}

static gboolean
vsCmdExplain(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const char *since = vsCliArgsGet(args, "since");
    guint limit;
    gint64 since_us;
    g_autofree char *uuid = NULL;
    g_autofree char *name = NULL;
    g_autoptr(GArray) decisions = NULL;
    vsStore *store;

    if (!vsAllocParseSince(since ? since : "24h", g_get_real_time(), &since_us, error) ||
        !vsCliGetLimit(args, 500, &limit, error))
        return FALSE;
    if (!(store = vsCliGetCheckedStore(cli, error)) ||
        !vsAllocResolveDomain(cli, store, vsCliArgsPositional(args, 0), &uuid, &name, error) ||
        !vsStoreQueryDecisions(store, uuid, since_us, limit, &decisions, error))
        return FALSE;
    if (vsCliWantJson(cli))
        vsExplainJson(cli, name, uuid, decisions, since_us);
    else
        vsExplainText(cli, name, decisions, since_us);
    return TRUE;
}

/* --- plan ------------------------------------------------------------------------- */

/* Decisions of the last day tell when each domain was last resized, so
 * cooldowns hold as they do in the daemon. */
#define VS_PLAN_HISTORY_US (G_GINT64_CONSTANT(86400) * G_USEC_PER_SEC)
/* A stored forecast this old is not the daemon's current one. */
#define VS_PLAN_FORECAST_AGE_US (G_GINT64_CONSTANT(600) * G_USEC_PER_SEC)

/* The daemon's newest forecast of @dom and its rolling error, from the
 * store, in the decision's units (memory: MiB to KiB). */
static gboolean
vsPlanForecasts(vsStore *store, vsControllerDomain *dom, gint64 now_us, GError **error)
{
    g_autoptr(GArray) fcs = vsStoreQueryForecasts(store, dom->uuid, now_us - VS_PLAN_FORECAST_AGE_US,
                                                  error);
    g_autoptr(GArray) errs = NULL;

    if (!fcs || !(errs = vsStoreQueryForecastErrors(store, dom->uuid, error)))
        return FALSE;
    for (guint i = 0; i < fcs->len; i++) {
        const vsForecastRecord *r = &g_array_index(fcs, vsForecastRecord, i);
        vsDecideForecast *f = r->resource == VS_RESOURCE_CPU ? &dom->cpu : &dom->memory;
        double scale = r->resource == VS_RESOURCE_CPU ? 1 : 1024;

        if (!isnan(r->actual))
            continue;
        /* oldest first: the last one left is the newest */
        f->point = r->point * scale;
        f->lower = r->lower90 * scale;
        f->upper = r->upper90 * scale;
        f->allocation = r->allocation * scale;
        g_free((char *)f->model);
        f->model = g_strdup(r->model);
    }
    for (guint i = 0; i < errs->len; i++) {
        const vsForecastError *e = &g_array_index(errs, vsForecastError, i);
        vsDecideForecast *f = e->resource == VS_RESOURCE_CPU ? &dom->cpu : &dom->memory;

        f->mae = e->mae * (e->resource == VS_RESOURCE_CPU ? 1 : 1024);
        f->mase = e->mase;
        f->coverage = e->coverage90;
        f->history = e->n;
    }
    return TRUE;
}

/* Every running domain as the daemon would see it now. */
static GArray *
vsPlanDomains(vsHypervisor *hv, vsStore *store, gint64 now_us, GError **error)
{
    g_autoptr(GPtrArray) list = vsHypervisorListDomains(hv, error);
    g_autoptr(GArray) domains = NULL;

    if (!list)
        return NULL;
    domains = g_array_new(FALSE, TRUE, sizeof(vsControllerDomain));
    g_array_set_clear_func(domains, (GDestroyNotify)vsControllerDomainClear);
    for (guint i = 0; i < list->len; i++) {
        const vsDomainInfo *info = g_ptr_array_index(list, i);
        vsDomainResources res;
        vsControllerDomain dom;

        if (info->state != VS_DOMAIN_RUNNING || !vsHypervisorGetResources(hv, info->uuid, &res, NULL))
            continue;
        vsControllerDomainInit(&dom);
        g_strlcpy(dom.uuid, info->uuid, sizeof(dom.uuid));
        dom.name = g_strdup(info->name);
        dom.vcpus = vsDomainResourcesVcpus(&res);
        dom.memory_kib = (double)res.memory_kib;
        g_array_append_val(domains, dom);
        if (!vsPlanForecasts(store, &g_array_index(domains, vsControllerDomain, domains->len - 1),
                             now_us, error))
            return NULL;
    }
    return g_steal_pointer(&domains);
}

/* The free room the other hosts' daemons published lately (this host, by
 * its name, left out), as the daemon reads it: read, never published. */
static gboolean
vsPlanOtherHosts(vsCli *cli, vsStore *store, vsController *c, GError **error)
{
    g_autofree char *me = vsHostName();
    guint interval_s = (guint)MIN(vsCliGetConfig(cli)->allocator_interval_ms / 1000, G_MAXUINT);
    g_autoptr(GArray) stored = NULL;
    g_autoptr(GArray) rooms = g_array_new(FALSE, TRUE, sizeof(vsHostRoom));

    if (!vsStoreListHostRooms(store, me, vsControllerRoomMaxAge(interval_s), &stored, error))
        return FALSE;
    for (guint i = 0; i < stored->len; i++) {
        const vsStoreHostRoom *r = &g_array_index(stored, vsStoreHostRoom, i);
        vsHostRoom h = { r->host, r->vcpus, r->memory_kib };

        g_array_append_val(rooms, h);
    }
    vsControllerSetOtherHosts(c, rooms);
    return TRUE;
}

/* A controller that knows the hints, the last resizes and the other
 * hosts' room. */
static vsController *
vsPlanController(vsCli *cli, vsStore *store, gint64 now_us, GError **error)
{
    g_autoptr(vsController) c = NULL;
    g_autoptr(GArray) hints = NULL;
    g_autoptr(GArray) past = NULL;
    vsControllerConfig cfg;

    vsControllerConfigDefaults(&cfg);
    if (!vsStoreListHints(store, NULL, now_us, FALSE, &hints, error) ||
        !vsStoreQueryDecisions(store, NULL, now_us - VS_PLAN_HISTORY_US, 0, &past, error))
        return NULL;
    c = vsControllerNew(&cfg);
    vsControllerSetHints(c, hints);
    for (guint i = 0; i < past->len; i++)
        vsControllerSeedState(c, &g_array_index(past, vsDecision, i));
    if (!vsPlanOtherHosts(cli, store, c, error))
        return NULL;
    return g_steal_pointer(&c);
}

static void
vsPlanText(vsCli *cli, GArray *decisions)
{
    if (decisions->len == 0) {
        vsCliPrint(cli, "No running domain has a policy in mode advise or auto.\n");
        return;
    }
    for (guint i = 0; i < decisions->len; i++) {
        const vsDecision *d = &g_array_index(decisions, vsDecision, i);
        g_autofree char *from = vsAllocAmount(d->resource, d->current);
        g_autofree char *to = vsAllocAmount(d->resource, d->target);

        g_autofree char *clause = d->clause ? g_strdup_printf(" [%s]", d->clause) : NULL;

        vsCliPrint(cli, "%-20s %-6s %-6s %s -> %s\n    %s%s\n", d->name,
                   vsStoreResourceToString(d->resource), vsActionToString(d->action), from, to,
                   d->reason ? d->reason : "", clause ? clause : "");
    }
}

static void
vsPlanJson(vsCli *cli, GArray *decisions, GPtrArray *problems)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

    vsJsonWriterBeginObject(w);
    vsJsonWriterKey(w, "decisions");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < decisions->len; i++) {
        const vsDecision *d = &g_array_index(decisions, vsDecision, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "domain", d->name);
        vsJsonWriterMemberString(w, "uuid", d->uuid);
        vsJsonWriterKey(w, "decision");
        vsExplainJsonDecision(w, d);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "problems");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < problems->len; i++)
        vsJsonWriterString(w, g_ptr_array_index(problems, i));
    vsJsonWriterEndArray(w);
    vsJsonWriterEndObject(w);
    vsCliPrintJson(cli, w);
}

static gboolean
vsCmdPlan(vsCli *cli, const vsCliArgs *args, GError **error)
{
    gint64 now_us = g_get_real_time();
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(vsController) c = NULL;
    g_autoptr(GArray) domains = NULL;
    g_autoptr(GArray) decisions = NULL;
    vsHypervisor *hv;
    vsStore *store;

    (void)args;
    if (!(hv = vsCliGetHypervisor(cli, error)) || !(store = vsCliGetCheckedStore(cli, error)) ||
        !(c = vsPlanController(cli, store, now_us, error)) ||
        !(domains = vsPlanDomains(hv, store, now_us, error)))
        return FALSE;
    decisions = vsControllerRun(c, hv, domains, now_us, TRUE, NULL, problems);
    if (vsCliWantJson(cli)) {
        vsPlanJson(cli, decisions, problems);
        return TRUE;
    }
    for (guint i = 0; i < problems->len; i++)
        g_printerr("warning: %s\n", (const char *)g_ptr_array_index(problems, i));
    vsPlanText(cli, decisions);
    return TRUE;
}

/* --- table ------------------------------------------------------------------------- */

static const vsCliOption vsCmdHintOptions[] = {
    { "vcpus", 0, VS_OPT_STRING, "N", "vCPUs the domain will need" },
    { "memory", 0, VS_OPT_STRING, "SIZE", "memory it will need (e.g. 2G; a bare number is KiB)" },
    { "at", 0, VS_OPT_STRING, "WHEN", "when the need starts: +DURATION (e.g. +5m), now or an ISO 8601 time" },
    { "for", 0, VS_OPT_STRING, "DURATION", "how long it lasts (e.g. 10m)" },
    { "reason", 0, VS_OPT_STRING, "TEXT", "why, for whoever reads 'hint list'" },
    { NULL }
};

static const vsCliOption vsCmdHintListOptions[] = {
    { "all", 'a', VS_OPT_FLAG, NULL, "include hints that are over or cancelled" },
    { NULL }
};

static const vsCliOption vsCmdExplainOptions[] = {
    { "since", 's', VS_OPT_STRING, "WHEN", "a DURATION back (e.g. 1h) or an ISO 8601 time (default 24h)" },
    { "limit", 'n', VS_OPT_STRING, "N", "show at most the N newest decisions (default 500)" },
    { NULL }
};

const vsCliCommand vsCmdAlloc[] = {
    { "hint", "DOMAIN", "announce that a domain will need more vCPUs or memory for a while",
      "Tells the allocator that DOMAIN (a name or UUID) will need --vcpus and/or\n"
      "--memory from --at for --for.  During that window the hint raises the\n"
      "floor under the forecast, so the allocation lands by the window's start,\n"
      "within the domain's policy.  Prints the hint's ID (alone with --quiet).",
      vsCmdHintOptions, 1, 1, vsCmdHintAdd },
    { "hint list", "[DOMAIN]", "list current and upcoming hints",
      "Shows the hints not over and not cancelled, of every domain or only\n"
      "DOMAIN, by start time; --all also shows those over or cancelled.",
      vsCmdHintListOptions, 0, 1, vsCmdHintList },
    { "hint cancel", "ID", "cancel a hint",
      "Cancels hint ID (from 'hint list').  The hint is kept, marked cancelled.",
      NULL, 1, 1, vsCmdHintCancel },
    { "explain", "DOMAIN", "tell why the allocator changed a domain's vCPUs or memory, or did not",
      "Tells, oldest first, each decision the allocator recorded for DOMAIN (a\n"
      "name or UUID): the resource, from what to what, what was done and what\n"
      "became of it, the reason in plain words, the policy clause that bound\n"
      "it and the forecast it came from.  Failures show their error.",
      vsCmdExplainOptions, 1, 1, vsCmdExplain },
    { "plan", NULL, "show what the allocator would do now, as a dry run",
      "Decides, as virt-shadowd's allocator would at this moment, for every\n"
      "running domain whose policy is in mode advise or auto: from its live\n"
      "vCPUs and memory, the daemon's newest stored forecast and its error,\n"
      "the active hints, the resizes of the last day (for the cooldowns) and\n"
      "the room other hosts' daemons published (for a queued rise's migration\n"
      "target).  Nothing is changed, recorded or published.  Each line: the\n"
      "domain, the resource, the action, from what to what, and why.",
      NULL, 0, 0, vsCmdPlan },
    { NULL }
};
