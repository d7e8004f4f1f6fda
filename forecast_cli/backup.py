"""A training's last completed epoch, kept on disk so that a crashed run can resume.

``forecast train`` writes one file after each epoch: every variable of the networks and
of the optimiser, and the early-stopping state with the best weights so far. Run again
with the same data and settings, it resumes from that epoch and ends exactly where the
uninterrupted run would have. This is the TensorFlow guides' ``BackupAndRestore``, which
in Keras 3 keeps neither the early-stopping state nor the rule that only a cluster's
chief writes. The file is an ``.npz`` (arrays and one JSON text, no pickle) replaced
atomically, and carries a digest of everything the training depends on: a backup made
with other data or settings is never resumed.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecast_cli.artifacts import atomic_path

FORMAT = 1  # of the file; a backup written in another format is not resumed


@dataclass(frozen=True)
class Snapshot:
    """The state after ``epoch`` epochs: JSON-able ``state`` and named lists of arrays."""

    epoch: int
    state: dict
    arrays: dict[str, list[np.ndarray]]


def backup_path(model_dir: Path) -> Path:
    """Where the training of ``model_dir`` keeps its backup: a file beside it."""
    model_dir = model_dir.absolute()
    return model_dir.with_name(f"{model_dir.name}.backup.npz")


def digest(settings: dict, arrays: Iterable[np.ndarray]) -> str:
    """A key for what a training depends on: its settings and the bytes of its data."""
    key = hashlib.blake2b(json.dumps([FORMAT, settings], sort_keys=True, default=str).encode())
    for array in arrays:
        key.update(f"{array.dtype}{array.shape}".encode())
        key.update(np.ascontiguousarray(array).data)
    return key.hexdigest()[:32]


def write(path: Path, key: str, snapshot: Snapshot) -> None:
    """Replace the backup at ``path`` with ``snapshot`` in one rename, once its bytes are
    on the disk."""
    names = list(snapshot.arrays)
    flat = [array for name in names for array in snapshot.arrays[name]]
    meta = {
        "key": key,
        "epoch": snapshot.epoch,
        "state": snapshot.state,
        "lists": {name: len(snapshot.arrays[name]) for name in names},
    }
    with atomic_path(path) as temporary, temporary.open("wb") as file:
        np.savez(file, meta=np.array(json.dumps(meta)), **{f"a{i}": a for i, a in enumerate(flat)})
        file.flush()
        os.fsync(file.fileno())


def read(path: Path, key: str) -> tuple[Snapshot | None, str | None]:
    """The snapshot at ``path`` if it was made for ``key``; otherwise ``None`` and why
    (``None`` too when there is no backup)."""
    if not path.is_file():
        return None, None
    try:
        with np.load(path, allow_pickle=False) as file:
            meta = json.loads(str(file["meta"]))
            if meta["key"] != key:
                return None, f"the backup {path} was made with other data or settings"
            flat = iter([file[f"a{i}"] for i in range(sum(meta["lists"].values()))])
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
        return None, f"the backup {path} cannot be read"
    arrays = {name: [next(flat) for _ in range(count)] for name, count in meta["lists"].items()}
    return Snapshot(int(meta["epoch"]), meta["state"], arrays), None
