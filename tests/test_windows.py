import numpy as np
import pytest

from forecast_cli.errors import ForecastError
from forecast_cli.windows import make_windows, split_series


def test_windows_have_keras_shapes_and_every_target_lies_after_its_window():
    rows, lookback, horizon = 50, 7, 3
    values = np.stack([np.arange(rows), 1000 + np.arange(rows)], axis=1).astype(np.float32)
    inputs, targets = make_windows(values, lookback, horizon, n_targets=1)
    count = rows - lookback - horizon + 1
    assert inputs.shape == (count, lookback, 2)
    assert targets.shape == (count, horizon, 1)
    for i in range(count):
        # Column 0 holds the row number: window i reads rows i..i+6, predicts i+7..i+9.
        np.testing.assert_array_equal(inputs[i, :, 0], np.arange(i, i + lookback))
        np.testing.assert_array_equal(
            targets[i, :, 0], np.arange(i + lookback, i + lookback + horizon)
        )
        assert targets[i, :, 0].min() > inputs[i, :, 0].max()
    np.testing.assert_array_equal(inputs[0, :, 1], 1000 + np.arange(lookback))


def test_windows_are_views_not_copies():
    values = np.zeros((1000, 1), dtype=np.float32)
    inputs, targets = make_windows(values, 20, 1, 1)
    assert np.shares_memory(inputs, values) and np.shares_memory(targets, values)


@pytest.mark.parametrize("horizon", [1, 4])
def test_split_keeps_train_targets_before_the_cut_and_val_targets_after(horizon):
    rows, lookback = 100, 10
    split = split_series(rows, lookback, horizon, 0.2)
    assert split.train_rows == 80
    row = np.arange(rows, dtype=np.float32)[:, None]
    _, targets = make_windows(row, lookback, horizon, 1)
    train = targets[: split.train_windows]
    val = targets[split.val_start :]
    assert train.max() == split.train_rows - 1  # the last training target is the last train row
    assert val.min() == split.train_rows  # the first validation target is the first val row
    assert len(val) == split.val_windows == rows - split.train_rows - horizon + 1
    assert split.train_windows + split.val_windows + (horizon - 1) == len(targets)


def test_too_short_series_names_the_minimum_and_the_minimum_works():
    with pytest.raises(ForecastError) as caught:
        split_series(20, 20, 1, 0.2)
    message = str(caught.value)
    assert message.startswith("The series has 20 rows, too few for --lookback 20, --horizon 1")
    minimum = int(message.split("at least ")[1].split(" rows")[0])
    assert split_series(minimum, 20, 1, 0.2).train_windows == 1
    with pytest.raises(ForecastError):
        split_series(minimum - 1, 20, 1, 0.2)
