/*
 * vscmd-shadow.c: the "shadow" command family (throwaway linked clones)
 *
 * "shadow run" installs an app version in a throwaway linked clone and
 * records what each step used and changed (src/shadow/vsrunner.h).
 *
 * "shadow gc" removes what shadow runs left behind: domains carrying our
 * <shadow-run> mark with their overlays, and overlays named
 * vs-shadow-RUNID-* in the shadow pool whose domain is gone (the work is
 * shadow/vsgc.c's, shared with virt-shadowd).
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vscli.h"
#include "conf/vsmetadata.h"
#include "shadow/vsgc.h"
#include "shadow/vsrunlock.h"
#include "shadow/vsrunner.h"
#include "util/vserror.h"
#include "util/vsutil.h"

/* What gc found, for printing. */
typedef struct {
    vsCli *cli;
    const char *pool;
    gboolean dry_run;
    GPtrArray *items;       /* vsGcItem */
    GPtrArray *runs;        /* vsGcRun */
    guint failed;
} vsGc;

static void
vsGcPrintJson(vsGc *gc)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberBool(w, "dry_run", gc->dry_run);
    vsJsonWriterMemberString(w, "pool", gc->pool);
    vsJsonWriterKey(w, "domains");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < gc->items->len; i++) {
        vsGcItem *item = g_ptr_array_index(gc->items, i);

        if (!g_str_equal(item->kind, "domain"))
            continue;
        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "name", item->name);
        vsJsonWriterMemberString(w, "uuid", item->uuid);
        vsJsonWriterMemberString(w, "run_id", item->run_id);
        vsJsonWriterMemberBool(w, "running", item->active);
        vsJsonWriterMemberBool(w, "persistent", item->persistent);
        vsJsonWriterKey(w, "overlays");
        vsJsonWriterBeginArray(w);
        for (guint j = 0; item->overlays[j]; j++)
            vsJsonWriterString(w, item->overlays[j]);
        vsJsonWriterEndArray(w);
        vsJsonWriterMemberBool(w, "in_progress", item->in_progress);
        vsJsonWriterMemberBool(w, "removed", !gc->dry_run && !item->error && !item->in_progress);
        vsJsonWriterMemberString(w, "error", item->error);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "volumes");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < gc->items->len; i++) {
        vsGcItem *item = g_ptr_array_index(gc->items, i);

        if (!g_str_equal(item->kind, "volume"))
            continue;
        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "path", item->name);
        vsJsonWriterMemberBool(w, "in_progress", item->in_progress);
        vsJsonWriterMemberBool(w, "removed", !gc->dry_run && !item->error && !item->in_progress);
        vsJsonWriterMemberString(w, "error", item->error);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "runs");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < gc->runs->len; i++) {
        vsGcRun *run = g_ptr_array_index(gc->runs, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "id", run->id);
        vsJsonWriterMemberString(w, "app", run->app);
        vsJsonWriterMemberString(w, "version", run->version);
        vsCliJsonMemberTime(w, "started", run->started_us);
        vsJsonWriterMemberBool(w, "in_progress", run->in_progress);
        vsJsonWriterMemberBool(w, "closed", !gc->dry_run && !run->error && !run->in_progress);
        vsJsonWriterMemberString(w, "error", run->error);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterMemberInt(w, "failed", gc->failed);
    vsJsonWriterEndObject(w);
    vsCliPrintJson(gc->cli, w);
}

static void
vsGcPrintText(vsGc *gc)
{
    if (!gc->items->len && !gc->runs->len) {
        vsCliInfo(gc->cli, "No shadow leftovers in pool '%s'\n", gc->pool);
        return;
    }
    for (guint i = 0; i < gc->items->len; i++) {
        vsGcItem *item = g_ptr_array_index(gc->items, i);
        gboolean domain = g_str_equal(item->kind, "domain");

        if (item->error)
            continue;
        if (item->in_progress) {
            vsCliPrint(gc->cli, "Left %s '%s': its shadow run is in progress\n",
                       domain ? "domain" : "overlay", item->name);
            continue;
        }
        if (domain)
            vsCliPrint(gc->cli, "%s domain '%s' (run '%s'%s)\n",
                       gc->dry_run ? "Would remove" : "Removed", item->name, item->run_id,
                       item->active ? ", running" : "");
        for (guint j = 0; domain && item->overlays[j]; j++)
            vsCliPrint(gc->cli, "%s overlay '%s'\n",
                       gc->dry_run ? "Would remove" : "Removed", item->overlays[j]);
        if (!domain)
            vsCliPrint(gc->cli, "%s orphaned overlay '%s'\n",
                       gc->dry_run ? "Would remove" : "Removed", item->name);
    }
    for (guint i = 0; i < gc->runs->len; i++) {
        vsGcRun *run = g_ptr_array_index(gc->runs, i);

        if (run->in_progress)
            vsCliPrint(gc->cli, "Left shadow run '%s' (%s %s) open: it is in progress\n",
                       run->id, run->app, run->version);
        else if (!run->error)
            vsCliPrint(gc->cli, "%s shadow run '%s' (%s %s) as killed: its domain is gone\n",
                       gc->dry_run ? "Would close" : "Closed", run->id, run->app, run->version);
    }
}

