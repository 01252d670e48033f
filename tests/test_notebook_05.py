"""Notebook 05 writes its models on the page; these tests read them from its cells (d2l's pattern).

The notebook's cells define the kernel inflation (``inflate_kernel``), I3D's unit and Inception
block in 3D (``unit_3d``, ``inception_3d``), the copy of 2D weights into a 3D network
(``inflate_weights``) and the mini-I3D (``build_mini_i3d``).  The package keeps the plumbing
that does the same for any 2D Keras model (:func:`vidlab.models.inflate.inflate`) and the
full-size I3D (:func:`vidlab.models.i3d.InceptionI3D`); the tests below check that the page
and the package build the same layers, shapes, parameter counts and numbers.
"""

import keras
import numpy as np
import pytest
from keras import layers

from vidlab import backbones, pretrain
from vidlab.models import i3d
from vidlab.models.inception2d import FEATURES, InceptionV1Mini
from vidlab.models.inflate import inflate, inflate_kernel
from vidlab.tools import course

NOTEBOOK = course.NOTEBOOKS / "05_i3d.ipynb"
#: The notebook's parameters that its model-building cells read, at their quick-profile values.
PARAMETERS = {"NUM_FRAMES": 16, "FRAME_SIZE": 64, "STEM_TIME_STRIDE": 4}
NUM_CLASSES = 8


@pytest.fixture(scope="module")
def page() -> dict:
    """The functions notebook 05 defines on the page, as its cells write them."""
    names = ["inflate_kernel", "unit_3d", "inception_3d", "inflate_weights", "build_mini_i3d"]
    namespace = {"np": np, "keras": keras, "layers": layers, **PARAMETERS}
    return course.definitions(NOTEBOOK, *names, **namespace)


@pytest.fixture(scope="module")
def image_net() -> keras.Model:
    """The 2D Inception-V1 with random weights, batch normalisation statistics included."""
    keras.utils.set_random_seed(0)
    model = InceptionV1Mini()
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            beta, mean, variance = layer.get_weights()
            layer.set_weights([rng.normal(size=beta.shape), rng.normal(size=mean.shape),
                               rng.uniform(0.5, 2.0, variance.shape)])
    return model


def features(model: keras.Model) -> keras.Model:
    """``model`` cut at its global average pool."""
    return keras.Model(model.input, model.get_layer(FEATURES).output)


def time_choices(model_3d: keras.Model) -> dict:
    """The time kernels and strides of a 3D model, as :func:`inflate` takes them."""
    temporal = [layer for layer in model_3d.layers
                if isinstance(layer, layers.Conv3D | layers.MaxPooling3D)]
    kernels = {layer.name: (layer.kernel_size if isinstance(layer, layers.Conv3D)
                            else layer.pool_size)[0] for layer in temporal}
    strides = {layer.name: layer.strides[0] for layer in temporal if layer.strides[0] > 1}
    return {"time_kernels": kernels, "time_strides": strides}


def clips(count: int = 2, seed: int = 0) -> np.ndarray:
    frames, size = PARAMETERS["NUM_FRAMES"], PARAMETERS["FRAME_SIZE"]
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (count, frames, size, size, 3)).astype(np.float32)


@pytest.mark.parametrize("kt", [1, 2, 3, 5])
def test_the_page_inflates_a_kernel_as_the_package_does(page, kt):
    kernel = np.random.default_rng(kt).normal(size=(3, 5, 4, 6)).astype(np.float32)

    np.testing.assert_allclose(page["inflate_kernel"](kernel, kt), inflate_kernel(kernel, kt))


