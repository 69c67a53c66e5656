/*
 * vsdaemon.c: virt-shadowd, the controller daemon
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vsdaemon.h"
#include "hypervisor/vshypervisor.h"
#include "vsallocworker.h"
#include "vsshadowworker.h"
#include "vsstoreworker.h"
#include "telemetry/vssampler.h"
#include "vsmetrics.h"
#include "util/vsconfig.h"
#include "util/vserror.h"
#include "util/vslog.h"
#include "util/vsutil.h"

struct _vsDaemon {
    vsDaemonOptions opts;
    vsConfig *cfg;
    char *host;
    GMainLoop *loop;
    int pid_fd;
    char *pid_path;

    vsStoreTarget target;
    vsStoreWorker *store;

    vsHypervisor *hv;
    char *uri;                  /* resolved URI in force (NULL: libvirt default) */
    guint hv_retry_ms;
    guint hv_retry_id;

    vsSampler *sampler;
    vsPredictor *predictor;
    vsAllocWorker *alloc;
    vsControllerConfig alloc_cfg;   /* what the allocator thread was started with */
    char *alloc_uri;
    guint alloc_id;
    vsShadowWorker *shadow;
    vsMetricsServer *metrics;
    char *metrics_listen;       /* what the server listens on now */
    guint sample_id;
    guint signal_ids[3];
};

void
vsDaemonOptionsClear(vsDaemonOptions *opts)
{
    g_free(opts->config_path);
    g_free(opts->connect);
    g_free(opts->state_dir);
    g_free(opts->pid_file);
}

#define VS_DAEMON_RETRY_MIN_MS 1000
#define VS_DAEMON_RETRY_MAX_MS 60000

static guint
vsBackoffNext(guint *cur_ms)
{
    guint delay = *cur_ms ? *cur_ms : VS_DAEMON_RETRY_MIN_MS;

    *cur_ms = MIN(delay * 2, VS_DAEMON_RETRY_MAX_MS);
    return delay;
}

/* --- configuration ------------------------------------------------------------ */

static vsConfig *
vsDaemonLoadConfig(const vsDaemonOptions *opts, GError **error)
{
    const char *path = opts->config_path ? opts->config_path : VS_DEFAULT_CONFIG_FILE;

    return vsConfigLoad(path, opts->config_path != NULL, error);
}

static void
vsDaemonResolve(vsDaemon *d)
{
    const char *state_dir = d->opts.state_dir ? d->opts.state_dir : d->cfg->state_dir;

    vsStoreTargetClear(&d->target);
    d->target.url = g_strdup(vsConfigResolveDatabase(d->cfg));
    d->target.state_dir = g_strdup(state_dir);
    d->target.pg_user = g_strdup(d->cfg->embedded_db_user);
    g_free(d->uri);
    d->uri = g_strdup(vsConfigResolveURI(d->cfg, d->opts.connect));
}

static gboolean
vsDaemonApplyLogging(vsDaemon *d, GError **error)
{
    vsLogLevel level;
    const char *target = d->cfg->log_target;
    g_autofree char *file = NULL;

    if (!vsLogLevelFromString(d->cfg->log_level, &level, error))
        return FALSE;
    vsLogSetLevel(d->opts.verbose >= 2 ? VS_LOG_DEBUG :
                  d->opts.verbose == 1 ? MAX(level, VS_LOG_INFO) : level);
    /* detached, "auto" cannot mean stderr: it is /dev/null */
    if (!d->opts.foreground && g_str_equal(target, "auto") &&
        !g_file_test("/run/systemd/journal/socket", G_FILE_TEST_EXISTS)) {
        file = g_strdup_printf("file:%s/virt-shadowd.log", d->target.state_dir);
        target = file;
    }
    return vsLogSetTarget(target, error);
}

