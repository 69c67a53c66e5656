/*
 * vscmd-telemetry.c: "annotate", "stats", "export" and "top"
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "vscli.h"
#include "telemetry/vsrates.h"
#include "util/vserror.h"
#include "util/vsutil.h"

/* --- annotate ------------------------------------------------------------------- */

/* The labels as an ordered key -> value table, from stored JSON. */
static GHashTable *
vsLabelsFromJson(const char *json, GError **error)
{
    g_autoptr(GHashTable) labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(vsJson) doc = NULL;

    if (!json)
        return g_steal_pointer(&labels);
    if (!(doc = vsJsonParse(json, -1, error)))
        return NULL;
    for (guint i = 0; i < vsJsonObjectSize(doc); i++) {
        const char *value = vsJsonGetString(vsJsonObjectValue(doc, i));

        g_hash_table_insert(labels, g_strdup(vsJsonObjectKey(doc, i)), g_strdup(value ? value : ""));
    }
    return g_steal_pointer(&labels);
}

static char *
vsLabelsToJson(GHashTable *labels, gboolean pretty)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(pretty);
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(labels), (GCompareFunc)strcmp);

    vsJsonWriterBeginObject(w);
    for (GList *k = keys; k; k = k->next)
        vsJsonWriterMemberString(w, k->data, g_hash_table_lookup(labels, k->data));
    vsJsonWriterEndObject(w);
    return vsJsonWriterSteal(w);
}

/* KEY=VALUE sets, KEY= removes; keys are what a Prometheus label allows. */
static gboolean
vsLabelsApply(GHashTable *labels, const char *arg, GError **error)
{
    const char *eq = strchr(arg, '=');
    g_autofree char *key = eq ? g_strndup(arg, eq - arg) : NULL;

    if (!key || !*key || !g_regex_match_simple("^[a-zA-Z_][a-zA-Z0-9_.-]*$", key, 0, 0)) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "invalid label '%s' (expected KEY=VALUE with a key of letters, digits, '_', '.' or '-')",
                    arg);
        return FALSE;
    }
    if (eq[1])
        g_hash_table_insert(labels, g_steal_pointer(&key), g_strdup(eq + 1));
    else
        g_hash_table_remove(labels, key);
    return TRUE;
}

static gboolean
vsCmdAnnotate(vsCli *cli, const vsCliArgs *args, GError **error)
{
    vsHypervisor *hv = vsCliGetHypervisor(cli, error);
    g_autoptr(vsDomainInfo) dom = NULL;
    vsStore *store;
    g_autoptr(GHashTable) all = NULL;
    g_autoptr(GHashTable) labels = NULL;
    g_autofree char *json = NULL;

    if (!hv || !(dom = vsHypervisorLookupDomain(hv, vsCliArgsPositional(args, 0), error)))
        return FALSE;
    if (!(store = vsCliGetStore(cli, TRUE, error)) || !vsStoreCheckSchema(store, error) ||
        !(all = vsStoreGetDomainLabels(store, error)))
        return FALSE;
    if (!(labels = vsLabelsFromJson(vsCliArgsHas(args, "clear") ? NULL :
                                    g_hash_table_lookup(all, dom->uuid), error)))
        return FALSE;
    for (guint i = 1; i < args->positional->len; i++) {
        if (!vsLabelsApply(labels, g_ptr_array_index(args->positional, i), error))
            return FALSE;
    }
    json = vsLabelsToJson(labels, FALSE);
    if ((args->positional->len > 1 || vsCliArgsHas(args, "clear")) &&
        !vsStoreSetDomainLabels(store, dom->uuid, dom->name,
                                g_hash_table_size(labels) ? json : NULL, error))
        return FALSE;

    if (vsCliWantJson(cli)) {
        g_autofree char *pretty = vsLabelsToJson(labels, TRUE);

        vsCliPrint(cli, "%s", pretty);
    } else {
        g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(labels), (GCompareFunc)strcmp);

        for (GList *k = keys; k; k = k->next)
            vsCliPrint(cli, "%s=%s\n", (char *)k->data, (char *)g_hash_table_lookup(labels, k->data));
    }
    return TRUE;
}

