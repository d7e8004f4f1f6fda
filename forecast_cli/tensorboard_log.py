"""``--tensorboard DIR``: each network's losses per epoch as TensorBoard event files.

The layout is the one Keras's TensorBoard callback writes, ``DIR/NAME/train`` and
``DIR/NAME/validation`` with a scalar ``epoch_loss`` in each, so TensorBoard draws a
network's training and validation curves on one chart; the step is the epoch, counted
from 1 as in history.csv. TensorFlow alone writes them (``tf.summary.write``); the
``tensorboard`` package is needed only to view them.
"""

from __future__ import annotations

from pathlib import Path

from forecast_cli.epoch_log import Epoch
from forecast_cli.runtime import tensorflow

TAG = "epoch_loss"  # Keras's name for the loss of an epoch


class TensorBoardLog:
    """One event file writer per network and split, made as its first epoch comes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.writers: dict[Path, object] = {}

    def write(self, epoch: Epoch) -> None:
        tf = tensorflow()
        for split, value in (("train", epoch.loss), ("validation", epoch.val_loss)):
            path = self.directory / epoch.folder / split
            if path not in self.writers:
                self.writers[path] = tf.summary.create_file_writer(str(path))
            with self.writers[path].as_default():
                # tf.summary.scalar, written with TensorFlow alone: the scalar itself needs
                # the tensorboard package, not installed with TensorFlow.
                tf.summary.write(TAG, tf.constant(value, tf.float32), epoch.epoch, _scalar())

    def close(self) -> None:
        """Flush and close every event file."""
        for writer in self.writers.values():
            writer.close()


def _scalar():
    """The metadata that makes TensorBoard draw a summary as a curve: its scalars plugin."""
    from tensorflow.core.framework.summary_pb2 import SummaryMetadata

    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
