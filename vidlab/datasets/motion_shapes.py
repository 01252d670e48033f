"""MotionShapes: a procedurally generated video dataset with known truth.

A sprite (triangle, square, star or cross) moves over a textured background.
With ``label_set="motion"`` there are 8 classes in 4 *reversal pairs*::

    SlideLeft / SlideRight, SlideUp / SlideDown,
    ZoomIn / ZoomOut, RotateClockwise / RotateCounterClockwise

Within a pair, the second class is drawn exactly as the time-reversal of the
first: a clip of one class played backwards is a sample of the other class,
with the same probability.  Any order-free summary of the frames (max, min or
mean pooling over time) therefore cannot tell the two apart, while any model
that sees frame order can.

Other label sets: ``"shape"`` (4 classes, appearance only, random motion) and
``"shape_motion"`` (shape x {SlideLeft, SlideRight}, 8 classes).

Every clip belongs to a *group* (shared background texture and colour scheme,
like UCF101's groups of clips from one scene).  :func:`write` lays the clips out
exactly like UCF101, with split lists that hold out whole groups, so the same
reading code serves both datasets.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from vidlab import config
from vidlab.video import write_video

MOTIONS = (
    "SlideLeft",
    "SlideRight",
    "SlideUp",
    "SlideDown",
    "ZoomIn",
    "ZoomOut",
    "RotateClockwise",
    "RotateCounterClockwise",
)
#: Each motion drawn directly, and the one drawn as its time-reversal.
REVERSAL_PAIRS = {
    "SlideRight": "SlideLeft",
    "SlideDown": "SlideUp",
    "ZoomIn": "ZoomOut",
    "RotateClockwise": "RotateCounterClockwise",
}
SHAPES = ("Triangle", "Square", "Star", "Cross")
LABEL_SETS = ("motion", "shape", "shape_motion")
NUM_GROUPS = 25  # as in UCF101
TEST_GROUP_FRACTION = 7 / 25  # UCF101 split 1 tests on groups 1-7 of 25
FORMAT_VERSION = 3  # bump when rendering changes, so cached copies are rebuilt


def class_names(label_set: str = "motion") -> list[str]:
    """Return the class names of ``label_set`` in label order."""
    if label_set == "motion":
        return list(MOTIONS)
    if label_set == "shape":
        return list(SHAPES)
    if label_set == "shape_motion":
        return [f"{shape}{motion}" for shape in SHAPES for motion in ("SlideLeft", "SlideRight")]
    raise ValueError(f"label_set must be one of {LABEL_SETS}, got {label_set!r}")


def _partners(names: list[str], rename: Callable[[str], str]) -> np.ndarray:
    """Index of ``rename(name)`` for every name; a name whose partner is absent maps to itself."""
    index = {name: k for k, name in enumerate(names)}
    return np.array([index.get(rename(name), k) for k, name in enumerate(names)])


def reversal_partners(names: list[str]) -> np.ndarray:
    """Return, for every class index, the index of the class it becomes when played backwards.

    ``names`` are class names of any label set (``class_names(...)``): a name
    containing a motion of :data:`REVERSAL_PAIRS` maps to the name with its
    partner motion (``SlideLeft`` <-> ``SlideRight``, ``StarZoomIn`` <->
    ``StarZoomOut``); a class with no partner in ``names`` maps to itself.
    """
    partner_motion = REVERSAL_PAIRS | {v: k for k, v in REVERSAL_PAIRS.items()}

    def reverse(name: str) -> str:
        for motion in sorted(partner_motion, key=len, reverse=True):
            if name.endswith(motion):
                return name[: -len(motion)] + partner_motion[motion]
        return name

    return _partners(names, reverse)


#: The direction words a mirror image swaps; either mirror also swaps the sense of rotation.
MIRROR_SWAPS = {"horizontal": ("Left", "Right"), "vertical": ("Up", "Down")}


def mirror_partners(names: list[str], mirror: str) -> np.ndarray:
    """Return, for every class index, the index of the class it becomes in a mirror image.

    A left-right (``"horizontal"``) mirror turns ``SlideLeft`` into
    ``SlideRight``, a top-bottom (``"vertical"``) one ``SlideUp`` into
    ``SlideDown``, and either turns a clockwise rotation counter-clockwise;
    zooms, and classes without a partner in ``names``, map to themselves.
    """
    if mirror not in MIRROR_SWAPS:
        raise ValueError(f"mirror must be one of {tuple(MIRROR_SWAPS)}, got {mirror!r}")

    def reflect(name: str) -> str:
        for a, b in (("CounterClockwise", "Clockwise"), MIRROR_SWAPS[mirror]):
            if a in name:
                return name.replace(a, b)
            if b in name:
                return name.replace(b, a)
        return name

    return _partners(names, reflect)


def add_reversed(clips: np.ndarray, labels: np.ndarray,
                 names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Append every clip played backwards, labelled with its reversal partner.

    Exact for MotionShapes, whose reversed classes are drawn as their partner
    played backwards: the new clips are samples of the partner class.  Every
    background then appears with both directions of a pair, so a model cannot
    tell the direction from the background.  Returns ``(2N, ...)`` clips and labels.
    """
    partners = reversal_partners(names)
    return (np.concatenate([clips, clips[:, ::-1]]),
            np.concatenate([labels, partners[np.asarray(labels)]]))


