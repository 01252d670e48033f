"""UCF101, a few classes at a time, without downloading the whole 6.5 GB archive.

A zip archive ends with a *central directory* that lists every member with the
offset of its data.  :func:`list_remote_zip` reads that directory with HTTP
range requests, and :func:`fetch_member` then downloads single members, so
:func:`fetch` only transfers the clips of the classes it is asked for (ten
classes are roughly a tenth of the archive).  The official split lists come
from their own small archive.

The result is a UCF101-layout folder that :func:`vidlab.datasets.read_layout`
reads: ``root/<Class>/v_<Class>_gGG_cCC.avi`` plus ``classInd.txt`` and the
three train/test split lists, filtered to the chosen classes and renumbered
from 1.  :func:`load` does both steps and downloads only what is missing.

Every network failure raises :class:`vidlab.download.DownloadError`.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path, PurePosixPath
from typing import NamedTuple
from urllib.parse import urlparse

from tqdm.auto import tqdm

from vidlab.config import cache_dir
from vidlab.datasets import VideoDataset, read_layout
from vidlab.download import DownloadError, download, fetch_range, fetch_tail, safe_extract

#: The UCF101 videos as one zip (members ``UCF101/<Class>/v_<Class>_gGG_cCC.avi``).
VIDEOS_URL = "https://storage.googleapis.com/thumos14_files/UCF101_videos.zip"
#: The official class index and the three train/test splits (``ucfTrainTestlist/*.txt``).
SPLITS_URL = "https://www.crcv.ucf.edu/data/UCF101/UCF101TrainTestSplits-RecognitionTask.zip"

SPLIT_LISTS = tuple(f"{kind}list0{split}.txt" for split in (1, 2, 3) for kind in ("train", "test"))
MARKER = ".complete"

# Records of the ZIP format (PKWARE APPNOTE.TXT), little-endian.
_EOCD = struct.Struct("<4s4H2LH")  # end of central directory, before the archive comment
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # sits right before the end of central directory
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # one central directory entry, before its name
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header, before its name and extra field
_EOCD_SIG, _LOCATOR_SIG, _ZIP64_EOCD_SIG = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
_CENTRAL_SIG, _LOCAL_SIG = b"PK\x01\x02", b"PK\x03\x04"
_ZIP64_EXTRA_ID = 0x0001
_UTF8_FLAG = 0x800
_STORED, _DEFLATED = 0, 8
#: The end of central directory, its longest comment and the ZIP64 locator before it.
_TAIL_SIZE = _ZIP64_LOCATOR.size + _EOCD.size + 0xFFFF


class ZipMember(NamedTuple):
    """Where one member of a remote zip lives and how to check it.

    ``header_size`` is the local header's length as the central directory
    predicts it (the real one is read from the archive, so a wrong guess only
    costs one more request).
    """

    name: str
    offset: int
    compressed_size: int
    size: int
    method: int
    crc32: int
    header_size: int


def list_remote_zip(url: str, timeout: float = 30) -> dict[str, ZipMember]:
    """List the members of a remote zip archive with two or three range requests.

    Reads the end of central directory record (and, for archives over 4 GB,
    the ZIP64 one) from the file's tail, then the central directory.

    Parameters
    ----------
    url : str
        URL of a zip file on a server that supports range requests.
    timeout : float
        Seconds to wait on each request.

    Returns
    -------
    dict of str to ZipMember
        Member name -> location, sizes, compression method and CRC-32.

    Raises
    ------
    DownloadError
        A request fails or the file is not a readable zip archive.
    """
    tail, size = fetch_tail(url, _TAIL_SIZE, timeout)
    count, start, length = _central_directory_span(url, tail, timeout)
    if start + length > size:
        raise DownloadError(url, "the zip's central directory lies past the end of the file")
    directory = fetch_range(url, start, start + length - 1, timeout) if length else b""
    return _parse_central_directory(url, directory, count)


def _central_directory_span(url: str, tail: bytes, timeout: float) -> tuple[int, int, int]:
    """Return ``(entries, offset, size)`` of the central directory from the file's tail."""
    end = _find_eocd(url, tail)
    _, disk, directory_disk, _, count, length, start, _ = _EOCD.unpack_from(tail, end)
    locator = end - _ZIP64_LOCATOR.size
    if locator >= 0 and tail[locator : locator + 4] == _LOCATOR_SIG:
        record_offset = _ZIP64_LOCATOR.unpack_from(tail, locator)[2]
        record = fetch_range(url, record_offset, record_offset + _ZIP64_EOCD.size - 1, timeout)
        fields = _ZIP64_EOCD.unpack(record)
        if fields[0] != _ZIP64_EOCD_SIG:
            raise DownloadError(url, "the zip's ZIP64 end of central directory is corrupt")
        disk, directory_disk, count, length, start = fields[4], fields[5], *fields[7:]
    if disk or directory_disk:
        raise DownloadError(url, "the zip archive spans several disks, which is not supported")
    return count, start, length


