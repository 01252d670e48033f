"""Turning a series into supervised learning windows.

A forecaster learns "given the last ``n_steps`` values, predict the next one".
:func:`split_sequence` cuts a univariate series into exactly those pairs::

    series   10 20 30 40 50 60 70 80 90
    X[0]     10 20 30          y[0] = 40
    X[1]        20 30 40       y[1] = 50
    ...
    X[5]                 60 70 80    y[5] = 90
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np


def _as_series(seq: Iterable[float]) -> np.ndarray:
    """Return ``seq`` as a float32 vector, or raise TypeError at the first non-number."""
    values = list(seq)
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(
                f"The sequence must hold numbers, but element {index} is {value!r} "
                f"({type(value).__name__})."
            )
    return np.asarray(values, dtype=np.float32)


def split_sequence(seq: Iterable[float], n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut a univariate series into (window, next value) training pairs.

    Parameters
    ----------
    seq
        The series, any iterable of real numbers (list, tuple, 1-D array).
    n_steps
        How many past values each window holds.

    Returns
    -------
    X : np.ndarray
        Windows, shape ``(N, n_steps)``, float32, with ``N = len(seq) - n_steps``.
    y : np.ndarray
        The value that follows each window, shape ``(N,)``, float32.

    Raises
    ------
    ValueError
        If ``n_steps < 1`` or the series has no more than ``n_steps`` values.
    TypeError
        If an element of ``seq`` is not a real number (the message names it).

    Examples
    --------
    >>> X, y = split_sequence([10, 20, 30, 40, 50], n_steps=3)
    >>> X.tolist(), y.tolist()
    ([[10.0, 20.0, 30.0], [20.0, 30.0, 40.0]], [40.0, 50.0])
    """
    if n_steps < 1:
        raise ValueError(f"n_steps must be at least 1, got {n_steps}.")
    series = _as_series(seq)
    if len(series) <= n_steps:
        raise ValueError(
            f"A window of n_steps={n_steps} needs at least {n_steps + 1} values "
            f"(the window and the value after it); the sequence has {len(series)}."
        )
    windows = np.lib.stride_tricks.sliding_window_view(series[:-1], n_steps)
    return windows.copy(), series[n_steps:].copy()
