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
vs_done
