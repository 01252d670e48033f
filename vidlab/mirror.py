"""A classroom mirror of the full profile's files, and an offline stand-in to rehearse it.

Three commands::

    python -m vidlab.mirror fetch DIR       # download every source once, verified
    python -m vidlab.mirror serve DIR       # serve DIR over HTTP, with range requests
    python -m vidlab.mirror rehearsal DIR   # write a small generated stand-in of every source

Students then set ``VIDLAB_MIRROR=http://<the instructor's machine>:8000/`` (or a
shared folder) and every download of :mod:`vidlab.sources` comes from the mirror,
under the same relative names.  Each command writes :data:`vidlab.sources.MANIFEST`,
the size and SHA-256 of every file it holds.

The rehearsal stand-in checks code paths, not accuracy: UCF101 clips are MotionShapes
sprites at 320x240 and 25 fps in four real UCF101 class folders; the ImageNet and
Kinetics weights are random (in the publishers' formats and variable names, at
the real shapes, since the full profile's models load them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

from vidlab import sources
from vidlab.datasets import motion_shapes
from vidlab.download import CHUNK_SIZE, atomic_path, download, file_sha256
from vidlab.video import write_video

#: UCF101 classes of the stand-in (the first four of UCF101's class index), each drawn
#: as one MotionShapes motion.
REHEARSAL_CLASSES = {"ApplyEyeMakeup": "SlideRight", "ApplyLipstick": "ZoomIn",
                     "Archery": "RotateClockwise", "BabyCrawling": "SlideDown"}
#: Groups of the stand-in: 1 and 2 are tested on in split 1 (like UCF101's 1-7), the others
#: trained on.
REHEARSAL_GROUPS = (1, 2, 8, 9, 10)
#: Frames of a stand-in clip, by its number within its group (UCF101's clips differ in
#: length; its shortest has 29 frames).
REHEARSAL_FRAMES = {1: 32, 2: 40}
WIDTH, HEIGHT, FPS = 320, 240, 25
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


# --- fetch ----------------------------------------------------------------------------------


def fetch(folder: str | os.PathLike, names: list[str] | None = None,
          progress: bool = True) -> Path:
    """Download the sources ``names`` (default: every one) into ``folder``; return it.

    Each file is verified against its pinned checksum when it has one, and a
    transfer that breaks off resumes where it stopped when the command is run again;
    complete files are not downloaded twice.  ``folder`` then holds the same
    relative names as the publishers and a manifest (``kind: fetched``).
    """
    folder = Path(folder)
    chosen = [sources.get(name) for name in (names or sources.SOURCES)]
    print(f"Fetching {len(chosen)} files, about {_size(sources.total_bytes(names))}, "
          f"into {folder}")
    for source in chosen:
        download(source.url, folder / source.name, source.checksum, progress=progress)
    files = _write_manifest(folder, "fetched")
    print(_summary(folder, files, "fetched"))
    return folder


def _write_manifest(folder: Path, kind: str) -> dict[str, dict]:
    """Write the manifest of every source present in ``folder``; return its file entries."""
    files = {}
    for name in sources.SOURCES:
        path = folder / name
        if path.is_file():
            files[name] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
    with atomic_path(folder / sources.MANIFEST) as tmp:
        tmp.write_text(json.dumps({"kind": kind, "files": files}, indent=2, sort_keys=True))
    return files


def _size(num_bytes: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if num_bytes >= scale:
            return f"{num_bytes / scale:.1f} {unit}"
    return f"{num_bytes} B"


def _summary(folder: Path, files: dict[str, dict], kind: str) -> str:
    """A table of the files in ``folder``: size and what a download of each is checked against."""
    lines = [f"{'file':<78}{'size':>10}  a download is checked against"]
    for name, entry in files.items():
        pinned = sources.get(name).checksum
        if kind == "rehearsal":
            how = "this manifest's sha256 (a stand-in)"
        elif pinned:
            how = f"the publisher's {pinned.split(':')[0]}"
        else:
            how = "this manifest's sha256 (unpinned at the publisher)"
        lines.append(f"{name:<78}{_size(entry['size']):>10}  {how}")
    total = sum(entry["size"] for entry in files.values())
    lines.append(f"{len(files)} files, {_size(total)} in {folder}")
    return "\n".join(lines)


# --- serve ----------------------------------------------------------------------------------


class RangeRequestHandler(SimpleHTTPRequestHandler):
    """``http.server``'s file handler, plus single ``Range`` requests (``206``, ``416``).

    ``remotezip`` reads UCF101's clips with range requests, including suffix ranges
    (``bytes=-65536``), and an interrupted download resumes with one.  A request
    with several ranges gets the whole file (``200``), as the standard allows.
    """

    def send_head(self):
        self._remaining = None
        header = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if header is None or not path.is_file() or "," in header:
            return super().send_head()
        size = path.stat().st_size
        span = _byte_range(header, size)
        if span is None:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        first, last = span
        file = path.open("rb")
        file.seek(first)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        self._remaining = last - first + 1
        return file

    def copyfile(self, source, outputfile) -> None:
        if self._remaining is None:
            super().copyfile(source, outputfile)
            return
        while self._remaining > 0:
            chunk = source.read(min(CHUNK_SIZE, self._remaining))
            if not chunk:
                break
            outputfile.write(chunk)
            self._remaining -= len(chunk)


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """``(first, last)`` of one ``Range`` header, or None if it cannot be satisfied."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.groups() == ("", "") or size == 0:
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        return (max(size - int(last), 0), size - 1) if int(last) else None
    last_byte = size - 1 if last == "" else min(int(last), size - 1)
    return (int(first), last_byte) if int(first) <= last_byte else None


