import pytest

from forecast_cli.candidates import expand_candidates
from forecast_cli.cli import _with_optional_values, parse_merge_modes
from forecast_cli.config import Head, HeadChoice, MergeMode
from forecast_cli.errors import ForecastError

ONE = (Head.MANY_TO_ONE,)


def labels(candidates):
    return [c.label for c in candidates]


def test_merge_modes_alone_give_the_reference_experiment():
    candidates = expand_candidates([], list(MergeMode), ONE, MergeMode.CONCAT)
    assert labels(candidates) == [f"bilstm:50:{m}" for m in ("concat", "sum", "mul", "ave")]
    assert all(c.model.head is Head.MANY_TO_ONE for c in candidates)


def test_modes_times_layers_times_heads():
    candidates = expand_candidates(
        ["bilstm:8", "lstm:8", "lstm:4,bilstm:4", "bigru:4:mul"],
        [MergeMode.SUM, MergeMode.AVE],
        HeadChoice.BOTH.heads,
        MergeMode.CONCAT,
    )
    assert labels(candidates) == [
        "bilstm:8:sum m2o",
        "bilstm:8:sum m2m",
        "bilstm:8:ave m2o",
        "bilstm:8:ave m2m",
        "lstm:8 m2o",
        "lstm:8 m2m",  # no bidirectional layer: merge modes do not apply
        "lstm:4,bilstm:4:sum m2o",
        "lstm:4,bilstm:4:sum m2m",
        "lstm:4,bilstm:4:ave m2o",
        "lstm:4,bilstm:4:ave m2m",
        "bigru:4:mul m2o",
        "bigru:4:mul m2m",  # it names its own mode
    ]
    assert candidates[-1].slug == "bigru-4-mul_m2m"


def test_layers_without_merge_modes_use_the_default_merge_mode():
    candidates = expand_candidates(["bilstm:8", "gru:8"], None, ONE, MergeMode.AVE)
    assert labels(candidates) == ["bilstm:8:ave", "gru:8"]


@pytest.mark.parametrize(
    ("layers", "modes"),
    [(["lstm:8", "lstm:8"], None), (["bilstm:8:sum", "bilstm:8"], [MergeMode.SUM])],
)
def test_a_repeated_candidate_is_refused(layers, modes):
    with pytest.raises(
        ForecastError,
        match=r"--layers: the candidate (bi)?lstm:8(:sum)? "
        r"\(many-to-one\) is given twice",
    ):
        expand_candidates(layers, modes, ONE, MergeMode.CONCAT)


def test_merge_mode_lists():
    assert parse_merge_modes("all") == list(MergeMode)
    assert parse_merge_modes("ave, concat") == [MergeMode.AVE, MergeMode.CONCAT]
    with pytest.raises(
        ForecastError,
        match="--merge-modes: unknown merge mode 'max'; use concat, sum, mul, ave or all.",
    ):
        parse_merge_modes("sum,max")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["compare", "d.csv", "--merge-modes"], ["compare", "d.csv", "--merge-modes", "all"]),
        (["compare", "--merge-modes", "d.csv"], ["compare", "--merge-modes", "all", "d.csv"]),
        (
            ["compare", "--merge-modes", "--epochs", "3"],
            ["compare", "--merge-modes", "all", "--epochs", "3"],
        ),
        (["compare", "--merge-modes", "sum,ave"], ["compare", "--merge-modes", "sum,ave"]),
        (["compare", "--merge-modes", "conact"], ["compare", "--merge-modes", "conact"]),
    ],
)
def test_merge_modes_flag_takes_an_optional_value(args, expected):
    assert _with_optional_values(args) == expected