def test_inflate_builds_the_pages_mini_i3d_layer_for_layer(page, image_net):
    model = page["build_mini_i3d"](NUM_CLASSES)
    page["inflate_weights"](model, image_net)
    on_the_page = features(model)

    plumbing = inflate(features(image_net), **time_choices(model),
                       num_frames=PARAMETERS["NUM_FRAMES"], padding="zeros")

    ours = [layer for layer in on_the_page.layers if not isinstance(layer, layers.InputLayer)]
    assert sorted(layer.name for layer in ours) == sorted(
        layer.name for layer in plumbing.layers if not isinstance(layer, layers.InputLayer))
    for layer in ours:
        twin = plumbing.get_layer(layer.name)
        assert type(twin) is type(layer), layer.name
        assert twin.output.shape == layer.output.shape, layer.name
        assert twin.count_params() == layer.count_params(), layer.name
    assert plumbing.count_params() == on_the_page.count_params()
    x = clips()
    np.testing.assert_allclose(plumbing(x), on_the_page(x), atol=1e-4)


def test_the_pages_mini_i3d_has_the_documented_size_and_head(page):
    model = page["build_mini_i3d"](NUM_CLASSES)

    assert model.count_params() == 208_838
    assert model.output_shape == (None, NUM_CLASSES)
    assert model.get_layer("Mixed_4c").output.shape == (None, 2, 4, 4, 128)
    assert [type(layer) for layer in model.layers[-3:]] == [
        layers.GlobalAveragePooling3D, layers.Dropout, layers.Dense]


def test_the_pages_inception_block_with_i3ds_channels_is_i3ds_mixed_3b(page):
    reference = i3d.InceptionI3D(num_frames=8, size=56, final_endpoint="Mixed_3b")
    video_in = keras.Input(reference.get_layer("MaxPool3d_3a_3x3").output.shape[1:])
    ours = keras.Model(video_in, page["inception_3d"](video_in, "Mixed_3b", 64, (96, 128),
                                                       (16, 32), 32))

    def signature(model, keep):
        return sorted((type(layer).__name__, tuple(layer.output.shape[1:]),
                       sum(int(np.prod(w.shape)) for w in layer.trainable_weights))
                      for layer in model.layers if keep(layer.name))

    assert signature(ours, lambda name: name.startswith("Mixed_3b")) == signature(
        reference, lambda name: name.startswith("Mixed_3b"))


def test_replicate_padding_keeps_the_pretrained_features_on_boring_videos(page):
    pretrained = backbones.get_backbone("shapes_inception", "quick")
    model = page["build_mini_i3d"](NUM_CLASSES)
    page["inflate_weights"](model, pretrained.classifier)
    stills = pretrained.preprocess(pretrain.render_stills(2, seed=11)[0])
    boring = np.repeat(stills[:, np.newaxis], PARAMETERS["NUM_FRAMES"], axis=1)
    expected = np.asarray(pretrained.model(stills))

    replicate = inflate(features(pretrained.classifier), **time_choices(model),
                        num_frames=PARAMETERS["NUM_FRAMES"], padding="replicate")

    assert np.abs(np.asarray(replicate(boring)) - expected).max() < 1e-4
    assert np.abs(np.asarray(features(model)(boring)) - expected).max() > 1e-2, (
        "the page pads time with zeros, as I3D does, which moves the ends away from the image")


def test_with_every_time_stride_1_a_clip_and_its_reversal_look_the_same(page, image_net):
    x = clips(seed=3)
    gaps = {}
    for strides in [(1, 1), (PARAMETERS["STEM_TIME_STRIDE"], 2)]:
        model = page["build_mini_i3d"](NUM_CLASSES, strides)
        page["inflate_weights"](model, image_net)
        pooled = features(model)
        gaps[strides] = np.abs(np.asarray(pooled(x)) - np.asarray(pooled(x[:, ::-1]))).max()

    assert gaps[(1, 1)] < 1e-4
    assert gaps[(PARAMETERS["STEM_TIME_STRIDE"], 2)] > 1e-3


def test_a_function_the_notebook_does_not_define_is_named():
    with pytest.raises(LookupError, match="build_resnet"):
        course.definitions(NOTEBOOK, "build_resnet")
