"""How well the defaults forecast short real series, against the statistical models.

The evaluation set holds synthetic series (trend, one or two seasonalities, noise, level
shifts, multiplicative seasons, a random walk; 60 to 500 points; hourly to quarterly) and
real ones that ship inside packages, so no download is needed: statsmodels' datasets
(Mauna Loa CO2, El Nino sea temperature, sunspots, the Nile's flow, US macro series,
German interest and inflation; installed by ``make eval``) and statsforecast's
AirPassengers. Each series is backtested with rolling origins for each setting and
``SEEDS`` seeds, next to seasonal naive, AutoETS, AutoTheta and AutoARIMA on the same
folds. A series' score against a competitor is the ratio of the network's MASE to the
competitor's (geometric mean over the seeds); the summary is the geometric mean of the
ratios over the series. Goals (issue 15): at most 0.9 against the best of AutoETS,
AutoTheta and AutoARIMA, at most 0.8 against seasonal naive, and no series worse than
1.25 times seasonal naive; plus the coverage of the 80% and 95% intervals.

    python bench/eval_defaults.py [--seeds 42,7] [SETTING ...]  # bench/eval_defaults.json

``make eval`` runs the 'default' setting, the one the goals are about; naming settings
(``settings``) runs those instead, and each run updates its settings' entries in the
file, keeping the others measured with the same seeds; ``--seeds`` sets the seeds
(fewer: sooner). The file is rewritten after every series, so a run cut short keeps
what it measured.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli.backtest_run import run_backtest
from forecast_cli.config import (
    Anchor,
    BacktestConfig,
    Baseline,
    ClusterConfig,
    Combine,
    DataConfig,
    LogConfig,
    ModelConfig,
    Refit,
    RuntimeConfig,
    TrainConfig,
    WindowConfig,
    parse_layers,
)
from forecast_cli.report import Report

ROOT = Path(__file__).resolve().parents[1]
FOLDS = 3
SEEDS = (42, 7)


@dataclass(frozen=True)
class Case:
    name: str
    freq: str
    season: int
    horizon: int
    values: np.ndarray


def evaluation_set() -> list[Case]:
    """The series, made deterministically."""
    rng = np.random.default_rng(2026)

    def seasonal(n, period, amplitude=1.0, phase=0.0):
        return amplitude * np.sin(2 * np.pi * (np.arange(n) / period + phase))

    cases = []
    n = 120
    cases.append(
        Case(
            "monthly trend+season 120",
            "MS",
            12,
            12,
            10 + 0.05 * np.arange(n) + 2 * seasonal(n, 12) + rng.normal(0, 0.5, n),
        )
    )
    n = 60
    cases.append(
        Case(
            "monthly short 60",
            "MS",
            12,
            6,
            50 + 0.3 * np.arange(n) + 5 * seasonal(n, 12, phase=0.2) + rng.normal(0, 1.5, n),
        )
    )
    n = 144
    level = np.where(np.arange(n) > 96, 8.0, 0.0)
    cases.append(
        Case(
            "monthly level shift 144",
            "MS",
            12,
            12,
            20 + level + 3 * seasonal(n, 12) + rng.normal(0, 0.8, n),
        )
    )
    trend = 100 + 2 * np.arange(n)
    cases.append(
        Case(
            "monthly multiplicative 144",
            "MS",
            12,
            12,
            trend * (1 + 0.2 * seasonal(n, 12)) + rng.normal(0, 5, n),
        )
    )
    n = 80
    cases.append(
        Case(
            "quarterly 80",
            "QS",
            4,
            8,
            30
            + 0.2 * np.arange(n)
            + 4 * np.tile([1.0, -0.5, -1.5, 1.0], n // 4)
            + rng.normal(0, 0.7, n),
        )
    )
    n = 365
    cases.append(
        Case(
            "daily weekly 365",
            "D",
            7,
            14,
            200
            + 0.05 * np.arange(n)
            + 15 * np.tile([1, 1, 1, 1, 0.8, -2, -2.8], 53)[:n]
            + rng.normal(0, 4, n),
        )
    )
    n = 300
    walk = np.cumsum(rng.normal(0, 1, n))
    cases.append(Case("daily random walk 300", "D", 7, 14, 50 + walk + seasonal(n, 7, 0.5)))
    n = 500
    cases.append(
        Case(
            "hourly daily 500",
            "h",
            24,
            24,
            60 + 10 * seasonal(n, 24) + 3 * seasonal(n, 12, phase=0.3) + rng.normal(0, 1.5, n),
        )
    )
    n = 480
    cases.append(
        Case(
            "hourly two seasons 480",
            "h",
            24,
            24,
            100 + 8 * seasonal(n, 24) + 6 * seasonal(n, 168) + rng.normal(0, 1, n),
        )
    )
    n = 260
    cases.append(
        Case(
            "weekly yearly 260",
            "W-SUN",
            52,
            13,
            500 + 0.5 * np.arange(n) + 40 * seasonal(n, 52) + rng.normal(0, 12, n),
        )
    )
    return cases + real_series()


def real_series() -> list[Case]:
    """Public series bundled with statsmodels and statsforecast (no download), 100 to 360
    points."""
    from statsforecast.utils import AirPassengers
    from statsmodels.datasets import co2, elnino, interest_inflation, macrodata, nile, sunspots

    monthly_co2 = co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
    nino = elnino.load_pandas().data.set_index("YEAR").stack().to_numpy()
    macro = macrodata.load_pandas().data
    german = interest_inflation.load_pandas().data
    return [
        Case("real: co2 monthly 240", "MS", 12, 12, monthly_co2.to_numpy()[-240:]),
        Case("real: el nino monthly 360", "MS", 12, 12, nino[-360:]),
        Case("real: air passengers monthly 144", "MS", 12, 12, np.asarray(AirPassengers)),
        Case(
            "real: sunspots yearly 309",
            "YS",
            1,
            10,
            sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(),
        ),
        Case("real: nile yearly 100", "YS", 1, 5, nile.load_pandas().data["volume"].to_numpy()),
        *(
            Case(f"real: us {label} quarterly 203", "QS", 4, 8, macro[column].to_numpy())
            for label, column in (
                ("gdp", "realgdp"),
                ("consumption", "realcons"),
                ("investment", "realinv"),
                ("cpi", "cpi"),
                ("m1", "m1"),
                ("t-bill rate", "tbilrate"),
                ("unemployment", "unemp"),
                ("inflation", "infl"),
            )
        ),
        Case("real: german inflation quarterly 107", "QS", 4, 8, german["Dp"].to_numpy()),
        Case("real: german interest quarterly 107", "QS", 4, 8, german["R"].to_numpy()),
    ]


def settings(case: Case) -> dict[str, tuple[WindowConfig, ModelConfig]]:
    """The settings compared, by name. 'default' is what ``forecast train`` and ``forecast
    predict --steps H`` do with no flags (``--anchor auto``, the network emits the H steps
    at once); 'recursive' trains on one step and rolls it forward (``--horizon 1``);
    'anchor-*' override the anchor; 'small' and 'large' change the network's size;
    'members-3' is the median of three networks (``--members 3``). Every setting but
    'no-combine' averages the network's forecast with the statistical models chosen on
    validation (``--combine auto``); the backtest also scores its network alone."""
    layers = parse_layers("bilstm:50")
    default = WindowConfig(lookback=None, horizon=None)
    return {
        "default": (default, ModelConfig(layers, anchor=Anchor.AUTO)),
        "recursive": (
            WindowConfig(lookback=None, horizon=1),
            ModelConfig(layers, anchor=Anchor.AUTO),
        ),
        "anchor-last": (default, ModelConfig(layers, anchor=Anchor.LAST)),
        "anchor-none": (default, ModelConfig(layers, anchor=Anchor.NONE)),
        "anchor-linear": (default, ModelConfig(layers, anchor=Anchor.LINEAR)),
        "small": (default, ModelConfig(parse_layers("lstm:16"), anchor=Anchor.AUTO)),
        "large": (default, ModelConfig(parse_layers("bilstm:64,bilstm:32"), anchor=Anchor.AUTO)),
        "members-3": (default, ModelConfig(layers, anchor=Anchor.AUTO, members=3)),
        "no-combine": (default, ModelConfig(layers, anchor=Anchor.AUTO, combine=Combine.NONE)),
    }


COMPETITORS = ("seasonal naive", "AutoETS", "AutoTheta", "AutoARIMA")
STATISTICAL = COMPETITORS[1:]


def evaluate(names: list[str], seeds: tuple[int, ...], save) -> dict:
    results: dict[str, dict] = {name: {} for name in names}
    for case, path, quiet in written_cases():
        for name in names:
            results[name][case.name] = score_case(path, case, *settings(case)[name], seeds, quiet)
            line = results[name][case.name]["ratio"]
            print(
                f"{name:12} {case.name:38} "
                + " ".join(f"{who} {line[who]:.3f}" for who in COMPETITORS),
                flush=True,
            )
            save(_results(results, seeds))
    return _results(results, seeds)


def written_cases() -> Iterator[tuple[Case, Path, Report]]:
    """Each series of the set in turn, written as the CSV file the commands read, and a
    report that prints nothing for them."""
    quiet = Report(json_mode=True)
    quiet.console.quiet = True
    with tempfile.TemporaryDirectory() as scratch:
        for case in evaluation_set():
            yield case, write_case(case, Path(scratch) / "series.csv"), quiet


def _results(results: dict, seeds: tuple[int, ...]) -> dict:
    return {"folds": FOLDS, "seeds": list(seeds), "summary": summarise(results), "series": results}


def write_case(case: Case, path: Path) -> Path:
    """``case`` as the CSV file the commands read: a date and a value column."""
    pd.DataFrame(
        {
            # 1900: 309 years of sunspots stay within pandas' timestamps
            "date": pd.date_range("1900-01-01", periods=len(case.values), freq=case.freq),
            "value": case.values,
        }
    ).to_csv(path, index=False)
    return path


def backtest(
    path: Path, case: Case, window: WindowConfig, model: ModelConfig, seed: int, quiet: Report
):
    """One setting's backtest of ``case`` with one seed, every baseline beside it, as
    ``make eval`` runs it."""
    return run_backtest(
        path,
        DataConfig(),
        dataclasses.replace(window, season=case.season, baselines=tuple(Baseline)),
        model,
        TrainConfig(seed=seed),
        RuntimeConfig(),
        BacktestConfig(FOLDS, case.horizon, Refit.RETRAIN, (80, 95), jobs=1),
        ClusterConfig(),
        LogConfig(),
        quiet,
    )


def default_backtests(seeds: tuple[int, ...]) -> Iterator[tuple[Case, int, list]]:
    """``(case, seed, folds)`` of the default setting's backtest of every series, once per
    seed: what the studies (``interval_study``, ``combination_study``) replay."""
    for case, path, quiet in written_cases():
        for seed in seeds:
            yield case, seed, backtest(path, case, *settings(case)["default"], seed, quiet).folds


def score_case(
    path: Path,
    case: Case,
    window: WindowConfig,
    model: ModelConfig,
    seeds: tuple[int, ...],
    quiet: Report,
) -> dict:
    """One setting on one series, once per seed: MASE of the network and every competitor,
    the network's ratio to each, and its intervals' coverage."""
    started = time.perf_counter()
    runs = []
    for seed in seeds:
        table = backtest(path, case, window, model, seed, quiet).table
        runs.append(table[table["fold"] == "all"].set_index("method"))
    mase = {who: runs[0].loc[who, "mase"] for who in COMPETITORS}
    network = [run.loc["model", "mase"] for run in runs]
    # the network without the statistical models its forecast is averaged with
    alone = [run.loc["network alone", "mase"] for run in runs if "network alone" in run.index]
    return {
        "mase": geomean(network),
        "mase_per_seed": network,
        **({"network_alone_mase": geomean(alone)} if alone else {}),
        "competitors_mase": mase,
        "ratio": {who: geomean([m / mase[who] for m in network]) for who in COMPETITORS},
        "coverage_80": float(np.mean([run.loc["model", "coverage_80"] for run in runs])),
        "coverage_95": float(np.mean([run.loc["model", "coverage_95"] for run in runs])),
        "seconds": round(time.perf_counter() - started, 1),
    }


def summarise(results: dict[str, dict]) -> dict:
    """Per setting: the geometric mean of the ratios to each competitor (over all series
    and over the real ones), the ratio to the best statistical model, the worst ratio to
    seasonal naive and the mean coverage (of the series long enough to calibrate)."""
    summary = {}
    for name, per_case in results.items():
        if not per_case:  # not measured yet in this run
            continue
        real = {c: r for c, r in per_case.items() if c.startswith("real:")}
        ratios = {w: geomean([r["ratio"][w] for r in per_case.values()]) for w in COMPETITORS}
        real_ratios = {w: geomean([r["ratio"][w] for r in real.values()]) for w in COMPETITORS}
        worst = max(per_case, key=lambda c: per_case[c]["ratio"]["seasonal naive"])
        summary[name] = {
            "ratio": ratios,
            "real_ratio": real_ratios,
            # against the competitor with the lowest MASE over the set, the goal's measure
            "ratio_to_best_statistical": max(ratios[w] for w in STATISTICAL),
            "real_ratio_to_best_statistical": max(real_ratios[w] for w in STATISTICAL),
            "worst_ratio_to_seasonal_naive": per_case[worst]["ratio"]["seasonal naive"],
            "worst_series": worst,
            "mean_coverage_80": mean_coverage(per_case, 80),
            "mean_coverage_95": mean_coverage(per_case, 95),
            "real_mean_coverage_80": mean_coverage(real, 80),
            "real_mean_coverage_95": mean_coverage(real, 95),
        }
        if all("network_alone_mase" in r for r in per_case.values()):
            # what the network's forecast scores without the statistical models it is
            # averaged with: how much of the score is the network's own
            summary[name]["network_alone_ratio_to_best_statistical"] = max(
                geomean(
                    [r["network_alone_mase"] / r["competitors_mase"][w] for r in per_case.values()]
                )
                for w in STATISTICAL
            )
    return summary


def mean_coverage(per_case: dict[str, dict], level: int) -> float:
    """The mean coverage of the series long enough to calibrate (NaN while there is none:
    a run's first series, or no real one yet)."""
    covered = [r[f"coverage_{level}"] for r in per_case.values()]
    covered = [c for c in covered if not np.isnan(c)]
    return float(np.mean(covered)) if covered else float("nan")


def geomean(values) -> float:
    return float(np.exp(np.mean(np.log(values))))


def main() -> None:
    args, seeds = sys.argv[1:], SEEDS
    if args[:1] == ["--seeds"]:
        seeds, args = tuple(int(seed) for seed in args[1].split(",")), args[2:]
    names = args or ["default"]
    unknown = set(names) - set(settings(evaluation_set()[0]))
    if unknown:
        sys.exit(f"no setting {', '.join(sorted(unknown))}: see settings() in {__file__}")
    out = ROOT / "bench" / "eval_defaults.json"
    kept = json.loads(out.read_text()) if out.exists() else None

    def save(results: dict) -> None:
        """Write ``results``; a partial run keeps the other settings' entries (same seeds)."""
        if kept is not None and kept.get("seeds") == results["seeds"]:
            results = {
                **results,
                **{part: {**kept[part], **results[part]} for part in ("summary", "series")},
            }
        out.write_text(json.dumps(results, indent=2, default=float) + "\n")

    results = evaluate(names, seeds, save)
    for name, line in results["summary"].items():
        ratios = ", ".join(f"{who} {ratio:.3f}" for who, ratio in line["ratio"].items())
        print(
            f"{name:12} MASE ratio to {ratios} (real series: best statistical "
            f"{line['real_ratio_to_best_statistical']:.3f}; the network alone: "
            f"{line.get('network_alone_ratio_to_best_statistical', float('nan')):.3f}); "
            "worst to seasonal naive "
            f"{line['worst_ratio_to_seasonal_naive']:.3f} ({line['worst_series']}); "
            f"coverage 80%: {line['mean_coverage_80']:.1f}, 95%: {line['mean_coverage_95']:.1f}"
        )


if __name__ == "__main__":
    main()