/* --- stats and export ----------------------------------------------------------- */

typedef enum {
    VS_RES_CPU = 1 << 0,
    VS_RES_MEMORY = 1 << 1,
    VS_RES_DISK = 1 << 2,
    VS_RES_NET = 1 << 3,
    VS_RES_ALL = 0xf,
} vsResourceSet;

static gboolean
vsParseResource(const char *text, vsResourceSet *ret, GError **error)
{
    static const struct { const char *name; vsResourceSet res; } names[] = {
        { "cpu", VS_RES_CPU }, { "memory", VS_RES_MEMORY }, { "disk", VS_RES_DISK },
        { "net", VS_RES_NET }, { "all", VS_RES_ALL },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        if (g_str_equal(text ? text : "all", names[i].name)) {
            *ret = names[i].res;
            return TRUE;
        }
    }
    g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                "invalid resource '%s' (expected cpu, memory, disk, net or all)", text);
    return FALSE;
}

/* One column of a sample: its name, and its value as text ("" unknown). */
typedef struct {
    const char *name;
    vsResourceSet res;
    char *(*format)(const vsSample *s);
} vsColumn;

#define VS_DOUBLE_COLUMN(fn, field, fmt) \
    static char *fn(const vsSample *s) \
    { return isnan(s->field) ? g_strdup("") : g_strdup_printf(fmt, s->field); }
#define VS_INT_COLUMN(fn, field) \
    static char *fn(const vsSample *s) \
    { return s->field < 0 ? g_strdup("") : g_strdup_printf("%" G_GINT64_FORMAT, (gint64)s->field); }

VS_DOUBLE_COLUMN(vsColCpu, cpu_vcpus, "%.3f")
VS_DOUBLE_COLUMN(vsColCpuPerVcpu, cpu_per_vcpu, "%.3f")
VS_INT_COLUMN(vsColVcpus, vcpus)
VS_INT_COLUMN(vsColMemUsed, mem_used_kib)
VS_INT_COLUMN(vsColMemCurrent, mem_current_kib)
VS_INT_COLUMN(vsColMemMax, mem_max_kib)
VS_DOUBLE_COLUMN(vsColDiskRd, disk_rd_bps, "%.0f")
VS_DOUBLE_COLUMN(vsColDiskWr, disk_wr_bps, "%.0f")
VS_DOUBLE_COLUMN(vsColDiskRdOps, disk_rd_iops, "%.1f")
VS_DOUBLE_COLUMN(vsColDiskWrOps, disk_wr_iops, "%.1f")
VS_DOUBLE_COLUMN(vsColNetRx, net_rx_bps, "%.0f")
VS_DOUBLE_COLUMN(vsColNetTx, net_tx_bps, "%.0f")

static char *
vsColRss(const vsSample *s)
{
    return g_strdup(s->mem_used_kib < 0 ? "" : s->mem_used_is_rss ? "rss" : "guest");
}

static const vsColumn vsColumns[] = {
    { "cpu_vcpus", VS_RES_CPU, vsColCpu },
    { "cpu_per_vcpu", VS_RES_CPU, vsColCpuPerVcpu },
    { "vcpus", VS_RES_CPU, vsColVcpus },
    { "mem_used_kib", VS_RES_MEMORY, vsColMemUsed },
    { "mem_used_source", VS_RES_MEMORY, vsColRss },
    { "mem_current_kib", VS_RES_MEMORY, vsColMemCurrent },
    { "mem_max_kib", VS_RES_MEMORY, vsColMemMax },
    { "disk_rd_bps", VS_RES_DISK, vsColDiskRd },
    { "disk_wr_bps", VS_RES_DISK, vsColDiskWr },
    { "disk_rd_iops", VS_RES_DISK, vsColDiskRdOps },
    { "disk_wr_iops", VS_RES_DISK, vsColDiskWrOps },
    { "net_rx_bps", VS_RES_NET, vsColNetRx },
    { "net_tx_bps", VS_RES_NET, vsColNetTx },
};