def make_server(folder: str | os.PathLike, port: int = 8000,
                host: str = "0.0.0.0", quiet: bool = False) -> ThreadingHTTPServer:
    """Return an HTTP server for ``folder`` (not started; ``port=0`` picks a free port)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder: run `python -m vidlab.mirror fetch "
                                f"{folder}` (or `rehearsal`) first.")

    class Handler(RangeRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            if not quiet:
                super().log_message(format, *args)

    return ThreadingHTTPServer((host, port), Handler)


def serve(folder: str | os.PathLike, port: int = 8000, host: str = "0.0.0.0",
          quiet: bool = False) -> None:
    """Serve ``folder`` over HTTP until interrupted (Ctrl-C)."""
    server = make_server(folder, port, host, quiet)
    address = f"http://{host if host != '0.0.0.0' else '<this machine>'}:{server.server_port}/"
    print(f"Serving {folder} at {address} (local: http://127.0.0.1:{server.server_port}/)")
    print(f"Students: VIDLAB_MIRROR={address}", flush=True)
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


# --- rehearsal ------------------------------------------------------------------------------


def rehearsal(folder: str | os.PathLike, seed: int = 0) -> Path:
    """Write a generated stand-in of every source into ``folder``; return it.

    Same relative names and formats as the publishers' files: UCF101's videos
    zip (``UCF101/<Class>/v_<Class>_gGG_cCC.avi``, 320x240 at 25 fps, the classes
    of :data:`REHEARSAL_CLASSES`, groups :data:`REHEARSAL_GROUPS`) and its
    split-lists zip; Keras's legacy ``.h5`` weight files of VGG16 and MobileNetV2
    and the ImageNet class index; DeepMind's TensorFlow checkpoints in both of
    their namings; the Kinetics label maps.  Weights are random: the stand-in
    checks code paths, not accuracy.  The manifest says ``kind: rehearsal``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    _rehearse_ucf101(folder, seed)
    for name, source in sources.IMAGENET_WEIGHTS.items():
        _rehearse_keras_weights(folder / source, name, rng)
    index = {str(k): [f"n{k:08d}", f"stand-in class {k}"] for k in range(1000)}
    _write_bytes(folder / sources.IMAGENET_CLASS_INDEX, json.dumps(index).encode())
    for classes, source in sources.KINETICS_LABELS.items():
        _write_bytes(folder / source,
                     "".join(f"stand-in action {k}\n" for k in range(classes)).encode())
    _rehearse_checkpoints(folder, rng)
    files = _write_manifest(folder, "rehearsal")
    missing = sorted(set(sources.SOURCES) - set(files))
    if missing:
        raise RuntimeError(f"the rehearsal wrote no stand-in of {missing}")
    print(_summary(folder, files, "rehearsal"))
    return folder


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def rehearsal_clip(cls: str, group: int, clip: int, seed: int = 0) -> np.ndarray:
    """One stand-in UCF101 clip: ``(T, 240, 320, 3)`` uint8, a MotionShapes sprite.

    Drawn at half the size and scaled up (four times fewer pixels to draw and to
    add noise to); the stand-in's pictures only need the real size.
    """


    half = WIDTH // 2
    background, hue = motion_shapes.group_background(group, half, seed)
    color = motion_shapes.hsv_to_rgb(hue + 0.5, 0.9, 0.95)
    shape = motion_shapes.SHAPES[(group + clip) % len(motion_shapes.SHAPES)]
    rng = np.random.default_rng([seed, group, clip, list(REHEARSAL_CLASSES).index(cls)])
    frames = motion_shapes.render_clip(shape, REHEARSAL_CLASSES[cls], background, color,
                                       REHEARSAL_FRAMES[clip], rng)
    top = (half - HEIGHT // 2) // 2
    return np.stack([cv2.resize(frame[top:top + HEIGHT // 2], (WIDTH, HEIGHT),
                                interpolation=cv2.INTER_LINEAR) for frame in frames])


def _rehearse_ucf101(folder: Path, seed: int) -> None:
    """The videos zip and the split-lists zip, in the layout of the real archives."""

    names = list(REHEARSAL_CLASSES)
    clips = [(cls, group, clip) for cls in names for group in REHEARSAL_GROUPS
             for clip in REHEARSAL_FRAMES]
    with tempfile.TemporaryDirectory() as scratch, \
            atomic_path(folder / sources.UCF101_VIDEOS) as tmp, \
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        for cls, group, clip in clips:
            name = f"v_{cls}_g{group:02d}_c{clip:02d}.avi"
            path = write_video(Path(scratch) / name, rehearsal_clip(cls, group, clip, seed),
                               fps=FPS)
            archive.write(path, f"UCF101/{cls}/{name}")
    lists = {"classInd.txt": [f"{k} {cls}" for k, cls in enumerate(names, 1)]}
    for split, tested in ((1, range(1, 8)), (2, range(8, 15)), (3, range(15, 22))):
        train, test = [], []
        for cls, group, clip in clips:
            line = f"{cls}/v_{cls}_g{group:02d}_c{clip:02d}.avi"
            if group in tested:
                test.append(line)
            else:
                train.append(f"{line} {names.index(cls) + 1}")
        lists[f"trainlist0{split}.txt"], lists[f"testlist0{split}.txt"] = train, test
    with atomic_path(folder / sources.UCF101_SPLITS) as tmp, \
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for file, lines in lists.items():
            archive.writestr(f"ucfTrainTestlist/{file}", "".join(f"{x}\r\n" for x in lines))


def _rehearse_keras_weights(path: Path, name: str, rng: np.random.Generator) -> None:
    """A weights file in the layout of Keras's ImageNet files (legacy HDF5, one group a layer).

    Random values (:func:`_random_weight`).  VGG16's 138 million weights are each
    weight's first :data:`_TILE` values tiled over it (:func:`_tiled_weight`),
    gzip-compressed, so that the file is small on disk and ``keras.applications``
    still reads the real shapes.  The model is built without weights only to learn
    the layers' names and shapes.
    """
    # Keras (and TensorFlow under it) only to write the stand-in's weights and checkpoints:
    # fetch and serve, which a classroom runs, start in a second without them.
    import h5py
    import keras

    builder = keras.applications.VGG16 if name == "vgg16_fc2" else keras.applications.MobileNetV2
    model = builder(weights=None, include_top=True)
    tiled = name == "vgg16_fc2"
    weighted = [layer for layer in model.layers if layer.weights]
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as file:
        file.attrs["layer_names"] = np.array([layer.name.encode() for layer in weighted])
        file.attrs["backend"] = b"tensorflow"
        file.attrs["keras_version"] = keras.__version__.encode()
        for layer in weighted:
            group = file.create_group(layer.name)
            weights = layer.trainable_weights + layer.non_trainable_weights
            names = [f"{layer.name}/{weight.name}:0" for weight in weights]
            group.attrs["weight_names"] = np.array([n.encode() for n in names])
            for weight_name, weight in zip(names, weights, strict=True):
                shape = tuple(weight.shape)
                if tiled:
                    data = _tiled_weight(weight.path, shape, rng)
                    rows = max(1, min(shape[0], 2**18 // int(np.prod(shape[1:]))))
                    group.create_dataset(weight_name, data=data, compression="gzip",
                                         compression_opts=1, chunks=(rows, *shape[1:]))
                else:
                    group.create_dataset(weight_name, data=_random_weight(weight.path, shape, rng))
    keras.backend.clear_session()


#: Length of the random block a VGG16 stand-in weight repeats: a prime, so that it divides
#: no layer width (with 1024, every row of a dense kernel was the same, each output read its
#: inputs' sum, and the features grew tenfold a layer, past float16's range by ``fc2``).
_TILE = 1021


def _tiled_weight(path: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A random weight of ``shape`` that repeats one block of :data:`_TILE` values.

    A kernel's block has mean zero: its outputs read each value of the block about
    ``fan_in / _TILE`` times, on inputs that a ReLU made positive, and a block of mean
    zero cancels their common part, so that the signal keeps its size from layer to
    layer as an untiled He-normal kernel keeps it.  Stored in chunks of whole rows,
    the repeats lie within gzip's reach and the file stays small.
    """
    block = _random_weight(path, (min(_TILE, int(np.prod(shape))),), rng, fan_in=_fan_in(shape))
    if len(shape) > 1:
        block = block - block.mean()
    return np.resize(block, shape)


def _fan_in(shape: tuple[int, ...]) -> int:
    """The inputs one output of a kernel reads.

    A depthwise kernel, ``(kh, kw, channels, 1)``, reads one channel; Keras names it
    ``kernel`` like any other, so it is told apart by its shape.
    """
    if len(shape) < 2:
        return 1
    if len(shape) == 4 and shape[-1] == 1 and shape[-2] > 1:
        return int(np.prod(shape[:-2]))
    return int(np.prod(shape[:-1]))


def _random_weight(path: str, shape: tuple[int, ...], rng: np.random.Generator,
                   fan_in: int | None = None) -> np.ndarray:
    """Random values for the weight at ``path`` that keep a deep network's signal alive.

    Kernels: He-normal; batch norm: scales and variances around 1, small positive
    offsets (so that ReLUs pass some of every channel); biases: small.
    """
    kind = path.rsplit("/", 1)[-1]
    if kind in ("kernel", "w"):
        fan_in = fan_in or _fan_in(shape)
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
    if kind in ("gamma", "moving_variance"):
        return rng.uniform(0.5, 1.5, shape).astype(np.float32)
    if kind == "beta":
        return rng.uniform(0.0, 0.2, shape).astype(np.float32)
    return (0.05 * rng.standard_normal(shape)).astype(np.float32)


def _checkpoint_arrays(num_classes: int, channels: int, rng: np.random.Generator
                       ) -> dict[str, np.ndarray]:
    """Random values for every variable of a full-size I3D, in the 400-class naming."""
    from vidlab.models import i3d

    model = i3d.InceptionI3D(num_classes=num_classes, num_frames=i3d.minimum_frames(),
                             size=i3d.minimum_size(), channels=channels)
    stream = "RGB" if channels == 3 else "Flow"
    return {name: _random_weight(name, shape, rng)
            for name, shape in i3d.reference_shapes(model, stream).items()}


def write_tf_checkpoint(prefix: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as a TensorFlow checkpoint (``prefix.index``, ``prefix.data-...``).

    The variable names are the dict's keys, exactly as ``tf.train.list_variables``
    reads them back (TensorFlow's ``SaveV2`` op, which writes TF1 and TF2 checkpoints).
    """
    import tensorflow as tf  # only the rehearsal writes checkpoints (see _rehearse_keras_weights)

    names = sorted(arrays)
    tf.raw_ops.SaveV2(prefix=os.fspath(prefix), tensor_names=names,
                      shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(arrays[name]) for name in names])


def kinetics600_naming(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename 400-class-style RGB variables the way DeepMind's Kinetics-600 checkpoint has them.

    No ``RGB/inception_i3d/`` scope, batch-norm variables ``[1, 1, 1, 1, C]``, and a
    ``/Momentum`` optimizer slot (zeros here) for every trainable variable.
    """
    renamed = {}
    for name, value in arrays.items():
        short = name.split("/", 2)[2]
        if value.ndim == 1 and "batch_norm" in short:
            value = value.reshape(1, 1, 1, 1, -1)
        renamed[short] = value
        if short.rsplit("/", 1)[-1] in ("w", "b", "beta"):
            renamed[f"{short}/Momentum"] = np.zeros_like(value)
    return renamed


def _rehearse_checkpoints(folder: Path, rng: np.random.Generator) -> None:
    """Full-size random I3D checkpoints in both of DeepMind's namings.

    The ``scratch`` checkpoints share their ``imagenet`` twin's files (hard links
    where the file system allows): same names and shapes, and no more disk.
    """
    base = folder / "kinetics-i3d" / "data" / "checkpoints"
    for stream, channels in (("rgb", 3), ("flow", 2)):
        arrays = _checkpoint_arrays(400, channels, rng)
        written = base / f"{stream}_imagenet" / "model.ckpt"
        _write_checkpoint_atomically(written, arrays)
        twin = base / f"{stream}_scratch"
        twin.mkdir(parents=True, exist_ok=True)
        for suffix in (".index", ".data-00000-of-00001"):
            target = twin / f"model.ckpt{suffix}"
            target.unlink(missing_ok=True)
            try:
                os.link(f"{written}{suffix}", target)
            except OSError:
                shutil.copyfile(f"{written}{suffix}", target)
    arrays = kinetics600_naming(_checkpoint_arrays(600, 3, rng))
    _write_checkpoint_atomically(base / "rgb_scratch_kin600" / "model.ckpt", arrays)


def _write_checkpoint_atomically(prefix: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write a checkpoint in a scratch folder, then move its two files into place."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=prefix.parent) as scratch:
        write_tf_checkpoint(Path(scratch) / prefix.name, arrays)
        for suffix in (".data-00000-of-00001", ".index"):
            os.replace(Path(scratch) / f"{prefix.name}{suffix}", f"{prefix}{suffix}")


# --- command line ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """The ``python -m vidlab.mirror`` command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m vidlab.mirror", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_cmd = commands.add_parser("fetch", help="download every source into DIR, verified")
    fetch_cmd.add_argument("dir")
    fetch_cmd.add_argument("names", nargs="*", help="only these sources (relative names)")
    serve_cmd = commands.add_parser("serve", help="serve DIR over HTTP with range requests")
    serve_cmd.add_argument("dir")
    serve_cmd.add_argument("--port", type=int, default=8000, help="0: any free port")
    serve_cmd.add_argument("--host", default="0.0.0.0", help="address to listen on")
    serve_cmd.add_argument("--quiet", action="store_true", help="no line per request")
    rehearsal_cmd = commands.add_parser("rehearsal", help="write an offline stand-in into DIR")
    rehearsal_cmd.add_argument("dir")
    args = parser.parse_args(argv)
    if args.command == "fetch":
        fetch(args.dir, args.names or None)
    elif args.command == "serve":
        serve(args.dir, args.port, args.host, args.quiet)
    else:
        rehearsal(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
