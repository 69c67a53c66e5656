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
