#!/usr/bin/python3
# vsbenchhw.py: the statsmodels side of bench/vsbenchhw.c
#
# Usage: vsbenchhw.py FILE
#
# FILE has one series a line: "NAME FIT HORIZON v0 v1 ...", FIT + HORIZON
# values.  Each series is fitted on its first FIT values exactly as the
# holt-winters baseline of research/rightsizing-baselines.md does it:
# ExponentialSmoothing(trend='add', seasonal='add', seasonal_periods=288,
# initialization_method='heuristic'), the heuristic initial seasonals held
# fixed, fit(method='L-BFGS-B', use_brute=False); then forecast HORIZON steps.
#
# Prints one JSON object: per-series MASE (scale: in-sample seasonal-naive
# MAE at lag 288), the fitted parameters and SSE, and the CPU seconds spent
# in fit + forecast over all series (process time: no start-up, no I/O).
#
# Each series is also fitted once more divided by its in-sample standard
# deviation ("mase_unit", not timed).  The model is scale-equivariant, so
# any change comes from the optimiser: L-BFGS-B stops on absolute
# tolerances, and on series of small numbers (CPU cores) it often stops at
# its starting point.
import json
import sys
import time
import warnings

PERIOD = 288

try:
    import numpy as np
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
except ImportError as exc:
    sys.stderr.write("vsbenchhw.py: cannot import statsmodels (%s): "
                     "install the Debian package 'python3-statsmodels'\n" % exc)
    sys.exit(3)


def mase(fit, test, forecast):
    scale = np.mean(np.abs(fit[PERIOD:] - fit[:-PERIOD]))
    if not scale > 0:
        return None
    return float(np.mean(np.abs(test - forecast)) / scale)


def fit_forecast(y, horizon):
    model = ExponentialSmoothing(y, trend="add", seasonal="add",
                                 seasonal_periods=PERIOD,
                                 initialization_method="heuristic")
    fixed = {"initial_seasonal.%d" % i: v
             for i, v in enumerate(model.initial_values()[2])}
    with model.fix_params(fixed):
        res = model.fit(method="L-BFGS-B", use_brute=False)
    return res, res.forecast(horizon)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: vsbenchhw.py FILE\n")
        return 2
    warnings.simplefilter("ignore")
    out = {"series": [], "seconds": 0.0}
    with open(sys.argv[1]) as f:
        for line in f:
            parts = line.split()
            name, nfit, horizon = parts[0], int(parts[1]), int(parts[2])
            v = np.array([float(x) for x in parts[3:]])
            y, test = v[:nfit], v[nfit:nfit + horizon]
            start = time.process_time()
            res, fc = fit_forecast(y, horizon)
            out["seconds"] += time.process_time() - start
            p = res.params
            sd = np.std(y) if np.std(y) > 0 else 1.0
            _, fc_unit = fit_forecast(y / sd, horizon)
            out["series"].append({
                "name": name,
                "mase": mase(y, test, np.asarray(fc)),
                "mase_unit": mase(y, test, np.asarray(fc_unit) * sd),
                "alpha": float(p["smoothing_level"]),
                "beta": float(p["smoothing_trend"]),
                "gamma": float(p["smoothing_seasonal"]),
                "sse": float(res.sse),
            })
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