vsDaemon *
vsDaemonNew(const vsDaemonOptions *opts, GError **error)
{
    g_autoptr(vsDaemon) d = g_new0(vsDaemon, 1);

    /* absolute now: a detached daemon runs in / */
    d->opts.config_path = opts->config_path ? g_canonicalize_filename(opts->config_path, NULL) : NULL;
    d->opts.connect = g_strdup(opts->connect);
    d->opts.state_dir = opts->state_dir ? g_canonicalize_filename(opts->state_dir, NULL) : NULL;
    d->opts.pid_file = opts->pid_file ? g_canonicalize_filename(opts->pid_file, NULL) : NULL;
    d->opts.foreground = opts->foreground;
    d->opts.verbose = opts->verbose;
    d->pid_fd = -1;
    if (!(d->cfg = vsDaemonLoadConfig(&d->opts, error)))
        return NULL;
    vsDaemonResolve(d);
    d->host = vsHostName();
    d->pid_path = g_strdup(d->opts.pid_file ? d->opts.pid_file : d->cfg->pid_file);
    return g_steal_pointer(&d);
}

/* --- pid file ------------------------------------------------------------------ */

static gboolean
vsDaemonTakePidFile(vsDaemon *d, GError **error)
{
    g_autofree char *pid = g_strdup_printf("%d\n", (int)getpid());
    struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    int fd = open(d->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0) {
        int err = errno;

        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot open pid file '%s': %s",
                    d->pid_path, g_strerror(err));
        return FALSE;
    }
    /* the lock, not the file's existence, says whether a daemon runs */
    if (fcntl(fd, F_SETLK, &lock) < 0) {
        char other[32] = "";
        ssize_t n = read(fd, other, sizeof(other) - 1);

        other[n > 0 ? n : 0] = '\0';
        close(fd);
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                    "virt-shadowd is already running (pid %s from '%s')",
                    g_strstrip(other), d->pid_path);
        return FALSE;
    }
    if (ftruncate(fd, 0) < 0 || write(fd, pid, strlen(pid)) != (ssize_t)strlen(pid)) {
        int err = errno;

        close(fd);
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot write pid file '%s': %s",
                    d->pid_path, g_strerror(err));
        return FALSE;
    }
    d->pid_fd = fd;
    return TRUE;
}

static void
vsDaemonReleasePidFile(vsDaemon *d)
{
    if (d->pid_fd < 0)
        return;
    g_unlink(d->pid_path);
    close(d->pid_fd);
    d->pid_fd = -1;
}

/* --- store ---------------------------------------------------------------------- */

static void
vsDaemonStoreConfig(vsDaemon *d, vsStoreWorkerConfig *ret)
{
    ret->host = d->host;
    ret->uri = d->uri;
    ret->heartbeat_interval_ms = d->cfg->heartbeat_interval_ms;
    ret->raw_retention_ms = d->cfg->raw_retention_ms;
    ret->rollup_retention_ms = d->cfg->rollup_retention_ms;
}

static void
vsDaemonOnLabels(GHashTable *labels, gpointer opaque)
{
    vsDaemon *d = opaque;

    vsSamplerSetLabels(d->sampler, labels);
}

static void
vsDaemonLogSamplerMessages(vsDaemon *d)
{
    g_auto(GStrv) messages = vsSamplerTakeMessages(d->sampler);

    for (gsize i = 0; messages && messages[i]; i++)
        g_info("%s", messages[i]);
}

static gboolean
vsDaemonStartStore(vsDaemon *d, GError **error)
{
    vsStoreWorkerConfig cfg;

    vsDaemonStoreConfig(d, &cfg);
    d->store = vsStoreWorkerStart(&d->target, &cfg, d->sampler, vsDaemonOnLabels, d, error);
    return d->store != NULL;
}

/* --- hypervisor ---------------------------------------------------------------- */

static void vsDaemonScheduleHypervisor(vsDaemon *d);

