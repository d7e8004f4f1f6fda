"""Evaluate a saved network with NumPy: ``forecast predict`` without importing TensorFlow.

A network of some 20,000 weights forecasts in milliseconds; importing TensorFlow to run
it took seconds. ``model.keras`` is a zip archive of ``config.json`` (the layers, their
settings and how they connect) and ``model.weights.h5`` (the weights); ``load`` reads
both and returns a ``Network``, called on windows like the Keras model.

The weights are found as Keras finds them when it loads a model: each layer of a model
under ``layers/`` by its class name in snake case, numbered in the order of the model's
layers (``lstm``, ``lstm_1``, ...), a wrapper's inner layers under their attributes
(``forward_layer``, ``backward_layer``, ``layer``), a recurrent layer's under ``cell``,
and a layer's own variables as ``vars/0``, ``vars/1``, ... in the order it created
them. Keras also writes each layer's name beside its variables, and where it did,
that name must be the layer's in ``config.json``: a file laid out otherwise is refused,
not read by guessing.

The layers evaluated are those ``network.build_model`` and ``network.ensemble`` make,
with Keras 3's inference semantics: LSTM (gates i, f, c, o), GRU (``reset_after``:
gates z, r, h, two bias rows), SimpleRNN, Bidirectional (the backward layer reads the
window reversed; with ``return_sequences`` its outputs are reversed back before the
merge), Dense and TimeDistributed(Dense), Reshape, Dropout (nothing at inference), and
this package's Relative, Anchored and Median. Everything computes in float32, also
for a network trained in mixed precision. A model holding anything else raises
``Unsupported``, and is then loaded with Keras (``artifacts.load_forecaster``).
"""

from __future__ import annotations

import functools
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecast_cli.linear import base_rows
from forecast_cli.network import LayerRow

KERAS_MAJOR = "3"  # the file format read here: Keras 3's


class Unsupported(Exception):
    """A model this module does not evaluate; the message says what it holds."""


@dataclass(frozen=True)
class Network:
    """A saved network as NumPy functions: ``network(windows)`` is the Keras model's
    ``model(windows, training=False)``."""

    name: str
    run: Callable[[np.ndarray], np.ndarray]
    input_shape: tuple  # (None, lookback, features)
    output_shape: tuple  # (None, horizon, targets); many-to-many (None, lookback, ...)
    layers: tuple[LayerRow, ...] = ()  # the table ``network.describe`` makes of the Keras model

    def __call__(self, windows: np.ndarray, training: bool = False) -> np.ndarray:
        # One BLAS thread: each step's products are small, and where the cores are busy
        # BLAS threads waiting on each other made them up to 10x slower (1,000 windows of
        # a BiLSTM(50) on 2 shared cores: 520 ms a call, 56 ms on one thread; 46 ms on
        # two when the cores are idle).
        with _blas().limit(limits=1, user_api="blas"):
            return self.run(np.asarray(windows, dtype=np.float32))


@functools.cache
def _blas():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def load(path: Path) -> Network:
    """The network saved in ``path`` (a ``model.keras``), or ``Unsupported``."""
    try:
        with zipfile.ZipFile(path) as archive:
            metadata = json.loads(archive.read("metadata.json"))
            config = json.loads(archive.read("config.json"))
            weights_file = archive.read("model.weights.h5")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise Unsupported(f"no Keras 3 archive ({exc})") from None
    version = str(metadata.get("keras_version", ""))
    if version.split(".")[0] != KERAS_MAJOR:
        raise Unsupported(f"a model saved by Keras {version or '(unknown)'}")
    if config.get("class_name") != "Functional":
        raise Unsupported(f"a {config.get('class_name')} model, not a functional one")
    import h5py  # here, where a model is read: the CLI's import stays light

    try:
        with h5py.File(io.BytesIO(weights_file), "r") as weights:
            run, input_shape, described = _functional(config, _Saved(weights, ""))
    except (KeyError, TypeError, ValueError, OSError) as exc:
        detail = f"{type(exc).__name__}: {exc}"
        raise Unsupported(f"a layer or weights laid out otherwise ({detail})") from None
    traced: dict[str, np.ndarray] = {}
    try:
        probe = run(np.zeros((1, *input_shape[1:]), dtype=np.float32), traced)
    except (ValueError, TypeError, KeyError, IndexError) as exc:  # e.g. shapes that do not chain
        raise Unsupported(f"weights of unexpected shapes ({exc})") from None
    layers = tuple(
        LayerRow(name, kind, (None, *traced[name].shape[1:]), params)
        for name, kind, params in described
    )
    return Network(
        config["config"]["name"], run, tuple(input_shape), (None, *probe.shape[1:]), layers
    )


