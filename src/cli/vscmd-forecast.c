/*
 * vscmd-forecast.c: "backtest"
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "vscli.h"
#include "forecast/vsbacktest.h"
#include "forecast/vstrace.h"
#include "util/vserror.h"
#include "util/vsutil.h"

/* --- backtest ------------------------------------------------------------------- */

/* One resource of one series, and what the replay made of it. */
typedef struct {
    const vsTrace *trace;
    vsResourceKind resource;
    gboolean done;
    char *skipped;          /* why it was not replayed */
    vsBacktestResult result;
} vsBacktestJob;

typedef struct {
    vsBacktestOptions opts;
    GMutex lock;
    guint finished;
    guint total;
    gboolean progress;
} vsBacktestProgress;

static void
vsBacktestJobClear(vsBacktestJob *job)
{
    g_free(job->skipped);
    vsBacktestResultClear(&job->result);
}

static void
vsBacktestWork(gpointer data, gpointer opaque)
{
    vsBacktestJob *job = data;
    vsBacktestProgress *run = opaque;
    const vsTrace *t = job->trace;
    gboolean cpu = job->resource == VS_RESOURCE_CPU;
    vsBacktestSeries s = {
        .resource = job->resource,
        .start_t = t->start_t,
        .step_s = t->step_s,
        .n = t->n,
        .use = cpu ? t->cpu : t->mem_mib,
        .prov = cpu ? t->cpu_prov : t->mem_prov_mib,
        .scored = t->scored,
    };
    g_autoptr(GError) error = NULL;

    if (vsBacktestRun(&s, &run->opts, &job->result, &error))
        job->done = TRUE;
    else
        job->skipped = g_strdup(error->message);
    g_mutex_lock(&run->lock);
    run->finished++;
    if (run->progress)
        fprintf(stderr, "\rbacktest: %u/%u series replayed", run->finished, run->total);
    g_mutex_unlock(&run->lock);
}

static gboolean
vsBacktestParseResource(const char *text, gboolean *cpu, gboolean *memory, GError **error)
{
    *cpu = !text || g_str_equal(text, "cpu") || g_str_equal(text, "both");
    *memory = !text || g_str_equal(text, "memory") || g_str_equal(text, "both");
    if (*cpu || *memory)
        return TRUE;
    g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                "invalid resource '%s' (expected cpu, memory or both)", text);
    return FALSE;
}

static gboolean
vsBacktestParseDuration(const vsCliArgs *args, const char *name, double *ret,
                        GError **error)
{
    const char *text = vsCliArgsGet(args, name);
    guint64 ms;

    if (!text)
        return TRUE;
    if (!vsParseDuration(text, &ms, error)) {
        g_prefix_error(error, "--%s: ", name);
        (*error)->code = VS_ERROR_USAGE;
        return FALSE;
    }
    *ret = ms / 1000.0;
    return TRUE;
}

static gboolean
vsBacktestParseOptions(const vsCliArgs *args, vsTraceOptions *topts, vsBacktestOptions *bopts,
                       GError **error)
{
    const char *format = vsCliArgsGet(args, "format");

    vsTraceOptionsDefaults(topts);
    vsBacktestOptionsDefaults(bopts);
    /* an unknown format is bad input, like an unreadable file: exit 1 */
    if (format && !vsTraceFormatFromString(format, &topts->format, error)) {
        (*error)->code = VS_ERROR_INVALID;
        return FALSE;
    }
    if (!vsBacktestParseDuration(args, "interval", &topts->interval_s, error) ||
        !vsBacktestParseDuration(args, "decision-interval", &bopts->decision_s, error) ||
        !vsBacktestParseDuration(args, "lead", &bopts->lead_s, error) ||
        !vsBacktestParseDuration(args, "train", &bopts->train_s, error))
        return FALSE;
    if (topts->interval_s <= 0 || bopts->decision_s <= 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "--interval and --decision-interval must be longer than 0");
        return FALSE;
    }
    /* the minimum is the training period plus a day to score */
    bopts->min_s = MAX(bopts->min_s, bopts->train_s + 86400);
    return TRUE;
}

/* Replays on every core: series are independent. */
static void
vsBacktestReplayAll(vsCli *cli, GArray *jobs, vsBacktestProgress *run)
{
    GThreadPool *pool = g_thread_pool_new(vsBacktestWork, run,
                                          (int)MAX(1, g_get_num_processors()), TRUE, NULL);

    run->total = jobs->len;
    run->progress = isatty(STDERR_FILENO) && !vsCliIsQuiet(cli);
    for (guint i = 0; i < jobs->len; i++)
        g_thread_pool_push(pool, &g_array_index(jobs, vsBacktestJob, i), NULL);
    g_thread_pool_free(pool, FALSE, TRUE);
    if (run->progress)
        fputc('\n', stderr);
}

