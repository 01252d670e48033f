"""Specification of vidlab.exercises: the one checker behind every notebook exercise."""

from __future__ import annotations

import numpy as np
import pytest

from vidlab.exercises import FAIL, PASS, TODO, check, expect_array


def not_attempted():
    raise NotImplementedError


def answer():
    return np.arange(4)


def expect_arange(result):
    expect_array(result, np.arange(4), "the frame indices")


def test_a_stub_that_raises_not_implemented_reports_todo(capsys):
    """The shipped stub (raise NotImplementedError) gives "TODO" and "not attempted yet"."""
    assert check("Exercise 1", not_attempted, expect_arange, hint="use np.arange") == TODO == "TODO"
    out = capsys.readouterr().out
    assert "not attempted yet" in out
    assert "Exercise 1" in out
    assert "hint" not in out
    assert "Traceback" not in out


def test_a_correct_answer_reports_pass(capsys):
    """When verify accepts the result, the verdict is "PASS"."""
    assert check("Exercise 1", answer, expect_arange) == PASS == "PASS"
    out = capsys.readouterr().out
    assert "[PASS] Exercise 1" in out


def test_a_wrong_answer_reports_fail_with_the_message_and_the_hint(capsys):
    """When verify raises AssertionError, "FAIL" is printed with its message and the hint."""
    verdict = check("Exercise 2", lambda: np.arange(5), expect_arange, hint="four frames")
    assert verdict == FAIL == "FAIL"
    out = capsys.readouterr().out
    assert "[FAIL] Exercise 2" in out
    assert "the frame indices should have shape (4,), yours has (5,)" in out
    assert "hint: four frames" in out


def test_a_failure_without_a_hint_prints_no_hint_line(capsys):
    """No hint given, no empty hint line."""
    assert check("Exercise 2", lambda: np.zeros(4), expect_arange) == FAIL
    assert "hint" not in capsys.readouterr().out


def test_code_that_crashes_reports_fail_without_a_traceback(capsys):
    """If the student's code raises another exception, the verdict is "FAIL", explained simply."""

    def crashes():
        return np.zeros(3) + np.zeros(4)

    verdict = check("Exercise 3", crashes, expect_arange, hint="check the shapes")
    assert verdict == FAIL
    captured = capsys.readouterr()
    assert "[FAIL] Exercise 3" in captured.out
    assert "ValueError" in captured.out
    assert "hint: check the shapes" in captured.out
    assert "Traceback" not in captured.out + captured.err


def test_verify_is_not_called_when_the_attempt_does_not_finish(capsys):
    """verify only ever sees a result the student's code actually returned."""
    seen = []
    check("Exercise 4", not_attempted, seen.append)
    check("Exercise 4", lambda: 1 / 0, seen.append)
    assert seen == []
    capsys.readouterr()


def test_expect_array_accepts_the_right_array_and_array_likes():
    """A matching array (or list) passes silently, within atol."""
    expect_array(np.arange(4), np.arange(4), "x")
    expect_array([0, 1, 2, 3], np.arange(4), "x")
    expect_array(np.arange(4) + 1e-7, np.arange(4), "x")


def test_expect_array_reports_a_wrong_shape():
    """A wrong shape names the quantity, the expected and the actual shape."""
    with pytest.raises(AssertionError) as info:
        expect_array(np.zeros((2, 3)), np.zeros((3, 2)), "the pooled features")
    assert str(info.value) == "the pooled features should have shape (3, 2), yours has (2, 3)"


def test_expect_array_reports_wrong_values_with_the_largest_difference():
    """Right shape, wrong values: the message says so and gives the largest difference."""
    with pytest.raises(AssertionError) as info:
        expect_array(np.array([0.0, 1.0, 2.5]), np.array([0.0, 1.0, 2.0]), "the means")
    message = str(info.value)
    assert "the means has the right shape but different values" in message
    assert "0.5" in message


def test_expect_array_tolerance_is_adjustable():
    """atol widens or narrows what counts as equal."""
    expect_array(np.array([1.05]), np.array([1.0]), "x", atol=0.1)
    with pytest.raises(AssertionError):
        expect_array(np.array([1.05]), np.array([1.0]), "x", atol=0.01)
