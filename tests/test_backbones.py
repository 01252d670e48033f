"""Specification of vidlab.backbones and vidlab.pretrain."""

import json

import numpy as np
import pytest

from vidlab import backbones, config, pretrain
from vidlab.download import file_sha256


def test_quick_backbone_loads_the_committed_pretrained_weights():
    backbone = backbones.get_backbone(profile="quick")
    assert backbone.name == "shapes_vgg"
    assert backbone.input_size == 64
    assert backbone.model.output_shape == (None, backbone.feature_dim)
    assert backbone.weights_id.startswith("shapes_vgg:")


def test_committed_weights_recognise_still_images_they_never_saw():
    backbone = backbones.get_backbone(profile="quick")
    images, shapes, _ = pretrain.render_stills(300, seed=123)
    predicted = backbone.classifier.predict(backbones.preprocess_shapes_vgg(images),
                                            verbose=0)["shape"]
    manifest = json.loads((config.DATA_DIR / backbones.MANIFEST).read_text())
    documented = manifest["shapes_vgg.weights.h5"]["still_image_accuracy"]
    assert np.mean(predicted.argmax(1) == shapes) >= documented - 0.03


@pytest.mark.parametrize("name, rebuild", [("shapes_vgg", "python -m vidlab.pretrain"),
                                           ("shapes_inception", "--backbone shapes_inception")])
def test_damaged_weights_are_refused_naming_the_command_that_rebuilds_them(
        tmp_path, monkeypatch, name, rebuild):
    (tmp_path / f"{name}.weights.h5").write_bytes(b"not weights")
    (tmp_path / backbones.MANIFEST).write_text(
        json.dumps({f"{name}.weights.h5": {"sha256": "0" * 64}})
    )
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    with pytest.raises(backbones.WeightsUnavailableError, match=rebuild):
        backbones.get_backbone(name, "quick")


