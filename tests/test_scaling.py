from pathlib import Path

import numpy as np
import pytest

from forecast_cli.config import Scale, Windows
from forecast_cli.loading import Series
from forecast_cli.pipeline import prepare_part
from forecast_cli.scaling import Scaler


def series_of(values: np.ndarray) -> Series:
    return Series(values.astype(np.float32), ("y",), ("x",), None, None, None, Path("t.csv"), "")


def test_scaler_statistics_come_from_the_training_rows_only():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(100, 2))
    spiked = values.copy()
    spiked[90:] += 1000.0  # a change confined to the validation tail
    window = Windows(lookback=5, horizon=1, val_fraction=0.2)
    plain, shifted = (prepare_part(series_of(v), window) for v in (values, spiked))
    assert plain.split.train_rows == 80
    assert plain.scaler == shifted.scaler
    np.testing.assert_allclose(plain.scaler.offset, values[:80].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(plain.scaler.scale, values[:80].std(axis=0), rtol=1e-5)
    # Validation targets stay in the data's units; inputs are scaled with training statistics.
    np.testing.assert_allclose(shifted.val_actual[-1, 0, 0], spiked[-1, 0], rtol=1e-6)
    assert shifted.val[0].max() > 100


@pytest.mark.parametrize("kind", list(Scale))
def test_inverse_undoes_transform_and_constant_columns_stay_finite(kind):
    values = np.array([[1.0, 5.0], [3.0, 5.0], [2.0, 5.0]], dtype=np.float32)
    scaler = Scaler.fit(kind, values)
    scaled = scaler.transform(values)
    assert np.isfinite(scaled).all()
    np.testing.assert_allclose(scaler.inverse(scaled), values, rtol=1e-6)
    np.testing.assert_allclose(scaler.transform(values[:, 1:], first=1), scaled[:, 1:])
    assert Scaler.from_dict(scaler.to_dict()) == scaler


def test_minmax_maps_the_training_range_to_unit_interval():
    scaler = Scaler.fit(Scale.MINMAX, np.array([[2.0], [4.0], [6.0]]))
    np.testing.assert_allclose(
        scaler.transform(np.array([[2.0], [6.0]], dtype=np.float32)), [[0], [1]]
    )
