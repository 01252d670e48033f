"""The checks of notebook 05's exercises pass the reference solutions and fail wrong answers.

The reference solutions are the files the notebook tells a stuck student to ``%load``, in
``notebooks/solutions/05_i3d/``; each wrong answer below is a mistake a student can make, and
its check must say FAIL with a message that names the mistake.
"""


import keras
import numpy as np
import pytest
import solutions

from vidlab import exercises
from vidlab.models.inception2d import InceptionV1Mini


def solution(name: str):
    return solutions.solution("05_i3d", name)


inflate_conv = solution("inflate_conv")
minimum_length = solution("minimum_length")


def stub(*args):
    raise NotImplementedError


@pytest.fixture(scope="module")
def trained_conv():
    """A Conv2D of the 2D Inception-V1, as the notebook passes one (random weights suffice)."""
    keras.utils.set_random_seed(0)
    return InceptionV1Mini().get_layer("Conv2d_2c_3x3.conv")


def without_division(conv_2d, kt):
    conv_3d = inflate_conv(conv_2d, kt)
    kernel, *bias = conv_3d.get_weights()
    conv_3d.set_weights([kernel * kt, *bias])
    return conv_3d


def all_in_the_centre(conv_2d, kt):
    """Passes the boring video (the slices still add up to the 2D kernel) but not a moving clip."""
    conv_3d = inflate_conv(conv_2d, kt)
    kernel, *bias = conv_3d.get_weights()
    centre = np.zeros_like(kernel)
    centre[(kt - 1) // 2] = kernel.sum(axis=0)
    conv_3d.set_weights([centre, *bias])
    return conv_3d


def without_bias(conv_2d, kt):
    conv_3d = keras.layers.Conv3D(conv_2d.filters, (kt, *conv_2d.kernel_size),
                                  (1, *conv_2d.strides), padding=conv_2d.padding,
                                  activation=conv_2d.activation, use_bias=False)
    conv_3d.build((None, None, None, None, conv_2d.kernel.shape[2]))
    conv_3d.set_weights([np.repeat(conv_2d.get_weights()[0][np.newaxis], kt, axis=0) / kt])
    return conv_3d


def strided_in_time(conv_2d, kt):
    conv_3d = keras.layers.Conv3D(conv_2d.filters, (kt, *conv_2d.kernel_size),
                                  (2, *conv_2d.strides), padding=conv_2d.padding,
                                  activation=conv_2d.activation, use_bias=conv_2d.use_bias)
    conv_3d.build((None, None, None, None, conv_2d.kernel.shape[2]))
    conv_3d.set_weights(inflate_conv(conv_2d, kt).get_weights())
    return conv_3d


def test_inflate_conv_check_passes_the_reference_solution(verdict, trained_conv):
    exercises.check_inflate_conv(inflate_conv, trained_conv)
    assert verdict()[0] == exercises.PASS


@pytest.mark.parametrize(("wrong", "message"), [
    (lambda conv_2d, kt: conv_2d, "return a keras.layers.Conv3D layer; yours is a Conv2D"),
    (without_division, "3 times the 2D response (divide by kt)"),
    (all_in_the_centre, "on a held-out clip that moves"),
    (without_bias, "plus its biases"),
    (strided_in_time, "stride 1 in time"),
], ids=["the 2D layer itself", "no division", "all in the centre", "no bias", "time stride 2"])
def test_inflate_conv_check_fails_a_wrong_answer_and_says_why(verdict, trained_conv, wrong,
                                                              message):
    exercises.check_inflate_conv(wrong, trained_conv)
    result, out = verdict()
    assert result == exercises.FAIL
    assert message in out and "hint" in out


def test_minimum_frames_check_passes_the_reference_solution(verdict):
    exercises.check_minimum_frames(minimum_length)
    assert verdict()[0] == exercises.PASS


def test_minimum_frames_check_fails_multiplying_the_strides(verdict):
    exercises.check_minimum_frames(lambda strides, window: window * int(np.prod(strides)))
    result, out = verdict()
    assert result == exercises.FAIL
    assert "i3d.minimum_frames()" in out and "is 9" in out


def test_shipped_stubs_are_reported_as_not_attempted(verdict, trained_conv):
    exercises.check_inflate_conv(stub, trained_conv)
    assert verdict()[0] == exercises.TODO
    exercises.check_minimum_frames(stub)
    assert verdict()[0] == exercises.TODO
