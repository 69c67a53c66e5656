#!/bin/bash
# profile show, diff and optimize against a real database (the embedded
# cluster), filled with shadow runs through the store API by
# tests/vsprofilefill (see it for the runs and their figures).
set -u
. "${VS_TEST_SRCDIR:-.}/tests/vstestlib.sh"
vs_setup

cfg=$VS_TMP/empty.conf
: > "$cfg"
chmod 0711 "$VS_TMP"    # the embedded server runs as 'postgres' when we are root
dbstate=$VS_TMP/dbstate
vs() { "$VS" --config "$cfg" --state-dir "$dbstate" "$@"; }
stop_db() { vs db stop >/dev/null 2>&1; }
vs_cleanup_hook=stop_db
json_get() { printf '%s' "$1" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"; }
fill=$VS_BUILDDIR/tests/vsprofilefill

# Bad usage is named before any database.
vs_check "--runs 0 exits 2" vs_run 2 vs profile show web --runs 0
vs_check "the bad --runs is named" vs_contains "$err" "invalid run count '0' for --runs"
vs_check "diff needs two versions" vs_run 2 vs profile diff web 1.0
vs_check "optimize needs -o" vs_run 2 vs profile optimize web
vs_check "the missing -o is named" vs_contains "$err" "needs -o FILE"
vs_check "--verify needs --base" vs_run 2 vs profile optimize web -o "$VS_TMP/x.sh" --verify
vs_check "the missing --base is named" vs_contains "$err" "--verify needs --base"
vs_check "--base needs --verify" vs_run 2 vs profile optimize web -o "$VS_TMP/x.sh" --base b
vs_check "bad --limits exits 2" vs_run 2 vs profile optimize web -o "$VS_TMP/x.sh" --verify --base b --limits cpu=500%
vs_check "the bad limit is named" vs_contains "$err" "cpu=500%"

vs_check "db migrate sets up the embedded database" vs_run 0 vs db migrate
vs_check "an unknown app exits 1" vs_run 1 vs profile show web
vs_check "the unknown app is named" vs_contains "$err" "app 'web' has no succeeded shadow run"
vs_check "runs go in through the store API" "$fill" "host=$dbstate/pg/run user=virtshadow dbname=virtshadow"

# show: the latest version by default, then 1.0 with its two succeeded runs
vs_check "show exits 0" vs_run 0 vs profile show web
vs_check "show picks the newest version" vs_contains "$out" "version '2.0'"
vs_check "show 1.0 exits 0" vs_run 0 vs profile show web --version 1.0
vs_check "show names its runs" vs_contains "$out" "from 2 succeeded runs (latest 'r1b')"
vs_check "show lists the files" vs_contains "$out" "step 1 'files': /opt/app/bin"
vs_check "show lists the services" vs_contains "$out" "step 2 'service': /etc/init.d/app (init script)"
vs_check "show lists the cron entry" vs_contains "$out" "step 2 'service': /etc/cron.d/app (cron entry)"
vs_check "show lists the dependencies" vs_contains "$out" "libfoo -> libc6"
vs_check "show gives the path" vs_contains "$out" "5. noop: 0 events"
vs_check "show counts a step's events" vs_contains "$out" "2. service: 5 events"
vs_check "show --json exits 0" vs_run 0 vs profile show web --version 1.0 --json
vs_check "show --json parses" vs_json "$out"
j=$out
vs_check "the failed run and the optimization check are left out" \
    test "$(json_get "$j" 'd["runs"]')" = "['r1b', 'r1a']"
vs_check "five steps" test "$(json_get "$j" 'len(d["steps"])')" = 5
vs_check "the highest CPU is the cpu step's" \
    test "$(json_get "$j" 'max(d["steps"], key=lambda s: s["cpu_peak"]["peak"])["name"]')" = cpu
vs_check "the highest memory is the mem step's" \
    test "$(json_get "$j" 'max(d["steps"], key=lambda s: s["memory_peak_kib"]["peak"])["name"]')" = mem
vs_check "the cpu peak aggregates mean, peak and spread" \
    test "$(json_get "$j" '[round(float(v), 3) for v in d["steps"][2]["cpu_peak"].values()]')" = "[1.0, 1.1, 0.2]"
vs_check "the files step's duration spreads over runs" \
    test "$(json_get "$j" '[float(d["steps"][0]["duration_s"][k]) for k in ("mean", "spread")]')" = "[3.0, 2.0]"
vs_check "the total duration is the steps' means" \
    test "$(json_get "$j" 'float(d["totals"]["duration_s"])')" = 10.0
vs_check "the total memory is the highest peak" \
    test "$(json_get "$j" 'float(d["totals"]["memory_peak_kib"])')" = 320000.0
vs_check "files created by step" \
    test "$(json_get "$j" '[(f["step"], f["path"]) for f in d["files_created"]][:2]')" = "[(1, '/opt/app'), (1, '/opt/app/bin')]"
vs_check "services created by step" \
    test "$(json_get "$j" 'sorted((s["step"], s["path"]) for s in d["services_created"])')" = "[(2, '/etc/cron.d/app'), (2, '/etc/init.d/app')]"
vs_check "the no-op step has no event" \
    test "$(json_get "$j" '[p["events"] for p in d["path"] if p["name"] == "noop"]')" = "[0]"
vs_check "the dependencies" \
    test "$(json_get "$j" 'd["dependencies"][0]["depends"]')" = "['libc6']"
vs_check "--runs 1 keeps the latest" vs_run 0 vs profile show web --version 1.0 --runs 1 --json
vs_check "one run" test "$(json_get "$out" 'd["runs"]')" = "['r1b']"
vs_check "an unknown version exits 1" vs_run 1 vs profile show web --version 9.9
vs_check "the unknown version is named" vs_contains "$err" "app 'web' version '9.9'"
vs_check "the versions that have a profile are named" vs_contains "$err" "(versions with one: '1.0', '2.0')"

# diff: resources, files, services and dependencies between 1.0 and 2.0
vs_check "diff exits 0" vs_run 0 vs profile diff web 1.0 2.0
vs_check "diff names both runs" vs_contains "$out" "version '1.0' (run 'r1b') -> version '2.0' (run 'r2a')"
vs_check "diff shows an added file" vs_contains "$out" "+ /opt/app/lib"
vs_check "diff shows a removed service" vs_contains "$out" "- /etc/cron.d/app"
vs_check "diff shows an added dependency" vs_contains "$out" "+ libfoo -> libssl3"
vs_check "diff shows the cpu step's time" vs_contains "$out" "3.0 s -> 5.0 s"
vs_check "diff --json exits 0" vs_run 0 vs profile diff web 1.0 2.0 --json
vs_check "diff --json parses" vs_json "$out"
j=$out
vs_check "the migrate step is added" \
    test "$(json_get "$j" '[s["change"] for s in d["steps"] if s["name"] == "migrate"]')" = "['added']"
vs_check "the noop step is removed" \
    test "$(json_get "$j" '[s["change"] for s in d["steps"] if s["name"] == "noop"]')" = "['removed']"
vs_check "the cpu step's peak changed" \
    test "$(json_get "$j" '[(s["from"]["cpu_peak"], s["to"]["cpu_peak"]) for s in d["steps"] if s["name"] == "cpu"]')" = "[(1.1, 1.5)]"
vs_check "files added" test "$(json_get "$j" 'd["files"]')" = "{'added': ['/opt/app/lib', '/var/lib/app', '/var/lib/app/db'], 'removed': ['/etc/cron.d/app']}"
vs_check "services removed" test "$(json_get "$j" 'd["services"]')" = "{'added': [], 'removed': ['/etc/cron.d/app']}"
vs_check "dependencies added" test "$(json_get "$j" 'd["dependencies"]')" = "{'added': ['libfoo -> libssl3'], 'removed': []}"
vs_check "the memory total went up" \
    test "$(json_get "$j" '(float(d["from_totals"]["memory_peak_kib"]), float(d["to_totals"]["memory_peak_kib"]))')" = "(320000.0, 350000.0)"
vs_check "diff with an unknown version exits 1" vs_run 1 vs profile diff web 1.0 7.0
vs_check "the unknown version is named" vs_contains "$err" "version '7.0'"

# optimize: the steps that changed nothing are dropped, the rest grouped
opt=$VS_TMP/web-1.0.sh
vs_check "optimize exits 0" vs_run 0 vs profile optimize web --version 1.0 -o "$opt"
vs_check "optimize names the run" vs_contains "$out" "of shadow run 'r1b'"
vs_check "optimize drops the no-op step" vs_contains "$out" "Dropped step 5 'noop'"
vs_check "the independent steps share a group" vs_contains "$out" "Group 1 (concurrent): 'files', 'service'"
vs_check "the script is written" test -s "$opt"
vs_check "it keeps the interpreter" test "$(head -n 1 "$opt")" = "#!/bin/sh"
vs_check "it keeps the files step" vs_contains "$(cat "$opt")" "# step: files"
vs_check "with its text" vs_contains "$(cat "$opt")" "echo app > /opt/app/bin"
vs_check "it keeps the service step" vs_contains "$(cat "$opt")" "# step: service"
vs_check "it has no no-op step" vs_lacks "$(cat "$opt")" "# step: noop"
vs_check "it marks the group" vs_contains "$(cat "$opt")" "# group: 1"
vs_check "optimize --json exits 0" vs_run 0 vs profile optimize web --version 1.0 -o "$opt" --json
vs_check "optimize --json parses" vs_json "$out"
vs_check "the dropped steps" \
    test "$(json_get "$out" '[s["name"] for s in d["dropped"]]')" = "['cpu', 'mem', 'noop']"
vs_check "the groups" test "$(json_get "$out" 'd["groups"]')" = "[['files', 'service']]"
vs_check "nothing verified" test "$(json_get "$out" 'd["verify"]')" = None
vs_check "2.0 keeps its migrate step" vs_run 0 vs profile optimize web --version 2.0 -o "$opt"
vs_check "migrate is in the script" vs_contains "$(cat "$opt")" "# step: migrate"
vs_check "an unwritable output exits 1" vs_run 1 vs profile optimize web -o "$VS_TMP/no/such/dir/x.sh"
vs_check "the output is named" vs_contains "$err" "'$VS_TMP/no/such/dir/x.sh'"
# --verify reaches the runner, which refuses a base that does not exist:
# nothing is run, nothing stored, and the script is still written
psql_db() { psql -qAt -v ON_ERROR_STOP=1 -h "$dbstate/pg/run" -U virtshadow -d virtshadow -c "$1"; }
rm -f "$opt"
vs_check "--verify on an unknown base exits 1" vs_run 1 vs -c test:///default profile optimize web --version 1.0 -o "$opt" --verify --base nosuchbase
vs_check "the unknown base is named" vs_contains "$err" "'nosuchbase'"
vs_check "the optimized script is written first" test -s "$opt"
vs_check "no verifying run is stored" test "$(psql_db "SELECT count(*) FROM shadow_runs WHERE optimized_from = 'r1b'")" = 1
vs_check "no optimization is stored" test "$(psql_db "SELECT count(*) FROM shadow_optimizations")" = 0
vs_check "optimize of an unknown app exits 1" vs_run 1 vs profile optimize nosuch -o "$opt"
vs_check "the unknown app is named" vs_contains "$err" "app 'nosuch'"

vs_done
