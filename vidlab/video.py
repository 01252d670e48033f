"""Reading and writing real video files with OpenCV.

Frames are always returned as ``uint8`` arrays in **RGB** order with shape
``(T, H, W, 3)``.  Decoding is strictly sequential: container metadata such as
``CAP_PROP_FRAME_COUNT`` is unreliable, so frames are counted by decoding them
and every ``read()`` result is checked.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vidlab.download import atomic_path

SAMPLINGS = ("uniform", "consecutive", "random")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
CODECS = {".avi": "MJPG", ".mp4": "mp4v", ".mkv": "MJPG"}


class VideoReadError(ValueError):
    """A video or frame file exists but cannot be decoded into frames."""


_stderr_lock = threading.Lock()
_stderr_users = 0
_stderr_saved: int | None = None


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence C-level stderr (OpenCV and FFmpeg decoder noise) inside the block.

    Thread-safe: nested or concurrent blocks share one redirection, which is
    undone when the last of them exits.
    """
    global _stderr_users, _stderr_saved
    with _stderr_lock:
        if _stderr_users == 0:
            try:
                _stderr_saved = os.dup(2)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
            except OSError:  # no usable fd 2 (rare embedded runtimes): stay loud
                _stderr_saved = None
        _stderr_users += 1
    try:
        yield
    finally:
        with _stderr_lock:
            _stderr_users -= 1
            if _stderr_users == 0 and _stderr_saved is not None:
                os.dup2(_stderr_saved, 2)
                os.close(_stderr_saved)
                _stderr_saved = None


_UNDECODABLE = (
    "OpenCV cannot open this file as a video (it is empty, not a video, truncated before "
    "its index, or uses a codec this OpenCV build lacks). Re-download it, or re-encode it, "
    "e.g. `ffmpeg -i {name} -c:v libx264 -pix_fmt yuv420p {stem}-h264.mp4`."
)


@contextlib.contextmanager
def _capture(path: Path) -> Iterator[cv2.VideoCapture]:
    """An opened ``cv2.VideoCapture`` of ``path``, released on exit.

    Raises :class:`VideoReadError` naming the file if OpenCV cannot open it.
    Decoder noise is silenced while opening; wrap reads in :func:`quiet_stderr`.
    """
    with quiet_stderr():
        # One decoding thread per file: the callers decode many small files in parallel
        # (vidlab.datasets.read_clips), and FFmpeg's own threads only add start-up cost.
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
        if not capture.isOpened():  # not for FFmpeg (or no FFmpeg): let OpenCV choose
            capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise VideoReadError(f"{path}: " + _UNDECODABLE.format(name=path.name, stem=path.stem))
        yield capture
    finally:
        capture.release()


def _decode_all(path: Path, stop_after: int | None = None) -> tuple[list[np.ndarray], int]:
    """Decode frames sequentially; return (BGR frames, frame count claimed by metadata)."""
    with _capture(path) as capture, quiet_stderr():
        claimed = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        frames: list[np.ndarray] = []
        while stop_after is None or len(frames) < stop_after:
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            frames.append(frame)
    return frames, claimed


