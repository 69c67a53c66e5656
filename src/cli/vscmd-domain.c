/*
 * vscmd-domain.c: domain commands ("list", "events")
 */
#include <config.h>

#include "vscli.h"
#include "conf/vsdomainxml.h"
#include "util/vserror.h"
#include "util/vsutil.h"

/* A domain with the facts virt-shadow cares about. */
typedef struct {
    vsDomainInfo *info;     /* borrowed */
    vsDomainXML *def;       /* NULL when the XML could not be read */
} vsDomainRow;

static void
vsCmdListJson(vsCli *cli, GArray *rows)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < rows->len; i++) {
        vsDomainRow *r = &g_array_index(rows, vsDomainRow, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "name", r->info->name);
        vsJsonWriterMemberString(w, "uuid", r->info->uuid);
        vsJsonWriterMemberInt(w, "id", r->info->id);
        vsJsonWriterMemberString(w, "state", vsDomainStateToString(r->info->state));
        vsJsonWriterMemberBool(w, "persistent", r->info->persistent);
        if (r->def) {
            vsJsonWriterMemberString(w, "type", r->def->type);
            vsJsonWriterMemberInt(w, "vcpus_current", r->def->vcpus_current);
            vsJsonWriterMemberInt(w, "vcpus_max", r->def->vcpus_max);
            vsJsonWriterMemberInt(w, "memory_current_kib", r->def->current_memory_kib);
            vsJsonWriterMemberInt(w, "memory_max_kib", r->def->memory_kib);
            vsJsonWriterMemberBool(w, "agent_channel", r->def->has_agent_channel);
            vsJsonWriterMemberBool(w, "agent_connected", r->def->agent_connected);
        }
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsCliPrintJson(cli, w);
}

static const char *
vsCmdListAgent(const vsDomainXML *def)
{
    if (!def->has_agent_channel)
        return "none";
    return def->agent_connected ? "connected" : "channel";
}

static void
vsCmdListTable(vsCli *cli, GArray *rows)
{
    g_autoptr(vsCliTable) t = vsCliTableNew("Id", "Name", "State", "vCPUs", "Memory",
                                            "Agent", NULL);

    for (guint i = 0; i < rows->len; i++) {
        vsDomainRow *r = &g_array_index(rows, vsDomainRow, i);
        g_autofree char *id = r->info->id >= 0 ? g_strdup_printf("%d", r->info->id) : g_strdup("-");
        g_autofree char *vcpus = NULL;
        g_autofree char *cur = NULL;
        g_autofree char *max = NULL;
        g_autofree char *memory = NULL;

        if (r->def) {
            vcpus = g_strdup_printf("%u/%u", r->def->vcpus_current, r->def->vcpus_max);
            cur = vsFormatKiB(r->def->current_memory_kib);
            max = vsFormatKiB(r->def->memory_kib);
            memory = g_strdup_printf("%s/%s", cur, max);
        }
        vsCliTableAddRow(t, id, r->info->name, vsDomainStateToString(r->info->state),
                         vcpus ? vcpus : "?", memory ? memory : "?",
                         r->def ? vsCmdListAgent(r->def) : "?", NULL);
    }
    vsCliTablePrint(cli, t);
}

static void
vsDomainRowClear(vsDomainRow *r)
{
    vsDomainXMLFree(r->def);
}

static gboolean
vsCmdList(vsCli *cli, const vsCliArgs *args, GError **error)
{
    vsHypervisor *hv = vsCliGetHypervisor(cli, error);
    g_autoptr(GPtrArray) domains = NULL;
    g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(vsDomainRow));
    gboolean all = vsCliArgsHas(args, "all");

    g_array_set_clear_func(rows, (GDestroyNotify)vsDomainRowClear);
    if (!hv || !(domains = vsHypervisorListDomains(hv, error)))
        return FALSE;
    for (guint i = 0; i < domains->len; i++) {
        vsDomainInfo *info = g_ptr_array_index(domains, i);
        g_autofree char *xml = NULL;
        vsDomainRow row = { info, NULL };

        if (!all && info->id < 0)
            continue;
        /* a domain may vanish between list and dumpxml: show what we know */
        if ((xml = vsHypervisorGetDomainXML(hv, info->uuid, FALSE, NULL)))
            row.def = vsDomainXMLParse(xml, NULL);
        g_array_append_val(rows, row);
    }
    if (vsCliWantJson(cli))
        vsCmdListJson(cli, rows);
    else
        vsCmdListTable(cli, rows);
    return TRUE;
}

