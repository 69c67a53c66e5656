#!/bin/bash
# Every command and option has a section or mention in the man pages, so
# --help and the manual cannot drift apart.
set -u
. "${VS_TEST_SRCDIR:-.}/tests/vstestlib.sh"
vs_setup

man1=$VS_SRCDIR/man/virt-shadow.1.rst
man8=$VS_SRCDIR/man/virt-shadowd.8.rst

# a section is a title line followed by an underline of the same length
has_section() {
    awk -v t="$1" 'prev == t && $0 ~ /^-+$/ && length($0) == length(t) { found = 1 } { prev = $0 } END { exit !found }' "$2"
}

commands=$("$VS" help --commands) || vs_fail "help --commands runs"
vs_check "help --commands lists commands" test -n "$commands"
while IFS= read -r cmd; do
    if has_section "$cmd" "$man1"; then vs_ok "man section for '$cmd'"; else vs_fail "man section for '$cmd'"; fi
    # shellcheck disable=SC2086
    for opt in $("$VS" help $cmd | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        if grep -q -- "\`\`$opt\`\`" "$man1"; then
            vs_ok "'$cmd' option $opt documented"
        else
            vs_fail "'$cmd' option $opt documented"
        fi
    done
done <<< "$commands"

for opt in $("$VSD" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    case $opt in --help|--help-all) continue ;; esac
    if grep -q -- "\`\`$opt\`\`" "$man8"; then vs_ok "virt-shadowd $opt documented"; else vs_fail "virt-shadowd $opt documented"; fi
done
vs_done