/* The figures across series for @policy and @resource. */
typedef struct {
    guint series;
    double median_slack, p90_slack;
    double median_under, p90_under;
    double median_mase;
    double coverage90;      /* pooled over every slot that had an interval */
    double resizes;
} vsBacktestSummary;

static void
vsBacktestSummarize(GArray *jobs, vsBacktestPolicy policy, vsResourceKind resource,
                    vsBacktestSummary *sum)
{
    g_autofree double *slack = g_new(double, jobs->len);
    g_autofree double *under = g_new(double, jobs->len);
    g_autofree double *mase = g_new(double, jobs->len);
    g_autofree double *resizes = g_new(double, jobs->len);
    guint64 covered = 0, intervals = 0;
    guint n = 0;

    for (guint i = 0; i < jobs->len; i++) {
        const vsBacktestJob *job = &g_array_index(jobs, vsBacktestJob, i);
        const vsBacktestScore *s = &job->result.score[policy];

        if (!job->done || job->resource != resource)
            continue;
        slack[n] = s->slack;
        under[n] = s->underprov;
        mase[n] = s->mase;
        resizes[n] = s->resizes_per_day;
        covered += s->covered90;
        intervals += s->intervals;
        n++;
    }
    sum->series = n;
    sum->median_slack = vsPercentile(slack, n, 0.5);
    sum->p90_slack = vsPercentile(slack, n, 0.9);
    sum->median_under = vsPercentile(under, n, 0.5);
    sum->p90_under = vsPercentile(under, n, 0.9);
    sum->median_mase = vsPercentile(mase, n, 0.5);
    sum->resizes = vsPercentile(resizes, n, 0.5);
    sum->coverage90 = intervals ? (double)covered / intervals : NAN;
}

static const char *
vsResourceName(vsResourceKind r)
{
    return r == VS_RESOURCE_CPU ? "cpu" : "memory";
}

/* Rounded, so output is stable across platforms and readable. */
static double
vsRound6(double v)
{
    return isfinite(v) ? round(v * 1e6) / 1e6 : v;
}

static void
vsBacktestJsonScore(vsJsonWriter *w, const vsBacktestScore *s, gboolean intervals)
{
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberDouble(w, "slack", vsRound6(s->slack));
    vsJsonWriterMemberDouble(w, "underprovision", vsRound6(s->underprov));
    vsJsonWriterMemberDouble(w, "severity", vsRound6(s->severity));
    vsJsonWriterMemberDouble(w, "mase", vsRound6(s->mase));
    vsJsonWriterMemberDouble(w, "coverage90",
                             intervals && s->intervals ?
                             vsRound6((double)s->covered90 / s->intervals) : NAN);
    vsJsonWriterMemberDouble(w, "resizes_per_day", vsRound6(s->resizes_per_day));
    vsJsonWriterEndObject(w);
}

static void
vsBacktestJsonSeries(vsJsonWriter *w, const vsBacktestJob *job)
{
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "name", job->trace->name);
    vsJsonWriterMemberString(w, "resource", vsResourceName(job->resource));
    vsJsonWriterMemberDouble(w, "period_seconds", job->result.period * job->trace->step_s);
    vsJsonWriterMemberString(w, "model", job->result.model);
    vsJsonWriterMemberDouble(w, "model_level", job->result.level);
    vsJsonWriterMemberBool(w, "burst_floor", job->result.burst);
    vsJsonWriterMemberInt(w, "model_switches", job->result.switches);
    vsJsonWriterKey(w, "policies");
    vsJsonWriterBeginObject(w);
    for (guint p = 0; p < VS_POLICY_N; p++) {
        vsJsonWriterKey(w, vsBacktestPolicyToString(p));
        vsBacktestJsonScore(w, &job->result.score[p], p == VS_POLICY_VIRT_SHADOW);
    }
    vsJsonWriterEndObject(w);
    vsJsonWriterEndObject(w);
}

