/*
 * vssampler.c: the daemon's collection cycle
 */
#include <config.h>

#include <math.h>

#include "vssampler.h"
#include "vsrates.h"
#include "vsspool.h"
#include "conf/vsdomainxml.h"
#include "conf/vsmetadata.h"
#include "util/vserror.h"

/* A domain unseen for this many max intervals was undefined: forget it. */
#define VS_SAMPLER_EXPIRE_INTERVALS 10
/* Labels in domain metadata change rarely: re-read them this often. */
#define VS_SAMPLER_METADATA_REFRESH_US (G_GINT64_CONSTANT(600) * G_USEC_PER_SEC)

typedef struct {
    char *labels;               /* JSON, or NULL */
    gint64 refresh_us;          /* when to read the metadata again */
} vsMetaLabels;

static void
vsMetaLabelsFree(vsMetaLabels *m)
{
    g_free(m->labels);
    g_free(m);
}

struct _vsSampler {
    vsSamplerConfig cfg;
    char *host;
    vsRateTracker *rates;
    vsAdaptive *adaptive;
    vsSpool *spool;
    GHashTable *labels;         /* UUID -> JSON text, from annotate */
    GHashTable *meta_labels;    /* UUID -> vsMetaLabels, from domain metadata */
    GHashTable *latest;         /* UUID -> vsSample* */
    GHashTable *period_tried;   /* UUIDs whose stats period we set (or tried) */
    /* Collection (rates, labels, latest) belongs to the caller of
     * vsSamplerCollect, the spool to the caller of vsSamplerStore; the daemon
     * runs them on different threads.  The lock guards what both touch. */
    GMutex lock;
    GPtrArray *messages;
    vsSamplerStats stats;
};

static void
vsSampleFreeFull(vsSample *smp)
{
    vsSampleClear(smp);
    g_free(smp);
}

vsSampler *
vsSamplerNew(const vsSamplerConfig *cfg, const char *host, const char *spool_dir,
             GError **error)
{
    g_autoptr(vsSampler) s = g_new0(vsSampler, 1);

    s->cfg = *cfg;
    s->host = g_strdup(host);
    s->rates = vsRateTrackerNew();
    s->adaptive = vsAdaptiveNew(&cfg->adaptive);
    s->labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    s->meta_labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify)vsMetaLabelsFree);
    s->latest = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)vsSampleFreeFull);
    s->period_tried = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->messages = g_ptr_array_new_with_free_func(g_free);
    if (!(s->spool = vsSpoolOpen(spool_dir, cfg->spool_max_bytes, error)))
        return NULL;
    s->stats.spool_batches = vsSpoolBatches(s->spool);
    s->stats.spool_bytes = vsSpoolBytes(s->spool);
    g_mutex_init(&s->lock);
    return g_steal_pointer(&s);
}

void
vsSamplerFree(vsSampler *s)
{
    if (!s)
        return;
    g_free(s->host);
    vsRateTrackerFree(s->rates);
    vsAdaptiveFree(s->adaptive);
    vsSpoolFree(s->spool);
    g_hash_table_unref(s->labels);
    g_hash_table_unref(s->meta_labels);
    g_hash_table_unref(s->latest);
    g_hash_table_unref(s->period_tried);
    g_ptr_array_unref(s->messages);
    g_mutex_clear(&s->lock);
    g_free(s);
}

void
vsSamplerSetConfig(vsSampler *s, const vsSamplerConfig *cfg)
{
    /* intervals learnt so far are kept; new bounds apply from now on */
    if (memcmp(&s->cfg.adaptive, &cfg->adaptive, sizeof(cfg->adaptive)) != 0) {
        vsAdaptiveFree(s->adaptive);
        s->adaptive = vsAdaptiveNew(&cfg->adaptive);
    }
    s->cfg = *cfg;
}