/* Each failure is named once, on stderr, whatever the output format. */
static void
vsGcReportFailures(vsGc *gc)
{
    for (guint i = 0; i < gc->items->len; i++) {
        vsGcItem *item = g_ptr_array_index(gc->items, i);

        if (item->error)
            fprintf(stderr, "virt-shadow: error: %s\n", item->error);
    }
    for (guint i = 0; i < gc->runs->len; i++) {
        vsGcRun *run = g_ptr_array_index(gc->runs, i);

        if (run->error)
            fprintf(stderr, "virt-shadow: error: %s\n", run->error);
    }
}

/* The store, when there is one to reach: without it the hypervisor's
 * leftovers still go, and only the runs it records stay open. */
static vsStore *
vsGcStore(vsCli *cli)
{
    g_autoptr(GError) error = NULL;
    vsStore *store = vsCliGetStore(cli, FALSE, &error);

    if (store && vsStoreCheckSchema(store, &error))
        return store;
    if (!vsCliIsQuiet(cli))
        fprintf(stderr, "virt-shadow: warning: shadow runs left open in the database are not "
                "closed: %s\n", error->message);
    return NULL;
}

static gboolean
vsCmdShadowGc(vsCli *cli, const vsCliArgs *args, GError **error)
{
    g_autoptr(vsGcResult) res = NULL;
    g_autofree char *host = vsHostName();
    g_autofree char *lock_dir = NULL;
    vsGcOptions opts = { 0 };
    vsHypervisor *hv;
    vsGc gc = { 0 };

    opts.run = vsCliArgsGet(args, "run");
    if (opts.run) {
        g_autofree char *mark = vsMetadataShadowRunXML(opts.run, NULL);

        if (!mark) {
            g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "invalid run id '%s' for --run",
                        opts.run);
            return FALSE;
        }
    }
    opts.pool = vsCliGetConfig(cli)->shadow_pool;
    opts.dry_run = vsCliArgsHas(args, "dry-run");
    opts.host = host;
    opts.lock_dir = lock_dir = vsRunLockDir(vsCliGetStateDir(cli));
    if (!(hv = vsCliGetHypervisor(cli, error)) ||
        !vsGcCollect(hv, vsGcStore(cli), &opts, &res, error))
        return FALSE;
    gc.cli = cli;
    gc.pool = opts.pool;
    gc.dry_run = opts.dry_run;
    gc.items = res->items;
    gc.runs = res->runs;
    gc.failed = vsGcResultFailed(res);
    if (vsCliWantJson(cli))
        vsGcPrintJson(&gc);
    else
        vsGcPrintText(&gc);
    vsGcReportFailures(&gc);
    if (gc.failed) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED, "%u shadow leftover%s could not be removed",
                    gc.failed, gc.failed == 1 ? "" : "s");
        return FALSE;
    }
    return TRUE;
}

/* --- shadow run ------------------------------------------------------------ */

#define VS_SHADOW_BAR_WIDTH 20

/* The run's companion thread: it takes SIGINT and SIGTERM (blocked in
 * every other thread) and cancels the run, so that cleanup still happens,
 * and on a TTY it redraws the progress line every second. */
typedef struct {
    GCancellable *cancel;
    gboolean tty;
    GMutex lock;                /* the fields below and stderr */
    gint64 start_us;            /* monotonic */
    vsRunnerPhase phase;
    guint step;
    guint n_steps;
    char *name;
    gboolean drawn;
    GCond wake;                 /* the ticker: stop */
    gboolean stop;
} vsShadowWatch;