static void
vsDaemonOnLifecycle(vsHypervisor *hv, const char *name, const char *uuid,
                    vsDomainEventType event, int detail, gpointer opaque)
{
    vsDaemon *d = opaque;
    const char *what = vsDomainEventTypeToString(event);

    vsLogWithFields(G_LOG_LEVEL_INFO,
                    (const char *const[]){ "domain", name, "event", what, NULL },
                    "domain '%s' %s", name, what);
    vsStoreWorkerRecordEvent(d->store, g_get_real_time(), uuid, name, what, detail);
}

static void
vsDaemonOnDisconnected(vsHypervisor *hv, const char *reason, gpointer opaque)
{
    g_warning("lost the libvirt connection (%s); reconnecting", reason);
}

static void
vsDaemonOnReconnected(vsHypervisor *hv, gpointer opaque)
{
    g_autofree char *uri = vsHypervisorGetURI(hv);

    vsLogWithFields(G_LOG_LEVEL_INFO, (const char *const[]){ "uri", uri, NULL },
                    "reconnected to libvirt");
}

static gboolean
vsDaemonConnectHypervisor(vsDaemon *d, GError **error)
{
    vsHypervisorCallbacks cbs = {
        .domainLifecycle = vsDaemonOnLifecycle,
        .disconnected = vsDaemonOnDisconnected,
        .reconnected = vsDaemonOnReconnected,
        .opaque = d,
    };
    g_autoptr(vsHypervisor) hv = vsHypervisorOpen(d->uri, &cbs, error);
    g_autoptr(GPtrArray) domains = NULL;
    g_autofree char *uri = NULL;
    guint running = 0;

    if (!hv || !(domains = vsHypervisorListDomains(hv, error)))
        return FALSE;
    for (guint i = 0; i < domains->len; i++)
        running += ((vsDomainInfo *)g_ptr_array_index(domains, i))->id >= 0;
    uri = vsHypervisorGetURI(hv);
    vsLogWithFields(G_LOG_LEVEL_INFO, (const char *const[]){ "uri", uri, NULL },
                    "connected to libvirt: %u domain%s, %u running", domains->len,
                    domains->len == 1 ? "" : "s", running);
    d->hv = g_steal_pointer(&hv);
    d->hv_retry_ms = 0;
    return TRUE;
}

static gboolean
vsDaemonRetryHypervisor(gpointer opaque)
{
    vsDaemon *d = opaque;
    g_autoptr(GError) error = NULL;

    d->hv_retry_id = 0;
    if (!vsDaemonConnectHypervisor(d, &error)) {
        g_warning("%s", error->message);
        vsDaemonScheduleHypervisor(d);
    }
    return G_SOURCE_REMOVE;
}

static void
vsDaemonScheduleHypervisor(vsDaemon *d)
{
    guint delay;

    if (d->hv_retry_id)
        return;
    delay = vsBackoffNext(&d->hv_retry_ms);
    g_info("retrying libvirt in %u ms", delay);
    d->hv_retry_id = g_timeout_add(delay, vsDaemonRetryHypervisor, d);
}

/* --- telemetry ------------------------------------------------------------------ */

static void
vsDaemonSamplerConfig(const vsConfig *cfg, vsSamplerConfig *ret)
{
    vsAdaptiveConfigDefaults(&ret->adaptive);
    ret->adaptive.min_interval_ms = cfg->min_interval_ms;
    ret->adaptive.max_interval_ms = cfg->max_interval_ms;
    ret->balloon_period_s = (int)MIN(cfg->balloon_period_ms / 1000, G_MAXINT);
    ret->spool_max_bytes = cfg->spool_max_bytes;
}

#define VS_DAEMON_HISTORY_US (G_GINT64_CONSTANT(7) * 86400 * G_USEC_PER_SEC)
#define VS_DAEMON_FORGET_US (G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC)

static void
vsDaemonOnHistory(const char *uuid, GArray *history, gpointer opaque)
{
    vsDaemon *d = opaque;

    vsPredictorWarm(d->predictor, uuid, history);
}

/* Stored history is kept in 5-minute rollups: it warms up slots of that
 * length only. */
