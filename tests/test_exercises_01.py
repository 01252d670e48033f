"""The checks of notebook 01's exercises pass the reference solutions and fail wrong answers.

The reference solutions are the files the notebook tells a student to `%load`, in
notebooks/solutions/01_frame_features/; they are imported here, not copied.
"""


import keras
import numpy as np
import pytest
import solutions
from keras import layers

from vidlab import exercises


def solution(name: str):
    return solutions.solution("01_frame_features", name)


def not_attempted(*args):
    raise NotImplementedError


def test_every_exercise_has_one_solution_file():
    assert sorted(p.stem for p in (solutions.FOLDER / "01_frame_features").glob("*.py")) == [
        "mean_std_pool", "order_aware_descriptor", "pooled_extractor"]


# --------------------------------------------------------------------------- exercise 1


def test_mean_std_pool_check_passes_the_solution(verdict):
    exercises.check_mean_std_pool(solution("mean_std_pool"))
    assert verdict()[0] == exercises.PASS


def test_mean_std_pool_check_rejects_std_before_mean(verdict):
    exercises.check_mean_std_pool(lambda f: np.concatenate([f.std(1), f.mean(1)], axis=1))
    result, out = verdict()
    assert result == exercises.FAIL
    assert "different values" in out and "hint" in out


def test_mean_std_pool_check_rejects_pooling_over_the_wrong_axis(verdict):
    exercises.check_mean_std_pool(lambda f: np.concatenate([f.mean(2), f.std(2)], axis=1))
    result, out = verdict()
    assert result == exercises.FAIL
    assert "should have shape" in out


# --------------------------------------------------------------------------- exercise 2


def test_order_aware_check_passes_the_solution(verdict):
    exercises.check_order_aware_descriptor(solution("order_aware_descriptor"))
    assert verdict()[0] == exercises.PASS


def test_order_aware_check_passes_other_descriptors_that_see_the_direction(verdict):
    for descriptor in (lambda f: (f[:, 1:] - f[:, :-1]).mean(1),
                       lambda f: f.reshape(len(f), -1)):
        exercises.check_order_aware_descriptor(descriptor)
        assert verdict()[0] == exercises.PASS


def test_order_aware_check_rejects_an_order_free_descriptor(verdict):
    exercises.check_order_aware_descriptor(lambda f: np.concatenate([f.max(1), f.min(1)], 1))
    result, out = verdict()
    assert result == exercises.FAIL
    assert "played backwards" in out


@pytest.mark.parametrize("frame", [0, -1])
def test_order_aware_check_rejects_a_single_frame_that_changes_under_reversal(verdict, frame):
    """The first (or last) frame alone differs from the reversed clip's, yet cannot show
    which way the sprite moves: the held-out accuracy says so."""
    exercises.check_order_aware_descriptor(lambda f: f[:, frame])
    result, out = verdict()
    assert result == exercises.FAIL
    assert "changes under reversal, but a logistic regression" in out
    assert f"wants {exercises.ORDER_AWARE_ACCURACY}" in out


def test_order_aware_check_rejects_differences_left_per_frame(verdict):
    exercises.check_order_aware_descriptor(lambda f: f[:, 1:] - f[:, :-1])
    result, out = verdict()
    assert result == exercises.FAIL
    assert "one descriptor vector per clip" in out


# --------------------------------------------------------------------------- exercise 3


def test_pooled_extractor_check_passes_the_solution(verdict):
    exercises.check_pooled_extractor(solution("pooled_extractor"))
    assert verdict()[0] == exercises.PASS


def test_pooled_extractor_check_rejects_the_fc2_cut(verdict):
    exercises.check_pooled_extractor(
        lambda network, layer: keras.Model(network.input, network.get_layer("fc2").output))
    result, out = verdict()
    assert result == exercises.FAIL
    assert "should give 128 values per frame" in out


def test_pooled_extractor_check_rejects_feature_maps_left_unpooled(verdict):
    exercises.check_pooled_extractor(
        lambda network, layer: keras.Model(network.input, network.get_layer(layer).output))
    result, out = verdict()
    assert result == exercises.FAIL
    assert "average over height and width" in out


def test_pooled_extractor_check_rejects_a_max_instead_of_an_average(verdict):
    def max_pooled(network, layer):
        pooled = layers.GlobalMaxPooling2D()(network.get_layer(layer).output)
        return keras.Model(network.input, pooled)

    exercises.check_pooled_extractor(max_pooled)
    result, out = verdict()
    assert result == exercises.FAIL
    assert "should end with a GlobalAveragePooling2D" in out


def test_pooled_extractor_check_rejects_a_dense_layer_on_top(verdict):
    def with_dense(network, layer):
        pooled = layers.GlobalAveragePooling2D()(network.get_layer(layer).output)
        size = pooled.shape[-1]
        return keras.Model(network.input, layers.Dense(size)(pooled))

    exercises.check_pooled_extractor(with_dense)
    result, out = verdict()
    assert result == exercises.FAIL
    assert "contains Dense" in out


def test_pooled_extractor_check_rejects_the_same_layers_with_new_weights(verdict):
    """A copy of the architecture, freshly initialised: right shapes and parameter count,
    wrong features on the held-out stills."""

    def rebuilt(network, layer):
        fresh = keras.models.clone_model(network)
        pooled = layers.GlobalAveragePooling2D()(fresh.get_layer(layer).output)
        return keras.Model(fresh.input, pooled)

    exercises.check_pooled_extractor(rebuilt)
    result, out = verdict()
    assert result == exercises.FAIL
    assert "never saw differ from the pretrained network's" in out


def test_pooled_extractor_check_rejects_a_cut_that_ignores_the_layer_asked_for(verdict):
    def always_block3(network, layer):
        pooled = layers.GlobalAveragePooling2D()(network.get_layer("block3_pool").output)
        return keras.Model(network.input, pooled)

    exercises.check_pooled_extractor(always_block3)
    result, out = verdict()
    assert result == exercises.FAIL
    assert "'block2_pool'" in out and "should give 64 values" in out


# --------------------------------------------------------------------------- shipped stubs


@pytest.mark.parametrize("check", [exercises.check_mean_std_pool,
                                   exercises.check_order_aware_descriptor,
                                   exercises.check_pooled_extractor])
def test_shipped_stubs_are_reported_as_not_attempted(verdict, check):
    check(not_attempted)
    assert verdict()[0] == exercises.TODO
