"""How fast a phone-sized video is read: the time behind every "Try it on your own video".

Run: `python benchmarks/user_video.py [--seconds 10]`.

It encodes a 1080p H.264 video at 30 fps (FFmpeg's moving ``testsrc2`` pattern,
through the FFmpeg binary of ``imageio-ffmpeg``, as a phone would record it)
and reads it the ways the notebooks' own-video sections do: every frame decoded
and nothing else, every frame decoded and resized to 224 (`video.iter_frames`,
notebook 04), every frame decoded and 2 a second resized (`iter_frames(...,
fps=2)`, notebook 03), and 16 frames kept from the whole video
(`video.read_uniform`, notebook 01).  For each it prints the decoded frames per
second and what that makes for one minute of such video.  Best of 3 rounds;
FFmpeg decodes on one thread, as `vidlab.video` asks it to.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import imageio_ffmpeg

from vidlab import video

FPS = 30
ROUNDS = 3


def encode_phone_video(path: Path, seconds: float) -> Path:
    """Write ``seconds`` of 1920x1080 H.264 (yuv420p, 30 fps) to ``path``."""
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", f"testsrc2=size=1920x1080:rate={FPS}", "-t", str(seconds),
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def decode_only(path: Path) -> None:
    """Every frame decoded and converted to BGR, one FFmpeg thread as in `vidlab.video`."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    while capture.read()[0]:
        pass
    capture.release()


def best_seconds(read: Callable[[Path], object], path: Path) -> float:
    """The fastest of :data:`ROUNDS` calls of ``read(path)``."""
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        read(path)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the test video")
    args = parser.parse_args()
    ways = {
        "decode only": decode_only,
        "iter_frames, all resized to 224 (04)": lambda p: sum(1 for _ in video.iter_frames(p, 224)),
        "iter_frames, 2 a second resized (03)": lambda p: sum(
            1 for _ in video.iter_frames(p, 224, fps=2)),
        "read_uniform, 16 frames (01)": lambda p: video.read_uniform(p, 16, 224),
    }
    with tempfile.TemporaryDirectory() as folder:
        path = encode_phone_video(Path(folder) / "phone.mp4", args.seconds)
        frames = video.video_info(path).claimed_frames
        print(f"{path.name}: 1920x1080 H.264, {FPS} fps, {frames} frames, "
              f"{path.stat().st_size / 2**20:.1f} MiB")
        for name, read in ways.items():
            seconds = best_seconds(read, path)
            rate = frames / seconds
            print(f"{name:38s} {rate:6.1f} frames/s  {1000 / rate:5.1f} ms a frame  "
                  f"{60 * FPS / rate:5.1f} s per minute of video")


if __name__ == "__main__":
    main()
