/*
 * vsrunner.h: one shadow run, from linked clone to cleanup
 *
 * A shadow run installs an app version in a throwaway linked clone of a
 * base and records what each step of the install script used and changed
 * (issue 6, seed 000).  In order:
 *
 *   1. resolve the base (a domain: its one writable disk; or a volume
 *      path), refuse it when a running domain writes to it;
 *   2. make the qcow2 overlay vs-shadow-RUNID-disk through the storage API
 *      (vsHypervisorCreateOverlay), in the shadow pool;
 *   3. start a transient domain from vsLimitsShadowDomain();
 *   4. wait for the agent, stage the script (vsstage.h);
 *   5. for each step (each group's steps together, for an optimized
 *      script): manifest before (the previous step's after), run, manifest
 *      after, diff into events (vsmanifest.h), dpkg and rpm diff; the step
 *      and its events are written to the store as they end;
 *   6. a sampler thread reads the shadow's counters every
 *      opts->sample_interval_ms (<= 1 s) for the whole run; the samples
 *      are attributed to the steps with vsProfileAttribute() and stored
 *      with them;
 *   7. once every step succeeded, shut the guest down (guest-shutdown),
 *      compare the overlay with the base offline (vsoffline.h) when
 *      possible, and report disagreements with the guest's own events;
 *      a comparison that cannot be made (no clean shutdown, the base's
 *      format unknown for a bare volume, a host without FUSE or loop
 *      devices) is reported in compare_skipped, never a failure;
 *   8. cleanup, always: destroy, undefine, delete the overlay; on success,
 *      failure, timeout and cancellation, unless keep_on_failure and the
 *      run did not succeed.  The run is closed in the store with its state.
 *
 * The shadow is a transient domain tied to the connection that started it
 * (libvirt's autodestroy), unless keep_on_failure: a run killed with
 * SIGKILL takes its domain with it and leaves its overlay, found again by
 * its name ("shadow gc"), and its store row 'running', closed as 'killed'
 * by gc.  A kept shadow (keep_on_failure) outlives the run; it carries
 * its mark, so gc finds it too.
 *
 * Steps of one group run concurrently and are scanned together: their
 * events are recorded with the group's first step.  Packages come from
 * dpkg's status file when the guest has one (read again only when a scan
 * shows it changed), and from rpm when the scan shows /usr/bin/rpm or
 * /bin/rpm as a regular file (not busybox's applet link): the constant
 * query vsPackagesRpmQuery run through the agent (again only when a scan
 * shows a change under /var/lib/rpm or /usr/lib/sysimage/rpm, or to rpm
 * itself).  A guest with both gets the
 * events of both.
 *
 * A bare volume as the base (no domain has it as its writable disk) gets
 * a minimal domain: TCG, BIOS boot from the disk, the agent channel, a
 * balloon with stats, a pty serial console.  A volume that a (shut off)
 * domain uses takes that domain's definition.
 */
#pragma once

#include <gio/gio.h>

#include "hypervisor/vshypervisor.h"
#include "shadow/vslimits.h"
#include "shadow/vsscript.h"
#include "store/vsstore.h"

G_BEGIN_DECLS

#define VS_RUNNER_SAMPLE_INTERVAL_MS 1000
#define VS_RUNNER_AGENT_TIMEOUT_S 180
#define VS_RUNNER_DEFAULT_TIMEOUT_S (30 * 60)

typedef struct _vsShadowRunOptions vsShadowRunOptions;
struct _vsShadowRunOptions {
    const char *app;
    const char *version;
    const char *base;               /* domain name or UUID, or a volume path */
    const vsScript *script;
    const char *script_text;        /* the script file as given, stored with the run */
    const char *script_sha256;      /* of it */
    const char *stage_dir;          /* NULL: nothing staged besides the steps */
    vsLimits limits;
    const char *network;            /* NULL: no NIC; else an isolated network */
    guint timeout_s;                /* the whole run; 0: VS_RUNNER_DEFAULT_TIMEOUT_S */
    guint agent_timeout_s;          /* 0: VS_RUNNER_AGENT_TIMEOUT_S */
    guint sample_interval_ms;       /* 0: VS_RUNNER_SAMPLE_INTERVAL_MS; at most 1000 */
    gboolean keep_on_failure;
    const char *pool;               /* the shadow pool (config [shadow] pool) */
    const char *host;               /* this host's name, for the store */
    const char *optimized_from;     /* run id whose optimized script this is; NULL */
    const char *run_id;             /* NULL: a fresh one */
    const char *lock_dir;           /* held in it from before the run is
                                     * recorded until its cleanup is over,
                                     * so gc leaves it alone (vsrunlock.h);
                                     * NULL: no lock */
    /* When @cancel fires, *cancel_reason (set before cancelling, e.g.
     * "interrupted by SIGTERM") is the run's error; NULL: "cancelled". */
    const char *const *cancel_reason;
};