def _shape_outline(shape: str) -> np.ndarray:
    """Vertices of ``shape`` in unit coordinates (radius about 1)."""
    if shape == "Triangle":
        angles = np.deg2rad([-90, 30, 150])
        return np.stack([np.cos(angles), np.sin(angles)], 1)
    if shape == "Square":
        return np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * 0.8
    if shape == "Star":
        angles = np.deg2rad(np.arange(10) * 36 - 90)
        radii = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
        return np.stack([np.cos(angles) * radii, np.sin(angles) * radii], 1)
    if shape == "Cross":
        a, b = 1.0, 0.35
        return np.array(
            [[-b, -a], [b, -a], [b, -b], [a, -b], [a, b], [b, b], [b, a], [-b, a], [-b, b],
             [-a, b], [-a, -b], [-b, -b]]
        )
    raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")


def hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    """Convert one HSV colour (each in [0, 1], hue wrapping) to RGB floats in [0, 255]."""
    pixel = np.uint8([[[round(h * 180) % 180, round(s * 255), round(v * 255)]]])
    return cv2.cvtColor(pixel, cv2.COLOR_HSV2RGB)[0, 0].astype(float)


def group_background(group: int, size: int, seed: int = 0) -> tuple[np.ndarray, float]:
    """Return the background image (H, W, 3 float) of ``group`` and its hue in [0, 1)."""
    rng = np.random.default_rng([seed, 1, group])
    hue = rng.random()
    dark, light = hsv_to_rgb(hue, 0.35, 0.25), hsv_to_rgb(hue + 0.08, 0.25, 0.55)
    coarse = cv2.resize(rng.random((5, 5)), (size, size), interpolation=cv2.INTER_CUBIC)
    fine = cv2.resize(rng.random((16, 16)), (size, size), interpolation=cv2.INTER_LINEAR)
    mix = np.clip(0.7 * coarse + 0.3 * fine, 0, 1)[..., None]
    return dark + mix * (light - dark), hue


def render_sprite(
    image: np.ndarray, shape: str, center: tuple[float, float], radius: float,
    angle: float, color: np.ndarray,
) -> np.ndarray:
    """Draw ``shape`` onto a copy of ``image`` with sub-pixel, anti-aliased edges."""
    canvas = image.copy()
    _draw_sprite(canvas, shape, center, radius, angle, color)
    return canvas


