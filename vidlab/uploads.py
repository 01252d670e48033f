"""Where a student's own video comes from: a file, a web address, or Colab's upload button.

Every notebook ends with "Try it on your own video", whose parameter ``MY_VIDEO`` is one
of these; :func:`get_video` turns it into a local file that OpenCV can read, or says
plainly what is wrong with it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

from vidlab import config
from vidlab.download import atomic_path, download
from vidlab.video import VideoInfo, video_info

UPLOAD = "upload"
_UNSAFE = re.compile(r"[^\w.-]+")


def uploads_dir() -> Path:
    """The folder that keeps uploaded and downloaded videos: ``<cache>/uploads``."""
    folder = config.cache_dir() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _safe_name(name: str) -> str:
    """A file name with no folder part and no character a shell or a URL would choke on."""
    return _UNSAFE.sub("_", Path(name).name).strip("._") or "video"


def _from_colab_upload() -> Path:
    """Colab's upload button; the chosen file is kept in :func:`uploads_dir`."""
    if "google.colab" not in sys.modules:
        raise ValueError(
            f'MY_VIDEO = "{UPLOAD}" opens Colab\'s upload button, and this is not Colab: give '
            'the path of a video file instead, e.g. MY_VIDEO = "/home/me/clip.mp4".')
    from google.colab import files  # only on Colab

    uploaded = files.upload()  # {file name: bytes}, after the student picked a file
    if not uploaded:
        raise ValueError("No file was uploaded: run the cell again and pick a video file.")
    name, data = next(iter(uploaded.items()))
    with atomic_path(uploads_dir() / _safe_name(name)) as tmp:
        tmp.write_bytes(data)
    return uploads_dir() / _safe_name(name)


def _from_url(url: str) -> Path:
    """Download ``url`` once into :func:`uploads_dir`, named after its last path segment."""
    name = _safe_name(unquote(urlparse(url).path.rsplit("/", 1)[-1]))
    return download(url, uploads_dir() / name)


def get_video(source: str | os.PathLike | None,
              example: Callable[[], Path]) -> tuple[Path, VideoInfo]:
    """The student's video as a local file, checked, with what its header says.

    Parameters
    ----------
    source : str, path or None
        ``None`` or ``""``: the notebook's own example (``example()`` makes or
        finds it), so that "Run all" never waits for a student.  ``"upload"``:
        Colab's upload button.  An ``http(s)://`` address: downloaded once into
        the cache.  Anything else: the path of a video file.
    example : callable
        Returns the path of the notebook's example clip.

    Returns
    -------
    (Path, VideoInfo)
        The file, and its size, frame rate and claimed frame count
        (:func:`vidlab.video.video_info`).

    Raises
    ------
    FileNotFoundError
        A path that does not exist.
    ValueError
        ``"upload"`` outside Colab, or an upload that was cancelled.
    vidlab.video.VideoReadError
        A file OpenCV cannot read; the message names it and gives the ffmpeg
        command that re-encodes it.
    vidlab.download.DownloadError
        An address that cannot be downloaded; the message says why.
    """
    text = "" if source is None else str(source).strip()
    if not text:
        path = Path(example())
    elif text == UPLOAD:
        path = _from_colab_upload()
    elif re.match(r"https?://", text):
        path = _from_url(text)
    else:
        path = Path(text).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"No video file at {path}. Give the path of a file on this machine"
                + (' (on Colab: MY_VIDEO = "upload", or drag the file into the Files pane '
                   'and give "/content/<name>")' if config.on_colab() else "") + ".")
    return path, video_info(path)
