"""vidlab.cpu: the same numbers faster on a CPU (2D-op Conv3D and pooling, tf.data batches)."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from vidlab import cpu
from vidlab.cpu import (
    SeparableMaxPooling3D,
    StackedConv3D,
    repeat_edge_frames,
    with_2d_ops,
)

FILTERS = 4
HEIGHT, WIDTH, CHANNELS = 9, 10, 3
FRAME_COUNTS = (1, 4, 5, 16)
WINDOWS = ((1, 1, 1), (3, 3, 3), (5, 5, 5), (3, 1, 3))
STRIDES = ((1, 1, 1), (2, 2, 2), (4, 2, 2))
PADDINGS = ("same", "valid")


def comparable(frames, window, strides, padding):
    """Whether TensorFlow's own 3D op is a reference for this case.

    VALID needs at least ``kt`` frames.  Under SAME, a window smaller than its
    stride along some axis is left out: there TensorFlow's Conv3D and
    MaxPool3D (not the layers under test) disagree with its 2D ops and with
    Keras's documented SAME rule -- its 3D kernels let the padding go negative,
    which shifts the windows (a TensorFlow quirk).  No inflated network has
    such a layer.
    """
    if padding == "valid":
        return frames >= window[0]
    return all(size >= stride for size, stride in zip(window, strides, strict=True))


GRID = [
    case
    for case in itertools.product(FRAME_COUNTS, WINDOWS, STRIDES, PADDINGS)
    if comparable(*case)
]


def case_id(case):
    """``T5-k313-s422-same``: frames, window, strides, padding."""
    frames, window, strides, padding = case
    return f"T{frames}-k{''.join(map(str, window))}-s{''.join(map(str, strides))}-{padding}"


GRID_IDS = [case_id(case) for case in GRID]


def video(frames, seed=0):
    """A random batch of two videos ``(2, frames, 9, 10, 3)``."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(2, frames, HEIGHT, WIDTH, CHANNELS)).astype(np.float32)


def conv_pair(frames, **kwargs):
    """A built ``Conv3D`` with a random bias and a ``StackedConv3D`` holding the same weights."""
    shape = (None, frames, HEIGHT, WIDTH, CHANNELS)
    reference, stacked = layers.Conv3D(FILTERS, **kwargs), StackedConv3D(FILTERS, **kwargs)
    reference.build(shape)
    stacked.build(shape)
    kernel, bias = reference.get_weights()
    bias = np.random.default_rng(1).normal(size=bias.shape).astype(np.float32)
    reference.set_weights([kernel, bias])
    stacked.set_weights([kernel, bias])
    return reference, stacked


