#!/bin/bash
# hint, hint list, hint cancel, explain and plan against a real database
# (the embedded cluster), with decisions put in by psql at times relative
# to now; and the room virt-shadowd publishes for the other hosts.
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
psql_db() { psql -qAt -v ON_ERROR_STOP=1 -h "$dbstate/pg/run" -U virtshadow -d virtshadow -c "$1"; }
json_get() { printf '%s' "$1" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"; }
web1=11111111-2222-4333-8444-555555555555
lone=22222222-3333-4444-8555-666666666666
testuuid=6695eb01-f6a4-8304-79aa-97f2502e193f   # test:///default's domain

# Bad values are usage errors naming the value, before any database.
vs_check "--at in words exits 2" vs_run 2 vs hint web1 --vcpus 2 --at tomorrow --for 1m
vs_check "bad --at is named" vs_contains "$err" "invalid time 'tomorrow' for --at"
vs_check "bad --for exits 2" vs_run 2 vs hint web1 --vcpus 2 --at +1m --for 10x
vs_check "bad --for is named" vs_contains "$err" "'10x'"
vs_check "--for 0 exits 2" vs_run 2 vs hint web1 --vcpus 2 --at +1m --for 0
vs_check "bad --vcpus exits 2" vs_run 2 vs hint web1 --vcpus -1 --at +1m --for 1m
vs_check "bad --memory exits 2" vs_run 2 vs hint web1 --memory lots --at +1m --for 1m
vs_check "bad --memory is named" vs_contains "$err" "'lots'"
vs_check "a hint that is over exits 2" vs_run 2 vs hint web1 --vcpus 2 --at 2020-01-01T00:00:00Z --for 1h
vs_check "the hint that is over is named" vs_contains "$err" "hint from '2020-01-01T00:00:00Z' for '1h' is already over"
vs_check "a hint needs a demand" vs_run 2 vs hint web1 --at +1m --for 1m
vs_check "a hint needs --at" vs_run 2 vs hint web1 --vcpus 2 --for 1m
vs_check "bad hint ID exits 2" vs_run 2 vs hint cancel first
vs_check "bad --since exits 2" vs_run 2 vs explain web1 --since yesterday
vs_check "bad --since is named" vs_contains "$err" "'yesterday'"

vs_check "db migrate sets up the embedded database" vs_run 0 vs db migrate
vs_check "decisions go in" psql_db "
INSERT INTO decisions (at, host, domain_uuid, domain_name, resource, current, wanted, target,
                       forecast, upper, model, confidence, reactive, hinted, action, clause,
                       reason, outcome, error) VALUES
 (now() - interval '30 minutes', 'h1', '$web1', 'web1', 'cpu', 2, 3.4, 4, 2.6, 3.4, 'ewma', 0.92,
  false, false, 'grow', NULL, 'demand will pass 70% of 2 vCPUs within the lead', 'applied', NULL),
 (now() - interval '20 minutes', 'h1', '$web1', 'web1', 'memory', 2097152, 1048576, 1048576,
  900000, 950000, 'ar', 0.9, false, false, 'hold', 'cooldown-down',
  'the forecast fell but the down cooldown has not passed', 'skipped', NULL),
 (now() - interval '10 minutes', 'h1', '$web1', 'web1', 'cpu', 4, 6, 6, NULL, NULL, NULL, 0.2,
  true, true, 'grow', 'max-vcpus', 'use stayed above the threshold', 'failed',
  'guest agent not responding'),
 (now() - interval '3 days', 'h1', '$web1', 'web1', 'cpu', 4, 4, 4, NULL, NULL, NULL, 0.2,
  true, false, 'none', NULL, 'three days ago', 'skipped', NULL)"

# explain: plain words, time order, the clause and the error
vs_check "explain exits 0" vs_run 0 vs explain web1
vs_check "explain names the domain" vs_contains "$out" "domain 'web1'"
vs_check "explain tells a growth" vs_contains "$out" "cpu grew from 2 vCPUs to 4 vCPUs"
vs_check "explain gives the reason" vs_contains "$out" "why: demand will pass 70% of 2 vCPUs"
vs_check "explain tells a hold" vs_contains "$out" "memory held at 2 GiB instead of 1 GiB"
vs_check "explain gives the clause" vs_contains "$out" "bound by: cooldown-down"
vs_check "explain gives the failure" vs_contains "$out" "failed to grow from 4 vCPUs to 6 vCPUs: guest agent not responding"
vs_check "explain tells of the reactive rule" vs_contains "$out" "reactive thresholds decided"
vs_check "explain keeps to --since (24h)" vs_lacks "$out" "three days ago"
first=$(printf '%s\n' "$out" | grep -n "grew from 2" | cut -d: -f1)
last=$(printf '%s\n' "$out" | grep -n "failed to grow" | cut -d: -f1)
vs_check "explain is in time order" test "$first" -lt "$last"
vs_check "explain by UUID" vs_run 0 vs explain "$web1" --since 7d
vs_check "explain --since reaches back" vs_contains "$out" "three days ago"
vs_check "explain --json exits 0" vs_run 0 vs explain web1 --json
vs_check "explain --json parses" vs_json "$out"
vs_check "explain --json has the decisions" test "$(json_get "$out" 'len(d["decisions"])')" = 3
vs_check "explain --json has the outcome" test "$(json_get "$out" 'd["decisions"][2]["outcome"]')" = failed
vs_check "explain --json: unknown is null" test "$(json_get "$out" 'd["decisions"][2]["forecast"]')" = None
vs_check "explain with nothing recent" vs_run 0 vs explain web1 --since 1m
vs_check "explain says there is nothing" vs_contains "$out" "No decisions recorded for domain 'web1'"
vs_check "explain of an unknown domain exits 1" vs_run 1 vs explain nosuchvm
vs_check "the unknown domain is named" vs_contains "$err" "'nosuchvm'"

# hints: add, list, cancel
vs_check "hint by name exits 0" vs_run 0 vs hint web1 --vcpus 4 --memory 2G --at +5m --for 10m --reason "nightly batch"
vs_check "hint prints its ID" vs_contains "$out" "Hint 1 added: domain 'web1' needs 4 vCPUs, 2 GiB"
vs_check "hint -q prints the ID alone" vs_run 0 vs hint "$lone" --memory 512M --at 2099-01-01T10:00:00Z --for 1h -q
vs_check "the ID alone is 2" test "$out" = 2
vs_check "hint --json exits 0" vs_run 0 vs hint web1 --vcpus 2 --at now --for 1h --json
vs_check "hint --json parses" vs_json "$out"
vs_check "hint --json has the ID" test "$(json_get "$out" 'd["id"]')" = 3
vs_check "hint --json has no memory" test "$(json_get "$out" 'd["memory_kib"]')" = None
vs_check "hint goes to the table" test "$(psql_db "SELECT count(*) FROM hints WHERE domain_uuid = '$web1'")" = 2
vs_check "hint keeps the memory in KiB" test "$(psql_db "SELECT memory_kib FROM hints WHERE id = 1")" = 2097152
vs_check "hint list exits 0" vs_run 0 vs hint list
vs_check "hint list shows the reason" vs_contains "$out" "nightly batch"
vs_check "hint list shows the state" vs_contains "$out" "upcoming"
vs_check "hint list shows an active hint" vs_contains "$out" "active"
vs_check "hint list --json exits 0" vs_run 0 vs hint list --json
vs_check "hint list --json has all three" test "$(json_get "$out" 'len(d)')" = 3
vs_check "hint list DOMAIN" vs_run 0 vs hint list web1 --json
vs_check "hint list DOMAIN has its two" test "$(json_get "$out" '[h["id"] for h in d]')" = "[3, 1]"
vs_check "hint cancel exits 0" vs_run 0 vs hint cancel 1
vs_check "a cancelled hint is not listed" vs_run 0 vs hint list web1 --json
vs_check "only hint 3 is left" test "$(json_get "$out" '[h["id"] for h in d]')" = "[3]"
vs_check "hint list --all shows it" vs_run 0 vs hint list --all
vs_check "hint list --all says cancelled" vs_contains "$out" "cancelled"
vs_check "cancelling an unknown hint exits 1" vs_run 1 vs hint cancel 99
vs_check "the unknown hint is named" vs_contains "$err" "unknown hint '99'"
vs_check "explain of a domain with only hints" vs_run 0 vs explain "$lone"
vs_check "it says there is nothing" vs_contains "$out" "No decisions recorded"

# with a libvirt URI the domain is libvirt's
vs_check "hint through libvirt" vs_run 0 vs -c test:///default hint test --vcpus 1 --at +1m --for 1m --json
vs_check "libvirt gave the UUID" test "$(json_get "$out" 'd["uuid"]')" = "$testuuid"
vs_check "libvirt gave the name" test "$(json_get "$out" 'd["domain"]')" = test
vs_check "a domain libvirt lacks is looked up in the database" vs_run 0 vs -c test:///default explain web1

# plan: a dry run of the allocator on a running domain with a policy
plannode="test://$VS_SRCDIR/tests/vsallocdata/plan-node.xml"
vs_check "plan exits 0" vs_run 0 vs -c "$plannode" plan
vs_check "plan brings web back within its policy" vs_contains "$out" "shrink"
vs_check "and names the clause" vs_contains "$out" "[max-vcpus]"
vs_check "plan --json" vs_run 0 vs -c "$plannode" plan --json
vs_check "only the domain with a policy is planned" \
    test "$(json_get "$out" 'sorted({x["domain"] for x in d["decisions"]})')" = "['web']"
vs_check "both resources are decided" \
    test "$(json_get "$out" 'sorted(x["decision"]["resource"] for x in d["decisions"])')" = "['cpu', 'memory']"
vs_check "the vCPUs shrink to the policy's maximum" \
    test "$(json_get "$out" '[(x["decision"]["action"], x["decision"]["target"]) for x in d["decisions"] if x["decision"]["resource"] == "cpu"]')" = "[('shrink', 1)]"
vs_check "nothing was recorded" test "$(psql_db "SELECT count(*) FROM decisions WHERE domain_name = 'web'")" = 0

# plan on a full host: the rise is queued, with a migration target among
# the rooms other hosts' daemons published lately (never this host's own,
# never a stale one); plan reads them and publishes nothing
fullnode="test://$VS_SRCDIR/tests/vsallocdata/plan-full-node.xml"
grower=0b6a3c7e-5f1d-4b8e-9a61-2c3d4e5f6a21
me=$(uname -n)
vs_check "a trusted memory forecast goes in" psql_db "
INSERT INTO forecasts (domain_uuid, resource, at, domain_name, host, made_at, model, point,
                       lower90, upper90, lower99, upper99, allocation) VALUES
 ('$grower', 'memory', now() + interval '2 minutes', 'grower', '$me', now(), 'ar', 3000,
  2950, 3050, 2900, 3100, 3050);
INSERT INTO forecast_errors (domain_uuid, resource, domain_name, model, mae, mase, coverage90, n)
 VALUES ('$grower', 'memory', 'grower', 'ar', 20, 0.3, 0.9, 288)"
vs_check "plan with no other host exits 0" vs_run 0 vs -c "$fullnode" plan
vs_check "the rise is queued" vs_contains "$out" "queued"
vs_check "for the host's capacity" vs_contains "$out" "[host-capacity]"
vs_check "with no target when no other host is known" vs_lacks "$out" "migration suggested"
vs_check "other hosts publish their room" psql_db "
INSERT INTO hosts (name, heartbeat_at, room_vcpus, room_memory_kib, room_at) VALUES
 ('$me', now(), 64, 268435456, now()),
 ('roomy', now(), 16, 67108864, now()),
 ('cramped', now(), 16, 1048576, now()),
 ('gone', now() - interval '1 day', 64, 268435456, now() - interval '1 day')"
vs_check "plan exits 0" vs_run 0 vs -c "$fullnode" plan
vs_check "the queued rise names the host with room" vs_contains "$out" "migration suggested to roomy."
vs_check "plan --json exits 0" vs_run 0 vs -c "$fullnode" plan --json
vs_check "the JSON decision is queued" \
    test "$(json_get "$out" '[x["decision"]["action"] for x in d["decisions"] if x["decision"]["resource"] == "memory"]')" = "['queued']"
vs_check "the JSON reason names the target" \
    vs_contains "$(json_get "$out" '[x["decision"]["reason"] for x in d["decisions"] if x["decision"]["resource"] == "memory"][0]')" "migration suggested to roomy."
vs_check "plan publishes no room" \
    test "$(psql_db "SELECT count(*) FROM hosts WHERE room_at > now() - interval '1 minute' AND room_vcpus = 64")" = 1

# virt-shadowd publishes its host's room after every allocator run: at
# most the test driver's 8 CPUs x 4 and 16 GiB, less what the domains it
# has sampled hold
psql_db "UPDATE hosts SET room_at = NULL, room_vcpus = NULL, room_memory_kib = NULL WHERE name = '$me'"
printf '[main]\nstate_dir = %s\n[libvirt]\nuri = %s\n[allocator]\ninterval = 1s\n[metrics]\nlisten =\n' \
    "$dbstate" "$fullnode" > "$VS_TMP/vsd.conf"
"$VSD" --foreground --config "$VS_TMP/vsd.conf" --pid-file "$VS_TMP/vsd.pid" 2>"$VS_TMP/vsd.log" &
daemon_pid=$!
stop_all() { kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid"; stop_db; }
vs_cleanup_hook=stop_all
room() { psql_db "SELECT room_vcpus || ' ' || room_memory_kib || ' ' || room_at FROM hosts WHERE name = '$me' AND room_at > now() - interval '1 minute'"; }
has_room() { test -n "$(room)"; }
vs_check "virt-shadowd publishes this host's room" vs_wait_for 60 has_room
read -r room_vcpus room_kib first_at <<< "$(room)"
echo "# published: $room_vcpus vCPUs, $room_kib KiB"
vs_check "the CPU room is within the host's" \
    awk -v r="$room_vcpus" 'BEGIN { exit !(r != "" && r >= 0 && r <= 32) }'
vs_check "the memory room is within the host's" \
    awk -v r="$room_kib" 'BEGIN { exit !(r != "" && r >= 0 && r <= 16777216) }'
room_moved() { test "$(psql_db "SELECT room_at > '$first_at' FROM hosts WHERE name = '$me'")" = t; }
vs_check "and again after the next run" vs_wait_for 30 room_moved
vs_check "the other hosts' rooms are left alone" \
    test "$(psql_db "SELECT string_agg(name || '=' || room_vcpus, ',' ORDER BY name) FROM hosts WHERE name <> '$me'")" = "cramped=16,gone=64,roomy=16"
vs_check "virt-shadowd stops on SIGTERM" kill "$daemon_pid"
vs_check "and exits 0" wait "$daemon_pid"
vs_cleanup_hook=stop_db
vs_check "it could publish" vs_lacks "$(cat "$VS_TMP/vsd.log")" "cannot publish"
vs_check "and read the other hosts' rooms" vs_lacks "$(cat "$VS_TMP/vsd.log")" "no migration target"
vs_done
