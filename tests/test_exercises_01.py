"""The checks of notebook 01's exercises accept right answers and reject wrong ones."""

import numpy as np

from vidlab import exercises


def verdict(capsys) -> str:
    return capsys.readouterr().out.split("]")[0].lstrip("[")


def test_mean_std_pool_check_accepts_the_right_answer(capsys):
    exercises.check_mean_std_pool(lambda f: np.concatenate([f.mean(1), f.std(1)], axis=1))
    assert verdict(capsys) == exercises.PASS


def test_mean_std_pool_check_rejects_std_before_mean(capsys):
    exercises.check_mean_std_pool(lambda f: np.concatenate([f.std(1), f.mean(1)], axis=1))
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]")
    assert "hint" in out


def test_order_aware_check_accepts_a_half_difference_descriptor(capsys):
    def halves(f):
        half = f.shape[1] // 2
        return f[:, half:].mean(1) - f[:, :half].mean(1)

    exercises.check_order_aware_descriptor(halves)
    assert verdict(capsys) == exercises.PASS


def test_order_aware_check_rejects_an_order_free_descriptor(capsys):
    exercises.check_order_aware_descriptor(lambda f: f.max(1))
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]")
    assert "played backwards" in out


def test_shipped_stubs_are_reported_as_not_attempted(capsys):
    def stub(f):
        raise NotImplementedError

    exercises.check_mean_std_pool(stub)
    assert verdict(capsys) == exercises.TODO
    exercises.check_order_aware_descriptor(stub)
    assert verdict(capsys) == exercises.TODO
