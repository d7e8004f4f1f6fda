"""How well the defaults forecast short real series, against seasonal naive.

The evaluation set holds synthetic series (trend, one or two seasonalities, noise, level
shifts, multiplicative seasons, a random walk; 60 to 500 points; hourly to quarterly) and
real ones that ship inside statsmodels (Mauna Loa CO2, El Nino sea temperature, sunspots,
the Nile's flow, US GDP, unemployment and inflation; installed by ``make eval``). Each
series is backtested with rolling origins for each setting. Each series' score is the
ratio of the model's MASE to the seasonal-naive MASE on the same folds; the summary is
the geometric mean of the ratios (goal: at most 0.9) and the worst ratio (goal: at most
1.5), plus the coverage of the 80% and 95% intervals.

    python bench/eval_defaults.py [SETTING ...]    # writes bench/eval_defaults.json

Naming settings runs only those and updates their entries in the file.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli.backtest_run import run_backtest
from forecast_cli.config import (
    Anchor,
    BacktestConfig,
    DataConfig,
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
    """Public series from statsmodels' bundled datasets (no download), 100 to 360 points."""
    from statsmodels.datasets import co2, elnino, macrodata, nile, sunspots

    monthly_co2 = co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
    nino = elnino.load_pandas().data.set_index("YEAR").stack().to_numpy()
    macro = macrodata.load_pandas().data
    return [
        Case("real: co2 monthly 240", "MS", 12, 12, monthly_co2.to_numpy()[-240:]),
        Case("real: el nino monthly 360", "MS", 12, 12, nino[-360:]),
        Case(
            "real: sunspots yearly 309",
            "YS",
            1,
            10,
            sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(),
        ),
        Case("real: nile yearly 100", "YS", 1, 5, nile.load_pandas().data["volume"].to_numpy()),
        Case("real: us gdp quarterly 203", "QS", 4, 8, macro["realgdp"].to_numpy()),
        Case("real: us unemployment quarterly 203", "QS", 4, 8, macro["unemp"].to_numpy()),
        Case("real: us inflation quarterly 203", "QS", 4, 8, macro["infl"].to_numpy()),
    ]


def settings(case: Case) -> dict[str, tuple[WindowConfig, ModelConfig]]:
    """The settings compared, by name. 'default' is what ``forecast train`` and ``forecast
    predict --steps H`` do with no flags (``--anchor auto``, the network emits the H steps
    at once); 'recursive' trains on one step and rolls it forward (``--horizon 1``);
    'anchor-*' override the anchor; 'small' and 'large' change the network's size."""
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
        "small": (default, ModelConfig(parse_layers("lstm:16"), anchor=Anchor.AUTO)),
        "large": (default, ModelConfig(parse_layers("bilstm:64,bilstm:32"), anchor=Anchor.AUTO)),
    }


def evaluate(names: list[str]) -> dict:
    results: dict[str, dict] = {name: {} for name in names}
    quiet = Report(json_mode=True)
    quiet.console.quiet = True
    with tempfile.TemporaryDirectory() as scratch:
        for case in evaluation_set():
            path = Path(scratch) / "series.csv"
            pd.DataFrame(
                {
                    "date": pd.date_range("2020-01-01", periods=len(case.values), freq=case.freq),
                    "value": case.values,
                }
            ).to_csv(path, index=False)
            for name in names:
                window, model = settings(case)[name]
                started = time.perf_counter()
                table = run_backtest(
                    path,
                    DataConfig(),
                    dataclasses.replace(window, season=case.season),
                    model,
                    TrainConfig(),
                    RuntimeConfig(),
                    BacktestConfig(FOLDS, case.horizon, Refit.RETRAIN, (80, 95), jobs=1),
                    quiet,
                ).table
                overall = table[table["fold"] == "all"].set_index("method")
                results[name][case.name] = {
                    "mase": overall.loc["model", "mase"],
                    "seasonal_naive_mase": overall.loc["seasonal naive", "mase"],
                    "ratio": overall.loc["model", "mase"] / overall.loc["seasonal naive", "mase"],
                    "coverage_80": overall.loc["model", "coverage_80"],
                    "coverage_95": overall.loc["model", "coverage_95"],
                    "seconds": round(time.perf_counter() - started, 1),
                }
                print(
                    f"{name:16} {case.name:36} ratio {results[name][case.name]['ratio']:.3f}",
                    flush=True,
                )
    summary = {}
    for name, per_case in results.items():
        ratios = np.array([r["ratio"] for r in per_case.values()])
        real_cases = [(c, r) for c, r in per_case.items() if c.startswith("real:")]
        real = np.array([r["ratio"] for _, r in real_cases])
        summary[name] = {
            "geometric_mean_ratio": float(np.exp(np.mean(np.log(ratios)))),
            "real_geometric_mean_ratio": float(np.exp(np.mean(np.log(real)))),
            "worst_ratio": float(ratios.max()),
            "worst_series": max(per_case, key=lambda c: per_case[c]["ratio"]),
            # over the series whose validation tails were long enough to calibrate
            "mean_coverage_80": float(np.nanmean([r["coverage_80"] for r in per_case.values()])),
            "mean_coverage_95": float(np.nanmean([r["coverage_95"] for r in per_case.values()])),
            "real_mean_coverage_80": float(np.nanmean([r["coverage_80"] for c, r in real_cases])),
            "real_mean_coverage_95": float(np.nanmean([r["coverage_95"] for c, r in real_cases])),
        }
    return {"folds": FOLDS, "summary": summary, "series": results}


def main() -> None:
    names = sys.argv[1:] or list(settings(evaluation_set()[0]))
    results = evaluate(names)
    for name, line in results["summary"].items():
        print(
            f"{name:16} geometric mean MASE ratio {line['geometric_mean_ratio']:.3f} (real "
            f"series {line['real_geometric_mean_ratio']:.3f}), worst "
            f"{line['worst_ratio']:.3f} ({line['worst_series']}), coverage 80%: "
            f"{line['mean_coverage_80']:.1f}, 95%: {line['mean_coverage_95']:.1f}"
        )
    out = ROOT / "bench" / "eval_defaults.json"
    if sys.argv[1:] and out.exists():  # a partial run keeps the other settings' results
        kept = json.loads(out.read_text())
        for part in ("summary", "series"):
            results[part] = {**kept[part], **results[part]}
    out.write_text(json.dumps(results, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
