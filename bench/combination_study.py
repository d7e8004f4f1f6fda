"""Which way of combining the network with the statistical models forecasts best on the
evaluation set: the study behind ``combination.choose``.

Runs the default setting's backtest of ``eval_defaults`` (same series, folds and seeds)
once, recording in every fold what ``--combine auto`` chooses from (the network's and
the pool models' forecasts of the validation windows, and their truth), then applies
each rule to the same fold's test forecasts (the network alone, AutoETS, AutoTheta and,
for seasons up to 12, AutoARIMA, all fitted before the cut-off as the combination fits
them):

* ``best subset`` (the default): the mean of the network and the subset of the pool
  whose mean with it has the lowest validation MAE; the network alone on a tie;
* ``mean of all``, ``median of all``: the network and every pool model, unweighted;
* ``always combined``: ``best subset`` without the network alone;
* ``any subset``: the best subset of the network and the pool models together, the
  network optional;
* ``best single``: the one forecast (network or model) with the lowest validation MAE;
* ``inverse-MAE weights``: every forecast, weighted by one over its validation MAE;
* ``all but the worst``: the mean of all but the forecast with the highest validation MAE.

A series' score under a rule is its MAE summed over the folds, divided by that of the
default's forecast; the geometric mean over the seeds and the series, times the
default's ratios in ``eval_defaults.json``, estimates each rule's ratios there.

    python bench/combination_study.py [--seeds 42,7]  # bench/combination_study.json
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np
from eval_defaults import COMPETITORS, FOLDS, SEEDS, default_backtests, geomean

from forecast_cli import pipeline
from forecast_cli.backtest_run import MODEL, NETWORK
from forecast_cli.combination import choose

ROOT = Path(__file__).resolve().parents[1]


def record(calls: list) -> None:
    """Keep the validation forecasts of every choice ``--combine auto`` makes, in order."""

    def kept(network, others, actual):
        calls.append((network, {m.title: f for m, f in others.items()}, actual))
        return choose(network, others, actual)

    pipeline.choose = kept


def weights(validation: tuple) -> dict[str, dict[str, float]]:
    """Each rule's weight per forecast (``network`` and the models' titles), from one
    fold's validation forecasts; a rule named with ``median`` takes the median instead."""
    network, others, actual = validation
    every = {"network": network, **others}
    mae = {name: float(np.mean(np.abs(f - actual))) for name, f in every.items()}
    names = list(every)

    def equal(chosen) -> dict[str, float]:
        return {name: 1 / len(chosen) for name in chosen}

    def best(subsets) -> dict[str, float]:
        errors = [
            np.mean(np.abs(np.mean([every[n] for n in subset], axis=0) - actual))
            for subset in subsets
        ]
        return equal(subsets[int(np.argmin(errors))])

    with_network = [
        ("network", *subset)
        for size in range(len(others) + 1)
        for subset in itertools.combinations(others, size)
    ]
    any_subset = [
        s for size in range(1, len(names) + 1) for s in itertools.combinations(names, size)
    ]
    inverse = {name: 1 / max(error, 1e-12) for name, error in mae.items()}
    worst = max(mae, key=mae.get)
    return {
        "best subset": equal(["network", *choose(network, others, actual)]),  # the tool's
        "mean of all": equal(names),
        "median of all": equal(names),
        "always combined": best(with_network[1:]) if others else equal(["network"]),
        "any subset": best(any_subset),
        "best single": equal([min(mae, key=mae.get)]),
        "inverse-MAE weights": {n: w / sum(inverse.values()) for n, w in inverse.items()},
        "all but the worst": equal([n for n in names if n != worst] or names),
    }


def fold_errors(fold, validation: tuple) -> dict[str, float]:
    """Each rule's mean absolute error on one fold's test steps, and the default's."""
    tests = {"network": fold.forecasts[NETWORK], **fold.forecasts}
    errors = {"default": float(np.mean(np.abs(fold.forecasts[MODEL] - fold.actual)))}
    for rule, weighted in weights(validation).items():
        weighted = {n: w for n, w in weighted.items() if n in tests}  # a test fit that failed
        if rule.startswith("median"):
            forecast = np.median([tests[name] for name in weighted], axis=0)
        else:
            total = sum(weighted.values())
            forecast = np.sum([w / total * tests[n] for n, w in weighted.items()], axis=0)
        if rule == "best subset":  # the harness reads the forecasts the tool combined
            assert np.allclose(forecast, fold.forecasts[MODEL], atol=1e-5), "not the tool's"
        errors[rule] = float(np.mean(np.abs(forecast - fold.actual)))
    return errors


def study(seeds: tuple[int, ...]) -> dict[str, dict[str, list[float]]]:
    """Per series, per rule, its MAE over the folds divided by the default's, per seed."""
    calls: list = []
    record(calls)
    ratios: dict[str, dict[str, list[float]]] = {}
    for case, seed, folds in default_backtests(seeds):
        chosen, totals = list(calls), {}
        calls.clear()
        if len(chosen) != len(folds):  # not combined (too short a validation tail)
            print(case.name, seed, "skipped: a fold was not combined", flush=True)
            continue
        for fold, validation in zip(folds, chosen, strict=True):
            for rule, error in fold_errors(fold, validation).items():
                totals[rule] = totals.get(rule, 0.0) + error
        for rule, total in totals.items():
            ratios.setdefault(case.name, {}).setdefault(rule, []).append(total / totals["default"])
        print(case.name, seed, flush=True)
    return ratios


def estimates(ratios: dict, seeds: tuple[int, ...]) -> dict[str, dict]:
    """Per rule, its estimated geometric-mean ratio to each competitor, from the default's
    per-series ratios in ``eval_defaults.json`` (of the same seeds), and its factor per
    series; a series skipped counts as the default's (factor 1)."""
    evaluated = json.loads((ROOT / "bench" / "eval_defaults.json").read_text())
    if evaluated["seeds"] != list(seeds) or evaluated["folds"] != FOLDS:
        raise SystemExit("eval_defaults.json has other seeds or folds: run make eval first")
    default = evaluated["series"]["default"]
    rules = next(iter(ratios.values())).keys()
    result = {}
    for rule in rules:
        factor = {name: geomean(ratios[name][rule]) if name in ratios else 1.0 for name in default}
        result[rule] = {
            "ratio": {
                who: geomean([default[name]["ratio"][who] * f for name, f in factor.items()])
                for who in COMPETITORS
            },
            "factor_by_series": factor,
        }
    return result


def main() -> None:
    args, seeds = sys.argv[1:], SEEDS
    if args[:1] == ["--seeds"]:
        seeds = tuple(int(seed) for seed in args[1].split(","))
    results = estimates(study(seeds), seeds)
    out = ROOT / "bench" / "combination_study.json"
    out.write_text(
        json.dumps({"folds": FOLDS, "seeds": list(seeds), "rules": results}, indent=2) + "\n"
    )
    for rule, line in results.items():
        ratios = ", ".join(f"{who} {ratio:.3f}" for who, ratio in line["ratio"].items())
        print(f"{rule:20} {ratios}")


if __name__ == "__main__":
    main()
