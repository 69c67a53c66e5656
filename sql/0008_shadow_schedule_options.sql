-- 0008_shadow_schedule_options: a schedule's run options, and jobs that
-- are not retried forever.
--
-- A scheduled run takes the options "shadow run" takes.  The stage is a
-- directory's absolute path, staged when the job runs (maybe on another
-- controller): a directory gone by then fails the job.  network NULL: no
-- NIC; timeout_s NULL: the runner's default.
--
-- A job whose lease runs out is leased again, at most [shadow]
-- max_job_attempts times in all; then it is closed as 'failed'.
-- last_error says why a job failed.
ALTER TABLE shadow_schedules
    ADD COLUMN stage_dir text CHECK (stage_dir LIKE '/%'),
    ADD COLUMN network   text CHECK (network <> ''),
    ADD COLUMN timeout_s int CHECK (timeout_s > 0);

ALTER TABLE shadow_jobs
    ADD COLUMN last_error text;
