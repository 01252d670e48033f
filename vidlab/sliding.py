"""Classify a long video with a clip model, a few clips at a time.

A video network reads fixed-length clips (I3D: 64 frames in training, any
length from 9 frames on in inference).  A long video -- minutes of frames --
does not fit in memory as one input, and even its overlapping clips would
not: 1,000 frames cut into 64-frame clips every 8 frames is 118 clips, 7.5
times the video.  :func:`predict_video` therefore slides a window over the
frames and sends ``batch_size`` clips at a time to the model; only those
clips ever exist as one array.  The video's prediction is the mean of its
clips' class probabilities, as I3D averages the predictions of its clips.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def clip_starts(num_frames: int, clip_len: int, stride: int) -> np.ndarray:
    """Return the first frame of every clip :func:`sliding_clips` cuts.

    Clips start every ``stride`` frames; if the last one stops short of the
    video's end, one more clip ends exactly at the last frame, so every frame
    is in some clip.  A video shorter than ``clip_len`` gives one clip at 0
    (padded by :func:`sliding_clips`).

    Raises
    ------
    ValueError
        If a length or the stride is below 1.
    """
    for name, value in (("num_frames", num_frames), ("clip_len", clip_len), ("stride", stride)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}.")
    if num_frames <= clip_len:
        return np.zeros(1, dtype=int)
    starts = np.arange(0, num_frames - clip_len + 1, stride)
    if starts[-1] + clip_len < num_frames:
        starts = np.append(starts, num_frames - clip_len)
    return starts


def _window(frames: np.ndarray, start: int, clip_len: int) -> np.ndarray:
    """Return ``clip_len`` frames from ``start``, repeating the last frame past the end."""
    indices = np.minimum(np.arange(start, start + clip_len), len(frames) - 1)
    return frames[indices]


def sliding_clips(frames: np.ndarray, clip_len: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``frames`` ``(T, H, W, C)`` into overlapping clips; return ``(clips, starts)``.

    ``clips`` is ``(N, clip_len, H, W, C)``, a copy (for a short video or a
    few clips; :func:`predict_video` never builds it for the whole video);
    ``starts`` is :func:`clip_starts`.  A video shorter than ``clip_len`` is
    padded by repeating its last frame.
    """
    frames = np.asarray(frames)
    if frames.ndim < 2 or len(frames) == 0:
        raise ValueError(f"frames must be a non-empty (T, ...) array, got shape {frames.shape}.")
    starts = clip_starts(len(frames), clip_len, stride)
    return np.stack([_window(frames, start, clip_len) for start in starts]), starts


@dataclass
class VideoPrediction:
    """What :func:`predict_video` returns."""

    #: ``(N,)`` first frame of every clip.
    starts: np.ndarray
    #: ``(N, C)`` class probabilities of every clip.
    clip_probabilities: np.ndarray
    #: ``(C,)`` the video's class probabilities: the mean over its clips.
    probabilities: np.ndarray

    def top(self, k: int = 5) -> list[tuple[int, float]]:
        """Return the video's ``k`` most probable classes as ``(class index, probability)``."""
        order = np.argsort(-self.probabilities, kind="stable")[:k]
        return [(int(i), float(self.probabilities[i])) for i in order]


def predict_video(
    model,
    frames: np.ndarray,
    clip_len: int,
    stride: int | None = None,
    batch_size: int = 8,
    preprocess: Callable[[np.ndarray], np.ndarray] | None = None,
) -> VideoPrediction:
    """Classify a long video clip by clip, ``batch_size`` clips per model call.

    Parameters
    ----------
    model
        Maps ``(B, clip_len, H, W, C)`` to ``(B, num_classes)`` probabilities
        (a Keras model; anything with ``predict_on_batch`` or a callable).
    frames
        ``(T, H, W, C)``, already resized; raw (e.g. uint8) if ``preprocess`` is given.
    clip_len, stride
        Clip length and the step between clip starts (default: ``clip_len``,
        clips side by side).
    batch_size
        Clips per model call: the memory bound.  Every call gets exactly
        ``batch_size`` clips (the last batch is padded with copies of its last
        clip, whose outputs are dropped), so a compiled model traces one shape.
    preprocess
        Applied to each batch of clips before the model (e.g.
        :func:`vidlab.models.i3d.preprocess_rgb`).

    Returns
    -------
    VideoPrediction
        Per-clip probabilities and their mean.
    """
    frames = np.asarray(frames)
    if frames.ndim < 2 or len(frames) == 0:
        raise ValueError(f"frames must be a non-empty (T, ...) array, got shape {frames.shape}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    stride = clip_len if stride is None else stride
    starts = clip_starts(len(frames), clip_len, stride)
    call = getattr(model, "predict_on_batch", model)
    outputs = []
    for first in range(0, len(starts), batch_size):
        chosen = starts[first:first + batch_size]
        padded = np.concatenate([chosen, np.repeat(chosen[-1:], batch_size - len(chosen))])
        batch = np.stack([_window(frames, s, clip_len) for s in padded])
        if preprocess is not None:
            batch = preprocess(batch)
        outputs.append(np.asarray(call(batch))[:len(chosen)])
    clip_probabilities = np.concatenate(outputs)
    return VideoPrediction(starts, clip_probabilities, clip_probabilities.mean(axis=0))
