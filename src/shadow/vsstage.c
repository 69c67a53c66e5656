/*
 * vsstage.c: staging an install script in a guest and running its steps
 * through the guest agent
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "vsstage.h"
#include "util/vserror.h"

/* How often running steps are asked about, at most. */
#define VS_STAGE_POLL_MIN_US (20 * 1000)
#define VS_STAGE_POLL_MAX_US (100 * 1000)

/* The steps' environment: the agent passes "env" as the whole environment,
 * so PATH and HOME are given too. */
#define VS_STAGE_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Runs the step's argv in the stage directory.  A constant: the step's
 * argv follows as "$@" and the directory comes from the environment, so
 * nothing from the user is ever part of a shell string. */
static const char vsStageChdirScript[] = "cd \"$VS_STAGE\" && exec \"$@\"";

void
vsStageStepResultFree(vsStageStepResult *res)
{
    if (!res)
        return;
    g_free(res->out);
    g_free(res->err);
    g_free(res);
}

static char *
vsStageStepsDir(const char *guest_dir)
{
    return g_build_filename(guest_dir, "steps", NULL);
}

static char *
vsStageStagePath(const char *guest_dir)
{
    return g_build_filename(guest_dir, "stage", NULL);
}

static char *
vsStageStepPath(const char *guest_dir, guint index)
{
    g_autofree char *name = g_strdup_printf("%03u", index);

    return g_build_filename(guest_dir, "steps", name, NULL);
}

/* Milliseconds left until @deadline (monotonic, us); VS_ERROR_TIMEOUT
 * naming @what when none, G_IO_ERROR_CANCELLED when @cancel is. */
static gboolean
vsStageLeft(gint64 deadline, guint timeout_ms, GCancellable *cancel, const char *domain,
            const char *what, guint *ret_ms, GError **error)
{
    gint64 left = deadline - g_get_monotonic_time();

    if (g_cancellable_set_error_if_cancelled(cancel, error))
        return FALSE;
    if (left <= 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_TIMEOUT,
                    "%s in domain '%s' took longer than %u ms", what, domain, timeout_ms);
        return FALSE;
    }
    *ret_ms = (guint)MAX(left / 1000, 1);
    return TRUE;
}

/* A staged file: host path, guest path (relative to stage/), mode. */
typedef struct {
    char *host;
    char *rel;
    int mode;
} vsStageFile;

static void
vsStageFileFree(gpointer p)
{
    vsStageFile *f = p;

    g_free(f->host);
    g_free(f->rel);
    g_free(f);
}

static gint
vsStageCompareNames(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Collect the regular files under @dir (@rel below the stage root) into
 * @files and the directories into @dirs; anything else is refused. */
static gboolean
vsStageCollect(const char *dir, const char *rel, GPtrArray *files, GPtrArray *dirs,
               GError **error)
{
    g_autoptr(GDir) d = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    GError *local = NULL;
    const char *name;

    if (!(d = g_dir_open(dir, 0, &local))) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot read stage directory '%s': %s",
                    dir, local->message);
        g_error_free(local);
        return FALSE;
    }
    while ((name = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(name));
    /* a stable order, so staging is the same each run */
    g_ptr_array_sort(names, vsStageCompareNames);
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        g_autofree char *host = g_build_filename(dir, n, NULL);
        g_autofree char *sub = *rel ? g_build_filename(rel, n, NULL) : g_strdup(n);
        struct stat st;

        if (lstat(host, &st) < 0) {
            g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot stat '%s': %s",
                        host, g_strerror(errno));
            return FALSE;
        }
        if (S_ISDIR(st.st_mode)) {
            g_ptr_array_add(dirs, g_strdup(sub));
            if (!vsStageCollect(host, sub, files, dirs, error))
                return FALSE;
        } else if (S_ISREG(st.st_mode)) {
            vsStageFile *f = g_new0(vsStageFile, 1);

            f->host = g_steal_pointer(&host);
            f->rel = g_steal_pointer(&sub);
            f->mode = st.st_mode & 07777;
            g_ptr_array_add(files, f);
        } else {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "cannot stage '%s': it is %s, not a regular file or directory",
                        host, S_ISLNK(st.st_mode) ? "a symbolic link" : "a special file");
            return FALSE;
        }
    }
    return TRUE;
}

/* Remove what an earlier staging left, so the guest holds this script's
 * steps and stage only. */
static gboolean
vsStageClean(vsHypervisor *hv, const char *domain, const char *guest_dir, guint timeout_ms,
             GError **error)
{
    g_autofree char *steps = vsStageStepsDir(guest_dir);
    g_autofree char *stage = vsStageStagePath(guest_dir);
    const char *argv[] = { "/bin/rm", "-rf", "--", steps, stage, NULL };
    g_autoptr(vsGuestExecResult) res = NULL;
    g_autoptr(GError) local = NULL;

    if (!(res = vsGuestExec(hv, domain, argv, NULL, timeout_ms, &local))) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   "cannot clear '%s' in domain '%s': ", guest_dir, domain);
        return FALSE;
    }
    if (res->exit_code != 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                    "cannot clear '%s' in domain '%s': rm exited with %d",
                    guest_dir, domain, res->exit_code);
        return FALSE;
    }
    return TRUE;
}

