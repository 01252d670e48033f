"""Recurrent classifiers over frame features: wiring, feature layers, masking, end to end."""

import keras
import numpy as np
import pytest

from vidlab import backbones
from vidlab.models.recurrent import (
    BACKBONE_LAYER,
    SubtractClipMean,
    TemporalDifference,
    build_end_to_end_classifier,
    build_recurrent_classifier,
    feature_statistics,
    running_predictions,
    set_backbone_trainable,
)

D, C = 6, 4  # tiny features and classes: these tests check wiring, not learning


def features(n=3, steps=5, dim=D, seed=0):
    return np.random.default_rng(seed).normal(1.0, 2.0, (n, steps, dim)).astype("float32")


def predict(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


# --------------------------------------------------------------------------- the builder


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_classifier_maps_clips_to_class_probabilities(cell):
    model = build_recurrent_classifier(5, D, C, cell=cell, units=3)

    probabilities = predict(model, features())

    assert probabilities.shape == (3, C)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(("cell", "expected"), [
    ("lstm", 4 * (8 * (D + 8) + 8)),  # four gates: input kernel, recurrent kernel, bias
    ("gru", 3 * (8 * (D + 8) + 2 * 8)),  # three gates, two biases each (reset_after=True)
])
def test_the_recurrent_layer_has_the_textbook_number_of_weights(cell, expected):
    model = build_recurrent_classifier(5, D, C, cell=cell, units=8)

    assert model.get_layer(f"{cell}_1").count_params() == expected
    assert model.count_params() == expected + 8 * C + C


def test_stacked_bidirectional_layers_feed_each_other_sequences():
    model = build_recurrent_classifier(5, D, C, units=3, layers=2, bidirectional=True)

    first, second = model.get_layer("bidirectional_lstm_1"), model.get_layer("bidirectional_lstm_2")
    assert first.output.shape == (None, 5, 6)  # every step, both directions
    assert second.output.shape == (None, 6)  # the last state of both directions
    assert predict(model, features()).shape == (3, C)


def test_any_number_of_frames_when_num_frames_is_none():
    model = build_recurrent_classifier(None, D, C, units=3)

    for steps in (2, 5, 9):
        assert predict(model, features(steps=steps)).shape == (3, C)


def test_the_output_layer_is_float32_and_named():
    model = build_recurrent_classifier(5, D, C, units=3)

    head = model.get_layer("class_probabilities")
    assert head.dtype_policy.compute_dtype == "float32"
    assert model.output.dtype == "float32"


@pytest.mark.parametrize(("arguments", "message"), [
    ({"cell": "rnn"}, "cell must be one of"),
    ({"units": 0}, "at least 1"),
    ({"layers": 0}, "at least 1"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ({"projection": 0}, "projection must be"),
])
def test_wrong_arguments_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        build_recurrent_classifier(5, D, C, **arguments)


# --------------------------------------------------------------------------- feature layers


def test_temporal_difference_is_the_change_from_one_frame_to_the_next():
    x = features()

    out = keras.ops.convert_to_numpy(TemporalDifference()(x))

    np.testing.assert_allclose(out, x[:, 1:] - x[:, :-1], rtol=1e-6)


def test_a_difference_is_masked_when_either_of_its_frames_is():
    mask = np.array([[True, True, True, False], [True, False, True, True]])

    out = keras.ops.convert_to_numpy(TemporalDifference().compute_mask(None, mask))

    np.testing.assert_array_equal(out, [[True, True, False], [False, False, True]])


def test_subtract_clip_mean_leaves_what_changes():
    x = features()
    still = np.repeat(x[:, :1], 5, axis=1)  # a clip whose frames never change

    out = keras.ops.convert_to_numpy(SubtractClipMean()(x))

    np.testing.assert_allclose(out, x - x.mean(1, keepdims=True), atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(SubtractClipMean()(still)), 0.0,
                               atol=1e-6)


def test_subtract_clip_mean_averages_the_unmasked_frames_only():
    x = features(n=1, steps=4)
    padded = np.concatenate([x, np.full((1, 3, D), 7.0, "float32")], axis=1)
    mask = np.array([[True] * 4 + [False] * 3])

    out = keras.ops.convert_to_numpy(SubtractClipMean()(padded, mask=mask))

    np.testing.assert_allclose(out[:, :4], x - x.mean(1, keepdims=True), atol=1e-5)


def test_feature_statistics_are_per_feature_and_floor_dead_features():
    x = features()
    x[..., 0] = 0.0  # a ReLU feature that never fires

    mean, variance = feature_statistics(x)

    flat = x.reshape(-1, D)
    np.testing.assert_allclose(mean, flat.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(variance[1:], flat.var(0)[1:], rtol=1e-5)
    assert variance[0] > 0


def test_the_standardize_layer_uses_the_training_statistics():
    train = features(seed=1)
    model = build_recurrent_classifier(5, D, C, units=3, standardize_with=train)
    inside = keras.Model(model.input, model.get_layer("standardize").output)
    x = features(seed=2)

    mean, variance = feature_statistics(train)
    np.testing.assert_allclose(predict(inside, x), (x - mean) / np.sqrt(variance), rtol=1e-4,
                               atol=1e-5)


# --------------------------------------------------------------------------- masking


def masked_model(**kwargs):
    keras.utils.set_random_seed(0)
    return build_recurrent_classifier(None, D, C, units=3, mask=True, standardize_with=features(),
                                      **kwargs)


@pytest.mark.parametrize("transform", [{}, {"subtract_clip_mean": True, "projection": 5},
                                       {"differences": True, "cell": "gru"}])
def test_a_padded_clip_gets_the_prediction_of_the_clip_unpadded(transform):
    model = masked_model(**transform)
    clips = features(n=2, steps=4, seed=3)
    padded = keras.utils.pad_sequences(list(clips), maxlen=9, dtype="float32", padding="post")

    np.testing.assert_allclose(predict(model, padded), predict(model, clips), atol=1e-5)


def test_without_the_mask_padding_changes_the_prediction():
    keras.utils.set_random_seed(0)
    model = build_recurrent_classifier(None, D, C, units=3, subtract_clip_mean=True)
    clips = features(n=2, steps=4, seed=3)
    padded = keras.utils.pad_sequences(list(clips), maxlen=9, dtype="float32", padding="post")

    assert not np.allclose(predict(model, padded), predict(model, clips), atol=1e-3)


def test_running_predictions_see_the_first_t_frames_only():
    model = masked_model(subtract_clip_mean=True)
    clips = features(n=2, steps=5, seed=4)

    running = running_predictions(model, clips)

    assert running.shape == (2, 5, C)
    np.testing.assert_allclose(running[:, -1], predict(model, clips), atol=1e-5)
    np.testing.assert_allclose(running[:, 2], predict(model, clips[:, :3]), atol=1e-5)


def test_running_predictions_need_a_mask():
    with pytest.raises(ValueError, match="mask=True"):
        running_predictions(build_recurrent_classifier(None, D, C, units=3), features())


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def quick_backbone():
    """The quick profile's image CNN with random weights (the wiring does not need its file)."""
    return backbones.get_backbone("shapes_vgg", weights=False)


def frames(backbone, n=2, steps=3, seed=0):
    size = backbone.input_size
    return np.random.default_rng(seed).random((n, steps, size, size, 3)).astype("float32")


def test_end_to_end_trains_the_head_with_the_backbone_frozen(quick_backbone):
    keras.utils.set_random_seed(0)
    model = build_end_to_end_classifier(quick_backbone, 3, C, cell="gru", units=4,
                                        subtract_clip_mean=True)
    cnn_before = [keras.ops.convert_to_numpy(w) for w in quick_backbone.model.weights]
    head_before = keras.ops.convert_to_numpy(model.get_layer("gru_1").weights[0])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    loss = model.train_on_batch(frames(quick_backbone), np.array([0, 1]))

    assert np.isfinite(loss)
    assert predict(model, frames(quick_backbone)).shape == (2, C)
    for before, after in zip(cnn_before, quick_backbone.model.weights, strict=True):
        np.testing.assert_array_equal(before, keras.ops.convert_to_numpy(after))
    assert not np.array_equal(head_before,
                          keras.ops.convert_to_numpy(model.get_layer("gru_1").weights[0]))


def tiny_backbone():
    """An image CNN with batch normalization, like MobileNetV2, at 8x8 pixels."""
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv_a")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Conv2D(5, 3, name="conv_b")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    model = keras.Model(inputs, x)
    return backbones.Backbone("tiny", model, lambda a: a, 8, 5, None, "tiny:random")


def test_unfreezing_the_backbone_keeps_batch_normalization_frozen():
    backbone = tiny_backbone()
    model = build_end_to_end_classifier(backbone, 3, C, units=4)
    head_only = len(model.trainable_weights)

    assert set_backbone_trainable(model) == 4 * 27 + 4 + 5 * 36 + 5  # both convolutions
    assert len(model.trainable_weights) == head_only + 4
    assert not backbone.model.get_layer("bn").trainable

    assert set_backbone_trainable(model, last_layers=2) == 5 * 36 + 5  # conv_b (pool has none)
    assert not backbone.model.get_layer("conv_a").trainable

    assert set_backbone_trainable(model, trainable=False) == 0
    assert len(model.trainable_weights) == head_only


def test_end_to_end_runs_one_step_under_mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        backbone = backbones.get_backbone("shapes_vgg", weights=False)
        model = build_end_to_end_classifier(backbone, 2, C, units=4, standardize_with=None)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        loss = model.train_on_batch(frames(backbone, steps=2), np.array([0, 1]))
        probabilities = model(frames(backbone, steps=2), training=False)
    finally:
        keras.config.set_dtype_policy(previous)

    assert np.isfinite(loss)
    assert model.get_layer(BACKBONE_LAYER).compute_dtype == "float16", "the CNN runs in float16"
    assert model.get_layer("lstm_1").compute_dtype == "float32", "JAX's cuDNN RNN has no float16"
    assert probabilities.dtype == "float32"
