"""Dense optical flow with OpenCV: computing, scaling, stacking and drawing it.

A flow field ``(H, W, 2)`` holds, for every pixel of frame ``t``, its
displacement ``(x, y)`` in pixels to frame ``t + 1`` (x to the right, y down).
Three estimators are offered:

* ``"dis"`` (default): Dense Inverse Search (Kroeger et al., 2016),
  ``cv2.DISOpticalFlow`` with the ``MEDIUM`` preset (see :data:`DIS_PRESET`).
* ``"farneback"``: polynomial expansion (Farneback, 2003),
  ``cv2.calcOpticalFlowFarneback`` with :data:`FARNEBACK_PARAMS`.
* ``"tvl1"``: TV-L1 (Zach et al., 2007), the flow of I3D (Carreira & Zisserman,
  2017) and of Temporal Segment Networks (Wang et al., 2016); it needs
  ``cv2.optflow``, which only the OpenCV *contrib* wheels have.  (The first
  two-stream networks, Simonyan & Zisserman (2014), used Brox et al. (2004).)

A two-stream temporal network reads :func:`stack_flow` of
:func:`normalize_flow`-ed fields, and at test time its scores can be averaged
over mirrored copies of them (:func:`mirror_flow`, :func:`mirror_average`);
:func:`flow_to_color` draws a field.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import numpy.typing as npt
from tqdm.auto import tqdm

from vidlab.features import cached
from vidlab.video import resize_frames

METHODS = ("dis", "farneback", "tvl1")
#: DIS preset.  MEDIUM refines down to full resolution with larger patches than FAST.
#: Measured on 2 CPU cores: at the quick profile's 64x64 MEDIUM was about 3x faster
#: than FAST (about 1000 pairs/s) for a 0.3-0.4 px mean end-point error on
#: MotionShapes sprites; at 224x224 FAST was several times faster for a similar
#: error there, but MEDIUM is the more accurate preset on real footage (Kroeger et al.).
DIS_PRESET = cv2.DISOpticalFlow_PRESET_MEDIUM
#: Farneback's parameters (OpenCV's tutorial values): a 3-level pyramid halving the
#: size each level, 15x15 averaging windows, 3 iterations per level, and a
#: polynomial expansion over 5x5 neighbourhoods with a Gaussian of sigma 1.2.
FARNEBACK_PARAMS = {
    "pyr_scale": 0.5,
    "levels": 3,
    "winsize": 15,
    "iterations": 3,
    "poly_n": 5,
    "poly_sigma": 1.2,
    "flags": 0,
}

FlowPair = Callable[[np.ndarray, np.ndarray], np.ndarray]


class ContribMissingError(ImportError):
    """The requested flow method needs ``cv2.optflow`` (OpenCV contrib), which is missing."""


def _tvl1() -> FlowPair:
    optflow = getattr(cv2, "optflow", None)
    if optflow is None:
        raise ContribMissingError(
            "method='tvl1' needs cv2.optflow, which only the contrib OpenCV wheels provide "
            "(opencv-contrib-python, or opencv-contrib-python-headless without GUI). The "
            "contrib wheel must replace the installed OpenCV wheel, not sit beside it: both "
            "install the same cv2 package, so first `pip uninstall` every opencv-* wheel "
            f"(installed: OpenCV {cv2.__version__}), then install the contrib one of the same "
            "version. Or use method='dis' or 'farneback', which plain OpenCV has."
        )
    estimator = optflow.DualTVL1OpticalFlow_create()
    return lambda prev, nxt: estimator.calc(prev, nxt, None)


def _estimator(method: str) -> FlowPair:
    """A function ``(gray t, gray t+1) -> (H, W, 2) flow``; its flow object is made once."""
    if method == "dis":
        dis = cv2.DISOpticalFlow.create(DIS_PRESET)
        return lambda prev, nxt: dis.calc(prev, nxt, None)
    if method == "farneback":
        return lambda prev, nxt: cv2.calcOpticalFlowFarneback(prev, nxt, None,
                                                              **FARNEBACK_PARAMS)
    if method == "tvl1":
        return _tvl1()
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def _check_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must have shape (T, H, W, 3), got {frames.shape}")
    if len(frames) < 2:
        raise ValueError(f"optical flow needs at least 2 frames, got {len(frames)}")
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 RGB, got {frames.dtype}")
    return frames


def compute_flow(frames: np.ndarray, method: str = "dis",
                 size: int | tuple[int, int] | None = None) -> np.ndarray:
    """Dense optical flow between each pair of consecutive frames of a clip.

    Parameters
    ----------
    frames : np.ndarray
        ``(T, H, W, 3)`` uint8 RGB, ``T >= 2``; converted to grayscale inside.
    method : {"dis", "farneback", "tvl1"}
        The estimator (see the module docstring); its OpenCV object is created
        once per clip and reused for every pair.
    size : int, (H, W) or None
        Resize the frames first, as :func:`vidlab.video.resize_frames` does
        (``int``: short side then centre crop).  The displacements are then in
        pixels of the *resized* frames; :func:`resize_flow` converts a field
        between sizes.

    Returns
    -------
    np.ndarray
        ``(T - 1, H, W, 2)`` float32; ``[t, i, j]`` is the ``(x, y)`` displacement
        of pixel ``(i, j)`` from frame ``t`` to frame ``t + 1``.

    Raises
    ------
    ValueError
        Unknown method, fewer than 2 frames, or not ``(T, H, W, 3)`` uint8.
    ContribMissingError
        ``method="tvl1"`` without the OpenCV contrib wheel (an ``ImportError``).
    """
    frames = _check_frames(frames)
    estimate = _estimator(method)
    if size is not None:
        frames = resize_frames(frames, size)
    gray = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in frames]
    pairs = zip(gray[:-1], gray[1:], strict=True)
    return np.stack([estimate(a, b) for a, b in pairs]).astype(np.float32)


def iter_flow(frames: Iterable[np.ndarray], method: str = "dis") -> Iterator[np.ndarray]:
    """Optical flow of a stream of frames, one field per pair of consecutive frames.

    The streaming form of :func:`compute_flow`, for a video too long to hold:
    only two frames exist at a time, so ``iter_flow(video.iter_frames(path,
    256))`` can feed :func:`vidlab.sliding.predict_video` a video of any length.
    The fields equal :func:`compute_flow`'s on the same frames.

    Parameters
    ----------
    frames : iterable of np.ndarray
        ``(H, W, 3)`` uint8 RGB frames, all of one size (an array, a list or a
        generator).
    method : {"dis", "farneback", "tvl1"}
        As in :func:`compute_flow`; the estimator is made once for the stream.

    Returns
    -------
    Iterator of np.ndarray
        ``(H, W, 2)`` float32 fields: the ``t``-th is the displacement from frame
        ``t`` to frame ``t + 1``.

    Raises
    ------
    ValueError
        At once for an unknown method; while iterating, for a frame that is not
        ``(H, W, 3)`` uint8 or a stream of fewer than 2 frames.
    ContribMissingError
        At once (not at the first field) for ``method="tvl1"`` without OpenCV's
        contrib wheel, so that a caller can fall back to another method.
    """
    estimate = _estimator(method)
    return _flow_stream(frames, estimate)


def _flow_stream(frames: Iterable[np.ndarray], estimate: FlowPair) -> Iterator[np.ndarray]:
    """The generator behind :func:`iter_flow`, which made ``estimate`` before any frame."""
    previous, count = None, 0
    for frame in frames:
        count += 1
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[-1] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"each frame must be (H, W, 3) uint8 RGB, got {frame.shape} "
                             f"{frame.dtype}")
        gray = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
        if previous is not None:
            yield estimate(previous, gray).astype(np.float32)
        previous = gray
    if count < 2:
        raise ValueError(f"optical flow needs at least 2 frames, got {count}")


def _scale_factors(height: int, width: int, size: int | tuple[int, int]) -> np.ndarray:
    """(x, y) factors by which :func:`vidlab.video.resize_frames` scales a frame."""
    if isinstance(size, (int, np.integer)):
        scale = size / min(height, width)
        new_h, new_w = max(size, round(height * scale)), max(size, round(width * scale))
    else:
        new_h, new_w = size
    return np.array([new_w / width, new_h / height], np.float32)


def resize_flow(flow: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Resize a flow field and rescale its displacements to the new pixel units.

    Parameters
    ----------
    flow : np.ndarray
        ``(H, W, 2)`` or ``(T, H, W, 2)`` displacements in pixels.
    size : int or (H, W)
        As in :func:`vidlab.video.resize_frames`: ``(H, W)`` resizes to exactly
        that shape, an ``int`` resizes the short side and centre-crops a square.

    Returns
    -------
    np.ndarray
        float32 field of the new size; x displacements are multiplied by the
        width ratio and y displacements by the height ratio.
    """
    flow = np.asarray(flow, np.float32)
    if flow.ndim not in (3, 4) or flow.shape[-1] != 2:
        raise ValueError(f"flow must have shape (H, W, 2) or (T, H, W, 2), got {flow.shape}")
    fields = flow[None] if flow.ndim == 3 else flow
    factors = _scale_factors(*fields.shape[1:3], size)
    resized = resize_frames(fields, size) * factors
    return resized[0] if flow.ndim == 3 else resized