static gboolean
vsDaemonStepIsRollup(const vsConfig *cfg)
{
    return cfg->forecast_step_ms == 300 * 1000;
}

/* Feed the new samples to the forecasters; a domain seen for the first
 * time is warmed up from its stored history. */
static void
vsDaemonPredict(vsDaemon *d, const vsSampleBatch *batch, gint64 now_us)
{
    vsPredictorOutput *out;

    for (guint i = 0; i < batch->samples->len; i++) {
        const vsSample *x = &g_array_index(batch->samples, vsSample, i);

        if (vsPredictorAddSample(d->predictor, x) && vsDaemonStepIsRollup(d->cfg))
            vsStoreWorkerLoadHistory(d->store, x->uuid, now_us - VS_DAEMON_HISTORY_US,
                                     vsDaemonOnHistory, d);
    }
    vsPredictorExpire(d->predictor, now_us - VS_DAEMON_FORGET_US);
    if ((out = vsPredictorAdvance(d->predictor, now_us)))
        vsStoreWorkerWriteForecasts(d->store, out);
}

/* Ticks at min_interval; the sampler decides which domains are due.
 * Collection talks to libvirt here; storing happens on the store thread. */
static gboolean
vsDaemonSample(gpointer opaque)
{
    vsDaemon *d = opaque;
    g_autoptr(GError) error = NULL;
    vsSampleBatch *batch;
    gint64 now_us = g_get_real_time();

    if (!d->hv || !vsHypervisorIsAlive(d->hv))
        return G_SOURCE_CONTINUE;
    if (!vsStoreWorkerReady(d->store)) {
        g_warning("the database is slow: skipping a collection (nothing is lost: "
                  "the next samples cover the longer interval)");
        return G_SOURCE_CONTINUE;
    }
    if (!(batch = vsSamplerCollect(d->sampler, d->hv, now_us, &error))) {
        g_warning("sampling failed: %s", error->message);
    } else {
        vsDaemonPredict(d, batch, now_us);
        vsStoreWorkerWriteSamples(d->store, batch);
    }
    vsDaemonLogSamplerMessages(d);
    return G_SOURCE_CONTINUE;
}

/* Errors kept per model and domain, for the intervals' quantiles: a
 * season of slots, and never fewer than this, or the top quantiles of a
 * short season would rest on a handful of errors. */
#define VS_DAEMON_MIN_ERRORS 288

/* Slots are staggered over the control intervals of a step, so that each
 * interval forecasts a share of the domains, not every one at a step's end. */
static vsPredictor *
vsDaemonNewPredictor(const vsConfig *cfg)
{
    guint slots = (guint)(cfg->forecast_season_ms / cfg->forecast_step_ms);
    vsPredictor *p = vsPredictorNew(cfg->forecast_step_ms / 1000.0,
                                    cfg->forecast_season_ms / 1000.0,
                                    cfg->forecast_horizon_ms / 1000.0,
                                    MAX(slots, VS_DAEMON_MIN_ERRORS));

    vsPredictorSpread(p, cfg->allocator_interval_ms / 1000.0);
    return p;
}

static gboolean
vsDaemonStartSampler(vsDaemon *d, GError **error)
{
    g_autofree char *spool = g_build_filename(d->target.state_dir, "spool", NULL);
    vsSamplerConfig scfg;
    vsSamplerStats stats;

    vsDaemonSamplerConfig(d->cfg, &scfg);
    if (!(d->sampler = vsSamplerNew(&scfg, d->host, spool, error)))
        return FALSE;
    d->predictor = vsDaemonNewPredictor(d->cfg);
    vsSamplerGetStats(d->sampler, &stats);
    if (stats.spool_batches > 0)
        g_info("%u batches are waiting in the spool '%s'", stats.spool_batches, spool);
    return TRUE;
}

