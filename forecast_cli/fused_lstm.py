"""Run Keras's LSTM layers as TensorFlow's fused ``BlockLSTM`` kernel on a CPU.

On a CPU, a Keras 3 LSTM runs its sequence as a ``tf.while_loop`` of about a dozen
small operations per step, each dispatched by the executor, and its gradient as another
loop: for the small networks this tool trains, the dispatching costs more than the
arithmetic. TensorFlow's ``BlockLSTM`` computes the whole sequence in one kernel, and
its registered gradient the backward pass in another, with the same equations (no
peepholes, no clipping, forget bias 0). Measured on 2 cores, 2026-12-05: an epoch of
compare's four BiLSTM(50) on the sine took 0.27 s against 0.55 to 0.74 s by Keras's
loop (0.63 s compiled by XLA, which cannot compile this kernel), and tracing the step
1.7 s against 2.9 s.

The layers stay Keras LSTMs, class, configuration and weights: ``model.keras`` is the
same file and loads anywhere; only how this process computes their sequences changes.
On a GPU Keras runs cuDNN's kernel instead, and nothing here applies.

``BlockLSTMV2``, whose gates are in Keras's order, computes wrong weight gradients in
TensorFlow 2.21 (TensorFlow registers the first version's gradient for it): the first
version is used, with the gates reordered. ``tests/test_fused_lstm.py`` checks outputs
and gradients against Keras's loop.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator

from forecast_cli.config import Cell, ModelConfig
from forecast_cli.runtime import keras, tensorflow


def fused_config(model: ModelConfig) -> bool:
    """Whether ``fuse`` runs every recurrent layer that ``network.build_model`` makes of
    ``model``: LSTMs without recurrent dropout. (``fusable`` says it of built networks.)"""
    return not model.recurrent_dropout and all(layer.cell is Cell.LSTM for layer in model.layers)


def fusable(models: Iterable) -> bool:
    """Whether every recurrent layer of ``models`` is an LSTM that ``fuse`` would run."""
    k = keras()
    recurrent = [layer for model in models for layer in _recurrent(model)]
    return all(isinstance(layer, k.layers.LSTM) and _eligible(layer) for layer in recurrent)


@contextlib.contextmanager
def fused(models: Iterable) -> Iterator[bool]:
    """``fuse`` for the time of the block (a training); whether it fused any LSTM.

    Outside it the LSTMs run Keras's loop again: the kernel keeps seven values per unit
    and step of every window for its gradient, and a forecast of many windows at once
    would hold them all (200,000 windows of 20 steps through an ``lstm:16``: 1.9 GB
    against Keras's 0.4 GB), where a training's batches hold a batch's worth."""
    layers = fuse(models)
    try:
        yield bool(layers)
    finally:
        for layer in layers:
            del layer.inner_loop  # the class's own again


def fuse(models: Iterable) -> list:
    """Make each LSTM of ``models`` that computes what ``BlockLSTM`` computes (tanh and
    sigmoid, a bias, no recurrent dropout, float32, not stateful or unrolled) run its
    sequences with it, unless TensorFlow sees a GPU; the layers it changed. A layer
    called with a mask still runs Keras's loop."""
    k = keras()
    if tensorflow().config.list_logical_devices("GPU"):
        return []
    changed = []
    for model in models:
        for layer in _recurrent(model):
            fused_already = "inner_loop" in vars(layer)
            if isinstance(layer, k.layers.LSTM) and _eligible(layer) and not fused_already:
                layer.inner_loop = functools.partial(_block_lstm, layer, layer.inner_loop)
                changed.append(layer)
    return changed


def _recurrent(layer) -> Iterator:
    """The recurrent layers inside ``layer``: those of nested models, both directions of
    a bidirectional one."""
    k = keras()
    if isinstance(layer, k.layers.Bidirectional):
        yield layer.forward_layer
        yield layer.backward_layer
    elif isinstance(layer, k.layers.RNN):
        yield layer
    elif isinstance(layer, k.Model):
        for inner in layer.layers:
            yield from _recurrent(inner)


def _eligible(layer) -> bool:
    """Whether the LSTM ``layer`` computes ``BlockLSTM``'s equations with its settings."""
    k = keras()
    cell = layer.cell
    return (
        cell.activation is k.activations.tanh
        and cell.recurrent_activation is k.activations.sigmoid
        and cell.use_bias
        and not cell.dropout
        and not cell.recurrent_dropout
        and not layer.stateful
        and not layer.unroll
        and layer.compute_dtype == "float32"
    )


def _block_lstm(layer, keras_loop, sequences, initial_state, mask, training=False):
    """``LSTM.inner_loop`` by ``BlockLSTM``: ``(last output, outputs, [h, c])``, the
    outputs in the order the layer read the steps (reversed with ``go_backwards``, as
    Keras's loop gives them)."""
    if mask is not None:
        return keras_loop(sequences, initial_state, mask, training=training)
    tf = tensorflow()
    cell = layer.cell
    steps = tf.transpose(sequences, [1, 0, 2])  # time first
    if layer.go_backwards:
        steps = tf.reverse(steps, [0])
    h, c = initial_state
    none = tf.zeros([cell.units], steps.dtype)  # no peepholes
    _, cs, _, _, _, _, hs = tf.raw_ops.BlockLSTM(
        seq_len_max=tf.shape(steps, out_type=tf.int64)[0],
        x=steps,
        cs_prev=c,
        h_prev=h,
        w=_icfo(tf.concat([cell.kernel, cell.recurrent_kernel], axis=0)),
        wci=none,
        wcf=none,
        wco=none,
        b=_icfo(cell.bias),
        forget_bias=0.0,
        cell_clip=-1.0,  # none
        use_peephole=False,
    )
    return hs[-1], tf.transpose(hs, [1, 0, 2]), [hs[-1], cs[-1]]


def _icfo(weights):
    """Keras's gate columns (input, forget, cell, output) in ``BlockLSTM``'s order
    (input, cell, forget, output)."""
    tf = tensorflow()
    i, f, c, o = tf.split(weights, 4, axis=-1)
    return tf.concat([i, c, f, o], axis=-1)