static char *
vsSampleTime(const vsSample *s)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(s->time_us / G_USEC_PER_SEC);

    return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

static GArray *
vsCmdQuerySeries(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const char *since = vsCliArgsGet(args, "since");
    guint64 since_ms = 0;
    vsStore *store;

    if (!vsParseDuration(since ? since : "1h", &since_ms, error))
        return NULL;
    if (!(store = vsCliGetStore(cli, TRUE, error)) || !vsStoreCheckSchema(store, error))
        return NULL;
    return vsStoreQuerySamples(store, vsCliArgsPositional(args, 0),
                               g_get_real_time() - (gint64)since_ms * 1000, G_MAXINT64, error);
}

static void
vsCmdStatsJson(vsCli *cli, GArray *series, vsResourceSet res)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < series->len; i++) {
        const vsSample *s = &g_array_index(series, vsSample, i);
        g_autofree char *when = vsSampleTime(s);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "time", when);
        vsJsonWriterMemberDouble(w, "interval_s", s->interval_s);
        for (gsize c = 0; c < G_N_ELEMENTS(vsColumns); c++) {
            g_autofree char *v = NULL;

            if (!(vsColumns[c].res & res))
                continue;
            v = vsColumns[c].format(s);
            vsJsonWriterKey(w, vsColumns[c].name);
            if (!*v)
                vsJsonWriterNull(w);
            else if (g_ascii_isdigit(*v) || *v == '-')
                vsJsonWriterDouble(w, g_ascii_strtod(v, NULL));
            else
                vsJsonWriterString(w, v);
        }
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsCliPrintJson(cli, w);
}

/* Text table with the columns of the chosen resources. */
static void
vsCmdStatsTable(vsCli *cli, GArray *series, vsResourceSet res)
{
    g_autoptr(GString) line = g_string_new(NULL);

    g_string_append_printf(line, "%-20s", "time");
    for (gsize c = 0; c < G_N_ELEMENTS(vsColumns); c++) {
        if (vsColumns[c].res & res)
            g_string_append_printf(line, " %15s", vsColumns[c].name);
    }
    vsCliPrint(cli, "%s\n", line->str);
    for (guint i = 0; i < series->len; i++) {
        const vsSample *s = &g_array_index(series, vsSample, i);
        g_autofree char *when = vsSampleTime(s);

        g_string_printf(line, "%-20s", when);
        for (gsize c = 0; c < G_N_ELEMENTS(vsColumns); c++) {
            g_autofree char *v = NULL;

            if (!(vsColumns[c].res & res))
                continue;
            v = vsColumns[c].format(s);
            g_string_append_printf(line, " %15s", *v ? v : "-");
        }
        vsCliPrint(cli, "%s\n", line->str);
    }
    if (series->len == 0)
        vsCliInfo(cli, "(no samples in that period)\n");
}

static gboolean
vsCmdStats(vsCli *cli, const vsCliArgs *args, GError **error)
{
    vsResourceSet res;
    g_autoptr(GArray) series = NULL;

    if (!vsParseResource(vsCliArgsGet(args, "resource"), &res, error) ||
        !(series = vsCmdQuerySeries(cli, args, error)))
        return FALSE;
    if (vsCliWantJson(cli))
        vsCmdStatsJson(cli, series, res);
    else
        vsCmdStatsTable(cli, series, res);
    return TRUE;
}

