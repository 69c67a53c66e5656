#!/bin/bash
# Scheduled shadow runs end to end on the tiny guest: a private libvirtd,
# the embedded PostgreSQL and virt-shadowd.  A due schedule is leased and
# run by the daemon: its shadow boots from a linked clone of the base and
# runs the script's first step, then the second, a long sleep.  Then:
#   - another controller takes the job's lease over (as it would once the
#     lease ran out): at its next renewal the daemon cancels its run, which
#     cleans up;
#   - a second schedule's run is cancelled by SIGTERM, and cleans up before
#     the daemon exits: the job is closed as failed with its run, the run
#     is closed.
# The first schedule has a stage directory (its first step copies a staged
# file), --network none (its shadow has no NIC) and a --timeout.  Then,
# with the daemon started again, a schedule whose stage directory is gone
# fails its job naming it, and a schedule's --timeout ends its run.
# Each time no shadow domain, overlay or running run is left, and the base
# is unchanged.
set -u
. "${VS_TEST_SRCDIR:-.}/tests/vstestlib.sh"
vs_setup

log=$VS_TMP/vsd.log
pool=$VS_TMP/pool
base=vs-sched-base
daemon_pid=
stop_daemon() {
    [ -z "$daemon_pid" ] || kill -9 "$daemon_pid" 2>/dev/null
    if [ "$vs_failed" -gt 0 ]; then
        psql_db "SELECT 'run ' || id || ': ' || state || ' ' || coalesce(error, '') FROM shadow_runs" 2>/dev/null | sed 's/^/# /'
        echo "# --- virt-shadowd's log (last 40 lines) ---"
        tail -n 40 "$log" 2>/dev/null | sed 's/^/# /'
    fi
}
vs_e2e_stop_hook=stop_daemon

vs_e2e_start "[allocator]
interval = 0
[metrics]
listen =
[shadow]
pool = $pool
max_concurrent_shadows = 1"

# --- the base: the tiny guest, shut off -------------------------------------------
vs_tiny_guest
vs_tiny_define "$base" "$guest/base.qcow2"
base_sum=$(sha256sum "$guest/base.qcow2")

# --- the schedule: due a minute ago -------------------------------------------------
script=$VS_TMP/install.sh
cat > "$script" <<'EOF'
#!/bin/sh
# step: files
mkdir -p /opt/app && echo 1 > /opt/app/version
# step: long
sleep 600
EOF
staged_script=$VS_TMP/install-staged.sh
cat > "$staged_script" <<'EOF'
#!/bin/sh
# step: files
mkdir -p /opt/app && cp app.conf /opt/app/app.conf
# step: long
sleep 600
EOF
stage=$VS_TMP/stage
mkdir -p "$stage" && echo "port=1" > "$stage/app.conf"
vs_check "schedule add refuses a base libvirt does not have" vs_run 1 vs shadow schedule add app \
    --version 1.0 --base no-such-base --script "$script" --every daily
vs_check "the missing base is named" vs_contains "$err" "base 'no-such-base' is neither a domain"
vs_check "the first schedule is added" vs_run 0 vs shadow schedule add app --version 1.0 \
    --base "$base" --script "$staged_script" --every "0 0 1 1 *" --limits vcpus=1,memory=256M \
    --stage "$stage" --network none --timeout 20m
out=$(vs shadow schedule list --json)
vs_check "schedule list shows its timeout" vs_contains "$out" '"timeout_s": 1200'
vs_check "schedule list shows its stage" vs_contains "$out" "\"stage\": \"$stage\""
vs_check "it is made due" psql_db "UPDATE shadow_schedules SET next_at = now() - interval '1 minute'"

shadow_running() { virsh -q list --name | grep -q '^vs-shadow-'; }
no_shadow() { test -z "$(virsh -q list --all --name | grep '^vs-shadow-')"; }
# job $1's state
job_state() { psql_db "SELECT state FROM shadow_jobs WHERE id = $1"; }
job_closed() { case $(job_state "$1") in done|failed) return 0 ;; *) return 1 ;; esac; }
# the running run's step 2 has started; a run that fails early closes its
# job: no use waiting for it then
second_step() {
    test "$(psql_db "SELECT count(*) FROM shadow_steps st JOIN shadow_runs r ON r.id = st.run_id
                     WHERE r.state = 'running' AND st.idx = 2")" = 1 || job_closed "$1"
}
daemon_gone() { ! kill -0 "$daemon_pid" 2>/dev/null; }
# job $1 is leased, its shadow boots and reaches the long step
job_runs() {
    vs_check "virt-shadowd leases job $1" vs_wait_for 60 grep -q "shadow job $1 leased" "$log"
    vs_wait_for 60 eval "shadow_running || job_closed $1"
    vs_check "job $1's shadow runs" shadow_running
    vs_wait_for 240 second_step "$1"
    vs_check "job $1's first step ended and the second started" test "$(psql_db "
        SELECT string_agg(st.idx || ':' || coalesce(st.exit_code::text, '-'), ' ' ORDER BY st.idx)
        FROM shadow_steps st JOIN shadow_runs r ON r.id = st.run_id WHERE r.state = 'running'")" = "1:0 2:-"
    vs_check "job $1 is leased while it runs" test "$(psql_db "SELECT state || ' ' || attempts FROM shadow_jobs WHERE id = $1")" = "leased 1"
}
nothing_left() {
    vs_check "$1: no shadow domain is left" no_shadow
    vs_check "$1: no overlay is left" test -z "$(ls "$pool" 2>/dev/null | grep '^vs-shadow-')"
    vs_check "$1: the base is unchanged" test "$(sha256sum "$guest/base.qcow2")" = "$base_sum"
    vs_check "$1: no run is left running" test "$(psql_db "SELECT count(*) FROM shadow_runs WHERE state = 'running'")" = 0
}

