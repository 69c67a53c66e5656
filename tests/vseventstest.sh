#!/bin/bash
# virt-shadowd end to end on real services: it creates and starts the
# embedded PostgreSQL itself, migrates, records the lifecycle events of a
# private libvirtd, rides out that libvirtd's restart, and "virt-shadow
# events" and "doctor" see the result.
set -u
. "${VS_TEST_SRCDIR:-.}/tests/vstestlib.sh"
vs_setup
chmod 0711 "$VS_TMP"    # the embedded server runs as 'postgres' and must traverse it

lvdir=$VS_TMP/libvirtd
state=$VS_TMP/state
cfg=$VS_TMP/vs.conf
log=$VS_TMP/vsd.log
lv_pid=
daemon_pid=
pg_frozen=
stop_all() {
    [ -z "$pg_frozen" ] || kill -CONT $pg_frozen 2>/dev/null
    [ -z "$daemon_pid" ] || kill -9 "$daemon_pid" 2>/dev/null
    "$VS" --config "$cfg" db stop >/dev/null 2>&1
    [ -z "$lv_pid" ] || { kill "$lv_pid" 2>/dev/null; wait "$lv_pid" 2>/dev/null; }
}
vs_cleanup_hook=stop_all

start_libvirtd() {
    # the last one's URI would be read before the new one removes it
    rm -f "$lvdir/uri"
    "$VS_SRCDIR/tests/private-libvirtd" "$lvdir" >>"$VS_TMP/libvirtd.out" 2>&1 &
    lv_pid=$!
    vs_wait_for 30 test -s "$lvdir/uri" && uri=$(cat "$lvdir/uri") &&
        vs_wait_for 30 virsh -q -c "$uri" version >/dev/null 2>&1
}
logged() { grep -q -- "$1" "$log" 2>/dev/null; }
vs() { "$VS" --config "$cfg" "$@"; }
events_show() { vs events --json "$1" 2>/dev/null | grep -q "\"event\": \"$2\""; }

if ! start_libvirtd; then
    vs_fail "private libvirtd starts" "$(tail -5 "$lvdir/log/libvirtd.log" 2>/dev/null)"
    vs_done
    exit 1
fi
vs_ok "private libvirtd starts"
printf '[main]\nstate_dir = %s\n[libvirt]\nuri = %s\n[daemon]\nheartbeat_interval = 200ms\n[telemetry]\nmin_interval = 500ms\n[metrics]\nlisten =\n' \
    "$state" "$uri" > "$cfg"

"$VSD" --foreground --config "$cfg" --pid-file "$VS_TMP/vsd.pid" 2>"$log" &
daemon_pid=$!
vs_check "daemon creates, starts and migrates the embedded database" vs_wait_for 120 logged "database ready"
vs_check "the cluster lives in the state dir" test -d "$state/pg/data"
vs_check "the cluster is not world-readable" test "$(stat -c %a "$state/pg")" = 700
vs_check "daemon connects to the private libvirtd" vs_wait_for 30 logged "connected to libvirt"

xml="<domain type='qemu'><name>vs-events</name><memory>65536</memory><os><type arch='x86_64'>hvm</type></os></domain>"
printf '%s\n' "$xml" > "$VS_TMP/dom.xml"
vs_check "define a domain" virsh -q -c "$uri" define "$VS_TMP/dom.xml"
vs_check "the daemon records 'defined'" vs_wait_for 30 events_show vs-events defined
vs_check "doctor passes on a healthy setup" vs_run 0 vs doctor
vs_check "doctor flags the domain without an agent" vs_contains "$out" "no agent channel on: vs-events"

