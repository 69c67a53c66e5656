/*
 * vscmd-deploy.c: the "deploy" command family (a new domain sized and
 * installed from an app version's shadow profile)
 *
 * "deploy APP --version V --base B --name NEWVM":
 *   1. reads the version's latest profile from the store (or, without one,
 *      takes the [deploy] defaults and says so);
 *   2. sizes vCPUs and memory from the per-step peaks with the margin
 *      (shadow/vsdeploy.h);
 *   3. clones the base's one writable disk (a linked qcow2 overlay, or a
 *      full copy) into the [deploy] pool, defines the new domain with
 *      headroom up to its starting policy's maxima, and starts it;
 *   4. waits for the guest agent, stages the install script (the
 *      version's verified optimized script, else its latest succeeded
 *      run's, or --script FILE) and runs its steps, a group of an
 *      optimized script concurrently;
 *   5. reports what it did.
 * A failure before any step ran (clone, define, start, agent, staging, or
 * SIGINT/SIGTERM meanwhile) removes the domain and its disk again: nothing
 * is left behind.  A step that fails (or times out, or a signal during the
 * steps) stops the install and leaves the domain running as it is, for
 * inspection; the report names the step, and the error says how to remove
 * the domain.
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vscli.h"
#include "hypervisor/vsguest.h"
#include "shadow/vsdeploy.h"
#include "shadow/vsrunner.h"
#include "shadow/vsstage.h"
#include "util/vserror.h"
#include "util/vsutil.h"

/* Profiles aggregate this many of a version's latest succeeded runs. */
#define VS_DEPLOY_PROFILE_RUNS 10
#define VS_DEPLOY_DEFAULT_TIMEOUT_MS (30 * 60 * 1000)

/* One step as it ran. */
typedef struct {
    guint index;
    char *name;
    guint batch;                /* 1-based */
    gboolean ran;
    int exit_code;
    int signal;
    double seconds;
    char *err;                  /* its stderr, when it failed */
} vsDeployStep;

static void
vsDeployStepFree(vsDeployStep *step)
{
    if (!step)
        return;
    g_free(step->name);
    g_free(step->err);
    g_free(step);
}

typedef struct {
    vsCli *cli;
    vsHypervisor *hv;
    const char *app;
    const char *version;
    const char *base;
    const char *name;
    const char *clone;          /* "linked" or "full" */
    const char *pool;
    const char *stage_dir;
    double margin;
    guint64 timeout_ms;
    gboolean dry_run;
    vsCliSignalWatch *watch;    /* SIGINT and SIGTERM; NULL on a dry run */

    char *base_disk;            /* the base's writable disk */
    vsDeploySizing sizing;
    vsDeployRoom room;          /* the host's, before the domain is made */
    vsScript *script;           /* NULL: none known (dry run only) */
    char *script_source;        /* where it came from, in words */
    gboolean script_optimized;
    GPtrArray *batches;         /* vsDeployBatches(script) */

    /* what was made, for the report and the cleanup */
    char *uuid;
    char *disk_path;
    char *disk_format;
    gboolean defined;
    gboolean started;
    GPtrArray *steps;           /* vsDeployStep */
    char *failed;               /* "step 2 'x' exited 1", NULL while none failed */
} vsDeploy;

static void
vsDeployClear(vsDeploy *d)
{
    g_clear_pointer(&d->watch, vsCliSignalWatchStop);
    g_free(d->base_disk);
    g_clear_pointer(&d->script, vsScriptFree);
    g_free(d->script_source);
    g_clear_pointer(&d->batches, g_ptr_array_unref);
    g_free(d->uuid);
    g_free(d->disk_path);
    g_free(d->disk_format);
    g_clear_pointer(&d->steps, g_ptr_array_unref);
    g_free(d->failed);
}

/* --- options ------------------------------------------------------------- */

static gboolean G_GNUC_PRINTF(2, 3)
vsDeployUsage(GError **error, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    g_propagate_error(error, g_error_new_valist(VS_ERROR, VS_ERROR_USAGE, format, ap));
    va_end(ap);
    return FALSE;
}

