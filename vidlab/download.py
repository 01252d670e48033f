"""Downloading and unpacking the full profile's data: cached, resumable, verified, atomic.

:func:`download` fetches one file over HTTP(S) with the standard library only.
The bytes arrive in ``<dest>.part``; an interrupted transfer resumes from there
with a ``Range`` request, and the file only takes its final name once it is
complete and, when a checksum is given, verified.  A file already at ``dest``
(matching the checksum when given) is returned without touching the network.

Why our own code and not ``pooch`` or ``keras.utils.get_file``: both restart an
interrupted transfer from byte zero, and the full profile's files reach half a
gigabyte over classroom networks; both also only know ``hashlib`` digests, while
DeepMind's checkpoints are pinned by their git blob ids (:func:`file_checksum`).
Everything else -- reading single members of a remote zip -- is done by a kept
library (``remotezip``, in :mod:`vidlab.datasets.ucf101`).

The package's one checksum helper is :func:`file_checksum` (``file_sha256`` for
the common case) and its one atomic-write helper is :func:`atomic_path`.
:func:`safe_extract` unpacks a zip or tar archive, refusing any member that
would land outside the destination.

Every network failure raises :class:`DownloadError`, whose message names the
URL and what went wrong, and reminds that the quick profile needs no network.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import ssl
import tarfile
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPException
from pathlib import Path, PurePosixPath
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from tqdm.auto import tqdm

QUICK_HINT = "The quick profile works offline: set VIDLAB_PROFILE=quick"
CHUNK_SIZE = 1 << 20

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class DownloadError(OSError):
    """A download failed: HTTP error, dropped connection or checksum mismatch.

    Parameters
    ----------
    url : str
        The URL that was being fetched.
    reason : str
        What went wrong, e.g. ``"the server answered HTTP 404 Not Found"``.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Downloading {url} failed: {reason}. {QUICK_HINT}")
        self.url = url
        self.reason = reason

    def __reduce__(self):
        return type(self), (self.url, self.reason)


class _Interrupted(Exception):
    """The body ended before the announced length: the connection dropped."""


#: Failures worth retrying: the transfer resumes from the bytes already saved.
_TRANSIENT = (_Interrupted, URLError, HTTPException, ConnectionError, TimeoutError, ssl.SSLError)


#: Checksum kinds :func:`file_checksum` knows: ``hashlib`` digests, and git's blob id (the
#: SHA-1 of ``b"blob <size>\\0"`` and the content), which pins a file of a git repository.
CHECKSUM_KINDS = ("sha256", "md5", "git-blob-sha1")


def parse_checksum(checksum: str) -> tuple[str, str]:
    """Split ``"<kind>:<hex>"`` into ``(kind, hex)``; a bare 64-digit hex is a SHA-256.

    Raises
    ------
    ValueError
        An unknown kind, or a value that is not hexadecimal.
    """
    kind, _, value = checksum.rpartition(":")
    kind = kind or "sha256"
    if kind not in CHECKSUM_KINDS or not re.fullmatch(r"[0-9a-fA-F]+", value):
        raise ValueError(
            f"checksum {checksum!r} is not '<kind>:<hex digits>' with a kind of {CHECKSUM_KINDS}"
        )
    return kind, value.lower()


def file_checksum(path: str | os.PathLike, kind: str = "sha256") -> str:
    """Return the hex digest of a file (read in chunks); ``kind``: one of :data:`CHECKSUM_KINDS`."""
    if kind not in CHECKSUM_KINDS:
        raise ValueError(f"unknown checksum kind {kind!r}; expected one of {CHECKSUM_KINDS}")
    if kind == "git-blob-sha1":
        digest = hashlib.sha1(f"blob {os.path.getsize(path)}\0".encode(), usedforsecurity=False)
    else:
        digest = hashlib.new(kind, usedforsecurity=False)
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """Return the hex SHA-256 of a file."""
    return file_checksum(path, "sha256")