def _find_eocd(url: str, tail: bytes) -> int:
    """Return the position of the end of central directory record in ``tail``."""
    end = tail.rfind(_EOCD_SIG)
    while end >= 0:
        fits = end + _EOCD.size <= len(tail)
        if fits and end + _EOCD.size + _EOCD.unpack_from(tail, end)[-1] == len(tail):
            return end
        end = tail.rfind(_EOCD_SIG, 0, end)
    raise DownloadError(url, "not a zip archive (no end of central directory record)")


def _parse_central_directory(url: str, directory: bytes, count: int) -> dict[str, ZipMember]:
    """Decode ``count`` central directory entries."""
    members: dict[str, ZipMember] = {}
    pos = 0
    for index in range(count):
        if directory[pos : pos + 4] != _CENTRAL_SIG or pos + _CENTRAL.size > len(directory):
            raise DownloadError(url, f"the zip's central directory is corrupt at entry {index}")
        fields = _CENTRAL.unpack_from(directory, pos)
        flags, method, crc, compressed, size = fields[3], fields[4], *fields[7:10]
        name_len, extra_len, comment_len, offset = *fields[10:13], fields[16]
        name_at = pos + _CENTRAL.size
        raw_name = directory[name_at : name_at + name_len]
        extra = directory[name_at + name_len : name_at + name_len + extra_len]
        size, compressed, offset = _apply_zip64_extra(extra, size, compressed, offset)
        name = raw_name.decode("utf-8" if flags & _UTF8_FLAG else "cp437")
        header_size = _LOCAL.size + name_len + extra_len
        members[name] = ZipMember(name, offset, compressed, size, method, crc, header_size)
        pos = name_at + name_len + extra_len + comment_len
    return members


def _apply_zip64_extra(extra: bytes, *values: int) -> tuple[int, ...]:
    """Replace each saturated 32-bit value (0xFFFFFFFF) by its ZIP64 extra field value.

    ``values`` are, in the order the format stores them: uncompressed size,
    compressed size, local header offset.
    """
    pos = 0
    while pos + 4 <= len(extra):
        block_id, block_len = struct.unpack_from("<HH", extra, pos)
        if block_id == _ZIP64_EXTRA_ID:
            wide = iter(struct.unpack_from(f"<{block_len // 8}Q", extra, pos + 4))
            return tuple(next(wide) if value == 0xFFFFFFFF else value for value in values)
        pos += 4 + block_len
    return values


def fetch_member(url: str, member: ZipMember, timeout: float = 30) -> bytes:
    """Download, decompress and verify one member of a remote zip archive.

    Parameters
    ----------
    url : str
        URL of the zip file.
    member : ZipMember
        An entry of :func:`list_remote_zip`'s answer.
    timeout : float
        Seconds to wait on each request.

    Returns
    -------
    bytes
        The member's content, checked against its size and CRC-32.

    Raises
    ------
    DownloadError
        A request fails, or the data is corrupt (CRC-32 or size mismatch).
    ValueError
        The member uses a compression method other than stored or deflate.
    """
    if member.method not in (_STORED, _DEFLATED):
        raise ValueError(
            f"{member.name}: compression method {member.method} is not supported "
            "(only stored and deflate)"
        )
    first, predicted_end = member.offset, member.offset + member.header_size
    blob = fetch_range(url, first, predicted_end + member.compressed_size - 1, timeout)
    if blob[:4] != _LOCAL_SIG:
        raise DownloadError(url, f"{member.name}: no local file header at offset {first}")
    name_len, extra_len = _LOCAL.unpack_from(blob)[-2:]
    start = _LOCAL.size + name_len + extra_len
    end = start + member.compressed_size
    if end > len(blob):  # the local extra field is longer than the central one
        blob += fetch_range(url, first + len(blob), first + end - 1, timeout)
    return _decompress(url, member, blob[start:end])


