"""Inflating 2D CNNs to 3D: the kernel rule, the boring-video fixed point, per-layer choices."""

import keras
import numpy as np
import pytest
from keras import layers

from vidlab.models.inflate import VideoPadding3D, inflate, inflate_kernel

FRAMES = 7
#: Frames at each end that zero padding spoils at "merge": a 3-frame kernel in
#: "stem" and another in "branch_3x3" each reach one frame further from the border.
BORDER = 2


def small_cnn():
    """A 2D CNN with a strided stem, BN, pooling, two branches, a residual and a Dense head."""
    keras.utils.set_random_seed(0)
    image = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(6, 3, strides=2, padding="same", use_bias=False, name="stem")(image)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    branch_1 = layers.Conv2D(4, 1, activation="relu", name="branch_1x1")(x)
    branch_2 = layers.Conv2D(4, 3, padding="same", activation="relu", name="branch_3x3")(x)
    x = layers.Concatenate(name="merge")([branch_1, branch_2])
    x = layers.Add(name="residual")([x, layers.Conv2D(8, 3, padding="same", name="res_conv")(x)])
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    model = keras.Model(image, layers.Dense(5, name="logits")(x), name="small_cnn")
    rng = np.random.default_rng(0)
    model.get_layer("stem_bn").set_weights(
        [rng.uniform(0.5, 1.5, 6), rng.normal(size=6), rng.normal(size=6), rng.uniform(0.5, 2, 6)]
    )
    return model


def image_and_boring_video(frames=FRAMES):
    image = np.random.default_rng(1).uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
    return image, np.repeat(image[:, np.newaxis], frames, axis=1)


def features(model, layer_name, x):
    """Return the output of ``layer_name`` in ``model`` on ``x`` (inference mode)."""
    return np.asarray(keras.Model(model.input, model.get_layer(layer_name).output)(x))


@pytest.fixture
def cnn():
    return small_cnn()


