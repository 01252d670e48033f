"""Per-frame CNN features for whole datasets, cached on disk, and pooled video descriptors."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from vidlab import config
from vidlab.video import resize_frames


def _frame_batches(clips: np.ndarray, backbone, batch_size: int):
    """Yield preprocessed batches of frames from ``(N, T, H, W, 3)`` clips, in order."""
    frames = clips.reshape((-1, *clips.shape[2:]))
    size = backbone.input_size
    for start in range(0, len(frames), batch_size):
        batch = frames[start:start + batch_size]
        if batch.shape[1:3] != (size, size):
            batch = resize_frames(batch, (size, size))
        yield backbone.preprocess(batch.astype(np.float32))


def extract_features(clips: np.ndarray, backbone, batch_size: int = 256,
                     progress: bool = True) -> np.ndarray:
    """Run every frame of ``clips`` through ``backbone`` in large batches.

    Parameters
    ----------
    clips : (N, T, H, W, 3) uint8 RGB
    backbone : vidlab.backbones.Backbone
        Frames are resized to its input size and preprocessed its way.
    batch_size : int
        Frames per model call.  Each call is one compiled ``predict_on_batch``:
        a model call has a fixed cost of tens of milliseconds, so one call per
        frame is many times slower (see ``benchmarks/feature_extraction.py``).

    Returns
    -------
    (N, T, D) float32 features.
    """
    clips = np.asarray(clips)
    if clips.ndim != 5 or clips.shape[-1] != 3:
        raise ValueError(f"clips must have shape (N, T, H, W, 3), got {clips.shape}")
    num_clips, num_frames = clips.shape[:2]
    out = np.empty((num_clips * num_frames, backbone.feature_dim), np.float32)
    done = 0
    with tqdm(total=len(out), desc=f"Features ({backbone.name})", unit="frame",
              disable=not progress) as bar:
        for batch in _frame_batches(clips, backbone, batch_size):
            out[done:done + len(batch)] = np.asarray(backbone.model.predict_on_batch(batch))
            done += len(batch)
            bar.update(len(batch))
    return out.reshape(num_clips, num_frames, -1)


def cache_key(**settings) -> str:
    """A short hash of everything that determines a set of features."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cached(name: str, settings: dict, compute: Callable[[], dict[str, np.ndarray]]
           ) -> dict[str, np.ndarray]:
    """Return the arrays ``compute()`` makes, cached as ``.npz`` under a key of ``settings``.

    The file is written under a temporary name and renamed when complete, so a
    half-written cache file is never read; a changed setting changes the key,
    so stale features are never reused.  Floating arrays are stored as float16.
    """
    folder = config.cache_dir() / "features"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{cache_key(**settings)}.npz"
    if path.is_file():
        try:
            with np.load(path) as stored:
                return {k: stored[k].astype(np.float32) if stored[k].dtype == np.float16
                        else stored[k] for k in stored.files}
        except (OSError, ValueError) as error:
            warnings.warn(f"{path} is unreadable ({error}); recomputing it.", stacklevel=2)
    stored = {k: v.astype(np.float16) if v.dtype.kind == "f" else v
              for k, v in compute().items()}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz", dir=folder)
    os.close(fd)
    try:
        np.savez(tmp, **stored)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    # Return what a later call will read, so a cold and a warm cache give the same numbers.
    return {k: v.astype(np.float32) if v.dtype == np.float16 else v for k, v in stored.items()}


def _check_features(features: np.ndarray) -> np.ndarray:
    features = np.asarray(features)
    if features.ndim != 3:
        raise ValueError(f"features must have shape (N, T, D), got {features.shape}")
    return features


def max_min_pool(features: np.ndarray) -> np.ndarray:
    """Concatenate the max and the min over time: ``(N, T, D) -> (N, 2D)``."""
    features = _check_features(features)
    return np.concatenate([features.max(axis=1), features.min(axis=1)], axis=1)


def mean_pool(features: np.ndarray) -> np.ndarray:
    """Average over time: ``(N, T, D) -> (N, D)``."""
    return _check_features(features).mean(axis=1)


def dataset_features(dataset, backbone, num_frames: int, size: int,
                     progress: bool = True) -> dict[str, np.ndarray]:
    """Per-frame features of a dataset's train and test clips, cached.

    Returns ``{"train": (N, T, D), "y_train": (N,), "test": ..., "y_test": ...}``.
    The cache key covers the dataset, the exact clip lists, the backbone and
    its weights, the frame count, the frame size and the sampling.
    """
    from vidlab.datasets import read_clips

    settings = {
        "dataset": dataset.root.name,
        "train": [r.path.name for r in dataset.train],
        "test": [r.path.name for r in dataset.test],
        "backbone": backbone.weights_id,
        "num_frames": num_frames,
        "size": size,
        "sampling": "uniform",
    }

    def compute() -> dict[str, np.ndarray]:
        out = {}
        for split in ("train", "test"):
            clips, labels = read_clips(getattr(dataset, split), num_frames, size,
                                       progress=progress)
            out[split] = extract_features(clips, backbone, progress=progress)
            out[f"y_{split}"] = labels
        return out

    return cached("frame_features", settings, compute)


def naive_extract(clips: np.ndarray, backbone) -> np.ndarray:
    """The slow recipe, for comparison only: one ``model.predict`` call per frame image."""
    size = backbone.input_size
    out = []
    for clip in np.asarray(clips):
        for frame in resize_frames(clip, (size, size)):
            x = backbone.preprocess(frame[None].astype(np.float32))
            out.append(backbone.model.predict(x, verbose=0)[0])
    return np.array(out).reshape(len(clips), clips.shape[1], -1)


def compare_extraction_speed(clips: np.ndarray, backbone) -> dict[str, float]:
    """Frames per second of :func:`naive_extract` and :func:`extract_features` on ``clips``.

    Both paths are warmed up first (model build and tracing are not timed), and
    their features are checked to agree.
    """
    import time

    naive_extract(clips[:1, :1], backbone)
    extract_features(clips[:1], backbone, progress=False)
    frames = clips.shape[0] * clips.shape[1]
    start = time.perf_counter()
    slow = naive_extract(clips, backbone)
    naive_seconds = time.perf_counter() - start
    start = time.perf_counter()
    fast = extract_features(clips, backbone, progress=False)
    batched_seconds = time.perf_counter() - start
    if not np.allclose(slow, fast, rtol=1e-3, atol=1e-3 * (1 + float(np.abs(slow).max()))):
        raise AssertionError("naive and batched extraction disagree")
    return {"naive": frames / naive_seconds, "batched": frames / batched_seconds}