static void
vsDaemonRenderMetrics(GString *out, gpointer opaque)
{
    vsDaemon *d = opaque;
    g_autoptr(GPtrArray) latest = vsSamplerLatest(d->sampler);
    vsSamplerStats stats;

    vsSamplerGetStats(d->sampler, &stats);
    vsMetricsFormat(out, &stats,
                    d->hv && vsHypervisorIsAlive(d->hv), latest);
}

/* (Re)start the endpoint when its address changed. */
static gboolean
vsDaemonServeMetrics(vsDaemon *d, GError **error)
{
    const char *listen = d->cfg->metrics_listen;
    g_autofree char *url = NULL;

    if (d->metrics && g_strcmp0(listen, d->metrics_listen) == 0)
        return TRUE;
    g_clear_pointer(&d->metrics, vsMetricsServerFree);
    g_clear_pointer(&d->metrics_listen, g_free);
    if (!listen)
        return TRUE;
    if (!(d->metrics = vsMetricsServerNew(listen, vsDaemonRenderMetrics, d, error)))
        return FALSE;
    d->metrics_listen = g_strdup(listen);
    url = vsMetricsServerURL(d->metrics);
    vsLogWithFields(G_LOG_LEVEL_INFO, (const char *const[]){ "url", url, NULL },
                    "serving Prometheus metrics");
    return TRUE;
}

/* --- allocator ------------------------------------------------------------------- */

/* A sample older than this is of a domain that no longer runs. */
#define VS_DAEMON_STALE_SAMPLE_INTERVALS 3

/* What the allocator thread gets each interval: every running domain's
 * newest sample and forecasts. */
static GArray *
vsDaemonAllocSnapshot(vsDaemon *d, gint64 now_us)
{
    g_autoptr(GPtrArray) latest = vsSamplerLatest(d->sampler);
    GArray *domains = g_array_sized_new(FALSE, TRUE, sizeof(vsControllerDomain), latest->len);
    gint64 stale = now_us - VS_DAEMON_STALE_SAMPLE_INTERVALS * 1000 * (gint64)d->cfg->max_interval_ms;

    g_array_set_clear_func(domains, (GDestroyNotify)vsControllerDomainClear);
    for (guint i = 0; i < latest->len; i++) {
        const vsSample *x = g_ptr_array_index(latest, i);
        vsControllerDomain dom;

        if (x->time_us < stale)
            continue;
        vsControllerDomainInit(&dom);
        g_strlcpy(dom.uuid, x->uuid, sizeof(dom.uuid));
        dom.name = g_strdup(x->name);
        dom.vcpus = x->vcpus >= 0 ? x->vcpus : NAN;
        dom.memory_kib = x->mem_current_kib >= 0 ? (double)x->mem_current_kib : NAN;
        dom.cpu_use = x->cpu_vcpus;
        dom.memory_used_kib = x->mem_used_kib >= 0 ? (double)x->mem_used_kib : NAN;
        vsControllerDomainForecasts(&dom, d->predictor);
        g_array_append_val(domains, dom);
    }
    return domains;
}

static gboolean
vsDaemonAllocate(gpointer opaque)
{
    vsDaemon *d = opaque;
    gint64 now_us = g_get_real_time();

    if (d->alloc)
        vsAllocWorkerSubmit(d->alloc, vsDaemonAllocSnapshot(d, now_us), now_us);
    return G_SOURCE_CONTINUE;
}

static void
vsDaemonAllocConfig(const vsConfig *cfg, vsControllerConfig *ret)
{
    vsControllerConfigDefaults(ret);
    ret->interval_s = (guint)MAX(1, cfg->allocator_interval_ms / 1000);
    ret->cpu_overcommit = cfg->cpu_overcommit;
    ret->memory_overcommit = cfg->memory_overcommit;
    ret->host_cpus = cfg->host_cpus;
    ret->host_memory_kib = (double)(cfg->host_memory_bytes / 1024);
    ret->decide.shrink_window_s = ret->decide.down_window_s =
        (guint)MIN(cfg->shrink_window_ms / 1000, G_MAXUINT);
    /* a forecast is fully trusted after a season of slots, not before a
     * 24th of one (the defaults: a day, an hour) */
    ret->decide.full_history = (guint)(cfg->forecast_season_ms / cfg->forecast_step_ms);
    ret->decide.min_history = MAX(1, ret->decide.full_history / 24);
}