def sample_indices(
    length: int,
    num_frames: int | None,
    sampling: str = "uniform",
    start: int | None = None,
    step: int = 1,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Return the frame indices that :func:`read_video` keeps from a clip of ``length``.

    Indices past the end of the clip repeat the last frame, so a short clip is
    padded by repetition and never silently truncated.
    """
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    if num_frames is None:
        return np.arange(length)
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1 or None, got {num_frames}")
    if sampling == "uniform":
        return np.linspace(0, length - 1, num_frames).round().astype(int)
    span = (num_frames - 1) * step + 1
    if sampling == "random":
        rng = np.random.default_rng(seed)
        start = int(rng.integers(0, max(length - span, 0) + 1))
    start = 0 if start is None else int(start)
    if not 0 <= start < length:
        raise ValueError(f"start={start} is outside the clip of {length} frames")
    return np.minimum(start + step * np.arange(num_frames), length - 1)


def resize_frames(frames: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Resize ``(T, H, W, C)`` frames.

    An ``int`` resizes the short side to ``size`` and centre-crops a square; an
    ``(H, W)`` tuple resizes to exactly that shape.
    """
    height, width = frames.shape[1:3]
    if isinstance(size, (int, np.integer)):
        scale = size / min(height, width)
        new_h, new_w = max(size, round(height * scale)), max(size, round(width * scale))
        top, left = (new_h - size) // 2, (new_w - size) // 2
        crop = (slice(top, top + size), slice(left, left + size))
    else:
        new_h, new_w = (int(s) for s in size)
        crop = (slice(None), slice(None))
    if (new_h, new_w) == (height, width):
        return frames[:, crop[0], crop[1]].copy()
    shrink = new_h * new_w < height * width
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    out = [cv2.resize(f, (new_w, new_h), interpolation=interpolation) for f in frames]
    out = [o[..., None] if o.ndim == 2 else o for o in out]
    return np.stack(out)[:, crop[0], crop[1]]


def _to_rgb(frames: np.ndarray, size: int | tuple[int, int] | None) -> np.ndarray:
    """``(T, H, W, 3)`` BGR frames as decoded -> contiguous RGB, resized as :func:`resize_frames`.

    Resizing first and swapping the channels after gives the same pixels (every channel is
    resized alone) at half the cost: OpenCV would first copy a channel-swapped view.
    """
    if size is not None:
        frames = resize_frames(frames, size)
    return np.ascontiguousarray(frames[..., ::-1])


def read_video(
    path: str | os.PathLike,
    num_frames: int | None = None,
    size: int | tuple[int, int] | None = None,
    sampling: str = "uniform",
    start: int | None = None,
    step: int = 1,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Decode a video file into RGB frames.

    Parameters
    ----------
    path : path-like
        The video file.
    num_frames : int or None
        Frames to return; ``None`` returns every frame.
    size : int, (H, W) or None
        ``int``: resize the short side then centre-crop a square; tuple: resize to
        exactly ``(H, W)``; ``None``: keep the decoded size.
    sampling : {"uniform", "consecutive", "random"}
        ``"uniform"`` spreads ``num_frames`` indices over the whole clip with
        ``np.linspace`` (deterministic); ``"consecutive"`` reads ``num_frames``
        frames from ``start`` every ``step``; ``"random"`` does the same from a
        random start drawn with ``seed``.
    start, step : int
        Start frame and stride of the consecutive samplings.
    seed : int, Generator or None
        Randomness of ``sampling="random"``.

    Returns
    -------
    np.ndarray
        ``(num_frames, H, W, 3)`` uint8 RGB.  A clip shorter than ``num_frames``
        is padded by repeating its last frame (uniform sampling repeats frames
        evenly instead).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    VideoReadError
        The file exists but yields no frame (empty, corrupt, truncated, not a video).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No video file at {path}")
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    # Checked before decoding: a bad argument must not be reported as a bad file.
    if num_frames is not None and num_frames < 1:
        raise ValueError(f"num_frames must be >= 1 or None, got {num_frames}")
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    if sampling == "consecutive" and start is not None and start < 0:
        raise ValueError(f"start must be >= 0, got {start}")
    stop_after = None
    if sampling == "consecutive" and num_frames is not None:
        stop_after = (0 if start is None else start) + (num_frames - 1) * step + 1
    frames, claimed = _decode_all(path, stop_after)
    if not frames:
        raise VideoReadError(
            f"{path}: opened, but not a single frame could be decoded (metadata claims "
            f"{claimed} frames). The file is empty or corrupt; re-download or re-encode it."
        )
    if stop_after is None and claimed > len(frames) + 1:
        warnings.warn(
            f"{path}: decoded {len(frames)} frames but the header announces {claimed}; "
            "the file is probably truncated. Using the frames that decode.",
            stacklevel=2,
        )
    indices = sample_indices(len(frames), num_frames, sampling, start, step, seed)
    return _to_rgb(np.stack([frames[i] for i in indices]), size)


@dataclass(frozen=True)
class VideoInfo:
    """What a video file's header says: displayed size, frame rate, frame count.

    The size is the one frames are decoded at, after the orientation a phone
    recorded (portrait videos read as portrait).  The frame count is a claim of
    the container, often wrong: only decoding counts frames.
    """

    path: Path
    width: int
    height: int
    fps: float
    claimed_frames: int

    def __str__(self) -> str:
        shape = "portrait" if self.height > self.width else "landscape"
        seconds = self.claimed_frames / self.fps if self.fps else float("nan")
        return (f"{self.path.name}: {self.width}x{self.height} ({shape}), {self.fps:.3g} fps, "
                f"about {self.claimed_frames} frames ({seconds:.1f} s)")


def video_info(path: str | os.PathLike) -> VideoInfo:
    """Read a video's header without decoding it.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    VideoReadError
        OpenCV cannot open the file as a video; the message says how to re-encode it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No video file at {path}")
    with _capture(path) as capture:
        return VideoInfo(path, int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                         int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                         float(capture.get(cv2.CAP_PROP_FPS) or 0.0),
                         int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))


def iter_frames(
    path: str | os.PathLike, size: int | tuple[int, int] | None = None,
    fps: float | None = None,
) -> Iterator[np.ndarray]:
    """Yield a video's frames one at a time, as RGB ``uint8``, each resized as it is decoded.

    Only one frame exists at a time, so a video of any length streams through
    in constant memory.

    Parameters
    ----------
    path : path-like
        The video file (any container and codec the installed OpenCV decodes).
    size : int, (H, W) or None
        As in :func:`resize_frames`: ``int`` resizes the short side and crops the
        centre square, ``(H, W)`` resizes to exactly that, ``None`` keeps the size.
    fps : float or None
        Keep frames at this rate, by their time in the video (a 60 fps video at
        ``fps=25`` yields 25 frames a second); ``None`` or a rate above the
        video's keeps every frame.

    Raises
    ------
    FileNotFoundError, VideoReadError
        As :func:`video_info`; also if not a single frame decodes.
    """
    info = video_info(path)
    if fps is not None and fps <= 0:
        raise ValueError(f"fps must be positive or None, got {fps}")
    keep_every = info.fps / fps if fps and info.fps > fps else 1.0
    kept = 0

    def due(index: int) -> bool:  # this frame's time has come
        return index >= kept * keep_every - 1e-9

    for frame in _stream(info, due):
        if frame is not None:
            kept += 1
            yield _to_rgb(frame[np.newaxis], size)[0]


def _stream(info: VideoInfo, keep: Callable[[int], bool]) -> Iterator[np.ndarray | None]:
    """Each frame of the video in order: BGR if ``keep(index)``, else ``None``.

    Every frame is decoded (a video cannot skip ahead exactly), but only the kept
    ones are converted to BGR pixels, which at 1080p is a quarter of the time.
    Raises :class:`VideoReadError` naming the file if not a single frame decodes.
    """
    decoded = 0
    with _capture(info.path) as capture:
        while True:
            with quiet_stderr():
                ok = capture.grab()
                wanted = ok and keep(decoded)
                frame = capture.retrieve()[1] if wanted else None
            if not ok or (wanted and frame is None):
                break
            decoded += 1
            yield frame
    if decoded == 0:
        raise VideoReadError(
            f"{info.path}: opened, but not a single frame could be decoded. "
            + _UNDECODABLE.format(name=info.path.name, stem=info.path.stem))


def read_uniform(
    path: str | os.PathLike, num_frames: int, size: int | tuple[int, int] | None = None,
) -> np.ndarray:
    """``num_frames`` frames spread evenly over a whole video, in bounded memory.

    The frames are those at ``np.linspace(0, length - 1, num_frames)``, rounded,
    as :func:`read_video` picks them, but only they are kept while the video is
    decoded, so memory holds ``num_frames`` frames of ``size`` whatever the
    video's length.  The length comes from the container's header when the
    header is right (one pass); otherwise the frames are counted and the video
    is decoded a second time.

    Returns
    -------
    np.ndarray
        ``(num_frames, H, W, 3)`` uint8 RGB (a video with fewer frames repeats some).
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    info = video_info(path)
    length = info.claimed_frames
    while True:
        wanted = sample_indices(max(length, 1), num_frames)
        wanted_set = set(wanted.tolist())
        kept: dict[int, np.ndarray] = {}
        decoded = 0
        for index, frame in enumerate(_stream(info, wanted_set.__contains__)):
            decoded = index + 1
            if frame is not None:  # only the kept frames are converted and resized
                kept[index] = _to_rgb(frame[np.newaxis], size)[0]
        if decoded == length:
            return np.stack([kept[i] for i in wanted])
        length = decoded  # the header was wrong: now the length is known


def natural_key(name: str) -> list:
    """Sort key that orders ``frame_2`` before ``frame_10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def read_frames(folder: str | os.PathLike, size: int | tuple[int, int] | None = None) -> np.ndarray:
    """Read a folder of frame images in natural order (never ``os.listdir`` order).

    Returns ``(T, H, W, 3)`` uint8 RGB; raises ``FileNotFoundError`` for a missing
    folder and :class:`VideoReadError` for an empty folder, an undecodable image or
    frames of different sizes.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"No frame folder at {folder}")
    files = sorted(
        (p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
        key=lambda p: natural_key(p.name),
    )
    if not files:
        raise VideoReadError(
            f"{folder}: no frame images ({', '.join(IMAGE_SUFFIXES)}) in this folder."
        )
    frames = []
    for file in files:
        image = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if image is None:
            raise VideoReadError(f"{file}: not a readable image; remove or replace it.")
        if frames and image.shape != frames[0].shape:
            raise VideoReadError(
                f"{file}: size {image.shape[1]}x{image.shape[0]} differs from the first "
                f"frame's {frames[0].shape[1]}x{frames[0].shape[0]}; frames of one video "
                "must share a size."
            )
        frames.append(image)
    clip = np.stack(frames)[..., ::-1]
    return np.ascontiguousarray(clip if size is None else resize_frames(clip, size))


def write_video(
    path: str | os.PathLike, frames: np.ndarray | Sequence[np.ndarray], fps: float = 25,
    lossless: bool = False,
) -> Path:
    """Write RGB (or grayscale) uint8 frames to ``path`` and return the path.

    The codec follows the suffix (``.avi``/``.mkv``: MJPG, ``.mp4``: mp4v), which
    all round-trip with a plain pip OpenCV (H.264 does not); odd frame sizes are
    kept in lossy ``.avi`` files and refused for the others.  ``lossless=True``
    writes HuffYUV in RGB (``.avi`` or ``.mkv``, even sizes; grayscale frames
    are stored as three equal channels): every pixel reads back exactly, which
    keeps a generated dataset's known truth.  HuffYUV rather than FFV1, the
    other lossless codec of a pip OpenCV: FFV1's files are about 20 % smaller,
    but HuffYUV decodes about 3x and encodes about 4x faster
    (``benchmarks/video_codecs.py``), and decoding is what a course does most.
    The file is written
    under a temporary name and moved into place, so an existing file is only
    replaced by a complete one.
    """
    path = Path(path)
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {frames.dtype}")
    if frames.ndim == 3:
        frames = frames[..., None]
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3) or len(frames) == 0:
        raise ValueError(
            f"frames must have shape (T, H, W, 3) or (T, H, W) with T >= 1, got {frames.shape}"
        )
    codec = CODECS.get(path.suffix.lower())
    if codec is None:
        raise ValueError(f"{path}: unsupported suffix; use one of {sorted(CODECS)}")
    if lossless:
        if path.suffix.lower() == ".mp4":
            raise ValueError(f"{path}: lossless (HuffYUV) video needs an .avi or .mkv file")
        codec = "HFYU"
    height, width, channels = frames.shape[1:]
    # FFmpeg's writers silently crop an odd width or height to an even one; OpenCV's
    # own MJPEG writer keeps every size, but only writes colour AVI files.
    odd = height % 2 == 1 or width % 2 == 1
    if odd and (lossless or path.suffix.lower() != ".avi"):
        raise ValueError(
            f"{path}: {codec} {path.suffix} files need an even width and height, got "
            f"{width}x{height}; write an .avi file (any size) or crop the frames."
        )
    if channels == 1 and (odd or lossless):  # a grey HuffYUV file does not read back exactly
        frames, channels = np.repeat(frames, 3, axis=-1), 3
    backend = (cv2.CAP_OPENCV_MJPEG,) if odd else ()
    # The temporary name is fresh and OpenCV creates the file itself (so it gets the usual
    # permissions, not mkstemp's private 0600 ones).
    with atomic_path(path) as tmp, quiet_stderr():
        writer = cv2.VideoWriter(
            str(tmp), *backend, cv2.VideoWriter_fourcc(*codec), float(fps), (width, height),
            channels == 3,
        )
        if not writer.isOpened():
            raise OSError(f"{path}: OpenCV could not open a {codec} writer for this file.")
        try:
            for frame in frames:
                writer.write(np.ascontiguousarray(frame[..., ::-1]) if channels == 3 else frame)
        finally:
            writer.release()
    return path
