"""Training-step time of notebook 05's mini-I3D with vidlab's 2D-computed 3D layers or Keras's own.

Run: `python benchmarks/layers3d.py [--batch-size 8] [--repeats 10]`.

It builds the quick profile's mini-I3D as notebook 05 does (16 frames of
64x64, time stride 4 in the stem), whose convolutions and max pools are
:class:`vidlab.models.layers3d.StackedConv3D` and
:class:`~vidlab.models.layers3d.SeparableMaxPooling3D`, and a clone of it in
which they are plain ``keras.layers.Conv3D`` and ``MaxPooling3D``, with the
same weights.  It first checks that both predict the same on a random batch
(the largest absolute difference of their softmax outputs), then times
``train_on_batch`` on a random batch with integer labels: two warm-up steps
each (tracing), then ``--repeats`` steps each, alternating between the two
models so that other work on the machine slows both alike.  It prints the
median and fastest step in milliseconds per clip and the speed-up, and exits
with 1 if the predictions differ by more than 1e-4.
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np
from keras import layers

from vidlab import backbones, config
from vidlab.models import inception2d
from vidlab.models.layers3d import SeparableMaxPooling3D, StackedConv3D

NUM_FRAMES = 16
NUM_CLASSES = 8
STEM_TIME_STRIDE = 4  # notebook 05's quick profile
TOLERANCE = 1e-4
#: Each layer of vidlab.models.layers3d and the Keras layer it computes.
KERAS_LAYERS = {StackedConv3D: layers.Conv3D, SeparableMaxPooling3D: layers.MaxPooling3D}


def mini_i3d() -> keras.Model:
    """Notebook 05's mini-I3D on the quick profile: inflated shapes_inception and a new head."""
    config.seed_everything(0)
    backbone = backbones.get_backbone("shapes_inception", "quick")
    features = inception2d.inflated_features(
        backbone.classifier, NUM_FRAMES, "replicate", stem_time_stride=STEM_TIME_STRIDE
    )
    return inception2d.video_classifier(features, NUM_CLASSES)


def with_keras_layers(model: keras.Model) -> keras.Model:
    """A clone of ``model`` with Keras's Conv3D and MaxPooling3D in place of vidlab's, same weights.

    The layers of :mod:`vidlab.models.layers3d` take their parent's config, so
    each is rebuilt as its parent from its own config; every other layer is
    cloned as is.  The layer order, and so the weight order, is unchanged.
    """

    def clone(layer: layers.Layer) -> layers.Layer:
        return KERAS_LAYERS.get(type(layer), type(layer)).from_config(layer.get_config())

    plain = keras.models.clone_model(model, clone_function=clone)
    plain.set_weights(model.get_weights())
    left = [layer.name for layer in plain.layers if type(layer) in KERAS_LAYERS]
    if left:
        raise RuntimeError(f"The Keras clone still holds vidlab layers: {left}")
    return plain


def count_layers(model: keras.Model, layer_type: type) -> int:
    """How many layers of exactly ``layer_type`` ``model`` has."""
    return sum(type(layer) is layer_type for layer in model.layers)


def time_training(
    models: dict[str, keras.Model], batch_size: int, repeats: int
) -> dict[str, list[float]]:
    """Seconds of each of ``repeats`` training steps per model, the models taking turns."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (batch_size, NUM_FRAMES, 64, 64, 3)).astype(np.float32)
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

    vidlab_model = mini_i3d()
    keras_model = with_keras_layers(vidlab_model)
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}, "
          f"mini-I3D on ({NUM_FRAMES}, 64, 64, 3) clips, batch {args.batch_size}, "
          f"{args.repeats} timed steps each")
    print(f"{count_layers(vidlab_model, StackedConv3D)} StackedConv3D and "
          f"{count_layers(vidlab_model, SeparableMaxPooling3D)} SeparableMaxPooling3D layers "
          f"against {count_layers(keras_model, layers.Conv3D)} Conv3D and "
          f"{count_layers(keras_model, layers.MaxPooling3D)} MaxPooling3D")

    clips = np.random.default_rng(1).uniform(-1, 1, (args.batch_size, NUM_FRAMES, 64, 64, 3))
    clips = clips.astype(np.float32)
    difference = float(np.abs(vidlab_model.predict_on_batch(clips)
                              - keras_model.predict_on_batch(clips)).max())
    same = difference <= TOLERANCE
    print(f"predictions: max abs difference {difference:.1e} (<= {TOLERANCE:g}: {same})")

    models = {"keras Conv3D/MaxPooling3D": keras_model, "vidlab.models.layers3d": vidlab_model}
    seconds = time_training(models, args.batch_size, args.repeats)
    per_clip = {name: 1000 * np.array(s) / args.batch_size for name, s in seconds.items()}
    print(f"{'layers':<28}{'median ms/clip':>16}{'fastest ms/clip':>17}")
    for name, ms in per_clip.items():
        print(f"{name:<28}{np.median(ms):>16.1f}{ms.min():>17.1f}")
    keras_ms, vidlab_ms = (np.median(ms) for ms in per_clip.values())
    print(f"speed-up of vidlab.models.layers3d (median): {keras_ms / vidlab_ms:.1f}x")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