void
vsSamplerSetLabels(vsSampler *s, GHashTable *labels)
{
    GHashTableIter it;
    gpointer key, value;

    g_hash_table_remove_all(s->labels);
    g_hash_table_iter_init(&it, labels);
    while (g_hash_table_iter_next(&it, &key, &value))
        g_hash_table_insert(s->labels, g_strdup(key), g_strdup(value));
}

static void G_GNUC_PRINTF(2, 3)
vsSamplerSay(vsSampler *s, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    g_mutex_lock(&s->lock);
    g_ptr_array_add(s->messages, g_strdup_vprintf(format, ap));
    g_mutex_unlock(&s->lock);
    va_end(ap);
}

/* Store side: after every spool operation. */
static void
vsSamplerSyncSpool(vsSampler *s)
{
    g_auto(GStrv) warnings = vsSpoolTakeWarnings(s->spool);

    g_mutex_lock(&s->lock);
    for (gsize i = 0; warnings && warnings[i]; i++)
        g_ptr_array_add(s->messages, g_strdup(warnings[i]));
    s->stats.spool_batches = vsSpoolBatches(s->spool);
    s->stats.spool_bytes = vsSpoolBytes(s->spool);
    g_mutex_unlock(&s->lock);
}

GStrv
vsSamplerTakeMessages(vsSampler *s)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    guint n;

    g_mutex_lock(&s->lock);
    n = s->messages->len;
    for (guint i = 0; i < n; i++)
        g_strv_builder_add(b, g_ptr_array_index(s->messages, i));
    g_ptr_array_set_size(s->messages, 0);
    g_mutex_unlock(&s->lock);
    return n ? g_strv_builder_end(b) : NULL;
}

void
vsSamplerGetStats(vsSampler *s, vsSamplerStats *ret)
{
    g_mutex_lock(&s->lock);
    *ret = s->stats;
    g_mutex_unlock(&s->lock);
}

GPtrArray *
vsSamplerLatest(vsSampler *s)
{
    GPtrArray *latest = g_ptr_array_sized_new(g_hash_table_size(s->latest));
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, s->latest);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(latest, value);
    return latest;
}

/* Whether the running domain's XML has a balloon stats period already. */
static gboolean
vsSamplerHasStatsPeriod(vsHypervisor *hv, const char *uuid)
{
    g_autofree char *xml = vsHypervisorGetDomainXML(hv, uuid, FALSE, NULL);
    g_autoptr(vsDomainXML) def = xml ? vsDomainXMLParse(xml, NULL) : NULL;

    return def && def->balloon_stats_period > 0;
}

/* Memory stats stay empty until a stats period is set: do it once for a
 * domain whose balloon reports sizes but no guest statistics, and whose
 * XML has no period.  Statistics also go missing from one sample taken
 * while another job holds the domain (the bulk stats do not wait), and
 * that must not replace the period the domain has. */
static void
vsSamplerEnsureStatsPeriod(vsSampler *s, vsHypervisor *hv, const vsDomainCounters *c)
{
    g_autoptr(GError) error = NULL;

    if (s->cfg.balloon_period_s <= 0 || c->state != VS_DOMAIN_RUNNING ||
        !(c->present & VS_COUNTER_BALLOON_CURRENT) ||
        (c->present & VS_COUNTER_BALLOON_LAST_UPDATE) ||
        g_hash_table_contains(s->period_tried, c->uuid))
        return;
    g_hash_table_add(s->period_tried, g_strdup(c->uuid));
    if (vsSamplerHasStatsPeriod(hv, c->uuid))
        return;
    if (vsHypervisorSetMemoryStatsPeriod(hv, c->uuid, s->cfg.balloon_period_s,
                                         VS_AFFECT_LIVE, &error))
        vsSamplerSay(s, "turned on balloon statistics every %d s for domain '%s'",
                     s->cfg.balloon_period_s, c->name);
    else
        vsSamplerSay(s, "cannot turn on balloon statistics for domain '%s': %s",
                     c->name, error->message);
}

