#!/bin/bash
# vsbenchbacktest.sh: the 150-VM Bitbrains backtest, every policy, both
# resources, timed; virt-shadow's medians against VPA's (the goals of the
# forecasting issue: under-provisioning <= VPA's, slack <= 0.85 x VPA's),
# and its 90 % interval coverage; then, where numpy is installed, the
# clairvoyant reference of bench/vsbenchbound.py.  VS_TRACES overrides the
# trace directory.
set -eu
src=${VS_TEST_SRCDIR:-.}
build=${VS_TEST_BUILDDIR:-.}
traces=${VS_TRACES:-$src/../shared/traces/bitbrains-rnd/2013-8}
if [ ! -d "$traces" ]; then
    echo "vsbenchbacktest: no traces at '$traces' (set VS_TRACES)" >&2
    exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s.%N)
"$build/virt-shadow" backtest --json --trace "$traces" > "$out" 2>/dev/null
end=$(date +%s.%N)
python3 - "$out" "$start" "$end" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
secs = float(sys.argv[3]) - float(sys.argv[2])
print(f"backtest: {d['series']} series replayed ({d['skipped_series']} skipped) in {secs:.1f} s"
      f" (target < 15 s: {'met' if secs < 15 else 'NOT met'})")
pol = {(p["name"], p["resource"]): p for p in d["policies"]}
print(f"  {'policy':<12} {'resource':<8} {'slack':>7} {'p90':>7} {'under':>7} {'p90':>7} {'MASE':>6} {'cover90':>8} {'resizes/d':>9}")
for p in d["policies"]:
    f = lambda v, pct=True: "-" if v is None else (f"{v * 100:.1f}%" if pct else f"{v:.2f}")
    print(f"  {p['name']:<12} {p['resource']:<8} {f(p['median_slack']):>7} {f(p['p90_slack']):>7}"
          f" {f(p['median_underprovision']):>7} {f(p['p90_underprovision']):>7}"
          f" {f(p['median_mase'], False):>6} {f(p['coverage90']):>8} {f(p['resizes_per_day'], False):>9}")
for r in ("cpu", "memory"):
    vs, vpa = pol[("virt-shadow", r)], pol[("vpa", r)]
    under_ok = vs["median_underprovision"] <= vpa["median_underprovision"]
    ratio = vs["median_slack"] / vpa["median_slack"]
    cov = vs["coverage90"]
    print(f"{r}: virt-shadow/vpa slack ratio {ratio:.2f} (goal <= 0.85: {'met' if ratio <= 0.85 else 'NOT met'}),"
          f" under-provisioning {vs['median_underprovision'] * 100:.2f}% vs {vpa['median_underprovision'] * 100:.2f}%"
          f" ({'met' if under_ok else 'NOT met'}), coverage90 {cov:.3f}"
          f" (goal 0.85..0.95: {'met' if 0.85 <= cov <= 0.95 else 'NOT met'})")
PY
vpa=$(python3 - "$out" <<'PY'
import json, sys
pol = {(p["name"], p["resource"]): p for p in json.load(open(sys.argv[1]))["policies"]}
print(" ".join(str(pol[("vpa", r)][k]) for r in ("cpu", "memory")
               for k in ("median_slack", "median_underprovision")))
PY
)
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    # shellcheck disable=SC2086 # four numbers
    /usr/bin/python3 "$src/bench/vsbenchbound.py" "$traces" $vpa
else
    echo "vsbenchbound: skipped, /usr/bin/python3 has no numpy (Debian package 'python3-numpy')"
fi
