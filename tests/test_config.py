import re

import pytest

from forecast_cli.config import Cell, LayerSpec, MergeMode, TrainConfig, parse_layers
from forecast_cli.errors import ForecastError


def test_default_layer_is_a_concat_bidirectional_lstm():
    assert parse_layers("bilstm:50") == (LayerSpec(Cell.LSTM, 50, True, MergeMode.CONCAT),)


def test_stack_is_read_bottom_first_with_explicit_and_default_merge_modes():
    layers = parse_layers("lstm:64, bigru:32:sum,BIRNN:8", default_merge=MergeMode.AVE)
    assert layers == (
        LayerSpec(Cell.LSTM, 64),
        LayerSpec(Cell.GRU, 32, True, MergeMode.SUM),
        LayerSpec(Cell.RNN, 8, True, MergeMode.AVE),
    )
    assert ",".join(map(str, layers)) == "lstm:64,bigru:32:sum,birnn:8:ave"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("lstm", "--layers: cannot read 'lstm'; write CELL:UNITS[:MERGE]"),
        ("conv:5", "--layers: unknown cell 'conv' in 'conv:5'; use lstm, gru or rnn."),
        ("bilstm:0", "--layers: units must be a whole number of at least 1, got '0'"),
        ("gru:x", "--layers: units must be a whole number of at least 1, got 'x'"),
        ("bilstm:8:max", "--layers: unknown merge mode 'max' in 'bilstm:8:max'; use one of"),
        ("lstm:8:sum", "--layers: 'lstm:8:sum' names a merge mode but is not bidirectional"),
        ("lstm:8,", "--layers: cannot read ''"),
    ],
)
def test_invalid_layer_specs_name_the_flag_and_the_fix(spec, message):
    with pytest.raises(ForecastError, match="^" + re.escape(message)):
        parse_layers(spec)


@pytest.mark.parametrize("flag", ["learning_rate", "clipnorm"])
def test_rates_must_be_positive(flag):
    with pytest.raises(ForecastError, match=f"--{flag.replace('_', '-')} must be greater than 0"):
        TrainConfig(**{flag: 0.0})