static void
vsBacktestPrintJson(vsCli *cli, GArray *jobs, const gboolean *resources, guint skipped_rows)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);
    guint series = 0, skipped = 0;

    for (guint i = 0; i < jobs->len; i++) {
        const vsBacktestJob *job = &g_array_index(jobs, vsBacktestJob, i);

        series += job->done;
        skipped += !job->done;
    }
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberInt(w, "series", series);
    vsJsonWriterMemberInt(w, "skipped_series", skipped);
    vsJsonWriterMemberInt(w, "skipped_rows", skipped_rows);
    vsJsonWriterKey(w, "policies");
    vsJsonWriterBeginArray(w);
    for (guint r = 0; r < 2; r++) {
        for (guint p = 0; p < VS_POLICY_N && resources[r]; p++) {
            vsBacktestSummary sum;

            vsBacktestSummarize(jobs, p, r, &sum);
            vsJsonWriterBeginObject(w);
            vsJsonWriterMemberString(w, "name", vsBacktestPolicyToString(p));
            vsJsonWriterMemberString(w, "resource", vsResourceName(r));
            vsJsonWriterMemberInt(w, "series", sum.series);
            vsJsonWriterMemberDouble(w, "median_slack", vsRound6(sum.median_slack));
            vsJsonWriterMemberDouble(w, "p90_slack", vsRound6(sum.p90_slack));
            vsJsonWriterMemberDouble(w, "median_underprovision", vsRound6(sum.median_under));
            vsJsonWriterMemberDouble(w, "p90_underprovision", vsRound6(sum.p90_under));
            vsJsonWriterMemberDouble(w, "median_mase", vsRound6(sum.median_mase));
            vsJsonWriterMemberDouble(w, "coverage90", vsRound6(sum.coverage90));
            vsJsonWriterMemberDouble(w, "resizes_per_day", vsRound6(sum.resizes));
            vsJsonWriterEndObject(w);
        }
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "per_series");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < jobs->len; i++) {
        const vsBacktestJob *job = &g_array_index(jobs, vsBacktestJob, i);

        if (job->done)
            vsBacktestJsonSeries(w, job);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterEndObject(w);
    vsCliPrintJson(cli, w);
}

static char *
vsPercent(double v)
{
    return isnan(v) ? g_strdup("-") : g_strdup_printf("%.1f%%", v * 100);
}

static char *
vsFixed(double v, int digits)
{
    return isnan(v) ? g_strdup("-") : g_strdup_printf("%.*f", digits, v);
}

static void
vsBacktestPrintTable(vsCli *cli, GArray *jobs, const gboolean *resources, guint skipped_rows)
{
    g_autoptr(vsCliTable) t = vsCliTableNew("POLICY", "RESOURCE", "SERIES", "SLACK", "SLACK P90",
                                            "UNDER", "UNDER P90", "MASE", "COVER90",
                                            "RESIZES/DAY", NULL);
    guint skipped = 0;

    for (guint r = 0; r < 2; r++) {
        for (guint p = 0; p < VS_POLICY_N && resources[r]; p++) {
            vsBacktestSummary s;
            g_autofree char *n = NULL, *s50 = NULL, *s90 = NULL, *u50 = NULL, *u90 = NULL;
            g_autofree char *mase = NULL, *cov = NULL, *rpd = NULL;

            vsBacktestSummarize(jobs, p, r, &s);
            n = g_strdup_printf("%u", s.series);
            s50 = vsPercent(s.median_slack);
            s90 = vsPercent(s.p90_slack);
            u50 = vsPercent(s.median_under);
            u90 = vsPercent(s.p90_under);
            mase = vsFixed(s.median_mase, 2);
            cov = vsPercent(s.coverage90);
            rpd = vsFixed(s.resizes, 2);
            vsCliTableAddRow(t, vsBacktestPolicyToString(p), vsResourceName(r), n, s50, s90, u50, u90,
                             mase, cov, rpd, NULL);
        }
    }
    vsCliTablePrint(cli, t);
    for (guint i = 0; i < jobs->len; i++)
        skipped += !g_array_index(jobs, vsBacktestJob, i).done;
    vsCliPrint(cli, "\nMedians and P90s across series; COVER90 is the share of slots inside\n"
               "virt-shadow's 90%% interval.  %u series skipped, %u bad rows skipped.\n",
               skipped, skipped_rows);
}

static GPtrArray *
vsBacktestReadTraces(vsCli *cli, const vsCliArgs *args, const vsTraceOptions *topts,
                     guint *skipped_rows, GError **error)
{
    g_autoptr(GPtrArray) paths = g_ptr_array_new();
    GPtrArray *traces;

    g_ptr_array_add(paths, (gpointer)vsCliArgsGet(args, "trace"));
    for (guint i = 0; vsCliArgsPositional(args, i); i++)
        g_ptr_array_add(paths, (gpointer)vsCliArgsPositional(args, i));
    g_ptr_array_add(paths, NULL);
    if (!(traces = vsTraceReadPaths((const char *const *)paths->pdata, topts, skipped_rows, error)))
        return NULL;
    for (guint i = 0; i < traces->len; i++) {
        const vsTrace *t = g_ptr_array_index(traces, i);

        for (guint k = 0; t->warnings && t->warnings[k]; k++)
            g_warning("%s", t->warnings[k]);
    }
    return traces;
}