@pytest.mark.parametrize("kt", [1, 2, 3, 5])
def test_inflated_kernel_sums_over_time_to_the_2d_kernel(kt):
    kernel = np.random.default_rng(kt).normal(size=(3, 3, 2, 4)).astype(np.float32)

    inflated = inflate_kernel(kernel, kt)

    assert inflated.shape == (kt, 3, 3, 2, 4)
    assert inflated.dtype == np.float32
    np.testing.assert_allclose(inflated.sum(axis=0), kernel, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(inflated[0], inflated[-1])


def test_inflate_kernel_refuses_bad_input():
    with pytest.raises(ValueError, match="kh, kw, in, out"):
        inflate_kernel(np.zeros((3, 3, 2)), 3)
    with pytest.raises(ValueError, match="at least 1"):
        inflate_kernel(np.zeros((3, 3, 2, 4)), 0)


def test_replicate_padding_gives_the_2d_output_on_a_boring_video(cnn):
    image, video = image_and_boring_video()
    model_3d = inflate(cnn, padding="replicate", num_frames=FRAMES)

    np.testing.assert_allclose(model_3d(video), cnn(image), atol=1e-4)


def test_replicate_padding_gives_the_2d_features_at_every_frame(cnn):
    image, video = image_and_boring_video()
    model_3d = inflate(cnn, padding="replicate", num_frames=FRAMES)

    expected = features(cnn, "merge", image)
    got = features(model_3d, "merge", video)

    for frame in range(FRAMES):
        np.testing.assert_allclose(got[:, frame], expected, atol=1e-4)


def test_zero_padding_gives_the_2d_features_only_away_from_the_borders(cnn):
    image, video = image_and_boring_video()
    model_3d = inflate(cnn, padding="zeros", num_frames=FRAMES)

    expected = features(cnn, "merge", image)
    got = features(model_3d, "merge", video)

    for frame in range(BORDER, FRAMES - BORDER):
        np.testing.assert_allclose(got[:, frame], expected, atol=1e-4)
    for frame in (0, FRAMES - 1):
        assert np.abs(got[:, frame] - expected).max() > 1e-2


def test_layers_keep_their_names_and_weights_follow_the_rule(cnn):
    model_3d = inflate(cnn, time_kernels=3)

    assert {layer.name for layer in cnn.layers} <= {layer.name for layer in model_3d.layers}
    np.testing.assert_allclose(
        model_3d.get_layer("branch_3x3").kernel,
        inflate_kernel(cnn.get_layer("branch_3x3").kernel, 3),
    )
    np.testing.assert_array_equal(
        model_3d.get_layer("branch_3x3").bias, cnn.get_layer("branch_3x3").bias
    )
    for name in ("stem_bn", "logits"):
        for old, new in zip(
            cnn.get_layer(name).get_weights(), model_3d.get_layer(name).get_weights(), strict=True
        ):
            np.testing.assert_array_equal(old, new)


def test_an_int_time_kernel_applies_to_every_conv_but_not_to_pooling(cnn):
    model_3d = inflate(cnn, time_kernels=3, num_frames=FRAMES)

    assert model_3d.get_layer("stem").kernel.shape == (3, 3, 3, 3, 6)
    assert model_3d.get_layer("branch_1x1").kernel.shape == (3, 1, 1, 6, 4)
    assert model_3d.get_layer("pool").pool_size == (1, 2, 2)
    assert tuple(model_3d.output_shape) == (None, 5)


def test_valid_convolutions_keep_the_frame_count(cnn):
    for padding in ("zeros", "replicate"):
        model_3d = inflate(cnn, time_kernels=3, num_frames=FRAMES, padding=padding)

        assert model_3d.get_layer("branch_1x1").output.shape[1] == FRAMES


def test_per_layer_time_kernels_and_strides_are_applied(cnn):
    model_3d = inflate(
        cnn,
        time_kernels={"stem": 5, "pool": 2},
        time_strides={"stem": 2, "pool": 2},
        num_frames=8,
    )

    assert model_3d.get_layer("stem").kernel.shape == (5, 3, 3, 3, 6)
    assert model_3d.get_layer("stem").strides == (2, 2, 2)
    assert model_3d.get_layer("branch_3x3").kernel.shape == (1, 3, 3, 6, 4)
    assert model_3d.get_layer("pool").pool_size == (2, 2, 2)
    assert model_3d.get_layer("pool").strides == (2, 2, 2)
    # 8 frames -> 4 (stem stride 2) -> 2 (pool stride 2).
    assert tuple(model_3d.get_layer("merge").output.shape) == (None, 2, 4, 4, 8)


def test_per_layer_choices_keep_the_fixed_point_with_replicate_padding(cnn):
    image, video = image_and_boring_video(8)
    model_3d = inflate(cnn, {"stem": 5, "res_conv": 2}, {"stem": 2}, 8, padding="replicate")

    np.testing.assert_allclose(model_3d(video), cnn(image), atol=1e-4)


@pytest.mark.parametrize("argument", ["time_kernels", "time_strides"])
def test_choices_for_unknown_or_unsuitable_layers_are_refused(cnn, argument):
    with pytest.raises(ValueError, match=r"\['nope', 'stem_bn'\]"):
        inflate(cnn, **{argument: {"stem_bn": 3, "nope": 3}})


def test_an_unsupported_layer_is_named():
    image = keras.Input((8, 8, 3))
    x = layers.DepthwiseConv2D(3, name="depthwise")(image)
    model = keras.Model(image, layers.GlobalAveragePooling2D()(x))

    with pytest.raises(ValueError, match=r"'depthwise' \(DepthwiseConv2D\) has no 3D counterpart"):
        inflate(model)


def test_flatten_is_refused_with_a_suggestion():
    image = keras.Input((8, 8, 3))
    x = layers.Conv2D(2, 3, name="conv")(image)
    model = keras.Model(image, layers.Dense(2)(layers.Flatten(name="flat")(x)))

    with pytest.raises(ValueError, match=r"'flat' is a Flatten.*GlobalAveragePooling2D"):
        inflate(model)


def test_a_built_sequential_model_inflates():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            layers.Conv2D(4, 3, padding="same", activation="relu"),
            layers.AveragePooling2D(2, padding="same"),
            layers.GlobalMaxPooling2D(),
        ]
    )
    image = np.random.default_rng(0).normal(size=(1, 8, 8, 3)).astype(np.float32)
    video = np.repeat(image[:, np.newaxis], 4, axis=1)

    model_3d = inflate(model, padding="replicate")

    np.testing.assert_allclose(model_3d(video), model(image), atol=1e-5)


def test_a_model_without_a_graph_is_refused():
    with pytest.raises(ValueError, match="functional model"):
        inflate(keras.Sequential([layers.Dense(2)]))


def test_an_unknown_padding_mode_is_refused(cnn):
    with pytest.raises(ValueError, match="Unknown padding 'reflect'"):
        inflate(cnn, padding="reflect")


def test_replicate_padding_of_a_strided_conv_needs_a_fixed_frame_size():
    image = keras.Input((None, None, 3))
    model = keras.Model(image, layers.Conv2D(2, 3, strides=2, padding="same")(image))

    with pytest.raises(ValueError, match="fixed input height and width"):
        inflate(model, padding="replicate")


@pytest.mark.parametrize(("mode", "edges"), [("replicate", (1.0, 3.0)), ("zeros", (0.0, 0.0))])
def test_video_padding_pads_time_by_mode_and_space_with_zeros(mode, edges):
    video = np.arange(1, 4, dtype=np.float32).reshape(1, 3, 1, 1, 1) * np.ones((1, 3, 2, 2, 1))
    layer = VideoPadding3D((1, 2), ((0, 1), (1, 0)), time_mode=mode)

    padded = np.asarray(layer(video.astype(np.float32)))

    assert padded.shape == (1, 6, 3, 3, 1)
    assert layer.compute_output_shape((None, None, 2, 2, 1)) == (None, None, 3, 3, 1)
    np.testing.assert_array_equal(padded[0, :, 0, 1, 0], [edges[0], 1, 2, 3, edges[1], edges[1]])
    assert np.all(padded[0, :, 2, :, 0] == 0) and np.all(padded[0, :, :, 0, 0] == 0)
    assert VideoPadding3D.from_config(layer.get_config()).time_mode == mode
