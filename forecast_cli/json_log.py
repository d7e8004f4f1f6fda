"""``--log-format json``: one JSON object per epoch and network, a line each, for
scripts, CI and agents that follow a training without parsing a progress bar."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import TextIO

from forecast_cli.epoch_log import Epoch


class JsonLines:
    """Writes ``{"event": "epoch", "candidate", "fold", "seed", "epoch", "loss",
    "val_loss", "seconds"}`` lines to ``stream``, each flushed as it is written."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, epoch: Epoch) -> None:
        record = {"event": "epoch"} | dataclasses.asdict(epoch)
        del record["folder"]
        record["seconds"] = round(record["seconds"], 3)
        for name in ("loss", "val_loss"):  # JSON has no NaN: a diverged loss is null
            record[name] = record[name] if math.isfinite(record[name]) else None
        self.stream.write(json.dumps(record, allow_nan=False) + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Nothing to close: every line is written whole as it comes."""
