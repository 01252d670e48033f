"""UCF101, a few classes at a time, without downloading the whole 6.5 GB archive.

A zip archive ends with a *central directory* that lists every member with the
offset of its data, so single members can be read with HTTP range requests.
``remotezip`` (a kept library: a :class:`zipfile.ZipFile` over range requests)
does that here, and :func:`fetch` only transfers the clips of the classes it is
asked for (ten classes are roughly a tenth of the archive); every member is
checked against its CRC-32 by :mod:`zipfile`.  The official split lists come from
their own small archive.

Both archives come from :mod:`vidlab.sources` (``VIDLAB_MIRROR`` redirects them;
a mirror that is a local folder is read with :mod:`zipfile` directly).

The result is a UCF101-layout folder that :func:`vidlab.datasets.read_layout`
reads: ``root/<Class>/v_<Class>_gGG_cCC.avi`` plus ``classInd.txt`` and the
three train/test split lists, filtered to the chosen classes and renumbered
from 1.  :func:`load` does both steps and downloads only what is missing.

Every network failure, and every corrupt or truncated member, raises
:class:`vidlab.download.DownloadError` naming the archive and the member.
"""

from __future__ import annotations

import hashlib
import os
import threading
import zipfile
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path, PurePosixPath

import requests
from remotezip import RemoteZip, RemoteZipError
from tqdm.auto import tqdm

from vidlab import sources
from vidlab.config import cache_dir
from vidlab.datasets import VideoDataset, read_layout
from vidlab.download import DownloadError, atomic_path, download, safe_extract

SPLIT_LISTS = tuple(f"{kind}list0{split}.txt" for split in (1, 2, 3) for kind in ("train", "test"))
MARKER = ".complete"
#: Seconds to wait for the server on each request.
TIMEOUT = 30
#: What a damaged archive or a dropped connection raises while a member is read.
_READ_ERRORS = (RemoteZipError, requests.RequestException, zipfile.BadZipFile, EOFError,
                zlib.error, OSError)


def default_root(classes: int | Sequence[str] = 10) -> Path:
    """Return the folder :func:`fetch` fills by default.

    ``<downloads>/ucf101/<N>classes`` for the first ``N`` classes, under
    :func:`vidlab.sources.downloads_dir` (one folder per origin, so clips of a
    rehearsal mirror never stand in for the real ones); a list of class names
    gets ``<N>classes-<digest of the names>``, so two different choices never
    share a folder.
    """
    base = sources.downloads_dir() / "ucf101"
    if isinstance(classes, int):
        return base / f"{classes}classes"
    names = sorted(set(classes))
    digest = hashlib.sha256(",".join(names).encode()).hexdigest()[:8]
    return base / f"{len(names)}classes-{digest}"


def fetch(
    classes: int | str | Sequence[str] = 10,
    root: str | os.PathLike | None = None,
    videos_url: str | None = None,
    splits_url: str | None = None,
    progress: bool = True,
    workers: int = 8,
) -> Path:
    """Download some UCF101 classes into a UCF101-layout folder; return the folder.

    Parameters
    ----------
    classes : int, str or sequence of str
        ``N``: the first ``N`` classes of ``classInd.txt``; or one or more class
        names, numbered in ``classInd.txt`` order whatever order they come in.
    root : path-like or None
        Destination folder (default: :func:`default_root`).
    videos_url, splits_url : str or None
        The videos zip and the split lists zip (URLs or local paths); by default the
        sources ``ucf101/...`` of :mod:`vidlab.sources`, from ``VIDLAB_MIRROR`` when set.
    progress : bool
        Show progress bars.
    workers : int
        Clips downloaded in parallel.

    Returns
    -------
    Path
        ``root``, holding ``<Class>/<clip>.avi``, ``classInd.txt`` numbered 1..N,
        the six split lists filtered to the chosen classes and a ``.complete`` marker.

    Raises
    ------
    ValueError
        ``classes`` names an unknown class (the message lists the valid ones) or
        asks for more classes than UCF101 has.
    DownloadError
        A download fails.  Clips already saved are kept, so calling again resumes.
    """
    if isinstance(classes, str):
        classes = [classes]
    videos_url = videos_url or sources.location(sources.UCF101_VIDEOS)
    lists = _official_lists(splits_url, progress)
    names = _choose_classes(classes, _class_names(lists["classInd.txt"]))
    root = Path(root) if root is not None else default_root(classes)
    filtered = {file: _filter_list(lists[file], names) for file in SPLIT_LISTS}
    clips = sorted({line.split()[0] for lines in filtered.values() for line in lines})
    missing = [clip for clip in clips if not (root / clip).is_file()]
    if missing:
        _fetch_clips(videos_url, root, missing, progress, workers)
    (root / MARKER).unlink(missing_ok=True)  # an older choice's marker must not outlive its lists
    _write_lines(root / "classInd.txt", [f"{i} {name}" for i, name in enumerate(names, 1)])
    for file, lines in filtered.items():
        _write_lines(root / file, lines)
    _write_lines(root / MARKER, names)
    return root


def load(num_classes: int = 10, split: int = 1, **kwargs) -> VideoDataset:
    """Return the first ``num_classes`` UCF101 classes with official split ``split`` (1-3).

    Downloads them with :func:`fetch` (``kwargs`` go there: ``root``, the URLs,
    ``progress``, ``workers``) unless a complete copy is already on disk, in
    which case no request is made.
    """
    root = kwargs.pop("root", None)
    root = Path(root) if root is not None else default_root(num_classes)
    marker = root / MARKER
    if not (marker.is_file() and len(marker.read_text().split()) == num_classes):
        fetch(num_classes, root, **kwargs)
    return read_layout(root, split)