def checksum_matches(path: str | os.PathLike, checksum: str) -> bool:
    """True if the file at ``path`` has ``checksum`` ("<kind>:<hex>", see parse_checksum)."""
    kind, value = parse_checksum(checksum)
    return file_checksum(path, kind) == value


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it to ``path`` in one step.

    Write the file (or folder) at the yielded path.  If the block raises, the
    temporary is deleted and ``path`` is left as it was, so a reader never sees
    a half-written file.  The temporary keeps ``path``'s suffix (writers such as
    OpenCV and NumPy choose the format from it) and is hidden (a leading dot).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def download(
    url: str,
    dest: str | os.PathLike,
    checksum: str | None = None,
    *,
    progress: bool = True,
    timeout: float = 30,
    retries: int = 2,
) -> Path:
    """Download ``url`` to ``dest`` unless a good copy is already there.

    Parameters
    ----------
    url : str
        HTTP(S) URL of the file.
    dest : path-like
        Where the file ends up.  Its folder is created if needed.
    checksum : str or None
        Expected checksum of the whole file, ``"<kind>:<hex>"`` (:func:`parse_checksum`;
        a bare hex is a SHA-256).  When given, a cached ``dest`` must match it, and
        a fresh download is verified before it is kept.
    progress : bool
        Show a ``tqdm`` progress bar.
    timeout : float
        Seconds to wait for the server to connect or send more data.
    retries : int
        How many times an interrupted transfer is resumed before giving up.

    Returns
    -------
    Path
        ``dest``, complete and verified.

    Raises
    ------
    DownloadError
        HTTP error status, connection that keeps dropping, or checksum mismatch.
        ``dest`` is left as it was: only a verified download replaces it.
    """
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}")
    dest = Path(dest)
    expected = parse_checksum(checksum) if checksum else None
    if dest.is_file() and (expected is None or checksum_matches(dest, checksum)):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    with tqdm(desc=dest.name, unit="B", unit_scale=True, disable=not progress) as bar:
        _transfer_with_retries(url, part, timeout, retries, bar)
    _verify(url, part, expected)
    os.replace(part, dest)
    return dest


def _transfer_with_retries(url: str, part: Path, timeout: float, retries: int, bar) -> None:
    """Run :func:`_transfer` until ``part`` is complete, resuming after each drop."""
    for attempt in range(retries + 1):
        try:
            _transfer(url, part, timeout, bar)
            return
        except DownloadError:
            raise
        except HTTPError as exc:
            raise DownloadError(url, f"the server answered HTTP {exc.code} {exc.reason}") from exc
        except _TRANSIENT as exc:
            failure = exc
            time.sleep(attempt)  # resume at once after a first drop, then back off
    kept = part.stat().st_size if part.exists() else 0
    reason = f"gave up after {retries + 1} attempt(s) ({_describe(failure)})"
    if kept:
        reason += f"; the {kept} bytes received stay in {part} for the next call to resume"
    raise DownloadError(url, reason) from failure