/* Labels from the domain's metadata, read on first sight and every ten
 * minutes.  An invalid element is reported once per read and the labels
 * read before are kept. */
static const char *
vsSamplerMetadataLabels(vsSampler *s, vsHypervisor *hv, const vsDomainCounters *c,
                        gint64 now_us)
{
    vsMetaLabels *m = g_hash_table_lookup(s->meta_labels, c->uuid);
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    char *labels = NULL;

    if (m && now_us < m->refresh_us)
        return m->labels;
    if (!m) {
        m = g_new0(vsMetaLabels, 1);
        g_hash_table_insert(s->meta_labels, g_strdup(c->uuid), m);
    }
    m->refresh_us = now_us + VS_SAMPLER_METADATA_REFRESH_US;
    if (!(xml = vsHypervisorGetMetadata(hv, c->uuid, VS_AFFECT_CURRENT, &error))) {
        if (g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND))
            g_clear_pointer(&m->labels, g_free);
        return m->labels;
    }
    if (!vsMetadataParseLabels(xml, &labels, &error)) {
        vsSamplerSay(s, "domain '%s': %s; keeping its previous labels", c->name, error->message);
        return m->labels;
    }
    g_free(m->labels);
    m->labels = labels;
    return m->labels;
}

static void
vsSamplerRemember(vsSampler *s, const vsSample *smp)
{
    vsSample *copy = g_new0(vsSample, 1);

    vsSampleCopy(copy, smp);
    g_hash_table_insert(s->latest, g_strdup(smp->uuid), copy);
}

/* Rates for every due domain; the others keep accumulating counters. */
static void
vsSamplerTakeRates(vsSampler *s, vsHypervisor *hv, GArray *counters, gint64 now_us,
                   vsSampleBatch *batch)
{
    for (guint i = 0; i < counters->len; i++) {
        const vsDomainCounters *c = &g_array_index(counters, vsDomainCounters, i);
        vsSample smp;

        vsSamplerEnsureStatsPeriod(s, hv, c);
        if (!vsAdaptiveIsDue(s->adaptive, c->uuid, now_us))
            continue;
        vsSampleInit(&smp);
        if (!vsRateTrackerUpdate(s->rates, c, now_us, &smp)) {
            vsAdaptiveObserve(s->adaptive, c->uuid, NAN, now_us);
            vsSampleClear(&smp);
            continue;
        }
        /* annotate's labels win over the metadata's */
        smp.labels = vsMetadataMergeLabels(vsSamplerMetadataLabels(s, hv, c, now_us),
                                           g_hash_table_lookup(s->labels, c->uuid));
        vsAdaptiveObserve(s->adaptive, c->uuid, smp.cpu_vcpus, now_us);
        vsSamplerRemember(s, &smp);
        g_array_append_val(batch->samples, smp);
    }
}

static gboolean
vsSamplerLatestExpired(gpointer key, gpointer value, gpointer cutoff)
{
    return ((vsSample *)value)->time_us < *(gint64 *)cutoff;
}

/* A live domain's metadata is re-read every ten minutes: one not read for
 * longer than that plus the expiry cutoff is gone. */
static gboolean
vsSamplerMetaExpired(gpointer key, gpointer value, gpointer cutoff)
{
    const vsMetaLabels *m = value;

    return m->refresh_us - 2 * VS_SAMPLER_METADATA_REFRESH_US < *(gint64 *)cutoff;
}

static void
vsSamplerExpire(vsSampler *s, gint64 now_us)
{
    gint64 cutoff = now_us - (gint64)(s->cfg.adaptive.max_interval_ms * 1000 *
                                      VS_SAMPLER_EXPIRE_INTERVALS);

    vsRateTrackerExpire(s->rates, cutoff);
    g_hash_table_foreach_remove(s->meta_labels, vsSamplerMetaExpired, &cutoff);
    g_hash_table_foreach_remove(s->latest, vsSamplerLatestExpired, &cutoff);
}

