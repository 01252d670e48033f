"""Automatic checks for the notebooks' exercises, one checker for the whole course.

An exercise cell ships with a stub that raises ``NotImplementedError``; the
checker then reports "not attempted yet", so Restart & Run All passes on the
shipped notebook.  Once the student writes code, the checker runs it against
known answers and prints a clear pass or fail line with a hint.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

PASS, FAIL, TODO = "PASS", "FAIL", "TODO"


def check(name: str, attempt: Callable[[], object], verify: Callable[[object], None],
          hint: str = "") -> str:
    """Run one exercise check and print its verdict.

    Parameters
    ----------
    name : str
        The exercise, as the notebook titles it.
    attempt : callable
        Calls the student's code and returns what it produced.  Raising
        ``NotImplementedError`` means "not attempted yet".
    verify : callable
        Receives the result; raises ``AssertionError`` with a message when wrong.
    hint : str
        Printed after a failure.

    Returns
    -------
    str
        ``"PASS"``, ``"FAIL"`` or ``"TODO"``.
    """
    try:
        result = attempt()
    except NotImplementedError:
        print(f"[{TODO}] {name}: not attempted yet. Replace `raise NotImplementedError` "
              "with your code and run the cell again.")
        return TODO
    except Exception as error:  # the student's code crashed: say so, never a raw traceback
        print(f"[{FAIL}] {name}: your code raised {type(error).__name__}: {error}")
        if hint:
            print(f"       hint: {hint}")
        return FAIL
    try:
        verify(result)
    except AssertionError as error:
        print(f"[{FAIL}] {name}: {error}")
        if hint:
            print(f"       hint: {hint}")
        return FAIL
    print(f"[{PASS}] {name}: well done.")
    return PASS


def expect_array(result: object, expected: np.ndarray, what: str, atol: float = 1e-5) -> None:
    """Assert that ``result`` is an array with ``expected``'s shape and values."""
    result = np.asarray(result)
    assert result.shape == expected.shape, (
        f"{what} should have shape {expected.shape}, yours has {result.shape}"
    )
    assert np.allclose(result, expected, atol=atol), (
        f"{what} has the right shape but different values "
        f"(largest difference {np.max(np.abs(result - expected)):.3g})"
    )