@pytest.mark.parametrize(("frames", "kernel_size", "strides", "padding"), GRID, ids=GRID_IDS)
def test_stacked_conv3d_computes_conv3d(frames, kernel_size, strides, padding):
    reference, stacked = conv_pair(
        frames, kernel_size=kernel_size, strides=strides, padding=padding, use_bias=True
    )
    x = video(frames)

    expected = np.asarray(reference(x))
    got = np.asarray(stacked(x))

    assert got.shape == expected.shape == reference.compute_output_shape(x.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_stacked_conv3d_applies_its_activation():
    reference, stacked = conv_pair(
        5, kernel_size=(3, 3, 3), strides=(2, 2, 2), padding="same", activation="relu"
    )
    x = video(5)

    got = np.asarray(stacked(x))

    assert (got == 0).any() and (got > 0).any()
    np.testing.assert_allclose(got, reference(x), rtol=1e-5, atol=1e-5)


def gradients(layer, x, weights=()):
    """Gradients of a fixed random projection of ``layer(x)`` w.r.t. ``x`` and ``weights``."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        projection = np.random.default_rng(2).normal(size=y.shape).astype(np.float32)
        loss = tf.reduce_sum(y * projection)
    return [np.asarray(g) for g in tape.gradient(loss, [x, *weights])]


@pytest.mark.parametrize(
    ("frames", "kernel_size", "strides", "padding"),
    [(5, (3, 3, 3), (2, 2, 2), "same"), (16, (3, 1, 3), (1, 1, 1), "valid"),
     (4, (1, 1, 1), (1, 1, 1), "same")],
)
def test_stacked_conv3d_has_the_gradients_of_conv3d(frames, kernel_size, strides, padding):
    reference, stacked = conv_pair(
        frames, kernel_size=kernel_size, strides=strides, padding=padding
    )
    x = video(frames)

    expected = gradients(reference, x, [reference.kernel, reference.bias])
    got = gradients(stacked, x, [stacked.kernel, stacked.bias])

    for name, g_got, g_expected in zip(("input", "kernel", "bias"), got, expected, strict=True):
        np.testing.assert_allclose(g_got, g_expected, rtol=1e-4, atol=1e-4, err_msg=name)


@pytest.mark.parametrize(("frames", "pool_size", "strides", "padding"), GRID, ids=GRID_IDS)
def test_separable_max_pooling3d_computes_max_pooling3d(frames, pool_size, strides, padding):
    kwargs = dict(pool_size=pool_size, strides=strides, padding=padding)
    x = video(frames)

    expected = np.asarray(layers.MaxPooling3D(**kwargs)(x))
    got = np.asarray(SeparableMaxPooling3D(**kwargs)(x))

    assert got.shape == expected.shape
    assert np.array_equal(got, expected)


def test_separable_max_pooling3d_has_the_gradient_of_max_pooling3d():
    """SAME padding repeats edge frames: their gradient still reaches the frame once."""
    kwargs = dict(pool_size=(3, 3, 3), strides=(2, 2, 2), padding="same")
    x = video(6)

    (expected,) = gradients(layers.MaxPooling3D(**kwargs), x)
    (got,) = gradients(SeparableMaxPooling3D(**kwargs), x)

    np.testing.assert_allclose(got, expected, atol=1e-6)


#: For each layer: the parent and the layer under test.
PAIRS = {
    "conv": (
        lambda: layers.Conv3D(FILTERS, 3, strides=(2, 1, 1), padding="same"),
        lambda: StackedConv3D(FILTERS, 3, strides=(2, 1, 1), padding="same"),
    ),
    "pool": (
        lambda: layers.MaxPooling3D((3, 2, 2), strides=(2, 2, 2), padding="same"),
        lambda: SeparableMaxPooling3D((3, 2, 2), strides=(2, 2, 2), padding="same"),
    ),
}


def pair_of_models(kind, input_shape):
    """The parent layer and the layer under test, each alone in a model, with the same weights."""
    make_parent, make_child = PAIRS[kind]
    reference = keras.Sequential([keras.Input(input_shape), make_parent()])
    model = keras.Sequential([keras.Input(input_shape), make_child()])
    model.set_weights(reference.get_weights())
    return reference, model


@pytest.mark.parametrize("kind", PAIRS)
def test_an_unknown_frame_count_falls_back_to_the_parent_layer(kind):
    reference, model = pair_of_models(kind, (None, 8, 8, CHANNELS))
    x = np.random.default_rng(3).normal(size=(2, 6, 8, 8, CHANNELS)).astype(np.float32)
    any_frames = tf.TensorSpec((None, None, 8, 8, CHANNELS), tf.float32)
    traced = tf.function(model, input_signature=[any_frames])

    expected = np.asarray(reference(x))

    assert model.output_shape == reference.output_shape
    assert model.output_shape[1] is None
    np.testing.assert_allclose(traced(x), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model(x), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)


def test_both_layers_are_registered_under_vidlab():
    assert keras.saving.get_registered_name(StackedConv3D) == "vidlab>StackedConv3D"
    assert keras.saving.get_registered_name(SeparableMaxPooling3D) == "vidlab>SeparableMaxPooling3D"


def test_a_model_with_both_layers_survives_save_and_load(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((5, HEIGHT, WIDTH, CHANNELS))
    x = StackedConv3D(FILTERS, 3, padding="same", activation="relu", name="conv")(inputs)
    x = SeparableMaxPooling3D((3, 2, 2), strides=(2, 2, 2), padding="same", name="pool")(x)
    model = keras.Model(inputs, x)
    path = tmp_path / "model.keras"

    model.save(path)
    loaded = keras.models.load_model(path)

    assert type(loaded.get_layer("conv")) is StackedConv3D
    assert type(loaded.get_layer("pool")) is SeparableMaxPooling3D
    assert loaded.get_layer("conv").get_config() == model.get_layer("conv").get_config()
    x = video(5)
    np.testing.assert_array_equal(loaded(x), model(x))


def test_with_2d_ops_swaps_in_the_2d_versions_and_computes_the_same():
    clip = keras.Input((5, HEIGHT, WIDTH, CHANNELS))
    x = layers.Conv3D(FILTERS, 3, padding="same", activation="relu", name="conv")(clip)
    x = layers.MaxPooling3D((3, 2, 2), strides=(2, 2, 2), padding="same", name="pool")(x)
    x = layers.BatchNormalization(name="bn")(x)
    model = keras.Model(clip, layers.GlobalAveragePooling3D(name="gap")(x))
    model.get_layer("conv").bias.assign(np.linspace(-0.5, 0.5, FILTERS))

    fast = with_2d_ops(model)

    assert type(fast.get_layer("conv")) is StackedConv3D
    assert type(fast.get_layer("pool")) is SeparableMaxPooling3D
    assert type(model.get_layer("conv")) is layers.Conv3D, "the original is left as it was"
    named = [layer.name for layer in model.layers if not isinstance(layer, layers.InputLayer)]
    assert [layer.name for layer in fast.layers[1:]] == named
    assert fast.get_layer("conv").get_config() == model.get_layer("conv").get_config()
    x = video(5)
    np.testing.assert_allclose(fast(x), model(x), atol=1e-5)


@pytest.mark.parametrize(("before", "after"), [(0, 0), (1, 0), (0, 2), (2, 1)])
def test_repeat_edge_frames_pads_time_with_copies_of_the_first_and_last_frames(before, after):
    x = video(4)

    padded = np.asarray(repeat_edge_frames(x, before, after))

    expected = np.concatenate([x[:, :1]] * before + [x] + [x[:, -1:]] * after, axis=1)
    np.testing.assert_array_equal(padded, expected)


def test_fast_3d_keeps_keras_layers_where_they_are_fast(monkeypatch):
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    model = keras.Sequential([keras.Input((4, HEIGHT, WIDTH, CHANNELS)),
                              layers.Conv3D(FILTERS, 3, padding="same")])

    assert cpu.fast_3d(model) is model


def test_fast_3d_gives_the_2d_op_copy_where_tensorflows_3d_kernels_are_slow(monkeypatch):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    model = keras.Sequential([keras.Input((4, HEIGHT, WIDTH, CHANNELS)),
                              layers.Conv3D(FILTERS, 3, padding="same", name="conv")])

    fast = cpu.fast_3d(model)

    assert type(fast.get_layer("conv")) is StackedConv3D
    x = video(4)
    np.testing.assert_allclose(fast(x), model(x), rtol=1e-5, atol=1e-5)


def blobs(n=70, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    return (rng.normal(size=(n, 4)) + 1.5 * y[:, None]).astype("float32"), y


def test_array_batches_visit_every_sample_once_per_epoch_in_a_new_order():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the tf.data pipeline is the TensorFlow backend's")
    x, y = blobs(70)

    shuffled = cpu.array_batches(x, y, 16, shuffle=True, seed=0)
    in_order = cpu.array_batches(x, y, 16, shuffle=False)

    epochs = [np.concatenate([batch_x.numpy() for batch_x, _ in shuffled]) for _ in range(2)]
    assert [len(batch_y) for _, batch_y in shuffled] == [16, 16, 16, 16, 6]
    for features in epochs:
        assert np.array_equal(np.sort(features, axis=0), np.sort(x, axis=0))  # all there ...
        assert not np.array_equal(features, x)  # ... shuffled ...
    assert not np.array_equal(epochs[0], epochs[1])  # ... anew every epoch
    assert np.array_equal(np.concatenate([batch_x.numpy() for batch_x, _ in in_order]), x)


