#!/bin/bash
# "shadow run" end to end on the tiny guest: a private libvirtd, the
# embedded PostgreSQL, and the tiny guest as the BASE domain (defined, not
# running).  An install script with distinct steps (files under /opt/app,
# a service: an init script and a cron entry, a CPU burn, memory held, a
# step that changes nothing) must leave the right events at the right
# steps, the highest CPU on the CPU step and the highest memory on the
# memory step, and nothing behind: no shadow domain, no overlay.  The
# profile it learnt is optimized (the no-op step dropped) and a domain is
# deployed from it, sized as the profile says.  A run
# killed with SIGKILL mid-step leaves its overlay and its 'running' row;
# "shadow gc" then removes what it left.  Bad input is refused before
# anything is made; a run whose step fails, and one that times out waiting
# for an agent that never answers, are cleaned up and say why.
#
# Only one guest runs at a time.
set -u
. "${VS_TEST_SRCDIR:-.}/tests/vstestlib.sh"
vs_setup

base=e2e-base
pool=$VS_TMP/pool
run_pid=
stop_run() { [ -z "$run_pid" ] || kill -9 "$run_pid" 2>/dev/null; }
vs_e2e_stop_hook=stop_run

vs_e2e_start "[shadow]
pool = $pool
[deploy]
pool = $VS_TMP/deployed"

# --- the base: the tiny guest, defined and shut off ------------------------------------
vs_tiny_guest
vs_tiny_define "$base" "$guest/base.qcow2"
base_sum=$(sha256sum < "$guest/base.qcow2")

# Nothing of a shadow is left: no marked domain, no vs-shadow-* file in the pool.
no_leftovers() {
    local doms files
    doms=$(virsh list --all --name | grep -c '^vs-shadow-' || true)
    files=$(find "$pool" -name 'vs-shadow-*' | wc -l)
    [ "$doms" = 0 ] && [ "$files" = 0 ] && return 0
    echo "#   leftovers: $doms shadow domains, $files overlays: $(virsh list --all --name | tr '\n' ' ') $(ls "$pool")"
    return 1
}
runs() { psql_db "SELECT count(*) FROM shadow_runs"; }

# --- bad input: refused before anything is made ----------------------------------------
cat > "$VS_TMP/ok.sh" <<'EOF'
echo fine
EOF
vs_check "a missing --script exits 2" vs_run 2 vs shadow run --app demo --version 1.0 --base "$base"
vs_check "the missing option is named" vs_contains "$err" "option '--script' is required"
vs_check "a script that is not there exits 1" vs_run 1 vs shadow run --app demo --version 1.0 --base "$base" --script "$VS_TMP/nosuch.sh"
vs_check "the missing script is named" vs_contains "$err" "cannot read script '$VS_TMP/nosuch.sh'"
vs_check "malformed limits exit 2" vs_run 2 vs shadow run --app demo --version 1.0 --base "$base" --script "$VS_TMP/ok.sh" --limits cpu=150%
vs_check "the bad limit is named" vs_contains "$err" "cpu=150%"
vs_check "an unknown base exits 1" vs_run 1 vs shadow run --app demo --version 1.0 --base nosuch --script "$VS_TMP/ok.sh"
vs_check "the unknown base is named" vs_contains "$err" "base 'nosuch' is neither a domain nor an absolute volume path"
vs_check "a missing base volume exits 1" vs_run 1 vs shadow run --app demo --version 1.0 --base "$VS_TMP/nosuch.qcow2" --script "$VS_TMP/ok.sh"
vs_check "the missing volume is named" vs_contains "$err" "base volume '$VS_TMP/nosuch.qcow2' does not exist"
vs_check "a bad --timeout exits 2" vs_run 2 vs shadow run --app demo --version 1.0 --base "$base" --script "$VS_TMP/ok.sh" --timeout soon
vs_check "no run was recorded for bad input" test "$(runs)" = 0
vs_check "bad input left nothing behind" no_leftovers

