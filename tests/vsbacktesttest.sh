#!/bin/bash
# "virt-shadow backtest" end to end: a golden --json on a small fixture
# (tests/vsbacktestdata/make-fixture.awk), gzip and directories, the three
# formats, and bad input: skipped rows named by file and line, clear errors.
# VS_UPDATE_GOLDEN=1 rewrites the golden file instead of comparing.
set -u
. "${VS_TEST_SRCDIR:-.}/tests/vstestlib.sh"
vs_setup

data=$VS_SRCDIR/tests/vsbacktestdata
golden=$data/golden.json
fx=$VS_TMP/vm-7.csv
awk -f "$data/make-fixture.awk" > "$fx"
bt() { "$VS" backtest "$@"; }
# same_json A B: equal up to 1e-6 relative, so a compiler's rounding cannot
# fail the comparison but any real change does
same_json() {
    python3 - "$1" "$2" <<'PY'
import json, math, sys
def same(a, b, path="$"):
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            sys.exit(f"{path}: keys {sorted(a)} != {sorted(b)}")
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            sys.exit(f"{path}: {len(a)} items != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        if not (isinstance(a, (int, float)) and isinstance(b, (int, float)) and
                math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)):
            sys.exit(f"{path}: {a} != {b}")
    elif a != b:
        sys.exit(f"{path}: {a!r} != {b!r}")
same(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))
PY
}

vs_check "backtest --json on the fixture" vs_run 0 bt --json --trace "$fx"
printf '%s\n' "$out" > "$VS_TMP/got.json"
if [ -n "${VS_UPDATE_GOLDEN:-}" ]; then
    cp "$VS_TMP/got.json" "$golden"
fi
vs_check "the output matches the golden file" same_json "$golden" "$VS_TMP/got.json"
vs_check "the five bad rows are counted" test "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["skipped_rows"])' "$VS_TMP/got.json")" = 5
for line in "105: wrong column count" "206: NaN or infinite value" "307: time going backwards" \
            "408: duplicate timestamp" "509: negative value"; do
    vs_check "a warning names the file and line $line" vs_contains "$err" "$fx:$line"
done
vs_check "the table names every policy" vs_run 0 bt --trace "$fx"
for p in virt-shadow static reactive peak24h vpa; do
    vs_check "table row $p" vs_contains "$out" " $p "
done

gzip -c "$fx" > "$VS_TMP/vm-7.csv.gz"
vs_check "gzip input gives the same result" vs_run 0 bt --json --trace "$VS_TMP/vm-7.csv.gz"
printf '%s\n' "$out" > "$VS_TMP/gz.json"
vs_check "gzip output matches" same_json "$VS_TMP/got.json" "$VS_TMP/gz.json"

mkdir "$VS_TMP/dir"
cp "$VS_TMP/vm-7.csv.gz" "$VS_TMP/dir/"
head -100 "$fx" > "$VS_TMP/dir/short.csv"
vs_check "a directory is read" vs_run 0 bt --json --trace "$VS_TMP/dir"
vs_check "the short series is skipped" test "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["series"], d["skipped_series"])')" = "2 2"

awk -F';\t' 'NR > 3 && $2 > 0 { printf "%s,%.6f\n", $1, $4 / ($3 / $2) }' "$fx" > "$VS_TMP/cpu.csv"
vs_check "csv format" vs_run 0 bt --json --format csv --resource cpu --trace "$VS_TMP/cpu.csv"
vs_check "csv: one CPU series" test "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["series"], [p["resource"] for p in d["policies"]][0])')" = "1 cpu"
cut -d, -f2 "$VS_TMP/cpu.csv" > "$VS_TMP/cpu.txt"
vs_check "plain format" vs_run 0 bt --json --format plain --interval 300s --resource cpu --trace "$VS_TMP/cpu.txt"
vs_check "plain: one series" test "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["series"])')" = 1
vs_check "plain values as memory" vs_run 0 bt --json --format plain --resource memory --trace "$VS_TMP/cpu.txt"
vs_check "plain --resource memory: one memory series" test "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["series"], d["per_series"][0]["resource"])')" = "1 memory"

vs_check "an unknown format exits 1" vs_run 1 bt --format xls --trace "$fx"
vs_check "and names it" vs_contains "$err" "xls"
vs_check "an unreadable path exits 1" vs_run 1 bt --trace "$VS_TMP/nosuch.csv"
vs_check "and names it" vs_contains "$err" "$VS_TMP/nosuch.csv"
vs_check "no --trace or --domain is a usage error" vs_run 2 bt
vs_check "a bad --resource is a usage error" vs_run 2 bt --resource disk --trace "$fx"
vs_check "a bad --lead is a usage error" vs_run 2 bt --lead soon --trace "$fx"
vs_check "a lead off the grid is refused" vs_run 0 bt --lead 7m --trace "$fx"
vs_check "and the series is skipped with the reason" vs_contains "$out" "not a whole number"
vs_done