static gboolean
vsDaemonAllocUnchanged(const vsDaemon *d, const vsControllerConfig *cfg)
{
    const vsControllerConfig *cur = &d->alloc_cfg;

    return d->alloc && g_strcmp0(d->alloc_uri, d->uri) == 0 &&
           cfg->interval_s == cur->interval_s && cfg->cpu_overcommit == cur->cpu_overcommit &&
           cfg->memory_overcommit == cur->memory_overcommit &&
           cfg->host_cpus == cur->host_cpus && cfg->host_memory_kib == cur->host_memory_kib &&
           cfg->decide.shrink_window_s == cur->decide.shrink_window_s &&
           cfg->decide.full_history == cur->decide.full_history;
}

/* Start, restart (its settings changed: its memory of past resizes goes)
 * or stop the allocator thread, as the configuration says. */
static void
vsDaemonConfigureAllocator(vsDaemon *d)
{
    vsAllocWorkerConfig acfg = { .host = d->host, .uri = d->uri };

    vsDaemonAllocConfig(d->cfg, &acfg.controller);
    if (d->cfg->allocator_interval_ms && vsDaemonAllocUnchanged(d, &acfg.controller))
        return;
    g_clear_pointer(&d->alloc, vsAllocWorkerStop);
    if (d->alloc_id) {
        g_source_remove(d->alloc_id);
        d->alloc_id = 0;
    }
    if (!d->cfg->allocator_interval_ms) {
        g_info("the allocator is off ([allocator] interval = 0)");
        return;
    }
    d->alloc_cfg = acfg.controller;
    g_free(d->alloc_uri);
    d->alloc_uri = g_strdup(d->uri);
    d->alloc = vsAllocWorkerStart(&d->target, &acfg);
    d->alloc_id = g_timeout_add((guint)MIN(d->cfg->allocator_interval_ms, G_MAXUINT),
                                vsDaemonAllocate, d);
}

/* --- scheduled shadow runs ---------------------------------------------------- */

static void
vsDaemonShadowConfig(vsDaemon *d, vsShadowWorkerConfig *ret)
{
    ret->host = d->host;
    ret->uri = d->uri;
    ret->pool = d->cfg->shadow_pool;
    ret->max_concurrent = (guint)d->cfg->max_concurrent_shadows;
    ret->max_attempts = (guint)d->cfg->max_job_attempts;
    ret->interval_ms = 0;
    ret->lease_s = 0;
}

/* Its own thread: gc at start, then due schedules every 30 s. */
static void
vsDaemonConfigureShadows(vsDaemon *d)
{
    vsShadowWorkerConfig cfg;

    vsDaemonShadowConfig(d, &cfg);
    if (d->shadow)
        vsShadowWorkerConfigure(d->shadow, &cfg);
    else
        d->shadow = vsShadowWorkerStart(&d->target, &cfg);
}

/* --- signals -------------------------------------------------------------------- */

static void
vsDaemonRestartTimer(guint *id, guint64 interval_ms, GSourceFunc fn, vsDaemon *d)
{
    if (*id)
        g_source_remove(*id);
    *id = g_timeout_add((guint)CLAMP(interval_ms, 100, G_MAXUINT), fn, d);
}

static void
vsDaemonRestartTimers(vsDaemon *d)
{
    vsSamplerConfig scfg;

    vsDaemonRestartTimer(&d->sample_id, d->cfg->min_interval_ms, vsDaemonSample, d);
    vsStoreWorkerConfig wcfg;

    vsDaemonStoreConfig(d, &wcfg);
    vsStoreWorkerConfigure(d->store, &d->target, &wcfg);
    vsDaemonSamplerConfig(d->cfg, &scfg);
    vsSamplerSetConfig(d->sampler, &scfg);
    vsDaemonConfigureAllocator(d);
    vsDaemonConfigureShadows(d);
}