/* Where a run is, for progress displays.  Called on the caller's thread. */
typedef enum {
    VS_RUNNER_PHASE_CLONE,
    VS_RUNNER_PHASE_BOOT,
    VS_RUNNER_PHASE_STAGE,
    VS_RUNNER_PHASE_STEP,
    VS_RUNNER_PHASE_SHUTDOWN,
    VS_RUNNER_PHASE_COMPARE,
    VS_RUNNER_PHASE_CLEANUP,
} vsRunnerPhase;

const char *vsRunnerPhaseToString(vsRunnerPhase phase);

typedef struct _vsRunnerProgress vsRunnerProgress;
struct _vsRunnerProgress {
    /* @step is 1-based and @name set in VS_RUNNER_PHASE_STEP, else 0/NULL;
     * @n_steps the script's. */
    void (*phase)(vsRunnerPhase phase, guint step, guint n_steps, const char *name,
                  gpointer opaque);
    gpointer opaque;
};

typedef struct _vsShadowRunResult vsShadowRunResult;
struct _vsShadowRunResult {
    char *run_id;
    char *domain;                   /* the shadow's name */
    vsShadowState state;
    gboolean has_exit_code;
    int exit_code;                  /* of the step that ended the run */
    char *failed_step;              /* its name, or NULL */
    char *error;                    /* why it did not succeed; NULL on success */
    guint steps_run;
    GArray *steps;                  /* vsShadowStepRecord of every step of the
                                     * script, as recorded (clear func set) */
    guint events;                   /* guest-side events, all steps */
    /* Where the time went, microseconds. */
    gint64 total_us;
    gint64 clone_us;                /* overlay and domain start */
    gint64 boot_us;                 /* start to the agent's first answer */
    gint64 stage_us;
    gint64 steps_us;                /* the steps themselves */
    gint64 manifest_us;             /* guest manifests, before and after steps */
    gint64 compare_us;              /* shutdown and offline comparison */
    gint64 cleanup_us;
    /* The offline comparison: whether it ran, why not, and the paths where
     * it disagrees with the guest's events ("PATH: offline TYPE, guest
     * none"). */
    gboolean compared;
    char *compare_skipped;          /* reason, when !compared */
    GPtrArray *disagreements;       /* char *; never NULL */
    gboolean kept;                  /* left behind by keep_on_failure */
    gboolean kept_domain;           /* @domain still runs */
    char *kept_overlay;             /* the overlay kept, or NULL */
    char *warning;                  /* a limit the host could not enforce;
                                     * NULL: none */
};

void vsShadowRunResultFree(vsShadowRunResult *res);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsShadowRunResult, vsShadowRunResultFree)

/* Whether @base names a base a run can start from: an absolute path that
 * exists (a volume), or a domain @hv has (its info in @ret_info, which
 * may be NULL).  VS_ERROR_NOT_FOUND naming @base when it is neither;
 * other errors (libvirt unreachable) as @hv gives them. */
gboolean vsShadowLookupBase(vsHypervisor *hv, const char *base, vsDomainInfo **ret_info,
                            GError **error);

/* Run one shadow run.  Returns FALSE with @error only when the run could
 * not start (bad base, base disk in use, store unreachable: nothing is
 * left behind then); once started, a run that fails, times out or is
 * cancelled returns TRUE with the result saying how it ended (cleanup done
 * either way).  @progress may be NULL. */
gboolean vsShadowRun(vsHypervisor *hv, vsStore *store, const vsShadowRunOptions *opts,
                     const vsRunnerProgress *progress, GCancellable *cancel,
                     vsShadowRunResult **ret_result, GError **error);

G_END_DECLS