# --- a full run --------------------------------------------------------------------------
cat > "$VS_TMP/install.sh" <<'EOF'
#!/bin/sh
# step: files
mkdir -p /opt/app/bin /opt/app/etc
echo 'demo 1.0' > /opt/app/VERSION
printf '#!/bin/sh\necho hello\n' > /opt/app/bin/app
chmod 755 /opt/app/bin/app
echo 'port=8080' > /opt/app/etc/app.conf
# step: service
printf '#!/bin/sh\nexec /opt/app/bin/app\n' > /etc/init.d/app
chmod 755 /etc/init.d/app
mkdir -p /etc/cron.d
echo '*/5 * * * * root /opt/app/bin/app' > /etc/cron.d/app
# step: burn-cpu
end=$(( $(date +%s) + 6 ))
while [ "$(date +%s)" -lt "$end" ]; do :; done
# step: hold-memory
# 96 MiB into the tmpfs /tmp (never in a manifest), slowly so that
# writing it is no CPU peak, then held
i=0
while [ $i -lt 12 ]; do
    dd if=/dev/zero of=/tmp/hold.$i bs=1M count=8 2>/dev/null
    sleep 0.3
    i=$((i + 1))
done
sleep 4
rm -f /tmp/hold.*
# step: nothing
sleep 3
EOF
start=$SECONDS
vs_check "a shadow run succeeds" vs_run 0 vs shadow run --app demo --version 1.0 --base "$base" \
    --script "$VS_TMP/install.sh" --limits vcpus=1,memory=256M --timeout 15m --json
