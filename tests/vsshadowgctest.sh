#!/bin/bash
# "shadow gc" on libvirt's test driver: marked domains (running or only
# defined) go with their overlays, so does an overlay whose domain is gone;
# a domain without the mark and volumes not named like overlays stay.
# Every virt-shadow process gets a fresh copy of the fixture host, so what
# gc removed is checked by gc itself (it looks again afterwards and fails
# when anything is still there) and by what it reports.
set -u
. "${VS_TEST_SRCDIR:-.}/tests/vstestlib.sh"
vs_setup

cfg=$VS_TMP/gc.conf
printf '[shadow]\npool = vs-shadow-pool\n' > "$cfg"
uri="test://$VS_SRCDIR/tests/vsshadowgcdata/node.xml"
inuse="test://$VS_SRCDIR/tests/vsshadowgcdata/node-inuse.xml"
vs() { "$VS" --config "$cfg" --state-dir "$VS_TMP/state" "$@"; }
json_get() { printf '%s' "$1" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"; }
pool=/vs-shadow-pool

# --dry-run lists everything and removes nothing
vs_check "gc --dry-run exits 0" vs_run 0 vs -c "$uri" shadow gc --dry-run
vs_check "dry run names the running shadow" vs_contains "$out" "Would remove domain 'vs-shadow-r1' (run 'r1', running)"
vs_check "dry run names the defined shadow" vs_contains "$out" "Would remove domain 'vs-shadow-r2' (run 'r2')"
vs_check "dry run names its overlay" vs_contains "$out" "Would remove overlay '$pool/vs-shadow-r1-vda.qcow2'"
vs_check "dry run names the orphaned overlay" vs_contains "$out" "Would remove orphaned overlay '$pool/vs-shadow-r9-vda.qcow2'"
vs_check "dry run leaves the unmarked domain" vs_lacks "$out" "web1"
vs_check "dry run --json exits 0" vs_run 0 vs -c "$uri" shadow gc --dry-run --json
vs_check "dry run --json parses" vs_json "$out"
vs_check "dry run --json says so" test "$(json_get "$out" 'd["dry_run"]')" = True
vs_check "dry run removed no domain" test "$(json_get "$out" 'sum(x["removed"] for x in d["domains"])')" = 0
vs_check "dry run removed no volume" test "$(json_get "$out" 'sum(x["removed"] for x in d["volumes"])')" = 0
vs_check "dry run found both shadows" test "$(json_get "$out" 'sorted(x["name"] for x in d["domains"])')" = "['vs-shadow-r1', 'vs-shadow-r2']"

# the real thing: gc looks again afterwards, so exit 0 means they are gone
vs_check "gc --json exits 0" vs_run 0 vs -c "$uri" shadow gc --json
vs_check "gc --json parses" vs_json "$out"
vs_check "gc removed both shadows" test "$(json_get "$out" 'sorted(x["name"] for x in d["domains"] if x["removed"])')" = "['vs-shadow-r1', 'vs-shadow-r2']"
vs_check "gc destroyed the running one" test "$(json_get "$out" '[x["running"] for x in d["domains"] if x["name"] == "vs-shadow-r1"][0]')" = True
vs_check "gc removed their overlays" test "$(json_get "$out" 'sorted(o for x in d["domains"] for o in x["overlays"])')" = "['$pool/vs-shadow-r1-vda.qcow2', '$pool/vs-shadow-r2-vda.qcow2']"
vs_check "gc removed the orphaned overlay" test "$(json_get "$out" '[x["path"] for x in d["volumes"] if x["removed"]]')" = "['$pool/vs-shadow-r9-vda.qcow2']"
vs_check "gc left the unmarked domain and its disk" vs_lacks "$out" "web1"
vs_check "gc reports no failure" test "$(json_get "$out" 'd["failed"]')" = 0
vs_check "gc text exits 0" vs_run 0 vs -c "$uri" shadow gc
vs_check "gc text names the removed domain" vs_contains "$out" "Removed domain 'vs-shadow-r1' (run 'r1', running)"
vs_check "gc text names the removed overlay" vs_contains "$out" "Removed orphaned overlay '$pool/vs-shadow-r9-vda.qcow2'"
vs_check "gc -q still prints what it removed" vs_run 0 vs -c "$uri" shadow gc -q
vs_check "gc -q output" vs_contains "$out" "Removed domain"

# --run keeps to one run: not the other shadow, not another run's orphan
vs_check "gc --run r1 exits 0" vs_run 0 vs -c "$uri" shadow gc --run r1 --json
vs_check "gc --run r1 removed only r1" test "$(json_get "$out" '[x["name"] for x in d["domains"]]')" = "['vs-shadow-r1']"
vs_check "gc --run r1 left r9's overlay" test "$(json_get "$out" 'len(d["volumes"])')" = 0
vs_check "a bad --run exits 2" vs_run 2 vs -c "$uri" shadow gc --run ../x
vs_check "the bad run id is named" vs_contains "$err" "invalid run id '../x' for --run"

# a run in progress holds its lock (here: flock(1), as another process):
# gc leaves its domain and overlays alone and says so; once released, they go
locks=$VS_TMP/state/shadow-runs
mkdir -p -m 0700 "$locks"
# the process that holds the lock is the one killed (flock FILE CMD would
# leave CMD holding it)
hold='exec 9>"$1" && flock 9 && exec sleep 60'
sh -c "$hold" hold "$locks/r1.lock" & r1_pid=$!
sh -c "$hold" hold "$locks/r9.lock" & r9_pid=$!
vs_wait_for 10 sh -c "! flock -n '$locks/r1.lock' true && ! flock -n '$locks/r9.lock' true" || vs_fail "the locks are held"
vs_check "gc with runs in progress exits 0" vs_run 0 vs -c "$uri" shadow gc --json
vs_check "its JSON parses" vs_json "$out"
vs_check "gc left r1's domain, in progress" test "$(json_get "$out" '[(x["name"], x["in_progress"], x["removed"]) for x in d["domains"] if x["run_id"] == "r1"]')" = "[('vs-shadow-r1', True, False)]"
vs_check "gc still removed r2's domain" test "$(json_get "$out" '[(x["in_progress"], x["removed"]) for x in d["domains"] if x["run_id"] == "r2"]')" = "[(False, True)]"
vs_check "gc left r9's overlay, in progress" test "$(json_get "$out" '[(x["in_progress"], x["removed"]) for x in d["volumes"]]')" = "[(True, False)]"
vs_check "a run in progress is no failure" test "$(json_get "$out" 'd["failed"]')" = 0
vs_check "gc text with runs in progress exits 0" vs_run 0 vs -c "$uri" shadow gc
vs_check "gc text says r1's domain is in progress" vs_contains "$out" "Left domain 'vs-shadow-r1': its shadow run is in progress"
vs_check "gc text says r9's overlay is in progress" vs_contains "$out" "Left overlay '$pool/vs-shadow-r9-vda.qcow2': its shadow run is in progress"
vs_check "gc text does not remove r1's overlay" vs_lacks "$out" "Removed overlay '$pool/vs-shadow-r1-vda.qcow2'"
vs_check "the held lock files stay" test -e "$locks/r1.lock" -a -e "$locks/r9.lock"
kill "$r1_pid" "$r9_pid"; wait "$r1_pid" "$r9_pid" 2>/dev/null
vs_check "gc after the runs ended exits 0" vs_run 0 vs -c "$uri" shadow gc --json
vs_check "gc removed r1's domain now" test "$(json_get "$out" '[(x["in_progress"], x["removed"]) for x in d["domains"] if x["run_id"] == "r1"]')" = "[(False, True)]"
vs_check "gc removed r9's overlay now" test "$(json_get "$out" '[(x["in_progress"], x["removed"]) for x in d["volumes"]]')" = "[(False, True)]"
vs_check "gc removed the stale lock files" test ! -e "$locks/r1.lock" -a ! -e "$locks/r9.lock"

# what cannot be removed is named and exits 1; the rest still goes
vs_check "gc with an overlay in use exits 1" vs_run 1 vs -c "$inuse" shadow gc
vs_check "the overlay in use is named" vs_contains "$err" "overlay '$pool/vs-shadow-r7-vda.qcow2' is in use by running domain 'web1'"
vs_check "the count of failures is given" vs_contains "$err" "1 shadow leftover could not be removed"
vs_check "the other leftovers still went" vs_contains "$out" "Removed orphaned overlay '$pool/vs-shadow-r9-vda.qcow2'"
vs_check "gc --json with an overlay in use exits 1" vs_run 1 vs -c "$inuse" shadow gc --json
vs_check "its JSON parses" vs_json "$out"
vs_check "its JSON names the failure" test "$(json_get "$out" '[x["error"] for x in d["volumes"] if not x["removed"]][0]')" = "overlay '$pool/vs-shadow-r7-vda.qcow2' is in use by running domain 'web1'"

# a missing pool is an error naming it; an overlay directory never made is empty
printf '[shadow]\npool = nosuch\n' > "$VS_TMP/nopool.conf"
vs_check "gc with an unknown pool exits 1" vs_run 1 "$VS" --config "$VS_TMP/nopool.conf" -c "$uri" shadow gc
vs_check "the unknown pool is named" vs_contains "$err" "storage pool 'nosuch' not found"
printf '[shadow]\npool = %s/never-made\n' "$VS_TMP" > "$VS_TMP/nodir.conf"
vs_check "gc on test:///default exits 0" vs_run 0 "$VS" --config "$VS_TMP/nodir.conf" -c test:///default shadow gc
vs_check "gc says there is nothing" vs_contains "$out" "No shadow leftovers"
vs_done