class _Saved:
    """The weights of one object saved in ``model.weights.h5``, at its Keras path."""

    def __init__(self, h5, path: str):
        self.h5, self.path = h5, path

    def child(self, name: str) -> _Saved:
        return _Saved(self.h5, f"{self.path}/{name}" if self.path else name)

    def arrays(self, count: int, name: str | None = None) -> list[np.ndarray]:
        """The object's ``count`` variables, checking the ``name`` Keras recorded with
        them where it recorded one."""
        group = self.h5.get(self.child("vars").path)
        if group is None:
            raise Unsupported(f"no weights saved at {self.path or '/'}")
        recorded = group.attrs.get("name")
        if isinstance(recorded, bytes):
            recorded = recorded.decode()
        if name is not None and recorded is not None and recorded != name:
            raise Unsupported(f"the weights of '{recorded}' where those of '{name}' belong")
        if len(group) != count:
            raise Unsupported(f"{len(group)} weight arrays at {self.path}, not {count}")
        arrays = [group[str(i)] for i in range(count)]
        if any("dtype" in array.attrs for array in arrays):  # bfloat16, stored as bits
            raise Unsupported(f"weights of another type than float at {self.path}")
        return [np.asarray(array, dtype=np.float32) for array in arrays]

    def size(self) -> int:
        """How many numbers the object's variables hold, its inner layers' included: what
        Keras' ``count_params`` counts."""
        group, sizes = self.h5.get(self.path), []
        if group is not None:
            group.visititems(lambda _, item: sizes.append(getattr(item, "size", 0)))
        return sum(sizes)


Layer = Callable[..., np.ndarray]  # a layer's call, on its inputs as arrays


def _functional(model: dict, saved: _Saved) -> tuple[Layer, list, list[tuple[str, str, int]]]:
    """A functional model's call, on its one input, that input's shape, and each layer's
    name, type and parameter count. The call's optional second argument, a dict, receives
    every layer's output by name."""
    config = model["config"]
    saved.arrays(0, config["name"])
    inputs, outputs = _one(config["input_layers"]), _one(config["output_layers"])
    used: dict[str, int] = {}
    steps, input_shape, described = [], None, []
    for layer in config["layers"]:
        name = layer["name"]
        path = saved.child("layers").child(_unique(_snake_case(layer["class_name"]), used))
        if layer["class_name"] == "InputLayer":
            path.arrays(0, name)
            if name == inputs[0]:
                input_shape = layer["config"]["batch_shape"]
            continue
        nodes = layer["inbound_nodes"]
        if len(nodes) != 1:
            raise Unsupported(f"layer '{name}' called {len(nodes)} times")
        if any(value not in (None, False) for value in nodes[0].get("kwargs", {}).values()):
            raise Unsupported(f"layer '{name}' called with {nodes[0]['kwargs']}")
        steps.append((name, _layer(layer, path), nodes[0]["args"]))
        described.append((name, layer["class_name"], path.size()))
    if input_shape is None or inputs[1:] != [0, 0] or outputs[1:] != [0, 0]:
        raise Unsupported(f"model '{config['name']}' with inputs or outputs of other layers")

    def run(windows: np.ndarray, traced: dict | None = None) -> np.ndarray:
        values = {inputs[0]: windows}
        for name, call, args in steps:
            values[name] = call(*(_resolve(arg, values) for arg in args))
        if traced is not None:
            traced.update(values)
        return values[outputs[0]]

    return run, input_shape, described


def _one(layers: list) -> list:
    """The one ``[layer, node, tensor]`` of a model's ``input_layers`` (or outputs)."""
    if layers and isinstance(layers[0], list):
        if len(layers) != 1:
            raise Unsupported(f"a model of {len(layers)} inputs or outputs")
        layers = layers[0]
    return list(layers)