gboolean
vsStageScript(vsHypervisor *hv, const char *domain, const vsScript *script,
              const char *stage_dir, const char *guest_dir, guint timeout_ms,
              GCancellable *cancel, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(vsStageFileFree);
    g_autoptr(GPtrArray) rel_dirs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *stage_root = NULL;
    guint left;

    if (!guest_dir)
        guest_dir = VS_STAGE_GUEST_DIR;
    stage_root = vsStageStagePath(guest_dir);
    /* the host side first: a bad stage directory costs the guest nothing */
    if (stage_dir && !vsStageCollect(stage_dir, "", files, rel_dirs, error))
        return FALSE;

    if (!vsStageLeft(deadline, timeout_ms, cancel, domain, "staging", &left, error) ||
        !vsStageClean(hv, domain, guest_dir, left, error))
        return FALSE;
    g_ptr_array_add(dirs, vsStageStepsDir(guest_dir));
    if (stage_dir) {
        g_ptr_array_add(dirs, g_strdup(stage_root));
        for (guint i = 0; i < rel_dirs->len; i++)
            g_ptr_array_add(dirs, g_build_filename(stage_root,
                                                   (char *)g_ptr_array_index(rel_dirs, i), NULL));
    }
    g_ptr_array_add(dirs, NULL);
    if (!vsStageLeft(deadline, timeout_ms, cancel, domain, "staging", &left, error) ||
        !vsGuestMakeDirs(hv, domain, (const char *const *)dirs->pdata, left, error))
        return FALSE;

    for (guint i = 0; i < script->steps->len; i++) {
        const vsScriptStep *step = g_ptr_array_index(script->steps, i);
        g_autofree char *path = vsStageStepPath(guest_dir, step->index);
        char *text = vsScriptStepFile(script, step);
        g_autoptr(GBytes) data = g_bytes_new_take(text, strlen(text));

        if (!vsStageLeft(deadline, timeout_ms, cancel, domain, "staging", &left, error) ||
            !vsGuestFileWrite(hv, domain, path, data, 0700, left, error))
            return FALSE;
    }
    for (guint i = 0; i < files->len; i++) {
        vsStageFile *f = g_ptr_array_index(files, i);
        g_autofree char *path = g_build_filename(stage_root, f->rel, NULL);
        g_autoptr(GMappedFile) map = NULL;
        g_autoptr(GBytes) data = NULL;
        GError *local = NULL;

        if (!(map = g_mapped_file_new(f->host, FALSE, &local))) {
            g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot read '%s': %s",
                        f->host, local->message);
            g_error_free(local);
            return FALSE;
        }
        data = g_mapped_file_get_bytes(map);
        if (!vsStageLeft(deadline, timeout_ms, cancel, domain, "staging", &left, error) ||
            !vsGuestFileWrite(hv, domain, path, data, f->mode, left, error))
            return FALSE;
    }
    return TRUE;
}

/* --- running steps ---------------------------------------------------------- */

/* At most VS_STAGE_OUTPUT_MAX bytes of @data as valid UTF-8 in *@ret_text;
 * *@ret_truncated when bytes were cut here or by the agent. */
static void
vsStageText(GBytes *data, gboolean agent_truncated, char **ret_text, gboolean *ret_truncated)
{
    gsize len = 0;
    const char *raw = data ? g_bytes_get_data(data, &len) : NULL;
    gboolean cut = len > VS_STAGE_OUTPUT_MAX;
    g_autofree char *valid = g_utf8_make_valid(raw ? raw : "", cut ? VS_STAGE_OUTPUT_MAX : (gssize)len);
    gsize vlen = strlen(valid);

    /* replacement characters are longer than the bytes they replace */
    if (vlen > VS_STAGE_OUTPUT_MAX) {
        const char *end = g_utf8_find_prev_char(valid, valid + VS_STAGE_OUTPUT_MAX + 1);

        valid[end - valid] = '\0';
        cut = TRUE;
    }
    *ret_text = g_steal_pointer(&valid);
    *ret_truncated = cut || agent_truncated;
}

static const vsScriptStep *
vsStageFindIndex(const vsScript *script, guint index)
{
    for (guint i = 0; i < script->steps->len; i++) {
        const vsScriptStep *step = g_ptr_array_index(script->steps, i);

        if (step->index == index)
            return step;
    }
    return NULL;
}

/* The argv running staged step @step: its interpreter on its file, in
 * the stage directory when there is one. */
static GStrv
vsStageStepArgv(const vsScript *script, const vsScriptStep *step, const char *guest_dir,
                gboolean have_stage)
{
    g_autofree char *path = vsStageStepPath(guest_dir, step->index);
    g_auto(GStrv) run = vsScriptStepArgv(script, path);
    g_autoptr(GStrvBuilder) argv = g_strv_builder_new();

    if (have_stage) {
        g_strv_builder_add_many(argv, "/bin/sh", "-c", vsStageChdirScript, "vs-step", NULL);
    }
    g_strv_builder_addv(argv, (const char **)run);
    return g_strv_builder_end(argv);
}

