#!/bin/bash
# Scheduled shadow runs end to end on the tiny guest: a private libvirtd,
# the embedded PostgreSQL and virt-shadowd.  A due schedule is leased and
# run by the daemon: its shadow boots from a linked clone of the base and
# runs the script's first step; SIGTERM in the middle of the second (a long
# sleep) cancels the run, which cleans up before the daemon exits: the job
# is closed with its run, the run is closed, and no shadow domain or
# overlay is left.
set -u
. "${VS_TEST_SRCDIR:-.}/tests/vstestlib.sh"
vs_setup

chmod 0711 "$VS_TMP"    # the embedded server runs as 'postgres' when we are root
state=$VS_TMP/state
cfg=$VS_TMP/vs.conf
log=$VS_TMP/vsd.log
pool=$VS_TMP/pool
base=vs-sched-base
libvirtd_pid= daemon_pid=
stop_all() {
    [ -z "$daemon_pid" ] || kill -9 "$daemon_pid" 2>/dev/null
    if [ "$vs_failed" -gt 0 ]; then
        psql_db "SELECT 'run ' || id || ': ' || state || ' ' || coalesce(error, '') FROM shadow_runs" 2>/dev/null | sed 's/^/# /'
        echo "# --- virt-shadowd's log (last 40 lines) ---"
        tail -n 40 "$log" 2>/dev/null | sed 's/^/# /'
    fi
    [ -z "$libvirtd_pid" ] || { kill -TERM "$libvirtd_pid" 2>/dev/null; wait "$libvirtd_pid" 2>/dev/null; }
    "$VS" --config "$cfg" db stop >/dev/null 2>&1
}
vs_cleanup_hook=stop_all
die() { vs_fail "$1" "${2:-}"; vs_done; exit 1; }

# --- services: a private libvirtd, the embedded database --------------------------
"$VS_SRCDIR/tests/private-libvirtd" "$VS_TMP/libvirtd" >"$VS_TMP/libvirtd.out" 2>&1 &
libvirtd_pid=$!
vs_wait_for 60 test -s "$VS_TMP/libvirtd/uri" || die "the private libvirtd starts" "$(cat "$VS_TMP/libvirtd.out")"
uri=$(cat "$VS_TMP/libvirtd/uri")
vs_wait_for 60 virsh -c "$uri" -q version >/dev/null 2>&1 || die "the private libvirtd answers"
vs_ok "a private libvirtd runs"
virsh() { command virsh -c "$uri" "$@"; }

cat > "$cfg" <<EOF
[main]
state_dir = $state
[libvirt]
uri = $uri
[allocator]
interval = 0
[metrics]
listen =
[shadow]
pool = $pool
max_concurrent_shadows = 1
EOF
vs() { "$VS" --config "$cfg" "$@"; }
psql_db() { psql -qAt -v ON_ERROR_STOP=1 -h "$state/pg/run" -U virtshadow -d virtshadow -c "$1"; }
vs_check "the embedded database is set up" vs_run 0 vs db migrate
mkdir -p "$pool"

# --- the base: the tiny guest, shut off -------------------------------------------
guest=$VS_TMP/guest
"$VS_SRCDIR/contrib/guest/build-guest" "$guest" >"$VS_TMP/build.out" 2>&1 ||
    die "the tiny guest builds" "$(tail -5 "$VS_TMP/build.out")"
sed -e "s|@NAME@|$base|" -e "s|@KERNEL@|$guest/vmlinux|" -e "s|@INITRD@|$guest/initrd.img|" \
    -e "s|@DISK@|$guest/base.qcow2|" -e "s|@CONSOLE_LOG@|$guest/console.log|" \
    -e "s|@MEMORY_KIB@|262144|" -e "s|@CURRENT_MEMORY_KIB@|262144|" \
    -e "s|@VCPUS@|1|" -e "s|@CURRENT_VCPUS@|1|" \
    "$VS_SRCDIR/contrib/guest/tiny-guest.xml.in" > "$guest/$base.xml"
vs_check "the base is defined" vs_run 0 virsh -q define "$guest/$base.xml"
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
vs_check "the schedule is added" vs_run 0 vs shadow schedule add app --version 1.0 --base "$base" \
    --script "$script" --every "0 0 1 1 *" --limits vcpus=1,memory=256M
vs_check "it is made due" psql_db "UPDATE shadow_schedules SET next_at = now() - interval '1 minute'"

"$VSD" --foreground -v -v --config "$cfg" --pid-file "$VS_TMP/vsd.pid" 2>"$log" &
daemon_pid=$!
vs_check "virt-shadowd leases the job" vs_wait_for 60 grep -q "shadow job 1 leased" "$log"
shadow_running() { virsh -q list --name | grep -q '^vs-shadow-'; }
job_closed() { test "$(psql_db "SELECT count(*) FROM shadow_jobs WHERE state IN ('done', 'failed')")" = 1; }
# a run that fails early closes its job: no use waiting for it then
second_step() { test "$(psql_db "SELECT count(*) FROM shadow_steps WHERE idx = 2")" = 1 || job_closed; }
daemon_gone() { ! kill -0 "$daemon_pid" 2>/dev/null; }
vs_wait_for 60 eval 'shadow_running || job_closed'
vs_check "the shadow runs" shadow_running
vs_wait_for 240 second_step
vs_check "its first step ended and the second started" \
    test "$(psql_db "SELECT count(*) FROM shadow_steps WHERE idx = 2")" = 1
vs_check "the first step succeeded" test "$(psql_db "SELECT exit_code FROM shadow_steps WHERE idx = 1")" = 0
vs_check "the job is leased while it runs" test "$(psql_db "SELECT state || ' ' || attempts FROM shadow_jobs")" = "leased 1"
out=$(vs shadow schedule list)
vs_check "schedule list shows the leased job" vs_contains "$out" "leased"

# --- SIGTERM: the run is cancelled and cleans up -------------------------------------
kill -TERM "$daemon_pid"
vs_check "virt-shadowd exits within 60 s" vs_wait_for 60 daemon_gone
wait "$daemon_pid"
rc=$?
daemon_pid=
vs_check "virt-shadowd exits 0" test "$rc" = 0
vs_check "the job is closed as failed" test "$(psql_db "SELECT state FROM shadow_jobs")" = failed
run=$(psql_db "SELECT run_id FROM shadow_jobs")
vs_check "the job names its run" test -n "$run"
vs_check "the run is closed" test "$(psql_db "SELECT state <> 'running' FROM shadow_runs WHERE id = '$run'")" = t
vs_check "no shadow domain is left" test -z "$(virsh -q list --all --name | grep '^vs-shadow-')"
vs_check "no overlay is left" test -z "$(ls "$pool" 2>/dev/null | grep '^vs-shadow-')"
vs_check "the base is unchanged" test "$(sha256sum "$guest/base.qcow2")" = "$base_sum"
vs_check "the base is still defined, shut off" vs_contains "$(virsh -q domstate "$base")" "shut off"
vs_done