def _draw_sprite(
    canvas: np.ndarray, shape: str, center: tuple[float, float], radius: float, angle: float,
    color: np.ndarray,
) -> None:
    """Draw ``shape`` onto ``canvas`` in place (see :func:`render_sprite`)."""
    theta = np.deg2rad(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    points = _shape_outline(shape) @ rotation.T * radius + np.asarray(center)
    fixed = np.round(points * 16).astype(np.int32)  # 4 fractional bits
    cv2.fillPoly(canvas, [fixed], color.tolist(), lineType=cv2.LINE_AA, shift=4)


def _poses(motion: str, num_frames: int, size: int, rng: np.random.Generator) -> dict:
    """Per-frame centre, radius and angle of the sprite for the *drawn* motion."""
    t = np.linspace(0.0, 1.0, num_frames)
    radius = rng.uniform(0.11, 0.15) * size
    angle0 = rng.uniform(0, 360)
    center = rng.uniform(0.3, 0.7, size=2) * size
    pose = {
        "cx": np.full(num_frames, center[0]),
        "cy": np.full(num_frames, center[1]),
        "radius": np.full(num_frames, radius),
        "angle": np.full(num_frames, angle0),
    }
    if motion in ("SlideRight", "SlideDown"):
        travel = rng.uniform(0.25, 0.45) * size
        margin = 1.15 * radius
        first = rng.uniform(margin, size - margin - travel)
        axis = "cx" if motion == "SlideRight" else "cy"
        pose[axis] = first + travel * t
    elif motion == "ZoomIn":
        start, growth = rng.uniform(0.55, 0.75), rng.uniform(1.6, 2.1)
        pose["radius"] = radius * start * growth**t
    elif motion == "RotateClockwise":  # image y points down: increasing angle turns clockwise
        pose["angle"] = angle0 + rng.uniform(90, 150) * t
    else:
        raise ValueError(f"{motion!r} is not drawn directly; draw {REVERSAL_PAIRS} instead")
    return pose


def render_clip_with_poses(
    shape: str, motion: str, background: np.ndarray, color: np.ndarray, num_frames: int,
    rng: np.random.Generator, noise: float = 3.0,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Render one clip like :func:`render_clip` and also return the sprite's poses.

    Returns
    -------
    clip : np.ndarray
        ``(T, H, W, 3)`` uint8 RGB, identical to what :func:`render_clip` returns
        for the same arguments and generator state.
    poses : dict of np.ndarray
        ``"cx"``, ``"cy"`` (centre in pixels), ``"radius"`` (pixels) and ``"angle"``
        (degrees), each of shape ``(T,)`` and in the clip's time order: for a
        reversed motion (``SlideLeft``, ...) they are reversed with the frames.
    """
    reversed_of = {v: k for k, v in REVERSAL_PAIRS.items()}
    drawn = reversed_of.get(motion, motion)
    pose = _poses(drawn, num_frames, background.shape[0], rng)
    # One float array, drawn and rounded in place: fresh large arrays are slow to allocate,
    # and this runs for every clip of a dataset.
    frames = np.empty((num_frames, *background.shape))
    for i, frame in enumerate(frames):
        frame[...] = background
        _draw_sprite(frame, shape, (pose["cx"][i], pose["cy"][i]), pose["radius"][i],
                     pose["angle"][i], color)
    frames += rng.normal(0.0, noise, frames.shape)
    clip = np.clip(np.round(frames, out=frames), 0, 255, out=frames).astype(np.uint8)
    if motion in reversed_of:
        return clip[::-1].copy(), {k: v[::-1].copy() for k, v in pose.items()}
    return clip, pose


def render_clip(
    shape: str, motion: str, background: np.ndarray, color: np.ndarray, num_frames: int,
    rng: np.random.Generator, noise: float = 3.0,
) -> np.ndarray:
    """Render one clip (T, H, W, 3) uint8 RGB of ``shape`` doing ``motion``.

    Motions that are the reversal of another (``SlideLeft``, ...) are drawn as
    their partner and played backwards, so the reversal property holds exactly.
    """
    return render_clip_with_poses(shape, motion, background, color, num_frames, rng, noise)[0]


def write_example(path: str | os.PathLike, motion: str = "SlideRight", shape: str = "Star",
                  num_frames: int = 48, seed: int = 0) -> Path:
    """Write one MotionShapes clip the way a student's own video comes: a 256x256 mp4, 25 fps.

    The clip is drawn at the 64x64 the quick profile's models know, on a background of a test
    group (no model trained on it), then enlarged 4 times, so that reading it back exercises
    the resizing a phone video needs.  ``num_frames`` frames at 25 fps: 48 is about 2 s.

    Raises
    ------
    ValueError
        For a ``motion`` or ``shape`` MotionShapes does not draw.
    """
    if motion not in MOTIONS or shape not in SHAPES:
        raise ValueError(f"motion must be one of {MOTIONS} and shape one of {SHAPES}, got "
                         f"{motion!r} and {shape!r}")
    rng = np.random.default_rng([seed, 3])
    background, hue = group_background(1, 64, seed)  # group 1: a test group
    color = hsv_to_rgb(hue + 0.5, 0.85, 0.95)
    clip = render_clip(shape, motion, background, color, num_frames, rng)
    return write_video(path, clip.repeat(4, axis=1).repeat(4, axis=2), fps=25)


def _pose_matrix(poses: dict[str, np.ndarray], t: int) -> np.ndarray:
    """3x3 affine map from the sprite's unit coordinates to pixels at frame ``t``."""
    theta = np.deg2rad(poses["angle"][t])
    scale = poses["radius"][t]
    return np.array(
        [
            [scale * np.cos(theta), -scale * np.sin(theta), poses["cx"][t]],
            [scale * np.sin(theta), scale * np.cos(theta), poses["cy"][t]],
            [0.0, 0.0, 1.0],
        ]
    )


def true_flow(
    poses: dict[str, np.ndarray], t: int, size: int | tuple[int, int], shape: str
) -> tuple[np.ndarray, np.ndarray]:
    """The exact optical flow of the sprite from frame ``t`` to frame ``t + 1``.

    A sprite pixel ``x`` at frame ``t`` moves to ``A[t+1] A[t]^-1 x``, where ``A[t]``
    is the affine map (rotation and scaling about the centre, then translation)
    of pose ``t``; pixel ``(row i, column j)`` sits at ``x = (j, i)``, as in
    :func:`render_sprite`.

    Parameters
    ----------
    poses : dict of np.ndarray
        Per-frame poses in clip order, as returned by :func:`render_clip_with_poses`.
    t : int
        First frame of the pair, ``0 <= t < T - 1``.
    size : int or (H, W)
        Frame size in pixels (an ``int`` is a square frame).
    shape : str
        The sprite's shape, one of :data:`SHAPES`.

    Returns
    -------
    flow : np.ndarray
        ``(H, W, 2)`` float32 displacement ``(x, y)`` in pixels; zero off the
        sprite, where the background is static.
    mask : np.ndarray
        ``(H, W)`` bool, the sprite's pixels at frame ``t`` (the same pixels the
        renderer fills; noise aside).
    """
    num_frames = len(poses["cx"])
    if not 0 <= t < num_frames - 1:
        raise ValueError(f"t must be in [0, {num_frames - 1}) for a {num_frames}-frame clip, "
                         f"got {t}")
    height, width = (size, size) if isinstance(size, (int, np.integer)) else size
    center = (poses["cx"][t], poses["cy"][t])
    canvas = np.zeros((height, width, 3))
    sprite = render_sprite(canvas, shape, center, poses["radius"][t], poses["angle"][t],
                           np.ones(3))
    mask = sprite[..., 0] > 0.5
    step = _pose_matrix(poses, t + 1) @ np.linalg.inv(_pose_matrix(poses, t))
    rows, cols = np.nonzero(mask)
    points = np.stack([cols, rows, np.ones_like(cols)]).astype(float)
    flow = np.zeros((height, width, 2), np.float32)
    flow[rows, cols] = ((step @ points)[:2] - points[:2]).T
    return flow, mask


def _clip_plan(num_per_class: int, label_set: str) -> Iterator[tuple[int, int, int]]:
    """Yield (label, group, clip number) for every clip, groups numbered from 1."""
    num_groups = min(NUM_GROUPS, num_per_class)
    for label in range(len(class_names(label_set))):
        for i in range(num_per_class):
            yield label, i % num_groups + 1, i // num_groups + 1


def _make_clip(
    label: int, group: int, clip: int, label_set: str, num_frames: int, size: int, seed: int,
    backgrounds: dict,
) -> np.ndarray:
    rng = np.random.default_rng([seed, 2, LABEL_SETS.index(label_set), label, group, clip])
    if group not in backgrounds:
        backgrounds[group] = group_background(group, size, seed)
    background, hue = backgrounds[group]
    name = class_names(label_set)[label]
    if label_set == "motion":
        shape, motion = SHAPES[rng.integers(len(SHAPES))], name
    elif label_set == "shape":
        shape, motion = name, MOTIONS[rng.integers(len(MOTIONS))]
    else:
        shape, motion = SHAPES[label // 2], ("SlideLeft", "SlideRight")[label % 2]
    color = hsv_to_rgb(hue + 0.5 + rng.uniform(-0.08, 0.08), rng.uniform(0.7, 1.0), 0.95)
    return render_clip(shape, motion, background, color, num_frames, rng)


def _check_args(num_per_class: int, num_frames: int, size: int, label_set: str) -> None:
    class_names(label_set)
    if num_per_class < 1:
        raise ValueError(f"num_per_class must be >= 1, got {num_per_class}")
    if not 2 <= num_frames <= 64:
        raise ValueError(f"num_frames must be between 2 and 64, got {num_frames}")
    if not 32 <= size <= 224 or size % 2:
        raise ValueError(f"size must be an even number of pixels from 32 to 224, got {size}")


def generate(
    num_per_class: int, num_frames: int = 16, size: int = 64, label_set: str = "motion",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Generate MotionShapes in memory.

    Returns
    -------
    videos : np.ndarray
        ``(N, num_frames, size, size, 3)`` uint8 RGB, ``N = num_per_class * classes``.
    labels : np.ndarray
        ``(N,)`` int class indices into ``class_names``.
    class_names : list of str
    """
    _check_args(num_per_class, num_frames, size, label_set)
    backgrounds: dict = {}
    plan = list(_clip_plan(num_per_class, label_set))
    videos = np.stack(
        [_make_clip(*p, label_set, num_frames, size, seed, backgrounds) for p in plan]
    )
    labels = np.array([label for label, _, _ in plan])
    return videos, labels, class_names(label_set)


def write(
    root: str | os.PathLike, num_per_class: int = 100, num_frames: int = 16, size: int = 64,
    label_set: str = "motion", seed: int = 0, progress: bool = True,
) -> Path:
    """Write MotionShapes as ``.avi`` files in UCF101's layout and return ``root``.

    The files are lossless (HuffYUV): they decode to exactly the generated frames, so
    what the generator knows (the reversal property, the true motion) holds for
    the files too.

    Layout: ``root/<Class>/v_<Class>_g<GG>_c<CC>.avi`` plus ``classInd.txt``,
    ``trainlist01.txt`` and ``testlist01.txt``; the test list holds out whole
    groups (the first 28% of them, as UCF101 split 1 holds out groups 1-7 of 25).
    """
    _check_args(num_per_class, num_frames, size, label_set)
    root = Path(root)
    names = class_names(label_set)
    num_groups = min(NUM_GROUPS, num_per_class)
    test_groups = max(1, round(TEST_GROUP_FRACTION * num_groups))
    backgrounds: dict = {}
    train, test = [], []
    plan = list(_clip_plan(num_per_class, label_set))

    def make(label: int, group: int, clip: int) -> str:
        name = names[label]
        relative = f"{name}/v_{name}_g{group:02d}_c{clip:02d}.avi"
        frames = _make_clip(label, group, clip, label_set, num_frames, size, seed, backgrounds)
        write_video(root / relative, frames, lossless=True)
        return relative

    # Every clip has its own random generator, so threads (OpenCV encodes without the GIL)
    # change the speed, never the files.
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        written = pool.map(lambda planned: make(*planned), plan)
        for (label, group, _), relative in zip(
            plan, tqdm(written, total=len(plan), desc="Writing MotionShapes",
                       disable=not progress), strict=True):
            if group <= test_groups:
                test.append(relative)
            else:
                train.append(f"{relative} {label + 1}")
    (root / "classInd.txt").write_text("".join(f"{i + 1} {n}\n" for i, n in enumerate(names)))
    (root / "trainlist01.txt").write_text("".join(line + "\n" for line in train))
    (root / "testlist01.txt").write_text("".join(line + "\n" for line in test))
    return root


def load(
    num_per_class: int = 100, num_frames: int = 16, size: int = 64, label_set: str = "motion",
    seed: int = 0, progress: bool = True,
):
    """Return MotionShapes as a :class:`vidlab.datasets.VideoDataset`, split 1.

    The files are generated into the cache on first use (a few seconds at the
    default size) and reused afterwards.  The folder is written under a
    temporary name and renamed when complete, so an interrupted run never
    leaves a half-written dataset behind.
    """
    from vidlab.datasets import read_layout  # vidlab.datasets imports this module first

    _check_args(num_per_class, num_frames, size, label_set)
    parent = config.cache_dir() / "motion_shapes"
    name = f"{label_set}-n{num_per_class}-t{num_frames}-s{size}-seed{seed}-v{FORMAT_VERSION}"
    root = parent / name
    if not root.is_dir():
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=parent))
        try:
            write(tmp, num_per_class, num_frames, size, label_set, seed, progress)
            try:
                tmp.rename(root)
            except OSError:  # another process finished first: use its copy
                if not root.is_dir():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return read_layout(root, split=1)
