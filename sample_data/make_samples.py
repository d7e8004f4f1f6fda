"""Regenerate the bundled sample series (deterministic): python sample_data/make_samples.py"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def noisy_sine(rows: int = 1000, period: float = 40.0, noise: float = 0.1) -> pd.DataFrame:
    """A sine of amplitude 1 with Gaussian noise of standard deviation ``noise``, hourly."""
    rng = np.random.default_rng(7)
    steps = np.arange(rows)
    return pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=rows, freq="h"),
            "value": np.round(np.sin(2 * np.pi * steps / period) + rng.normal(0, noise, rows), 5),
        }
    )


def sensors(rows: int = 600) -> pd.DataFrame:
    """Two related hourly sensors: temperature with a daily cycle, humidity that lags it."""
    rng = np.random.default_rng(11)
    hours = np.arange(rows)
    daily = np.sin(2 * np.pi * (hours - 9) / 24)
    temperature = 18 + 0.004 * hours + 4 * daily + rng.normal(0, 0.3, rows)
    humidity = 60 - 2.5 * (temperature - 18) - 3 * np.roll(daily, 2) + rng.normal(0, 0.8, rows)
    return pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-03-01", periods=rows, freq="h"),
            "temperature": np.round(temperature, 2),
            "humidity": np.round(humidity, 2),
        }
    )


def stores(count: int = 36, end: str = "2026-06-30") -> pd.DataFrame:
    """Daily sales of ``count`` stores in long format: levels from about 20 to 2000, a
    weekly cycle of differing shape and strength, some with a trend, of 90 to 150 days
    each (the newest stores opened later); one row per store and day."""
    rng = np.random.default_rng(23)
    frames = []
    for number in range(1, count + 1):
        days = int(rng.integers(90, 151))
        level = float(np.exp(rng.uniform(np.log(20), np.log(2000))))
        weekly = rng.normal(0, 1, 7)
        weekly = weekly / np.abs(weekly).max() * rng.uniform(0.05, 0.4)
        trend = rng.choice([0.0, rng.uniform(-0.002, 0.004)])
        t = np.arange(days)
        sales = level * (1 + trend * t + weekly[t % 7] + rng.normal(0, 0.05, days))
        frames.append(
            pd.DataFrame(
                {
                    "store": f"store_{number:02d}",
                    "date": pd.date_range(end=end, periods=days, freq="D").strftime("%Y-%m-%d"),
                    "sales": np.round(np.maximum(sales, 0), 1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


if __name__ == "__main__":
    noisy_sine().to_csv(HERE / "sine.csv", index=False)
    sensors().to_csv(HERE / "sensors.csv", index=False)
    stores().to_csv(HERE / "stores.csv", index=False)