echo "# shadow run took $((SECONDS - start)) s; seconds: $(vs_json_get "$out" 'd["seconds"]' 2>/dev/null)"
vs_check "its JSON parses" vs_json "$out"
vs_check "its JSON says succeeded" test "$(vs_json_get "$out" 'd["state"]')" = succeeded
vs_check "its JSON counts 5 steps and their events" test "$(vs_json_get "$out" '(d["steps_run"], len(d["steps"]), d["events"] > 0)')" = "(5, 5, True)"
vs_check "its JSON has the time of each phase" test "$(vs_json_get "$out" 'all(d["seconds"][k] > 0 for k in ("total", "clone", "boot", "stage", "steps", "manifest", "compare", "cleanup"))')" = True
vs_check "the overhead is the time beyond the steps" test "$(vs_json_get "$out" 'abs(d["seconds"]["overhead"] - (d["seconds"]["total"] - d["seconds"]["steps"])) < 0.001')" = True
vs_check "the overlay was compared offline with the base" test "$(vs_json_get "$out" 'd["offline_comparison"]["compared"]')" = True
vs_check "the offline comparison agrees with the guest" test "$(vs_json_get "$out" 'd["offline_comparison"]["disagreements"]')" = "[]"
vs_check "stderr is quiet without a TTY" test -z "$err"
vs_check "libvirtd made the missing pool directory, mode 0711" test "$(stat -c %a "$pool")" = 711
run=$(vs_json_get "$out" 'd["run_id"]')
vs_check "the run is stored as succeeded" test "$(psql_db "SELECT state FROM shadow_runs WHERE id = '$run'")" = succeeded
q() { psql_db "$1"; }
vs_check "five steps, all exited 0" test "$(q "SELECT count(*) FROM shadow_steps WHERE run_id = '$run' AND exit_code = 0 AND ended_at IS NOT NULL")" = 5
vs_check "steps are named from the markers" test "$(q "SELECT string_agg(name, ',' ORDER BY idx) FROM shadow_steps WHERE run_id = '$run'")" = "files,service,burn-cpu,hold-memory,nothing"
ev() { q "SELECT count(*) FROM shadow_events WHERE run_id = '$run' AND step_idx = $1 AND type = '$2' AND path = '$3'"; }
vs_check "step 1 created /opt/app/bin/app" test "$(ev 1 file-created /opt/app/bin/app)" = 1
vs_check "step 1 created /opt/app/etc/app.conf" test "$(ev 1 file-created /opt/app/etc/app.conf)" = 1
vs_check "step 1 created the directory /opt/app" test "$(ev 1 file-created /opt/app)" = 1
vs_check "step 2 created the init script" test "$(ev 2 service-created /etc/init.d/app)" = 1
vs_check "step 2 created the cron entry" test "$(ev 2 service-created /etc/cron.d/app)" = 1
vs_check "the init script is called one" test "$(q "SELECT detail FROM shadow_events WHERE run_id = '$run' AND type = 'service-created' AND path = '/etc/init.d/app'")" = "init script"
vs_check "the cron entry is called one" test "$(q "SELECT detail FROM shadow_events WHERE run_id = '$run' AND type = 'service-created' AND path = '/etc/cron.d/app'")" = "cron entry"
vs_check "no file of step 1 is seen at step 2" test "$(q "SELECT count(*) FROM shadow_events WHERE run_id = '$run' AND step_idx <> 1 AND path LIKE '/opt/app%'")" = 0
vs_check "the step that changes nothing has no event" test "$(q "SELECT count(*) FROM shadow_events WHERE run_id = '$run' AND step_idx = 5")" = 0
vs_check "neither has the memory step (/tmp is not scanned)" test "$(q "SELECT count(*) FROM shadow_events WHERE run_id = '$run' AND step_idx = 4")" = 0
echo "# per step: $(q "SELECT string_agg(format('%s cpu %s/%s mem %s KiB samples %s%s', name, round(avg_cpu::numeric, 2), round(peak_cpu::numeric, 2), peak_memory_kib, samples, CASE WHEN estimated THEN ' (est)' ELSE '' END), '; ' ORDER BY idx) FROM shadow_steps WHERE run_id = '$run'")"
vs_check "every step has its usage" test "$(q "SELECT count(*) FROM shadow_steps WHERE run_id = '$run' AND peak_cpu IS NOT NULL AND peak_memory_kib IS NOT NULL")" = 5
vs_check "the CPU step has the highest CPU peak" test "$(q "SELECT idx FROM shadow_steps WHERE run_id = '$run' ORDER BY peak_cpu DESC LIMIT 1")" = 3
vs_check "the CPU step kept a vCPU busy (half of it at least, on a busy host)" test "$(q "SELECT peak_cpu >= 0.5 FROM shadow_steps WHERE run_id = '$run' AND idx = 3")" = t
vs_check "the memory step has the highest memory peak" test "$(q "SELECT idx FROM shadow_steps WHERE run_id = '$run' ORDER BY peak_memory_kib DESC LIMIT 1")" = 4
vs_check "the memory held shows in the counters (>= 64 MiB above the next step)" \
    test "$(q "SELECT max(peak_memory_kib) FILTER (WHERE idx = 4) - max(peak_memory_kib) FILTER (WHERE idx <> 4) >= 65536 FROM shadow_steps WHERE run_id = '$run'")" = t
vs_check "the run keeps its script's hash" test "$(q "SELECT script_sha256 FROM shadow_runs WHERE id = '$run'")" = "$(sha256sum < "$VS_TMP/install.sh" | cut -d' ' -f1)"
vs_check "no shadow domain or overlay remains" no_leftovers
vs_check "the base image was never written" test "$(sha256sum < "$guest/base.qcow2")" = "$base_sum"

# --- the profile this run learnt: optimize, then deploy sized from it ----------------------
vs_check "profile optimize exits 0" vs_run 0 vs profile optimize demo --version 1.0 -o "$VS_TMP/optimized.sh"
vs_check "the optimized script keeps the file and service steps" \
    test "$(grep -c '^# step: \(files\|service\)$' "$VS_TMP/optimized.sh")" = 2
vs_check "the optimized script drops the step that changed nothing" \
    test "$(grep -c '^# step: nothing$' "$VS_TMP/optimized.sh")" = 0