def _official_lists(splits_url: str | None, progress: bool) -> dict[str, list[str]]:
    """Download and unpack the split lists once; return file name -> non-empty lines."""
    if splits_url is None:
        archive = sources.fetch(sources.UCF101_SPLITS, progress)
        origin = sources.location(sources.UCF101_SPLITS)
    else:
        archive = download(splits_url, cache_dir() / "ucf101" / PurePosixPath(splits_url).name,
                           progress=progress)
        origin = splits_url
    folder = archive.parent / "splits" / archive.stem
    if not any(folder.rglob("classInd.txt")):
        safe_extract(archive, folder)
    lists = {}
    for file in ("classInd.txt", *SPLIT_LISTS):
        found = sorted(folder.rglob(file))
        if not found:
            raise FileNotFoundError(f"{folder}: the archive from {origin} has no {file}.")
        lists[file] = [line.strip() for line in found[0].read_text().splitlines() if line.strip()]
    return lists


def _class_names(lines: list[str]) -> list[str]:
    """Class names of ``classInd.txt`` lines (``"1 ApplyEyeMakeup"``) in index order."""
    numbered = sorted((int(index), name) for index, name in (line.split() for line in lines))
    return [name for _, name in numbered]


def _choose_classes(classes: int | Sequence[str], available: list[str]) -> list[str]:
    """Validate ``classes`` against ``available``; return the chosen names in index order."""
    if isinstance(classes, int):
        if not 1 <= classes <= len(available):
            raise ValueError(
                f"classes={classes}: UCF101 has {len(available)} classes; "
                f"ask for 1 to {len(available)}."
            )
        return available[:classes]
    if not classes:
        raise ValueError(f"No class chosen. Valid names: {', '.join(available)}.")
    unknown = [name for name in classes if name not in available]
    if unknown:
        raise ValueError(
            f"Unknown UCF101 class name(s) {unknown}. Valid names: {', '.join(available)}."
        )
    wanted = set(classes)
    return [name for name in available if name in wanted]


def _filter_list(lines: list[str], names: list[str]) -> list[str]:
    """Keep the lines of the chosen classes; renumber their labels 1..N."""
    label = {name: index for index, name in enumerate(names, 1)}
    kept = []
    for line in lines:
        clip, *has_label = line.split()
        cls = clip.split("/")[0]
        if cls in label:
            kept.append(f"{clip} {label[cls]}" if has_label else clip)
    return kept


def _open_zip(location: str) -> zipfile.ZipFile:
    """Open the videos zip: over range requests for a URL, from disk for a path."""
    if not location.startswith(("http://", "https://")):
        if not Path(location).is_file():
            raise DownloadError(location, "no such file")
        return zipfile.ZipFile(location)
    try:
        return RemoteZip(location, timeout=TIMEOUT)
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else "error"
        raise DownloadError(location, f"the server answered HTTP {status}") from error
    except zipfile.BadZipFile as error:
        raise DownloadError(location, f"not a zip archive ({error})") from error
    except (RemoteZipError, requests.RequestException, OSError) as error:
        raise DownloadError(location, f"cannot read the zip's directory ({error})") from error


def _fetch_clips(
    location: str, root: Path, clips: list[str], progress: bool, workers: int
) -> None:
    """Download each ``<Class>/<file>`` of ``clips`` from the videos zip to ``root``.

    Every worker thread opens its own reader (a zip reader keeps one position in
    its file); a member is checked against its CRC-32 and only then written.
    """
    with _open_zip(location) as archive:
        infos = archive.infolist()
    # Look clips up by file name alone, ignoring case: the archive's folders need
    # not match the lists', and one class spells its files HandStand, not Handstand.
    by_file = {PurePosixPath(info.filename).name.lower(): info for info in infos}
    jobs = []
    for clip in clips:
        info = by_file.get(PurePosixPath(clip).name.lower())
        if info is None:
            raise DownloadError(location, f"the archive has no {clip}, which the split lists name")
        jobs.append((info, root / clip))
    local = threading.local()

    def fetch_one(info: zipfile.ZipInfo, dest: Path) -> int:
        if not hasattr(local, "archive"):
            local.archive = _open_zip(location)
        try:
            with atomic_path(dest) as tmp:
                tmp.write_bytes(local.archive.read(info))
        except _READ_ERRORS as error:
            raise DownloadError(location, f"member {info.filename} is damaged or cut short "
                                          f"({type(error).__name__}: {error})") from error
        return info.compress_size

    total = sum(info.compress_size for info, _ in jobs)
    bar = tqdm(total=total, desc="UCF101 clips", unit="B", unit_scale=True, disable=not progress)
    with bar, ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futures = [pool.submit(fetch_one, info, dest) for info, dest in jobs]
        try:
            for future in as_completed(futures):
                bar.update(future.result())
        except BaseException:
            pool.shutdown(cancel_futures=True)  # stop queued clips; running ones finish
            raise


def _write_lines(path: Path, lines: list[str]) -> None:
    """Write ``lines`` to ``path`` atomically, one per line."""
    with atomic_path(path) as tmp:
        tmp.write_text("".join(f"{line}\n" for line in lines))