def _resolve(arg, values: dict):
    """A call's argument with each Keras tensor replaced by the array computed for it."""
    if isinstance(arg, list):
        return [_resolve(item, values) for item in arg]
    if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__":
        layer, node, tensor = arg["config"]["keras_history"]
        if (node, tensor) != (0, 0):
            raise Unsupported(f"output {tensor} of call {node} of layer '{layer}'")
        return values[layer]
    raise Unsupported(f"a layer argument {arg!r}")


def _snake_case(name: str) -> str:
    """Keras' ``naming.to_snake_case``: 'SimpleRNN' -> 'simple_rnn'."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique(name: str, used: dict[str, int]) -> str:
    """Keras' name for the next object of a container: 'lstm', 'lstm_1', ..."""
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _layer(layer: dict, saved: _Saved) -> Layer:
    """One layer's call, from its saved config and weights."""
    kind = layer.get("registered_name") or layer["class_name"]
    if kind not in LAYERS:
        raise Unsupported(f"layer '{layer['name']}' of type {layer['class_name']}")
    return LAYERS[kind](layer, saved)


def _identity(x: np.ndarray) -> np.ndarray:
    return x


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1)  # no overflow where exp(-x) would


ACTIVATIONS = {
    "linear": _identity,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
}  # those of forecast's networks; another one is Unsupported


def _activation(config: dict, key: str) -> Callable[[np.ndarray], np.ndarray]:
    name = config.get(key)
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise Unsupported(f"{key} {name!r} in '{config['name']}'")
    return ACTIVATIONS[name]


def _require(config: dict, **expected) -> None:
    """Refuse a layer whose settings differ from those evaluated here."""
    for key, value in expected.items():
        if config.get(key, value) != value:
            raise Unsupported(f"{key}={config[key]!r} in '{config['name']}'")


def _dropout(layer: dict, saved: _Saved) -> Layer:
    saved.arrays(0, layer["config"]["name"])
    return _identity


def _relative(layer: dict, saved: _Saved) -> Layer:
    saved.arrays(0, layer["config"]["name"])
    return lambda window: window - window[:, -1:, :]


def _dense(layer: dict, saved: _Saved) -> Layer:
    config = layer["config"]
    _require(config, use_bias=True, quantization_config=None)
    kernel, bias = saved.arrays(2, config["name"])
    activation = _activation(config, "activation")
    return lambda x: activation(x @ kernel + bias)


def _time_distributed(layer: dict, saved: _Saved) -> Layer:
    inner = layer["config"]["layer"]
    saved.arrays(0, layer["config"]["name"])
    if inner["class_name"] != "Dense":  # a Dense maps the last axis, at every step alike
        raise Unsupported(f"TimeDistributed({inner['class_name']})")
    return _dense(inner, saved.child("layer"))


def _reshape(layer: dict, saved: _Saved) -> Layer:
    saved.arrays(0, layer["config"]["name"])
    shape = tuple(layer["config"]["target_shape"])
    return lambda x: x.reshape((len(x), *shape))


def _anchored(layer: dict, saved: _Saved) -> Layer:
    """``network.Anchored``: the correction plus the anchor's forecast from the window."""
    config = layer["config"]
    period, horizon, n_targets = config["period"], config["horizon"], config["n_targets"]
    linear = config.get("linear", False)
    weights = saved.arrays(2 if linear else 0, config["name"])

    def call(window: np.ndarray, correction: np.ndarray) -> np.ndarray:
        targets = window[:, :, :n_targets]
        base = targets[:, base_rows(window.shape[1], horizon, period)]
        if linear:
            kernel, bias = weights
            change = np.einsum("blt,tlh->bht", targets - targets[:, -1:, :], kernel)
            base = base + change + bias.T
        if correction.ndim == 4:  # many-to-many: the same base at every step
            base = base[:, None]
        return correction + base

    return lambda inputs: call(*inputs)


def _median(layer: dict, saved: _Saved) -> Layer:
    saved.arrays(0, layer["config"]["name"])
    return lambda forecasts: np.median(np.stack(forecasts), axis=0).astype(np.float32)


def _nested(layer: dict, saved: _Saved) -> Layer:
    """An ensemble's member: a functional model called as a layer."""
    return _functional(layer, saved)[0]


GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


