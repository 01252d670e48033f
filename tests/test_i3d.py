"""Inception-I3D: the reference architecture, its input limits, names, and checkpoint loading."""

import re

import keras
import numpy as np
import pytest

from vidlab.models.i3d import (
    ENDPOINTS,
    InceptionI3D,
    checkpoint_to_npz,
    keras_name,
    load_kinetics_weights,
    minimum_frames,
    minimum_size,
    preprocess_flow,
    preprocess_rgb,
    reference_name,
)

#: Output (T, H, W, C) of every endpoint at 64 frames of 224 x 224 (the published shapes).
REFERENCE_SHAPES = {
    "Conv3d_1a_7x7": (32, 112, 112, 64),
    "MaxPool3d_2a_3x3": (32, 56, 56, 64),
    "Conv3d_2b_1x1": (32, 56, 56, 64),
    "Conv3d_2c_3x3": (32, 56, 56, 192),
    "MaxPool3d_3a_3x3": (32, 28, 28, 192),
    "Mixed_3b": (32, 28, 28, 256),
    "Mixed_3c": (32, 28, 28, 480),
    "MaxPool3d_4a_3x3": (16, 14, 14, 480),
    "Mixed_4b": (16, 14, 14, 512),
    "Mixed_4c": (16, 14, 14, 512),
    "Mixed_4d": (16, 14, 14, 512),
    "Mixed_4e": (16, 14, 14, 528),
    "Mixed_4f": (16, 14, 14, 832),
    "MaxPool3d_5a_2x2": (8, 7, 7, 832),
    "Mixed_5b": (8, 7, 7, 832),
    "Mixed_5c": (8, 7, 7, 1024),
}

STEM_UNITS = ("Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3")
MIXED = [name for name in REFERENCE_SHAPES if name.startswith("Mixed")]
LOGITS = "Logits/Conv3d_0c_1x1/conv_3d"

#: Small enough to run, large enough for the head (minimum 9 frames, 193 pixels).
SMALL = {"num_classes": 7, "num_frames": 9, "size": 193, "width": 0.125}


def unit_scopes():
    """Every Unit3D scope of the reference, Mixed_5b's misnamed Branch_2 conv included."""
    yield from STEM_UNITS
    for block in MIXED:
        branch_2 = "Conv3d_0a_3x3" if block == "Mixed_5b" else "Conv3d_0b_3x3"
        for conv in (
            "Branch_0/Conv3d_0a_1x1",
            "Branch_1/Conv3d_0a_1x1",
            "Branch_1/Conv3d_0b_3x3",
            "Branch_2/Conv3d_0a_1x1",
            f"Branch_2/{branch_2}",
            "Branch_3/Conv3d_0b_1x1",
        ):
            yield f"{block}/{conv}"


def fake_checkpoint(model, stream="RGB", bn_shape=lambda c: (c,), seed=0):
    """Reference-named random variables shaped for ``model``, as a released checkpoint has."""
    rng = np.random.default_rng(seed)
    prefix = f"{stream}/inception_i3d/"
    arrays = {}
    for scope in unit_scopes():
        conv = model.get_layer(scope.replace("/", ".") + ".conv_3d")
        arrays[f"{prefix}{scope}/conv_3d/w"] = rng.normal(size=conv.kernel.shape)
        for variable in ("beta", "moving_mean", "moving_variance"):
            shape = bn_shape(conv.filters)
            arrays[f"{prefix}{scope}/batch_norm/{variable}"] = rng.uniform(0.5, 1.5, shape)
    logits = model.get_layer(LOGITS.replace("/", "."))
    arrays[f"{prefix}{LOGITS}/w"] = rng.normal(size=logits.kernel.shape)
    arrays[f"{prefix}{LOGITS}/b"] = rng.normal(size=logits.bias.shape)
    return {name: array.astype(np.float32) for name, array in arrays.items()}


def assert_loaded(model, arrays, stream="RGB"):
    """Check that every reference variable sits in the layer its name designates."""
    prefix = f"{stream}/inception_i3d/"
    for scope in unit_scopes():
        layer_name = scope.replace("/", ".")
        conv = model.get_layer(f"{layer_name}.conv_3d")
        np.testing.assert_array_equal(conv.get_weights()[0], arrays[f"{prefix}{scope}/conv_3d/w"])
        norm = model.get_layer(f"{layer_name}.batch_norm")
        for variable in ("beta", "moving_mean", "moving_variance"):
            expected = arrays[f"{prefix}{scope}/batch_norm/{variable}"].reshape(-1)
            np.testing.assert_array_equal(np.asarray(getattr(norm, variable)), expected)
    logits = model.get_layer(LOGITS.replace("/", "."))
    np.testing.assert_array_equal(np.asarray(logits.kernel), arrays[f"{prefix}{LOGITS}/w"])
    np.testing.assert_array_equal(np.asarray(logits.bias), arrays[f"{prefix}{LOGITS}/b"])