/* RFC 4180: quote a field that holds a comma, quote or newline. */
static void
vsCsvField(GString *out, const char *v)
{
    if (!strpbrk(v, ",\"\n\r")) {
        g_string_append(out, v);
        return;
    }
    g_string_append_c(out, '"');
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            g_string_append_c(out, '"');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

static void
vsCsvRow(GString *out, const vsSample *s)
{
    g_autofree char *when = vsSampleTime(s);
    g_autofree char *interval = g_strdup_printf("%.3f", s->interval_s);

    vsCsvField(out, when);
    g_string_append_c(out, ',');
    vsCsvField(out, s->name ? s->name : "");
    g_string_append_c(out, ',');
    vsCsvField(out, interval);
    for (gsize c = 0; c < G_N_ELEMENTS(vsColumns); c++) {
        g_autofree char *v = vsColumns[c].format(s);

        g_string_append_c(out, ',');
        vsCsvField(out, v);
    }
    g_string_append_c(out, ',');
    vsCsvField(out, s->labels ? s->labels : "");
    g_string_append(out, "\r\n");
}

static gboolean
vsCmdExport(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const char *format = vsCliArgsGet(args, "format");
    const char *output = vsCliArgsGet(args, "output");
    g_autoptr(GArray) series = NULL;
    g_autoptr(GString) csv = g_string_new("time,domain,interval_s");

    if (format && !g_str_equal(format, "csv")) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "invalid format '%s' (expected csv)", format);
        return FALSE;
    }
    if (!(series = vsCmdQuerySeries(cli, args, error)))
        return FALSE;
    for (gsize c = 0; c < G_N_ELEMENTS(vsColumns); c++)
        g_string_append_printf(csv, ",%s", vsColumns[c].name);
    g_string_append(csv, ",labels\r\n");
    for (guint i = 0; i < series->len; i++)
        vsCsvRow(csv, &g_array_index(series, vsSample, i));

    if (!output || g_str_equal(output, "-")) {
        fwrite(csv->str, 1, csv->len, stdout);
        return TRUE;
    }
    if (!g_file_set_contents(output, csv->str, csv->len, error))
        return FALSE;
    vsCliInfo(cli, "Wrote %u samples to '%s'\n", series->len, output);
    return TRUE;
}

/* --- top ---------------------------------------------------------------------- */

typedef enum {
    VS_SORT_CPU,
    VS_SORT_MEMORY,
    VS_SORT_DISK,
    VS_SORT_NET,
    VS_SORT_NAME,
} vsSortKey;

static double
vsTopKey(const vsSample *s, vsSortKey key)
{
    double v;

    switch (key) {
    case VS_SORT_CPU: v = s->cpu_vcpus; break;
    case VS_SORT_MEMORY: v = s->mem_used_kib >= 0 ? s->mem_used_kib : s->mem_current_kib; break;
    case VS_SORT_DISK: v = s->disk_rd_bps + s->disk_wr_bps; break;
    case VS_SORT_NET: v = s->net_rx_bps + s->net_tx_bps; break;
    default: return 0;
    }
    return isnan(v) ? -1 : v;
}

static vsSortKey vsTopSortKey;

static int
vsTopCompare(gconstpointer a, gconstpointer b)
{
    const vsSample *x = a;
    const vsSample *y = b;
    double kx;
    double ky;

    if (vsTopSortKey == VS_SORT_NAME)
        return g_strcmp0(x->name, y->name);
    kx = vsTopKey(x, vsTopSortKey);
    ky = vsTopKey(y, vsTopSortKey);
    return (kx < ky) - (kx > ky);   /* largest first */
}

static char *
vsTopRate(double bps)
{
    if (isnan(bps))
        return g_strdup("-");
    return vsFormatKiB((guint64)(bps / 1024 + 0.5));
}

