"""Video datasets on disk: listing, official splits, group-held-out validation, tf.data.

Both datasets of the course use UCF101's layout::

    root/<ClassName>/v_<ClassName>_g<GG>_c<CC>.avi
    root/classInd.txt  root/trainlist01.txt  root/testlist01.txt

Clips of one group come from the same scene (UCF101) or share a background
and colour scheme (MotionShapes).  Splitting clips of one group between train
and test leaks the scene into the test set, so every split here holds out
whole groups.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from vidlab.video import natural_key, read_video

VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm")
_UCF_NAME = re.compile(r"v_(?P<cls>.+)_g(?P<group>\d+)_c(?P<clip>\d+)$")


@dataclass(frozen=True)
class VideoRecord:
    """One clip: its file, class index and group."""

    path: Path
    label: int
    group: int


@dataclass
class VideoDataset:
    """The clips of one dataset split into train and test."""

    root: Path
    class_names: list[str]
    train: list[VideoRecord]
    test: list[VideoRecord]

    def __repr__(self) -> str:
        return (
            f"VideoDataset({self.root.name!r}: {len(self.class_names)} classes, "
            f"{len(self.train)} train / {len(self.test)} test clips)"
        )


def parse_group(path: str | os.PathLike) -> int | None:
    """Return the group number of a UCF101-style file name, or None."""
    match = _UCF_NAME.match(Path(path).stem)
    return int(match["group"]) if match else None


def list_videos(root: str | os.PathLike) -> tuple[list[VideoRecord], list[str]]:
    """List a class-per-folder tree: ``root/<class>/<clip>``.

    Classes are the sorted sub-folder names.  Groups come from UCF101-style
    names; a clip without one becomes its own group.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"No dataset folder at {root}")
    names = sorted((p.name for p in root.iterdir() if p.is_dir()), key=natural_key)
    records: list[VideoRecord] = []
    next_group = 1_000_000  # clip-level groups, far from UCF101's 1..25
    for label, name in enumerate(names):
        files = sorted((root / name).iterdir(), key=lambda p: natural_key(p.name))
        for file in files:
            if file.suffix.lower() not in VIDEO_SUFFIXES:
                continue
            group = parse_group(file)
            if group is None:
                group, next_group = next_group, next_group + 1
            records.append(VideoRecord(file, label, group))
    if not records:
        raise FileNotFoundError(
            f"{root}: no video files ({', '.join(VIDEO_SUFFIXES)}) in its class sub-folders."
        )
    return records, names


def _read_list(file: Path) -> list[str]:
    return [line.split()[0] for line in file.read_text().splitlines() if line.strip()]


def read_layout(root: str | os.PathLike, split: int = 1) -> VideoDataset:
    """Read a UCF101-layout dataset with its official split number ``split``.

    Uses ``classInd.txt``, ``trainlist0{split}.txt`` and ``testlist0{split}.txt``.
    A split list naming a clip that is not on disk raises an error that names
    it; clips on disk that no list names are ignored (e.g. classes not fetched).
    """
    root = Path(root)
    class_file = root / "classInd.txt"
    train_file, test_file = root / f"trainlist{split:02d}.txt", root / f"testlist{split:02d}.txt"
    for file in (class_file, train_file, test_file):
        if not file.is_file():
            raise FileNotFoundError(
                f"{file} is missing: {root} is not a complete UCF101-layout dataset. "
                "Use vidlab.datasets.list_videos for a plain class-per-folder tree."
            )
    names = [line.split()[1] for line in class_file.read_text().splitlines() if line.strip()]
    index = {name: i for i, name in enumerate(names)}

    def records(file: Path) -> list[VideoRecord]:
        out = []
        for relative in _read_list(file):
            path = root / relative
            if not path.is_file():
                raise FileNotFoundError(f"{file} names {relative}, which is not in {root}.")
            group = parse_group(path)
            out.append(VideoRecord(path, index[Path(relative).parent.name], group or 0))
        return out

    train, test = records(train_file), records(test_file)
    leaked = {(r.label, r.group) for r in train} & {(r.label, r.group) for r in test}
    if leaked - {(label, 0) for label in range(len(names))}:
        raise ValueError(f"{root}: split {split} puts clips of one group in train and test.")
    return VideoDataset(root, names, train, test)


def read_clips(
    records: list[VideoRecord], num_frames: int, size: int | tuple[int, int],
    sampling: str = "uniform", progress: bool = True, workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode every clip into memory: ``(N, T, H, W, 3)`` uint8 and ``(N,)`` labels.

    Clips are decoded by ``workers`` threads (default: one per CPU core;
    OpenCV releases the GIL while it decodes) and come back in the order of
    ``records``.  A clip that cannot be read raises the error of
    :func:`vidlab.video.read_video`, which names the file.
    """
    def read(record: VideoRecord) -> np.ndarray:
        return read_video(record.path, num_frames=num_frames, size=size, sampling=sampling)

    with ThreadPoolExecutor(max(1, workers or os.cpu_count() or 1)) as pool:
        clips = list(tqdm(pool.map(read, records), total=len(records), desc="Decoding clips",
                          disable=not progress))
    return np.stack(clips), np.array([r.label for r in records])


def make_dataset(
    records: list[VideoRecord], num_frames: int, size: int, batch_size: int,
    training: bool = False, cache: bool = False, seed: int = 0,
):
    """A ``tf.data`` pipeline of ``(clips, labels)`` batches decoded in parallel.

    Clips are ``float32`` RGB in [0, 255], shape ``(B, num_frames, size, size, 3)``.
    ``training=True`` shuffles the clips and samples a random window of each
    clip every epoch (seeded); otherwise frames are sampled uniformly.
    ``cache=True`` keeps decoded clips in memory after the first epoch (only
    for evaluation pipelines, whose clips never change).
    """
    import tensorflow as tf  # a tf.data pipeline: only this function needs TensorFlow

    paths = [str(r.path) for r in records]
    labels = np.array([r.label for r in records], dtype=np.int32)
    sampling = "random" if training else "uniform"

    def decode(path, clip_seed):
        return read_video(
            path.decode(), num_frames=num_frames, size=size, sampling=sampling,
            seed=int(clip_seed),
        ).astype(np.float32)

    def load(path, label, clip_seed):
        clip = tf.numpy_function(decode, [path, clip_seed], tf.float32)
        clip.set_shape((num_frames, size, size, 3))
        return clip, label

    ds = tf.data.Dataset.from_tensor_slices((paths, labels))
    if training:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    seeds = tf.data.Dataset.random(seed=seed)
    ds = tf.data.Dataset.zip((ds, seeds)).map(
        lambda pair, s: load(pair[0], pair[1], s), num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    if cache and not training:
        ds = ds.cache()
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
