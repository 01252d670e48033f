"""Classify a long video with a clip model, a few clips at a time.

A video network reads fixed-length clips (I3D: 64 frames in training, any
length from 9 frames on in inference).  A long video -- minutes of frames --
does not fit in memory as one input, and even its overlapping clips would
not: 1,000 frames cut into 64-frame clips every 8 frames is 118 clips, 7.5
times the video.  :func:`predict_video` therefore slides a window over the
frames and sends ``batch_size`` clips at a time to the model; only those
clips ever exist as one array, and frames can stream in from the file
(:func:`vidlab.video.iter_frames`), so the whole video never sits in memory.
The video's prediction is the mean of its clips' class probabilities, as I3D
averages the predictions of its clips.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np


def clip_starts(num_frames: int, clip_len: int, stride: int) -> np.ndarray:
    """Return the first frame of every clip :func:`predict_video` cuts.

    Clips start every ``stride`` frames; if the last one stops short of the
    video's end, one more clip ends exactly at the last frame, so every frame
    is in some clip.  A video shorter than ``clip_len`` gives one clip at 0
    (padded by repeating the video's last frame).

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
    frames: np.ndarray | Iterable[np.ndarray],
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
        ``(T, H, W, C)`` frames, already resized; raw (e.g. uint8) if
        ``preprocess`` is given.  Or any iterable of such frames, e.g.
        :func:`vidlab.video.iter_frames`: the video then streams through, and
        memory holds ``clip_len`` frames and one batch of clips, whatever its
        length.
    clip_len, stride
        Clip length and the step between clip starts (default: ``clip_len``,
        clips side by side); the clips are those of :func:`clip_starts`.
    batch_size
        Clips per model call.  Every call gets exactly ``batch_size`` clips (the
        last batch is padded with copies of its last clip, whose outputs are
        dropped), so a compiled model traces one shape.
    preprocess
        Applied to each batch of clips before the model (e.g.
        :func:`vidlab.models.i3d.preprocess_rgb`).

    Returns
    -------
    VideoPrediction
        Per-clip probabilities and their mean.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    stride = clip_len if stride is None else stride
    clip_starts(1, clip_len, stride)  # checks the lengths before any frame is read
    call = getattr(model, "predict_on_batch", model)
    outputs: list[np.ndarray] = []
    pending: list[np.ndarray] = []

    def run(clips: list[np.ndarray]) -> None:
        batch = np.stack(clips + clips[-1:] * (batch_size - len(clips)))
        outputs.append(np.asarray(call(batch if preprocess is None else preprocess(batch)))
                       [:len(clips)])

    recent: deque[np.ndarray] = deque(maxlen=clip_len)  # the last clip_len frames
    starts, count = [], 0
    for count, frame in enumerate(frames, start=1):
        recent.append(np.asarray(frame))
        if count >= clip_len and (count - clip_len) % stride == 0:  # a clip ends here
            starts.append(count - clip_len)
            pending.append(np.stack(recent))
            if len(pending) == batch_size:
                run(pending)
                pending = []
    if count == 0:
        raise ValueError("frames must hold at least one frame, got none.")
    if count < clip_len or starts[-1] + clip_len < count:  # the end, in one more clip
        starts.append(max(count - clip_len, 0))
        pending.append(np.stack([*recent] + [recent[-1]] * (clip_len - len(recent))))
    if pending:
        run(pending)
    clip_probabilities = np.concatenate(outputs)
    return VideoPrediction(np.array(starts), clip_probabilities, clip_probabilities.mean(axis=0))
