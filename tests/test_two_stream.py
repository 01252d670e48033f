"""Notebook 04's streams, as its cells write them: architecture, initialisation, ownership.

The builders live in the notebook, where students read them; these tests run
those very cells (:func:`vidlab.tools.course.definitions`) on a tiny RGB
network, so a change to a cell that breaks a stream fails here.
"""

from types import SimpleNamespace

import keras
import numpy as np
import pytest
from keras import layers

from vidlab.tools.course import NOTEBOOKS, definitions

CLASSES = 5
BUILDERS = ("build_spatial_stream", "build_temporal_stream", "cross_modality_init")


@pytest.fixture(scope="module")
def cells():
    """The notebook's stream builders, run in a namespace with what its cells import."""
    return SimpleNamespace(**definitions(
        NOTEBOOKS / "04_two_stream.ipynb", *BUILDERS, keras=keras, layers=layers, np=np))


def small_backbone():
    """A tiny pretrained-looking backbone: biased first conv, BN, a second conv, fc layers."""
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
    return SimpleNamespace(model=model, input_size=12)


def test_the_temporal_stream_is_the_spatial_one_on_2l_channels(cells):
    backbone = small_backbone()
    spatial = cells.build_spatial_stream(backbone, CLASSES)
    temporal = cells.build_temporal_stream(backbone, CLASSES, 4)
    assert spatial.input_shape == (None, 12, 12, 3) and temporal.input_shape == (None, 12, 12, 8)
    assert spatial.output_shape == temporal.output_shape == (None, CLASSES)
    kinds = [[type(layer).__name__ for layer in m.layers] for m in (spatial, temporal)]
    assert kinds[0] == kinds[1]
    assert [layer.name for layer in spatial.layers[1:]] == [layer.name
                                                            for layer in temporal.layers[1:]]
    # only the first convolution differs: 3 x 3 x (8 - 3) x 4 more kernel weights
    assert temporal.count_params() - spatial.count_params() == 3 * 3 * 5 * 4
    assert temporal.get_layer("conv1").kernel.shape == (3, 3, 8, 4)


def test_cross_modality_init_averages_the_first_kernel_and_copies_every_other_layer(cells):
    backbone = small_backbone()
    temporal = cells.build_temporal_stream(backbone, CLASSES, 4)
    cells.cross_modality_init(temporal, backbone.model)
    kernel, bias = backbone.model.get_layer("conv1").get_weights()
    new_kernel, new_bias = temporal.get_layer("conv1").get_weights()
    np.testing.assert_allclose(new_kernel, np.repeat(kernel.mean(2, keepdims=True), 8, axis=2),
                               rtol=1e-6)
    np.testing.assert_array_equal(new_bias, bias)
    for name in ("bn1", "conv2", "fc1", "fc2"):
        for mine, theirs in zip(temporal.get_layer(name).get_weights(),
                                backbone.model.get_layer(name).get_weights(), strict=True):
            np.testing.assert_array_equal(mine, theirs)


def test_a_stream_from_scratch_has_fresh_weights(cells):
    backbone = small_backbone()
    temporal = cells.build_temporal_stream(backbone, CLASSES, 3)
    assert not np.allclose(temporal.get_layer("fc1").get_weights()[0],
                           backbone.model.get_layer("fc1").get_weights()[0])


def test_the_spatial_stream_starts_from_the_backbone_features_and_owns_its_weights(cells):
    backbone = small_backbone()
    spatial = cells.build_spatial_stream(backbone, CLASSES)
    x = np.random.default_rng(2).uniform(0, 1, (4, 12, 12, 3)).astype(np.float32)
    features = keras.Model(spatial.input, spatial.get_layer("fc2").output)
    np.testing.assert_allclose(features.predict(x, verbose=0),
                               backbone.model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(spatial.predict(x, verbose=0).sum(1), 1.0, rtol=1e-5)
    before = backbone.model.get_layer("fc1").get_weights()[0].copy()
    spatial.get_layer("fc1").set_weights([np.zeros_like(w)
                                          for w in spatial.get_layer("fc1").get_weights()])
    np.testing.assert_array_equal(backbone.model.get_layer("fc1").get_weights()[0], before)


def test_both_streams_output_float32_probabilities_under_mixed_precision(cells):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        backbone = small_backbone()
        streams = [cells.build_spatial_stream(backbone, CLASSES),
                   cells.build_temporal_stream(backbone, CLASSES, 2)]
    finally:
        keras.config.set_dtype_policy(previous)
    for stream in streams:
        assert stream.get_layer("fc2").compute_dtype == "float16", "the trunk runs in float16"
        assert stream.output.dtype == "float32", "a float16 softmax loses small probabilities"