static gboolean
vsDeployParseOptions(vsDeploy *d, const vsCliArgs *args, GError **error)
{
    const vsConfig *cfg = vsCliGetConfig(d->cli);
    const char *margin = vsCliArgsGet(args, "margin");
    const char *timeout = vsCliArgsGet(args, "timeout");

    d->app = vsCliArgsPositional(args, 0);
    d->version = vsCliArgsGet(args, "version");
    d->base = vsCliArgsGet(args, "base");
    d->name = vsCliArgsGet(args, "name");
    d->clone = vsCliArgsGet(args, "clone") ? vsCliArgsGet(args, "clone") : cfg->deploy_clone;
    d->pool = cfg->deploy_pool;
    d->stage_dir = vsCliArgsGet(args, "stage");
    d->dry_run = vsCliArgsHas(args, "dry-run");
    d->margin = cfg->deploy_margin;
    d->timeout_ms = VS_DEPLOY_DEFAULT_TIMEOUT_MS;
    if (!d->version || !*d->version)
        return vsDeployUsage(error, "deploy needs --version V");
    if (!d->base || !*d->base)
        return vsDeployUsage(error, "deploy needs --base DOMAIN");
    if (!d->name || !*d->name)
        return vsDeployUsage(error, "deploy needs --name NEWVM");
    /* the name also names its disk volume */
    if (strchr(d->name, '/') || d->name[0] == '.' || d->name[0] == '-')
        return vsDeployUsage(error, "invalid domain name '%s' for --name", d->name);
    if (!g_str_equal(d->clone, "linked") && !g_str_equal(d->clone, "full"))
        return vsDeployUsage(error, "invalid clone kind '%s' for --clone (expected linked or full)",
                             d->clone);
    if (margin) {
        char *end = NULL;

        d->margin = g_ascii_strtod(margin, &end);
        if (end == margin || *end || !(d->margin >= 1) || d->margin > 100)
            return vsDeployUsage(error, "invalid margin '%s' for --margin (expected a number "
                                 "from 1, such as 1.2)", margin);
    }
    if (timeout && (!vsParseDuration(timeout, &d->timeout_ms, NULL) || !d->timeout_ms))
        return vsDeployUsage(error, "invalid duration '%s' for --timeout", timeout);
    if (d->stage_dir && !g_file_test(d->stage_dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "stage directory '%s' not found",
                    d->stage_dir);
        return FALSE;
    }
    return TRUE;
}

/* --- steps 1-2: the base, the profile, the script ------------------------ */

static gboolean
vsDeployCheckDomains(vsDeploy *d, GError **error)
{
    g_autoptr(vsDomainInfo) base = NULL;
    g_autoptr(vsDomainInfo) taken = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *writer = NULL;

    if (!(base = vsHypervisorLookupDomain(d->hv, d->base, &local))) {
        if (g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND))
            g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "base domain '%s' not found",
                        d->base);
        else
            g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if ((taken = vsHypervisorLookupDomain(d->hv, d->name, &local))) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "domain '%s' already exists: choose another --name", d->name);
        return FALSE;
    }
    if (!g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!vsHypervisorDomainWritableDisk(d->hv, d->base, &d->base_disk, error))
        return FALSE;
    /* a clone of a disk being written is torn, and an overlay's base must
     * never change under it */
    if (!vsHypervisorDiskInUse(d->hv, d->base_disk, &writer, error))
        return FALSE;
    if (writer) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "disk '%s' of base domain '%s' is in use by running domain '%s': "
                    "shut it down first", d->base_disk, d->base, writer);
        return FALSE;
    }
    return TRUE;
}

/* The host's capacity (the [allocator] host_cpus and host_memory when
 * set, as the allocator takes them) and what its running domains hold. */
static gboolean
vsDeployReadRoom(vsDeploy *d, GError **error)
{
    const vsConfig *cfg = vsCliGetConfig(d->cli);
    double cpus = cfg->host_cpus;
    double memory_kib = cfg->host_memory_bytes / 1024.0;
    double host_cpus, host_kib;
    g_autoptr(GPtrArray) domains = NULL;

    if (!(cpus > 0 && memory_kib > 0)) {
        if (!vsHypervisorGetHostSize(d->hv, &host_cpus, &host_kib, error))
            return FALSE;
        cpus = cpus > 0 ? cpus : host_cpus;
        memory_kib = memory_kib > 0 ? memory_kib : host_kib;
    }
    d->room.vcpus = cpus * cfg->cpu_overcommit;
    d->room.memory_kib = memory_kib * cfg->memory_overcommit;
    if (!(domains = vsHypervisorListDomains(d->hv, error)))
        return FALSE;
    for (guint i = 0; i < domains->len; i++) {
        const vsDomainInfo *info = g_ptr_array_index(domains, i);
        vsDomainResources res = { 0 };
        g_autoptr(GError) local = NULL;

        if (info->id < 0)
            continue;
        if (!vsHypervisorGetResources(d->hv, info->name, &res, &local)) {
            /* one that stopped meanwhile holds nothing */
            if (g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND))
                continue;
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        d->room.used_vcpus += res.vcpus;
        d->room.used_memory_kib += res.memory_kib;
    }
    return TRUE;
}

