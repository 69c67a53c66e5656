#!/bin/bash
# "deploy" end to end on the tiny guest: a private libvirtd, the embedded
# PostgreSQL holding a profile of app 'demo' version '1.0' (two succeeded
# runs whose highest step peaks are 1.5 cores and 150 MiB), and the tiny
# guest's image as the base.  A linked-clone deploy must give the domain
# exactly the sizes the profile asks for (2 vCPUs of 4, 180 of 360 MiB),
# the starting policy, and run the stored script in the guest; a full-copy
# deploy whose second step fails must stop there and leave its domain
# running; one interrupted while its guest boots must leave nothing.  One
# guest runs at a time.
set -u
. "${VS_TEST_SRCDIR:-.}/tests/vstestlib.sh"
vs_setup

vs_e2e_start "[deploy]
pool = $VS_TMP/guest"
vs_tiny_guest
vs_tiny_define deploy-base "$guest/base.qcow2"

# --- the profile: two succeeded runs of demo 1.0 ------------------------------------------
script='#!/bin/sh
# step: files
mkdir -p /opt/app && echo 1.0 > /opt/app/version
# step: config
echo port=80 > /opt/app/app.conf
'
profile_sql() {
    vs_psql -v script="$script" <<'EOF'
INSERT INTO apps (name) VALUES ('demo');
INSERT INTO app_versions (app_id, version) SELECT id, '1.0' FROM apps WHERE name = 'demo';
INSERT INTO shadow_runs (id, app_version_id, base, script_sha256, script, limits, host, state,
                         started_at, ended_at, exit_code)
SELECT r.id, v.id, 'deploy-base', encode(sha256(convert_to(:'script', 'UTF8')), 'hex'), :'script',
       'vcpus=1,cpu=100%,memory=524288K', 'h1', 'succeeded', now() - r.ago, now() - r.ago + interval '1 minute', 0
FROM app_versions v, (VALUES ('r1', interval '2 hours'), ('r2', interval '1 hour')) AS r (id, ago);
INSERT INTO shadow_steps (run_id, idx, name, started_at, ended_at, exit_code, avg_cpu, peak_cpu,
                          peak_memory_kib, disk_read_bytes, disk_write_bytes, samples)
SELECT s.run_id, s.idx, s.name, now() - interval '1 hour', now() - interval '59 minutes', 0,
       s.peak / 2, s.peak, s.mem, 0, 4096, 3
FROM (VALUES ('r1', 1, 'files', 0.3, 100 * 1024), ('r1', 2, 'config', 1.1, 120 * 1024),
             ('r2', 1, 'files', 1.5, 90 * 1024), ('r2', 2, 'config', 0.2, 150 * 1024))
     AS s (run_id, idx, name, peak, mem);
EOF
}
vs_check "the profile is stored" profile_sql

# --- the plan -------------------------------------------------------------------------
vs_check "deploy --dry-run exits 0" vs_run 0 vs deploy demo --version 1.0 --base deploy-base --name web7 --dry-run --json
vs_check "the plan sizes from the profile" test "$(vs_json_get "$out" 'd["sized_by"], d["profile_runs"], d["vcpus"], d["memory_kib"]')" = "('profile', 2, 2, 184320)"
vs_check "the dry run made no domain" vs_run 1 virsh -q domstate web7
vs_check "the dry run made no volume" test ! -e "$guest/web7.qcow2"

