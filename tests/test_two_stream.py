"""Two-stream networks: inputs, the two streams and their initialisation, and late fusion."""

import keras
import numpy as np
import pytest
from keras import layers

from vidlab import flow, train
from vidlab.models import two_stream as ts

CLASSES = 5


def small_rgb_cnn():
    """A tiny functional image CNN with a biased first conv, BN, a second conv and fc layers."""
    keras.utils.set_random_seed(0)
    image = keras.Input((12, 12, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(image)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(6, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(7, activation="relu", name="fc1")(x)
    x = layers.Dense(7, activation="relu", name="fc2")(x)
    model = keras.Model(image, x, name="tiny_rgb")
    rng = np.random.default_rng(0)
    model.get_layer("conv1").set_weights([rng.normal(size=(3, 3, 3, 4)), rng.normal(size=4)])
    model.get_layer("bn1").set_weights(
        [rng.uniform(0.5, 1.5, 4), rng.normal(size=4), rng.normal(size=4), rng.uniform(0.5, 2, 4)]
    )
    return model


@pytest.fixture(scope="module")
def rgb():
    return small_rgb_cnn()


# --------------------------------------------------------------------------- inputs


def test_middle_frame_is_frame_t_over_2_of_every_clip():
    clips = np.arange(3 * 16).reshape(3, 16, 1, 1, 1) * np.ones((1, 1, 4, 5, 3))
    frames = ts.middle_frame(clips)
    assert frames.shape == (3, 4, 5, 3)
    np.testing.assert_array_equal(frames[:, 0, 0, 0], [8, 24, 40])


def test_flow_window_centres_l_fields_in_the_clip():
    assert ts.flow_window(16, 8) == (3, 12)  # fields 3..10, frames 3..11
    assert ts.flow_window(16, 15) == (0, 16)
    assert ts.flow_window(16, 10) == (2, 13)
    with pytest.raises(ValueError, match="need at least"):
        ts.flow_window(8, 8)
    with pytest.raises(ValueError):
        ts.flow_window(16, 0)


def test_stack_flows_interleaves_x_and_y_of_consecutive_fields():
    """Field t's x lands in channel 2(t - start), its y in channel 2(t - start) + 1."""
    flows = np.zeros((2, 6, 3, 4, 2), np.float32)
    for t in range(6):
        flows[:, t, ..., 0] = 10 * t  # x of field t
        flows[:, t, ..., 1] = 10 * t + 1  # y of field t
    flows[1] += 100
    stacked = ts.stack_flows(flows, length=3, start=2)
    assert stacked.shape == (2, 3, 4, 6)
    np.testing.assert_array_equal(stacked[0, 0, 0], [20, 21, 30, 31, 40, 41])
    np.testing.assert_array_equal(stacked[1, 2, 3], [120, 121, 130, 131, 140, 141])


def test_stack_flows_agrees_with_stack_flow_and_centres_by_default():
    flows = np.random.default_rng(0).normal(size=(3, 15, 5, 6, 2)).astype(np.float32)
    start = ts.flow_window(16, 8)[0]
    expected = np.stack([flow.stack_flow(f, 8, start) for f in flows])
    np.testing.assert_array_equal(ts.stack_flows(flows, 8), expected)
    with pytest.raises(ValueError, match="shape"):
        ts.stack_flows(flows[0], 8)


def test_temporal_inputs_clip_to_the_bound_and_scale_to_unit_range():
    flows = np.zeros((1, 4, 2, 2, 2), np.float32)
    flows[0, 1, 0, 0] = [2.5, -20.0]
    x = ts.temporal_inputs(flows, length=2, bound=5.0, start=1)
    assert x.shape == (1, 2, 2, 4) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, 0, 0], [0.5, -1.0, 0.0, 0.0])


def test_spatial_inputs_resize_and_preprocess_for_the_backbone():
    class Fake:
        input_size = 8

        @staticmethod
        def preprocess(x):
            return x / 255.0

    frames = np.full((2, 16, 16, 3), 255, np.uint8)
    x = ts.spatial_inputs(frames, Fake)
    assert x.shape == (2, 8, 8, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x, 1.0)


# --------------------------------------------------------------------------- streams


def test_cross_modality_kernel_replicates_the_mean_over_rgb():
    kernel = np.random.default_rng(1).normal(size=(3, 3, 3, 4)).astype(np.float32)
    out = ts.cross_modality_kernel(kernel, 10)
    assert out.shape == (3, 3, 10, 4) and out.dtype == np.float32
    for c in range(10):
        np.testing.assert_allclose(out[:, :, c], kernel.mean(axis=2), rtol=1e-6)


def test_cross_modality_stream_averages_the_first_kernel_and_copies_every_other_layer(rgb):
    model = ts.build_temporal_stream(rgb, CLASSES, length=4, init="cross_modality")
    assert model.input_shape == (None, 12, 12, 8)
    assert model.output_shape == (None, CLASSES)
    kernel, bias = rgb.get_layer("conv1").get_weights()
    new_kernel, new_bias = model.get_layer("conv1").get_weights()
    np.testing.assert_allclose(new_kernel, np.repeat(kernel.mean(2, keepdims=True), 8, axis=2),
                               rtol=1e-6)
    np.testing.assert_array_equal(new_bias, bias)
    for name in ("bn1", "conv2", "fc1", "fc2"):
        for mine, theirs in zip(model.get_layer(name).get_weights(),
                                rgb.get_layer(name).get_weights(), strict=True):
            np.testing.assert_array_equal(mine, theirs)


def test_the_streams_own_their_weights(rgb):
    """Training a stream must not change the backbone it was copied from."""
    before = rgb.get_layer("fc1").get_weights()[0].copy()
    stream = ts.build_temporal_stream(rgb, CLASSES, length=2)
    stream.get_layer("fc1").set_weights([np.zeros_like(w) for w in
                                         stream.get_layer("fc1").get_weights()])
    np.testing.assert_array_equal(rgb.get_layer("fc1").get_weights()[0], before)


def test_scratch_stream_has_the_same_architecture_and_fresh_weights(rgb):
    model = ts.build_temporal_stream(rgb, CLASSES, length=3, init="scratch")
    crossed = ts.build_temporal_stream(rgb, CLASSES, length=3)
    assert [layer.name for layer in model.layers] == [layer.name for layer in crossed.layers]
    assert model.count_params() == crossed.count_params()
    assert model.input_shape == (None, 12, 12, 6)
    assert not np.allclose(model.get_layer("fc1").get_weights()[0],
                           rgb.get_layer("fc1").get_weights()[0])
    with pytest.raises(ValueError, match="init"):
        ts.build_temporal_stream(rgb, CLASSES, init="imagenet")


def test_spatial_stream_starts_from_the_backbone_features(rgb):
    model = ts.build_spatial_stream(rgb, CLASSES, dropout=0.5)
    assert model.input_shape == (None, 12, 12, 3) and model.output_shape == (None, CLASSES)
    x = np.random.default_rng(2).uniform(0, 1, (4, 12, 12, 3)).astype(np.float32)
    features = keras.Model(model.input, model.get_layer("fc2").output)
    np.testing.assert_allclose(features.predict(x, verbose=0), rgb.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    probs = model.predict(x, verbose=0)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)


def test_a_frozen_trunk_leaves_only_the_head_to_train_and_unfreezing_restores_it(rgb):
    model = ts.build_spatial_stream(rgb, CLASSES)
    everything = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    head = model.get_layer("head").count_params()
    assert ts.set_trunk_trainable(model, False) == head
    before = [w.copy() for w in model.get_weights()]
    x = np.random.default_rng(3).uniform(0, 1, (8, 12, 12, 3)).astype(np.float32)
    train.fit(model, x, np.arange(8) % CLASSES, x, np.arange(8) % CLASSES, epochs=1,
              batch_size=8, verbose=False)
    for name in ("conv1", "bn1", "fc2"):
        for mine, theirs in zip(model.get_layer(name).get_weights(),
                                rgb.get_layer(name).get_weights(), strict=True):
            np.testing.assert_array_equal(mine, theirs)
    assert not np.allclose(model.get_layer("head").get_weights()[0], before[-2])
    assert ts.set_trunk_trainable(model, True) == everything


def test_streams_are_built_from_a_backbone_object_too():
    from vidlab.backbones import get_backbone

    backbone = get_backbone("shapes_vgg", weights=False)
    spatial = ts.build_spatial_stream(backbone, 8)
    temporal = ts.build_temporal_stream(backbone, 8, length=ts.FLOW_LENGTH)
    assert spatial.input_shape == (None, 64, 64, 3)
    assert temporal.input_shape == (None, 64, 64, 2 * ts.FLOW_LENGTH)
    assert temporal.get_layer("block1_conv").get_weights()[0].shape == (3, 3, 16, 32)


# --------------------------------------------------------------------------- fusion


SPATIAL = np.array([[0.6, 0.4, 0.0], [0.1, 0.8, 0.1], [0.5, 0.0, 0.5], [0.2, 0.3, 0.5]])
TEMPORAL = np.array([[0.1, 0.9, 0.0], [0.0, 0.2, 0.8], [0.2, 0.1, 0.7], [0.4, 0.5, 0.1]])
LABELS = np.array([1, 1, 2, 1])


def test_fuse_is_the_weighted_average_of_the_scores():
    np.testing.assert_allclose(ts.fuse(SPATIAL, TEMPORAL), (SPATIAL + TEMPORAL) / 2)
    np.testing.assert_allclose(ts.fuse(SPATIAL, TEMPORAL, 1.0), SPATIAL)
    np.testing.assert_allclose(ts.fuse(SPATIAL, TEMPORAL, 0.25), 0.25 * SPATIAL + 0.75 * TEMPORAL)
    with pytest.raises(ValueError):
        ts.fuse(SPATIAL, TEMPORAL, 1.5)
    with pytest.raises(ValueError):
        ts.fuse(SPATIAL, TEMPORAL[:2])


def test_evaluate_streams_reports_each_stream_and_each_fusion():
    # spatial argmax [0, 1, 0, 2]: 1 right; temporal [1, 2, 2, 1]: 3 right;
    # average [[.35,.65,0], [.05,.5,.45], [.35,.05,.6], [.3,.4,.3]] -> [1, 1, 2, 1]: 4 right
    scores = ts.evaluate_streams(SPATIAL, TEMPORAL, LABELS, weight=1.0)
    assert scores == {"spatial": 0.25, "temporal": 0.75, "average": 1.0, "weighted": 0.25}


def test_choose_fusion_weight_maximises_validation_accuracy_and_prefers_the_average():
    assert ts.choose_fusion_weight(SPATIAL, TEMPORAL, LABELS) == 0.5  # 0.5 already best
    # the spatial stream right everywhere, the temporal stream wrong everywhere
    y = SPATIAL.argmax(1)
    weight = ts.choose_fusion_weight(SPATIAL, TEMPORAL, y)
    assert np.mean(ts.fuse(SPATIAL, TEMPORAL, weight).argmax(1) == y) == 1.0
    assert weight > 0.5
    assert ts.choose_fusion_weight(SPATIAL, TEMPORAL, y, grid=[0.0, 0.3, 0.9]) == 0.9


def test_learned_fusion_needs_both_streams_where_averaging_fails():
    """4 classes = 2 shapes x 2 directions; each stream knows one factor only.

    The spatial stream is sure of the shape and splits the direction evenly;
    the temporal stream knows the direction but leans, wrongly and strongly,
    towards one shape.  Averaging follows the temporal stream's bias; a product
    of the streams (what a linear model on log-scores can learn) does not.
    """
    rng = np.random.default_rng(0)
    y = np.tile(np.arange(4), 30)
    shape, direction = y // 2, y % 2
    spatial = np.full((len(y), 4), 0.01)
    spatial[np.arange(len(y)), 2 * shape] = spatial[np.arange(len(y)), 2 * shape + 1] = 0.49
    temporal = np.full((len(y), 4), 0.01)
    temporal[np.arange(len(y)), 2 * 1 + direction] = 0.88  # always "shape 1"
    temporal[np.arange(len(y)), direction] = 0.1
    spatial = spatial * rng.uniform(0.9, 1.1, spatial.shape)
    spatial /= spatial.sum(1, keepdims=True)
    temporal /= temporal.sum(1, keepdims=True)
    fusion = ts.LearnedFusion().fit(spatial, temporal, y)
    scores = ts.evaluate_streams(spatial, temporal, y, learned=fusion)
    assert scores["average"] == 0.5
    assert scores["learned"] == 1.0
    probs = fusion.predict_proba(spatial, temporal)
    assert probs.shape == (len(y), 4)
    np.testing.assert_allclose(probs.sum(1), 1.0)


def test_learned_fusion_keeps_every_class_column():
    y = np.array([0, 2, 0, 2])
    probs = np.eye(3)[y] * 0.9 + 0.1 / 3
    fusion = ts.LearnedFusion().fit(probs, probs, y, num_classes=3)
    out = fusion.predict_proba(probs, probs)
    assert out.shape == (4, 3)
    np.testing.assert_array_equal(out[:, 1], 0.0)
    np.testing.assert_array_equal(out.argmax(1), y)
    with pytest.raises(RuntimeError, match="fit"):
        ts.LearnedFusion().predict_proba(probs, probs)


def test_fused_scores_lists_the_fusions_in_order():
    fusion = ts.LearnedFusion().fit(SPATIAL, TEMPORAL, LABELS)
    scores = ts.fused_scores(SPATIAL, TEMPORAL, 0.3, fusion)
    assert tuple(scores) == ts.FUSIONS
    np.testing.assert_allclose(scores["weighted"], 0.3 * SPATIAL + 0.7 * TEMPORAL)


# --------------------------------------------------------------------------- test-time mirrors


def test_mirror_flow_flips_the_image_and_negates_one_component():
    stacks = np.zeros((1, 3, 4, 4), np.float32)
    stacks[0, 1, 0] = [1.0, 2.0, 3.0, 4.0]  # (x0, y0, x1, y1) at row 1, column 0
    h = ts.mirror_flow(stacks, "horizontal")
    np.testing.assert_array_equal(h[0, 1, 3], [-1.0, 2.0, -3.0, 4.0])
    v = ts.mirror_flow(stacks, "vertical")
    np.testing.assert_array_equal(v[0, 1, 0], [1.0, -2.0, 3.0, -4.0])
    np.testing.assert_array_equal(ts.mirror_flow(h, "horizontal"), stacks)
    with pytest.raises(ValueError, match="mirror"):
        ts.mirror_flow(stacks, "diagonal")


class DirectionModel:
    """A fake temporal stream: class 0 if the mean x flow is negative (left), else class 1."""

    def predict(self, x, batch_size=None, verbose=0):
        right = (x[..., 0::2].mean(axis=(1, 2, 3)) > 0).astype(float)
        return np.stack([1 - right, right, np.zeros_like(right)], axis=1)


def test_mirror_average_reads_mirrored_scores_back_in_the_original_classes():
    stacks = np.zeros((2, 2, 2, 2), np.float32)
    stacks[0, ..., 0], stacks[1, ..., 0] = -1.0, 1.0  # clip 0 moves left, clip 1 right
    swap = [1, 0, 2]  # mirrored left-right, "left" becomes "right"
    out = ts.mirror_average(DirectionModel(), stacks, {"horizontal": swap})
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 1, 0]])
    # ignoring the label change would average a clip with its opposite
    wrong = ts.mirror_average(DirectionModel(), stacks, {"horizontal": [0, 1, 2]})
    np.testing.assert_array_equal(wrong, [[0.5, 0.5, 0], [0.5, 0.5, 0]])
    both = ts.mirror_average(DirectionModel(), stacks, {"horizontal": swap,
                                                        "vertical": [0, 1, 2]})
    np.testing.assert_array_equal(both, out)


def test_mirror_average_can_return_every_view():
    stacks = np.zeros((2, 2, 2, 2), np.float32)
    stacks[0, ..., 0], stacks[1, ..., 0] = -1.0, 1.0
    mean, views = ts.mirror_average(DirectionModel(), stacks, {"horizontal": [1, 0, 2]},
                                    batch_size=3, return_views=True)
    assert views.shape == (2, 2, 3)
    np.testing.assert_array_equal(views[0], DirectionModel().predict(stacks))
    np.testing.assert_array_equal(mean, views.mean(axis=0))


def test_both_streams_output_float32_probabilities_under_mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        rgb_cnn = small_rgb_cnn()
        streams = [ts.build_spatial_stream(rgb_cnn, CLASSES),
                   ts.build_temporal_stream(rgb_cnn, CLASSES, length=2)]
    finally:
        keras.config.set_dtype_policy(previous)

    for stream in streams:
        assert stream.get_layer("fc2").compute_dtype == "float16", "the trunk runs in float16"
        assert stream.output.dtype == "float32", "a float16 softmax loses small probabilities"
