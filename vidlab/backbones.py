"""Pretrained 2D image backbones that turn a frame into a feature vector.

================  =======  ======================================================
name              profile  what it is
================  =======  ======================================================
shapes_vgg        quick    small VGG-style CNN pretrained on MotionShapes still
                           images (weights in ``data/``), features from ``fc2``
shapes_inception  quick    width-reduced 2D Inception-V1 pretrained on the same
                           still images (weights in ``data/``), features from
                           its global average pool; notebook 05 inflates it
vgg16_fc2         full     VGG16 with ImageNet weights, features from ``fc2`` (4096)
mobilenet_v2      full     MobileNetV2 with ImageNet weights, global average pool
================  =======  ======================================================

:func:`get_backbone` builds all of them except ``vgg16_fc2``: notebook 01 teaches that
recipe, so its cells cut VGG16 at ``fc2`` themselves (and ``shapes_vgg`` the same way), and
:func:`wrap` adds what the package needs to extract and cache the features.

The ImageNet weight files and class names come from :mod:`vidlab.sources` (so
``VIDLAB_MIRROR`` can stand in for them), verified there, and are given to
``keras.applications`` as a path (``weights=imagenet_weights(name)``): Keras loads that
file as it loads its own download, and never contacts the internet or reads ``~/.keras``.
(Putting the file where Keras looks would not do: Keras checks the MD5s it pins and would
fetch the real file again over a mirror's stand-in.)  A backbone's ``weights_id`` holds
the SHA-256 of its weights file, so cached features never outlive a change of weights.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers

from vidlab import config, sources
from vidlab.datasets.motion_shapes import SHAPES
from vidlab.download import DownloadError, file_sha256
from vidlab.models.i3d import preprocess_rgb
from vidlab.models.inception2d import FEATURES, InceptionV1Mini
from vidlab.video import resize_frames

QUICK_BACKBONES = ("shapes_vgg", "shapes_inception")
FULL_BACKBONES = ("vgg16_fc2", "mobilenet_v2")
DEFAULT = {"quick": "shapes_vgg", "full": "mobilenet_v2"}
#: The pose classes of ``shapes_vgg``: the names of its binned-pose heads.
POSE_CLASSES = ("x", "y", "size", "turn")
#: How many bins each of them has.
POSE_BINS = 8
#: Width of ``shapes_inception`` relative to Inception-V1's.
INCEPTION_WIDTH = 0.25
#: The file in ``data/`` that records the sha256 of every committed weights file.
MANIFEST = "MANIFEST.json"


@dataclass
class Backbone:
    """A frame-to-feature model with the preprocessing its weights expect.

    Attributes
    ----------
    name : str
    model : keras.Model
        Maps ``(B, input_size, input_size, 3)`` preprocessed frames to ``(B, feature_dim)``.
    preprocess : callable
        Maps RGB frames in [0, 255] (already resized) to the model's input.
    input_size : int
    feature_dim : int
    classifier : keras.Model or None
        The whole pretrained network, heads included (to show what it "sees").
    weights_id : str
        Identifies the weights, so cached features are never reused across them.
    """

    name: str
    model: object
    preprocess: Callable[[np.ndarray], np.ndarray]
    input_size: int
    feature_dim: int
    classifier: object | None
    weights_id: str

    def prepare(self, frames: np.ndarray) -> np.ndarray:
        """Frames ``(B, H, W, 3)`` in [0, 255], resized to the input size and preprocessed.

        The one place where frames meet a backbone: feature extraction, the labels of
        :func:`describe_frames` and the notebooks' own pipelines all go through it.
        """
        frames = np.asarray(frames)
        size = self.input_size
        if frames.shape[1:3] != (size, size):
            frames = resize_frames(frames, (size, size))
        return np.asarray(self.preprocess(frames.astype(np.float32)), np.float32)


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights could not be loaded (offline, or a damaged weights file)."""