@pytest.fixture(scope="module")
def reference_model():
    return InceptionI3D(num_classes=400)


@pytest.fixture
def small_model():
    return InceptionI3D(**SMALL)


def test_reference_model_has_the_published_parameter_count(reference_model):
    trainable = sum(int(np.prod(weight.shape)) for weight in reference_model.trainable_weights)

    assert trainable == 12_689_984


def test_reference_model_has_no_gamma_and_no_bias_except_in_the_logits(reference_model):
    suffixes = {weight.path.rsplit("/", 1)[1] for weight in reference_model.weights}
    biases = [weight.path for weight in reference_model.weights if weight.path.endswith("/bias")]

    assert "gamma" not in suffixes
    assert biases == ["Logits.Conv3d_0c_1x1.conv_3d/bias"]


@pytest.mark.parametrize("endpoint", sorted(REFERENCE_SHAPES))
def test_every_endpoint_has_the_published_shape(reference_model, endpoint):
    shape = reference_model.get_layer(endpoint).output.shape

    assert tuple(shape[1:]) == REFERENCE_SHAPES[endpoint]


def test_reference_model_reads_64_rgb_frames_and_gives_400_logits(reference_model):
    assert tuple(reference_model.input_shape) == (None, 64, 224, 224, 3)
    assert tuple(reference_model.output_shape) == (None, 400)


def test_flow_stream_reads_two_channels():
    model = InceptionI3D(channels=2, width=0.125)

    assert tuple(model.input_shape) == (None, 64, 224, 224, 2)
    assert model.get_layer("Conv3d_1a_7x7.conv_3d").kernel.shape == (7, 7, 7, 2, 8)


def test_a_teaching_width_model_runs_on_a_clip():
    model = InceptionI3D(num_classes=5, num_frames=16, width=0.125)
    clip = np.random.default_rng(0).uniform(-1, 1, (1, 16, 224, 224, 3)).astype(np.float32)

    logits = np.asarray(model(clip, training=False))

    assert logits.shape == (1, 5)
    assert np.all(np.isfinite(logits))


def test_predictions_endpoint_is_a_softmax_at_the_smallest_input():
    model = InceptionI3D(**SMALL, final_endpoint="Predictions")
    clip = np.zeros((2, minimum_frames(), minimum_size(), minimum_size(), 3), np.float32)

    probabilities = np.asarray(model(clip, training=False))

    assert probabilities.shape == (2, 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_width_scales_every_unit_and_keeps_at_least_one_channel():
    model = InceptionI3D(num_frames=2, size=8, width=0.001, final_endpoint="Mixed_3b")

    assert model.get_layer("Conv3d_2c_3x3").output.shape[-1] == 1
    assert model.get_layer("Mixed_3b").output.shape[-1] == 4


def test_final_endpoint_stops_the_model_there():
    model = InceptionI3D(num_frames=4, size=32, width=0.125, final_endpoint="Mixed_4b")

    assert model.layers[-1].name == "Mixed_4b"
    assert tuple(model.output_shape) == (None, 1, 2, 2, 64)


def test_endpoints_are_listed_in_order():
    assert ENDPOINTS[:2] == ("Conv3d_1a_7x7", "MaxPool3d_2a_3x3")
    assert ENDPOINTS[-3:] == ("Mixed_5c", "Logits", "Predictions")
    assert set(REFERENCE_SHAPES) < set(ENDPOINTS)


def test_minimum_input_follows_from_the_strides():
    # Time: stride 2 three times, 2 frames for the head: ceil(ceil(ceil(9/2)/2)/2) = 2.
    assert minimum_frames() == 9
    # Space: stride 2 five times, 7 positions for the head: 193 -> 97 -> 49 -> 25 -> 13 -> 7.
    assert minimum_size() == 193


def test_the_smallest_accepted_input_builds():
    model = InceptionI3D(num_frames=9, size=193, width=0.125)

    assert model.get_layer("Mixed_5c").output.shape[1:3] == (2, 7)


def test_too_few_frames_for_the_head_are_refused_with_the_minimum():
    with pytest.raises(ValueError, match=r"num_frames=8 .*1 frame.*needs 2.*num_frames >= 9"):
        InceptionI3D(num_frames=8, width=0.125)


def test_too_small_frames_for_the_head_are_refused_with_the_minimum():
    with pytest.raises(ValueError, match=r"size=192 .*6 pixel.*needs 7.*size >= 193"):
        InceptionI3D(size=192, width=0.125)


def test_without_the_head_any_input_size_builds():
    model = InceptionI3D(num_frames=1, size=1, width=0.125, final_endpoint="Mixed_5c")

    assert tuple(model.output_shape) == (None, 1, 1, 1, 128)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"final_endpoint": "Mixed_6a"}, "Unknown final_endpoint"),
        ({"width": 0}, "width must be positive"),
        ({"channels": 0}, "channels must be at least 1"),
    ],
)
def test_bad_arguments_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        InceptionI3D(**arguments)