static void
vsShadowDraw(vsShadowWatch *w)
{
    gint64 secs = (g_get_monotonic_time() - w->start_us) / G_USEC_PER_SEC;
    guint done = w->phase == VS_RUNNER_PHASE_STEP ? w->step - 1
                 : w->phase > VS_RUNNER_PHASE_STEP ? w->n_steps : 0;
    guint fill = w->n_steps ? done * VS_SHADOW_BAR_WIDTH / w->n_steps : 0;
    char bar[VS_SHADOW_BAR_WIDTH + 1];
    g_autofree char *what = NULL;

    for (guint i = 0; i < VS_SHADOW_BAR_WIDTH; i++)
        bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[VS_SHADOW_BAR_WIDTH] = '\0';
    if (w->phase == VS_RUNNER_PHASE_STEP)
        what = g_strdup_printf("step %u/%u %s", w->step, w->n_steps, w->name ? w->name : "");
    else
        what = g_strdup(vsRunnerPhaseToString(w->phase));
    fprintf(stderr, "\r[%s] %s %02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT "\033[K",
            bar, what, secs / 60, secs % 60);
    fflush(stderr);
    w->drawn = TRUE;
}

static void
vsShadowPhase(vsRunnerPhase phase, guint step, guint n_steps, const char *name,
              gpointer opaque)
{
    vsShadowWatch *w = opaque;

    g_mutex_lock(&w->lock);
    w->phase = phase;
    w->step = step;
    w->n_steps = n_steps;
    g_free(w->name);
    w->name = g_strdup(name);
    if (w->tty)
        vsShadowDraw(w);
    g_mutex_unlock(&w->lock);
}

static void
vsShadowUndraw(vsShadowWatch *w)
{
    g_mutex_lock(&w->lock);
    if (w->drawn)
        fputs("\r\033[K", stderr);
    w->drawn = FALSE;
    w->tty = FALSE;
    g_mutex_unlock(&w->lock);
}

/* Redraws the progress line every second until told to stop. */
static gpointer
vsShadowTickerMain(gpointer opaque)
{
    vsShadowWatch *w = opaque;

    g_mutex_lock(&w->lock);
    while (!w->stop) {
        if (!g_cond_wait_until(&w->wake, &w->lock, g_get_monotonic_time() + G_USEC_PER_SEC) &&
            w->tty && !w->stop)
            vsShadowDraw(w);
    }
    g_mutex_unlock(&w->lock);
    return NULL;
}

/* --- the command --- */

static gboolean
vsShadowRequire(const vsCliArgs *args, const char *name, const char **ret, GError **error)
{
    if (!(*ret = vsCliArgsGet(args, name)) || !**ret) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "option '--%s' is required", name);
        return FALSE;
    }
    return TRUE;
}

/* The script file: its text (kept with the run), its steps and hash. */
static vsScript *
vsShadowLoadScript(const char *path, char **ret_text, char **ret_sha256, GError **error)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    GError *local = NULL;
    vsScript *script;

    if (!g_file_get_contents(path, &text, &len, &local)) {
        g_set_error(error, VS_ERROR,
                    g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? VS_ERROR_NOT_FOUND
                                                                             : VS_ERROR_IO,
                    "cannot read script '%s': %s", path, local->message);
        g_error_free(local);
        return NULL;
    }
    if (!(script = vsScriptParse(text, len, path, error)))
        return NULL;
    *ret_sha256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)text, len);
    *ret_text = g_steal_pointer(&text);
    return script;
}

gboolean
vsCliShadowRunOptions(const vsCliArgs *args, guint *ret_timeout_s, const char **ret_network,
                      const char **ret_stage_dir, GError **error)
{
    const char *timeout = vsCliArgsGet(args, "timeout");
    const char *network = vsCliArgsGet(args, "network");
    const char *stage_dir = vsCliArgsGet(args, "stage");
    g_autoptr(GError) local = NULL;
    guint64 ms = 0;

    if (timeout && (!vsParseDuration(timeout, &ms, &local) || ms < 1000)) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "invalid --timeout '%s': %s", timeout,
                    local ? local->message : "less than a second");
        return FALSE;
    }
    if (network && !*network) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "invalid --network ''");
        return FALSE;
    }
    if (stage_dir && !g_file_test(stage_dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "stage directory '%s' does not exist",
                    stage_dir);
        return FALSE;
    }
    *ret_timeout_s = (guint)MIN(ms / 1000, G_MAXUINT);
    *ret_network = network && !g_str_equal(network, "none") ? network : NULL;
    *ret_stage_dir = stage_dir;
    return TRUE;
}