static void
vsTopPrintTable(vsCli *cli, GArray *samples)
{
    g_autoptr(vsCliTable) t = vsCliTableNew("Domain", "CPU", "vCPUs", "Mem used", "Mem cur/max",
                                            "Disk r/w per s", "Net rx/tx per s", NULL);

    for (guint i = 0; i < samples->len; i++) {
        const vsSample *s = &g_array_index(samples, vsSample, i);
        g_autofree char *cpu = isnan(s->cpu_vcpus) ? g_strdup("-") : g_strdup_printf("%.2f", s->cpu_vcpus);
        g_autofree char *vcpus = g_strdup_printf("%d/%d", s->vcpus, s->vcpus_max);
        g_autofree char *used = s->mem_used_kib < 0 ? g_strdup("-") : vsFormatKiB(s->mem_used_kib);
        g_autofree char *used2 = g_strdup_printf("%s%s", used, s->mem_used_is_rss ? " (rss)" : "");
        g_autofree char *cur = s->mem_current_kib < 0 ? g_strdup("-") : vsFormatKiB(s->mem_current_kib);
        g_autofree char *max = s->mem_max_kib < 0 ? g_strdup("-") : vsFormatKiB(s->mem_max_kib);
        g_autofree char *mem = g_strdup_printf("%s/%s", cur, max);
        g_autofree char *rd = vsTopRate(s->disk_rd_bps);
        g_autofree char *wr = vsTopRate(s->disk_wr_bps);
        g_autofree char *disk = g_strdup_printf("%s/%s", rd, wr);
        g_autofree char *rx = vsTopRate(s->net_rx_bps);
        g_autofree char *tx = vsTopRate(s->net_tx_bps);
        g_autofree char *net = g_strdup_printf("%s/%s", rx, tx);

        vsCliTableAddRow(t, s->name, cpu, vcpus, used2, mem, disk, net, NULL);
    }
    vsCliTablePrint(cli, t);
}

static void
vsTopPrintJson(vsCli *cli, GArray *samples)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < samples->len; i++) {
        const vsSample *s = &g_array_index(samples, vsSample, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "domain", s->name);
        vsJsonWriterMemberString(w, "uuid", s->uuid);
        for (gsize c = 0; c < G_N_ELEMENTS(vsColumns); c++) {
            g_autofree char *v = vsColumns[c].format(s);

            vsJsonWriterKey(w, vsColumns[c].name);
            if (!*v)
                vsJsonWriterNull(w);
            else if (g_ascii_isdigit(*v) || *v == '-')
                vsJsonWriterDouble(w, g_ascii_strtod(v, NULL));
            else
                vsJsonWriterString(w, v);
        }
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsCliPrintJson(cli, w);
}

/* One refresh: counters now, rates against the previous refresh. */
static GArray *
vsTopRefresh(vsHypervisor *hv, vsRateTracker *rates, GError **error)
{
    g_autoptr(GArray) counters = vsHypervisorCollectCounters(hv, error);
    GArray *samples;
    gint64 now = g_get_real_time();

    if (!counters)
        return NULL;
    samples = g_array_new(FALSE, TRUE, sizeof(vsSample));
    g_array_set_clear_func(samples, (GDestroyNotify)vsSampleClear);
    for (guint i = 0; i < counters->len; i++) {
        vsSample s;

        vsSampleInit(&s);
        if (vsRateTrackerUpdate(rates, &g_array_index(counters, vsDomainCounters, i), now, &s))
            g_array_append_val(samples, s);
        else
            vsSampleClear(&s);
    }
    g_array_sort(samples, vsTopCompare);
    return samples;
}