def normalize_flow(flow: np.ndarray, bound: float = 20.0) -> np.ndarray:
    """Clip displacements to ``[-bound, bound]`` pixels and scale them to ``[-1, 1]``.

    The two-stream and I3D recipe (there, ``bound=20``), so that a network's
    input has a fixed range whatever the clip's speed.
    """
    if bound <= 0:
        raise ValueError(f"bound must be positive, got {bound}")
    out = np.clip(np.asarray(flow, np.float32), -bound, bound)  # a new array: scaled in place
    out /= np.float32(bound)
    return out


def flow_to_color(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """Draw flow as colour: hue is the direction, brightness the magnitude.

    Parameters
    ----------
    flow : np.ndarray
        ``(H, W, 2)`` or ``(T, H, W, 2)``.
    max_magnitude : float or None
        The magnitude drawn at full brightness (larger ones saturate); ``None``
        uses the largest magnitude in ``flow`` (over all frames of a clip, so
        the frames share one scale).

    Returns
    -------
    np.ndarray
        uint8 RGB, ``flow``'s shape with 3 channels.  Saturation is full; zero
        flow is black.  The hue turns with the angle from +x towards +y (image y
        points down, so clockwise on screen): +x is red, +y yellow-green, -x
        cyan, -y violet; :func:`color_wheel` is the legend.
    """
    flow = np.asarray(flow, np.float32)
    if flow.ndim not in (3, 4) or flow.shape[-1] != 2:
        raise ValueError(f"flow must have shape (H, W, 2) or (T, H, W, 2), got {flow.shape}")
    magnitude = np.hypot(flow[..., 0], flow[..., 1])
    top = float(magnitude.max()) if max_magnitude is None else float(max_magnitude)
    value = np.clip(magnitude / top, 0, 1) if top > 0 else np.zeros_like(magnitude)
    angle = np.arctan2(flow[..., 1], flow[..., 0]) % (2 * np.pi)
    hsv = np.stack(
        [
            np.round(angle / (2 * np.pi) * 180) % 180,  # OpenCV hue runs over [0, 180)
            np.full_like(angle, 255),
            np.round(value * 255),
        ],
        axis=-1,
    ).astype(np.uint8)
    rgb = cv2.cvtColor(hsv.reshape(-1, hsv.shape[-2], 3), cv2.COLOR_HSV2RGB)
    return rgb.reshape(hsv.shape)


def color_wheel(size: int = 128) -> np.ndarray:
    """The legend of :func:`flow_to_color`: a ``(size, size, 3)`` uint8 RGB disc.

    Each pixel shows the colour of its own displacement from the centre, full
    brightness on the rim; pixels outside the disc are black.
    """
    if size < 2:
        raise ValueError(f"size must be >= 2, got {size}")
    centre = (size - 1) / 2
    ys, xs = np.mgrid[0:size, 0:size] - centre
    field = np.stack([xs, ys], axis=-1)
    wheel = flow_to_color(field, max_magnitude=centre)
    wheel[np.hypot(xs, ys) > centre] = 0
    return wheel


def stack_flow(flow: np.ndarray, length: int, start: int = 0) -> np.ndarray:
    """Stack ``length`` consecutive fields into one ``(H, W, 2 * length)`` input.

    The channels are ``[x_start, y_start, x_start+1, y_start+1, ...]``: x and y
    interleaved frame by frame, the input of the two-stream temporal network
    (Simonyan & Zisserman, 2014, with ``length = 10``).  A batch of clips
    ``(N, T, H, W, 2)`` gives ``(N, H, W, 2 * length)``, one stack per clip.

    Raises
    ------
    ValueError
        ``flow`` is not ``(T, H, W, 2)`` or ``(N, T, H, W, 2)``, ``length < 1``,
        ``start < 0``, or the clips have fewer than ``start + length`` fields.
    """
    flow = np.asarray(flow)
    if flow.ndim not in (4, 5) or flow.shape[-1] != 2:
        raise ValueError(
            f"flow must have shape (T, H, W, 2) or (N, T, H, W, 2), got {flow.shape}"
        )
    if length < 1 or start < 0:
        raise ValueError(f"need length >= 1 and start >= 0, got length={length}, start={start}")
    fields = flow.shape[-4]
    if start + length > fields:
        raise ValueError(
            f"stacking {length} fields from {start} needs {start + length} flow fields; "
            f"this clip has {fields}"
        )
    window = flow[..., start:start + length, :, :, :]  # (..., L, H, W, 2)
    per_pixel = np.moveaxis(window, -4, -2)  # (..., H, W, L, 2): x, y of each field in turn
    return per_pixel.reshape(*per_pixel.shape[:-2], 2 * length)


#: The mirrors of :func:`mirror_flow`, and the flow component each one negates.
MIRRORS = {"horizontal": 0, "vertical": 1}


def mirror_flow(stacks: np.ndarray, mirror: str = "horizontal") -> np.ndarray:
    """Mirror stacked flow ``(N, H, W, 2L)``: flip the image *and* the displacements.

    A flow field is a vector field: mirroring left-right moves every vector to
    the mirrored pixel and negates its x component (a motion to the right
    becomes a motion to the left); mirroring top-bottom negates y.  Flipping
    the channels like an RGB image would keep the old directions.
    """
    if mirror not in MIRRORS:
        raise ValueError(f"mirror must be one of {tuple(MIRRORS)}, got {mirror!r}")
    stacks = np.asarray(stacks)
    if stacks.ndim != 4 or stacks.shape[-1] % 2:
        raise ValueError(f"stacks must have shape (N, H, W, 2L), got {stacks.shape}")
    out = np.flip(stacks, axis=2 if mirror == "horizontal" else 1).copy()
    out[..., MIRRORS[mirror]::2] *= -1
    return out


def mirror_average(model, stacks: np.ndarray, permutations: dict[str, Sequence[int]],
                   batch_size: int | None = None, return_views: bool = False):
    """Test-time mirroring: a temporal stream's scores averaged over mirror images of its input.

    Parameters
    ----------
    model : keras.Model
        Stacked flow ``(N, H, W, 2L)`` -> ``(N, classes)`` scores (anything
        with Keras's ``predict(x, batch_size=..., verbose=0)``).
    stacks : np.ndarray
        The clips' stacked flow.
    permutations : dict
        For each mirror used (``"horizontal"``, ``"vertical"``), the class of a
        mirrored clip: ``permutations[m][k]`` is the class that class ``k``
        becomes (e.g. ``SlideLeft`` -> ``SlideRight``; the identity when the
        labels do not depend on directions, as for most UCF101 actions).  Every
        combination of the given mirrors is a view: 2 views for one mirror, 4
        for both.
    batch_size : int or None
        Batch size of the single ``predict`` call over every view; ``None``:
        one view per batch.
    return_views : bool
        Also return every view's scores (view 0 is the clip as it is).

    Returns
    -------
    np.ndarray
        ``(N, classes)`` mean of the views' scores, each read back in the
        original clip's classes; with ``return_views``, the pair ``(mean,
        (views, N, classes) scores)``.
    """
    stacks = np.asarray(stacks)
    views, orders = [stacks], [None]
    for mirror, permutation in permutations.items():
        permutation = np.asarray(permutation)
        views += [mirror_flow(view, mirror) for view in views]
        orders += [permutation if order is None else permutation[order] for order in orders]
    batch_size = len(stacks) if batch_size is None else batch_size
    scores = np.asarray(model.predict(np.concatenate(views), batch_size=batch_size, verbose=0))
    scores = scores.reshape(len(views), len(stacks), -1)
    scores = np.stack([s if order is None else s[:, order]
                       for s, order in zip(scores, orders, strict=True)])
    return (scores.mean(axis=0), scores) if return_views else scores.mean(axis=0)


def endpoint_error(flow: np.ndarray, truth: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean end-point error: the average Euclidean distance between two flow fields.

    Parameters
    ----------
    flow, truth : np.ndarray
        ``(..., H, W, 2)`` estimated and true displacements.
    mask : np.ndarray or None
        ``(..., H, W)`` bool; only these pixels count (``None``: all of them).
    """
    error = np.hypot(*np.moveaxis(np.asarray(flow, float) - truth, -1, 0))
    if mask is None:
        return float(error.mean())
    mask = np.asarray(mask, bool)
    if mask.shape != error.shape or not mask.any():
        raise ValueError(f"mask must be a non-empty bool array of shape {error.shape}")
    return float(error[mask].mean())


def dataset_flow(clips: np.ndarray, method: str = "dis", size: int | tuple[int, int] | None = None,
                 dtype: npt.DTypeLike = np.float32, progress: bool = True,
                 workers: int | None = None) -> np.ndarray:
    """Optical flow of every clip of a dataset.

    Parameters
    ----------
    clips : np.ndarray
        ``(N, T, H, W, 3)`` uint8 RGB, ``N >= 1``.
    method, size
        As in :func:`compute_flow`.
    dtype : dtype
        ``np.float32``, or ``np.float16`` to halve the memory (flow is smooth
        and small, so float16's ~3 significant digits lose nothing useful).
    progress : bool
        Show a tqdm progress bar.
    workers : int or None
        Clips computed at once, one per thread (OpenCV releases the GIL while
        it computes); ``None``: one per CPU core.  The result does not depend
        on it.

    Returns
    -------
    np.ndarray
        ``(N, T - 1, H', W', 2)`` of ``dtype``, filled in place clip by clip.
    """
    clips = np.asarray(clips)
    if clips.ndim != 5 or len(clips) == 0:
        raise ValueError(f"clips must have shape (N, T, H, W, 3) with N >= 1, got {clips.shape}")
    _estimator(method)  # fail on a bad method before computing anything
    out = None
    with ThreadPoolExecutor(max(1, workers or os.cpu_count() or 1)) as pool:
        fields = pool.map(lambda clip: compute_flow(clip, method, size), clips)
        bar = tqdm(fields, total=len(clips), desc=f"Optical flow ({method})", unit="clip",
                   disable=not progress)
        for index, field in enumerate(bar):
            if out is None:
                out = np.empty((len(clips), *field.shape), dtype)
            out[index] = field
    return out


def _method_settings(method: str) -> dict:
    """The parameters that determine ``method``'s output, for cache keys."""
    if method == "dis":
        return {"preset": DIS_PRESET}
    if method == "farneback":
        return dict(FARNEBACK_PARAMS)
    return {}


def cached_dataset_flow(clips: np.ndarray, key_settings: dict, method: str = "dis",
                        size: int | tuple[int, int] | None = None,
                        progress: bool = True) -> np.ndarray:
    """:func:`dataset_flow`, computed once and then read from the on-disk cache.

    Parameters
    ----------
    clips : np.ndarray
        ``(N, T, H, W, 3)`` uint8 RGB.
    key_settings : dict
        Whatever identifies ``clips`` (dataset, split, clip list, frame count,
        frame size, ...).  The cache key is these settings plus the clips'
        shape, the method, its parameters and ``size``; the clips' pixels are
        not hashed, so different clips must come with different settings.
    method, size, progress
        As in :func:`dataset_flow`.

    Returns
    -------
    np.ndarray
        ``(N, T - 1, H', W', 2)`` float32, rounded to float16 precision (the
        cache's storage type) on the first call as on every later one.
    """
    clips = np.asarray(clips)
    settings = {**key_settings, "clips_shape": list(clips.shape), "method": method,
                "method_settings": _method_settings(method), "flow_size": size}

    def compute() -> dict[str, np.ndarray]:
        return {"flow": dataset_flow(clips, method, size, np.float16, progress)}

    return cached("optical_flow", settings, compute)["flow"].astype(np.float32, copy=False)
