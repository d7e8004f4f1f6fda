"""Build the Keras network a ``ModelConfig`` describes, and say how its head is trained.

Heads:

* many-to-one: the top recurrent layer returns its last output; ``Dense`` maps it to
  ``horizon x targets`` values. Output ``(samples, horizon, targets)``.
* many-to-many: the top layer returns every step; ``TimeDistributed(Dense)`` maps each
  step to ``horizon x targets`` values. Output ``(samples, lookback, horizon, targets)``.
  Every step is trained on the *same* targets, the ``horizon`` rows after the window's
  end, so the error flows back through every step while no step's target ever lies in
  the input window (which a bidirectional layer would otherwise read and copy). The
  forecast is the last step's output.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import SimpleNamespace

from forecast_cli.config import Anchor, Cell, Head, ModelConfig
from forecast_cli.linear import base_rows
from forecast_cli.runtime import keras


@dataclass(frozen=True)
class LayerRow:
    """One line of the layer summary."""

    name: str
    kind: str
    output_shape: tuple
    params: int


def build_model(
    config: ModelConfig,
    lookback: int,
    n_features: int,
    horizon: int,
    n_targets: int,
    name: str = "network",
):
    """A functional Keras model from ``(samples, lookback, n_features)`` windows.

    Its output layers compute in float32 whatever the global dtype policy: with
    ``--mixed-precision`` the layers below compute in float16, and the loss does not."""
    k = keras()
    cells = {Cell.LSTM: k.layers.LSTM, Cell.GRU: k.layers.GRU, Cell.RNN: k.layers.SimpleRNN}
    inputs = k.Input(shape=(lookback, n_features), name="window")
    # auto is resolved before
    anchored = config.anchor in (Anchor.LAST, Anchor.SEASONAL, Anchor.LINEAR)
    layers = anchor_layers()
    x = layers.Relative(name="relative")(inputs) if anchored else inputs
    for depth, spec in enumerate(config.layers, start=1):
        is_top = depth == len(config.layers)
        # Layers below the top must hand a value per step to the next recurrent layer.
        sequences = not is_top or config.head is Head.MANY_TO_MANY
        layer = cells[spec.cell](
            spec.units,
            return_sequences=sequences,
            recurrent_dropout=config.recurrent_dropout,
            name=f"{spec.cell}_{depth}",
        )
        if spec.bidirectional:
            layer = k.layers.Bidirectional(
                layer, merge_mode=str(spec.merge_mode), name=f"bi{spec.cell}_{depth}"
            )
        x = layer(x)
        if config.dropout > 0:  # between layers (depth), never along time
            x = k.layers.Dropout(config.dropout, name=f"dropout_{depth}")(x)
    # Anchored, the output starts at zero: the untrained network is the anchor itself.
    start = "zeros" if anchored else "glorot_uniform"
    dense = k.layers.Dense(horizon * n_targets, kernel_initializer=start, name="dense")
    if config.head is Head.MANY_TO_ONE:
        outputs = k.layers.Reshape((horizon, n_targets), name="forecast", dtype="float32")(dense(x))
    else:
        x = k.layers.TimeDistributed(dense, name="per_step")(x)
        outputs = k.layers.Reshape(
            (lookback, horizon, n_targets), name="forecast", dtype="float32"
        )(x)
    if anchored:
        period = 1 if config.anchor is Anchor.LAST else config.season
        linear = config.anchor is Anchor.LINEAR
        outputs = layers.Anchored(
            period, horizon, n_targets, linear=linear, name="anchored", dtype="float32"
        )([inputs, outputs])
    return k.Model(inputs, outputs, name=name)


def ensemble(members: list, name: str):
    """One model whose forecast is the median of ``members``' (the mean of two): the
    combination robust to a member that went astray, as in N-BEATS' ensembles."""
    if len(members) == 1:
        return members[0]
    k = keras()
    inputs = k.Input(shape=members[0].inputs[0].shape[1:], name="window")
    outputs = anchor_layers().Median(name="median", dtype="float32")([m(inputs) for m in members])
    return k.Model(inputs, outputs, name=name)


