"""The pause before every epoch when Keras trains on arrays: tf.data autotuning on and off.

Run: `python benchmarks/epoch_start.py [--epochs 8] [--samples 448]`.

It trains the same small convolutional network twice, from the same weights
and seed, on notebook 04's temporal-stream input size (64x64 with 16 flow
channels, random values): once by `model.fit(x, y)` on the arrays, where Keras
builds its `tf.data` pipeline with autotuning on, and once on
`vidlab.cpu.array_batches`, a pipeline of the same batch size with
autotuning off, which `vidlab.train.fit` uses.  For every epoch after the
first (which traces the step) it measures the pause from the start of the
epoch to the start of its first batch, and prints the pauses, their sum and
the epoch times of both runs.

With autotuning on, the pause is the shutdown of the previous epoch's
pipeline: the main thread waits, idle, for one of that pipeline's threads to
finish (a stack dump taken during a pause shows it in the iterator's
destructor).  How long it waits depends on where in that thread's cycle the
epoch ended: from nothing to 2.6 s in our runs, so the sum varies with the
epoch's length and from run to run.
"""

from __future__ import annotations

import argparse
import sys
import time

import keras
import numpy as np

from vidlab import config, cpu

SHAPE = (64, 64, 16)
NUM_CLASSES = 8
BATCH_SIZE = 32


class EpochClock(keras.callbacks.Callback):
    """Record each epoch's pause before its first batch, and its duration."""

    def __init__(self):
        super().__init__()
        self.pauses: list[float] = []
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0:
            self.pauses.append(time.perf_counter() - self._start)

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def small_cnn() -> keras.Model:
    config.seed_everything(0)
    inputs = keras.Input(SHAPE)
    x = inputs
    for filters in (32, 64, 128):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(NUM_CLASSES, activation="softmax")(x))


def train_once(x: np.ndarray, y: np.ndarray, epochs: int, autotune: bool) -> EpochClock:
    """Train a fresh ``small_cnn``; return its clock."""
    model = small_cnn()
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    clock = EpochClock()
    config.seed_everything(1)
    if autotune:
        data = {"x": x, "y": y, "batch_size": BATCH_SIZE, "shuffle": True}
    else:
        data = {"x": cpu.array_batches(x, y, BATCH_SIZE, shuffle=True), "shuffle": False}
    model.fit(**data, epochs=epochs, callbacks=[clock], verbose=0)
    return clock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--samples", type=int, default=448)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.samples, *SHAPE)).astype("float32")
    y = rng.integers(0, NUM_CLASSES, args.samples)
    for autotune in (True, False):
        clock = train_once(x, y, args.epochs, autotune)
        pauses = clock.pauses[1:]
        label = "arrays, autotuning on " if autotune else "vidlab, autotuning off"
        print(f"{label}: pauses {' '.join(f'{p:.2f}' for p in pauses)} s "
              f"(sum {sum(pauses):.1f} s); epochs 2-{args.epochs} took "
              f"{sum(clock.seconds[1:]):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