static gboolean
vsDeployReadProfile(vsDeploy *d, vsStore *store, GError **error)
{
    const vsConfig *cfg = vsCliGetConfig(d->cli);
    g_autoptr(vsShadowProfile) profile = NULL;
    g_autoptr(GPtrArray) aggregates = NULL;
    g_autoptr(GError) local = NULL;

    if (!vsStoreReadShadowProfile(store, d->app, d->version, VS_DEPLOY_PROFILE_RUNS, &profile,
                                  &local)) {
        if (!g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND)) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
    } else {
        aggregates = vsProfileAggregateRuns((GPtrArray *const *)profile->runs->pdata,
                                            profile->runs->len);
    }
    vsDeploySize(aggregates, profile ? profile->runs->len : 0, d->margin,
                 (guint)cfg->deploy_vcpus, cfg->deploy_memory_bytes / 1024, &d->sizing);
    return TRUE;
}

static gboolean
vsDeployReadScript(vsDeploy *d, vsStore *store, const char *path, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *text = NULL;
    g_autofree char *run_id = NULL;
    g_autofree char *label = NULL;

    if (path) {
        if (!(d->script = vsScriptLoad(path, error)))
            return FALSE;
        d->script_source = g_strdup_printf("file '%s'", path);
    } else if (!vsStoreReadShadowScript(store, d->app, d->version, &text, &d->script_optimized,
                                        &run_id, &local)) {
        if (!g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND)) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (!d->dry_run) {
            g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                        "no install script for app '%s' version '%s': it has no succeeded "
                        "shadow run; give --script FILE", d->app, d->version);
            return FALSE;
        }
        return TRUE;
    } else {
        label = g_strdup_printf("%s script of shadow run '%s'",
                                d->script_optimized ? "optimized" : "stored", run_id);
        if (!(d->script = vsScriptParse(text, strlen(text), label, error)))
            return FALSE;
        d->script_source = g_steal_pointer(&label);
    }
    d->batches = vsDeployBatches(d->script);
    return TRUE;
}

/* --- step 3: clone, define, start ---------------------------------------- */

static char *
vsDeployVolumeName(vsDeploy *d)
{
    g_autofree char *base = g_path_get_basename(d->base_disk);
    const char *dot = strrchr(base, '.');

    if (g_str_equal(d->clone, "linked"))
        return g_strdup_printf("%s.qcow2", d->name);
    return g_strdup_printf("%s%s", d->name, dot && dot != base ? dot : ".img");
}

static char *
vsDeployDomainXMLFor(vsDeploy *d, const char *disk_path, const char *disk_format,
                     GError **error)
{
    g_autofree char *base_xml = vsHypervisorGetDomainXML(d->hv, d->base, TRUE, error);
    vsDeployDomainSpec spec = {
        .name = d->name, .uuid = d->uuid, .disk_path = disk_path,
        .disk_format = disk_format, .sizing = &d->sizing,
    };

    if (!base_xml)
        return NULL;
    return vsDeployDomainXML(base_xml, &spec, error);
}

/* Undo what step 3 made; every failure is kept in @error's message. */
static void
vsDeployRemove(vsDeploy *d, GString *failures)
{
    g_autoptr(GError) local = NULL;

    if (d->started && !vsHypervisorDestroyDomain(d->hv, d->name, &local)) {
        g_string_append_printf(failures, "; %s", local->message);
        g_clear_error(&local);
    }
    if (d->defined && !vsHypervisorUndefineDomain(d->hv, d->name, &local)) {
        g_string_append_printf(failures, "; %s", local->message);
        g_clear_error(&local);
        return;     /* its disk is still the domain's */
    }
    if (d->disk_path && !vsHypervisorDeleteVolume(d->hv, d->disk_path, &local))
        g_string_append_printf(failures, "; %s", local->message);
}

static gboolean
vsDeployFailClean(vsDeploy *d, GError **error, GError *cause)
{
    g_autoptr(GString) failures = g_string_new(NULL);

    vsDeployRemove(d, failures);
    if (failures->len)
        g_set_error(error, VS_ERROR, cause->code, "%s; removing what was made failed too%s",
                    cause->message, failures->str);
    else
        g_propagate_error(error, g_error_copy(cause));
    g_error_free(cause);
    return FALSE;
}

/* Whether SIGINT or SIGTERM came; then *@ret_cause says so. */
static gboolean
vsDeployInterrupted(vsDeploy *d, GError **ret_cause)
{
    if (!d->watch || !g_cancellable_is_cancelled(vsCliSignalWatchCancellable(d->watch)))
        return FALSE;
    *ret_cause = g_error_new(VS_ERROR, VS_ERROR_FAILED, "deploy of '%s' %s", d->name,
                             vsCliSignalWatchReason(d->watch));
    return TRUE;
}

