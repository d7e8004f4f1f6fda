"""The networks ``forecast compare`` trains: layer specs x merge modes x heads."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from forecast_cli.config import DEFAULT_LAYERS, Head, MergeMode, ModelConfig, parse_layers
from forecast_cli.errors import ForecastError


@dataclass(frozen=True)
class Candidate:
    """One network to compare: its configuration and a label that is unique in the run."""

    label: str
    model: ModelConfig

    @property
    def slug(self) -> str:
        """The folder its model is saved in (``slug``)."""
        return slug(self.label)


def slug(label: str) -> str:
    """A file-name form of a candidate's label, e.g. ``lstm-32_bilstm-32-sum``."""
    return re.sub(r"[^a-z0-9_-]+", "-", label.replace(",", "_").replace(" ", "_"))


def takes_merge_mode(spec: str) -> bool:
    """Whether some bidirectional layer of ``spec`` names no merge mode of its own."""
    # Parsed with two different defaults, a spec differs only if some layer takes one.
    return parse_layers(spec, MergeMode.CONCAT) != parse_layers(spec, MergeMode.SUM)


def expand_candidates(
    layers: list[str],
    merge_modes: list[MergeMode] | None,
    heads: tuple[Head, ...],
    default_merge: MergeMode,
    template: ModelConfig | None = None,
) -> list[Candidate]:
    """Every combination of ``layers`` specs, ``merge_modes`` and ``heads``; the rest of each
    candidate's configuration (dropout, anchor) comes from ``template``.

    Merge modes apply to the bidirectional layers of a spec that name none; a spec without
    such layers is taken once. No ``layers`` means the reference network, ``bilstm:50``.
    """
    specs = []
    for spec in layers or [DEFAULT_LAYERS]:
        modes = merge_modes if merge_modes and takes_merge_mode(spec) else [default_merge]
        specs.extend(parse_layers(spec, mode) for mode in modes)
    candidates, seen = [], set()
    for spec in specs:
        for head in heads:
            config = dataclasses.replace(template or ModelConfig(), layers=spec, head=head)
            if (config.layers, head) in seen:
                raise ForecastError(
                    f"--layers: the candidate {config.label} ({head}) is given twice; "
                    "drop the repeated --layers or merge mode."
                )
            seen.add((config.layers, head))
            label = config.label if len(heads) == 1 else f"{config.label} {_SHORT[head]}"
            candidates.append(Candidate(label, config))
    return candidates


_SHORT = {Head.MANY_TO_ONE: "m2o", Head.MANY_TO_MANY: "m2m"}