static void
vsCmdEventsJson(vsCli *cli, GPtrArray *events)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < events->len; i++) {
        vsDomainEventRecord *ev = g_ptr_array_index(events, i);
        g_autofree char *when = vsCliFormatTime(ev->when_us);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "time", when);
        vsJsonWriterMemberInt(w, "time_us", ev->when_us);
        vsJsonWriterMemberString(w, "host", ev->host);
        vsJsonWriterMemberString(w, "domain", ev->name);
        vsJsonWriterMemberString(w, "uuid", ev->uuid);
        vsJsonWriterMemberString(w, "event", ev->event);
        vsJsonWriterMemberInt(w, "detail", ev->detail);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsCliPrintJson(cli, w);
}

static void
vsCmdEventsTable(vsCli *cli, GPtrArray *events)
{
    g_autoptr(vsCliTable) t = vsCliTableNew("Time", "Host", "Domain", "Event", NULL);

    for (guint i = 0; i < events->len; i++) {
        vsDomainEventRecord *ev = g_ptr_array_index(events, i);
        g_autofree char *when = vsCliFormatTime(ev->when_us);

        vsCliTableAddRow(t, when, ev->host, ev->name, ev->event, NULL);
    }
    vsCliTablePrint(cli, t);
}

static gboolean
vsCmdEvents(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const char *since = vsCliArgsGet(args, "since");
    guint64 since_ms = 0;
    guint limit;
    vsStore *store;
    g_autoptr(GPtrArray) events = NULL;

    if (since && !vsParseDuration(since, &since_ms, error))
        return FALSE;
    if (!vsCliGetLimit(args, 50, &limit, error) || !(store = vsCliGetCheckedStore(cli, error)))
        return FALSE;
    events = vsStoreListDomainEvents(store, vsCliArgsPositional(args, 0),
                                     since ? g_get_real_time() - (gint64)since_ms * 1000 : 0,
                                     limit, error);
    if (!events)
        return FALSE;
    if (vsCliWantJson(cli))
        vsCmdEventsJson(cli, events);
    else
        vsCmdEventsTable(cli, events);
    return TRUE;
}

static const vsCliOption vsCmdEventsOptions[] = {
    { "since", 's', VS_OPT_STRING, "DURATION", "only events newer than this (e.g. 1h, 7d)" },
    { "limit", 'n', VS_OPT_STRING, "N", "show at most the N newest events (default 50)" },
    { NULL }
};

static const vsCliOption vsCmdListOptions[] = {
    { "all", 'a', VS_OPT_FLAG, NULL, "include domains that are not running" },
    { NULL }
};

const vsCliCommand vsCmdDomain[] = {
    { "list", NULL, "list domains with their vCPUs, memory and guest agent",
      "Shows running domains (all with --all): current/maximum vCPUs, current\n"
      "balloon/maximum memory, and whether a guest agent channel exists and is\n"
      "connected.  The maximum is the headroom virt-shadow can grow into live.",
      vsCmdListOptions, 0, 0, vsCmdList },
    { "events", "[DOMAIN]", "show domain lifecycle events recorded by virt-shadowd",
      "Shows the lifecycle events (defined, started, stopped, ...) that the\n"
      "virt-shadowd daemons recorded, for every host sharing the database,\n"
      "oldest first.  DOMAIN is a name or UUID.",
      vsCmdEventsOptions, 0, 1, vsCmdEvents },
    { NULL }
};