static gboolean
vsDeployCreate(vsDeploy *d, GError **error)
{
    g_autofree char *volume = vsDeployVolumeName(d);
    g_autofree char *xml = NULL;
    g_autofree char *defined = NULL;
    GError *local = NULL;
    gboolean ok;

    if (g_str_equal(d->clone, "linked")) {
        ok = vsHypervisorCreateOverlay(d->hv, d->base_disk, d->pool, volume, &d->disk_path,
                                       &local);
        if (ok)
            d->disk_format = g_strdup("qcow2");
    } else {
        ok = vsHypervisorCopyVolume(d->hv, d->base_disk, d->pool, volume, &d->disk_path,
                                    &d->disk_format, &local);
    }
    if (!ok) {
        g_propagate_prefixed_error(error, local, "cannot clone the disk of base domain '%s': ",
                                   d->base);
        return FALSE;
    }
    if (vsDeployInterrupted(d, &local) ||
        !(xml = vsDeployDomainXMLFor(d, d->disk_path, d->disk_format, &local)))
        return vsDeployFailClean(d, error, local);
    if (!(defined = vsHypervisorDefineDomainXML(d->hv, xml, &local)))
        return vsDeployFailClean(d, error, local);
    d->defined = TRUE;
    if (vsDeployInterrupted(d, &local) || !vsHypervisorStartDomain(d->hv, d->name, &local))
        return vsDeployFailClean(d, error, local);
    d->started = TRUE;
    return TRUE;
}

/* --- step 4: the install ------------------------------------------------- */

static gboolean
vsDeployStage(vsDeploy *d, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + VS_RUNNER_AGENT_TIMEOUT_S * G_USEC_PER_SEC;
    GCancellable *cancel = vsCliSignalWatchCancellable(d->watch);
    GError *local = NULL;

    /* a second at a time, so that a signal is heeded while the guest boots */
    while (!vsGuestWaitForAgent(d->hv, d->name, 1000, &local)) {
        if (!g_error_matches(local, VS_ERROR, VS_ERROR_TIMEOUT))
            return vsDeployFailClean(d, error, local);     /* its errors name the domain */
        g_clear_error(&local);
        if (vsDeployInterrupted(d, &local))
            return vsDeployFailClean(d, error, local);
        if (g_get_monotonic_time() >= deadline) {
            local = g_error_new(VS_ERROR, VS_ERROR_TIMEOUT,
                                "guest agent of domain '%s' did not answer within %d s",
                                d->name, VS_RUNNER_AGENT_TIMEOUT_S);
            return vsDeployFailClean(d, error, local);
        }
    }
    if (!vsStageScript(d->hv, d->name, d->script, d->stage_dir, VS_STAGE_GUEST_DIR,
                       (guint)MIN(d->timeout_ms, G_MAXUINT), cancel, &local)) {
        GError *why = NULL;

        /* the cause is the signal, not the cancelled call */
        if (vsDeployInterrupted(d, &why)) {
            g_error_free(local);
            local = why;
        }
        return vsDeployFailClean(d, error, local);
    }
    return TRUE;
}

static vsDeployStep *
vsDeployStepNew(vsDeploy *d, guint index, guint batch)
{
    vsDeployStep *step = g_new0(vsDeployStep, 1);

    step->index = index;
    step->batch = batch;
    for (guint i = 0; i < d->script->steps->len; i++) {
        const vsScriptStep *s = g_ptr_array_index(d->script->steps, i);

        if (s->index == index)
            step->name = g_strdup(s->name);
    }
    g_ptr_array_add(d->steps, step);
    return step;
}

/* On a terminal, which step runs now; under cron nothing. */
static void
vsDeployProgress(vsDeploy *d, GArray *batch, guint b)
{
    g_autoptr(GString) names = g_string_new(NULL);

    if (vsCliWantJson(d->cli) || !isatty(STDERR_FILENO))
        return;
    for (guint k = 0; k < batch->len; k++) {
        const vsScriptStep *s = g_ptr_array_index(d->script->steps,
                                                  g_array_index(batch, guint, k) - 1);

        g_string_append_printf(names, "%s'%s'", k ? ", " : "", s->name);
    }
    fprintf(stderr, "virt-shadow: [%u/%u] %s %s\n", b + 1, d->batches->len,
            batch->len > 1 ? "running steps" : "running step", names->str);
}

/* Run the batches one after the other until one fails.  A step that fails
 * ends the install, with the domain left as it is. */
