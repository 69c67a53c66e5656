#!/bin/bash
# The command line contract: exit codes 0/1/2, usage errors that name the
# bad word, clear errors for bad config and unreachable services, --json.
set -u
. "${VS_TEST_SRCDIR:-.}/tests/vstestlib.sh"
vs_setup

# Never touch the host's config or state.
cfg=$VS_TMP/empty.conf
: > "$cfg"
vs() { "$VS" --config "$cfg" --state-dir "$VS_TMP/state" "$@"; }

vs_check "no command is a usage error" vs_run 2 "$VS"
vs_check "usage goes to stderr" vs_contains "$err" "Usage: virt-shadow"
vs_check "unknown command exits 2" vs_run 2 vs frobnicate
vs_check "unknown command is named" vs_contains "$err" "unknown command 'frobnicate'"
vs_check "unknown global option exits 2" vs_run 2 "$VS" --frob list
vs_check "unknown global option is named" vs_contains "$err" "unknown option '--frob'"
vs_check "unknown command option exits 2" vs_run 2 vs doctor --frob
vs_check "unknown command option is named" vs_contains "$err" "unknown option '--frob'"
vs_check "family without verb exits 2" vs_run 2 vs db
vs_check "family lists its verbs" vs_contains "$err" "migrate, status, start, stop"
vs_check "unknown verb exits 2" vs_run 2 vs db frob
vs_check "extra argument exits 2" vs_run 2 vs -c test:///default list extra
vs_check "extra argument is named" vs_contains "$err" "unexpected argument 'extra'"
vs_check "option missing its value exits 2" vs_run 2 "$VS" --config
vs_check "--version exits 0" vs_run 0 "$VS" --version
vs_check "--version prints the version" vs_contains "$out" "virt-shadow "
vs_check "version --json is JSON" vs_run 0 vs version --json
vs_check "version --json parses" vs_json "$out"

while IFS= read -r cmd; do
    # shellcheck disable=SC2086
    vs_check "'$cmd --help' exits 0" vs_run 0 vs $cmd --help
    vs_check "'$cmd --help' shows usage" vs_contains "$out" "Usage: virt-shadow $cmd"
done < <("$VS" help --commands)

# Config errors name the file and the key.
vs_check "missing named config exits 1" vs_run 1 "$VS" --config "$VS_TMP/nope.conf" version
vs_check "missing config is named" vs_contains "$err" "$VS_TMP/nope.conf"
printf '[main]\nbogus = 1\n' > "$VS_TMP/bad.conf"
vs_check "unknown config key exits 1" vs_run 1 "$VS" --config "$VS_TMP/bad.conf" version
vs_check "unknown config key is named" vs_contains "$err" "unknown key 'bogus' in group [main]"
printf '[main\n' > "$VS_TMP/broken.conf"
vs_check "malformed config exits 1" vs_run 1 "$VS" --config "$VS_TMP/broken.conf" version
vs_check "malformed config names the file" vs_contains "$err" "$VS_TMP/broken.conf"
printf '[libvirt]\ndomain_type = xen\n' > "$VS_TMP/badval.conf"
vs_check "bad config value exits 1" vs_run 1 "$VS" --config "$VS_TMP/badval.conf" version
vs_check "bad config value is named" vs_contains "$err" "invalid domain type 'xen'"

# libvirt: the test driver is real libvirt with a fixed in-memory host.
vs_check "list on test:/// exits 0" vs_run 0 vs -c test:///default list
vs_check "list shows the test domain" vs_contains "$out" "test"
vs_check "list --json exits 0" vs_run 0 vs -c test:///default list --json
vs_check "list --json parses" vs_json "$out"
vs_check "list --json has the domain" vs_contains "$out" '"name": "test"'
vs_check "URI from the config is used" vs_run 0 "$VS" --config <(printf '[libvirt]\nuri = test:///default\n') list
vs_check "URI from LIBVIRT_DEFAULT_URI is used" vs_run 0 env LIBVIRT_DEFAULT_URI=test:///default "$VS" --config "$cfg" list
vs_check "unreachable libvirt exits 1" vs_run 1 vs -c "qemu:///system?socket=$VS_TMP/none" list
vs_check "unreachable libvirt names the URI" vs_contains "$err" "$VS_TMP/none"
vs_check "one error line" test "$(printf '%s\n' "$err" | wc -l)" -eq 1

