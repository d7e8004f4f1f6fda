import numpy as np
import pytest

from forecast_cli.config import Head, ModelConfig, parse_layers
from forecast_cli.forecasting import roll
from forecast_cli.network import build_model, final_step
from forecast_cli.runtime import seed_everything


def step_by_step(model, window, steps, head, future):
    """The slow reference: one model call per horizon block, in Python."""
    horizon = model.output_shape[-2]
    window, produced = window.copy(), []
    for call in range(-(-steps // horizon)):
        block = final_step(model.predict(window, verbose=0), head)
        produced.append(block)
        known = future[:, call * horizon : (call + 1) * horizon]
        window = np.concatenate([window, np.concatenate([block, known], axis=-1)], axis=1)
        window = window[:, horizon:]
    return np.concatenate(produced, axis=1)[:, :steps]


@pytest.mark.parametrize(
    ("layers", "head", "horizon", "n_features", "steps"),
    [
        ("bilstm:5", Head.MANY_TO_ONE, 1, 1, 9),
        ("gru:4,bigru:4:sum", Head.MANY_TO_MANY, 2, 1, 7),
        ("lstm:4", Head.MANY_TO_ONE, 3, 3, 8),  # two extra features fed from known values
        ("rnn:4", Head.MANY_TO_ONE, 5, 1, 3),  # fewer steps than the horizon
    ],
)
def test_compiled_roll_matches_a_step_by_step_loop(layers, head, horizon, n_features, steps):
    seed_everything(1)
    lookback, batch = 6, 3
    model = build_model(ModelConfig(parse_layers(layers), head), lookback, n_features, horizon, 1)
    rng = np.random.default_rng(0)
    window = rng.normal(size=(batch, lookback, n_features)).astype(np.float32)
    padded = -(-steps // horizon) * horizon
    future = rng.normal(size=(batch, padded, n_features - 1)).astype(np.float32)
    fast = roll(model, window, steps, head, future if n_features > 1 else None)
    slow = step_by_step(model, window, steps, head, future)
    assert fast.shape == (batch, steps, 1)
    np.testing.assert_allclose(fast, slow, rtol=1e-4, atol=1e-5)