def _decompress(url: str, member: ZipMember, raw: bytes) -> bytes:
    """Inflate ``raw`` if needed and check the member's size and CRC-32."""
    data = raw
    if member.method == _DEFLATED:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            data = inflater.decompress(raw) + inflater.flush()
        except zlib.error as exc:
            raise DownloadError(url, f"{member.name}: corrupt deflate data ({exc})") from exc
    crc = zlib.crc32(data)
    if crc != member.crc32 or len(data) != member.size:
        raise DownloadError(
            url, f"{member.name}: CRC-32 mismatch: expected {member.size} bytes with CRC-32 "
            f"{member.crc32:08x}, got {len(data)} bytes with CRC-32 {crc:08x}"
        )
    return data


def default_root(classes: int | Sequence[str] = 10) -> Path:
    """Return the folder :func:`fetch` fills by default.

    ``cache_dir()/ucf101/<N>classes`` for the first ``N`` classes; a list of
    class names gets ``<N>classes-<digest of the names>``, so two different
    choices never share a folder.
    """
    base = cache_dir() / "ucf101"
    if isinstance(classes, int):
        return base / f"{classes}classes"
    names = sorted(set(classes))
    digest = hashlib.sha256(",".join(names).encode()).hexdigest()[:8]
    return base / f"{len(names)}classes-{digest}"


def fetch(
    classes: int | str | Sequence[str] = 10,
    root: str | os.PathLike | None = None,
    videos_url: str = VIDEOS_URL,
    splits_url: str = SPLITS_URL,
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
    videos_url, splits_url : str
        The videos zip and the split lists zip (defaults: :data:`VIDEOS_URL`,
        :data:`SPLITS_URL`).
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


def _official_lists(splits_url: str, progress: bool) -> dict[str, list[str]]:
    """Download and unpack the split lists once; return file name -> non-empty lines."""
    archive = cache_dir() / "ucf101" / PurePosixPath(urlparse(splits_url).path).name
    folder = archive.parent / "splits" / archive.stem
    if not any(folder.rglob("classInd.txt")):
        safe_extract(download(splits_url, archive, progress=progress), folder)
    lists = {}
    for file in ("classInd.txt", *SPLIT_LISTS):
        found = sorted(folder.rglob(file))
        if not found:
            raise FileNotFoundError(f"{folder}: the archive from {splits_url} has no {file}.")
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


def _fetch_clips(
    url: str, root: Path, clips: list[str], progress: bool, workers: int
) -> None:
    """Download each ``<Class>/<file>`` of ``clips`` from the videos zip to ``root``."""
    # Look clips up by file name alone, ignoring case: the archive's folders need
    # not match the lists', and one class spells its files HandStand, not Handstand.
    by_file = {PurePosixPath(name).name.lower(): m for name, m in list_remote_zip(url).items()}
    jobs = []
    for clip in clips:
        member = by_file.get(PurePosixPath(clip).name.lower())
        if member is None:
            raise DownloadError(url, f"the archive has no {clip}, which the split lists name")
        jobs.append((member, root / clip))
    total = sum(member.compressed_size for member, _ in jobs)
    bar = tqdm(total=total, desc="UCF101 clips", unit="B", unit_scale=True, disable=not progress)
    with bar, ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_fetch_clip, url, member, dest) for member, dest in jobs]
        try:
            for future in as_completed(futures):
                bar.update(future.result())
        except BaseException:
            pool.shutdown(cancel_futures=True)  # stop queued clips; running ones finish
            raise


def _fetch_clip(url: str, member: ZipMember, dest: Path) -> int:
    """Save one verified member to ``dest``; return its compressed size."""
    _write_atomic(dest, fetch_member(url, member))
    return member.compressed_size


def _write_lines(path: Path, lines: list[str]) -> None:
    """Write ``lines`` to ``path`` atomically, one per line."""
    _write_atomic(path, "".join(f"{line}\n" for line in lines).encode())


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` under a temporary name, then move it to ``path`` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.part")
    part.write_bytes(data)
    os.replace(part, path)
