"""Every external file of the full profile, named once, and where it is fetched from now.

Each :class:`Source` has a *relative name* (its path under a mirror and under the
download cache), the publisher's URL, its size when known and a checksum when the
publisher gives one or we can pin one:

* Keras pins MD5s of its weight files in its own source (VGG16 with its top, the
  ImageNet class index); MobileNetV2's file has none there, so it is **unpinned**.
* DeepMind's kinetics-i3d files are pinned by their git blob ids at one commit
  (``git-blob-sha1``: what ``git ls-tree`` lists), the small ones also by SHA-256.
* UCF101's two archives publish no checksum: **unpinned**.  Their members are
  checked by the zip format's own CRC-32 (:mod:`vidlab.datasets.ucf101`).

``VIDLAB_MIRROR`` -- an ``http(s)://`` URL or a local folder -- makes every one of
these downloads come from the mirror under the same relative names; nothing else
changes (range requests, checksums, resumption, conversion, loading).  A mirror
made by ``python -m vidlab.mirror fetch`` or ``rehearsal`` holds a
:data:`MANIFEST` with the size and SHA-256 of each of its files: a rehearsal
mirror's files are stand-ins, which its manifest says, and they are verified
against the manifest instead of the publisher's checksums (and a notice says that
the numbers they give check code paths, not accuracy).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.error import HTTPError, URLError
from urllib.request import urlopen

from vidlab.config import cache_dir
from vidlab.download import (
    DownloadError,
    atomic_path,
    checksum_matches,
    download,
    parse_checksum,
)

#: The mirror's own list of files: ``{"kind": "fetched" | "rehearsal", "files": {name: {...}}}``.
MANIFEST = "vidlab-mirror.json"
MIRROR_VARIABLE = "VIDLAB_MIRROR"

_KERAS = "https://storage.googleapis.com/tensorflow/keras-applications"
_DEEPMIND_COMMIT = "0667e889a5904b4dc122e0ded4c332f49f8df42c"
_DEEPMIND = f"https://raw.githubusercontent.com/deepmind/kinetics-i3d/{_DEEPMIND_COMMIT}"
_MB = 1_000_000


@dataclass(frozen=True)
class Source:
    """One external file.

    Attributes
    ----------
    name : str
        Relative name: the path under a mirror and under the download cache.
    url : str
        Where the publisher serves it.
    checksum : str or None
        ``"<kind>:<hex>"`` (see :func:`vidlab.download.parse_checksum`), or None:
        *unpinned*, nobody publishes one and we could not measure one.
    size : int or None
        Exact size in bytes when known.
    approx_bytes : int
        About how large it is (``size`` when known), for planning and summaries.
    about : str
        What it is, and where its size and checksum come from.
    """

    name: str
    url: str
    checksum: str | None
    size: int | None
    approx_bytes: int
    about: str


def _checkpoint_files(folder: str, index: tuple[int, str], data: tuple[str, int], about: str
                      ) -> list[Source]:
    """The two files of one DeepMind checkpoint that TensorFlow reads (``.index``, ``.data``).

    ``index`` is (size, sha256) of the ``.index`` file; ``data`` the git blob id and
    the size implied by the index (the sum of its tensors' bytes, not published).
    """
    base = f"kinetics-i3d/data/checkpoints/{folder}/model.ckpt"
    index_size, index_sha = index
    blob, data_bytes = data
    return [
        Source(f"{base}.index", f"{_DEEPMIND}/data/checkpoints/{folder}/model.ckpt.index",
               f"sha256:{index_sha}", index_size, index_size,
               f"{about}: variable names, shapes and offsets (size and sha256 measured on "
               f"the file at commit {_DEEPMIND_COMMIT[:7]})"),
        Source(f"{base}.data-00000-of-00001",
               f"{_DEEPMIND}/data/checkpoints/{folder}/model.ckpt.data-00000-of-00001",
               f"git-blob-sha1:{blob}", None, data_bytes,
               f"{about}: the values (git blob id from the repository's tree; size from "
               "the tensors its .index lists)"),
    ]


_ALL = [
    Source("ucf101/UCF101_videos.zip",
           "https://storage.googleapis.com/thumos14_files/UCF101_videos.zip",
           None, None, 6_500 * _MB,
           "UCF101's 13,320 clips in one zip; only the chosen classes' members are read, "
           "with range requests. Unpinned (no published checksum; members carry CRC-32s); "
           "about 6.5 GB"),
    Source("ucf101/UCF101TrainTestSplits-RecognitionTask.zip",
           "https://www.crcv.ucf.edu/data/UCF101/UCF101TrainTestSplits-RecognitionTask.zip",
           None, None, 120_000,
           "UCF101's class index and three official train/test splits. Unpinned; about 0.1 MB"),
    Source("keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
           f"{_KERAS}/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
           "md5:64373286793e3c8b2b4e3219cbf3544b", None, 553 * _MB,
           "VGG16 ImageNet weights with the top (vgg16_fc2 cuts at fc2). MD5 as pinned in "
           "keras.applications.vgg16; about 553 MB (138.4 million float32 weights)"),
    Source("keras-applications/mobilenet_v2/"
           "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
           f"{_KERAS}/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
           None, None, 14 * _MB,
           "MobileNetV2 (alpha 1.0, 224) ImageNet weights with the top. Unpinned: "
           "keras.applications pins no hash for it; about 14 MB (3.5 million float32 values)"),
    Source("keras-applications/imagenet_class_index.json",
           "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json",
           "md5:c2c37ea517e94d9795004a39431a14cb", None, 35_000,
           "ImageNet's 1000 class names by output index. MD5 as pinned in "
           "keras.applications.imagenet_utils; about 35 kB"),
    *_checkpoint_files("rgb_imagenet", (10953, "f4bfd6f4af485f276c68333d3eca3697b691bb647f01"
                                               "67a03fe021147ca7f8eb"),
                       ("2958652e0c9c48a65010c0ebda5c9cfd4edc7c18", 50_818_176),
                       "I3D RGB, ImageNet-inflated, trained on Kinetics-400"),
    *_checkpoint_files("flow_imagenet", (10968, "71594ac5f63cb0eb58512a13b56097dc0368d09e5959"
                                                "dffcc6e7a45b19832366"),
                       ("bf56831f663abc3de0d35f193030b73a3df7fb61", 50_730_368),
                       "I3D optical flow, ImageNet-inflated, trained on Kinetics-400"),
    *_checkpoint_files("rgb_scratch", (10953, "4fcd08b3e140f0267730e462295054c6a38f6cfd9991"
                                              "c310ee3d37bbdfd7030c"),
                       ("fa7df95674dbf3579e7fccd954e51e706b4734c1", 50_818_176),
                       "I3D RGB, trained on Kinetics-400 from scratch"),
    *_checkpoint_files("flow_scratch", (10968, "81fccedbe8352f8509b05ca9f2959f5aac13552dc680"
                                               "c808acd4f39be82620e6"),
                       ("1d6a0b68f32544af11111342857e47e30d13afa9", 50_730_368),
                       "I3D optical flow, trained on Kinetics-400 from scratch"),
    *_checkpoint_files("rgb_scratch_kin600", (19632, "366815af85b76e46222db13761f087584b3dc9c5"
                                                     "6abf67b822949846302e432a"),
                       ("6392a74c3180e706cabada39d8f40a50a48642e5", 103_218_112),
                       "I3D RGB, Kinetics-600 from scratch (unscoped names, [1,1,1,1,C] batch "
                       "norm, Momentum slots)"),
    Source("kinetics-i3d/data/label_map.txt", f"{_DEEPMIND}/data/label_map.txt",
           "sha256:e9f2806fe9109b851a80a74841244f6f8c9d10917fa0229cd82bab67f2f8e28f", 5956, 5956,
           "Kinetics-400 class names, one per output (size and sha256 measured)"),
    Source("kinetics-i3d/data/label_map_600.txt", f"{_DEEPMIND}/data/label_map_600.txt",
           "sha256:8dfca4202520ea8291ce0242ef33b006d0a0772b409663c090a2876bc1978dcf", 9209, 9209,
           "Kinetics-600 class names, one per output (size and sha256 measured)"),
]

#: Every source of the full profile, by relative name.
SOURCES: dict[str, Source] = {source.name: source for source in _ALL}

UCF101_VIDEOS = "ucf101/UCF101_videos.zip"
UCF101_SPLITS = "ucf101/UCF101TrainTestSplits-RecognitionTask.zip"
IMAGENET_CLASS_INDEX = "keras-applications/imagenet_class_index.json"
IMAGENET_WEIGHTS = {
    "vgg16_fc2": "keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
    "mobilenet_v2": "keras-applications/mobilenet_v2/"
                    "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
}
#: DeepMind's published I3D checkpoints (folder names under ``data/checkpoints``).
I3D_CHECKPOINTS = ("rgb_imagenet", "flow_imagenet", "rgb_scratch", "flow_scratch",
                   "rgb_scratch_kin600")
KINETICS_LABELS = {400: "kinetics-i3d/data/label_map.txt",
                   600: "kinetics-i3d/data/label_map_600.txt"}


def get(name: str) -> Source:
    """Return the source called ``name``; the error lists the valid names."""
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"No source {name!r}; the sources are: {', '.join(SOURCES)}") from None


def mirror() -> str | None:
    """Return ``VIDLAB_MIRROR`` (a URL or a folder), or None when unset."""
    value = os.environ.get(MIRROR_VARIABLE, "").strip()
    return value or None


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def location(name: str) -> str:
    """Return where ``name`` is fetched from now: the mirror's copy, or the publisher's URL."""
    source, base = get(name), mirror()
    if base is None:
        return source.url
    if _is_url(base):
        return base.rstrip("/") + "/" + source.name
    return str(Path(base).expanduser() / source.name)


def mirror_manifest() -> dict | None:
    """Return the active mirror's :data:`MANIFEST` (None without a mirror or a manifest).

    Raises
    ------
    DownloadError
        The mirror cannot be reached (a server that is down, a folder that does not
        exist): the message names it and says how to do without it.
    """
    base = mirror()
    if base is None:
        return None
    if base not in _MANIFESTS:
        _MANIFESTS[base] = _read_manifest(base)
    return _MANIFESTS[base]


_MANIFESTS: dict[str, dict | None] = {}
_ANNOUNCED: set[str] = set()
_UNREACHABLE = (f"the mirror set by {MIRROR_VARIABLE} cannot be reached ({{}}); start it "
                f"(python -m vidlab.mirror serve DIR) or unset {MIRROR_VARIABLE} to download "
                "from the publishers")


def _read_manifest(base: str) -> dict | None:
    if not _is_url(base):
        folder = Path(base).expanduser()
        if not folder.is_dir():
            raise DownloadError(str(folder), _UNREACHABLE.format("no such folder"))
        path = folder / MANIFEST
        return json.loads(path.read_text()) if path.is_file() else None
    url = base.rstrip("/") + "/" + MANIFEST
    try:
        with urlopen(url, timeout=30) as response:
            return json.loads(response.read())
    except HTTPError as error:
        if error.code == 404:
            return None
        raise DownloadError(url, _UNREACHABLE.format(f"HTTP {error.code}")) from error
    except (URLError, OSError) as error:
        raise DownloadError(url, _UNREACHABLE.format(getattr(error, "reason", error))) from error


def is_rehearsal() -> bool:
    """True when ``VIDLAB_MIRROR`` is a stand-in made by ``python -m vidlab.mirror rehearsal``."""
    manifest = mirror_manifest()
    return bool(manifest) and manifest.get("kind") == "rehearsal"


def expected_checksum(name: str) -> str | None:
    """Return the checksum a download of ``name`` must match now, or None (unpinned).

    The publisher's pin, except from a rehearsal mirror, whose stand-ins are checked
    against the mirror's manifest; an unpinned file from a fetched mirror is checked
    against the SHA-256 the mirror measured when it fetched it.
    """
    source = get(name)
    manifest = mirror_manifest()
    listed = (manifest or {}).get("files", {}).get(name, {}).get("sha256")
    if manifest and manifest.get("kind") == "rehearsal":
        return f"sha256:{listed}" if listed else None
    if source.checksum is None and listed:
        return f"sha256:{listed}"
    return source.checksum


def announce_rehearsal() -> None:
    """Print, once per mirror, that a rehearsal stand-in is in use (numbers mean nothing)."""
    base = mirror()
    if base is not None and base not in _ANNOUNCED and is_rehearsal():
        _ANNOUNCED.add(base)
        print(f"REHEARSAL: {MIRROR_VARIABLE}={base} is a rehearsal stand-in (generated videos, "
              "random weights). It checks the full profile's code path; its accuracies and "
              "predictions mean nothing.")


def downloads_dir() -> Path:
    """Return the folder downloads go to: ``<cache>/downloads/<origin>``.

    ``<origin>`` is ``publishers``, or ``mirror-<8 hex digits of VIDLAB_MIRROR>``,
    so files from a rehearsal mirror never stand in for the real ones later.
    """
    base = mirror()
    if base is None:
        return cache_dir() / "downloads" / "publishers"
    return cache_dir() / "downloads" / f"mirror-{hashlib.sha256(base.encode()).hexdigest()[:8]}"


def fetch(name: str, progress: bool = True) -> Path:
    """Return the local path of source ``name``, downloading and verifying it if needed.

    From the publisher, or from ``VIDLAB_MIRROR`` when set (same relative name);
    verified against :func:`expected_checksum` when there is one; resumable and
    atomic (:func:`vidlab.download.download`).

    Raises
    ------
    DownloadError
        The file cannot be fetched or fails its checksum; the message names the
        file's URL (or path under a mirror folder) and what to do.  Nothing is
        left under the cache's final name.
    """
    source = get(name)
    announce_rehearsal()
    dest = downloads_dir() / PurePosixPath(source.name)
    where, checksum = location(name), expected_checksum(name)
    if _is_url(where):
        return download(where, dest, checksum, progress=progress)
    return _copy_from_folder(Path(where), dest, checksum)


def _copy_from_folder(path: Path, dest: Path, checksum: str | None) -> Path:
    """Copy a mirror folder's file into the cache, verified, atomically."""
    if dest.is_file() and (checksum is None or checksum_matches(dest, checksum)):
        return dest
    if not path.is_file():
        raise DownloadError(str(path), f"the mirror folder set by {MIRROR_VARIABLE} has no such "
                                       "file; run `python -m vidlab.mirror fetch` into it again")
    with atomic_path(dest) as tmp:
        shutil.copyfile(path, tmp)
        if checksum is not None and not checksum_matches(tmp, checksum):
            kind, value = parse_checksum(checksum)
            raise DownloadError(str(path), f"checksum mismatch: expected {kind} {value} "
                                           "(the file was not kept)")
    return dest


def fetch_checkpoint(folder: str, progress: bool = True) -> Path:
    """Fetch one DeepMind I3D checkpoint (``.index`` and ``.data``); return its path prefix.

    ``folder`` is one of :data:`I3D_CHECKPOINTS`; the prefix (``.../model.ckpt``) is
    what :func:`vidlab.models.i3d.checkpoint_to_npz` reads.
    """
    if folder not in I3D_CHECKPOINTS:
        raise ValueError(f"No checkpoint {folder!r}; DeepMind publishes {I3D_CHECKPOINTS}")
    base = f"kinetics-i3d/data/checkpoints/{folder}/model.ckpt"
    for suffix in (".index", ".data-00000-of-00001"):
        path = fetch(base + suffix, progress)
    return path.with_name("model.ckpt")


def total_bytes(names: list[str] | None = None) -> int:
    """About how many bytes the sources ``names`` (default: all) take."""
    return sum(get(name).approx_bytes for name in (names or SOURCES))