/* Gaps the grid fills with the last value and still scores, as for traces. */
#define VS_BACKTEST_MAX_FILL 24

/* UUID and name of a domain with stored history: by UUID, or by the name
 * its forecasts or recent samples carry. */
static gboolean
vsBacktestResolve(vsStore *store, const char *domain, char **uuid, char **name,
                  GError **error)
{
    gint64 now = g_get_real_time();
    g_autoptr(GArray) recent = NULL;

    if (vsStoreFindForecastDomain(store, domain, uuid, name, NULL))
        return TRUE;
    if (!(recent = vsStoreQuerySamples(store, domain, now - G_GINT64_CONSTANT(86400000000) * 14,
                                       G_MAXINT64, error)))
        return FALSE;
    if (recent->len == 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                    "no stored samples of domain '%s'", domain);
        return FALSE;
    }
    *uuid = g_strdup(g_array_index(recent, vsSample, 0).uuid);
    *name = g_strdup(g_array_index(recent, vsSample, 0).name);
    return TRUE;
}

/* A domain's stored 5-minute history as a trace: the same grid rules. */
static vsTrace *
vsBacktestTraceFromStore(vsStore *store, const char *domain, GError **error)
{
    g_autofree char *uuid = NULL;
    g_autofree char *name = NULL;
    g_autoptr(GArray) h = NULL;
    g_autoptr(vsTrace) t = g_new0(vsTrace, 1);
    const gint64 step_us = 300 * G_USEC_PER_SEC;
    gint64 first, last;
    gsize k = 0;

    if (!vsBacktestResolve(store, domain, &uuid, &name, error) ||
        !(h = vsStoreQueryHistory(store, uuid, 0, error)))
        return NULL;
    t->name = g_steal_pointer(&name);
    t->step_s = 300;
    if (h->len == 0)
        return g_steal_pointer(&t);
    first = last = g_array_index(h, vsHistoryPoint, 0).at_us;
    t->start_t = first / (double)G_USEC_PER_SEC;
    t->n = (g_array_index(h, vsHistoryPoint, h->len - 1).at_us - first) / step_us + 1;
    t->cpu = g_new(double, t->n);
    t->mem_mib = g_new(double, t->n);
    t->scored = g_new(guint8, t->n);
    for (gsize i = 0; i < t->n; i++) {
        gint64 at = first + (gint64)i * step_us;
        const vsHistoryPoint *p;

        /* buckets with nothing measured count as missing */
        while (k < h->len && (g_array_index(h, vsHistoryPoint, k).at_us < at ||
                              isnan(g_array_index(h, vsHistoryPoint, k).cpu) ||
                              isnan(g_array_index(h, vsHistoryPoint, k).mem_mib)))
            k++;
        p = k < h->len ? &g_array_index(h, vsHistoryPoint, k) : NULL;
        if (p && p->at_us == at) {
            t->cpu[i] = p->cpu;
            t->mem_mib[i] = p->mem_mib;
            t->scored[i] = 1;
            t->rows++;
            last = at;
            continue;
        }
        /* in a gap: the last value, scored only when the gap is short */
        t->cpu[i] = i ? t->cpu[i - 1] : 0;
        t->mem_mib[i] = i ? t->mem_mib[i - 1] : 0;
        t->scored[i] = p && (p->at_us - last) / step_us - 1 <= VS_BACKTEST_MAX_FILL;
        if (t->scored[i])
            t->filled_slots++;
        else
            t->unscored_slots++;
    }
    return g_steal_pointer(&t);
}

static GPtrArray *
vsBacktestReadDomains(vsCli *cli, const vsCliArgs *args, GError **error)
{
    vsStore *store = vsCliGetStore(cli, TRUE, error);
    g_autoptr(GPtrArray) traces = g_ptr_array_new_with_free_func((GDestroyNotify)vsTraceFree);
    g_autoptr(GPtrArray) names = g_ptr_array_new();

    if (!store)
        return NULL;
    g_ptr_array_add(names, (gpointer)vsCliArgsGet(args, "domain"));
    for (guint i = 0; vsCliArgsPositional(args, i); i++)
        g_ptr_array_add(names, (gpointer)vsCliArgsPositional(args, i));
    for (guint i = 0; i < names->len; i++) {
        vsTrace *t = vsBacktestTraceFromStore(store, g_ptr_array_index(names, i), error);

        if (!t)
            return NULL;
        g_ptr_array_add(traces, t);
    }
    return g_steal_pointer(&traces);
}