# libvirtd goes away and comes back: the daemon reconnects by itself and
# keeps recording.
kill "$lv_pid"; wait "$lv_pid" 2>/dev/null; lv_pid=
vs_check "daemon notices the lost connection" vs_wait_for 30 logged "lost the libvirt connection"
vs_check "private libvirtd restarts" start_libvirtd
vs_check "daemon reconnects" vs_wait_for 90 logged "reconnected to libvirt"
vs_check "undefine the domain" virsh -q -c "$uri" undefine vs-events
vs_check "events after the reconnect are recorded" vs_wait_for 30 events_show vs-events undefined
vs_check "events --json parses" vs_run 0 vs events --json vs-events
vs_check "events --json is JSON" vs_json "$out"
vs_check "events by name only show that domain" vs_lacks "$(vs events --json nosuch)" "vs-events"
vs_check "events table" vs_run 0 vs events --since 1h
vs_check "events table names the domain" vs_contains "$out" "vs-events"
vs_check "bad --limit is a usage error" vs_run 2 vs events --limit zero
vs_check "db status shows the migration applied" vs_run 0 vs db status
vs_check "db status lists 0001_init" vs_contains "$out" "0001_init"

kill -TERM "$daemon_pid"
wait "$daemon_pid" && rc=0 || rc=$?
daemon_pid=
vs_check "daemon stops cleanly" test "$rc" -eq 0
vs_check "a healthy database was never taken for lost" test "$(grep -c "database lost" "$log")" = 0
vs_check "db stop stops the embedded cluster" vs_run 0 vs db stop
vs_check "doctor fails with the database down" vs_run 1 vs doctor
vs_check "doctor says how to fix it" vs_contains "$out" "virt-shadow db start"
vs_check "db start brings it back" vs_run 0 vs db start
vs_check "the events survived" events_show vs-events undefined