/* New slots make what was learnt meaningless: start afresh, each domain
 * warmed up again from its stored history as it is next sampled. */
static void
vsDaemonReloadPredictor(vsDaemon *d, const vsConfig *cfg)
{
    if (!d->predictor)
        return;
    if (cfg->forecast_step_ms == d->cfg->forecast_step_ms &&
        cfg->forecast_season_ms == d->cfg->forecast_season_ms &&
        cfg->forecast_horizon_ms == d->cfg->forecast_horizon_ms) {
        vsPredictorSpread(d->predictor, cfg->allocator_interval_ms / 1000.0);
        return;
    }
    vsPredictorFree(d->predictor);
    d->predictor = vsDaemonNewPredictor(cfg);
    g_info("[forecast] changed: forecasting starts afresh");
}

/* Reconnect what the new configuration points elsewhere; keep the rest. */
static gboolean
vsDaemonReload(gpointer opaque)
{
    vsDaemon *d = opaque;
    g_autoptr(GError) error = NULL;
    g_autoptr(vsConfig) cfg = vsDaemonLoadConfig(&d->opts, &error);
    g_autofree char *old_uri = g_strdup(d->uri);

    if (!cfg) {
        g_warning("reload failed, keeping the previous configuration: %s", error->message);
        return G_SOURCE_CONTINUE;
    }
    vsDaemonReloadPredictor(d, cfg);
    vsConfigFree(d->cfg);
    d->cfg = g_steal_pointer(&cfg);
    vsDaemonResolve(d);
    if (!vsDaemonApplyLogging(d, &error))
        g_warning("%s", error->message);
    vsDaemonRestartTimers(d);
    if (!vsDaemonServeMetrics(d, &error))
        g_warning("%s", error->message);
    if (g_strcmp0(old_uri, d->uri) != 0 && !d->hv_retry_id) {
        vsHypervisorFree(g_steal_pointer(&d->hv));
        vsDaemonScheduleHypervisor(d);
    }
    g_info("configuration reloaded from '%s'", d->cfg->path ? d->cfg->path : "defaults");
    return G_SOURCE_CONTINUE;
}

static gboolean
vsDaemonQuit(gpointer opaque)
{
    vsDaemon *d = opaque;

    g_info("shutting down");
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
}

/* --- run -------------------------------------------------------------------------- */

/* Fork into the background; the parent exits only once the child reports
 * that start-up worked (or why it failed), so "virt-shadowd" fails loudly. */
static gboolean
vsDaemonDetach(int *ret_ready_fd, GError **error)
{
    int fds[2];
    pid_t pid;

    if (pipe(fds) < 0 || (pid = fork()) < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot detach: %s", g_strerror(errno));
        return FALSE;
    }
    if (pid > 0) {
        char msg[1024] = "";
        ssize_t n;

        close(fds[1]);
        n = read(fds[0], msg, sizeof(msg) - 1);
        msg[n > 0 ? n : 0] = '\0';
        if (g_str_equal(msg, "ok"))
            _exit(VS_EXIT_OK);
        fprintf(stderr, "virt-shadowd: error: %s\n", n > 0 ? msg : "failed to start");
        _exit(VS_EXIT_FAILURE);
    }
    close(fds[0]);
    if (setsid() < 0 || (pid = fork()) < 0)
        _exit(VS_EXIT_FAILURE);
    if (pid > 0)
        _exit(VS_EXIT_OK);
    /* explicit modes everywhere; a stricter umask would close new parents
     * of the state dir to the embedded database's user */
    umask(022);
    if (chdir("/") < 0)
        _exit(VS_EXIT_FAILURE);
    *ret_ready_fd = fds[1];
    return TRUE;
}