def build_shapes_vgg(size: int = 64, num_shapes: int = 4, pose_bins: int = POSE_BINS
                     ) -> keras.Model:
    """A small VGG-style CNN: three conv blocks, then ``fc1`` and ``fc2``, then the heads.

    Like VGG16, the last conv block is flattened into ``fc1``, so ``fc1``/``fc2``
    know *where* things are.  A global max pool of the same block is
    concatenated beside it: it answers "is this shape anywhere?" and makes the
    shape task learnable in a few epochs on a CPU.  Inputs are RGB scaled to
    [0, 1] (:func:`preprocess_shapes_vgg`); outputs are ``{"shape": softmax over
    shapes, "pose": 5 regressed pose values}`` and one softmax over ``pose_bins``
    per pose class (:data:`POSE_CLASSES`).  Notebook 01 writes the same network
    on its page; a test proves the two alike.
    """
    inputs = keras.Input((size, size, 3), name="image")
    x = inputs
    for block, filters in enumerate((32, 64, 128), start=1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu",
                          name=f"block{block}_conv")(x)
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    where = layers.Flatten(name="flatten")(x)
    what = layers.GlobalMaxPooling2D(name="global_max")(x)
    x = layers.Concatenate(name="where_and_what")([where, what])
    x = layers.Dense(256, activation="relu", name="fc1")(x)
    x = layers.Dense(256, activation="relu", name="fc2")(x)
    shape = layers.Dense(num_shapes, activation="softmax", name="shape")(x)
    outputs = {"shape": shape, "pose": layers.Dense(5, name="pose")(x)}
    for name in POSE_CLASSES:
        outputs[name] = layers.Dense(pose_bins, activation="softmax", name=name)(x)
    return keras.Model(inputs, outputs, name="shapes_vgg")


def preprocess_shapes_vgg(images: np.ndarray) -> np.ndarray:
    """Scale RGB uint8 (or float in [0, 255]) images to float32 in [0, 1]."""
    return np.asarray(images, np.float32) / 255.0


def build_shapes_inception(size: int = 64, num_shapes: int = 4) -> keras.Model:
    """The width-reduced 2D Inception-V1 of :mod:`vidlab.models.inception2d`, with both heads.

    Inputs are RGB scaled to [-1, 1], as I3D reads them
    (:func:`vidlab.models.i3d.preprocess_rgb`).
    """
    return InceptionV1Mini(size, num_shapes, width=INCEPTION_WIDTH)


def _quick_weights(name: str):
    path = config.DATA_DIR / f"{name}.weights.h5"
    manifest_path = config.DATA_DIR / MANIFEST
    if not path.is_file() or not manifest_path.is_file():
        raise WeightsUnavailableError(
            f"{path} is missing. It ships with the repository; restore it with "
            "`git checkout data/` or rebuild it with `python -m vidlab.pretrain`."
        )
    expected = json.loads(manifest_path.read_text()).get(path.name, {}).get("sha256")
    actual = file_sha256(path)
    if actual != expected:
        raise WeightsUnavailableError(
            f"{path} does not match its sha256 in {manifest_path} (expected {expected}, "
            f"got {actual}). Restore it with `git checkout data/` or rebuild both with "
            "`python -m vidlab.pretrain`."
        )
    return path, actual[:16]


def weights_file(name: str) -> Path:
    """The committed weights of a quick backbone, ``data/<name>.weights.h5``.

    Returns
    -------
    Path
        The file, for ``keras.Model.load_weights``.

    Raises
    ------
    WeightsUnavailableError
        The file is missing or does not match its sha256 in ``data/MANIFEST.json``.
    """
    return _quick_weights(name)[0]


def imagenet_weights(name: str) -> Path:
    """The ImageNet weights file of ``vgg16_fc2`` or ``mobilenet_v2``, fetched once.

    From the publisher, or from ``VIDLAB_MIRROR`` (:func:`vidlab.sources.fetch`); pass it
    to ``keras.applications`` as ``weights=``.

    Raises
    ------
    WeightsUnavailableError
        The file cannot be fetched or fails its checksum; the message says which and why.
    """
    try:
        return sources.fetch(sources.IMAGENET_WEIGHTS[name])
    except DownloadError as error:
        raise WeightsUnavailableError(
            f"Could not fetch the ImageNet weights of {name}: {error}") from error


def _preprocessing(name: str) -> tuple[int, Callable[[np.ndarray], np.ndarray]]:
    """The input size and the preprocessing that the weights of backbone ``name`` expect."""
    if name == "shapes_vgg":
        return 64, preprocess_shapes_vgg
    if name == "shapes_inception":
        return 64, preprocess_rgb
    module = keras.applications.vgg16 if name == "vgg16_fc2" else keras.applications.mobilenet_v2
    return 224, lambda x: module.preprocess_input(np.array(x, np.float32))