# --- a linked-clone deploy -----------------------------------------------------------------
vs_check "deploy exits 0" vs_run 0 vs deploy demo --version 1.0 --base deploy-base --name web7 --json
vs_check "its report parses" vs_json "$out"
vs_check "it ran both steps with exit 0" test "$(vs_json_get "$out" '[(s["name"], s["exit_code"]) for s in d["steps"]]')" = "[('files', 0), ('config', 0)]"
vs_check "it ran the stored script" test "$(vs_json_get "$out" 'd["script"]')" = "stored script of shadow run 'r2'"
vs_check "the domain runs" test "$(virsh -q domstate web7)" = running
vs_check "it has the profile's vCPUs: 2 of 4" test "$(virsh -q vcpucount web7 --live --active) $(virsh -q vcpucount web7 --config --maximum)" = "2 4"
xml=$(virsh dumpxml --inactive web7)
vs_check "its memory: 180 MiB, up to 360 MiB" test "$(printf '%s' "$xml" | python3 -c 'import sys, xml.etree.ElementTree as E; r = E.fromstring(sys.stdin.read()); print(r.find("currentMemory").text, r.find("memory").text)')" = "184320 368640"
vs_check "it is persistent" vs_contains "$(virsh -q dominfo web7)" "Persistent:     yes"
vs_check "its console log is its own" test "$(printf '%s' "$xml" | python3 -c 'import sys, xml.etree.ElementTree as E; print(E.fromstring(sys.stdin.read()).find("devices/serial/source").get("path"))')" = "$guest/web7-console.log"
vs_check "QEMU writes it" test -e "$guest/web7-console.log"
vs_check "its disk is an overlay on the base" vs_contains "$(qemu-img info -U "$guest/web7.qcow2")" "backing file: $guest/base.qcow2"
vs_check "the policy is set" vs_run 0 vs policy show web7 --json
vs_check "the policy is the starting one" test "$(vs_json_get "$out" 'd["mode"], d["min_vcpus"], d["max_vcpus"]')" = "('auto', 2, 4)"
vs_check "the steps ran in the guest" vs_run 0 vs guest exec web7 -- /bin/cat /opt/app/version /opt/app/app.conf
vs_check "the guest has the files" test "$out" = "1.0
port=80"
vs_check "a second deploy with the name exits 1" vs_run 1 vs deploy demo --version 1.0 --base deploy-base --name web7
vs_check "it names the taken name" vs_contains "$err" "domain 'web7' already exists"
vs_check "web7 is removed" vs_run 0 virsh -q destroy web7
vs_check "web7 is undefined with its disk" vs_run 0 virsh -q undefine web7 --remove-all-storage

# --- SIGINT while the guest boots: what was made is removed ----------------------------------
"$VS" --config "$cfg" deploy demo --version 1.0 --base deploy-base --name web9 \
    >"$VS_TMP/int.out" 2>"$VS_TMP/int.err" &
pid=$!
domain_runs() { [ "$(virsh -q domstate "$1" 2>/dev/null)" = running ]; }
vs_check "the interrupted deploy's domain starts" vs_wait_for 60 domain_runs web9
kill -INT "$pid"
wait "$pid" && rc=0 || rc=$?
vs_check "the interrupted deploy exits 1" test "$rc" = 1
vs_check "it says it was interrupted" vs_contains "$(cat "$VS_TMP/int.err")" "deploy of 'web9' interrupted by SIGINT"
vs_check "no domain is left" vs_run 1 virsh -q domstate web9
vs_check "no disk is left" test ! -e "$guest/web9.qcow2"

# --- a full copy whose second step fails ----------------------------------------------------
printf '#!/bin/sh\n# step: ok\ntrue\n# step: broken\necho no such package >&2\nexit 3\n# step: never\ntrue\n' > "$VS_TMP/broken.sh"
vs_check "a failing deploy exits 1" vs_run 1 vs deploy demo --version 1.0 --base deploy-base --name web8 --clone full --script "$VS_TMP/broken.sh"
vs_check "it names the failed step" vs_contains "$err" "step 2 'broken' exited 3"
vs_check "it says the domain is left" vs_contains "$err" "domain 'web8' is left running for inspection"
vs_check "the report shows its stderr" vs_contains "$out" "no such package"
vs_check "the later step did not run" vs_lacks "$out" "'never': exit"
vs_check "web8 is left running" test "$(virsh -q domstate web8)" = running
vs_check "its disk is a full copy" vs_lacks "$(qemu-img info -U "$guest/web8.qcow2")" "backing file"
vs_check "web8 is removed" vs_run 0 virsh -q destroy web8
vs_check "web8 is undefined with its disk" vs_run 0 virsh -q undefine web8 --remove-all-storage
vs_done