static GStrv
vsStageStepEnv(const vsScriptStep *step, const char *guest_dir, gboolean have_stage)
{
    g_autoptr(GStrvBuilder) env = g_strv_builder_new();
    g_autofree char *name = g_strdup_printf("VS_STEP=%s", step->name);
    g_autofree char *stage_dir = vsStageStagePath(guest_dir);
    g_autofree char *stage = g_strdup_printf("VS_STAGE=%s", stage_dir);

    g_strv_builder_add(env, VS_STAGE_PATH);
    g_strv_builder_add(env, "HOME=/root");
    g_strv_builder_add(env, name);
    if (have_stage)
        g_strv_builder_add(env, stage);
    return g_strv_builder_end(env);
}

typedef struct {
    const vsScriptStep *step;
    gint64 pid;
    vsStageStepResult *res;
    gboolean done;
} vsStageRun;

/* Ask once about @run; fills its result when it exited. */
static gboolean
vsStagePollOne(vsHypervisor *hv, const char *domain, vsStageRun *run, GError **error)
{
    g_autoptr(vsGuestExecResult) got = NULL;
    g_autoptr(GError) local = NULL;

    if (!vsGuestExecPoll(hv, domain, run->pid, &got, &local)) {
        /* a guest busy with the steps themselves may answer late: the
         * deadline decides, not one slow answer */
        if (g_error_matches(local, VS_ERROR, VS_ERROR_TIMEOUT))
            return TRUE;
        g_propagate_prefixed_error(error, g_steal_pointer(&local), "step %u '%s': ",
                                   run->step->index, run->step->name);
        return FALSE;
    }
    if (!got)
        return TRUE;
    run->res->ended_us = g_get_real_time();
    run->res->exit_code = got->exit_code;
    run->res->signal = got->signal;
    vsStageText(got->out, got->out_truncated, &run->res->out, &run->res->out_truncated);
    vsStageText(got->err, got->err_truncated, &run->res->err, &run->res->err_truncated);
    run->done = TRUE;
    return TRUE;
}

GPtrArray *
vsStageRunSteps(vsHypervisor *hv, const char *domain, const vsScript *script,
                const guint *indexes, gsize n, const char *guest_dir,
                gboolean have_stage, guint timeout_ms, GCancellable *cancel,
                vsStageStepStarted on_started, gpointer opaque, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autofree vsStageRun *runs = g_new0(vsStageRun, n);
    g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func((GDestroyNotify)vsStageStepResultFree);
    gulong sleep_us = VS_STAGE_POLL_MIN_US;
    gsize left = n;

    if (!guest_dir)
        guest_dir = VS_STAGE_GUEST_DIR;
    for (gsize i = 0; i < n; i++) {
        if (!(runs[i].step = vsStageFindIndex(script, indexes[i]))) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "script '%s' has no step %u",
                        script->filename ? script->filename : "", indexes[i]);
            return NULL;
        }
        runs[i].res = g_new0(vsStageStepResult, 1);
        runs[i].res->index = indexes[i];
        runs[i].res->exit_code = -1;
        g_ptr_array_add(results, runs[i].res);
    }

    for (gsize i = 0; i < n; i++) {
        g_auto(GStrv) argv = vsStageStepArgv(script, runs[i].step, guest_dir, have_stage);
        g_auto(GStrv) env = vsStageStepEnv(runs[i].step, guest_dir, have_stage);
        g_autoptr(GError) local = NULL;

        if (g_cancellable_set_error_if_cancelled(cancel, error))
            return NULL;
        if (!vsGuestExecStart(hv, domain, (const char *const *)argv, (const char *const *)env,
                              NULL, &runs[i].pid, &local)) {
            g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                       "cannot start step %u '%s' in domain '%s': ",
                                       runs[i].step->index, runs[i].step->name, domain);
            return NULL;
        }
        runs[i].res->started_us = g_get_real_time();
        if (on_started)
            on_started(runs[i].step->index, runs[i].res->started_us, opaque);
    }

    while (left > 0) {
        for (gsize i = 0; i < n; i++) {
            if (runs[i].done)
                continue;
            if (!vsStagePollOne(hv, domain, &runs[i], error))
                return NULL;
            if (runs[i].done)
                left--;
        }
        if (left == 0)
            break;
        if (g_cancellable_set_error_if_cancelled(cancel, error))
            return NULL;
        if (g_get_monotonic_time() >= deadline) {
            for (gsize i = 0; i < n; i++) {
                if (!runs[i].done) {
                    g_set_error(error, VS_ERROR, VS_ERROR_TIMEOUT,
                                "step %u '%s' in domain '%s' did not finish within %u ms",
                                runs[i].step->index, runs[i].step->name, domain, timeout_ms);
                    break;
                }
            }
            return NULL;
        }
        g_usleep(sleep_us);
        sleep_us = MIN(sleep_us * 2, VS_STAGE_POLL_MAX_US);
    }
    return g_steal_pointer(&results);
}
