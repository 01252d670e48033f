"""What notebook 02 needs around its models: a series to forecast, a training loop, a check.

The models themselves (five forecasters and a next-frame ConvLSTM) are written in the
notebook's cells; this module holds what is not the lesson:

* :func:`echo_series` draws a series whose every value echoes the one a week earlier;
* :func:`fit_full_batch` trains a compiled-here model with one update per pass over a small
  set of windows, without the per-epoch cost of ``model.fit``;
* :func:`next_frame_pairs` shifts clips by one frame into (inputs, targets);
* :func:`frame_influence` measures how far each output step moves when one input frame
  changes, the test that tells a causal next-frame model from a leaky one.
"""

from __future__ import annotations

import keras
import numpy as np


def echo_series(
    length: int = 400, lag: int = 7, echo: float = 0.9, noise: float = 0.3, seed: int = 0
) -> np.ndarray:
    """A series whose every value echoes the one ``lag`` steps earlier, plus fresh noise.

    ``y[t] = echo * y[t - lag] + noise * e[t]`` with ``e[t]`` standard normal, a
    seasonal autoregression: with ``lag=7`` think of daily values that resemble
    the same weekday a week before.  The best possible one-step forecast is
    ``echo * y[t - lag]``; its error is the fresh noise, of standard deviation
    ``noise``.  The first ``lag`` values are drawn from the stationary spread,
    ``noise / sqrt(1 - echo**2)``.

    Parameters
    ----------
    length
        Number of values.
    lag
        How far back the echo reaches.
    echo
        Strength of the echo, ``|echo| < 1``.
    noise
        Standard deviation of the fresh noise.
    seed
        Of NumPy's generator.

    Returns
    -------
    np.ndarray
        ``(length,)`` float32.

    Raises
    ------
    ValueError
        If ``lag < 1``, ``length <= lag`` or ``|echo| >= 1``.
    """
    if lag < 1 or length <= lag:
        raise ValueError(f"Need lag >= 1 and length > lag, got lag={lag}, length={length}.")
    if not abs(echo) < 1:
        raise ValueError(f"|echo| must be below 1 for a stationary series, got {echo}.")
    rng = np.random.default_rng(seed)
    y = np.empty(length)
    y[:lag] = rng.normal(0.0, noise / np.sqrt(1.0 - echo**2), lag)
    fresh = rng.normal(0.0, noise, length)
    for t in range(lag, length):
        y[t] = echo * y[t - lag] + fresh[t]
    return y.astype(np.float32)


def fit_full_batch(
    model: keras.Model, x: np.ndarray, y: np.ndarray, steps: int, learning_rate: float = 0.01
) -> np.ndarray:
    """Compile ``model`` (Adam, mean squared error) and make ``steps`` updates on all of ``x``.

    Each update is one ``model.train_on_batch(x, y)`` on the whole training set.  With
    fewer samples than Keras's default batch of 32 (the toy series), these are the
    updates ``model.fit(x, y, epochs=steps)`` would make, up to rounding, without the
    cost ``fit`` pays at the start and end of every epoch.  On a larger set it is
    full-batch gradient descent: one update per pass over the data.

    Adam's slots are created before the first step: TensorFlow traces a training step
    that creates variables twice, so creating them first saves one trace per model.

    Parameters
    ----------
    model
        An uncompiled (or to be recompiled) model mapping ``x`` to ``y``.
    x, y
        The whole training set, inputs and targets.
    steps
        Number of updates.
    learning_rate
        Of Adam.

    Returns
    -------
    np.ndarray
        ``(steps,)``: the training loss of every update, each measured on the weights
        before that update (what ``fit`` reports per epoch).
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    model.optimizer.build(model.trainable_variables)
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    return np.array([float(model.train_on_batch(x, y)) for _ in range(steps)])


def next_frame_pairs(clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shift clips by one frame: the input at step ``t`` is frame ``t``, its target frame ``t + 1``.

    Parameters
    ----------
    clips
        ``(N, T, H, W, C)``, ``T >= 2``.

    Returns
    -------
    inputs : np.ndarray
        Frames ``0 .. T-2`` of every clip, ``(N, T-1, H, W, C)``, float32.
    targets : np.ndarray
        Frames ``1 .. T-1``, same shape.

    Raises
    ------
    ValueError
        If ``clips`` is not 5-D or holds fewer than 2 frames per clip.
    """
    clips = np.asarray(clips, dtype=np.float32)
    if clips.ndim != 5:
        raise ValueError(f"clips must be (N, T, H, W, C), got shape {clips.shape}.")
    if clips.shape[1] < 2:
        raise ValueError(
            f"Next-frame pairs need at least 2 frames per clip, got {clips.shape[1]}."
        )
    return clips[:, :-1].copy(), clips[:, 1:].copy()


def frame_influence(
    model: keras.Model, inputs: np.ndarray, frame: int, change: float = 0.5, seed: int = 0
) -> np.ndarray:
    """How much each output step moves when input frame ``frame`` alone is changed.

    Adds random noise of size ``change`` to frame ``frame`` of ``inputs`` and
    compares the model's outputs before and after.  A causal model gives exactly
    0 for every step before ``frame``.

    Parameters
    ----------
    model
        Maps ``(N, T, ...)`` to ``(N, T, ...)``.
    inputs
        ``(N, T, H, W, C)``.
    frame
        The input step to change, ``0 <= frame < T``.
    change
        Standard deviation of the noise added to that frame.
    seed
        Of the noise.

    Returns
    -------
    np.ndarray
        ``(T,)``: the largest absolute change of the outputs at each step.

    Raises
    ------
    ValueError
        If ``frame`` is not a step of ``inputs``.
    """
    inputs = np.asarray(inputs, dtype=np.float32)
    steps = inputs.shape[1]
    if not 0 <= frame < steps:
        raise ValueError(f"frame must be between 0 and {steps - 1}, got {frame}.")
    changed = inputs.copy()
    noise = np.random.default_rng(seed).normal(0.0, change, changed[:, frame].shape)
    changed[:, frame] += noise.astype(np.float32)
    before = keras.ops.convert_to_numpy(model(inputs, training=False))
    after = keras.ops.convert_to_numpy(model(changed, training=False))
    moved = np.abs(after - before).reshape(inputs.shape[0], steps, -1)
    return moved.max(axis=(0, 2))