/* Everything from the command line that can be checked before anything
 * is made: a usage error (exit 2) or a bad file (exit 1) costs nothing. */
static gboolean
vsShadowRunParse(vsCli *cli, const vsCliArgs *args, vsShadowRunOptions *o,
                 vsScript **ret_script, char **ret_text, char **ret_sha256, char **ret_lock_dir,
                 GError **error)
{
    const char *script_path = NULL;

    if (!vsShadowRequire(args, "app", &o->app, error) ||
        !vsShadowRequire(args, "version", &o->version, error) ||
        !vsShadowRequire(args, "base", &o->base, error) ||
        !vsShadowRequire(args, "script", &script_path, error) ||
        !vsLimitsParse(vsCliArgsGet(args, "limits"), &o->limits, error) ||
        !vsCliShadowRunOptions(args, &o->timeout_s, &o->network, &o->stage_dir, error))
        return FALSE;
    o->keep_on_failure = vsCliArgsHas(args, "keep-on-failure");
    o->pool = vsCliGetConfig(cli)->shadow_pool;
    o->lock_dir = *ret_lock_dir = vsRunLockDir(vsCliGetStateDir(cli));
    if (!(*ret_script = vsShadowLoadScript(script_path, ret_text, ret_sha256, error)))
        return FALSE;
    return TRUE;
}

static double
vsShadowSeconds(gint64 us)
{
    return us / 1e6;
}

static void
vsShadowPrintJson(vsCli *cli, const vsShadowRunOptions *o, const vsShadowRunResult *res)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "run_id", res->run_id);
    vsJsonWriterMemberString(w, "app", o->app);
    vsJsonWriterMemberString(w, "version", o->version);
    vsJsonWriterMemberString(w, "base", o->base);
    vsJsonWriterMemberString(w, "domain", res->domain);
    vsJsonWriterMemberString(w, "state", vsShadowStateToString(res->state));
    vsJsonWriterMemberString(w, "error", res->error);
    vsJsonWriterMemberString(w, "failed_step", res->failed_step);
    vsJsonWriterKey(w, "exit_code");
    if (res->has_exit_code)
        vsJsonWriterInt(w, res->exit_code);
    else
        vsJsonWriterNull(w);
    vsJsonWriterMemberString(w, "warning", res->warning);
    vsJsonWriterMemberInt(w, "steps_run", res->steps_run);
    vsJsonWriterMemberInt(w, "events", res->events);
    vsJsonWriterKey(w, "steps");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; res->steps && i < res->steps->len; i++) {
        const vsShadowStepRecord *st = &g_array_index(res->steps, vsShadowStepRecord, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberInt(w, "index", st->index);
        vsJsonWriterMemberString(w, "name", st->name);
        vsJsonWriterKey(w, "exit_code");
        if (st->has_exit_code)
            vsJsonWriterInt(w, st->exit_code);
        else
            vsJsonWriterNull(w);
        vsJsonWriterKey(w, "seconds");
        if (st->started_us && st->ended_us)
            vsJsonWriterDouble(w, vsShadowSeconds(st->ended_us - st->started_us));
        else
            vsJsonWriterNull(w);
        if (st->has_usage) {
            vsJsonWriterMemberDouble(w, "cpu_avg", st->cpu_avg);
            vsJsonWriterMemberDouble(w, "cpu_peak", st->cpu_peak);
            vsJsonWriterMemberInt(w, "memory_peak_kib", (gint64)st->memory_peak_kib);
            vsJsonWriterMemberInt(w, "disk_read_bytes", (gint64)st->disk_read_bytes);
            vsJsonWriterMemberInt(w, "disk_write_bytes", (gint64)st->disk_write_bytes);
            vsJsonWriterMemberInt(w, "samples", st->samples);
            vsJsonWriterMemberBool(w, "estimated", st->estimated);
        }
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "seconds");
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberDouble(w, "total", vsShadowSeconds(res->total_us));
    vsJsonWriterMemberDouble(w, "overhead", vsShadowSeconds(res->total_us - res->steps_us));
    vsJsonWriterMemberDouble(w, "clone", vsShadowSeconds(res->clone_us));
    vsJsonWriterMemberDouble(w, "boot", vsShadowSeconds(res->boot_us));
    vsJsonWriterMemberDouble(w, "stage", vsShadowSeconds(res->stage_us));
    vsJsonWriterMemberDouble(w, "steps", vsShadowSeconds(res->steps_us));
    vsJsonWriterMemberDouble(w, "manifest", vsShadowSeconds(res->manifest_us));
    vsJsonWriterMemberDouble(w, "compare", vsShadowSeconds(res->compare_us));
    vsJsonWriterMemberDouble(w, "cleanup", vsShadowSeconds(res->cleanup_us));
    vsJsonWriterEndObject(w);
    vsJsonWriterKey(w, "offline_comparison");
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberBool(w, "compared", res->compared);
    vsJsonWriterMemberString(w, "skipped", res->compare_skipped);
    vsJsonWriterKey(w, "disagreements");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < res->disagreements->len; i++)
        vsJsonWriterString(w, g_ptr_array_index(res->disagreements, i));
    vsJsonWriterEndArray(w);
    vsJsonWriterEndObject(w);
    vsJsonWriterKey(w, "kept");
    if (res->kept) {
        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "domain", res->kept_domain ? res->domain : NULL);
        vsJsonWriterMemberString(w, "overlay", res->kept_overlay);
        vsJsonWriterEndObject(w);
    } else {
        vsJsonWriterNull(w);
    }
    vsJsonWriterEndObject(w);
    vsCliPrintJson(cli, w);
}

