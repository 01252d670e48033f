"""Per-frame CNN features for whole datasets, cached on disk, and pooled video descriptors."""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable

import numpy as np
from tqdm.auto import tqdm

from vidlab import config
from vidlab.datasets import make_dataset, read_clips
from vidlab.download import atomic_path
from vidlab.video import read_video


def _predict_batches(batches, backbone, total: int, progress: bool) -> np.ndarray:
    """Run preprocessed frame batches through ``backbone``: ``(total, D)`` float32."""
    out = np.empty((total, backbone.feature_dim), np.float32)
    done = 0
    with tqdm(total=total, desc=f"Features ({backbone.name})", unit="frame",
              disable=not progress) as bar:
        for batch in batches:
            out[done:done + len(batch)] = np.asarray(backbone.model.predict_on_batch(batch))
            done += len(batch)
            bar.update(len(batch))
    return out


def frames_per_call(input_size: int) -> int:
    """How many frames one model call gets by default: 256, fewer for large inputs.

    256 frames up to 112x112 pixels; above, as many as hold the pixels of 256 frames
    of 112x112 (64 at 224x224).  A network's activations grow with the pixels of a
    call: VGG16 on 256 frames of 224x224 held about 10 GB of activations on a CPU
    (64 frames: about 2 GB), and batches past a few dozen frames were no faster.
    """
    if input_size < 1:
        raise ValueError(f"input_size must be at least 1, got {input_size}")
    return max(1, min(256, 256 * 112 * 112 // (input_size * input_size)))


def extract_features(clips: np.ndarray, backbone, batch_size: int | None = None,
                     progress: bool = True) -> np.ndarray:
    """Run every frame of ``clips`` through ``backbone`` in large batches.

    Parameters
    ----------
    clips : (N, T, H, W, 3) uint8 RGB
    backbone : vidlab.backbones.Backbone
        Frames are resized to its input size and preprocessed its way.
    batch_size : int or None
        Frames per model call (None: :func:`frames_per_call` of the backbone's
        input size).  Each call is one compiled ``predict_on_batch``: a model
        call has a fixed cost of tens of milliseconds, so one call per frame is
        many times slower (see ``benchmarks/feature_extraction.py``).

    Returns
    -------
    (N, T, D) float32 features.

    See Also
    --------
    video_features : the same from video files, decoding while the model runs.
    """
    clips = np.asarray(clips)
    if clips.ndim != 5 or clips.shape[-1] != 3:
        raise ValueError(f"clips must have shape (N, T, H, W, 3), got {clips.shape}")
    frames = clips.reshape((-1, *clips.shape[2:]))
    batch_size = batch_size or frames_per_call(backbone.input_size)
    batches = (backbone.prepare(frames[start:start + batch_size])
               for start in range(0, len(frames), batch_size))
    return _predict_batches(batches, backbone, len(frames), progress).reshape(
        *clips.shape[:2], -1)


def frame_batches(records, num_frames: int, size: int, backbone, clips_per_batch: int = 16):
    """A ``tf.data`` pipeline of the preprocessed frames of ``records``, in order.

    Each element is ``(clips_per_batch * num_frames, s, s, 3)`` float32, ``s``
    the backbone's input size (the last one may hold fewer clips).  Clips are
    decoded by :func:`vidlab.datasets.make_dataset` (``num_frames`` sampled
    uniformly at ``size`` pixels, several clips at a time) and preprocessed in
    the pipeline's own threads, ahead of the model: while the model works on one
    batch, the next ones are being decoded.
    """
    import tensorflow as tf  # the GPU path only: TensorFlow is imported when it runs


    def prepare(clips: np.ndarray) -> np.ndarray:
        # make_dataset gives float32 in [0, 255] holding whole numbers: back to uint8 exactly,
        # so frames are resized as extract_features resizes them.
        frames = clips.reshape((-1, *clips.shape[2:])).astype(np.uint8)
        return backbone.prepare(frames)

    def to_frames(clips, _labels):
        frames = tf.numpy_function(prepare, [clips], tf.float32)
        return tf.ensure_shape(frames, (None, backbone.input_size, backbone.input_size, 3))

    clip_batches = make_dataset(records, num_frames, size, clips_per_batch)
    return clip_batches.map(to_frames, num_parallel_calls=tf.data.AUTOTUNE,
                            deterministic=True).prefetch(1)


def video_features(records, backbone, num_frames: int, size: int,
                   batch_size: int | None = None, progress: bool = True) -> np.ndarray:
    """Per-frame features of video files: ``(N, num_frames, D)`` float32, in record order.

    The same numbers as :func:`extract_features` on the decoded clips, without
    holding every decoded clip in memory and without waiting for the decoder:
    :func:`frame_batches` decodes and preprocesses the next batches while the
    model runs on the current one.  ``batch_size`` frames per model call (whole
    clips; None: :func:`frames_per_call`).

    Raises
    ------
    vidlab.video.VideoReadError
        A file cannot be decoded; the error names it.
    """
    import tensorflow as tf  # the GPU path only: TensorFlow is imported when it runs

    records = list(records)
    clips_per_batch = max(1, (batch_size or frames_per_call(backbone.input_size)) // num_frames)
    batches = frame_batches(records, num_frames, size, backbone, clips_per_batch)
    done = []

    def counted():
        for batch in batches:
            done.append(len(batch))
            yield batch

    try:
        out = _predict_batches(counted(), backbone, len(records) * num_frames, progress)
    except tf.errors.OpError:
        # The pipeline failed on the next batch of clips: read them one by one to raise
        # read_video's own error, which names the file, instead of TensorFlow's.
        first = sum(done) // num_frames
        for record in records[first:first + clips_per_batch]:
            read_video(record.path, num_frames=num_frames, size=size)
        raise
    return out.reshape(len(records), num_frames, -1)


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
    with atomic_path(path) as tmp:
        np.savez(tmp, **stored)
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
    The cache key covers the dataset's folder, the exact clip lists, the backbone
    and the SHA-256 of its weights (``weights_id``: a changed weights file never
    reuses stale features), the frame count, the frame size and the sampling.

    With a GPU, the clips are decoded on the CPU while the GPU runs the model
    (:func:`video_features`, a ``tf.data`` pipeline).  Without one, every clip
    is decoded first (:func:`vidlab.datasets.read_clips`, in threads) and then
    extracted: the model already keeps every CPU core busy, and decoding beside
    it was as fast or slower (notebook 01's features in a Jupyter kernel on 2
    cores: 16.5 and 24.6 s against 15.1 and 15.9 s).  Both ways
    give the same numbers.
    """

    overlap = config.gpu_available()
    settings = {
        # The whole path: UCF101 from a rehearsal mirror lies in another folder of the same name.
        "dataset": str(dataset.root),
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
            records = getattr(dataset, split)
            if overlap:
                out[split] = video_features(records, backbone, num_frames, size,
                                            progress=progress)
            else:
                clips, _ = read_clips(records, num_frames, size, progress=progress)
                out[split] = extract_features(clips, backbone, progress=progress)
            out[f"y_{split}"] = np.array([r.label for r in records])
        return out

    return cached("frame_features", settings, compute)


def naive_extract(clips: np.ndarray, backbone) -> np.ndarray:
    """The slow recipe, for comparison only: one ``model.predict`` call per frame image."""
    out = []
    for clip in np.asarray(clips):
        for frame in clip:
            out.append(backbone.model.predict(backbone.prepare(frame[None]), verbose=0)[0])
    return np.array(out).reshape(len(clips), clips.shape[1], -1)


def compare_extraction_speed(clips: np.ndarray, backbone) -> dict[str, float]:
    """Frames per second of :func:`naive_extract` and :func:`extract_features` on ``clips``.

    Both paths are warmed up first (model build and tracing are not timed), and
    their features are checked to agree.
    """

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