def test_names_round_trip_between_keras_and_the_reference(small_model):
    assert keras_name("Mixed_3b/Branch_1/Conv3d_0b_3x3/conv_3d") == (
        "Mixed_3b.Branch_1.Conv3d_0b_3x3.conv_3d"
    )
    for layer in small_model.layers:
        reference = reference_name(layer.name)
        assert "." not in reference
        assert keras_name(reference) == layer.name


def test_names_that_would_not_round_trip_are_refused():
    with pytest.raises(ValueError, match=r"Mixed\.3b"):
        keras_name("Mixed.3b/Branch_0")
    with pytest.raises(ValueError, match="Mixed_3b/Branch_0"):
        reference_name("Mixed_3b/Branch_0")


def test_mixed_5b_keeps_the_reference_misnomer(small_model):
    names = {layer.name for layer in small_model.layers}

    assert "Mixed_5b.Branch_2.Conv3d_0a_3x3.conv_3d" in names
    assert "Mixed_5c.Branch_2.Conv3d_0b_3x3.conv_3d" in names


def test_preprocessing_maps_to_minus_one_one():
    np.testing.assert_allclose(preprocess_rgb(np.array([0, 127.5, 255])), [-1, 0, 1])
    np.testing.assert_allclose(
        preprocess_flow(np.array([-40.0, -10.0, 0.0, 20.0])), [-1, -0.5, 0, 1]
    )


def test_load_puts_every_variable_in_its_layer(small_model):
    arrays = fake_checkpoint(small_model)

    load_kinetics_weights(small_model, arrays)

    assert_loaded(small_model, arrays)


def test_load_reshapes_the_kinetics_600_batch_norm_layout(small_model):
    arrays = fake_checkpoint(small_model, bn_shape=lambda c: (1, 1, 1, 1, c))

    load_kinetics_weights(small_model, arrays)

    assert_loaded(small_model, arrays)


def test_load_reads_an_npz(small_model, tmp_path):
    arrays = fake_checkpoint(small_model)
    np.savez(tmp_path / "i3d.npz", **arrays)

    load_kinetics_weights(small_model, tmp_path / "i3d.npz")

    assert_loaded(small_model, arrays)


def test_each_stream_reads_its_own_scope():
    rgb_model = InceptionI3D(**SMALL)
    flow_model = InceptionI3D(**SMALL, channels=2)
    rgb = fake_checkpoint(rgb_model, "RGB", seed=1)
    flow = fake_checkpoint(flow_model, "Flow", seed=2)
    joint = {**rgb, **flow}

    load_kinetics_weights(rgb_model, joint, stream="RGB")
    load_kinetics_weights(flow_model, joint, stream="Flow")

    assert_loaded(rgb_model, rgb, "RGB")
    assert_loaded(flow_model, flow, "Flow")


def load_error(model, arrays):
    """Return the message of the ValueError loading ``arrays`` raises; check nothing changed."""
    before = [weight.copy() for weight in model.get_weights()]
    with pytest.raises(ValueError) as error:
        load_kinetics_weights(model, arrays)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    return str(error.value)


def test_a_missing_variable_is_named(small_model):
    arrays = fake_checkpoint(small_model)
    name = "RGB/inception_i3d/Mixed_5b/Branch_2/Conv3d_0a_3x3/batch_norm/moving_mean"
    del arrays[name]

    message = load_error(small_model, arrays)

    assert re.search(r"no variable in the source \(1\):\n  " + re.escape(name), message)


def test_an_extra_variable_is_named(small_model):
    arrays = fake_checkpoint(small_model)
    name = "RGB/inception_i3d/Mixed_3b/Branch_0/Conv3d_0a_1x1/batch_norm/gamma"
    arrays[name] = np.ones(8, np.float32)

    message = load_error(small_model, arrays)

    assert re.search(r"no weight in the model \(1\):\n  " + re.escape(name), message)


