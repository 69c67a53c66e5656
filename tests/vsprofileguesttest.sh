#!/bin/bash
# profile optimize --verify end to end on the tiny guest: a shadow run of a
# script with a step that changes nothing, then its optimized script run
# in a shadow of its own and compared with it.  The no-op step is dropped,
# the end state is the same, the result is stored, the check is no part of
# the profile, and no shadow domain or overlay is left.
set -u
. "${VS_TEST_SRCDIR:-.}/tests/vstestlib.sh"
vs_setup

name=vs-profile-base
pool=$VS_TMP/pool
vs_e2e_start "[shadow]
pool = $pool"
vs_tiny_guest
vs_tiny_define "$name" "$guest/base.qcow2"

script=$VS_TMP/install.sh
cat > "$script" <<'EOF'
#!/bin/sh
# step: files
mkdir -p /opt/app
echo app > /opt/app/bin
# step: noop
true
# step: service
mkdir -p /etc/cron.d
echo '* * * * * root true' > /etc/cron.d/app
EOF
vs_check "the shadow run succeeds" vs_run 0 vs shadow run --app web --version 1.0 \
    --base "$name" --script "$script" --limits vcpus=1,memory=256M --timeout 5m
run=$(psql_db "SELECT id FROM shadow_runs")

opt=$VS_TMP/optimized.sh
vs_check "optimize --verify exits 0" vs_run 0 vs profile optimize web --version 1.0 -o "$opt" \
    --verify --base "$name" --limits vcpus=1,memory=256M --json
vs_check "its output parses" vs_json "$out"
j=$out
vs_check "the no-op step is dropped" test "$(vs_json_get "$j" '[s["name"] for s in d["dropped"]]')" = "['noop']"
vs_check "the verifying run succeeded" test "$(vs_json_get "$j" 'd["verify"]["state"]')" = succeeded
vs_check "files end the same" test "$(vs_json_get "$j" 'd["verify"]["same_files"]')" = True
vs_check "services end the same" test "$(vs_json_get "$j" 'd["verify"]["same_services"]')" = True
vs_check "no differences" test "$(vs_json_get "$j" 'd["verify"]["differences"]')" = "[]"
vs_check "both times are measured" test "$(vs_json_get "$j" 'd["verify"]["original_s"] > 0 and d["verify"]["optimized_s"] > 0')" = True
vs_check "the script has no no-op step" vs_lacks "$(cat "$opt")" "# step: noop"
vs_check "the result is stored" test "$(psql_db "SELECT original_run_id || ' ' || same_files || ' ' || same_services || ' ' || array_to_string(dropped_steps, ',') FROM shadow_optimizations")" = "$run true true noop"
vs_check "the check is optimized from the run" test "$(psql_db "SELECT count(*) FROM shadow_runs WHERE optimized_from = '$run' AND state = 'succeeded'")" = 1
vs_check "the check is no part of the profile" vs_run 0 vs profile show web --json
vs_check "one run in the profile" test "$(vs_json_get "$out" 'd["runs"]')" = "['$run']"

vs_check "optimize --verify again, in words" vs_run 0 vs profile optimize web --version 1.0 -o "$opt" \
    --verify --base "$name" --limits vcpus=1,memory=256M
vs_check "it tells the comparison" vs_contains "$out" "files the same, services the same"
vs_check "it names the dropped step" vs_contains "$out" "Dropped step 2 'noop'"
vs_check "each verification is stored" test "$(psql_db "SELECT count(*) FROM shadow_optimizations WHERE same_files AND same_services")" = 2

# SIGTERM during the verifying run: it is cancelled, cleans up and is closed
# (SIGINT is handled alike, but a script's background job ignores it)
cat > "$VS_TMP/slow.sh" <<'EOF'
#!/bin/sh
# step: files
mkdir -p /opt/slow
# step: slow
sleep 15
echo done > /opt/slow/done
EOF
vs_check "a slow version's shadow run succeeds" vs_run 0 vs shadow run --app web --version 2.0 \
    --base "$name" --script "$VS_TMP/slow.sh" --limits vcpus=1,memory=256M --timeout 5m
"$VS" --config "$cfg" profile optimize web --version 2.0 -o "$VS_TMP/slow-opt.sh" \
    --verify --base "$name" \
    --limits vcpus=1,memory=256M >"$VS_TMP/int.out" 2>"$VS_TMP/int.err" &
verify_pid=$!
slow_started() {
    test "$(psql_db "SELECT count(*) FROM shadow_steps s JOIN shadow_runs r ON r.id = s.run_id
                     WHERE r.optimized_from IS NOT NULL AND s.name = 'slow' AND s.ended_at IS NULL")" = 1
}
vs_check "the verifying run reaches its slow step" vs_wait_for 120 slow_started
kill -TERM "$verify_pid"
wait "$verify_pid"
vs_check "an interrupted verification exits 1" test $? = 1
vs_check "it says the run did not succeed" vs_contains "$(cat "$VS_TMP/int.err")" "did not succeed"
vs_check "the interrupted run is closed, saying why" test "$(psql_db "SELECT r.state <> 'running' AND r.error LIKE '%SIGTERM%' FROM shadow_runs r JOIN app_versions v ON v.id = r.app_version_id WHERE v.version = '2.0' AND r.optimized_from IS NOT NULL")" = t
vs_check "its result is stored, not verified" test "$(psql_db "SELECT same_files OR same_services FROM shadow_optimizations o JOIN shadow_runs r ON r.id = o.optimized_run_id JOIN app_versions v ON v.id = r.app_version_id WHERE v.version = '2.0'")" = f

vs_check "no shadow domain is left" test "$(virsh -q list --all --name | grep -c .)" = 1
vs_check "no overlay is left" test -z "$(ls "$pool")"
vs_done