# policy: each process gets a fresh test:///default, so the set-then-show
# round trip and "keeps the previous policy" are in tests/vspolicyclitest.c.
vs_check "policy show exits 0" vs_run 0 vs -c test:///default policy show test --json
vs_check "policy show --json parses" vs_json "$out"
vs_check "a domain without a policy shows the defaults" vs_contains "$out" '"present": false'
vs_check "policy show text exits 0" vs_run 0 vs -c test:///default policy show test
vs_check "policy show marks defaults" vs_contains "$out" "tier:                    5 (default)"
vs_check "policy show gives units" vs_contains "$out" "memory floor:            128 MiB (131072 KiB) (default)"
vs_check "policy set exits 0" vs_run 0 vs -c test:///default policy set test --mode auto --max-vcpus 4 --min-memory 512M --memory-headroom 20% --lead 2m
vs_check "policy set says where it wrote" vs_contains "$out" "policy of domain 'test' set (live and config)"
vs_check "policy set warns that vCPUs cannot grow" vs_contains "$err" \
    "warning: domain 'test': vCPUs: <vcpu current='2'>2</vcpu> leaves no room to grow; fix: set <vcpu placement='static' current='2'>4</vcpu> (virsh edit test), then restart the domain"
vs_check "policy set says the allocator cannot grow it" vs_contains "$err" "the allocator cannot grow domain 'test'"
vs_check "an out-of-range value exits 1" vs_run 1 vs -c test:///default policy set test --tier 12
vs_check "with the schema's message" vs_contains "$err" "invalid virt-shadow metadata: Invalid attribute tier for element policy"
vs_check "min above max exits 1" vs_run 1 vs -c test:///default policy set test --min-vcpus 3 --max-vcpus 2
vs_check "min above max is named" vs_contains "$err" "policy min vCPUs 3 is above max vCPUs 2"
vs_check "a non-number exits 2" vs_run 2 vs -c test:///default policy set test --tier many
vs_check "the non-number is named" vs_contains "$err" "invalid value 'many' for --tier"
vs_check "a bad mode exits 2" vs_run 2 vs -c test:///default policy set test --mode sometimes
vs_check "a bad size exits 2" vs_run 2 vs -c test:///default policy set test --max-memory lots
vs_check "policy of an unknown domain exits 1" vs_run 1 vs -c test:///default policy show nosuch
vs_check "policy set needs a domain" vs_run 2 vs -c test:///default policy set

# Database: unreachable gives one line naming the host, never the password.
dburl=postgresql://vs:s3cret@127.0.0.1:1/x
vs_check "unreachable database exits 1" vs_run 1 env VIRT_SHADOW_DATABASE=$dburl "$VS" --config "$cfg" db status
vs_check "unreachable database names the host" vs_contains "$err" "127.0.0.1:1"
vs_check "no password in the error" vs_lacks "$err" "s3cret"
vs_check "one database error line" test "$(printf '%s\n' "$err" | wc -l)" -eq 1
vs_check "db start refuses an external database" vs_run 1 env VIRT_SHADOW_DATABASE=$dburl "$VS" --config "$cfg" db start
vs_check "db start says why" vs_contains "$err" "external"

# The embedded server runs as 'postgres' when we are root: a state dir it
# cannot reach is named, with the fix, before initdb fails obscurely.
if [ "$(id -u)" = 0 ]; then
    chmod 0700 "$VS_TMP"
    vs_check "unreachable state dir exits 1" vs_run 1 "$VS" --config "$cfg" --state-dir "$VS_TMP/closed" db migrate
    vs_check "unreachable state dir is explained" vs_contains "$err" "'$VS_TMP' is closed to it (chmod o+x"

    # The pg dir belongs to the server user, who must not be able to make
    # root chmod/chown something else through a symlink.
    open=$(mktemp -d /tmp/vstest-open.XXXXXX)
    chmod 0711 "$open"
    mkdir -m 0755 "$open/victim"
    mkdir -p "$open/state/pg"
    ln -s "$open/victim" "$open/state/pg/run"
    vs_check "a symlinked run dir is refused" vs_run 1 "$VS" --config "$cfg" --state-dir "$open/state" db start
    vs_check "the refusal names the link" vs_contains "$err" "'$open/state/pg/run': it is a symbolic link"
    vs_check "the link target is untouched" test "$(stat -c %a:%U "$open/victim")" = "755:root"
    rm -rf "$open"
fi

# doctor: fails (exit 1) on the unreachable database, and says how to fix it.
vs_check "doctor exits 1 when a check fails" vs_run 1 env VIRT_SHADOW_DATABASE=$dburl "$VS" --config "$cfg" -c test:///default doctor --json
vs_check "doctor --json parses" vs_json "$out"
vs_check "doctor reports libvirt ok" vs_contains "$out" '"name": "libvirt"'
vs_check "doctor reports the database failure" vs_contains "$out" '"status": "fail"'
vs_check "doctor hides the password" vs_lacks "$out" "s3cret"
vs_check "doctor text has fixes" vs_run 1 env VIRT_SHADOW_DATABASE=$dburl "$VS" --config "$cfg" -c test:///default doctor
vs_check "doctor text names the fix" vs_contains "$out" "fix:"
vs_check "doctor flags the test domain's missing agent" vs_contains "$out" "no agent channel on: test"