def _recurrent(layer: dict, saved: _Saved) -> Layer:
    """An LSTM, GRU or SimpleRNN layer over ``(samples, steps, features)``."""
    config, kind = layer["config"], layer["class_name"]
    _require(config, use_bias=True, stateful=False, return_state=False)
    if kind == "GRU":
        _require(config, reset_after=True)
    saved.arrays(0, config["name"])
    kernel, recurrent, bias = saved.child("cell").arrays(3)
    units = config["units"]
    width = GATES[kind] * units
    bias_shape = (2, width) if kind == "GRU" else (width,)
    shapes = (kernel.shape[1:], recurrent.shape, bias.shape)
    if shapes != ((width,), (units, width), bias_shape):
        raise Unsupported(f"weights of shapes {shapes} in '{config['name']}'")
    activation = _activation(config, "activation")
    gate = _activation(config, "recurrent_activation") if kind != "SimpleRNN" else None
    # GRU with reset_after: the input's bias row, and the recurrent one inside the reset
    input_bias, recurrent_bias = (bias[0], bias[1]) if kind == "GRU" else (bias, 0)

    def lstm(x, state):
        h, c = state
        i, f, g, o = np.split(x + h @ recurrent, 4, axis=-1)
        c = gate(f) * c + gate(i) * activation(g)
        h = gate(o) * activation(c)
        return h, (h, c)

    def gru(x, state):
        (h,) = state
        x_z, x_r, x_h = np.split(x, 3, axis=-1)
        h_z, h_r, h_h = np.split(h @ recurrent + recurrent_bias, 3, axis=-1)
        z, r = gate(x_z + h_z), gate(x_r + h_r)
        h = z * h + (1 - z) * activation(x_h + r * h_h)
        return h, (h,)

    def simple(x, state):
        h = activation(x + state[0] @ recurrent)
        return h, (h,)

    step = {"LSTM": lstm, "GRU": gru, "SimpleRNN": simple}[kind]
    states = 2 if kind == "LSTM" else 1
    backwards, sequences = config.get("go_backwards", False), config["return_sequences"]

    def call(x: np.ndarray) -> np.ndarray:
        if backwards:  # its outputs stay in the order read, last step first
            x = x[:, ::-1]
        projected = x @ kernel + input_bias  # every step's input, all gates at once
        state = (np.zeros((len(x), units), dtype=np.float32),) * states
        outputs = []
        for t in range(x.shape[1]):
            h, state = step(projected[:, t], state)
            outputs.append(h)
        return np.stack(outputs, axis=1) if sequences else outputs[-1]

    return call


MERGES = {
    "concat": lambda y, y_rev: np.concatenate([y, y_rev], axis=-1),
    "sum": lambda y, y_rev: y + y_rev,
    "ave": lambda y, y_rev: (y + y_rev) / 2,
    "mul": lambda y, y_rev: y * y_rev,
}


def _bidirectional(layer: dict, saved: _Saved) -> Layer:
    config = layer["config"]
    merge_mode = config.get("merge_mode")
    if merge_mode not in MERGES or "backward_layer" not in config:
        raise Unsupported(f"a Bidirectional layer ('{config['name']}') merged by {merge_mode}")
    saved.arrays(0, config["name"])
    forward = _wrapped(config["layer"], saved.child("forward_layer"))
    backward = _wrapped(config["backward_layer"], saved.child("backward_layer"))
    sequences = config["layer"]["config"]["return_sequences"]
    merge = MERGES[merge_mode]

    def call(x: np.ndarray) -> np.ndarray:
        y, y_rev = forward(x), backward(x)
        return merge(y, y_rev[:, ::-1] if sequences else y_rev)

    return call


def _wrapped(layer: dict, saved: _Saved) -> Layer:
    if layer["class_name"] not in GATES:
        raise Unsupported(f"Bidirectional({layer['class_name']})")
    return _recurrent(layer, saved)


LAYERS: dict[str, Callable[[dict, _Saved], Layer]] = {
    "Dropout": _dropout,
    "Dense": _dense,
    "TimeDistributed": _time_distributed,
    "Reshape": _reshape,
    "LSTM": _recurrent,
    "GRU": _recurrent,
    "SimpleRNN": _recurrent,
    "Bidirectional": _bidirectional,
    "Functional": _nested,
    "forecast>Relative": _relative,
    "forecast>Anchored": _anchored,
    "forecast>Median": _median,
}