static void
vsDaemonReport(int ready_fd, const char *msg)
{
    if (ready_fd < 0)
        return;
    if (write(ready_fd, msg, strlen(msg)) < 0) {
        /* the parent is gone; nobody to tell */
    }
    close(ready_fd);
}

static void
vsDaemonRedirectStdio(void)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);

    if (null < 0)
        return;
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    close(null);
}

static gboolean
vsDaemonStart(vsDaemon *d, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (!vsMakeDirs(d->target.state_dir, 0711, error) ||
        !vsDaemonApplyLogging(d, error) ||
        !vsDaemonTakePidFile(d, error) ||
        !vsDaemonStartSampler(d, error) ||
        !vsDaemonServeMetrics(d, error))
        return FALSE;

    d->loop = g_main_loop_new(NULL, FALSE);
    d->signal_ids[0] = g_unix_signal_add(SIGTERM, vsDaemonQuit, d);
    d->signal_ids[1] = g_unix_signal_add(SIGINT, vsDaemonQuit, d);
    d->signal_ids[2] = g_unix_signal_add(SIGHUP, vsDaemonReload, d);
    vsLogWithFields(G_LOG_LEVEL_INFO,
                    (const char *const[]){ "config", d->cfg->path ? d->cfg->path : "defaults",
                                           "state_dir", d->target.state_dir, NULL },
                    "virt-shadowd %s starting on host '%s'", PACKAGE_VERSION, d->host);

    /* neither service being down stops the daemon: it retries with backoff;
     * but a schema this binary cannot use will not fix itself */
    if (!vsDaemonStartStore(d, error))
        return FALSE;
    if (!vsDaemonConnectHypervisor(d, &local)) {
        g_warning("%s", local->message);
        vsDaemonScheduleHypervisor(d);
    }
    vsDaemonRestartTimers(d);
    return TRUE;
}

gboolean
vsDaemonRun(vsDaemon *d, GError **error)
{
    int ready_fd = -1;

    if (!d->opts.foreground && !vsDaemonDetach(&ready_fd, error))
        return FALSE;
    if (!vsDaemonStart(d, error)) {
        vsDaemonReport(ready_fd, (*error)->message);
        return FALSE;
    }
    vsDaemonReport(ready_fd, "ok");
    if (!d->opts.foreground)
        vsDaemonRedirectStdio();

    g_main_loop_run(d->loop);
    /* cancelled shadow runs clean up before the daemon goes */
    g_clear_pointer(&d->shadow, vsShadowWorkerStop);
    g_clear_pointer(&d->alloc, vsAllocWorkerStop);
    g_clear_pointer(&d->store, vsStoreWorkerStop);
    vsDaemonReleasePidFile(d);
    g_info("stopped");
    return TRUE;
}

void
vsDaemonFree(vsDaemon *d)
{
    if (!d)
        return;
    for (gsize i = 0; i < G_N_ELEMENTS(d->signal_ids); i++) {
        if (d->signal_ids[i])
            g_source_remove(d->signal_ids[i]);
    }
    if (d->sample_id)
        g_source_remove(d->sample_id);
    if (d->hv_retry_id)
        g_source_remove(d->hv_retry_id);
    if (d->alloc_id)
        g_source_remove(d->alloc_id);
    vsShadowWorkerStop(d->shadow);
    vsAllocWorkerStop(d->alloc);
    vsHypervisorFree(d->hv);
    vsStoreWorkerStop(d->store);
    vsMetricsServerFree(d->metrics);
    g_free(d->metrics_listen);
    vsSamplerFree(d->sampler);
    vsPredictorFree(d->predictor);
    vsStoreTargetClear(&d->target);
    vsDaemonReleasePidFile(d);
    if (d->loop)
        g_main_loop_unref(d->loop);
    vsConfigFree(d->cfg);
    vsDaemonOptionsClear(&d->opts);
    g_free(d->host);
    g_free(d->uri);
    g_free(d->alloc_uri);
    g_free(d->pid_path);
    g_free(d);
}