static void
vsDeployRun(vsDeploy *d)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)d->timeout_ms * 1000;

    for (guint b = 0; b < d->batches->len && !d->failed; b++) {
        GArray *batch = g_ptr_array_index(d->batches, b);
        gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
        g_autoptr(GPtrArray) results = NULL;
        g_autoptr(GError) local = NULL;

        if (vsCliSignalWatchReason(d->watch)) {
            d->failed = g_strdup_printf("%s before step %u", vsCliSignalWatchReason(d->watch),
                                        g_array_index(batch, guint, 0));
            break;
        }
        vsDeployProgress(d, batch, b);
        if (left_ms <= 0 ||
            !(results = vsStageRunSteps(d->hv, d->name, d->script, (const guint *)batch->data,
                                        batch->len, VS_STAGE_GUEST_DIR, d->stage_dir != NULL,
                                        (guint)MIN(left_ms, G_MAXUINT),
                                        vsCliSignalWatchCancellable(d->watch), NULL, NULL,
                                        &local))) {
            vsDeployStep *first = vsDeployStepNew(d, g_array_index(batch, guint, 0), b + 1);
            const char *why = vsCliSignalWatchReason(d->watch);

            if (!why)
                why = local ? local->message : "the install timed out";
            d->failed = g_strdup_printf("step %u '%s' did not finish: %s", first->index,
                                        first->name, why);
            continue;
        }
        for (guint k = 0; k < results->len; k++) {
            const vsStageStepResult *res = g_ptr_array_index(results, k);
            vsDeployStep *step = vsDeployStepNew(d, res->index, b + 1);

            step->ran = TRUE;
            step->exit_code = res->exit_code;
            step->signal = res->signal;
            step->seconds = (double)(res->ended_us - res->started_us) / G_USEC_PER_SEC;
            if (res->exit_code == 0)
                continue;
            step->err = g_strdup(res->err);
            if (d->failed)
                continue;
            if (res->signal)
                d->failed = g_strdup_printf("step %u '%s' was killed by signal %d", step->index,
                                            step->name, res->signal);
            else
                d->failed = g_strdup_printf("step %u '%s' exited %d", step->index, step->name,
                                            res->exit_code);
        }
    }
}

/* --- step 5: the report -------------------------------------------------- */

static char *
vsDeployPolicyText(const vsPolicy *p)
{
    g_autofree char *min = vsFormatKiB(p->min_memory_kib);
    g_autofree char *max = vsFormatKiB(p->max_memory_kib);

    return g_strdup_printf("%s, vCPUs %u-%u, memory %s-%s", vsPolicyModeToString(p->mode),
                           p->min_vcpus, p->max_vcpus, min, max);
}

static void
vsDeployPrintSizing(vsDeploy *d)
{
    g_autofree char *why_cpu = vsDeployExplainVcpus(&d->sizing);
    g_autofree char *why_mem = vsDeployExplainMemory(&d->sizing);
    g_autofree char *max_mem = vsFormatKiB(d->sizing.max_memory_kib);
    double free_vcpus = MAX(d->room.vcpus - d->room.used_vcpus, 0);
    g_autofree char *free_mem =
        vsFormatKiB((guint64)MAX(d->room.memory_kib - d->room.used_memory_kib, 0));
    g_autofree char *all_mem = vsFormatKiB((guint64)d->room.memory_kib);

    if (d->sizing.sized_by == VS_DEPLOY_SIZED_BY_PROFILE)
        vsCliPrint(d->cli, "  sized by: the profile of %u shadow run%s of app '%s' version '%s'\n",
                   d->sizing.runs, d->sizing.runs == 1 ? "" : "s", d->app, d->version);
    else
        vsCliPrint(d->cli, "  sized by: the [deploy] defaults: no profile of app '%s' version "
                   "'%s' exists\n", d->app, d->version);
    vsCliPrint(d->cli, "  vCPUs:    %s; up to %u live\n", why_cpu, d->sizing.max_vcpus);
    vsCliPrint(d->cli, "  memory:   %s; up to %s live\n", why_mem, max_mem);
    vsCliPrint(d->cli, "  host:     %g of %g vCPUs and %s of %s were free\n", free_vcpus,
               d->room.vcpus, free_mem, all_mem);
}

