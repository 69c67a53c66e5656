#!/bin/bash
# virt-shadowd lifecycle: pid file, SIGHUP reload (good and bad config),
# single instance, clean SIGTERM, detaching, and riding out an unreachable
# database.
set -u
. "${VS_TEST_SRCDIR:-.}/tests/vstestlib.sh"
vs_setup

cfg=$VS_TMP/vs.conf
pid=$VS_TMP/vsd.pid
log=$VS_TMP/vsd.log
# An unreachable database: the daemon must keep running and retry.
write_config() {
    printf '[main]\nstate_dir = %s\ndatabase = postgresql://vs:s3cret@127.0.0.1:1/x\nlog_level = %s\n[libvirt]\nuri = test:///default\n[daemon]\nheartbeat_interval = 200ms\n[metrics]\nlisten = 127.0.0.1:0\n' \
        "$VS_TMP/state" "$1" > "$cfg"
}
daemon_pid=
stop_daemon() { [ -z "$daemon_pid" ] || kill -9 "$daemon_pid" 2>/dev/null; }
vs_cleanup_hook=stop_daemon
logged() { grep -q -- "$1" "$log" 2>/dev/null; }

write_config info
vs_check "--check-config accepts the config" vs_run 0 "$VSD" --config "$cfg" --check-config
printf '[daemon]\nheartbeat_interval = soon\n' > "$VS_TMP/bad.conf"
vs_check "--check-config rejects a bad value" vs_run 1 "$VSD" --config "$VS_TMP/bad.conf" --check-config
vs_check "--check-config names the key" vs_contains "$err" "heartbeat_interval"
vs_check "unknown option exits 2" vs_run 2 "$VSD" --frob

"$VSD" --foreground --config "$cfg" --pid-file "$pid" 2>"$log" &
daemon_pid=$!
vs_check "pid file appears" vs_wait_for 20 test -s "$pid"
vs_check "pid file holds the daemon's pid" test "$(cat "$pid")" = "$daemon_pid"
vs_check "connects to libvirt" vs_wait_for 20 logged "connected to libvirt"
vs_check "reports the unreachable database" vs_wait_for 20 logged "127.0.0.1:1"
vs_check "never logs the password" vs_lacks "$(cat "$log")" "s3cret"
vs_check "keeps running without the database" kill -0 "$daemon_pid"
vs_check "says where it serves metrics" vs_wait_for 20 logged "serving Prometheus metrics (url=http://127.0.0.1:"

vs_check "second instance is refused" vs_run 1 "$VSD" --foreground --config "$cfg" --pid-file "$pid"
vs_check "second instance says why" vs_contains "$err" "already running"

printf '[main\n' > "$cfg"
kill -HUP "$daemon_pid"
vs_check "bad reload keeps the old config" vs_wait_for 20 logged "keeping the previous configuration"
vs_check "still running after a bad reload" kill -0 "$daemon_pid"
write_config debug
kill -HUP "$daemon_pid"
vs_check "good reload is applied" vs_wait_for 20 logged "configuration reloaded"

kill -TERM "$daemon_pid"
wait "$daemon_pid" && rc=0 || rc=$?
daemon_pid=
vs_check "SIGTERM exits 0" test "$rc" -eq 0
vs_check "pid file removed on exit" test ! -e "$pid"

# Detached: the starter returns once the daemon is up.
write_config info
printf '[main]\nstate_dir = %s\nlog_target = file:%s\ndatabase = postgresql://127.0.0.1:1/x\n[libvirt]\nuri = test:///default\n[metrics]\nlisten =\n' \
    "$VS_TMP/state" "$VS_TMP/detached.log" > "$cfg"
vs_check "detached start exits 0" vs_run 0 "$VSD" --config "$cfg" --pid-file "$pid"
vs_check "detached daemon wrote its pid" vs_wait_for 20 test -s "$pid"
daemon_pid=$(cat "$pid")
vs_check "detached daemon logs to its file" vs_wait_for 20 grep -q "connected to libvirt" "$VS_TMP/detached.log"
kill -TERM "$daemon_pid"
vs_check "detached daemon stops on SIGTERM" vs_wait_for 20 test ! -e "$pid"
daemon_pid=
vs_check "detached start fails loudly on a bad pid file" vs_run 1 "$VSD" --config "$cfg" --pid-file /nonexistent/dir/vsd.pid
vs_check "the failure names the pid file" vs_contains "$err" "/nonexistent/dir/vsd.pid"
vs_done
