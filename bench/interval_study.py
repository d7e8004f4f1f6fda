"""Which interval rule covers as it says on short real series: the study behind
``intervals.floored``.

Runs the default setting's backtest of ``eval_defaults`` (same series, folds and seeds)
once, recording in every fold the network's calibration errors on its validation tail
and the statistical models' own interval widths, then scores each rule on the same folds
by the share of the truth inside the model's forecast plus or minus its widths:

* ``conformal``: the split-conformal quantiles per step (``intervals.calibrate``);
* ``conformal, sqrt(h) floor``: never narrower than the first step's width times the
  square root of the step, as a random walk's errors grow;
* ``next order statistic``: the conformal rank plus one, a finite-sample margin;
* ``AutoETS floor``, ``chosen models' floor``, ``AutoETS and AutoTheta floor`` (the
  default), ``pool floor``: never narrower than AutoETS's own intervals, than those of
  the models the forecast averages, than AutoETS's and AutoTheta's, than those of every
  model of the combination's pool (AutoARIMA too, for seasons up to 12);
* ``AutoETS alone``: AutoETS's intervals around its own forecast, for reference.

    python bench/interval_study.py [--seeds 42,7]  # bench/interval_study.json
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
from eval_defaults import FOLDS, SEEDS, default_backtests

from forecast_cli import intervals
from forecast_cli.backtest_run import MODEL
from forecast_cli.combination import pool
from forecast_cli.statistical import FIT_ERRORS, interval_widths

ROOT = Path(__file__).resolve().parents[1]
LEVELS = (80, 95)


def record(calls: list) -> None:
    """Keep every calibration's errors and scales in ``calls``, in order."""
    errors = intervals.calibration_errors

    def errors_kept(*args, **kwargs):
        result = errors(*args, **kwargs)
        calls.append(result)
        return result

    intervals.calibration_errors = errors_kept


def statistical_widths(history: np.ndarray, steps: int, season: int) -> dict[str, dict]:
    """The half-widths of every pool model's own intervals after ``history``, by title."""
    widths = {}
    for name in pool(season):
        try:
            widths[name.title] = interval_widths(name, history, steps, season, LEVELS)
        except FIT_ERRORS:
            continue
    return widths


def rules(errors: np.ndarray, scale: float, theirs: dict, chosen: str) -> dict[str, dict]:
    """Each rule's half-widths ``{level: (steps,)}`` in data units, from one fold's
    calibration errors ``(origins, steps)`` (in units of ``scale``) and the statistical
    models' widths by title."""
    conformal = {
        q: w[:, 0] * scale for q, w in intervals.half_widths(errors[..., None], LEVELS).items()
    }
    steps = np.sqrt(np.arange(1, errors.shape[1] + 1))
    n, ordered = len(errors), np.sort(errors, axis=0)

    def floor(titles) -> dict:
        return {
            q: np.maximum.reduce(
                [conformal[q], *(theirs[t][q][:, 0] for t in titles if t in theirs)]
            )
            for q in LEVELS
        }

    return {
        "conformal": conformal,
        "conformal, sqrt(h) floor": {q: np.maximum(w, w[0] * steps) for q, w in conformal.items()},
        "next order statistic": {
            q: np.maximum.accumulate(ordered[min(math.ceil((n + 1) * q / 100), n - 1)]) * scale
            for q in LEVELS
        },
        "AutoETS floor": floor(["AutoETS"]),
        "chosen models' floor": floor([t for t in theirs if t in chosen]),
        "AutoETS and AutoTheta floor": floor(["AutoETS", "AutoTheta"]),
        "pool floor": floor(theirs),
    }


def fold_shares(fold, errors: np.ndarray, scale: float, theirs: dict) -> dict[str, dict]:
    """Per rule and level, which of one fold's true values its intervals hold."""
    actual, forecasts = fold.actual[0, :, 0], fold.forecasts
    miss = np.abs(actual - forecasts[MODEL][0, :, 0])
    shares = {
        rule: {q: miss <= w[q] for q in LEVELS}
        for rule, w in rules(errors[..., 0], scale, theirs, fold.combined).items()
    }
    if "AutoETS" in theirs:
        off = np.abs(actual - forecasts["AutoETS"][0, :, 0])
        shares["AutoETS alone"] = {q: off <= theirs["AutoETS"][q][:, 0] for q in LEVELS}
    return shares


def study(seeds: tuple[int, ...]) -> dict:
    calls: list = []
    record(calls)
    inside: dict[str, dict[str, list]] = {}
    for case, seed, folds in default_backtests(seeds):
        calibrated = iter(calls)
        for fold in folds:
            if not fold.widths:  # too short a validation tail
                continue
            (errors,), (scale,) = next(calibrated)
            theirs = statistical_widths(fold.history[0], case.horizon, case.season)
            shares = fold_shares(fold, errors, float(scale[0]), theirs)
            for rule, share in shares.items():
                for q in LEVELS:
                    inside.setdefault(rule, {}).setdefault(f"{case.name} {q}", []).append(share[q])
        calls.clear()
        print(case.name, seed, flush=True)
    return summarise(inside)


def summarise(inside: dict) -> dict:
    """Per rule: coverage per series and level, and its mean over the real and the
    synthetic series."""
    result = {}
    for rule, per in inside.items():
        series = {key: 100 * float(np.mean(np.concatenate(v))) for key, v in per.items()}
        line = {"series": series}
        for group, real in (("real", True), ("synthetic", False)):
            for q in LEVELS:
                chosen = [
                    v
                    for k, v in series.items()
                    if k.endswith(f" {q}") and k.startswith("real:") == real
                ]
                line[f"{group}_{q}"] = float(np.mean(chosen))
        result[rule] = line
    return result


def main() -> None:
    args, seeds = sys.argv[1:], SEEDS
    if args[:1] == ["--seeds"]:
        seeds = tuple(int(seed) for seed in args[1].split(","))
    results = study(seeds)
    out = ROOT / "bench" / "interval_study.json"
    out.write_text(
        json.dumps({"folds": FOLDS, "seeds": list(seeds), "rules": results}, indent=2) + "\n"
    )
    for rule, line in results.items():
        print(
            f"{rule:28} real {line['real_80']:.1f} / {line['real_95']:.1f}   "
            f"synthetic {line['synthetic_80']:.1f} / {line['synthetic_95']:.1f}"
        )


if __name__ == "__main__":
    main()