def test_missing_weights_say_how_to_restore_them(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    with pytest.raises(backbones.WeightsUnavailableError, match="git checkout data/"):
        backbones.get_backbone("shapes_vgg", "quick")


def test_unreachable_imagenet_weights_name_the_file_and_the_quick_profile(monkeypatch, tmp_path):
    import socket

    with socket.socket() as probe:  # a port that nothing listens on: a mirror that is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path))
    monkeypatch.setenv("VIDLAB_MIRROR", f"http://127.0.0.1:{port}/")
    with pytest.raises(backbones.WeightsUnavailableError, match="VIDLAB_PROFILE=quick") as info:
        backbones.get_backbone("mobilenet_v2", "full")
    assert f"127.0.0.1:{port}" in str(info.value) and "VIDLAB_MIRROR" in str(info.value)
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_full_backbones_build_offline_without_weights():
    backbone = backbones.get_backbone("mobilenet_v2", "full", weights=False)
    assert backbone.input_size == 224
    assert backbone.feature_dim == 1280
    x = backbone.preprocess(np.full((1, 224, 224, 3), 255.0))
    assert np.allclose(x, 1.0)  # MobileNetV2 expects [-1, 1]


def test_unknown_backbone_names_the_valid_ones():
    with pytest.raises(ValueError, match="shapes_vgg"):
        backbones.get_backbone("resnet9000")


def test_the_deck_recipe_is_not_hidden_in_get_backbone():
    """VGG16 cut at fc2 is written in notebook 01's cells; get_backbone says where."""
    with pytest.raises(ValueError, match="notebook 01"):
        backbones.get_backbone("vgg16_fc2", "full", weights=False)


def test_wrap_gives_a_cut_network_the_package_backbone_it_equals():
    """Cut at fc2 by hand and wrapped: the same preprocessing, size, cache identity and
    features as get_backbone's shapes_vgg (notebooks 03-04 reuse notebook 01's features)."""
    import keras

    network = backbones.build_shapes_vgg()
    network.load_weights(backbones.weights_file("shapes_vgg"))
    extractor = keras.Model(network.input, network.get_layer("fc2").output)
    wrapped = backbones.wrap("shapes_vgg", extractor, network)
    package = backbones.get_backbone("shapes_vgg", "quick")
    assert (wrapped.name, wrapped.input_size, wrapped.feature_dim, wrapped.weights_id) == (
        package.name, package.input_size, package.feature_dim, package.weights_id)
    images = pretrain.render_stills(4, seed=9)[0]
    x = wrapped.preprocess(images)
    np.testing.assert_array_equal(x, package.preprocess(images))
    np.testing.assert_array_equal(wrapped.model.predict_on_batch(x),
                                  package.model.predict_on_batch(x))
    assert wrapped.classifier is network


def test_wrap_preprocesses_as_the_imagenet_weights_expect_and_names_them_by_content(
        tmp_path, monkeypatch):
    import keras

    weights = tmp_path / "vgg16.h5"
    weights.write_bytes(b"the weights' bytes")
    monkeypatch.setattr(backbones, "imagenet_weights", lambda name: weights)
    model = keras.Sequential([keras.Input((224, 224, 3)), keras.layers.GlobalAveragePooling2D()])

    vgg = backbones.wrap("vgg16_fc2", model)

    assert (vgg.input_size, vgg.feature_dim) == (224, 3)
    assert vgg.weights_id == f"vgg16_fc2:{file_sha256(weights)[:16]}"
    white = vgg.preprocess(np.full((1, 2, 2, 3), 255, np.uint8))
    np.testing.assert_allclose(white[0, 0, 0], [255 - 103.939, 255 - 116.779, 255 - 123.68],
                               rtol=1e-5)  # BGR, ImageNet means subtracted
    assert backbones.wrap("vgg16_fc2", model, pretrained=False).weights_id == "vgg16_fc2:random"
    with pytest.raises(ValueError, match="mobilenet_v2"):
        backbones.wrap("resnet9000", model)


def test_describe_frames_names_a_shape_per_frame():
    backbone = backbones.get_backbone(profile="quick")
    images, _, _ = pretrain.render_stills(3, seed=5)
    labels = backbones.describe_frames(backbone, images)
    assert len(labels) == 3
    assert all(label.split()[0] in ("Triangle", "Square", "Star", "Cross") for label in labels)


def test_still_images_are_deterministic_and_carry_their_pose():
    a = pretrain.render_stills(4, seed=3)
    b = pretrain.render_stills(4, seed=3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    images, shapes, poses = a
    assert images.shape == (4, 64, 64, 3) and shapes.shape == (4,) and poses.shape == (4, 5)
    np.testing.assert_allclose(poses[:, 3] ** 2 + poses[:, 4] ** 2, 1.0, rtol=1e-5)



def test_pose_classes_cut_each_pose_value_into_equal_bins():
    turns = np.deg2rad([0.0, 90.0, 359.0, 180.0])
    poses = np.array([
        # x, y, radius at the low ends of their ranges; turn 0
        [pretrain.CENTRE_RANGE[0], pretrain.CENTRE_RANGE[0], pretrain.RADIUS_RANGE[0], 0, 0],
        # x in the middle, y and radius at the high ends
        [0.5, pretrain.CENTRE_RANGE[1], pretrain.RADIUS_RANGE[1], 0, 0],
        [0.2, 0.8, 0.1, 0, 0],
        [0.84, 0.16, 0.23, 0, 0],
    ])
    poses[:, 3], poses[:, 4] = np.cos(turns), np.sin(turns)
    classes = pretrain.pose_classes(poses, bins=4)
    assert set(classes) == set(backbones.POSE_CLASSES)
    np.testing.assert_array_equal(classes["x"], [0, 2, 0, 3])
    np.testing.assert_array_equal(classes["y"], [0, 3, 3, 0])
    np.testing.assert_array_equal(classes["size"], [0, 3, 0, 3])
    np.testing.assert_array_equal(classes["turn"], [0, 1, 3, 2])


def test_shapes_vgg_classifies_the_pose_into_bins_beside_shape_and_pose():
    model = backbones.build_shapes_vgg(pose_bins=5)
    assert model.output["shape"].shape == (None, 4)
    assert model.output["pose"].shape == (None, 5)
    for name in backbones.POSE_CLASSES:
        assert model.output[name].shape == (None, 5)
