"""The quick profile's 2D Inception-V1: its architecture, its inflation to 3D, its weights."""

import json

import keras
import numpy as np
import pytest
from keras import layers

from vidlab import backbones, config, pretrain
from vidlab.download import file_sha256
from vidlab.models import inception2d
from vidlab.models.inception2d import (
    ENDPOINTS,
    FEATURES,
    InceptionV1Mini,
    features_model,
    i3d_choices,
    inflated_features,
    video_classifier,
)

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
FRAMES = 16


@pytest.fixture(scope="module")
def pretrained():
    return backbones.get_backbone("shapes_inception", "quick")


def manifest_entry():
    manifest = json.loads((config.DATA_DIR / pretrain.MANIFEST).read_text())
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


def test_i3d_choices_inflate_like_carreira_and_zisserman():
    choices = i3d_choices(InceptionV1Mini())
    kernels, strides = choices["time_kernels"], choices["time_strides"]

    assert kernels["Conv2d_1a_5x5.conv"] == 5 and strides["Conv2d_1a_5x5.conv"] == 2
    assert kernels["Conv2d_2b_1x1.conv"] == 1
    assert kernels["Conv2d_2c_3x3.conv"] == 3
    assert kernels["Mixed_4b.Branch_2.Conv2d_0b_3x3.conv"] == 3
    assert kernels["Mixed_4b.Branch_0.Conv2d_0a_1x1.conv"] == 1
    assert kernels["Mixed_3c.Branch_3.MaxPool2d_0a_3x3"] == 3
    assert "MaxPool2d_2a_3x3" not in kernels and "MaxPool2d_3a_3x3" not in kernels
    assert kernels["MaxPool2d_4a_3x3"] == 3 and strides["MaxPool2d_4a_3x3"] == 2
    assert set(strides) == {"Conv2d_1a_5x5.conv", "MaxPool2d_4a_3x3"}


def test_top_heavy_choices_keep_the_layers_before_first_3d_in_2d():
    choices = i3d_choices(InceptionV1Mini(), first_3d="Mixed_3b")
    kernels = choices["time_kernels"]

    assert kernels["Conv2d_1a_5x5.conv"] == 1 and kernels["Conv2d_2c_3x3.conv"] == 1
    assert kernels["Mixed_3b.Branch_1.Conv2d_0b_3x3.conv"] == 3
    assert kernels["MaxPool2d_4a_3x3"] == 3
    assert choices["time_strides"]["Conv2d_1a_5x5.conv"] == 2
    with pytest.raises(ValueError, match="Mixed_3b"):
        i3d_choices(InceptionV1Mini(), first_3d="Mixed_9z")


def test_the_inflated_network_strides_time_like_i3d():
    model_3d = inflated_features(InceptionV1Mini(), num_frames=FRAMES)

    assert model_3d.get_layer("Conv2d_1a_5x5").output.shape == (None, 8, 32, 32, 16)
    assert model_3d.get_layer("Mixed_3c").output.shape == (None, 8, 8, 8, 120)
    assert model_3d.get_layer("Mixed_4c").output.shape == (None, 4, 4, 4, 128)
    assert model_3d.output_shape == (None, 128)


def test_a_stem_time_stride_of_4_divides_time_by_8_before_the_pool():
    model_3d = inflated_features(InceptionV1Mini(), num_frames=FRAMES, stem_time_stride=4)

    assert model_3d.get_layer("Conv2d_1a_5x5").output.shape == (None, 4, 32, 32, 16)
    assert model_3d.get_layer("Mixed_4c").output.shape == (None, 2, 4, 4, 128)
    with pytest.raises(ValueError, match="at least 1"):
        i3d_choices(InceptionV1Mini(), stem_time_stride=0)


@pytest.mark.parametrize(("first_3d", "stem_time_stride"), [(None, 2), ("Mixed_3b", 2), (None, 4)])
def test_a_boring_video_gives_the_pretrained_2d_features(pretrained, first_3d, stem_time_stride):
    images, _, _ = pretrain.render_stills(2, seed=11)
    x = pretrain.preprocess_inception(images)
    video = np.repeat(x[:, np.newaxis], FRAMES, axis=1)
    model_3d = inflated_features(pretrained.classifier, FRAMES, "replicate", first_3d=first_3d,
                                 stem_time_stride=stem_time_stride)

    difference = np.abs(np.asarray(model_3d(video)) - np.asarray(pretrained.model(x))).max()

    assert difference < 1e-4


def test_video_classifier_puts_a_new_softmax_head_on_the_features():
    features_3d = inflated_features(InceptionV1Mini(), num_frames=FRAMES)

    model = video_classifier(features_3d, num_classes=8)

    assert model.output_shape == (None, 8)
    assert model.count_params() == features_3d.count_params() + 128 * 8 + 8
    video = np.zeros((1, FRAMES, 64, 64, 3), np.float32)
    np.testing.assert_allclose(np.asarray(model(video)).sum(), 1.0, rtol=1e-5)


def test_video_classifier_lets_moving_statistics_follow_a_short_fine_tuning():
    features_3d = inflated_features(InceptionV1Mini(), num_frames=FRAMES)

    model = video_classifier(features_3d, num_classes=8, bn_momentum=0.9)

    norms = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    assert norms and all(layer.momentum == 0.9 for layer in norms)
    rebuilt = keras.models.clone_model(model)
    assert all(layer.momentum == 0.9 for layer in rebuilt.layers
               if isinstance(layer, layers.BatchNormalization)), "a clone keeps the momentum"


def test_features_model_stops_at_the_global_average_pool():
    model = InceptionV1Mini()

    cut = features_model(model)

    assert cut.output_shape == (None, 128)
    assert cut.layers[-1].name == FEATURES


def test_committed_weights_recognise_still_images_they_never_saw(pretrained):
    images, shapes, _ = pretrain.render_stills(300, seed=123)

    predicted = pretrained.classifier.predict(pretrain.preprocess_inception(images), verbose=0)

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