def _transfer(url: str, part: Path, timeout: float, bar) -> None:
    """Append the rest of ``url`` to ``part`` (or rewrite it if the server cannot resume)."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        response = urlopen(Request(url, headers=headers), timeout=timeout)
    except HTTPError as exc:
        if exc.code != 416 or not offset:
            raise
        part.unlink()  # the saved bytes do not fit the remote file any more: start over
        _transfer(url, part, timeout, bar)
        return
    with response:
        if offset and response.status == 206:
            first, _, total = _parse_content_range(url, response.headers.get("Content-Range"))
            if first != offset:
                raise DownloadError(url, f"asked for bytes from {offset}, got from {first}")
        else:
            offset = 0  # a 200 answer carries the whole file: restart from zero
            length = response.headers.get("Content-Length")
            total = int(length) if length is not None else None
        bar.reset(total=total)
        bar.update(offset)
        received = _copy_body(response, part, "ab" if offset else "wb", bar)
    if total is not None and offset + received < total:
        raise _Interrupted(f"the connection dropped after {offset + received} of {total} bytes")


def _copy_body(response, part: Path, mode: str, bar) -> int:
    """Stream the response body into ``part``; return the number of bytes written."""
    received = 0
    with open(part, mode) as file:
        for chunk in iter(lambda: response.read(CHUNK_SIZE), b""):
            file.write(chunk)
            received += len(chunk)
            bar.update(len(chunk))
    return received


def _verify(url: str, part: Path, expected: tuple[str, str] | None) -> None:
    """Delete ``part`` and raise if its checksum is not ``expected`` ``(kind, hex)``, if given."""
    if expected is None:
        return
    kind, value = expected
    actual = file_checksum(part, kind)
    if actual != value:
        part.unlink()
        raise DownloadError(
            url, f"checksum mismatch: expected {kind} {value}, got {actual} (the file was not kept)"
        )


def _parse_content_range(url: str, header: str | None) -> tuple[int, int, int | None]:
    """Return ``(first, last, total)`` of a ``Content-Range`` header (total None if ``*``)."""
    match = _CONTENT_RANGE.fullmatch((header or "").strip())
    if match is None:
        raise DownloadError(url, f"the server sent a malformed Content-Range: {header!r}")
    first, last, total = match.groups()
    return int(first), int(last), None if total == "*" else int(total)


def _describe(exc: BaseException) -> str:
    """A short description of a network exception for an error message."""
    if isinstance(exc, _Interrupted):
        return str(exc)
    reason = getattr(exc, "reason", None)
    return f"{type(exc).__name__}: {reason if reason is not None else exc}"


def safe_extract(archive: str | os.PathLike, dest: str | os.PathLike) -> list[Path]:
    """Unpack a zip or tar archive into the folder ``dest``; return the extracted files.

    Every member must be a plain file or folder with a relative path that stays
    inside ``dest``: absolute paths, ``..`` components, symbolic and hard links
    and special files are refused before anything is written.  Tar members
    also go through the standard library's ``"data"`` extraction filter when
    this Python has it.  The archive is unpacked into a temporary folder next
    to ``dest``; then each of its top-level entries moves into ``dest`` in one
    step, replacing an entry of the same name, so a half-extracted file or
    folder is never in use.  Other entries of ``dest`` are left alone.

    Parameters
    ----------
    archive : path-like
        A zip or tar (optionally compressed) file.
    dest : path-like
        Folder that receives the archive's content; created if needed.

    Returns
    -------
    list of Path
        The extracted files (not folders), in archive order.

    Raises
    ------
    ValueError
        The archive is neither zip nor tar, or a member is refused (the message
        names the archive and the member).
    """
    archive, dest = Path(archive), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.extracting.", dir=dest.parent))
    try:
        content, replaced = staging / "content", staging / "replaced"
        content.mkdir()
        replaced.mkdir()
        names = _extract_into(archive, content)
        dest.mkdir(exist_ok=True)
        for entry in content.iterdir():
            _move_into_place(entry, dest / entry.name, replaced)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [dest / name for name in names]


def _extract_into(archive: Path, folder: Path) -> list[str]:
    """Check every member, then unpack; return the relative names of the files."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            for info in members:
                _check_name(archive, info.filename)
                if _zip_is_link(info):
                    raise ValueError(f"{archive}: refusing member {info.filename!r}: a link")
            zf.extractall(folder)
        return [info.filename for info in members if not info.is_dir()]
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for info in members:
                _check_name(archive, info.name)
                if not (info.isfile() or info.isdir()):
                    kind = "a link" if info.issym() or info.islnk() else "not a file or folder"
                    raise ValueError(f"{archive}: refusing member {info.name!r}: {kind}")
            if hasattr(tarfile, "data_filter"):
                tf.extractall(folder, filter="data")
            else:
                tf.extractall(folder)  # members checked above: files and folders inside only
        return [info.name for info in members if info.isfile()]
    raise ValueError(f"{archive} is neither a zip nor a tar archive.")


def _check_name(archive: Path, name: str) -> None:
    """Refuse a member name that is absolute or climbs out with ``..``."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or re.match(r"[A-Za-z]:", name) or ".." in path.parts:
        raise ValueError(
            f"{archive}: refusing member {name!r}: its path leads outside the destination"
        )


def _zip_is_link(info: zipfile.ZipInfo) -> bool:
    """True for a zip member stored with Unix symlink permissions."""
    return (info.external_attr >> 16) & 0o170000 == 0o120000


def _move_into_place(entry: Path, target: Path, trash: Path) -> None:
    """Move ``entry`` to ``target``, first moving an existing ``target`` into ``trash``."""
    if target.exists() or target.is_symlink():
        os.replace(target, trash / target.name)
    os.replace(entry, target)