def set_linear_anchor(model, kernel, bias) -> None:
    """Give a ``--anchor linear`` network its fitted regression (``linear.LinearAnchor``)."""
    model.get_layer("anchored").set_weights([kernel, bias])


@functools.cache
def anchor_layers() -> SimpleNamespace:
    """The layers of an anchored network and of an ensemble, defined once Keras is imported.

    ``Relative`` shows the network its window minus the window's last value, so level and
    trend do not have to be learnt; ``Anchored`` adds the network's output to the last
    observed value (period 1) or season (the seasonal naive forecast), and with
    ``linear`` to the fitted linear regression's change from it (``forecast_cli.linear``;
    its weights are fixed, not trained). ``Median`` combines an ensemble's members
    (``ensemble``). Registered by name, so ``model.keras`` loads in safe mode without
    running any stored code.
    """
    k = keras()
    ops = k.ops

    @k.saving.register_keras_serializable(package="forecast")
    class Relative(k.layers.Layer):
        def call(self, window):
            return window - window[:, -1:, :]

    @k.saving.register_keras_serializable(package="forecast")
    class Anchored(k.layers.Layer):
        def __init__(
            self, period: int, horizon: int, n_targets: int, linear: bool = False, **kwargs
        ):
            super().__init__(**kwargs)
            self.period, self.horizon, self.n_targets = period, horizon, n_targets
            self.linear = linear

        def build(self, input_shape):
            if self.linear:
                lookback = input_shape[0][1]
                shape = (self.n_targets, lookback, self.horizon)
                self.kernel = self.add_weight(shape, "zeros", trainable=False, name="kernel")
                self.bias = self.add_weight(
                    (self.n_targets, self.horizon), "zeros", trainable=False, name="bias"
                )

        def call(self, inputs):
            window, correction = inputs
            targets = window[:, :, : self.n_targets]
            # Step h repeats the value `period` steps before it, from the observed window.
            rows = base_rows(window.shape[1], self.horizon, self.period)
            base = ops.take(targets, rows, axis=1)
            if self.linear:  # (samples, lookback, targets) x (targets, lookback, horizon)
                relative = targets - targets[:, -1:, :]
                change = ops.einsum("blt,tlh->bht", relative, self.kernel)
                base = base + change + ops.transpose(self.bias)
            if len(correction.shape) == 4:  # many-to-many: the same base at every step
                base = ops.expand_dims(base, 1)
            return correction + base

        def get_config(self):
            return {
                **super().get_config(),
                "period": self.period,
                "horizon": self.horizon,
                "n_targets": self.n_targets,
                "linear": self.linear,
            }

    @k.saving.register_keras_serializable(package="forecast")
    class Median(k.layers.Layer):
        def call(self, forecasts):
            return ops.median(ops.stack(forecasts), axis=0)

        def compute_output_shape(self, input_shapes):
            return input_shapes[0]

    return SimpleNamespace(Relative=Relative, Anchored=Anchored, Median=Median)


def fitted_shape(targets_shape: tuple, head: Head, lookback: int) -> tuple:
    """Shape of what the network is fitted to: the targets, at every step for many-to-many."""
    if head is Head.MANY_TO_ONE:
        return targets_shape
    return (targets_shape[0], lookback, *targets_shape[1:])


def final_step(outputs, head: Head):
    """The forecast ``(samples, horizon, targets)`` from the network's raw outputs."""
    return outputs[:, -1] if head is Head.MANY_TO_MANY else outputs


def describe(model) -> list[LayerRow]:
    """The layer summary as plain rows (the input layer left out)."""
    return [
        LayerRow(layer.name, type(layer).__name__, tuple(layer.output.shape), layer.count_params())
        for layer in model.layers
        if type(layer).__name__ != "InputLayer"
    ]
