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
# Two runs, each with its baseline from the same run: a process that only
# opens the same URI and makes one bulk stats call (virsh domstats with the
# groups and flags of the daemon's sampler, under GNU time).
#  - in-process, test:///PATH: the test driver's copy of the 10,000 domains
#    (about 80 MiB, most of the peak) lives in the daemon's address space;
#    virt-shadow's own share is the peak minus the baseline's peak.  It is
#    a lower bound: the test driver frees ~30 MiB of parsed XML after
#    loading, and the daemon's own allocations reuse that heap first.
#  - remote, test+unix:///PATH through a private libvirtd (as root, when
#    tests/private-libvirtd can run): the domains live in libvirtd and the
#    stats come over RPC, as with qemu:///system, so the daemon's peak is
#    its whole footprint.  The target is judged on it when this run
#    happens, else on the in-process share.
# libvirt's test driver reports only state.state and state.reason per
# domain, so its records are far smaller than QEMU's (~40 parameters each).
#
# Run from the build directory: bench/vsbenchrss.sh
# Environment: VS_BENCH_DOMAINS (default 10000), VS_TEST_BUILDDIR,
# VS_TEST_SRCDIR.
set -euo pipefail

domains=${VS_BENCH_DOMAINS:-10000}
target_mib=64
cycles=3                  # samples written >= cycles * domains
deadline_s=60             # for the daemon to get there, per run
builddir=${VS_TEST_BUILDDIR:-$(pwd)}
srcdir=${VS_TEST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
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
lv_pid=

stop_daemon() {
    [ -n "$daemon_pid" ] || return 0
    kill -TERM "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=
}

cleanup() {
    local rc=$?
    stop_daemon
    if [ -f "$cfg" ] && [ -d "$tmp/state/pg" ]; then
        "$vs" --config "$cfg" db stop >/dev/null 2>&1 || true
    fi
    if [ -n "$lv_pid" ]; then
        kill -TERM "$lv_pid" 2>/dev/null || true
        wait "$lv_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# metric NAME FILE: the value of an unlabelled sample, empty when absent
metric() { awk -v m="$1" '$1 == m { print $2; exit }' "$2"; }

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

# baseline URI: sets base_kib, the peak RSS of virsh opening URI and making
# one bulk stats call with the sampler's groups and flags (collectCounters)
baseline() {
    local got
    if ! /usr/bin/time -o "$tmp/base.time" -f '%M' \
            virsh -q -c "$1" domstats --state --cpu-total --balloon --vcpu --block \
            --interface --list-active --nowait --raw >"$tmp/base.out" 2>"$tmp/base.err"; then
        die "baseline: 'virsh -c $1 domstats' failed: $(tail -3 "$tmp/base.err")"
    fi
    got=$(grep -c "^Domain: " "$tmp/base.out" || true)
    [ "$got" -eq "$domains" ] ||
        die "baseline: virsh domstats returned $got domains, expected $domains"
    base_kib=$(tail -1 "$tmp/base.time")
}

# measure URI: run the daemon on URI until it tracks every domain and has
# written $cycles cycles' worth of samples, read its /proc status, stop it.
# Sets hwm_kib, rss_kib, tracked, written, cycle_s, cycles_total, ready_s,
# page_bytes and scrapes.
measure() {
    local url='' start status rc=0
    printf '[main]\nstate_dir = %s\nlog_level = info\n[libvirt]\nuri = %s\n[daemon]\npid_file = %s\n[telemetry]\nmin_interval = 1s\nmax_interval = 1s\n[metrics]\nlisten = 127.0.0.1:0\n' \
        "$tmp/state" "$1" "$tmp/vsd.pid" > "$cfg"
    "$vsd" --foreground --config "$cfg" 2>"$log" &
    daemon_pid=$!
    scrapes=0
    tracked=
    written=
    start=$SECONDS
    while :; do
        kill -0 "$daemon_pid" 2>/dev/null ||
            die "virt-shadowd exited during start-up; its log ends with:
$(tail -5 "$log")"
        [ $((SECONDS - start)) -lt "$deadline_s" ] ||
            die "virt-shadowd did not track $domains domains and write $((cycles * domains)) samples within ${deadline_s}s (url=${url:-none}, tracked=${tracked:-?}, written=${written:-?}); its log ends with:
$(tail -5 "$log")"
        [ -n "$url" ] ||
            url=$(sed -n 's/.*serving Prometheus metrics (url=\([^ )]*\).*/\1/p' "$log" | head -1)
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
    wait "$daemon_pid" || rc=$?
    daemon_pid=
    [ "$rc" -eq 0 ] || die "virt-shadowd exited $rc on SIGTERM; its log ends with:
$(tail -5 "$log")"
}

# report LABEL: the sanity line of the last measure
report() {
    echo "rss: $1: ${written%.*} samples written in ${cycles_total%.*} cycles, ready after ${ready_s}s;" \
         "last cycle $(awk -v s="$cycle_s" 'BEGIN { printf "%.3f", s }') s;" \
         "metrics page $(mib $((page_bytes / 1024))) MiB, scraped $scrapes times"
}

# --- in-process: test:///PATH ----------------------------------------------
uri=test://$node
baseline "$uri"
measure "$uri"
own_kib=$((hwm_kib - base_kib))
judged_kib=$own_kib
judged="virt-shadow's own share, in-process"
echo "rss: virt-shadowd with ${tracked%.*} domains tracked (test driver in-process):" \
     "peak $(mib "$hwm_kib") MiB, now $(mib "$rss_kib") MiB" \
     "(libvirt test driver alone: $(mib "$base_kib") MiB; virt-shadow's own: $(mib "$own_kib") MiB)"
report "in-process"

# --- remote: test+unix:///PATH through a private libvirtd -------------------
if [ "$(id -u)" = 0 ] && [ -x "$srcdir/tests/private-libvirtd" ] &&
   command -v libvirtd >/dev/null 2>&1 && command -v tini >/dev/null 2>&1; then
    sock=$tmp/libvirtd/sock/libvirt-sock
    "$srcdir/tests/private-libvirtd" "$tmp/libvirtd" >"$tmp/libvirtd.out" 2>&1 &
    lv_pid=$!
    start=$SECONDS
    until [ -S "$sock" ] && virsh -q -c "qemu:///system?socket=$sock" version >/dev/null 2>&1; do
        kill -0 "$lv_pid" 2>/dev/null ||
            die "the private libvirtd exited: $(tail -3 "$tmp/libvirtd.out")"
        [ $((SECONDS - start)) -lt 30 ] || die "the private libvirtd did not start within 30s"
        sleep 0.2
    done
    uri="test+unix://$node?socket=$sock"
    baseline "$uri"
    measure "$uri"
    judged_kib=$hwm_kib
    judged="the daemon's whole peak, remote"
    echo "rss: virt-shadowd with ${tracked%.*} domains tracked (test driver in a private libvirtd):" \
         "peak $(mib "$hwm_kib") MiB, now $(mib "$rss_kib") MiB" \
         "(virsh's one bulk call alone: $(mib "$base_kib") MiB; virt-shadow's own: $(mib $((hwm_kib - base_kib))) MiB)"
    report "remote"
else
    echo "rss: remote run skipped (needs root, libvirtd and tini); judging the in-process share"
fi

verdict=$(awk -v k="$judged_kib" -v t="$target_mib" 'BEGIN { print (k / 1024 < t) ? "met" : "NOT met" }')
echo "rss: target < $target_mib MiB ($judged: $(mib "$judged_kib") MiB): $verdict"
[ "$verdict" = met ]
