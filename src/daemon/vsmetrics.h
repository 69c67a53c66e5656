/*
 * vsmetrics.h: the daemon's Prometheus endpoint
 *
 * libsoup serves GET /metrics in the Prometheus text format (0.0.4): the
 * daemon's own health and each domain's latest rates, for existing
 * Grafana setups.
 */
#pragma once

#include <glib.h>

#include "telemetry/vssampler.h"

G_BEGIN_DECLS

/* Append the exposition text for @stats and the @latest samples
 * (vsSample *), skipping unknown values. */
void vsMetricsFormat(GString *out, const vsSamplerStats *stats, gboolean libvirt_up,
                     GPtrArray *latest);

/* Fills the body of one scrape. */
typedef void (*vsMetricsRenderFunc)(GString *out, gpointer opaque);

typedef struct _vsMetricsServer vsMetricsServer;

/* Listen on @listen ("127.0.0.1:9468", "[::1]:9468"; an IP literal). */
vsMetricsServer *vsMetricsServerNew(const char *listen, vsMetricsRenderFunc render,
                                    gpointer opaque, GError **error);
void vsMetricsServerFree(vsMetricsServer *srv);
/* "http://127.0.0.1:9468/metrics", with the real port when 0 was asked. */
char *vsMetricsServerURL(vsMetricsServer *srv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsMetricsServer, vsMetricsServerFree)

G_END_DECLS
