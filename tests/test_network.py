import itertools

import numpy as np
import pytest

from forecast_cli.config import Head, MergeMode, ModelConfig, parse_layers
from forecast_cli.network import build_model, describe, final_step, fitted_shape

LOOKBACK, FEATURES, HORIZON, TARGETS = 6, 3, 2, 2
DIRECTIONS = ["", *(f"bi:{mode}" for mode in MergeMode)]


def spec(cell: str, direction: str, units: int = 4) -> str:
    if not direction:
        return f"{cell}:{units}"
    return f"bi{cell}:{units}:{direction.split(':')[1]}"


@pytest.mark.parametrize(
    ("cell", "direction", "head", "stacked"),
    list(itertools.product(["lstm", "gru", "rnn"], DIRECTIONS, list(Head), [False, True])),
)
def test_every_architecture_builds_with_the_right_output_shape(cell, direction, head, stacked):
    layers = spec(cell, direction)
    if stacked:  # a unidirectional layer below: it must return sequences
        layers = f"{cell}:3,{layers}"
    model = build_model(
        ModelConfig(parse_layers(layers), head), LOOKBACK, FEATURES, HORIZON, TARGETS
    )
    outputs = model(np.zeros((5, LOOKBACK, FEATURES), dtype=np.float32))
    per_step = (LOOKBACK,) if head is Head.MANY_TO_MANY else ()
    assert tuple(outputs.shape) == (5, *per_step, HORIZON, TARGETS)
    assert final_step(np.asarray(outputs), head).shape == (5, HORIZON, TARGETS)


@pytest.mark.parametrize(("mode", "width"), [("concat", 8), ("sum", 4), ("mul", 4), ("ave", 4)])
def test_merge_mode_sets_the_bidirectional_width(mode, width):
    model = build_model(ModelConfig(parse_layers(f"bilstm:4:{mode}")), 5, 1, 1, 1)
    assert describe(model)[0].output_shape == (None, width)


def test_lstm_parameter_count_matches_the_formula():
    units, features = 7, 3
    model = build_model(ModelConfig(parse_layers(f"bilstm:{units}")), 5, features, 1, 1)
    per_direction = 4 * (units * (features + units) + units)
    rows = describe(model)
    assert rows[0].params == 2 * per_direction
    assert rows[1].params == 2 * units + 1  # Dense on the concatenated state
    assert sum(row.params for row in rows) == model.count_params()


def test_dropout_goes_between_layers_only_when_asked():
    without = [
        r.kind
        for r in describe(build_model(ModelConfig(parse_layers("lstm:3,lstm:3")), 5, 1, 1, 1))
    ]
    with_dropout = [
        r.kind
        for r in describe(
            build_model(ModelConfig(parse_layers("lstm:3,lstm:3"), dropout=0.2), 5, 1, 1, 1)
        )
    ]
    assert "Dropout" not in without
    assert with_dropout.count("Dropout") == 2


def test_many_to_many_is_fitted_to_the_targets_at_every_step():
    assert fitted_shape((30, 2, 3), Head.MANY_TO_MANY, lookback=4) == (30, 4, 2, 3)
    assert fitted_shape((30, 2, 3), Head.MANY_TO_ONE, lookback=4) == (30, 2, 3)
