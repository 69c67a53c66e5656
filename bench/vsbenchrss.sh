#!/bin/bash
# vsbenchrss.sh: peak RSS of virt-shadowd with 10,000 domains tracked
#
# "Peak RSS of the daemon with 10,000 domains tracked: target < 64 MiB."
# The daemon runs in the foreground on libvirt's test driver, loaded with a
# generated node of 10,000 running domains, and writes its samples into the
# embedded PostgreSQL cluster (created in a temporary state_dir).  Once its
# metrics endpoint shows every domain tracked and a few cycles' worth of
# samples written, VmHWM and VmRSS are read from /proc/PID/status.
#
# test:/// is opened in-process, so the test driver's own copy of the
# 10,000 domains lives in the daemon's address space; with qemu:///system
# it would live in libvirtd.  The baseline, in the same run, is a process
# that only opens the same URI and makes one bulk stats call (virsh
# domstats with the groups and flags the daemon uses, under GNU time);
# virt-shadow's own share is the difference, and that is what the target
# is judged on.
#
# Run from the build directory: bench/vsbenchrss.sh
# Environment: VS_BENCH_DOMAINS (default 10000), VS_TEST_BUILDDIR.
set -euo pipefail

domains=${VS_BENCH_DOMAINS:-10000}
target_mib=64
cycles=3                  # samples written >= cycles * domains
deadline_s=90             # for the daemon to get there
builddir=${VS_TEST_BUILDDIR:-$(pwd)}
vs=$builddir/virt-shadow
vsd=$builddir/virt-shadowd

die() {
    echo "vsbenchrss: $*" >&2
    exit 1
}

{ [ -x "$vsd" ] && [ -x "$vs" ]; } ||
    die "no ./virt-shadowd or ./virt-shadow here: run from the build directory after make"
for tool in curl virsh awk; do
    command -v "$tool" >/dev/null 2>&1 || die "missing $tool (Debian packages: curl, libvirt-clients, gawk)"
done
[ -x /usr/bin/time ] || die "missing /usr/bin/time (Debian package: time)"

tmp=$(mktemp -d /tmp/vsbenchrss.XXXXXX)
# The embedded server runs as the 'postgres' user when we are root: it must
# traverse the directory to reach its data and socket.
[ "$(id -u)" != 0 ] || chmod 0711 "$tmp"
cfg=$tmp/vs.conf
log=$tmp/vsd.log
node=$tmp/node.xml
daemon_pid=

cleanup() {
    local rc=$?
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$daemon_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
    if [ -f "$cfg" ] && [ -d "$tmp/state/pg" ]; then
        "$vs" --config "$cfg" db stop >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the node: $domains running test domains, unique names and UUIDs -----
awk -v n="$domains" 'BEGIN {
    print "<?xml version=\"1.0\"?>"
    print "<node>"
    print "  <cpu><mhz>2400</mhz><model>i686</model><active>64</active><nodes>1</nodes>" \
          "<sockets>1</sockets><cores>32</cores><threads>2</threads></cpu>"
    print "  <memory>1073741824</memory>"
    for (i = 1; i <= n; i++)
        printf "  <domain type=\"test\" xmlns:test=\"http://libvirt.org/schemas/domain/test/1.0\">" \
               "<name>bench%05d</name><uuid>6b656e63-6800-4000-8000-%012d</uuid>" \
               "<memory unit=\"KiB\">65536</memory><vcpu>1</vcpu>" \
               "<os><type arch=\"i686\">hvm</type></os>" \
               "<test:runstate>1</test:runstate></domain>\n", i, i
    print "</node>"
}' > "$node"
uri=test://$node

# --- the baseline: libvirt's test driver alone, one bulk stats call ------
# The same groups and flags as the daemon's sampler (collectCounters).
if ! /usr/bin/time -o "$tmp/base.time" -f '%M' \
        virsh -q -c "$uri" domstats --state --cpu-total --balloon --vcpu --block \
        --interface --list-active --nowait --raw >"$tmp/base.out" 2>"$tmp/base.err"; then
    die "baseline: 'virsh -c $uri domstats' failed: $(tail -3 "$tmp/base.err")"
