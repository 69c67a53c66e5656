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
chmod 0711 "$VS_TMP"    # the embedded server runs as 'postgres' when we are root
state=$VS_TMP/state
cfg=$VS_TMP/vs.conf
pool=$VS_TMP/pool
libvirtd_pid=
stop_all() {
    [ -z "$libvirtd_pid" ] || { kill -TERM "$libvirtd_pid" 2>/dev/null; wait "$libvirtd_pid" 2>/dev/null; }
    "$VS" --config "$cfg" db stop >/dev/null 2>&1
}
vs_cleanup_hook=stop_all
die() { vs_fail "$1" "${2:-}"; vs_done; exit 1; }
json_get() { printf '%s' "$1" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"; }

"$VS_SRCDIR/tests/private-libvirtd" "$VS_TMP/libvirtd" >"$VS_TMP/libvirtd.out" 2>&1 &
libvirtd_pid=$!
vs_wait_for 60 test -s "$VS_TMP/libvirtd/uri" || die "the private libvirtd starts" "$(cat "$VS_TMP/libvirtd.out")"
uri=$(cat "$VS_TMP/libvirtd/uri")
vs_wait_for 60 virsh -c "$uri" -q version >/dev/null 2>&1 || die "the private libvirtd answers"
virsh() { command virsh -c "$uri" "$@"; }
printf '[main]\nstate_dir = %s\n[libvirt]\nuri = %s\n[shadow]\npool = %s\n' "$state" "$uri" "$pool" > "$cfg"
vs() { "$VS" --config "$cfg" "$@"; }
psql_db() { psql -qAt -v ON_ERROR_STOP=1 -h "$state/pg/run" -U virtshadow -d virtshadow -c "$1"; }
vs_check "the embedded database is set up" vs_run 0 vs db migrate

# the base: the tiny guest, defined and shut off
guest=$VS_TMP/guest
"$VS_SRCDIR/contrib/guest/build-guest" "$guest" >"$VS_TMP/build.out" 2>&1 ||
    die "the tiny guest builds" "$(tail -5 "$VS_TMP/build.out")"
sed -e "s|@NAME@|$name|" -e "s|@KERNEL@|$guest/vmlinux|" -e "s|@INITRD@|$guest/initrd.img|" \
    -e "s|@DISK@|$guest/base.qcow2|" -e "s|@CONSOLE_LOG@|$guest/console.log|" \
    -e "s|@MEMORY_KIB@|262144|" -e "s|@CURRENT_MEMORY_KIB@|262144|" \
    -e "s|@VCPUS@|1|" -e "s|@CURRENT_VCPUS@|1|" \
    "$VS_SRCDIR/contrib/guest/tiny-guest.xml.in" > "$guest/$name.xml"
vs_check "the base is defined" vs_run 0 virsh -q define "$guest/$name.xml"

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
vs_check "the no-op step is dropped" test "$(json_get "$j" '[s["name"] for s in d["dropped"]]')" = "['noop']"
vs_check "the verifying run succeeded" test "$(json_get "$j" 'd["verify"]["state"]')" = succeeded
vs_check "files end the same" test "$(json_get "$j" 'd["verify"]["same_files"]')" = True
vs_check "services end the same" test "$(json_get "$j" 'd["verify"]["same_services"]')" = True
vs_check "no differences" test "$(json_get "$j" 'd["verify"]["differences"]')" = "[]"
vs_check "both times are measured" test "$(json_get "$j" 'd["verify"]["original_s"] > 0 and d["verify"]["optimized_s"] > 0')" = True
vs_check "the script has no no-op step" vs_lacks "$(cat "$opt")" "# step: noop"
vs_check "the result is stored" test "$(psql_db "SELECT original_run_id || ' ' || same_files || ' ' || same_services || ' ' || array_to_string(dropped_steps, ',') FROM shadow_optimizations")" = "$run true true noop"
vs_check "the check is optimized from the run" test "$(psql_db "SELECT count(*) FROM shadow_runs WHERE optimized_from = '$run' AND state = 'succeeded'")" = 1
vs_check "the check is no part of the profile" vs_run 0 vs profile show web --json
vs_check "one run in the profile" test "$(json_get "$out" 'd["runs"]')" = "['$run']"

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
