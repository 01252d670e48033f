"""Speed, size and exactness of the codecs a pip OpenCV writes, on MotionShapes clips.

Run: `python benchmarks/video_codecs.py [--clips 100]`.

It writes the same generated clips (16 frames of 64x64, the quick profile's
size) with each codec, then reads every file back with
`vidlab.video.read_video`, and prints per clip: the time to write, the time to
read, the file size, and whether every pixel came back unchanged.  FFV1 and
HuffYUV are the lossless codecs (`write_video(..., lossless=True)` uses
HuffYUV: generating MotionShapes writes every clip once, and the notebooks
decode them many times); MJPG, the default for `.avi`, is lossy.  Times are
the best of 3 rounds, on one thread (the dataset code runs one clip per
thread).  It exits with 1 if a lossless codec does not read back exactly.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from vidlab.datasets import motion_shapes
from vidlab.video import read_video

#: (name, FourCC, lossless)
CODECS = (("FFV1", "FFV1", True), ("HuffYUV", "HFYU", True), ("MJPG", "MJPG", False))
ROUNDS = 3


def write_clip(path: Path, clip: np.ndarray, fourcc: str) -> None:
    """Write RGB ``clip`` with OpenCV's FFmpeg writer and ``fourcc``."""
    height, width = clip.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*fourcc), 25.0,
                             (width, height))
    if not writer.isOpened():
        raise OSError(f"this OpenCV cannot write {fourcc} to {path.name}")
    for frame in clip:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()


def measure(clips: np.ndarray, fourcc: str, folder: Path) -> tuple[float, float, float, bool]:
    """(write ms, read ms, KiB per clip, exact) of ``fourcc`` on ``clips``."""
    paths = [folder / f"{fourcc}_{i}.avi" for i in range(len(clips))]
    write_times, read_times = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for path, clip in zip(paths, clips, strict=True):
            write_clip(path, clip, fourcc)
        write_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        decoded = [read_video(path) for path in paths]
        read_times.append(time.perf_counter() - start)
    exact = all(np.array_equal(a, b) for a, b in zip(decoded, clips, strict=True))
    kib = sum(path.stat().st_size for path in paths) / len(paths) / 1024
    per_clip = 1000 / len(clips)
    return min(write_times) * per_clip, min(read_times) * per_clip, kib, exact


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=100)
    args = parser.parse_args()
    clips = motion_shapes.generate(-(-args.clips // 8), 16, 64)[0][:args.clips]
    cv2.setNumThreads(1)
    print(f"OpenCV {cv2.__version__}, {len(clips)} MotionShapes clips of {clips.shape[1]} "
          f"frames of {clips.shape[2]}x{clips.shape[3]}, best of {ROUNDS} rounds")
    print(f"{'codec':<10}{'write ms/clip':>15}{'read ms/clip':>14}{'KiB/clip':>10}  exact")
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for name, fourcc, lossless in CODECS:
            write_ms, read_ms, kib, exact = measure(clips, fourcc, Path(folder))
            print(f"{name:<10}{write_ms:>15.2f}{read_ms:>14.2f}{kib:>10.0f}  {exact}")
            failed |= lossless and not exact
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
