import numpy as np
import pytest

from forecast_cli.config import ModelConfig, TrainConfig, parse_layers
from forecast_cli.network import build_model
from forecast_cli.runtime import seed_everything
from forecast_cli.training import fit


def data(seed: int = 0):
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(64, 5, 1)).astype(np.float32)
    targets = inputs[:, -1:, :1] * 0.5
    return (inputs[:48], targets[:48]), (inputs[48:], targets[48:])


def model():
    seed_everything(0)
    return build_model(ModelConfig(parse_layers("lstm:3")), 5, 1, 1, 1)


def test_early_stopping_keeps_the_best_validation_epoch():
    network, (train, val) = model(), data()
    result = fit(network, train, val, TrainConfig(epochs=30, patience=2, learning_rate=0.5))
    best = int(np.argmin(result.history["val_loss"]))
    assert result.best_epoch == best + 1 and not result.interrupted
    assert result.epochs_run == len(result.history["loss"]) <= 30
    now = float(network.compute_loss(y=val[1], y_pred=network(val[0])))
    np.testing.assert_allclose(now, result.history["val_loss"][best], rtol=1e-4)


def test_ctrl_c_ends_training_and_keeps_the_best_weights_so_far():
    network, (train, val) = model(), data()
    seen = []

    def press_ctrl_c_at_epoch_4(epoch, logs):
        seen.append(logs["val_loss"])
        if epoch == 4:
            raise KeyboardInterrupt

    result = fit(
        network, train, val, TrainConfig(epochs=50, learning_rate=0.5), press_ctrl_c_at_epoch_4
    )
    assert result.interrupted and result.epochs_run == 4
    assert result.best_epoch == int(np.argmin(seen)) + 1
    now = float(network.compute_loss(y=val[1], y_pred=network(val[0])))
    np.testing.assert_allclose(now, min(seen), rtol=1e-4)


def test_ctrl_c_before_the_first_epoch_ends_keeps_nothing():
    network, (train, val) = model(), data()
    network.fit = lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        fit(network, train, val, TrainConfig(epochs=5))