"$VSD" --foreground -v -v --config "$cfg" --pid-file "$VS_TMP/vsd.pid" 2>"$log" &
daemon_pid=$!
job_runs 1
out=$(vs shadow schedule list)
vs_check "schedule list shows the leased job" vs_contains "$out" "leased"
shadow=$(virsh -q list --name | grep '^vs-shadow-' | head -1)
vs_check "--network none: the shadow has no NIC" test -z "$(virsh -q domiflist "$shadow" 2>&1)"

# --- another controller takes the job over: the run here stops -----------------------
vs_check "the lease is taken over" psql_db "UPDATE shadow_jobs SET leased_by = 'other-host',
    lease_until = now() + interval '1 hour' WHERE id = 1"
vs_check "the run is cancelled within a renewal (40 s)" vs_wait_for 70 grep -q "shadow job 1 was taken over" "$log"
vs_check "its shadow goes" vs_wait_for 60 no_shadow
vs_check "the job stays the other controller's" test "$(psql_db "SELECT state || ' ' || leased_by FROM shadow_jobs WHERE id = 1")" = "leased other-host"
runs_closed() { test "$(psql_db "SELECT count(*) FROM shadow_runs WHERE state = 'running'")" = 0; }
vs_wait_for 30 runs_closed
nothing_left "taken over"

# --- SIGTERM: the run is cancelled and cleans up -------------------------------------
vs_check "the second schedule is added" vs_run 0 vs shadow schedule add app --version 1.1 \
    --base "$base" --script "$script" --every "0 0 1 1 *"
vs_check "it is made due" psql_db "UPDATE shadow_schedules SET next_at = now() - interval '1 minute' WHERE id = 2"
job_runs 2
kill -TERM "$daemon_pid"
vs_check "virt-shadowd exits within 60 s" vs_wait_for 60 daemon_gone
wait "$daemon_pid"
rc=$?
daemon_pid=
vs_check "virt-shadowd exits 0" test "$rc" = 0
vs_check "the job is closed as failed" test "$(job_state 2)" = failed
run=$(psql_db "SELECT run_id FROM shadow_jobs WHERE id = 2")
vs_check "the job names its run" test -n "$run"
vs_check "the run is closed" test "$(psql_db "SELECT state <> 'running' FROM shadow_runs WHERE id = '$run'")" = t
nothing_left "SIGTERM"
vs_check "the base is still defined, shut off" vs_contains "$(virsh -q domstate "$base")" "shut off"

# --- a stage gone by run time; a run's --timeout ---------------------------------------
job_of() { psql_db "SELECT id FROM shadow_jobs WHERE schedule_id = $1"; }
gone=$VS_TMP/stage-gone
mkdir -p "$gone"
vs_check "a schedule with a stage is added" vs_run 0 vs shadow schedule add app --version 1.2 \
    --base "$base" --script "$script" --every "0 0 1 1 *" --stage "$gone"
rm -rf "$gone"
vs_check "a schedule with --timeout 2m is added" vs_run 0 vs shadow schedule add app \
    --version 1.3 --base "$base" --script "$script" --every "0 0 1 1 *" --timeout 2m \
    --network none
vs_check "both are made due, the stage's first" psql_db "
    UPDATE shadow_schedules SET next_at = now() - interval '2 minutes' WHERE id = 3;
    UPDATE shadow_schedules SET next_at = now() - interval '1 minute' WHERE id = 4"
"$VSD" --foreground -v -v --config "$cfg" --pid-file "$VS_TMP/vsd.pid" 2>>"$log" &
daemon_pid=$!
vs_check "the stage's job is queued" vs_wait_for 60 eval 'test -n "$(job_of 3)"'
job=$(job_of 3)
vs_check "the stage's job closes" vs_wait_for 60 job_closed "$job"
vs_check "the stage's job failed" test "$(job_state "$job")" = failed
vs_check "it says the stage is gone" vs_contains "$(psql_db "SELECT last_error FROM shadow_jobs WHERE id = $job")" \
    "stage directory '$gone' is not there"
vs_check "schedule list says why" vs_contains "$(vs shadow schedule list)" "Schedule 3's last job failed: failed to start: stage directory"
vs_check "the timeout's job is queued" vs_wait_for 60 eval 'test -n "$(job_of 4)"'
job=$(job_of 4)
vs_check "the timeout's run ends within its 2 minutes and cleanup" vs_wait_for 300 job_closed "$job"
run=$(psql_db "SELECT run_id FROM shadow_jobs WHERE id = $job")
vs_check "the run timed out" test "$(psql_db "SELECT state FROM shadow_runs WHERE id = '$run'")" = timeout
vs_check "after 2 minutes" vs_contains "$(psql_db "SELECT error FROM shadow_runs WHERE id = '$run'")" "timed out after 2m"
vs_check "the job failed with the run's reason" vs_contains "$(psql_db "SELECT state || ' ' || last_error FROM shadow_jobs WHERE id = $job")" "failed the run timed out after 2m"
nothing_left "timeout"
kill -TERM "$daemon_pid"
vs_check "virt-shadowd exits again" vs_wait_for 60 daemon_gone
wait "$daemon_pid"
daemon_pid=
vs_done
