"""Training-step time of notebook 05's mini-I3D with Keras's 3D layers or vidlab's 2D-computed ones.

Run: `python benchmarks/layers3d.py [--batch-size 8] [--repeats 10]`, and again with
`TF_ENABLE_ONEDNN_OPTS=0` (the second pass of `make test`), where the difference is largest.

It builds the mini-I3D exactly as notebook 05's cells write it (``build_mini_i3d`` with the
quick profile's 16 frames of 64x64 and time stride 4 in the stem, weights inflated from
``shapes_inception``), whose convolutions and max pools are ``keras.layers.Conv3D`` and
``MaxPooling3D``, and the copy :func:`vidlab.cpu.with_2d_ops` makes of it, in
which they are :class:`~vidlab.cpu.StackedConv3D` and
:class:`~vidlab.cpu.SeparableMaxPooling3D`, with the same weights.  It first
checks that both predict the same on a random batch (the largest absolute difference of
their softmax outputs), then times ``train_on_batch`` on a random batch with integer labels:
two warm-up steps each (tracing), then ``--repeats`` steps each, alternating between the two
models so that other work on the machine slows both alike.  It prints the median and fastest
step in milliseconds per clip and the speed-up, and exits with 1 if the predictions differ by
more than 1e-4.
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np
from keras import layers

from vidlab import backbones, config
from vidlab.cpu import SeparableMaxPooling3D, StackedConv3D, with_2d_ops
from vidlab.tools import course

NUM_CLASSES = 8
#: The names notebook 05's model-building cells read, at their quick-profile values.
NOTEBOOK_PARAMETERS = {"NUM_FRAMES": 16, "FRAME_SIZE": 64, "STEM_TIME_STRIDE": 4}
TOLERANCE = 1e-4


def mini_i3d() -> keras.Model:
    """Notebook 05's mini-I3D, built by the notebook's own cells, weights inflated from 2D."""
    config.seed_everything(0)
    page = course.definitions(
        course.NOTEBOOKS / "05_i3d.ipynb",
        "inflate_kernel", "unit_3d", "inception_3d", "inflate_weights", "build_mini_i3d",
        np=np, keras=keras, layers=layers, **NOTEBOOK_PARAMETERS,
    )
    model = page["build_mini_i3d"](NUM_CLASSES)
    page["inflate_weights"](model, backbones.get_backbone("shapes_inception", "quick").classifier)
    return model


def count_layers(model: keras.Model, layer_type: type) -> int:
    """How many layers of exactly ``layer_type`` ``model`` has."""
    return sum(type(layer) is layer_type for layer in model.layers)


def time_training(
    models: dict[str, keras.Model], batch_size: int, repeats: int
) -> dict[str, list[float]]:
    """Seconds of each of ``repeats`` training steps per model, the models taking turns."""
    rng = np.random.default_rng(0)
    frames, size = NOTEBOOK_PARAMETERS["NUM_FRAMES"], NOTEBOOK_PARAMETERS["FRAME_SIZE"]
    x = rng.uniform(-1, 1, (batch_size, frames, size, size, 3)).astype(np.float32)
    y = rng.integers(0, NUM_CLASSES, batch_size)
    for model in models.values():
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss="sparse_categorical_crossentropy",
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
        for _ in range(2):  # warm-up: the first steps trace the training function
            model.train_on_batch(x, y)
    seconds: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            start = time.perf_counter()
            model.train_on_batch(x, y)
            seconds[name].append(time.perf_counter() - start)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=8, help="clips per training step")
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per model")
    args = parser.parse_args(argv)

    keras_model = mini_i3d()
    vidlab_model = with_2d_ops(keras_model)
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}, "
          f"mini-I3D on {keras_model.input.shape[1:]} clips, batch {args.batch_size}, "
          f"{args.repeats} timed steps each")
    print(f"{count_layers(vidlab_model, StackedConv3D)} StackedConv3D and "
          f"{count_layers(vidlab_model, SeparableMaxPooling3D)} SeparableMaxPooling3D layers "
          f"against {count_layers(keras_model, layers.Conv3D)} Conv3D and "
          f"{count_layers(keras_model, layers.MaxPooling3D)} MaxPooling3D")

    clips = np.random.default_rng(1).uniform(-1, 1, (args.batch_size, *keras_model.input.shape[1:]))
    clips = clips.astype(np.float32)
    difference = float(np.abs(vidlab_model.predict_on_batch(clips)
                              - keras_model.predict_on_batch(clips)).max())
    same = difference <= TOLERANCE
    print(f"predictions: max abs difference {difference:.1e} (<= {TOLERANCE:g}: {same})")

    models = {"keras Conv3D/MaxPooling3D": keras_model, "vidlab.cpu, 2D ops": vidlab_model}
    seconds = time_training(models, args.batch_size, args.repeats)
    per_clip = {name: 1000 * np.array(s) / args.batch_size for name, s in seconds.items()}
    print(f"{'layers':<28}{'median ms/clip':>16}{'fastest ms/clip':>17}")
    for name, ms in per_clip.items():
        print(f"{name:<28}{np.median(ms):>16.1f}{ms.min():>17.1f}")
    keras_ms, vidlab_ms = (np.median(ms) for ms in per_clip.values())
    print(f"speed-up of the 2D ops (median): {keras_ms / vidlab_ms:.1f}x")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
