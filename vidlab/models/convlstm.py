"""ConvLSTM for video: next-frame prediction that only ever looks at the past.

A ConvLSTM (Shi et al., 2015) is an LSTM whose gates are convolutions: its
state is a stack of feature maps, so it keeps *where* things are while it reads
frames one after another.  Here it learns to predict frame ``t + 1`` of a clip
from frames ``0 .. t``:

* :func:`next_frame_pairs` shifts clips by one frame into (inputs, targets);
* :func:`build_next_frame_model` is a ConvLSTM2D (``return_sequences=True``)
  followed by a per-frame Conv2D head, so output ``t`` depends on input frames
  ``0 .. t`` only;
* :func:`build_leaky_next_frame_model` replaces that head by a Conv3D with
  ``padding="same"`` over time, the head of some well-known examples: its
  output ``t`` also reads input frame ``t + 1``, which is the target itself;
* :func:`frame_influence` measures, step by step, how much the predictions move
  when one input frame changes -- the check that tells the two apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers


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


def build_next_frame_model(
    frame_shape: Sequence[int] = (32, 32, 1),
    filters: int = 16,
    kernel_size: int = 3,
    head_kernel_size: int = 3,
    residual: bool = True,
) -> keras.Model:
    """A causal next-frame predictor: ConvLSTM2D over time, then a Conv2D on each step.

    Input ``(batch, T, H, W, C)`` with any ``T``; output the same shape, where
    step ``t`` is the prediction of frame ``t + 1``.  The ConvLSTM2D returns its
    hidden state after every frame (``return_sequences=True``); its state after
    frame ``t`` has read frames ``0 .. t`` and nothing later.  The head is
    wrapped in ``TimeDistributed``, so it pads in space but never mixes time
    steps: the model as a whole stays causal.

    Parameters
    ----------
    frame_shape
        ``(H, W, C)`` of one frame.
    filters
        Feature maps of the ConvLSTM2D state.
    kernel_size
        Of the ConvLSTM2D's (square) input and recurrent convolutions.
    head_kernel_size
        Of the per-frame Conv2D head.
    residual
        If True (default) the head predicts a *change*, added to the current
        frame: doing nothing gives "the next frame looks like this one", and the
        network only has to learn what moves.  If False the head predicts the
        frame itself through a sigmoid (frames in [0, 1]).
    """
    frame_shape = tuple(int(s) for s in frame_shape)
    channels = frame_shape[-1]
    frames = keras.Input((None, *frame_shape), name="past_frames")
    state = layers.ConvLSTM2D(
        filters, kernel_size, padding="same", return_sequences=True, name="conv_lstm"
    )(frames)
    if residual:
        # Zero-initialised: before training the model predicts "no change".
        change = layers.TimeDistributed(
            layers.Conv2D(channels, head_kernel_size, padding="same", kernel_initializer="zeros"),
            name="head",
        )(state)
        prediction = layers.Add(name="next_frame")([frames, change])
    else:
        prediction = layers.TimeDistributed(
            layers.Conv2D(channels, head_kernel_size, padding="same", activation="sigmoid"),
            name="next_frame",
        )(state)
    return keras.Model(frames, prediction, name="next_frame_convlstm")


def build_leaky_next_frame_model(
    frame_shape: Sequence[int] = (32, 32, 1), filters: int = 16, kernel_size: int = 3
) -> keras.Model:
    """What *not* to do: the same ConvLSTM2D, then a Conv3D with ``padding="same"`` over time.

    A 3 x 3 x 3 kernel centred on step ``t`` reads the ConvLSTM states at
    ``t - 1``, ``t`` and ``t + 1``; the state at ``t + 1`` has seen input frame
    ``t + 1``, which is exactly the target of step ``t``.  Kept to show the leak
    with :func:`frame_influence`, never to train.
    """
    frame_shape = tuple(int(s) for s in frame_shape)
    frames = keras.Input((None, *frame_shape), name="past_frames")
    state = layers.ConvLSTM2D(
        filters, kernel_size, padding="same", return_sequences=True, name="conv_lstm"
    )(frames)
    prediction = layers.Conv3D(
        frame_shape[-1], (3, 3, 3), padding="same", activation="sigmoid", name="next_frame"
    )(state)
    return keras.Model(frames, prediction, name="leaky_next_frame")


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
