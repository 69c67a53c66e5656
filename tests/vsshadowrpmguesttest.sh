#!/bin/bash
# rpm package events end to end: the tiny guest built with the host's real
# rpm (build-guest --with-rpm, an empty database in /var/lib/rpm), a
# package built here with rpmbuild (an epoch, a file, every kind of
# Requires), staged and installed by a step with rpm -i.  The run must
# record the package at that step with the dependencies that name
# packages, the file it installed, nothing at the step that changes
# nothing (rpm's own query touches its database: not charged to a step),
# and agree with the offline comparison.  Needs rpm and rpmbuild
# (contrib/install-deps): fails without them.
#
# Only one guest runs at a time.
set -u
. "${VS_TEST_SRCDIR:-.}/tests/vstestlib.sh"
vs_setup

base=rpm-base
pool=$VS_TMP/pool

command -v rpm >/dev/null && command -v rpmbuild >/dev/null ||
    vs_die "rpm and rpmbuild are installed (contrib/install-deps)"

# --- the package --------------------------------------------------------------------
stage=$VS_TMP/stage
mkdir -p "$stage" "$VS_TMP/rpm"
cat > "$VS_TMP/rpm/demo.spec" <<'EOF'
Name: vs-demo
Version: 1.2
Release: 3
Epoch: 2
Summary: virt-shadow rpm test package
License: MIT
BuildArch: noarch
Requires: /bin/sh, vs-base >= 1.0, libc.so.6(GLIBC_2.2.5)(64bit), perl(Foo::Bar)
Requires: (vs-a or vs-b), vs-c
%description
A file and dependencies.
%install
mkdir -p %{buildroot}/opt/vs-demo
echo demo > %{buildroot}/opt/vs-demo/README
%files
/opt/vs-demo/README
EOF
rpmbuild -bb --quiet --define "_topdir $VS_TMP/rpm/top" --define "_rpmdir $VS_TMP/rpm/out" \
    "$VS_TMP/rpm/demo.spec" >"$VS_TMP/rpmbuild.out" 2>&1 ||
    vs_die "the test package builds" "$(tail -5 "$VS_TMP/rpmbuild.out")"
cp "$VS_TMP/rpm/out/noarch/vs-demo-1.2-3.noarch.rpm" "$stage/"
vs_ok "the test package builds"

# --- services and the base: the tiny guest with rpm, defined and shut off -------------
vs_e2e_start "[shadow]
pool = $pool"
vs_tiny_guest --with-rpm
vs_tiny_define "$base" "$guest/base.qcow2"

# --- the run ------------------------------------------------------------------------------
cat > "$VS_TMP/install.sh" <<'EOF'
#!/bin/sh
# step: install
# /bin/rpm is busybox's applet (a symlink the runner does not take for rpm)
/usr/bin/rpm -i --nodeps --noplugins "$VS_STAGE/vs-demo-1.2-3.noarch.rpm"
# step: nothing
sleep 1
EOF
vs_check "a shadow run installing an rpm succeeds" vs_run 0 vs shadow run --app rpmdemo --version 1.0 \
    --base "$base" --script "$VS_TMP/install.sh" --stage "$stage" --limits vcpus=1,memory=256M \
    --timeout 10m --json
run=$(vs_json_get "$out" 'd["run_id"]')
q() { psql_db "$1"; }
[ "$rc" = 0 ] || echo "# steps: $(q "SELECT string_agg(idx || ' ' || coalesce(exit_code::text, '-') || ' ' || coalesce(stdout, '') || ' ' || coalesce(stderr, ''), ' | ' ORDER BY idx) FROM shadow_steps WHERE run_id = '$run'")"
vs_check "step 1 installed vs-demo, its version with the epoch" \
    test "$(q "SELECT step_idx || ' ' || detail FROM shadow_events WHERE run_id = '$run' AND type = 'package-installed' AND path = 'vs-demo'")" = "1 2:1.2-3"
vs_check "only that package" test "$(q "SELECT count(*) FROM shadow_events WHERE run_id = '$run' AND type LIKE 'package-%'")" = 1
vs_check "its dependencies are the Requires naming packages" \
    test "$(q "SELECT string_agg(depends_on, ' ' ORDER BY depends_on) FROM shadow_dependencies WHERE run_id = '$run' AND step_idx = 1 AND package = 'vs-demo'")" = "vs-a|vs-b vs-base vs-c"
vs_check "step 1 created the package's file" test "$(q "SELECT count(*) FROM shadow_events WHERE run_id = '$run' AND step_idx = 1 AND type = 'file-created' AND path = '/opt/vs-demo/README'")" = 1
vs_check "the step that changes nothing has no event (rpm's query is not charged to it)" \
    test "$(q "SELECT count(*) FROM shadow_events WHERE run_id = '$run' AND step_idx = 2")" = 0
echo "# step 2 events: $(q "SELECT string_agg(type || ' ' || path, ', ') FROM shadow_events WHERE run_id = '$run' AND step_idx = 2")"
vs_check "the overlay was compared offline" test "$(vs_json_get "$out" 'd["offline_comparison"]["compared"]')" = True
vs_check "the offline comparison agrees with the guest" test "$(vs_json_get "$out" 'd["offline_comparison"]["disagreements"]')" = "[]"
vs_check "nothing of the shadow is left" test "$(virsh list --all --name | grep -c '^vs-shadow-' || true)$(find "$pool" -name 'vs-shadow-*' | wc -l)" = 00
vs_done
