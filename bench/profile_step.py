"""Where a training step of the default network spends its time, and two knobs tried.

Traces three epochs of ``forecast``'s fit (the network of ``bench/throughput.py``) with
the TensorFlow profiler and groups the ops' self time (``framework_op_stats``, the
table TensorBoard's profile plugin shows), then asks Keras for XLA
(``jit_compile``). Not part of ``make bench``; its findings are in
``bench/README.md``.

    python bench/profile_step.py
"""

from __future__ import annotations

import collections
import glob
import json
import tempfile
import time

import throughput

GROUPS = {
    "MatMul": "matrix products",
    "TensorList": "recurrent loop bookkeeping",
    "Dataset": "input pipeline",
    "Iterator": "input pipeline",
    "Gather": "input pipeline",
    "ResourceApply": "optimizer",
}


def setup():
    from forecast_cli.config import TrainConfig

    prepared, config = throughput.setup()
    return prepared, config, TrainConfig(epochs=3, patience=10)


def run(prepared, config, training) -> float:
    from forecast_cli.pipeline import build_network
    from forecast_cli.training import Branch, fit

    model = build_network(config, prepared, training.seed)
    started = time.perf_counter()
    fit([Branch(model.name, model, config.head)], prepared.train, prepared.val, training)
    return time.perf_counter() - started


def op_breakdown(prepared, config, training) -> dict:
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin as plugin

    from forecast_cli.runtime import tensorflow

    tf = tensorflow()
    run(prepared, config, training)  # traced functions and kernels settle first
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        wall = run(prepared, config, training)
        tf.profiler.experimental.stop()
        (path,) = glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)
        data, _ = plugin.xspace_to_tools_data([path], "framework_op_stats", {})
    table = json.loads(data)[0]
    names = [column["id"] for column in table["cols"]]
    ops = [
        dict(zip(names, [cell.get("v") for cell in row["c"]], strict=True)) for row in table["rows"]
    ]
    busy = collections.Counter()
    for op in ops:
        if op["type"] != "IDLE":
            group = next((g for key, g in GROUPS.items() if key in op["type"]), "element-wise")
            busy[group] += op["total_self_time"] / 1e6
    return {"wall_s": round(wall, 2), "busy_s": {g: round(s, 3) for g, s in busy.most_common()}}


def xla(prepared, config, training) -> dict:
    """Whether Keras compiles this network with XLA when asked (``jit_compile=True``)."""
    import warnings

    from forecast_cli.pipeline import build_network

    model = build_network(config, prepared, training.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras says it falls back, if it does
        model.compile(optimizer="adam", loss="mse", jit_compile=True)
    return {"xla_accepted": bool(model.jit_compile)}


if __name__ == "__main__":
    prepared, config, training = setup()
    print(
        json.dumps(
            {**op_breakdown(prepared, config, training), **xla(prepared, config, training)},
            indent=2,
        )
    )
