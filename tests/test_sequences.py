"""split_sequence: the supervised windows every forecaster trains on."""

import re

import numpy as np
import pytest

from vidlab.sequences import split_sequence

TOY = [10, 20, 30, 40, 50, 60, 70, 80, 90]


def test_classic_toy_gives_each_window_and_the_value_after_it():
    X, y = split_sequence(TOY, n_steps=3)

    np.testing.assert_array_equal(
        X,
        [
            [10, 20, 30],
            [20, 30, 40],
            [30, 40, 50],
            [40, 50, 60],
            [50, 60, 70],
            [60, 70, 80],
        ],
    )
    np.testing.assert_array_equal(y, [40, 50, 60, 70, 80, 90])


def test_returns_float32_arrays_of_shape_n_by_n_steps_and_n():
    X, y = split_sequence(TOY, n_steps=4)

    assert X.shape == (5, 4) and y.shape == (5,)
    assert X.dtype == np.float32 and y.dtype == np.float32


def test_accepts_any_iterable_of_real_numbers():
    X, y = split_sequence(np.arange(5.0), n_steps=2)

    np.testing.assert_array_equal(X, [[0, 1], [1, 2], [2, 3]])
    np.testing.assert_array_equal(y, [2, 3, 4])
    assert split_sequence(range(4), n_steps=3)[0].tolist() == [[0.0, 1.0, 2.0]]


@pytest.mark.parametrize("bad", ["thirty", None, True, [30]])
def test_a_non_numeric_element_is_a_type_error_that_names_it(bad):
    with pytest.raises(TypeError, match=rf"element 2 is {re.escape(repr(bad))}"):
        split_sequence([10, 20, bad, 40], n_steps=2)


def test_a_sequence_not_longer_than_n_steps_says_how_many_values_are_needed():
    with pytest.raises(ValueError, match=r"at least 4 values.*has 3"):
        split_sequence([10, 20, 30], n_steps=3)


@pytest.mark.parametrize("n_steps", [0, -1])
def test_n_steps_below_one_is_a_value_error(n_steps):
    with pytest.raises(ValueError, match="n_steps must be at least 1"):
        split_sequence(TOY, n_steps=n_steps)