static void
vsDeployPrintSteps(vsDeploy *d)
{
    if (!d->script) {
        vsCliPrint(d->cli, "  script:   none stored for app '%s' version '%s' (a deploy needs "
                   "--script FILE)\n", d->app, d->version);
        return;
    }
    vsCliPrint(d->cli, "  script:   %s, %u step%s in %u batch%s\n", d->script_source,
               d->script->steps->len, d->script->steps->len == 1 ? "" : "s", d->batches->len,
               d->batches->len == 1 ? "" : "es");
    for (guint b = 0; d->dry_run && b < d->batches->len; b++) {
        GArray *batch = g_ptr_array_index(d->batches, b);
        g_autoptr(GString) names = g_string_new(NULL);

        for (guint k = 0; k < batch->len; k++) {
            const vsScriptStep *s = g_ptr_array_index(d->script->steps,
                                                      g_array_index(batch, guint, k) - 1);

            g_string_append_printf(names, "%s%u '%s'", k ? ", " : "", s->index, s->name);
        }
        vsCliPrint(d->cli, "    batch %u: step%s %s%s\n", b + 1, batch->len == 1 ? "" : "s",
                   names->str, batch->len > 1 ? " (concurrently)" : "");
    }
    for (guint i = 0; d->steps && i < d->steps->len; i++) {
        const vsDeployStep *s = g_ptr_array_index(d->steps, i);

        if (!s->ran)
            vsCliPrint(d->cli, "    step %u '%s': did not finish\n", s->index, s->name);
        else if (s->signal)
            vsCliPrint(d->cli, "    step %u '%s': killed by signal %d after %.1f s\n", s->index,
                       s->name, s->signal, s->seconds);
        else
            vsCliPrint(d->cli, "    step %u '%s': exit %d in %.1f s\n", s->index, s->name,
                       s->exit_code, s->seconds);
        if (s->err && *s->err)
            vsCliPrint(d->cli, "      stderr: %s%s", s->err,
                       g_str_has_suffix(s->err, "\n") ? "" : "\n");
    }
}

static void
vsDeployPrintText(vsDeploy *d)
{
    g_autofree char *policy = vsDeployPolicyText(&d->sizing.policy);
    g_autofree char *cur = vsFormatKiB(d->sizing.size.memory_kib);
    g_autofree char *max = vsFormatKiB(d->sizing.max_memory_kib);
    g_autofree char *volume = vsDeployVolumeName(d);

    if (d->dry_run)
        vsCliPrint(d->cli, "Plan to deploy app '%s' version '%s' as domain '%s' (dry run: "
                   "nothing is made)\n", d->app, d->version, d->name);
    else if (d->failed)
        vsCliPrint(d->cli, "Deploy of app '%s' version '%s' as domain '%s' FAILED: %s\n",
                   d->app, d->version, d->name, d->failed);
    else
        vsCliPrint(d->cli, "Deployed app '%s' version '%s' as domain '%s'\n", d->app, d->version,
                   d->name);
    vsCliPrint(d->cli, "  base:     domain '%s', disk '%s'\n", d->base, d->base_disk);
    vsDeployPrintSizing(d);
    if (d->dry_run)
        vsCliPrint(d->cli, "  clone:    %s, as volume '%s' in pool '%s'\n",
                   g_str_equal(d->clone, "linked") ? "linked (a qcow2 overlay on the base disk)"
                                                   : "full (a copy of the base disk)",
                   volume, d->pool);
    else
        vsCliPrint(d->cli, "  clone:    %s, '%s' (%s)\n", d->clone, d->disk_path, d->disk_format);
    vsCliPrint(d->cli, "  domain:   <vcpu current='%u'>%u</vcpu>, <currentMemory> %s, <memory> %s, "
               "the base's NICs with fresh MACs, persistent\n", d->sizing.size.vcpus,
               d->sizing.max_vcpus, cur, max);
    vsCliPrint(d->cli, "  policy:   %s\n", policy);
    vsDeployPrintSteps(d);
    if (d->failed)
        vsCliPrint(d->cli, "  domain '%s' is left running for inspection\n", d->name);
}