# what deploy must choose: the highest step peaks x 1.2 (vsProfileSize)
want=$(q "SELECT max(peak_cpu), max(peak_memory_kib) FROM shadow_steps WHERE run_id = '$run'" |
    python3 -c 'import math, sys; c, m = sys.stdin.read().strip().split("|"); print(max(1, math.ceil(float(c) * 1.2 - 1e-9)), max(131072, math.ceil(int(m) * 1.2 / 1024 - 1e-9) * 1024))')
vcpus=${want% *} mem=${want#* }
vs_check "deploy --dry-run exits 0" vs_run 0 vs deploy demo --version 1.0 --base "$base" --name e2e-app --dry-run --json
vs_check "the plan sizes from the learnt profile" \
    test "$(vs_json_get "$out" 'd["sized_by"], d["profile_runs"]') $(vs_json_get "$out" 'd["vcpus"], d["memory_kib"]')" = "('profile', 1) ($vcpus, $mem)"
vs_check "the dry run made no domain" test "$(virsh list --all --name | grep -c '^e2e-app$')" = 0
vs_check "deploy with the optimized script exits 0" vs_run 0 vs deploy demo --version 1.0 --base "$base" \
    --name e2e-app --script "$VS_TMP/optimized.sh" --json
vs_check "it ran the optimized steps" test "$(vs_json_get "$out" '[(s["name"], s["exit_code"]) for s in d["steps"]]')" = "[('files', 0), ('service', 0)]"
vs_check "the domain has the profile's vCPUs, twice as many at most" \
    test "$(virsh -q vcpucount e2e-app --live --active) $(virsh -q vcpucount e2e-app --config --maximum)" = "$vcpus $((vcpus * 2))"
vs_check "the domain has the profile's memory, twice as much at most" \
    test "$(virsh -q dommemstat e2e-app 2>/dev/null | awk '$1 == "actual" { print $2 }') $(virsh -q dumpxml e2e-app | sed -n "s|.*<memory unit='KiB'>\([0-9]*\)<.*|\1|p")" = "$mem $((mem * 2))"
vs_check "the install's files are in the deployed guest" vs_run 0 vs guest exec e2e-app -- /bin/cat /opt/app/etc/app.conf
vs_check "the deployed guest has the config" vs_contains "$out" "port=8080"
virsh -q destroy e2e-app >/dev/null 2>&1
vs_check "the deployed domain is removed with its disk" vs_run 0 virsh -q undefine e2e-app --remove-all-storage

# --- under cron: one summary line; an optimized script's group runs together --------------
cat > "$VS_TMP/group.sh" <<'EOF'
#!/bin/sh
# group: 1
# step: a
sleep 2
echo fine
# step: b
sleep 2
mkdir -p /opt/b
EOF
vs_check "a grouped run succeeds" vs_run 0 vs shadow run --app demo --version 1.0.1 --base "$base" --script "$VS_TMP/group.sh"
vs_check "it prints one summary line" test "$(printf '%s\n' "$out" | wc -l)" = 1
vs_check "the summary says it succeeded" vs_contains "$out" "demo 1.0.1 succeeded, 2 steps in"
vs_check "the summary gives the overhead and the events" vs_contains "$out" "(overhead "
orun=$(psql_db "SELECT id FROM shadow_runs WHERE state = 'succeeded' AND app_version_id = (SELECT v.id FROM app_versions v JOIN apps a ON a.id = v.app_id WHERE a.name = 'demo' AND v.version = '1.0.1')")
vs_check "the summary names the run" vs_contains "$out" "shadow run $orun: "
vs_check "nothing is written to stderr" test -z "$err"
vs_check "the step's output is stored" test "$(q "SELECT stdout FROM shadow_steps WHERE run_id = '$orun' AND idx = 1")" = fine
vs_check "the group's steps ran together" test "$(q "SELECT max(started_at) - min(started_at) < interval '1 second' AND min(ended_at) - max(started_at) > interval '1.5 seconds' FROM shadow_steps WHERE run_id = '$orun'")" = t
vs_check "the group's events go with its first step" test "$(q "SELECT step_idx FROM shadow_events WHERE run_id = '$orun' AND path = '/opt/b' AND type = 'file-created'")" = 1
vs_check "the grouped run left nothing behind" no_leftovers

# --- a failing step, with --json ----------------------------------------------------------
cat > "$VS_TMP/fail.sh" <<'EOF'
# step: prepare
mkdir -p /opt/fail
# step: break
echo 'about to fail' >&2
false
echo 'not reached'
# step: never
touch /opt/never
EOF
vs_check "a run whose step fails exits 1" vs_run 1 vs shadow run --app demo --version 1.1 --base "$base" \
    --script "$VS_TMP/fail.sh" --json --keep-on-failure
vs_check "its JSON parses" vs_json "$out"
vs_check "its JSON says failed" test "$(vs_json_get "$out" 'd["state"]')" = failed
vs_check "its JSON names the step" test "$(vs_json_get "$out" 'd["failed_step"]')" = break
vs_check "its JSON gives the exit code" test "$(vs_json_get "$out" 'd["exit_code"]')" = 1
vs_check "its JSON counts the steps run" test "$(vs_json_get "$out" 'd["steps_run"]')" = 2
vs_check "its JSON has the timings" test "$(vs_json_get "$out" 'd["seconds"]["boot"] > 0 and d["seconds"]["cleanup"] > 0')" = True
vs_check "its JSON says why no comparison" test "$(vs_json_get "$out" 'd["offline_comparison"]["skipped"]')" = "the run did not succeed"
vs_check "the error is one line naming the step" vs_contains "$err" "failed after 2 of 3 steps"
vs_check "the error gives the step's exit" vs_contains "$err" "step 2 'break' exited with 1"
frun=$(vs_json_get "$out" 'd["run_id"]')
vs_check "the failed run is stored as failed" test "$(q "SELECT state || ' ' || exit_code FROM shadow_runs WHERE id = '$frun'")" = "failed 1"
vs_check "the failed step's stderr is stored" test "$(q "SELECT stderr FROM shadow_steps WHERE run_id = '$frun' AND idx = 2")" = "about to fail"
vs_check "the step after it never ran" test "$(q "SELECT count(*) FROM shadow_steps WHERE run_id = '$frun' AND idx = 3 AND started_at IS NOT NULL")" = 0
vs_check "--keep-on-failure kept the shadow" test "$(vs_json_get "$out" 'd["kept"]["domain"]')" = "vs-shadow-$frun"
vs_check "--keep-on-failure kept the overlay" test "$(vs_json_get "$out" 'd["kept"]["overlay"]')" = "$pool/vs-shadow-$frun-disk"
vs_check "the kept shadow still runs" test "$(virsh domstate "vs-shadow-$frun" 2>&1)" = running
vs_check "the kept overlay is there" test -e "$pool/vs-shadow-$frun-disk"
vs_check "the error says what was kept and how to remove it" vs_contains "$err" "remove with 'virt-shadow shadow gc --run $frun'"
vs_check "the store says what was kept" vs_contains "$(q "SELECT error FROM shadow_runs WHERE id = '$frun'")" "kept domain vs-shadow-$frun and its overlay"
vs_check "gc --run removes the kept shadow" vs_run 0 vs shadow gc --run "$frun"
vs_check "after gc the failed run left nothing behind" no_leftovers

# --- an agent that never answers: a bare image, the run's timeout --------------------------
qemu-img create -q -f qcow2 "$VS_TMP/blank.qcow2" 16M
vs_check "a run on a guest without an agent exits 1" vs_run 1 vs shadow run --app demo --version 1.2 \
    --base "$VS_TMP/blank.qcow2" --script "$VS_TMP/ok.sh" --timeout 15s
vs_check "it says it timed out waiting for boot" vs_contains "$err" "timeout after 0 of 1 step"
vs_check "it names the cause" vs_contains "$err" "the run timed out after 15s during boot"
vs_check "it is stored as timeout" test "$(q "SELECT state FROM shadow_runs WHERE base = '$VS_TMP/blank.qcow2'")" = timeout
vs_check "the timed-out run left nothing behind" no_leftovers
rm -f "$VS_TMP/blank.qcow2"

# --- SIGTERM mid-step, on a terminal: progress line, cleanup, exit 1 --------------------------
cat > "$VS_TMP/slow.sh" <<'EOF'
# step: slow
sleep 120
EOF
step_started() { test "$(q "SELECT count(*) FROM shadow_steps s JOIN shadow_runs r ON r.id = s.run_id WHERE r.state = 'running' AND s.idx = 1 AND s.ended_at IS NULL")" = 1; }
# script(1) gives the run a terminal; its log is what the terminal showed
script -qfec "'$VS' --config '$cfg' shadow run --app demo --version 1.4 --base $base --script '$VS_TMP/slow.sh'; echo rc=\$?" \
    "$VS_TMP/tty.log" >/dev/null 2>&1 &
tty_pid=$!
vs_check "the slow step starts" vs_wait_for 180 step_started
trun=$(q "SELECT id FROM shadow_runs WHERE state = 'running'")
vs_pid=$(pgrep -f -- "--version 1.4 --base $base" | while read -r p; do
    [ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$VS")" ] && echo "$p"; done)
vs_check "the run's process is found" test -n "$vs_pid"
sleep 1.5   # time for a redraw of the progress line once the step runs
[ -n "$vs_pid" ] && kill -TERM $vs_pid || kill "$tty_pid"
wait "$tty_pid"
tty_out=$(tr '\r' '\n' < "$VS_TMP/tty.log")
vs_check "the terminal showed the progress line" vs_contains "$tty_out" "] step 1/1 slow 00:"
vs_check "the terminal showed a bar" vs_contains "$tty_out" "[>"
vs_check "SIGTERM ends the run with exit code 1" vs_contains "$tty_out" "rc=1"
vs_check "it says it was interrupted by SIGTERM" vs_contains "$tty_out" "interrupted by SIGTERM"
vs_check "the interrupted run is stored as failed" test "$(q "SELECT state || ': ' || error FROM shadow_runs WHERE id = '$trun'")" = "failed: interrupted by SIGTERM"
vs_check "the interrupted run left nothing behind" no_leftovers

# --- SIGKILL mid-step, then gc ----------------------------------------------------------------
"$VS" --config "$cfg" shadow run --app demo --version 1.3 --base "$base" --script "$VS_TMP/slow.sh" \
    >"$VS_TMP/killed.out" 2>&1 &
run_pid=$!
vs_check "the slow step starts again" vs_wait_for 180 step_started
kill -9 "$run_pid"
wait "$run_pid" 2>/dev/null
run_pid=
krun=$(q "SELECT id FROM shadow_runs WHERE state = 'running'")
vs_check "the killed run is still 'running' in the store" test -n "$krun"
vs_check "the killed run left its overlay" test -e "$pool/vs-shadow-$krun-disk"
vs_check "gc exits 0" vs_run 0 vs shadow gc
vs_check "gc names the orphaned overlay" vs_contains "$out" "vs-shadow-$krun-disk"
vs_check "after gc nothing remains" no_leftovers

# --- a base whose disk is in use --------------------------------------------------------------
vs_check "the base starts paused" vs_run 0 virsh -q start --paused "$base"
vs_check "a run on a base in use exits 1" vs_run 1 vs shadow run --app demo --version 1.0 --base "$base" --script "$VS_TMP/ok.sh"
vs_check "the domain using it is named" vs_contains "$err" "is in use by running domain '$base'"
vs_check "the base in use left nothing behind" no_leftovers
virsh -q destroy "$base" >/dev/null 2>&1
vs_done
