/*
 * vsmetrics.c: the daemon's Prometheus endpoint
 */
#include <config.h>

#include <libsoup/soup.h>
#include <math.h>

#include "vsmetrics.h"
#include "util/vserror.h"

#define VS_METRICS_DEFAULT_PORT 9468

struct _vsMetricsServer {
    SoupServer *soup;
    vsMetricsRenderFunc render;
    gpointer opaque;
};

/* Nine significant digits: exact for counters, no 0.1000000000000001 noise. */
static const char *
vsMetricsNumber(char *buf, double v)
{
    return g_ascii_formatd(buf, G_ASCII_DTOSTR_BUF_SIZE, "%.9g", v);
}

static void
vsMetricsHeader(GString *out, const char *name, const char *type, const char *help)
{
    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
vsMetricsValue(GString *out, const char *name, const char *type, const char *help, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    vsMetricsHeader(out, name, type, help);
    g_string_append_printf(out, "%s %s\n", name, vsMetricsNumber(buf, v));
}

/* Label values escape backslash, double quote and newline. */
static void
vsMetricsLabel(GString *out, const char *value)
{
    for (const char *p = value ? value : ""; *p; p++) {
        if (*p == '\\' || *p == '"')
            g_string_append_c(out, '\\');
        if (*p == '\n')
            g_string_append(out, "\\n");
        else
            g_string_append_c(out, *p);
    }
}

typedef struct {
    const char *name;
    const char *help;
    double (*get)(const vsSample *s);
} vsDomainMetric;

static double vsGetTime(const vsSample *s) { return s->time_us / 1e6; }
static double vsGetCpu(const vsSample *s) { return s->cpu_vcpus; }
static double vsGetCpuPerVcpu(const vsSample *s) { return s->cpu_per_vcpu; }
static double vsGetVcpus(const vsSample *s) { return s->vcpus < 0 ? NAN : s->vcpus; }
static double vsGetMemUsed(const vsSample *s) { return s->mem_used_kib < 0 ? NAN : s->mem_used_kib * 1024.0; }
static double vsGetMemCurrent(const vsSample *s) { return s->mem_current_kib < 0 ? NAN : s->mem_current_kib * 1024.0; }
static double vsGetMemMax(const vsSample *s) { return s->mem_max_kib < 0 ? NAN : s->mem_max_kib * 1024.0; }
static double vsGetDiskRd(const vsSample *s) { return s->disk_rd_bps; }
static double vsGetDiskWr(const vsSample *s) { return s->disk_wr_bps; }
static double vsGetDiskRdOps(const vsSample *s) { return s->disk_rd_iops; }
static double vsGetDiskWrOps(const vsSample *s) { return s->disk_wr_iops; }
static double vsGetNetRx(const vsSample *s) { return s->net_rx_bps; }
static double vsGetNetTx(const vsSample *s) { return s->net_tx_bps; }

static const vsDomainMetric vsDomainMetrics[] = {
    { "virtshadow_domain_sample_timestamp_seconds", "When the latest sample was taken", vsGetTime },
    { "virtshadow_domain_cpu_vcpus", "CPU use in vCPU-equivalents", vsGetCpu },
    { "virtshadow_domain_cpu_per_vcpu", "CPU use per current vCPU, 0 to 1", vsGetCpuPerVcpu },
    { "virtshadow_domain_vcpus", "Current vCPUs", vsGetVcpus },
    { "virtshadow_domain_memory_used_bytes", "Guest memory in use (balloon stats, else QEMU RSS)", vsGetMemUsed },
    { "virtshadow_domain_memory_current_bytes", "Current balloon size", vsGetMemCurrent },
    { "virtshadow_domain_memory_max_bytes", "Maximum memory", vsGetMemMax },
    { "virtshadow_domain_disk_read_bytes_per_second", "Disk reads", vsGetDiskRd },
    { "virtshadow_domain_disk_write_bytes_per_second", "Disk writes", vsGetDiskWr },
    { "virtshadow_domain_disk_read_ops_per_second", "Disk read operations", vsGetDiskRdOps },
    { "virtshadow_domain_disk_write_ops_per_second", "Disk write operations", vsGetDiskWrOps },
    { "virtshadow_domain_net_receive_bytes_per_second", "Network bytes received", vsGetNetRx },
    { "virtshadow_domain_net_transmit_bytes_per_second", "Network bytes sent", vsGetNetTx },
};

static void
vsMetricsDomains(GString *out, GPtrArray *latest)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    for (gsize m = 0; m < G_N_ELEMENTS(vsDomainMetrics); m++) {
        vsMetricsHeader(out, vsDomainMetrics[m].name, "gauge", vsDomainMetrics[m].help);
        for (guint i = 0; latest && i < latest->len; i++) {
            const vsSample *s = g_ptr_array_index(latest, i);
            double v = vsDomainMetrics[m].get(s);

            if (isnan(v))
                continue;
            g_string_append_printf(out, "%s{domain=\"", vsDomainMetrics[m].name);
            vsMetricsLabel(out, s->name);
            g_string_append_printf(out, "\",uuid=\"%s\"} %s\n", s->uuid,
                                   vsMetricsNumber(buf, v));
        }
    }
}