static void
vsDeployPrintJson(vsDeploy *d)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);
    g_autofree char *why_cpu = vsDeployExplainVcpus(&d->sizing);
    g_autofree char *why_mem = vsDeployExplainMemory(&d->sizing);
    g_autofree char *volume = vsDeployVolumeName(d);
    const vsPolicy *p = &d->sizing.policy;
    gboolean profile = d->sizing.sized_by == VS_DEPLOY_SIZED_BY_PROFILE;

    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "app", d->app);
    vsJsonWriterMemberString(w, "version", d->version);
    vsJsonWriterMemberString(w, "name", d->name);
    vsJsonWriterMemberString(w, "uuid", d->uuid);
    vsJsonWriterMemberString(w, "base", d->base);
    vsJsonWriterMemberString(w, "base_disk", d->base_disk);
    vsJsonWriterMemberBool(w, "dry_run", d->dry_run);
    vsJsonWriterMemberString(w, "sized_by", profile ? "profile" : "defaults");
    vsJsonWriterMemberInt(w, "profile_runs", d->sizing.runs);
    vsJsonWriterMemberDouble(w, "margin", d->sizing.margin);
    vsJsonWriterMemberDouble(w, "peak_cpu", d->sizing.size.peak_cpu);
    vsJsonWriterMemberInt(w, "peak_memory_kib", (gint64)d->sizing.size.peak_memory_kib);
    vsJsonWriterMemberInt(w, "vcpus", d->sizing.size.vcpus);
    vsJsonWriterMemberInt(w, "max_vcpus", d->sizing.max_vcpus);
    vsJsonWriterMemberInt(w, "memory_kib", (gint64)d->sizing.size.memory_kib);
    vsJsonWriterMemberInt(w, "max_memory_kib", (gint64)d->sizing.max_memory_kib);
    vsJsonWriterMemberString(w, "why_vcpus", why_cpu);
    vsJsonWriterMemberString(w, "why_memory", why_mem);
    vsJsonWriterKey(w, "host_room");
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberDouble(w, "vcpus", d->room.vcpus);
    vsJsonWriterMemberDouble(w, "used_vcpus", d->room.used_vcpus);
    vsJsonWriterMemberInt(w, "memory_kib", (gint64)d->room.memory_kib);
    vsJsonWriterMemberInt(w, "used_memory_kib", (gint64)d->room.used_memory_kib);
    vsJsonWriterEndObject(w);
    vsJsonWriterMemberString(w, "clone", d->clone);
    vsJsonWriterMemberString(w, "pool", d->pool);
    vsJsonWriterMemberString(w, "volume", volume);
    vsJsonWriterMemberString(w, "disk", d->disk_path);
    vsJsonWriterMemberString(w, "disk_format", d->disk_format);
    vsJsonWriterKey(w, "policy");
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "mode", vsPolicyModeToString(p->mode));
    vsJsonWriterMemberInt(w, "min_vcpus", p->min_vcpus);
    vsJsonWriterMemberInt(w, "max_vcpus", p->max_vcpus);
    vsJsonWriterMemberInt(w, "min_memory_kib", (gint64)p->min_memory_kib);
    vsJsonWriterMemberInt(w, "max_memory_kib", (gint64)p->max_memory_kib);
    vsJsonWriterEndObject(w);
    vsJsonWriterMemberString(w, "script", d->script_source);
    vsJsonWriterMemberBool(w, "optimized", d->script_optimized);
    vsJsonWriterKey(w, "script_steps");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; d->script && i < d->script->steps->len; i++) {
        const vsScriptStep *s = g_ptr_array_index(d->script->steps, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberInt(w, "index", s->index);
        vsJsonWriterMemberString(w, "name", s->name);
        vsJsonWriterMemberInt(w, "group", s->group);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "batches");
    vsJsonWriterBeginArray(w);
    for (guint b = 0; d->batches && b < d->batches->len; b++) {
        GArray *batch = g_ptr_array_index(d->batches, b);

        vsJsonWriterBeginArray(w);
        for (guint k = 0; k < batch->len; k++)
            vsJsonWriterInt(w, g_array_index(batch, guint, k));
        vsJsonWriterEndArray(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "steps");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; d->steps && i < d->steps->len; i++) {
        const vsDeployStep *s = g_ptr_array_index(d->steps, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberInt(w, "index", s->index);
        vsJsonWriterMemberString(w, "name", s->name);
        vsJsonWriterMemberInt(w, "batch", s->batch);
        vsJsonWriterMemberBool(w, "finished", s->ran);
        vsJsonWriterKey(w, "exit_code");
        if (s->ran && !s->signal)
            vsJsonWriterInt(w, s->exit_code);
        else
            vsJsonWriterNull(w);
        vsJsonWriterMemberInt(w, "signal", s->signal);
        vsJsonWriterMemberDouble(w, "seconds", s->seconds);
        vsJsonWriterMemberString(w, "stderr", s->err);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterMemberString(w, "failed", d->failed);
    vsJsonWriterMemberBool(w, "left_for_inspection", d->failed != NULL);
    vsJsonWriterEndObject(w);
    vsCliPrintJson(d->cli, w);
}

static void
vsDeployReport(vsDeploy *d)
{
    if (vsCliWantJson(d->cli))
        vsDeployPrintJson(d);
    else
        vsDeployPrintText(d);
}

/* --- the command --------------------------------------------------------- */

static gboolean
vsCmdDeployRun(vsCli *cli, const vsCliArgs *args, GError **error)
{
    vsDeploy d = { 0 };
    vsStore *store;
    gboolean ok = FALSE;

    d.cli = cli;
    if (!vsDeployParseOptions(&d, args, error))
        goto cleanup;
    /* before the hypervisor connection starts threads */
    if (!d.dry_run && !(d.watch = vsCliSignalWatchStart(error)))
        goto cleanup;
    if (!(d.hv = vsCliGetHypervisor(cli, error)) || !vsDeployCheckDomains(&d, error))
        goto cleanup;
    if (!(store = vsCliGetCheckedStore(cli, error)) || !vsDeployReadProfile(&d, store, error) ||
        !vsDeployReadScript(&d, store, vsCliArgsGet(args, "script"), error))
        goto cleanup;
    if (!vsDeployReadRoom(&d, error) ||
        !vsDeployCheckRoom(&d.room, &d.sizing, d.name, error))
        goto cleanup;
    if (d.dry_run) {
        g_autofree char *probe = NULL;

        /* the XML is made (and thrown away) so that a base it cannot be
         * made from fails the plan already */
        d.uuid = g_uuid_string_random();
        if (!(probe = vsDeployDomainXMLFor(&d, "/dry-run", "qcow2", error)))
            goto cleanup;
        g_clear_pointer(&d.uuid, g_free);
        vsDeployReport(&d);
        ok = TRUE;
        goto cleanup;
    }
    if (!vsCliWantJson(cli) && d.sizing.sized_by == VS_DEPLOY_SIZED_BY_DEFAULTS)
        vsCliInfo(cli, "No profile of app '%s' version '%s': sizing by the [deploy] defaults\n",
                  d.app, d.version);
    d.uuid = g_uuid_string_random();
    d.steps = g_ptr_array_new_with_free_func((GDestroyNotify)vsDeployStepFree);
    if (!vsDeployCreate(&d, error) || !vsDeployStage(&d, error))
        goto cleanup;
    vsDeployRun(&d);
    vsDeployReport(&d);
    if (d.failed) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                    "deploy of '%s' failed: %s; domain '%s' is left running for inspection "
                    "(remove it with: virsh destroy %s; virsh undefine %s --remove-all-storage)",
                    d.name, d.failed, d.name, d.name, d.name);
        goto cleanup;
    }
    ok = TRUE;

 cleanup:
    vsDeployClear(&d);
    return ok;
}

