# shellcheck shell=bash disable=SC2034
# vstestlib.sh: helpers for the shell tests (sourced, not run)
#
# Each test prints "ok N - what" or "not ok N - what" and exits 1 when any
# check failed.  Waiting is polling with a deadline, never a bare sleep.

VS_BUILDDIR=${VS_TEST_BUILDDIR:-$(pwd)}
VS_SRCDIR=${VS_TEST_SRCDIR:-$(pwd)}
VS=$VS_BUILDDIR/virt-shadow
VSD=$VS_BUILDDIR/virt-shadowd
vs_n=0
vs_failed=0

vs_ok() {
    vs_n=$((vs_n + 1))
    echo "ok $vs_n - $1"
}

vs_fail() {
    vs_n=$((vs_n + 1))
    vs_failed=$((vs_failed + 1))
    echo "not ok $vs_n - $1"
    [ -z "${2:-}" ] || printf '#   %s\n' "$2"
}

# vs_check DESCRIPTION COMMAND...: pass when the command succeeds
vs_check() {
    local what=$1
    shift
    if "$@"; then vs_ok "$what"; else vs_fail "$what"; fi
}

# vs_run EXPECTED_RC CMD...: run, keep stdout/stderr in $out/$err, check rc
vs_run() {
    local want=$1
    shift
    out=$("$@" 2>"$VS_TMP/stderr") && rc=0 || rc=$?
    err=$(cat "$VS_TMP/stderr")
    if [ "$rc" -eq "$want" ]; then
        return 0
    fi
    echo "#   '$*' exited $rc, expected $want; stderr: $err"
    return 1
}

vs_contains() { case "$1" in *"$2"*) return 0 ;; *) echo "#   '$2' not in: $1"; return 1 ;; esac; }
vs_lacks() { case "$1" in *"$2"*) echo "#   '$2' unexpectedly in: $1"; return 1 ;; *) return 0 ;; esac; }
vs_json() { printf '%s' "$1" | python3 -c 'import json,sys; json.load(sys.stdin)'; }

# vs_wait_for SECONDS COMMAND...: poll until the command succeeds
vs_wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

vs_setup() {
    VS_TMP=$(mktemp -d /tmp/vstest.XXXXXX)
    trap 'vs_cleanup' EXIT
    trap 'exit 143' TERM INT HUP    # so the EXIT trap cleans up
}

vs_cleanup() {
    [ -z "${vs_cleanup_hook:-}" ] || $vs_cleanup_hook
    rm -rf "$VS_TMP"
}

vs_done() {
    echo "1..$vs_n"
    echo "$((vs_n - vs_failed)) passed, $vs_failed failed"
    [ "$vs_failed" -eq 0 ]
}

# vs_die WHAT [DETAIL]: fail and end the test now
vs_die() { vs_fail "$1" "${2:-}"; vs_done; exit 1; }

# vs_json_get JSON EXPR: EXPR (Python, the document as d) evaluated and printed
vs_json_get() { printf '%s' "$1" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"; }

# --- end to end: a private libvirtd, the embedded database, the tiny guest ---

# vs_e2e_start [CONFIG]: start a private libvirtd and set the embedded
# database up through virt-shadow.  Sets $uri, $state and $cfg ([main]
# state_dir, [libvirt] uri, then CONFIG: more sections, as text) and
# defines virsh (on $uri), vs (with $cfg), vs_psql PSQL-ARGS... and
# psql_db SQL (its rows, unaligned) on the embedded database.  Both are
# stopped at exit, after $vs_e2e_stop_hook when the test sets one.  The
# test fails when either cannot start: a real service is never skipped.
vs_e2e_start() {
    chmod 0711 "$VS_TMP"    # the embedded server runs as 'postgres' when we are root
    state=$VS_TMP/state
    cfg=$VS_TMP/vs.conf
    vs_cleanup_hook=vs_e2e_stop
    "$VS_SRCDIR/tests/private-libvirtd" "$VS_TMP/libvirtd" >"$VS_TMP/libvirtd.out" 2>&1 &
    vs_libvirtd_pid=$!
    vs_wait_for 60 test -s "$VS_TMP/libvirtd/uri" ||
        vs_die "the private libvirtd starts" "$(cat "$VS_TMP/libvirtd.out")"
    uri=$(cat "$VS_TMP/libvirtd/uri")
    vs_wait_for 60 command virsh -c "$uri" -q version >/dev/null 2>&1 ||
        vs_die "the private libvirtd answers"
    vs_ok "a private libvirtd runs"
    virsh() { command virsh -c "$uri" "$@"; }
    vs() { "$VS" --config "$cfg" "$@"; }
    vs_psql() { psql -qAt -v ON_ERROR_STOP=1 -h "$state/pg/run" -U virtshadow -d virtshadow "$@"; }
    psql_db() { vs_psql -c "$1"; }
    printf '[main]\nstate_dir = %s\n[libvirt]\nuri = %s\n%s\n' "$state" "$uri" "${1:-}" > "$cfg"
    vs_check "the embedded database is set up" vs_run 0 vs db migrate
}

vs_e2e_stop() {
    [ -z "${vs_e2e_stop_hook:-}" ] || $vs_e2e_stop_hook
    [ -z "${vs_libvirtd_pid:-}" ] ||
        { kill -TERM "$vs_libvirtd_pid" 2>/dev/null; wait "$vs_libvirtd_pid" 2>/dev/null; }
    "$VS" --config "$cfg" db stop >/dev/null 2>&1
}

# vs_tiny_guest [BUILD-GUEST OPTION...]: build the tiny guest into
# $VS_TMP/guest (sets $guest): its kernel, initrd and base.qcow2.
vs_tiny_guest() {
    guest=$VS_TMP/guest
    "$VS_SRCDIR/contrib/guest/build-guest" "$@" "$guest" >"$VS_TMP/build.out" 2>&1 ||
        vs_die "the tiny guest builds" "$(tail -5 "$VS_TMP/build.out")"
}

# vs_tiny_define NAME DISK [MAX_KIB CURRENT_KIB MAX_VCPUS CURRENT_VCPUS]:
# define domain NAME (shut off) from the tiny guest's template on DISK;
# 256 MiB and one vCPU unless told.  Its console log is $guest/console.log.
vs_tiny_define() {
    sed -e "s|@NAME@|$1|" -e "s|@KERNEL@|$guest/vmlinux|" -e "s|@INITRD@|$guest/initrd.img|" \
        -e "s|@DISK@|$2|" -e "s|@CONSOLE_LOG@|$guest/console.log|" \
        -e "s|@MEMORY_KIB@|${3:-262144}|" -e "s|@CURRENT_MEMORY_KIB@|${4:-262144}|" \
        -e "s|@VCPUS@|${5:-1}|" -e "s|@CURRENT_VCPUS@|${6:-1}|" \
        "$VS_SRCDIR/contrib/guest/tiny-guest.xml.in" > "$guest/$1.xml"
    vs_check "domain '$1' is defined" vs_run 0 virsh -q define "$guest/$1.xml"
}