def test_a_misshaped_variable_is_named_with_both_shapes(small_model):
    arrays = fake_checkpoint(small_model)
    name = f"RGB/inception_i3d/{LOGITS}/w"
    arrays[name] = np.zeros((1, 1, 1, 128, 400), np.float32)

    message = load_error(small_model, arrays)

    assert f"{name}: (1, 1, 1, 128, 400) in the source, (1, 1, 1, 128, 7) in the model" in message


def test_a_checkpoint_of_the_other_stream_leaves_everything_missing(small_model):
    message = load_error(small_model, fake_checkpoint(small_model, "Flow"))

    assert "Model weights with no variable in the source (230)" in message
    assert "... and 220 more" in message


def test_an_unknown_stream_is_refused(small_model):
    with pytest.raises(ValueError, match="Unknown stream 'rgb'"):
        load_kinetics_weights(small_model, {}, stream="rgb")


def test_checkpoint_to_npz_keeps_the_stream_variables(tmp_path):
    tf = pytest.importorskip("tensorflow")
    arrays = {
        f"RGB/inception_i3d/{LOGITS}/b": np.arange(3, dtype=np.float32),
        "Flow/inception_i3d/Conv3d_1a_7x7/batch_norm/beta": np.ones(2, np.float32),
    }
    with tf.Graph().as_default():
        for name, value in arrays.items():
            tf.compat.v1.Variable(value, name=name)
        tf.compat.v1.Variable(7, name="global_step")
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            prefix = saver.save(session, str(tmp_path / "model.ckpt"))

    out = checkpoint_to_npz(prefix, tmp_path / "weights")

    assert out == tmp_path / "weights"
    with np.load(out) as archive:
        assert sorted(archive.files) == sorted(arrays)
        for name, value in arrays.items():
            np.testing.assert_array_equal(archive[name], value)


def test_predictions_are_float32_under_mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = InceptionI3D(**SMALL, final_endpoint="Predictions")
    finally:
        keras.config.set_dtype_policy(previous)

    assert model.get_layer("Mixed_5c").compute_dtype == "float16"
    assert model.output.dtype == "float32"


# --- every naming DeepMind publishes, through a real TensorFlow checkpoint -----------------


def write_checkpoint(tmp_path, arrays):
    """Write ``arrays`` as a TensorFlow checkpoint, names as given; return its prefix."""
    pytest.importorskip("tensorflow")
    from vidlab.mirror import write_tf_checkpoint

    prefix = tmp_path / "ckpt" / "model.ckpt"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    write_tf_checkpoint(prefix, arrays)
    return prefix


def test_a_kinetics600_checkpoint_loads_without_its_scope_and_momentum_slots(small_model,
                                                                            tmp_path):
    from vidlab.mirror import kinetics600_naming

    arrays = fake_checkpoint(small_model)
    renamed = kinetics600_naming(arrays)
    assert any(name.endswith("/Momentum") for name in renamed)
    assert renamed["Conv3d_1a_7x7/batch_norm/beta"].shape[:4] == (1, 1, 1, 1)
    npz = checkpoint_to_npz(write_checkpoint(tmp_path, renamed), tmp_path / "k600.npz")

    load_kinetics_weights(small_model, npz, stream="RGB")

    beta = small_model.get_layer("Conv3d_1a_7x7.batch_norm").beta
    np.testing.assert_array_equal(np.asarray(beta),
                                  arrays["RGB/inception_i3d/Conv3d_1a_7x7/batch_norm/beta"])


def test_a_checkpoint_missing_a_variable_names_the_file_and_the_variable(small_model, tmp_path):
    arrays = fake_checkpoint(small_model, "Flow")
    name = "Flow/inception_i3d/Mixed_4d/Branch_1/Conv3d_0b_3x3/conv_3d/w"
    del arrays[name]
    npz = checkpoint_to_npz(write_checkpoint(tmp_path, arrays), tmp_path / "flow.npz")

    with pytest.raises(ValueError) as info:
        load_kinetics_weights(small_model, npz, stream="Flow")

    assert str(npz) in str(info.value) and name in str(info.value)


def test_a_truncated_checkpoint_is_named_and_leaves_no_npz(small_model, tmp_path):
    from vidlab.models.i3d import CheckpointError

    prefix = write_checkpoint(tmp_path, fake_checkpoint(small_model))
    data = prefix.with_name("model.ckpt.data-00000-of-00001")
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])

    with pytest.raises(CheckpointError, match=re.escape(str(prefix))):
        checkpoint_to_npz(prefix, tmp_path / "out.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