static gboolean
vsCmdBacktest(vsCli *cli, const vsCliArgs *args, GError **error)
{
    vsTraceOptions topts;
    vsBacktestProgress run = { 0 };
    gboolean resources[2];
    g_autoptr(GPtrArray) traces = NULL;
    g_autoptr(GArray) jobs = g_array_new(FALSE, TRUE, sizeof(vsBacktestJob));
    guint skipped_rows = 0;

    if (!vsCliArgsGet(args, "trace") == !vsCliArgsGet(args, "domain")) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "backtest needs either --trace PATH... or --domain NAME...");
        return FALSE;
    }
    if (!vsBacktestParseOptions(args, &topts, &run.opts, error) ||
        !vsBacktestParseResource(vsCliArgsGet(args, "resource"), &resources[VS_RESOURCE_CPU],
                                 &resources[VS_RESOURCE_MEMORY], error))
        return FALSE;
    /* csv and plain hold one resource: --resource memory says which */
    if (!resources[VS_RESOURCE_CPU])
        topts.value_resource = VS_RESOURCE_MEMORY;
    traces = vsCliArgsGet(args, "trace") ?
             vsBacktestReadTraces(cli, args, &topts, &skipped_rows, error) :
             vsBacktestReadDomains(cli, args, error);
    if (!traces)
        return FALSE;

    g_array_set_clear_func(jobs, (GDestroyNotify)vsBacktestJobClear);
    for (guint i = 0; i < traces->len; i++) {
        const vsTrace *t = g_ptr_array_index(traces, i);

        for (guint r = 0; r < 2; r++) {
            vsBacktestJob job = { .trace = t, .resource = r };

            if (resources[r] && (r == VS_RESOURCE_CPU ? t->cpu : t->mem_mib))
                g_array_append_val(jobs, job);
        }
    }
    g_mutex_init(&run.lock);
    vsBacktestReplayAll(cli, jobs, &run);
    g_mutex_clear(&run.lock);
    for (guint i = 0; i < jobs->len; i++) {
        const vsBacktestJob *job = &g_array_index(jobs, vsBacktestJob, i);

        if (job->skipped)
            vsCliInfo(cli, "skipped %s (%s): %s\n", job->trace->name,
                      vsResourceName(job->resource), job->skipped);
    }
    if (vsCliWantJson(cli))
        vsBacktestPrintJson(cli, jobs, resources, skipped_rows);
    else
        vsBacktestPrintTable(cli, jobs, resources, skipped_rows);
    return TRUE;
}

static const vsCliOption vsCmdBacktestOptions[] = {
    { "trace", 't', VS_OPT_STRING, "PATH", "trace file or directory (more PATHs may follow)" },
    { "domain", 'D', VS_OPT_STRING, "NAME", "a domain's stored history instead (more NAMEs may follow)" },
    { "format", 'f', VS_OPT_STRING, "FORMAT", "bitbrains (default), csv or plain" },
    { "interval", 'i', VS_OPT_STRING, "DURATION", "plain: time between values (default 300s)" },
    { "resource", 'r', VS_OPT_STRING, "RESOURCE", "cpu, memory or both (default)" },
    { "decision-interval", 'd', VS_OPT_STRING, "DURATION", "time between decisions (default 5m)" },
    { "lead", 'l', VS_OPT_STRING, "DURATION", "how far ahead an allocation must land (default 5m)" },
    { "train", 0, VS_OPT_STRING, "DURATION", "history before scoring starts (default 7d)" },
    { NULL }
};

const vsCliCommand vsCmdForecast[] = {
    { "backtest", "[PATH...|NAME...]", "replay usage traces against virt-shadow and baseline policies",
      "Replays each series on a 5-minute grid.  At every decision time each\n"
      "policy sees only the past and sets the allocation that lands --lead\n"
      "later: virt-shadow (the selected forecaster's upper bound), static (the\n"
      "provisioned size, else the series maximum), reactive (+25% above 80%\n"
      "use, -25% after an hour below 30%), peak24h and vpa (the Kubernetes VPA\n"
      "recommender's target).  After --train of history, each slot is scored:\n"
      "slack, under-provisioning, MASE, 90% interval coverage, resizes per day.\n"
      "Bad rows are skipped and counted, with a warning naming file and line.\n"
      "With --domain, the series are domains' 5-minute history from the database.",
      vsCmdBacktestOptions, 0, G_MAXUINT, vsCmdBacktest },
    { NULL }
};