# forecast and anomalies on a real database: the embedded cluster, with rows
# put in by psql at times relative to now, so the default windows see them.
chmod 0711 "$VS_TMP"    # the embedded server runs as 'postgres' when we are root
dbstate=$VS_TMP/dbstate
dbvs() { "$VS" --config "$cfg" --state-dir "$dbstate" "$@"; }
stop_db() { dbvs db stop >/dev/null 2>&1; }
vs_cleanup_hook=stop_db
psql_db() { psql -qAt -v ON_ERROR_STOP=1 -h "$dbstate/pg/run" -U virtshadow -d virtshadow -c "$1"; }
# json_len JSON [KEY]: the length of the array (or of member KEY)
json_len() { printf '%s' "$1" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(len(d[sys.argv[1]] if len(sys.argv) > 1 else d))' "${@:2}"; }
# json_get JSON EXPR: a Python expression over the document d
json_get() { printf '%s' "$1" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"; }
web1=11111111-2222-4333-8444-555555555555
db1=66666666-7777-4888-9999-000000000000
slot="date_bin('5 minutes', now(), '2000-01-01 00:00:00+00')"
vs_check "db migrate sets up the embedded database" vs_run 0 dbvs db migrate
vs_check "forecast rows go in" psql_db "
INSERT INTO forecasts (domain_uuid, resource, at, domain_name, host, made_at, model,
                       point, lower90, upper90, lower99, upper99, actual) VALUES
 ('$web1', 'cpu', $slot - interval '10 minutes', 'web1', 'h1', now() - interval '15 minutes',
  'ewma', 1.25, 1.0, 1.5, 0.75, 1.75, 1.3),
 ('$web1', 'cpu', $slot + interval '5 minutes', 'web1', 'h1', now(), 'ewma', 1.5, NULL, NULL, NULL, NULL, NULL),
 ('$web1', 'memory', $slot - interval '10 minutes', 'web1', 'h1', now() - interval '15 minutes',
  'ar', 2048, 1900, 2200, 1800, 2300, 2100),
 ('$web1', 'cpu', $slot - interval '3 hours', 'web1', 'h1', now() - interval '3 hours',
  'ewma', 0.5, 0.25, 0.75, 0, 1, 0.5);
INSERT INTO forecast_errors (domain_uuid, resource, domain_name, model, mae, mase, coverage90, n)
 VALUES ('$web1', 'cpu', 'web1', 'ewma', 0.2, 0.8, 0.9, 288),
        ('$web1', 'memory', 'web1', 'ar', 96, NULL, 0.875, 12);
INSERT INTO anomalies (domain_uuid, domain_name, host, resource, at, value, lower99, upper99, model) VALUES
 ('$web1', 'web1', 'h1', 'cpu', now() - interval '1 hour', 3.5, 0.75, 1.75, 'ewma'),
 ('$web1', 'web1', 'h1', 'memory', now() - interval '2 hours', 4096, 1800, 2300, 'ar'),
 ('$db1', 'db1', 'h2', 'cpu', now() - interval '30 hours', 9, 1, 2, 'ewma');"

vs_check "forecast --json exits 0" vs_run 0 dbvs forecast web1 --json
vs_check "forecast --json parses" vs_json "$out"
vs_check "forecast --json names the domain" test "$(json_get "$out" 'd["domain"], d["uuid"]')" = "('web1', '$web1')"
vs_check "forecast keeps to --since (default 1h) and shows future slots" test "$(json_len "$out" forecasts)" = 3
vs_check "forecast --json has the values" test "$(json_get "$out" '[(f["resource"], f["unit"], f["point"], f["lower99"], f["actual"]) for f in d["forecasts"]][:2]')" = \
    "[('cpu', 'vcpus', 1.25, 0.75, 1.3), ('memory', 'mib', 2048, 1800, 2100)]"
vs_check "forecast --json: unknown is null" test "$(json_get "$out" '[d["forecasts"][2]["actual"], d["forecasts"][2]["upper90"]]')" = "[None, None]"
vs_check "forecast --json has the rolling errors" test "$(json_get "$out" '[(e["resource"], e["mae"], e["mase"], e["n"]) for e in d["errors"]]')" = \
    "[('cpu', 0.2, 0.8, 288), ('memory', 96, None, 12)]"
vs_check "forecast by UUID" vs_run 0 dbvs forecast "$web1" --json
vs_check "forecast by UUID finds the name" test "$(json_get "$out" 'd["domain"]')" = web1
vs_check "forecast --since reaches further back" vs_run 0 dbvs forecast web1 --since 4h --json
vs_check "forecast --since 4h has the older slot" test "$(json_len "$out" forecasts)" = 4
vs_check "forecast table exits 0" vs_run 0 dbvs forecast web1
vs_check "forecast table: CPU in vCPUs" vs_contains "$out" "CPU (vCPUs)"
vs_check "forecast table: intervals" vs_contains "$out" "1.25       1.00..1.50   0.75..1.75   1.30     ewma"
vs_check "forecast table: memory in MiB" vs_contains "$out" "2048       1900..2200   1800..2300   2100     ar"
vs_check "forecast table: rolling errors" vs_contains "$out" "0.20 vCPUs   0.80   90.0%"
vs_check "unknown domain exits 1" vs_run 1 dbvs forecast nosuch
vs_check "unknown domain is named" vs_contains "$err" "unknown domain 'nosuch'"
vs_check "bad --since exits 2" vs_run 2 dbvs forecast web1 --since soon
vs_check "bad --since is named" vs_contains "$err" "invalid duration 'soon'"

vs_check "anomalies --json exits 0" vs_run 0 dbvs anomalies --json
vs_check "anomalies --json parses" vs_json "$out"
vs_check "anomalies keep to the last 24h, newest first" test "$(json_get "$out" '[(a["domain"], a["resource"], a["value"]) for a in d]')" = \
    "[('web1', 'cpu', 3.5), ('web1', 'memory', 4096)]"
vs_check "anomalies --since 2d" vs_run 0 dbvs anomalies --since 2d --json
vs_check "anomalies --since 2d has all three" test "$(json_len "$out")" = 3
vs_check "anomalies --limit" vs_run 0 dbvs anomalies --since 2d --limit 1 --json
vs_check "anomalies --limit 1 has the newest" test "$(json_get "$out" '[a["resource"] for a in d]')" = "['cpu']"
vs_check "anomalies of one domain" vs_run 0 dbvs anomalies db1 --since 2d --json
vs_check "anomalies of one domain are its own" test "$(json_get "$out" '[(a["uuid"], a["host"]) for a in d]')" = "[('$db1', 'h2')]"
vs_check "a known domain without anomalies exits 0" vs_run 0 dbvs anomalies db1 --json
vs_check "and lists none" test "$(json_len "$out")" = 0
vs_check "anomalies table exits 0" vs_run 0 dbvs anomalies
vs_check "anomalies table shows value and range" vs_contains "$out" "3.50 vCPUs   0.75..1.75 vCPUs   ewma"
vs_check "anomalies table shows memory in MiB" vs_contains "$out" "4096 MiB     1800..2300 MiB     ar"
vs_check "anomalies of an unknown domain exit 1" vs_run 1 dbvs anomalies nosuch
vs_check "the unknown domain is named" vs_contains "$err" "unknown domain 'nosuch'"
vs_check "bad anomalies --since exits 2" vs_run 2 dbvs anomalies --since 1x
vs_check "bad --limit exits 2" vs_run 2 dbvs anomalies --limit 0

# backtest --domain replays stored 5-minute history: nine days of web1's
# rollups, a daily CPU pattern, with an hour missing.
vs_check "nine days of rollups go in" psql_db "
INSERT INTO samples_5m (bucket, domain_uuid, domain_name, n, cpu_avg, cpu_max, cpu_p95,
                        mem_used_avg, mem_used_max, mem_used_p95)
SELECT b, '$web1', 'web1', 1, c, c, c, 2097152, 2097152, 2097152
FROM (SELECT b, 1 + sin(extract(epoch FROM b) / 86400 * 2 * pi()) AS c
      FROM generate_series($slot - interval '9 days', $slot - interval '5 minutes',
                           interval '5 minutes') b
      WHERE b NOT BETWEEN $slot - interval '3 days' AND $slot - interval '3 days' + interval '1 hour') s"
vs_check "backtest --domain exits 0" vs_run 0 dbvs backtest --domain web1 --json
vs_check "backtest --domain replays CPU and memory" test "$(json_get "$out" '(d["series"], sorted({s["resource"] for s in d["per_series"]}), d["per_series"][0]["name"])')" = "(2, ['cpu', 'memory'], 'web1')"
vs_check "the daily pattern is found" test "$(json_get "$out" 'int(d["per_series"][0]["period_seconds"])')" = 86400
vs_check "backtest of a domain without history exits 1" vs_run 1 dbvs backtest --domain nosuch
vs_check "and names it" vs_contains "$err" "nosuch"
vs_check "--trace and --domain together is a usage error" vs_run 2 dbvs backtest --domain web1 --trace /dev/null
vs_done