static gboolean
vsCmdTop(vsCli *cli, const vsCliArgs *args, GError **error)
{
    static const char *const sorts[] = { "cpu", "memory", "disk", "net", "name" };
    const char *sort = vsCliArgsGet(args, "sort");
    const char *delay_text = vsCliArgsGet(args, "delay");
    const char *iter_text = vsCliArgsGet(args, "iterations");
    gboolean tty = isatty(STDOUT_FILENO) && !vsCliWantJson(cli);
    vsHypervisor *hv = vsCliGetHypervisor(cli, error);
    g_autoptr(vsRateTracker) rates = vsRateTrackerNew();
    g_autoptr(GArray) first = NULL;
    guint64 delay_ms = 0;
    guint64 iterations = tty ? 0 : 1;

    vsTopSortKey = VS_SORT_CPU;
    for (gsize i = 0; sort && i < G_N_ELEMENTS(sorts); i++) {
        if (g_str_equal(sort, sorts[i]))
            vsTopSortKey = (vsSortKey)i;
    }
    if (sort && !g_strv_contains(sorts, sort)) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "invalid sort key '%s' (expected cpu, memory, disk, net or name)", sort);
        return FALSE;
    }
    if (!vsParseDuration(delay_text ? delay_text : "2s", &delay_ms, error))
        return FALSE;
    if (iter_text && !g_ascii_string_to_unsigned(iter_text, 10, 1, G_MAXUINT, &iterations, NULL)) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "invalid iterations '%s'", iter_text);
        return FALSE;
    }
    if (!hv || !(first = vsTopRefresh(hv, rates, error)))
        return FALSE;
    /* 0 iterations: until interrupted (on a terminal) */
    for (guint64 n = 0; iterations == 0 || n < iterations; n++) {
        g_autoptr(GArray) samples = NULL;

        g_usleep(delay_ms * 1000);
        if (!(samples = vsTopRefresh(hv, rates, error)))
            return FALSE;
        if (vsCliWantJson(cli)) {
            vsTopPrintJson(cli, samples);
            continue;
        }
        if (tty)
            vsCliPrint(cli, "\033[H\033[2J");
        vsCliPrint(cli, "virt-shadow top: %u domains, sorted by %s, every %.1f s\n\n",
                   samples->len, sorts[vsTopSortKey], delay_ms / 1000.0);
        vsTopPrintTable(cli, samples);
        fflush(stdout);
    }
    return TRUE;
}

/* --- table ---------------------------------------------------------------------- */

static const vsCliOption vsCmdAnnotateOptions[] = {
    { "clear", 0, VS_OPT_FLAG, NULL, "remove every label before applying the new ones" },
    { NULL }
};

static const vsCliOption vsCmdStatsOptions[] = {
    { "since", 's', VS_OPT_STRING, "DURATION", "how far back (default 1h)" },
    { "resource", 'r', VS_OPT_STRING, "RESOURCE", "cpu, memory, disk, net or all (default)" },
    { NULL }
};

static const vsCliOption vsCmdExportOptions[] = {
    { "format", 'f', VS_OPT_STRING, "FORMAT", "csv (the default and only format)" },
    { "since", 's', VS_OPT_STRING, "DURATION", "how far back (default 1h)" },
    { "output", 'o', VS_OPT_STRING, "FILE", "write to FILE instead of standard output" },
    { NULL }
};

static const vsCliOption vsCmdTopOptions[] = {
    { "sort", 's', VS_OPT_STRING, "KEY", "cpu (default), memory, disk, net or name" },
    { "delay", 'd', VS_OPT_STRING, "DURATION", "time between refreshes (default 2s)" },
    { "iterations", 'n', VS_OPT_STRING, "N", "refresh N times, then exit (default: once off a terminal)" },
    { NULL }
};

const vsCliCommand vsCmdTelemetry[] = {
    { "annotate", "DOMAIN [KEY=VALUE...]", "label a domain's workload so samples carry its inputs",
      "Sets workload labels (request rate, job size, ...) that virt-shadowd\n"
      "stores with every sample of DOMAIN, so forecasts can use them.\n"
      "KEY= removes a label; with no KEY=VALUE the labels are shown.",
      vsCmdAnnotateOptions, 1, G_MAXUINT, vsCmdAnnotate },
    { "stats", "DOMAIN", "show a domain's stored samples",
      "Shows the samples virt-shadowd stored for DOMAIN (a name or UUID):\n"
      "CPU in vCPU-equivalents, memory in KiB, disk and network per second.",
      vsCmdStatsOptions, 1, 1, vsCmdStats },
    { "export", "DOMAIN", "write a domain's samples out as CSV",
      "Writes every column of DOMAIN's stored samples, with a header row, as\n"
      "RFC 4180 CSV.",
      vsCmdExportOptions, 1, 1, vsCmdExport },
    { "top", NULL, "live table of every running domain's CPU, memory, disk and network",
      "Like virt-top: reads libvirt's bulk statistics directly (no daemon or\n"
      "database needed), refreshing in place on a terminal until interrupted.",
      vsCmdTopOptions, 0, 0, vsCmdTop },
    { NULL }
};
