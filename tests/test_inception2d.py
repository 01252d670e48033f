"""The quick profile's 2D Inception-V1: its architecture and its committed weights."""

import json

import keras
import numpy as np
import pytest

from vidlab import backbones, config, pretrain
from vidlab.download import file_sha256
from vidlab.models import inception2d
from vidlab.models.i3d import preprocess_rgb
from vidlab.models.inception2d import ENDPOINTS, FEATURES, InceptionV1Mini

#: Output (H, W, C) of every endpoint at 64 x 64 and the default width (the module's table).
SHAPES = {
    "Conv2d_1a_5x5": (32, 32, 16),
    "MaxPool2d_2a_3x3": (16, 16, 16),
    "Conv2d_2b_1x1": (16, 16, 16),
    "Conv2d_2c_3x3": (16, 16, 48),
    "MaxPool2d_3a_3x3": (8, 8, 48),
    "Mixed_3b": (8, 8, 64),
    "Mixed_3c": (8, 8, 120),
    "MaxPool2d_4a_3x3": (4, 4, 120),
    "Mixed_4b": (4, 4, 128),
    "Mixed_4c": (4, 4, 128),
}
#: Weights of the default network, heads included (moving averages of batch norm too).
PARAMETERS = 91_559


@pytest.fixture(scope="module")
def pretrained():
    return backbones.get_backbone("shapes_inception", "quick")


def manifest_entry():
    manifest = json.loads((config.DATA_DIR / backbones.MANIFEST).read_text())
    return manifest["shapes_inception.weights.h5"]


def test_it_builds_with_the_documented_endpoints_and_parameter_count():
    model = InceptionV1Mini()

    assert model.count_params() == PARAMETERS
    assert tuple(SHAPES) == ENDPOINTS
    for name, shape in SHAPES.items():
        assert model.get_layer(name).output.shape == (None, *shape), name
    assert model.output["shape"].shape == (None, 4)
    assert model.output["pose"].shape == (None, 5)
    assert model.get_layer(FEATURES).output.shape == (None, 128)


def test_units_are_conv_without_bias_then_batch_norm_without_scale_then_relu():
    model = InceptionV1Mini()
    scope = "Mixed_3b.Branch_1.Conv2d_0b_3x3"

    conv, norm = model.get_layer(f"{scope}.conv"), model.get_layer(f"{scope}.bn")

    assert not conv.use_bias and conv.kernel_size == (3, 3) and conv.padding == "same"
    assert not norm.scale and norm.center and norm.epsilon == inception2d.BN_EPSILON
    assert isinstance(model.get_layer(scope), keras.layers.ReLU)
    assert not any(isinstance(layer, keras.layers.Flatten) for layer in model.layers)


def test_width_multiplies_every_channel_count():
    model = InceptionV1Mini(width=0.5)

    assert model.get_layer("Mixed_4c").output.shape[-1] == 256
    assert model.get_layer("Conv2d_2c_3x3").output.shape[-1] == 96


@pytest.mark.parametrize("bad", [{"width": 0}, {"num_shapes": 0}, {"size": 8}])
def test_bad_arguments_are_refused(bad):
    with pytest.raises(ValueError):
        InceptionV1Mini(**bad)


def test_committed_weights_recognise_still_images_they_never_saw(pretrained):
    images, shapes, _ = pretrain.render_stills(300, seed=123)

    predicted = pretrained.classifier.predict(preprocess_rgb(images), verbose=0)

    accuracy = np.mean(predicted["shape"].argmax(1) == shapes)
    assert accuracy >= manifest_entry()["still_image_accuracy"] - 0.03


def test_the_backbone_describes_frames_and_identifies_its_weights(pretrained):
    images, _, _ = pretrain.render_stills(2, seed=5)

    labels = backbones.describe_frames(pretrained, images)

    assert pretrained.feature_dim == 128 and pretrained.input_size == 64
    assert pretrained.weights_id == f"shapes_inception:{manifest_entry()['sha256'][:16]}"
    assert all(label.split()[0] in ("Triangle", "Square", "Star", "Cross") for label in labels)


def test_the_manifest_documents_the_recipe_of_the_committed_weights():
    entry = manifest_entry()

    assert entry["recipe"] == pretrain.INCEPTION_RECIPE
    assert entry["still_image_accuracy"] >= pretrain.INCEPTION_DOCUMENTED_ACCURACY
    assert entry["sha256"] == file_sha256(config.DATA_DIR / "shapes_inception.weights.h5")


def test_the_command_line_offers_both_backbones(capsys):
    with pytest.raises(SystemExit):
        pretrain.main(["--help"])

    assert "shapes_inception" in capsys.readouterr().out
