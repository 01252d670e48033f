"""The checks of notebook 04's exercises accept right answers and reject the likely wrong ones."""

import numpy as np
import pytest

from vidlab import exercises


def verdict(capsys) -> str:
    return capsys.readouterr().out.split("]")[0].lstrip("[")


def stack_right(fields, length, start):
    window = np.moveaxis(fields[start:start + length], 0, 2)
    return window.reshape(*window.shape[:2], 2 * length)


def stack_x_then_y(fields, length, start):
    window = fields[start:start + length]
    return np.concatenate([np.moveaxis(window[..., 0], 0, -1),
                           np.moveaxis(window[..., 1], 0, -1)], axis=-1)


def stack_off_by_one(fields, length, start):
    return stack_right(fields, length, start + 1) if start + 1 + length <= len(fields) else \
        stack_right(fields, length, start)


def test_stack_flow_check_accepts_the_right_answer(capsys):
    exercises.check_stack_flow(stack_right)
    assert verdict(capsys) == exercises.PASS


def test_stack_flow_check_names_the_blocked_channel_order(capsys):
    exercises.check_stack_flow(stack_x_then_y)
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]")
    assert "interleaves" in out and "hint" in out


def test_stack_flow_check_names_the_wrong_window(capsys):
    exercises.check_stack_flow(stack_off_by_one)
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]")
    assert "should come from fields 1..3" in out


def test_stack_flow_check_rejects_a_plain_reshape(capsys):
    exercises.check_stack_flow(
        lambda f, length, start: f[start:start + length].reshape(*f.shape[1:3], 2 * length))
    assert verdict(capsys) == exercises.FAIL


def test_cross_modality_check_accepts_the_mean_and_rejects_the_sum(capsys):
    exercises.check_cross_modality_kernel(
        lambda k, c: np.repeat(k.mean(axis=2, keepdims=True), c, axis=2))
    assert verdict(capsys) == exercises.PASS
    exercises.check_cross_modality_kernel(
        lambda k, c: np.repeat(k.sum(axis=2, keepdims=True), c, axis=2))
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]") and "summed" in out


def test_cross_modality_check_rejects_a_wrong_shape(capsys):
    exercises.check_cross_modality_kernel(lambda k, c: np.tile(k, (1, 1, c, 1)))
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]") and "should become" in out


def grid_search(spatial, temporal, y, step=0.05):
    grid = np.arange(0, 1 + 1e-9, step)
    accuracies = [np.mean((w * spatial + (1 - w) * temporal).argmax(1) == y) for w in grid]
    return float(grid[int(np.argmax(accuracies))])


@pytest.mark.parametrize("step", [0.1, 0.05, 0.01])
def test_fusion_weight_check_accepts_a_grid_search(capsys, step):
    exercises.check_fusion_weight(lambda s, t, y: grid_search(s, t, y, step))
    assert verdict(capsys) == exercises.PASS


def test_fusion_weight_check_accepts_the_library_answer(capsys):
    from vidlab.models.two_stream import choose_fusion_weight

    exercises.check_fusion_weight(choose_fusion_weight)
    assert verdict(capsys) == exercises.PASS


@pytest.mark.parametrize("answer", [0.5, 0.0, 1.0, 0.9])
def test_fusion_weight_check_rejects_weights_off_the_plateau(capsys, answer):
    exercises.check_fusion_weight(lambda s, t, y: answer)
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]") and "plain average" in out


def test_fusion_weight_check_rejects_out_of_range_and_arrays(capsys):
    exercises.check_fusion_weight(lambda s, t, y: 1.5)
    assert "must lie in [0, 1]" in capsys.readouterr().out
    exercises.check_fusion_weight(lambda s, t, y: np.array([0.6, 0.4]))
    assert "one number" in capsys.readouterr().out


def test_shipped_stubs_are_reported_as_not_attempted(capsys):
    def stub(*args):
        raise NotImplementedError

    for checker in (exercises.check_stack_flow, exercises.check_cross_modality_kernel,
                    exercises.check_fusion_weight):
        checker(stub)
        assert verdict(capsys) == exercises.TODO