static const vsCliOption vsCmdDeployOptions[] = {
    { "version", 0, VS_OPT_STRING, "V", "the app version to deploy (required)" },
    { "base", 0, VS_OPT_STRING, "DOMAIN", "the shut-off domain to clone (required)" },
    { "name", 0, VS_OPT_STRING, "NEWVM", "the new domain's name (required)" },
    { "clone", 0, VS_OPT_STRING, "linked|full",
      "a qcow2 overlay on the base disk, or a full copy (default: [deploy] clone)" },
    { "margin", 0, VS_OPT_STRING, "X",
      "multiply the profile's peaks by X, at least 1 (default: [deploy] margin, 1.2)" },
    { "script", 0, VS_OPT_STRING, "FILE",
      "install with FILE rather than the script stored with the profile" },
    { "stage", 0, VS_OPT_STRING, "DIR", "copy DIR's files into the guest for the steps" },
    { "timeout", 0, VS_OPT_STRING, "DURATION", "give the install this long (default 30m)" },
    { "dry-run", 'n', VS_OPT_FLAG, NULL, "print the plan (sizes and why, clone, domain, steps) "
      "and make nothing" },
    { NULL }
};

const vsCliCommand vsCmdDeploy[] = {
    { "deploy", "APP", "make a domain sized and installed from an app's shadow profile",
      "Sizes a new domain from the latest profile of APP's version V (the\n"
      "highest per-step peaks of its shadow runs times the margin), or from\n"
      "the [deploy] defaults when no profile exists, and says so; refuses\n"
      "sizes the host has no room for (as the allocator counts it).  Clones the\n"
      "base's one writable disk (linked or full) into the [deploy] pool,\n"
      "defines and starts domain NEWVM with room to grow live up to its\n"
      "starting policy's maxima (twice the sizes), waits for the guest agent,\n"
      "stages the version's install script (its verified optimized script,\n"
      "else its latest succeeded run's, or --script FILE) and runs its steps,\n"
      "a group of an optimized script concurrently.  Refuses a NEWVM that\n"
      "exists and a base whose disk a running domain uses.  A failure before\n"
      "any step ran removes what was made; a failed step stops the install\n"
      "and leaves NEWVM running for inspection (exit 1).",
      vsCmdDeployOptions, 1, 1, vsCmdDeployRun },
    { NULL }
};