fi
base_kib=$(cat "$tmp/base.time")
base_domains=$(grep -c "^Domain: " "$tmp/base.out" || true)
[ "$base_domains" -eq "$domains" ] ||
    die "baseline: virsh domstats returned $base_domains domains, expected $domains"

# --- the daemon ------------------------------------------------------------
cat > "$cfg" <<EOF
[main]
state_dir = $tmp/state
log_level = info
[libvirt]
uri = $uri
[daemon]
pid_file = $tmp/vsd.pid
[telemetry]
min_interval = 1s
max_interval = 1s
[metrics]
listen = 127.0.0.1:0
EOF

"$vsd" --foreground --config "$cfg" 2>"$log" &
daemon_pid=$!

# metric NAME FILE: the value of an unlabelled sample, empty when absent
metric() { awk -v m="$1" '$1 == m { print $2; exit }' "$2"; }

url=
scrapes=0
start=$SECONDS
while :; do
    kill -0 "$daemon_pid" 2>/dev/null ||
        die "virt-shadowd exited during start-up; its log ends with:
$(tail -5 "$log")"
    [ $((SECONDS - start)) -lt "$deadline_s" ] ||
        die "virt-shadowd did not track $domains domains and write $((cycles * domains)) samples within ${deadline_s}s (url=${url:-none}); its log ends with:
$(tail -5 "$log")"
    if [ -z "$url" ]; then
        url=$(sed -n 's/.*serving Prometheus metrics (url=\([^ )]*\).*/\1/p' "$log" | head -1)
    fi
    if [ -n "$url" ] && curl -sf --max-time 20 -o "$tmp/metrics" "$url"; then
        scrapes=$((scrapes + 1))
        tracked=$(metric virtshadow_domains_tracked "$tmp/metrics")
        written=$(metric virtshadow_samples_written_total "$tmp/metrics")
        if [ "${tracked%.*}" -ge "$domains" ] 2>/dev/null &&
           [ "${written%.*}" -ge $((cycles * domains)) ] 2>/dev/null; then
            break
        fi
    fi
    sleep 0.5
done
ready_s=$((SECONDS - start))

status=$(cat "/proc/$daemon_pid/status")
hwm_kib=$(awk '$1 == "VmHWM:" { print $2 }' <<<"$status")
rss_kib=$(awk '$1 == "VmRSS:" { print $2 }' <<<"$status")
cycle_s=$(metric virtshadow_cycle_seconds "$tmp/metrics")
cycles_total=$(metric virtshadow_cycles_total "$tmp/metrics")
page_bytes=$(wc -c <"$tmp/metrics")

kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=
[ "$rc" -eq 0 ] || die "virt-shadowd exited $rc on SIGTERM; its log ends with:
$(tail -5 "$log")"

# --- the figures -----------------------------------------------------------
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
own_kib=$((hwm_kib - base_kib))
verdict=$(awk -v o="$own_kib" -v t="$target_mib" 'BEGIN { print (o / 1024 < t) ? "met" : "NOT met" }')
echo "rss: virt-shadowd with $tracked domains tracked: peak $(mib "$hwm_kib") MiB," \
     "now $(mib "$rss_kib") MiB (libvirt test driver alone: $(mib "$base_kib") MiB;" \
     "virt-shadow's own: $(mib "$own_kib") MiB); target < $target_mib MiB: $verdict"
echo "rss: ${written%.*} samples written in ${cycles_total%.*} cycles, ready after ${ready_s}s;" \
     "last cycle $(awk -v s="$cycle_s" 'BEGIN { printf "%.3f", s }') s;" \
     "metrics page $(mib $((page_bytes / 1024))) MiB, scraped $scrapes times"
[ "$verdict" = met ]