/* "shadow run ID: APP VERSION succeeded, 5 steps in 41.2 s (overhead
 * 18.0 s), 12 events": the one line cron mails.  A run that did not
 * succeed says how far it got and why. */
static char *
vsShadowSummary(const vsShadowRunOptions *o, const vsShadowRunResult *res, guint n_steps)
{
    g_autoptr(GString) out = g_string_new(NULL);

    g_string_append_printf(out, "shadow run %s: %s %s ", res->run_id, o->app, o->version);
    if (res->state == VS_SHADOW_SUCCEEDED)
        g_string_append_printf(out, "succeeded, %u step%s", n_steps, n_steps == 1 ? "" : "s");
    else
        g_string_append_printf(out, "%s after %u of %u step%s",
                               vsShadowStateToString(res->state), res->steps_run, n_steps,
                               n_steps == 1 ? "" : "s");
    g_string_append_printf(out, " in %.1f s (overhead %.1f s), %u event%s",
                           vsShadowSeconds(res->total_us),
                           vsShadowSeconds(res->total_us - res->steps_us),
                           res->events, res->events == 1 ? "" : "s");
    if (res->error)
        g_string_append_printf(out, ": %s", res->error);
    if (res->warning)
        g_string_append_printf(out, " (%s)", res->warning);
    if (res->kept) {
        g_string_append(out, "; kept");
        if (res->kept_domain)
            g_string_append_printf(out, " domain '%s'", res->domain);
        if (res->kept_overlay)
            g_string_append_printf(out, "%s overlay '%s'", res->kept_domain ? " and" : "",
                                   res->kept_overlay);
        g_string_append_printf(out, ": remove with 'virt-shadow shadow gc --run %s'", res->run_id);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static gboolean
vsCmdShadowRun(vsCli *cli, const vsCliArgs *args, GError **error)
{
    vsShadowRunOptions o = { 0 };
    g_autoptr(vsScript) script = NULL;
    g_autofree char *text = NULL;
    g_autofree char *sha256 = NULL;
    g_autofree char *lock_dir = NULL;
    g_autofree char *host = vsHostName();
    g_autoptr(vsShadowRunResult) res = NULL;
    g_autoptr(vsCliSignalWatch) signals = NULL;
    g_autofree char *summary = NULL;
    vsShadowWatch watch = { 0 };
    vsRunnerProgress progress = { vsShadowPhase, &watch };
    vsHypervisor *hv;
    vsStore *store;
    GThread *ticker = NULL;
    gboolean ok;

    if (!vsShadowRunParse(cli, args, &o, &script, &text, &sha256, &lock_dir, error))
        return FALSE;
    o.script = script;
    o.script_text = text;
    o.script_sha256 = sha256;
    o.host = host;

    /* Before any thread exists (libvirt's, the sampler's): only the watch
     * thread takes SIGINT and SIGTERM, and the run cleans up after them. */
    if (!(signals = vsCliSignalWatchStart(error)) ||
        !(hv = vsCliGetHypervisor(cli, error)) || !(store = vsCliGetCheckedStore(cli, error)))
        return FALSE;
    o.cancel_reason = vsCliSignalWatchReasonRef(signals);
    g_mutex_init(&watch.lock);
    g_cond_init(&watch.wake);
    watch.start_us = g_get_monotonic_time();
    watch.n_steps = script->steps->len;
    watch.tty = isatty(STDERR_FILENO) && !vsCliIsQuiet(cli);
    if (watch.tty)
        ticker = g_thread_new("vs-progress", vsShadowTickerMain, &watch);

    ok = vsShadowRun(hv, store, &o, &progress, vsCliSignalWatchCancellable(signals), &res, error);

    g_mutex_lock(&watch.lock);
    watch.stop = TRUE;
    g_cond_signal(&watch.wake);
    g_mutex_unlock(&watch.lock);
    if (ticker)
        g_thread_join(ticker);
    vsShadowUndraw(&watch);
    g_free(watch.name);
    g_cond_clear(&watch.wake);
    g_mutex_clear(&watch.lock);
    if (!ok)
        return FALSE;

    summary = vsShadowSummary(&o, res, script->steps->len);
    if (vsCliWantJson(cli))
        vsShadowPrintJson(cli, &o, res);
    if (res->state != VS_SHADOW_SUCCEEDED) {
        g_set_error_literal(error, VS_ERROR, VS_ERROR_FAILED, summary);
        return FALSE;
    }
    if (!vsCliWantJson(cli))
        vsCliPrint(cli, "%s\n", summary);
    return TRUE;
}

static const vsCliOption vsCmdShadowRunOptions[] = {
    { "app", 0, VS_OPT_STRING, "NAME", "the application installed (required)" },
    { "version", 0, VS_OPT_STRING, "V", "its version (required)" },
    { "base", 0, VS_OPT_STRING, "DOMAIN|VOLUME",
      "the base to clone: a shut-off domain, or an absolute image path (required)" },
    { "script", 0, VS_OPT_STRING, "FILE", "the install script (required)" },
    { "stage", 0, VS_OPT_STRING, "DIR", "copy this directory into the guest first" },
    { "limits", 0, VS_OPT_STRING, "LIST",
      "vcpus=N,cpu=P%,memory=SIZE,disk-iops=N,disk-bps=SIZE (default vcpus=1,memory=512M)" },
    { "network", 0, VS_OPT_STRING, "none|NAME", "no NIC (default), or one on an isolated network" },
    { "timeout", 0, VS_OPT_STRING, "DURATION", "give up on the whole run after this (default 30m)" },
    { "keep-on-failure", 0, VS_OPT_FLAG, NULL, "keep the shadow and its overlay when the run fails" },
    { NULL }
};

static const vsCliOption vsCmdShadowGcOptions[] = {
    { "dry-run", 'n', VS_OPT_FLAG, NULL, "list what would be removed, and remove nothing" },
    { "run", 0, VS_OPT_STRING, "ID", "only the leftovers of shadow run ID" },
    { NULL }
};

const vsCliCommand vsCmdShadow[] = {
    { "shadow run", NULL, "install an app version in a throwaway linked clone and profile it",
      "Makes a qcow2 overlay on the base's disk, starts a transient, resource-limited\n"
      "domain on it (no NIC unless --network), stages the script through the guest\n"
      "agent and runs it step by step: a step is a line, or a block between\n"
      "'# step: NAME' markers.  Records each step's exit code, output, files,\n"
      "services and packages changed, and CPU, memory and disk use, in the\n"
      "database.  Then shuts the shadow down, destroys it and deletes the overlay,\n"
      "also on failure, timeout, SIGINT and SIGTERM (unless --keep-on-failure).\n"
      "On a terminal it shows a progress line; otherwise it prints one summary\n"
      "line.  Exits 1 when the run does not succeed.",
      vsCmdShadowRunOptions, 0, 0, vsCmdShadowRun },
    { "shadow gc", NULL, "remove what shadow runs left behind",
      "Finds every domain carrying virt-shadow's <shadow-run> mark, destroys it\n"
      "if it runs, undefines it if it is defined, and deletes its overlays;\n"
      "then deletes the overlays named vs-shadow-RUNID-* in the shadow pool\n"
      "([shadow] pool in virt-shadow.conf) whose domain is gone.  Looks again\n"
      "afterwards.  When the database is reachable, closes as killed the runs\n"
      "it still has running on this host whose domain is gone.  Exits 1,\n"
      "naming each, when anything could not be removed or closed.",
      vsCmdShadowGcOptions, 0, 0, vsCmdShadowGc },
    { NULL }
};
