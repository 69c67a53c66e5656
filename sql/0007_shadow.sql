-- 0007_shadow: shadow runs and the install profiles they make (issue 6).
--
-- An app version is installed, many times if need be, in throwaway linked
-- clones (shadow runs).  Each run records its steps with the resources
-- each used, and what each changed (events, package dependencies), in
-- execution order.  Profiles are read from the latest succeeded runs of a
-- version.  Schedules make shadow runs recur; their due runs go through a
-- job queue that controllers on several hosts dequeue with
-- FOR UPDATE SKIP LOCKED under a lease, so a crashed controller's job is
-- picked up again once its lease runs out.
--
-- Units: CPU in cores, memory in KiB, disk in bytes.

CREATE TABLE apps (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (name <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app_versions (
    id         bigserial PRIMARY KEY,
    app_id     bigint NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    version    text NOT NULL CHECK (version <> ''),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (app_id, version)
);

-- The run id is the one in the clone's <shadow-run id=...> mark and in its
-- overlays' names (vs-shadow-RUNID-*): schemas/domain-metadata.rng's
-- shadowRunId, repeated here so that no row can name a file elsewhere.
-- A run that is 'running' on a host where no shadow runs is a leftover of
-- a killed process: "shadow gc" (and virt-shadowd at start) cleans its
-- clone up and closes it as 'killed'.
-- The script's text is kept so that optimize and deploy can use it again.
-- A run made to check an optimized script names the run it was optimized
-- from; profiles leave such runs out (their script is not the app's).
CREATE TABLE shadow_runs (
    id             text PRIMARY KEY
                   CHECK (id ~ '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$' AND length(id) <= 64),
    app_version_id bigint NOT NULL REFERENCES app_versions (id),
    base           text NOT NULL,       -- the base domain or volume
    script_sha256  text NOT NULL CHECK (script_sha256 ~ '^[0-9a-f]{64}$'),
    script         text NOT NULL,
    optimized_from text REFERENCES shadow_runs (id),
    limits         text NOT NULL,       -- vsLimitsFormat(): every key
    host           text NOT NULL,
    state          text NOT NULL DEFAULT 'running'
                   CHECK (state IN ('running', 'succeeded', 'failed', 'timeout', 'killed')),
    started_at     timestamptz NOT NULL,
    ended_at       timestamptz,
    exit_code      int,                 -- of the step that ended the run
    error          text,
    CONSTRAINT shadow_runs_ended_check CHECK ((state = 'running') = (ended_at IS NULL)),
    CONSTRAINT shadow_runs_order_check CHECK (ended_at >= started_at),
    CONSTRAINT shadow_runs_optimized_check CHECK (optimized_from <> id)
);

-- Profiles: the latest succeeded runs of a version.
CREATE INDEX shadow_runs_profile_idx ON shadow_runs (app_version_id, started_at DESC)
    WHERE state = 'succeeded' AND optimized_from IS NULL;
-- A version's runs, newest first.
CREATE INDEX shadow_runs_version_idx ON shadow_runs (app_version_id, started_at DESC);
-- gc: the runs still open on a host.
CREATE INDEX shadow_runs_running_idx ON shadow_runs (host) WHERE state = 'running';

-- One row per step (1-based, in script order), written when it starts and
-- again when it ends.  stdout and stderr are kept truncated, and say so.
-- The usage is NULL until attributed; 'estimated' when no sample fell
-- inside the step and the nearest one stood in.
CREATE TABLE shadow_steps (
    run_id           text NOT NULL REFERENCES shadow_runs (id) ON DELETE CASCADE,
    idx              int NOT NULL CHECK (idx >= 1),
    name             text NOT NULL,
    started_at       timestamptz NOT NULL,
    ended_at         timestamptz,
    exit_code        int,
    stdout           text,
    stdout_truncated boolean NOT NULL DEFAULT false,
    stderr           text,
    stderr_truncated boolean NOT NULL DEFAULT false,
    avg_cpu          double precision CHECK (avg_cpu >= 0),
    peak_cpu         double precision CHECK (peak_cpu >= 0),
    peak_memory_kib  bigint CHECK (peak_memory_kib >= 0),
    disk_read_bytes  bigint CHECK (disk_read_bytes >= 0),
    disk_write_bytes bigint CHECK (disk_write_bytes >= 0),
    samples          int NOT NULL DEFAULT 0 CHECK (samples >= 0),
    estimated        boolean NOT NULL DEFAULT false,
    PRIMARY KEY (run_id, idx),
    CONSTRAINT shadow_steps_order_check CHECK (ended_at >= started_at)
);

-- What each step changed, from the guest manifests before and after it
-- (src/shadow/vsmanifest.h names the types).  The id orders the execution
-- path: steps in order, and within a step the diff's order.
CREATE TABLE shadow_events (
    id       bigserial PRIMARY KEY,
    run_id   text NOT NULL,
    step_idx int NOT NULL,
    at       timestamptz NOT NULL,
    type     text NOT NULL
             CHECK (type IN ('file-created', 'file-modified', 'file-deleted',
                             'service-created', 'service-modified', 'service-deleted',
                             'package-installed', 'package-upgraded', 'package-removed')),
    path     text NOT NULL,         -- a package event's: the package name
    detail   text,
    FOREIGN KEY (run_id, step_idx) REFERENCES shadow_steps (run_id, idx) ON DELETE CASCADE
);

CREATE INDEX shadow_events_step_idx ON shadow_events (run_id, step_idx, id);

-- The dependency map: a package a step installed or upgraded, and each
-- name its Pre-Depends and Depends list ("a|b" for alternatives).
CREATE TABLE shadow_dependencies (
    run_id     text NOT NULL,
    step_idx   int NOT NULL,
    package    text NOT NULL,
    depends_on text NOT NULL,
    PRIMARY KEY (run_id, step_idx, package, depends_on),
    FOREIGN KEY (run_id, step_idx) REFERENCES shadow_steps (run_id, idx) ON DELETE CASCADE
);

-- "profile optimize --verify": an optimized script, the shadow run that
-- checked it (whose optimized_from is the original run) and how it
-- compared with the original run: the total of the step durations, and
-- whether files and services ended in the same state (differences: one
-- per line, "" when none).  Deploy prefers the optimized script of the
-- latest succeeded run when its check succeeded with the same end state.
CREATE TABLE shadow_optimizations (
    id               bigserial PRIMARY KEY,
    original_run_id  text NOT NULL REFERENCES shadow_runs (id) ON DELETE CASCADE,
    optimized_run_id text NOT NULL UNIQUE REFERENCES shadow_runs (id) ON DELETE CASCADE,
    script           text NOT NULL CHECK (script <> ''),
    dropped_steps    text[] NOT NULL DEFAULT '{}',
    groups           int NOT NULL CHECK (groups >= 0),
    original_us      bigint NOT NULL CHECK (original_us >= 0),
    optimized_us     bigint NOT NULL CHECK (optimized_us >= 0),
    same_files       boolean NOT NULL,
    same_services    boolean NOT NULL,
    differences      text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shadow_optimizations_runs_check CHECK (original_run_id <> optimized_run_id)
);

CREATE INDEX shadow_optimizations_original_idx
    ON shadow_optimizations (original_run_id, created_at DESC);

-- Recurring shadow runs.  'every' is daily, weekly or a five-field cron
-- expression, which virt-shadow checks before it stores one.
CREATE TABLE shadow_schedules (
    id             bigserial PRIMARY KEY,
    app_version_id bigint NOT NULL REFERENCES app_versions (id) ON DELETE CASCADE,
    base           text NOT NULL,
    script         text NOT NULL,       -- the script itself, as it was added
    limits         text,                -- NULL: the defaults
    every          text NOT NULL CHECK (every <> ''),
    next_at        timestamptz NOT NULL,
    enabled        boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Enqueueing: the enabled schedules that are due.
CREATE INDEX shadow_schedules_due_idx ON shadow_schedules (next_at) WHERE enabled;

-- The queue.  A controller takes the oldest due job that is queued, or
-- leased with its lease run out:
--   SELECT id FROM shadow_jobs
--    WHERE (state = 'queued' AND due_at <= now())
--       OR (state = 'leased' AND lease_until < now())
--    ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED
-- then sets state 'leased', leased_by, lease_until and attempts + 1, and
-- renews the lease while the run goes on.  One job per schedule and due
-- time, so two controllers enqueueing the same slot make one job.
CREATE TABLE shadow_jobs (
    id          bigserial PRIMARY KEY,
    schedule_id bigint NOT NULL REFERENCES shadow_schedules (id) ON DELETE CASCADE,
    due_at      timestamptz NOT NULL,
    state       text NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'leased', 'done', 'failed')),
    leased_by   text,
    lease_until timestamptz,
    attempts    int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    run_id      text REFERENCES shadow_runs (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (schedule_id, due_at),
    CONSTRAINT shadow_jobs_lease_check
        CHECK (state <> 'leased' OR (leased_by IS NOT NULL AND lease_until IS NOT NULL))
);

CREATE INDEX shadow_jobs_queued_idx ON shadow_jobs (due_at) WHERE state = 'queued';
CREATE INDEX shadow_jobs_lease_idx ON shadow_jobs (lease_until) WHERE state = 'leased';
