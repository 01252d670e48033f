"""The checks of notebook 05's exercises accept right answers and reject wrong ones."""

import numpy as np

from vidlab import exercises


def verdict(capsys) -> str:
    return capsys.readouterr().out.split("]")[0].lstrip("[")


def inflate_by_hand(kernel_2d, kt):
    return np.repeat(kernel_2d[np.newaxis], kt, axis=0) / kt


def minimum_by_hand(strides, window):
    needed = window
    for stride in reversed(strides):
        needed = stride * (needed - 1) + 1
    return needed


def stub(*args):
    raise NotImplementedError


def test_inflate_kernel_check_accepts_the_i3d_rule(capsys):
    exercises.check_inflate_kernel(inflate_by_hand)
    assert verdict(capsys) == exercises.PASS


def test_inflate_kernel_check_explains_a_forgotten_division(capsys):
    exercises.check_inflate_kernel(lambda k, kt: np.repeat(k[np.newaxis], kt, axis=0))
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]")
    assert "add up to the 2D kernel" in out and "hint" in out


def test_inflate_kernel_check_rejects_time_on_the_wrong_axis(capsys):
    exercises.check_inflate_kernel(lambda k, kt: np.stack([k / kt] * kt, axis=-1))
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]")
    assert "time first" in out


def test_minimum_frames_check_accepts_walking_back_from_the_head(capsys):
    exercises.check_minimum_frames(minimum_by_hand)
    assert verdict(capsys) == exercises.PASS


def test_minimum_frames_check_rejects_multiplying_the_strides(capsys):
    exercises.check_minimum_frames(lambda strides, window: window * int(np.prod(strides)))
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]")
    assert "i3d.minimum_frames()" in out and "is 9" in out


def test_shipped_stubs_are_reported_as_not_attempted(capsys):
    exercises.check_inflate_kernel(stub)
    assert verdict(capsys) == exercises.TODO
    exercises.check_minimum_frames(stub)
    assert verdict(capsys) == exercises.TODO