void
vsMetricsFormat(GString *out, const vsSamplerStats *st, gboolean libvirt_up, GPtrArray *latest)
{
    vsMetricsValue(out, "virtshadow_up", "gauge", "The daemon is running", 1);
    vsMetricsValue(out, "virtshadow_libvirt_up", "gauge", "Connected to libvirt", libvirt_up);
    vsMetricsValue(out, "virtshadow_database_up", "gauge",
                   "The last write reached the database", st->database_up);
    vsMetricsValue(out, "virtshadow_cycle_seconds", "gauge",
                   "Wall time of the last sampling cycle", st->last_cycle_s);
    vsMetricsValue(out, "virtshadow_cycles_total", "counter", "Sampling cycles run", st->cycles);
    vsMetricsValue(out, "virtshadow_samples_collected_total", "counter",
                   "Samples taken", st->samples_collected);
    vsMetricsValue(out, "virtshadow_samples_written_total", "counter",
                   "Samples stored in the database, directly or from the spool", st->samples_stored);
    vsMetricsValue(out, "virtshadow_samples_spooled_total", "counter",
                   "Samples written to the spool while the database was away", st->samples_spooled);
    vsMetricsValue(out, "virtshadow_spool_batches", "gauge", "Batches waiting in the spool",
                   st->spool_batches);
    vsMetricsValue(out, "virtshadow_spool_bytes", "gauge", "Size of the spool on disk",
                   st->spool_bytes);
    vsMetricsValue(out, "virtshadow_domains_tracked", "gauge", "Domains being sampled", st->domains);
    vsMetricsDomains(out, latest);
}

static void
vsMetricsHandle(SoupServer *soup, SoupServerMessage *msg, const char *path,
                GHashTable *query, gpointer opaque)
{
    vsMetricsServer *srv = opaque;
    GString *body;
    gsize len;

    if (g_strcmp0(soup_server_message_get_method(msg), SOUP_METHOD_GET) != 0 &&
        g_strcmp0(soup_server_message_get_method(msg), SOUP_METHOD_HEAD) != 0) {
        soup_server_message_set_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    body = g_string_new(NULL);
    srv->render(body, srv->opaque);
    len = body->len;
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response(msg, "text/plain; version=0.0.4; charset=utf-8",
                                     SOUP_MEMORY_TAKE, g_string_free(body, FALSE), len);
}

static GSocketAddress *
vsMetricsParseListen(const char *listen, GError **error)
{
    g_autoptr(GSocketConnectable) where = NULL;
    g_autoptr(GInetAddress) ip = NULL;
    g_autoptr(GError) local = NULL;

    if (!(where = g_network_address_parse(listen, VS_METRICS_DEFAULT_PORT, &local)) ||
        !(ip = g_inet_address_new_from_string(
              g_network_address_get_hostname(G_NETWORK_ADDRESS(where))))) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid metrics listen address '%s' (expected IP:PORT, e.g. 127.0.0.1:9468)",
                    listen);
        return NULL;
    }
    return g_inet_socket_address_new(ip, g_network_address_get_port(G_NETWORK_ADDRESS(where)));
}

vsMetricsServer *
vsMetricsServerNew(const char *listen, vsMetricsRenderFunc render, gpointer opaque,
                   GError **error)
{
    g_autoptr(vsMetricsServer) srv = g_new0(vsMetricsServer, 1);
    g_autoptr(GSocketAddress) addr = vsMetricsParseListen(listen, error);
    g_autoptr(GError) local = NULL;

    if (!addr)
        return NULL;
    srv->render = render;
    srv->opaque = opaque;
    srv->soup = soup_server_new("server-header", "virt-shadowd", NULL);
    soup_server_add_handler(srv->soup, "/metrics", vsMetricsHandle, srv, NULL);
    if (!soup_server_listen(srv->soup, addr, 0, &local)) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot serve metrics on '%s': %s",
                    listen, local->message);
        return NULL;
    }
    return g_steal_pointer(&srv);
}

char *
vsMetricsServerURL(vsMetricsServer *srv)
{
    /* from the listening socket: soup_server_get_uris() leaks in libsoup 3.2 */
    GSList *listeners = soup_server_get_listeners(srv->soup);
    g_autoptr(GSocketAddress) addr = NULL;
    g_autofree char *ip = NULL;
    GInetAddress *inet;
    char *url;

    if (!listeners || !(addr = g_socket_get_local_address(listeners->data, NULL))) {
        g_slist_free(listeners);
        return NULL;
    }
    g_slist_free(listeners);
    inet = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(addr));
    ip = g_inet_address_to_string(inet);
    url = g_strdup_printf(g_inet_address_get_family(inet) == G_SOCKET_FAMILY_IPV6 ?
                          "http://[%s]:%u/metrics" : "http://%s:%u/metrics", ip,
                          g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(addr)));
    return url;
}

void
vsMetricsServerFree(vsMetricsServer *srv)
{
    if (!srv)
        return;
    if (srv->soup) {
        soup_server_disconnect(srv->soup);
        g_object_unref(srv->soup);
    }
    g_free(srv);
}
