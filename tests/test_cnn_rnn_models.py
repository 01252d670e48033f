"""Notebook 03's models, run from the notebook's own cells: wiring, feature layers, masking.

The models of notebook 03 are written in its cells, not in the package; these tests run those
cells (``vidlab.tools.course.definitions``) on tiny random features, so what a student reads is
what is tested.
"""

from pathlib import Path

import keras
import numpy as np
import pytest

from vidlab import config, train
from vidlab.tools import course

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "03_cnn_rnn.ipynb"
D, C, T = 6, 4, 5  # tiny features, classes and frames: these tests check wiring, not learning


def features(n=3, steps=T, seed=0):
    return np.random.default_rng(seed).normal(1.0, 2.0, (n, steps, D)).astype("float32")


def statistics(x):
    """The standardization statistics notebook 03 computes from its training part."""
    flat = x.reshape(-1, x.shape[-1]).astype("float64")
    return {"feature_mean": flat.mean(0).astype("float32"),
            "feature_variance": np.maximum(flat.var(0), 1e-4).astype("float32")}


@pytest.fixture(scope="module")
def nb():
    """The notebook's definitions, with the globals its earlier cells would have set."""
    return course.definitions(
        NOTEBOOK, "SubtractClipMean", "TemporalDifference", "build_head", "running_predictions",
        "build_end_to_end", "unfreeze_last_layers",
        keras=keras, np=np, config=config, train=train, SEED=0, FEATURE_DIM=D, NUM_CLASSES=C,
        NUM_FRAMES=T, UNITS=3, PROJECTION=5, DROPOUT=0.2, **statistics(features(seed=1)))


def predict(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_the_head_maps_clips_of_any_length_to_class_probabilities(nb, cell):
    model = nb["build_head"](getattr(keras.layers, cell), nb["SubtractClipMean"])

    for steps in (2, T, 9):
        probabilities = predict(model, features(steps=steps))
        assert probabilities.shape == (3, C)
        np.testing.assert_allclose(probabilities.sum(1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(("cell", "expected"), [
    ("LSTM", 4 * (3 * (5 + 3) + 3)),  # four blocks: input kernel, recurrent kernel, bias
    ("GRU", 3 * (3 * (5 + 3) + 2 * 3)),  # three blocks, two biases each (reset_after=True)
])
def test_the_recurrent_layer_has_the_textbook_number_of_weights(nb, cell, expected):
    model = nb["build_head"](getattr(keras.layers, cell))

    assert model.get_layer("recurrent").count_params() == expected
    assert model.count_params() == (D * 5 + 5) + expected + (3 * C + C)


def test_the_same_seed_builds_the_same_initial_weights(nb):
    first, second = (nb["build_head"](keras.layers.GRU) for _ in range(2))

    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_standardization_uses_the_training_statistics(nb):
    model = nb["build_head"](keras.layers.LSTM)
    inside = keras.Model(model.input, model.get_layer("standardize").output)
    x = features(seed=2)

    flat = features(seed=1).reshape(-1, D).astype("float64")
    expected = (x - flat.mean(0)) / np.sqrt(np.maximum(flat.var(0), 1e-4))
    np.testing.assert_allclose(predict(inside, x), expected, rtol=1e-4, atol=1e-5)


def test_temporal_difference_is_the_change_from_one_frame_to_the_next(nb):
    x = features()
    layer = nb["TemporalDifference"]()

    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x[:, 1:] - x[:, :-1],
                               rtol=1e-6)
    mask = np.array([[True, True, True, False], [True, False, True, True]])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.compute_mask(None, mask)),
                                  [[True, True, False], [False, False, True]])


def test_subtract_clip_mean_averages_the_real_frames_only(nb):
    x = features(n=1, steps=4)
    padded = np.concatenate([x, np.full((1, 3, D), 7.0, "float32")], axis=1)
    mask = np.array([[True] * 4 + [False] * 3])
    layer = nb["SubtractClipMean"]()

    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x - x.mean(1, keepdims=True),
                               atol=1e-5)
    out = keras.ops.convert_to_numpy(layer(padded, mask=mask))
    np.testing.assert_allclose(out[:, :4], x - x.mean(1, keepdims=True), atol=1e-5)


@pytest.mark.parametrize(("cell", "transform"), [("LSTM", None), ("LSTM", "SubtractClipMean"),
                                                 ("GRU", "TemporalDifference")])
def test_a_padded_clip_gets_the_prediction_of_the_clip_unpadded(nb, cell, transform):
    model = nb["build_head"](getattr(keras.layers, cell), transform and nb[transform])
    clips = features(n=2, steps=4, seed=3)
    padded = keras.utils.pad_sequences(list(clips), maxlen=9, dtype="float32", padding="post")

    np.testing.assert_allclose(predict(model, padded), predict(model, clips), atol=1e-5)


def test_running_predictions_see_the_first_t_frames_only(nb):
    model = nb["build_head"](keras.layers.LSTM, nb["SubtractClipMean"])
    clips = features(n=2, seed=4)

    running = nb["running_predictions"](model, clips)

    assert running.shape == (2, T, C)
    np.testing.assert_allclose(running[:, -1], predict(model, clips), atol=1e-5)
    np.testing.assert_allclose(running[:, 2], predict(model, clips[:, :3]), atol=1e-5)


def tiny_cnn():
    """An image CNN with batch normalization, like MobileNetV2, at 8x8 pixels and D features."""
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv_a")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Conv2D(D, 3, name="conv_b")(x)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D(name="pool")(x))


def frames(n=2, seed=0):
    return np.random.default_rng(seed).random((n, T, 8, 8, 3)).astype("float32")


def test_end_to_end_trains_the_head_with_the_cnn_frozen(nb):
    cnn = tiny_cnn()
    cnn.trainable = False
    head = nb["build_head"](keras.layers.GRU, nb["SubtractClipMean"])
    model = nb["build_end_to_end"](cnn, head)
    cnn_before = [w.copy() for w in cnn.get_weights()]
    head_before = head.get_layer("recurrent").get_weights()[0].copy()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    loss = model.train_on_batch(frames(), np.array([0, 1]))

    assert np.isfinite(loss)
    assert model.output_shape == (None, C)
    for before, after in zip(cnn_before, cnn.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert not np.array_equal(head_before, head.get_layer("recurrent").get_weights()[0])


def test_unfreezing_the_last_layers_keeps_batch_normalization_frozen(nb):
    cnn = tiny_cnn()
    cnn.trainable = False

    assert nb["unfreeze_last_layers"](cnn, 2) == 36 * D + D  # conv_b (the pool has none)
    assert not cnn.get_layer("conv_a").trainable
    assert nb["unfreeze_last_layers"](cnn, len(cnn.layers)) == (27 * 4 + 4) + (36 * D + D)
    assert not cnn.get_layer("bn").trainable


def test_end_to_end_runs_one_step_under_mixed_precision(nb):
    head = nb["build_head"](keras.layers.LSTM, nb["SubtractClipMean"])  # float32, as in the cell
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        cnn = tiny_cnn()
        model = nb["build_end_to_end"](cnn, head)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        loss = model.train_on_batch(frames(), np.array([0, 1]))
        probabilities = model(frames(), training=False)
    finally:
        keras.config.set_dtype_policy(previous)

    assert np.isfinite(loss)
    assert model.get_layer("frame_cnn").compute_dtype == "float16", "the CNN runs in float16"
    assert head.get_layer("recurrent").compute_dtype == "float32"
    assert probabilities.dtype == "float32"
