"""Do the full profile's models build and train, in mixed precision on a GPU?

Run: `python benchmarks/full_profile_models.py` (any Keras backend: on Colab
TensorFlow, elsewhere e.g. `KERAS_BACKEND=jax`).  With random weights (nothing is
downloaded) it builds each model the full-profile notebooks train, at their
input sizes, runs a few training steps on random inputs and prints, per model:
its parameters, the dtype of its output, whether every loss was finite, and the
median time of one training step.  On a GPU the models run under the
``mixed_float16`` policy (float16 maths, float32 weights and softmax), as the
notebooks do; on a CPU in float32, one small batch each, only to show that they
build and train.  Every output must be float32 (a float16 softmax loses small
probabilities): the script exits with 1 otherwise, or if a loss is not finite.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import keras
import numpy as np

from vidlab import backbones, config, train
from vidlab.models import i3d
from vidlab.tools import course

NUM_CLASSES = 10  # the UCF101 subset of the full profile
FRAMES = 16
FLOW_LENGTH = 8  # notebook 04's L: flow fields stacked by the temporal stream
NOTEBOOK_03 = Path(__file__).resolve().parent.parent / "notebooks" / "03_cnn_rnn.ipynb"


def cnn_lstm_end_to_end(backbone) -> keras.Model:
    """Notebook 03's end-to-end CNN + LSTM, built by the notebook's own cells.

    As in the notebook, the head is built in float32 before the image CNN, whose dtype follows
    the global policy; its standardization statistics are zero means and unit variances here.
    """
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        cells = course.definitions(
            NOTEBOOK_03, "SubtractClipMean", "build_head", "build_end_to_end",
            keras=keras, np=np, config=config, train=train, SEED=0, NUM_CLASSES=NUM_CLASSES,
            NUM_FRAMES=FRAMES, FEATURE_DIM=backbone.feature_dim, UNITS=32, PROJECTION=64,
            DROPOUT=0.2, feature_mean=np.zeros(backbone.feature_dim, "float32"),
            feature_variance=np.ones(backbone.feature_dim, "float32"))
        head = cells["build_head"](keras.layers.LSTM, cells["SubtractClipMean"])
    finally:
        keras.config.set_dtype_policy(policy)
    backbone.model.trainable = False
    return cells["build_end_to_end"](backbone.model, head)


def models(gpu: bool) -> dict[str, tuple[keras.Model, tuple[int, ...]]]:
    """Each full-profile model with random weights and the shape of one input sample."""
    mobilenet = backbones.get_backbone("mobilenet_v2", "full", weights=False)
    size = mobilenet.input_size
    # Notebook 04 writes its streams in its cells; they are taken from there.
    streams = course.definitions(
        course.NOTEBOOKS / "04_two_stream.ipynb",
        "build_spatial_stream", "build_temporal_stream", "cross_modality_init",
        keras=keras, layers=keras.layers, np=np)
    temporal = streams["build_temporal_stream"](mobilenet, NUM_CLASSES, FLOW_LENGTH)
    streams["cross_modality_init"](temporal, mobilenet.model)
    return {
        "CNN + LSTM end to end (03)": (
            cnn_lstm_end_to_end(mobilenet),
            (FRAMES, size, size, 3)),
        "spatial stream (04)": (
            streams["build_spatial_stream"](mobilenet, NUM_CLASSES), (size, size, 3)),
        "temporal stream, cross-modality (04)": (temporal, (size, size, 2 * FLOW_LENGTH)),
        "I3D, RGB (05)": (
            i3d.InceptionI3D(num_classes=NUM_CLASSES, num_frames=FRAMES, size=224,
                             final_endpoint="Predictions"),
            (FRAMES, 224, 224, 3)),
    }


def train_steps(model: keras.Model, sample_shape: tuple[int, ...], batch_size: int,
                steps: int) -> tuple[bool, float]:
    """Train ``steps`` steps on random data; return (every loss finite, median step seconds)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (batch_size, *sample_shape)).astype("float32")
    y = rng.integers(0, NUM_CLASSES, batch_size)
    model.compile(keras.optimizers.Adam(1e-4), "sparse_categorical_crossentropy")
    losses, seconds = [float(model.train_on_batch(x, y))], []  # the first step compiles
    for _ in range(steps):
        start = time.perf_counter()
        losses.append(float(model.train_on_batch(x, y)))
        seconds.append(time.perf_counter() - start)
    return bool(np.all(np.isfinite(losses))), float(np.median(seconds)) if seconds else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=None,
                        help="clips per step (default: 8 on a GPU, 1 on a CPU)")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps after the first (default: 5 on a GPU, 0 on a CPU)")
    args = parser.parse_args(argv)
    gpu = config.gpu_available()
    batch_size = args.batch_size or (8 if gpu else 1)
    steps = args.steps if args.steps is not None else (5 if gpu else 0)
    policy = "mixed_float16" if gpu else "float32"
    keras.mixed_precision.set_global_policy(policy)
    config.seed_everything(0)
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}, "
          f"{'GPU' if gpu else 'CPU'}, policy {policy}, batch {batch_size}")
    print(f"{'model':<38}{'parameters':>12}{'output':>9}{'finite':>8}{'step':>10}")
    ok = True
    for name, (model, shape) in models(gpu).items():
        try:
            finite, seconds = train_steps(model, shape, batch_size, steps)
        except Exception as error:  # report every model, not only the first that fails
            ok = False
            print(f"{name:<38} FAILED: {type(error).__name__}: {str(error)[:200]}")
            continue
        ok &= finite and model.output.dtype == "float32"
        step = f"{seconds * 1000:.0f} ms" if steps else "-"
        print(f"{name:<38}{model.count_params():>12,}{model.output.dtype:>9}{str(finite):>8}"
              f"{step:>10}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
