#!/usr/bin/python3
"""vsbenchbound.py: how low can slack go at VPA's under-provisioning?

A clairvoyant reference for the forecasting goal ("median slack <= 0.85 x
VPA's at no more under-provisioning"): for each VM it knows every future
day's values exactly, but not their order within the day, so it sets one
allocation per day.  It may leave its VM short in the same share of slots
as VPA's median, and spends those misses where they save the most.  No
causal policy that sizes per day can do better; only one that knows when,
within a day, use will rise can.

Usage: vsbenchbound.py TRACEDIR CPU_SLACK CPU_UNDER MEM_SLACK MEM_UNDER
(VPA's median slack and under-provisioning, as fractions, from the
backtest).  The grid follows the backtest's rules: 5-minute means,
forward-filled gaps up to 2 h, VMs with 8 days or more, scored after 7.
"""
import gzip
import heapq
import os
import sys

import numpy as np

SLOT, DAY, TRAIN, MIN_SLOTS, FILL = 300, 288, 2016, 2304, 24


def grid(path):
    rows = []
    with gzip.open(path, "rt") if path.endswith(".gz") else open(path) as f:
        next(f, None)
        for line in f:
            p = line.split(";")
            try:
                ts, cores, cap, mhz, mem = (float(p[i]) for i in (0, 1, 2, 3, 6))
            except (ValueError, IndexError):
                continue
            if cores > 0 and cap > 0:
                rows.append((ts, mhz / (cap / cores), mem / 1024))
    if not rows:
        return None
    a = np.array(sorted(rows, key=lambda r: r[0]))
    idx = (a[:, 0] // SLOT).astype(np.int64)
    idx -= idx[0]
    n = idx[-1] + 1
    if n < MIN_SLOTS:
        return None
    cnt = np.bincount(idx, minlength=n)
    out, scored = [], np.ones(n, bool)
    for col in (1, 2):
        v = np.bincount(idx, a[:, col], n) / np.maximum(cnt, 1)
        last, gap = 0, 0
        for j in range(n):
            if cnt[j]:
                last, gap = j, 0
            else:
                gap += 1
                v[j] = v[last]
                scored[j] &= gap <= FILL
        out.append(v)
    return [v[TRAIN:][scored[TRAIN:]] for v in out]


def clairvoyant_slack(x, under):
    """Slack of one allocation per day, knowing each day's values, with
    floor(under * slots) misses spent where they lower it most."""
    days = [np.sort(x[d:d + DAY])[::-1] for d in range(0, len(x), DAY)]
    pos = [0] * len(days)
    heap = [(-(d[0] - d[1]) * len(d), i) for i, d in enumerate(days) if len(d) > 1]
    heapq.heapify(heap)
    for _ in range(int(under * len(x))):
        if not heap:
            break
        _, i = heapq.heappop(heap)
        pos[i] += 1
        d, p = days[i], pos[i]
        if p + 1 < len(d):
            heapq.heappush(heap, (-(d[p] - d[p + 1]) * len(d), i))
    alloc = sum(d[pos[i]] * len(d) for i, d in enumerate(days))
    spare = sum(np.maximum(d[pos[i]] - d, 0).sum() for i, d in enumerate(days))
    return spare / alloc if alloc > 0 else np.nan


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__.split("\n\n")[2])
    tdir = sys.argv[1]
    vpa = {"cpu": tuple(map(float, sys.argv[2:4])), "memory": tuple(map(float, sys.argv[4:6]))}
    vms = [g for f in sorted(os.listdir(tdir)) if (g := grid(os.path.join(tdir, f)))]
    for r, (slack, under) in vpa.items():
        col = 0 if r == "cpu" else 1
        s = np.array([clairvoyant_slack(vm[col], under) for vm in vms])
        goal = 0.85 * slack
        print(f"{r}: clairvoyant per-day allocation at VPA's {under * 100:.2f}% under-provisioning:"
              f" median slack {np.nanmedian(s) * 100:.1f}% (goal {goal * 100:.1f}%);"
              f" {int((s <= goal).sum())} of {len(vms)} VMs reach the goal")


if __name__ == "__main__":
    main()
