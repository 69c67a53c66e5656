/*
 * vsstage.h: staging an install script in a guest and running its steps
 * through the guest agent
 *
 * Shared by shadow runs (vsrunner.h) and deploys: both copy the script's
 * steps (and an optional directory of files) into the guest through the
 * agent's file calls, then run steps with guest-exec and an argv array.
 * Nothing here builds a shell string from user input.
 *
 * Guest layout under @guest_dir (VS_STAGE_GUEST_DIR by default, under /tmp
 * so that vsmanifest.h's scans never see it):
 *   GUEST_DIR/steps/NNN   one file per step, vsScriptStepFile(), mode 0700
 *   GUEST_DIR/stage/...   the --stage directory's files, relative paths and
 *                         permission bits kept
 * Steps run with GUEST_DIR/stage as their working directory when a stage
 * directory was given.  guest-exec has no working directory argument, so
 * the step's argv is prefixed with /bin/sh -c 'cd "$VS_STAGE" && exec "$@"'
 * (a constant: the directory comes from the environment and the step's
 * argv follows as "$@").  Otherwise they run in the agent's (/).  The
 * environment, passed with guest-exec's "env", is PATH, HOME=/root,
 * VS_STEP (the step's name) and, with a stage, VS_STAGE (its directory).
 */
#pragma once

#include <gio/gio.h>

#include "hypervisor/vsguest.h"
#include "shadow/vsscript.h"

G_BEGIN_DECLS

#define VS_STAGE_GUEST_DIR "/tmp/virt-shadow"
/* Each of stdout and stderr is kept up to this many bytes, then marked
 * truncated. */
#define VS_STAGE_OUTPUT_MAX (64 * 1024)

/* Copy every step of @script to GUEST_DIR/steps/, and when @stage_dir is
 * not NULL every regular file under it (recursively; symlinks and special
 * files are refused with VS_ERROR_INVALID naming them) to GUEST_DIR/stage/.
 * Directories are made with an argv "mkdir -p".  Gives up after
 * @timeout_ms in all (VS_ERROR_TIMEOUT) or when @cancel is cancelled
 * (G_IO_ERROR_CANCELLED).  Errors name the domain and the file. */
gboolean vsStageScript(vsHypervisor *hv, const char *domain, const vsScript *script,
                       const char *stage_dir, const char *guest_dir,
                       guint timeout_ms, GCancellable *cancel, GError **error);

/* One step's outcome. */
typedef struct _vsStageStepResult vsStageStepResult;
struct _vsStageStepResult {
    guint index;                /* the step's */
    gint64 started_us;          /* g_get_real_time() when guest-exec returned its pid */
    gint64 ended_us;            /* when guest-exec-status first said exited */
    int exit_code;              /* -1 when killed by a signal */
    int signal;
    char *out;                  /* at most VS_STAGE_OUTPUT_MAX bytes, valid UTF-8
                                 * (invalid bytes replaced) */
    gboolean out_truncated;
    char *err;
    gboolean err_truncated;
};

void vsStageStepResultFree(vsStageStepResult *res);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsStageStepResult, vsStageStepResultFree)

/* Run the staged steps @indexes[0..@n-1] of @script concurrently (one
 * guest-exec each, then guest-exec-status polled every 100 ms or faster
 * until all exited); a single index runs one step.  @on_started, when
 * not NULL, is called once per step as it starts.  When @timeout_ms passes
 * (VS_ERROR_TIMEOUT) or @cancel is cancelled (G_IO_ERROR_CANCELLED) the
 * steps still running are left to the caller, who destroys the domain.
 * Returns vsStageStepResult in @indexes' order. */
typedef void (*vsStageStepStarted)(guint index, gint64 started_us, gpointer opaque);
GPtrArray *vsStageRunSteps(vsHypervisor *hv, const char *domain, const vsScript *script,
                           const guint *indexes, gsize n, const char *guest_dir,
                           gboolean have_stage, guint timeout_ms, GCancellable *cancel,
                           vsStageStepStarted on_started, gpointer opaque,
                           GError **error);

G_END_DECLS