static gboolean
vsSamplerReplayOne(const vsSampleBatch *b, gpointer opaque, GError **error)
{
    vsSampler *s = ((gpointer *)opaque)[0];
    vsStore *store = ((gpointer *)opaque)[1];

    if (!vsStoreWriteSamples(store, s->host, b, error))
        return FALSE;
    g_mutex_lock(&s->lock);
    s->stats.samples_stored += b->samples->len;
    g_mutex_unlock(&s->lock);
    return TRUE;
}

static void
vsSamplerSetDatabaseUp(vsSampler *s, gboolean up)
{
    g_mutex_lock(&s->lock);
    s->stats.database_up = up;
    g_mutex_unlock(&s->lock);
}

gboolean
vsSamplerReplay(vsSampler *s, vsStore *store, GError **error)
{
    gpointer ctx[] = { s, store };
    guint replayed = 0;
    gboolean ok;

    if (vsSpoolBatches(s->spool) == 0)
        return TRUE;
    ok = vsSpoolReplay(s->spool, vsSamplerReplayOne, ctx, &replayed, error);
    vsSamplerSyncSpool(s);
    vsSamplerSetDatabaseUp(s, ok);
    if (replayed > 0)
        vsSamplerSay(s, "replayed %u spooled batch%s into the database", replayed,
                     replayed == 1 ? "" : "es");
    return ok;
}

/* Straight to the database when it is there and nothing older waits in
 * the spool; otherwise to the spool, so order is kept. */
gboolean
vsSamplerStore(vsSampler *s, vsStore *store, const vsSampleBatch *batch)
{
    g_autoptr(GError) error = NULL;
    guint n = batch->samples->len;

    if (n == 0)
        return !store || vsSamplerReplay(s, store, NULL);
    if (store && vsSamplerReplay(s, store, &error) &&
        vsStoreWriteSamples(store, s->host, batch, &error)) {
        g_mutex_lock(&s->lock);
        s->stats.database_up = TRUE;
        s->stats.samples_stored += n;
        g_mutex_unlock(&s->lock);
        return TRUE;
    }
    if (error)
        vsSamplerSay(s, "spooling %u samples: %s", n, error->message);
    g_clear_error(&error);
    vsSamplerSetDatabaseUp(s, FALSE);
    if (!vsSpoolAppend(s->spool, batch, &error))
        vsSamplerSay(s, "lost %u samples: cannot spool them: %s", n, error->message);
    vsSamplerSyncSpool(s);
    if (!error) {
        g_mutex_lock(&s->lock);
        s->stats.samples_spooled += n;
        g_mutex_unlock(&s->lock);
    }
    return store == NULL;
}

vsSampleBatch *
vsSamplerCollect(vsSampler *s, vsHypervisor *hv, gint64 now_us, GError **error)
{
    gint64 start = g_get_monotonic_time();
    g_autoptr(GArray) counters = vsHypervisorCollectCounters(hv, error);
    vsSampleBatch *batch;

    if (!counters)
        return NULL;
    batch = vsSampleBatchNew(0);
    vsSamplerTakeRates(s, hv, counters, now_us, batch);
    vsSamplerExpire(s, now_us);
    g_mutex_lock(&s->lock);
    s->stats.cycles++;
    s->stats.samples_collected += batch->samples->len;
    s->stats.last_cycle_s = (g_get_monotonic_time() - start) / 1e6;
    s->stats.domains = vsRateTrackerSize(s->rates);
    g_mutex_unlock(&s->lock);
    return batch;
}

gboolean
vsSamplerCycle(vsSampler *s, vsHypervisor *hv, vsStore *store, gint64 now_us,
               GError **error)
{
    g_autoptr(vsSampleBatch) batch = vsSamplerCollect(s, hv, now_us, error);

    if (!batch)
        return FALSE;
    vsSamplerStore(s, store, batch);
    return TRUE;
}
