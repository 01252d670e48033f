"""Speed and accuracy of the optical-flow methods on MotionShapes clips with known true flow.

Run: `python benchmarks/optical_flow.py`.  For every method OpenCV offers here
(`dis`, `farneback`, and `tvl1` with the contrib wheel) it prints the speed in
frame pairs per second (best of 3 runs, grayscale conversion included) and the
mean end-point error against `motion_shapes.true_flow` on the sprite's pixels,
at 64x64 and 224x224.
"""

import time

import cv2
import numpy as np

from vidlab.datasets import motion_shapes
from vidlab.flow import compute_flow, endpoint_error

SIZES = (64, 224)
NUM_FRAMES = 16
#: One clip per kind of motion, each with its own sprite and background group.
CLIPS = (("SlideRight", "Triangle"), ("SlideUp", "Square"), ("ZoomOut", "Star"),
         ("RotateClockwise", "Cross"))
REPEATS = 3


def available_methods() -> list[str]:
    """The methods this OpenCV build can run (tvl1 needs opencv-contrib-python)."""
    return ["dis", "farneback"] + (["tvl1"] if hasattr(cv2, "optflow") else [])


def make_clips(size: int) -> list[tuple[np.ndarray, dict, str]]:
    """(clip, poses, shape) for each of :data:`CLIPS`, rendered at ``size`` pixels."""
    out = []
    for group, (motion, shape) in enumerate(CLIPS, start=1):
        background, hue = motion_shapes.group_background(group, size)
        color = motion_shapes.hsv_to_rgb(hue + 0.5, 0.9, 0.95)
        rng = np.random.default_rng(group)
        clip, poses = motion_shapes.render_clip_with_poses(shape, motion, background, color,
                                                           NUM_FRAMES, rng)
        out.append((clip, poses, shape))
    return out


def measure(method: str, clips: list[tuple[np.ndarray, dict, str]]) -> tuple[float, float]:
    """(pairs per second, mean end-point error in pixels) of ``method`` on ``clips``."""
    compute_flow(clips[0][0][:2], method)  # warm-up: library loading, thread pool
    seconds = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fields = [compute_flow(clip, method) for clip, _, _ in clips]
        seconds.append(time.perf_counter() - start)
    size = clips[0][0].shape[1:3]
    errors = [
        endpoint_error(field[t], *motion_shapes.true_flow(poses, t, size, shape))
        for field, (_, poses, shape) in zip(fields, clips, strict=True)
        for t in range(len(field))
    ]
    pairs = sum(len(field) for field in fields)
    return pairs / min(seconds), float(np.mean(errors))


def main() -> None:
    clips = {size: make_clips(size) for size in SIZES}
    header = "".join(f"{f'{s}x{s} pairs/s':>18}{f'{s}x{s} EPE px':>16}" for s in SIZES)
    print(f"OpenCV {cv2.__version__}, {len(CLIPS)} clips of {NUM_FRAMES} frames per size, "
          f"{cv2.getNumThreads()} OpenCV threads")
    print(f"{'method':<12}{header}")
    for method in available_methods():
        cells = "".join(f"{rate:>18.0f}{error:>16.3f}"
                        for rate, error in (measure(method, clips[s]) for s in SIZES))
        print(f"{method:<12}{cells}")
    if "tvl1" not in available_methods():
        print("tvl1        not available (needs opencv-contrib-python instead of opencv-python)")


if __name__ == "__main__":
    main()