# Telemetry without a database: samples go to the spool.  SIGKILL the
# daemon mid-spooling; the next daemon replays the spool into the database,
# nothing twice, at most the one torn record lost.
scrape() { python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"; }
metric() { scrape "$url" 2>/dev/null | awk -v m="$1" '$1 == m { print $2 }'; }
spooled_at_least() { v=$(metric virtshadow_spool_batches); [ -n "$v" ] && [ "${v%.*}" -ge "$1" ]; }
tel=$VS_TMP/telemetry.conf
printf '[main]\nstate_dir = %s\ndatabase = postgresql://127.0.0.1:1/x\n[libvirt]\nuri = test:///default\n[telemetry]\nmin_interval = 200ms\nmax_interval = 200ms\n[metrics]\nlisten = 127.0.0.1:0\n' \
    "$state" > "$tel"
log=$VS_TMP/vsd-spool.log
"$VSD" --foreground -v --config "$tel" --pid-file "$VS_TMP/vsd.pid" 2>"$log" &
daemon_pid=$!
vs_check "the daemon serves metrics" vs_wait_for 30 logged "serving Prometheus metrics"
url=$(sed -n 's/.*serving Prometheus metrics (url=\([^)]*\)).*/\1/p' "$log" | head -1)
vs_check "the daemon spools while the database is away" vs_wait_for 60 spooled_at_least 5
vs_check "metrics say the database is down" test "$(metric virtshadow_database_up)" = 0
vs_check "metrics carry the domain's latest sample" vs_contains "$(scrape "$url")" 'virtshadow_domain_sample_timestamp_seconds{domain="test",uuid="6695eb01-f6a4-8304-79aa-97f2502e193f"}'
spooled=$(metric virtshadow_samples_spooled_total)
kill -9 "$daemon_pid"; wait "$daemon_pid" 2>/dev/null; daemon_pid=
printf '[main]\nstate_dir = %s\n[libvirt]\nuri = test:///default\n[metrics]\nlisten =\n' "$state" > "$tel"
log=$VS_TMP/vsd-replay.log
"$VSD" --foreground -v --config "$tel" --pid-file "$VS_TMP/vsd.pid" 2>"$log" &
daemon_pid=$!
vs_check "the restarted daemon replays the spool" vs_wait_for 60 logged "spooled batch"
q() { psql -qAt -h "$state/pg/run" -U virtshadow -d virtshadow -c "$1"; }
stored=$(q "SELECT count(*) FROM samples WHERE domain_name = 'test'")
distinct=$(q "SELECT count(DISTINCT at) FROM samples WHERE domain_name = 'test'")
vs_check "no sample is stored twice" test "$stored" = "$distinct"
vs_check "every spooled sample but at most one arrived ($stored of ${spooled%.*})" test "$stored" -ge $(( ${spooled%.*} - 1 ))
vs_check "stats shows the samples" vs_run 0 vs stats test --since 1h --json
vs_check "stats --json parses" vs_json "$out"
vs_check "export writes CSV with a header" vs_run 0 vs export test --since 1h
vs_check "the CSV header names the columns" vs_contains "$out" "time,domain,interval_s,cpu_vcpus"
kill -TERM "$daemon_pid"; wait "$daemon_pid" 2>/dev/null; daemon_pid=

# A database that hangs (SIGSTOP) rather than dies: libpq blocks, but only
# the store thread waits.  The main loop keeps collecting (until the backlog
# is full, then skips, losing nothing) and serving metrics, and what was
# collected arrives once the database wakes up.
written_at_least() { v=$(metric virtshadow_samples_written_total); [ -n "$v" ] && [ "${v%.*}" -ge "$1" ]; }
printf '[main]\nstate_dir = %s\n[libvirt]\nuri = test:///default\n[telemetry]\nmin_interval = 200ms\nmax_interval = 200ms\n[metrics]\nlisten = 127.0.0.1:0\n' \
    "$state" > "$tel"
log=$VS_TMP/vsd-hang.log
"$VSD" --foreground -v --config "$tel" --pid-file "$VS_TMP/vsd.pid" 2>"$log" &
daemon_pid=$!
vs_check "the daemon serves metrics again" vs_wait_for 30 logged "serving Prometheus metrics"
url=$(sed -n 's/.*serving Prometheus metrics (url=\([^)]*\)).*/\1/p' "$log" | head -1)
vs_check "samples reach the database" vs_wait_for 30 written_at_least 3
postmaster=$(head -1 "$state/pg/data/postmaster.pid")
pg_frozen="$postmaster $(pgrep -d ' ' -P "$postmaster")"
kill -STOP $pg_frozen
vs_check "the daemon notices the backlog and skips collections" vs_wait_for 30 logged "the database is slow"
# the backlog means the store thread is stuck: nothing is written until CONT
written=$(metric virtshadow_samples_written_total)
cycles=$(metric virtshadow_cycles_total)
vs_check "metrics answer while the database hangs" test -n "$cycles"
vs_check "the hung database is not written to" test "$(metric virtshadow_samples_written_total)" = "$written"
kill -CONT $pg_frozen; pg_frozen=
vs_check "samples flow again after the database wakes up" vs_wait_for 60 written_at_least $(( ${written%.*} + 16 ))
kill -TERM "$daemon_pid"; wait "$daemon_pid" && rc=0 || rc=$?; daemon_pid=
vs_check "the daemon stops cleanly after the hang" test "$rc" -eq 0
stored=$(q "SELECT count(*) FROM samples WHERE domain_name = 'test'")
distinct=$(q "SELECT count(DISTINCT at) FROM samples WHERE domain_name = 'test'")
vs_check "still no sample stored twice" test "$stored" = "$distinct"

# A database a newer virt-shadow migrated is refused, by the CLI and the daemon.
vs_check "a newer migration is recorded" psql -q -h "$state/pg/run" -U virtshadow -d virtshadow -c \
    "INSERT INTO vs_schema_migrations (version, name, checksum) VALUES (9999, '9999_future', 'x')"
vs_check "db status exits 1 on a newer schema" vs_run 1 vs db status
vs_check "db status shows the unknown migration" vs_contains "$out" "unknown"
vs_check "the refusal says why" vs_contains "$err" "upgrade virt-shadow"
vs_check "db migrate refuses a newer schema" vs_run 1 vs db migrate
vs_check "the daemon refuses to start on it" vs_run 1 "$VSD" --foreground --config "$cfg" --pid-file "$VS_TMP/vsd.pid"
vs_check "the daemon says why" vs_contains "$err" "upgrade virt-shadow"
vs_done