def wrap(name: str, model, classifier=None, pretrained: bool = True) -> Backbone:
    """A :class:`Backbone` around ``model``, a feature extractor cut from a pretrained network.

    Parameters
    ----------
    name : str
        One of ``QUICK_BACKBONES + FULL_BACKBONES``: the network ``model`` was cut from.
        It decides the input size and the preprocessing, and names the weights in the key
        of the feature cache by the sha256 of their file.
    model : keras.Model
        Maps preprocessed frames ``(B, size, size, 3)`` to features ``(B, D)``.
    classifier : keras.Model, optional
        The whole pretrained network, heads included (:func:`describe_frames` uses it).
    pretrained : bool
        False when the weights are random, so their features are cached apart.

    Returns
    -------
    Backbone
        With ``model`` as given and ``feature_dim`` its output's last dimension.
    """
    if name not in QUICK_BACKBONES + FULL_BACKBONES:
        raise ValueError(f"Unknown backbone {name!r}; expected one of "
                         f"{QUICK_BACKBONES + FULL_BACKBONES}.")
    size, preprocess = _preprocessing(name)
    if not pretrained:
        weights_id = "random"
    elif name in QUICK_BACKBONES:
        weights_id = _quick_weights(name)[1]
    else:
        weights_id = file_sha256(imagenet_weights(name))[:16]
    return Backbone(name, model, preprocess, size, model.output_shape[-1], classifier,
                    f"{name}:{weights_id}")


def _shapes_vgg(weights: bool) -> Backbone:
    classifier = build_shapes_vgg()
    if weights:
        classifier.load_weights(weights_file("shapes_vgg"))
    model = keras.Model(classifier.input, classifier.get_layer("fc2").output, name="shapes_vgg_fc2")
    return wrap("shapes_vgg", model, classifier, pretrained=weights)


def _shapes_inception(weights: bool) -> Backbone:
    classifier = build_shapes_inception()
    if weights:
        try:
            path = weights_file("shapes_inception")
        except WeightsUnavailableError as error:
            raise WeightsUnavailableError(
                f"{error} This backbone's command is "
                "`python -m vidlab.pretrain --backbone shapes_inception`."
            ) from None
        classifier.load_weights(path)
    model = keras.Model(classifier.input, classifier.get_layer(FEATURES).output,
                        name="shapes_inception_features")
    return wrap("shapes_inception", model, classifier, pretrained=weights)


def _mobilenet_v2(weights: bool) -> Backbone:
    path = imagenet_weights("mobilenet_v2") if weights else None
    try:
        classifier = keras.applications.MobileNetV2(weights=path, include_top=True)
    except (ValueError, OSError) as error:  # a damaged or foreign weights file
        raise WeightsUnavailableError(
            f"{path} is not a weights file of mobilenet_v2 ({error}). Delete it and run again "
            "to download it anew.") from error
    pooled = keras.Model(classifier.input, classifier.layers[-2].output)
    # A copy with its own weights: fine-tuning the features leaves the classifier be.
    model = keras.models.clone_model(pooled)
    model.set_weights(pooled.get_weights())
    return wrap("mobilenet_v2", model, classifier, pretrained=weights)


def get_backbone(name: str | None = None, profile: str | None = None,
                 weights: bool = True) -> Backbone:
    """Return a pretrained backbone by ``name`` (default: the profile's default).

    ``weights=False`` builds the same architecture with random weights (offline
    benchmarks of the full-profile models).  ``vgg16_fc2`` is not built here: notebook 01
    cuts ``keras.applications.VGG16`` at ``fc2`` in its own cells and passes it to :func:`wrap`.
    """
    profile = config.profile() if profile is None else profile
    name = DEFAULT[profile] if name is None else name
    builders = {"shapes_vgg": _shapes_vgg, "shapes_inception": _shapes_inception,
                "mobilenet_v2": _mobilenet_v2}
    if name not in builders:
        raise ValueError(f"Unknown backbone {name!r}; get_backbone builds {tuple(builders)} "
                         "(notebook 01 builds vgg16_fc2 itself, then calls backbones.wrap).")
    return builders[name](weights)


def describe_frames(backbone: Backbone, frames: np.ndarray) -> list[str]:
    """What the pretrained network "sees" in each frame, as a short label.

    ``shapes_vgg``, ``shapes_inception``: the predicted sprite kind and its probability; ImageNet
    backbones: the top ImageNet class and its probability.
    """
    x = backbone.prepare(frames)
    outputs = backbone.classifier.predict_on_batch(x)
    if backbone.name in QUICK_BACKBONES:
        probs = np.asarray(outputs["shape"])
        return [f"{SHAPES[p.argmax()]} {p.max():.2f}" for p in probs]
    names = imagenet_class_names()
    probs = np.asarray(outputs)
    return [f"{names[p.argmax()]} {p.max():.2f}" for p in probs]


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet class names by output index (``imagenet_class_index.json``).

    Read from :mod:`vidlab.sources` (so a mirror can stand in for it) rather than
    through ``keras.applications.imagenet_utils.decode_predictions``, which
    downloads the file itself.
    """
    index = json.loads(sources.fetch(sources.IMAGENET_CLASS_INDEX, progress=False).read_text())
    return [index[str(k)][1] for k in range(len(index))]
