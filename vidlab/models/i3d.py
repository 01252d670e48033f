"""Inception-I3D (Carreira & Zisserman, 2017) as a functional Keras model.

I3D is Inception-V1 (GoogLeNet with batch normalisation) with every 2D
convolution and pooling "inflated" to 3D.  This module builds it with the same
endpoints, channel counts and variable scopes as DeepMind's ``kinetics-i3d``
code, so that :func:`load_kinetics_weights` can map the released checkpoints
onto it by name.

Architecture
------------
Every convolution is a *unit*: ``Conv3D`` (no bias, SAME padding) ->
``BatchNormalization`` (no scale, epsilon 1e-3) -> ReLU.  Input is NDHWC,
``(batch, frames, height, width, channels)``.  Shapes at 64 frames of 224 x 224:

================  ============================  =========================
endpoint          what                          output (T, H, W, C)
================  ============================  =========================
Conv3d_1a_7x7     unit 7x7x7, stride 2          32 x 112 x 112 x 64
MaxPool3d_2a_3x3  max pool 1x3x3, stride 1x2x2  32 x 56 x 56 x 64
Conv3d_2b_1x1     unit 1x1x1                    32 x 56 x 56 x 64
Conv3d_2c_3x3     unit 3x3x3                    32 x 56 x 56 x 192
MaxPool3d_3a_3x3  max pool 1x3x3, stride 1x2x2  32 x 28 x 28 x 192
Mixed_3b, 3c      inception blocks              32 x 28 x 28 x 256, 480
MaxPool3d_4a_3x3  max pool 3x3x3, stride 2      16 x 14 x 14 x 480
Mixed_4b .. 4f    inception blocks              16 x 14 x 14 x 512 .. 832
MaxPool3d_5a_2x2  max pool 2x2x2, stride 2      8 x 7 x 7 x 832
Mixed_5b, 5c      inception blocks              8 x 7 x 7 x 832, 1024
Logits            see below                     num_classes
Predictions       softmax of the logits         num_classes
================  ============================  =========================

An inception block runs four branches on its input and concatenates them on
channels: a 1x1x1 unit; a 1x1x1 unit then a 3x3x3 unit; another such pair; a
3x3x3 max pool (stride 1) then a 1x1x1 unit.  The head averages 2x7x7 windows
(VALID padding, stride 1), applies dropout and a 1x1x1 convolution *with* bias
(no batch norm, no ReLU) to ``num_classes`` channels, and averages the
logits of the remaining positions over time.  From 193 to 224 pixels one
spatial position is left, which the reference squeezes away; here the average
runs over time *and* space, which is the same there and keeps larger inputs
usable.

Layer names
-----------
Keras layer names may not contain ``/``, so the reference scope
``Mixed_3b/Branch_1/Conv3d_0b_3x3/conv_3d`` is the Keras layer
``Mixed_3b.Branch_1.Conv3d_0b_3x3.conv_3d``: ``/`` becomes ``.`` (no reference
name contains a dot, so :func:`keras_name` and :func:`reference_name` invert
each other).  A unit ``X`` is three layers, ``X.conv_3d``, ``X.batch_norm`` and
the ReLU ``X``; every endpoint is the layer named after it, so
``model.get_layer("Mixed_4f").output`` is that endpoint's feature map.

Preprocessing
-------------
The RGB stream reads frames scaled to [-1, 1] (:func:`preprocess_rgb`); the flow
stream reads TV-L1 optical flow clipped to [-20, 20] and scaled to [-1, 1]
(:func:`preprocess_flow`), two channels (x and y displacement).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers

from vidlab import sources
from vidlab.download import atomic_path, file_sha256
from vidlab.flow import normalize_flow

#: Separator of the reference variable scopes, and what stands for it in Keras layer names.
REFERENCE_SEPARATOR, KERAS_SEPARATOR = "/", "."
#: Top-level scopes of the two streams in the DeepMind checkpoints.
STREAMS = ("RGB", "Flow")
#: The model's scope inside a stream: ``RGB/inception_i3d/...``.
SCOPE = "inception_i3d"
#: Batch normalisation as in the reference (Sonnet's BatchNorm defaults, no scale).
BN_EPSILON, BN_MOMENTUM = 1e-3, 0.999
#: Window of the head's average pool (frames, height, width), VALID padding.
HEAD_POOL = (2, 7, 7)
#: Largest absolute flow value kept by :func:`preprocess_flow`.
FLOW_CLIP = 20.0
#: Longest list of offending names an error message spells out per kind of problem.
_MAX_LISTED = 10
#: The last part of the name of every variable a model needs; anything else in a
#: checkpoint (the ``.../Momentum`` slots of an optimizer, a step counter) is not the model.
_WEIGHT_NAMES = ("w", "b", "beta", "gamma", "moving_mean", "moving_variance")


def keras_name(reference: str) -> str:
    """Return the Keras layer name for a reference scope (``/`` -> ``.``).

    Raises
    ------
    ValueError
        If ``reference`` contains a dot, which would make the encoding ambiguous.
    """
    if KERAS_SEPARATOR in reference:
        raise ValueError(f"Reference names contain no {KERAS_SEPARATOR!r}: got {reference!r}.")
    return reference.replace(REFERENCE_SEPARATOR, KERAS_SEPARATOR)


def reference_name(layer_name: str) -> str:
    """Return the reference scope of a Keras layer name (``.`` -> ``/``); inverse of keras_name.

    Raises
    ------
    ValueError
        If ``layer_name`` contains a ``/`` (no Keras layer name can).
    """
    if REFERENCE_SEPARATOR in layer_name:
        raise ValueError(
            f"Keras layer names contain no {REFERENCE_SEPARATOR!r}: got {layer_name!r}."
        )
    return layer_name.replace(KERAS_SEPARATOR, REFERENCE_SEPARATOR)


def _scaled(channels: int, width: float) -> int:
    """Return ``channels * width`` rounded, at least 1."""
    return max(1, round(channels * width))


def _unit(
    x: keras.KerasTensor,
    scope: str,
    filters: int,
    kernel: tuple[int, int, int],
    strides: tuple[int, int, int] = (1, 1, 1),
) -> keras.KerasTensor:
    """Apply the reference's Unit3D: Conv3D (no bias, SAME) -> BN (no scale) -> ReLU."""
    x = layers.Conv3D(
        filters,
        kernel,
        strides,
        padding="same",
        use_bias=False,
        name=keras_name(f"{scope}/conv_3d"),
    )(x)
    x = layers.BatchNormalization(
        scale=False,
        epsilon=BN_EPSILON,
        momentum=BN_MOMENTUM,
        name=keras_name(f"{scope}/batch_norm"),
    )(x)
    return layers.ReLU(name=keras_name(scope))(x)


@dataclass(frozen=True)
class _Conv:
    """An endpoint that is a single unit."""

    name: str
    filters: int
    kernel: tuple[int, int, int]
    strides: tuple[int, int, int] = (1, 1, 1)

    def __call__(self, x: keras.KerasTensor, width: float) -> keras.KerasTensor:
        return _unit(x, self.name, _scaled(self.filters, width), self.kernel, self.strides)


@dataclass(frozen=True)
class _MaxPool:
    """An endpoint that is a max pool (SAME padding)."""

    name: str
    size: tuple[int, int, int]
    strides: tuple[int, int, int]

    def __call__(self, x: keras.KerasTensor, width: float) -> keras.KerasTensor:
        return layers.MaxPooling3D(self.size, self.strides, padding="same", name=self.name)(x)


@dataclass(frozen=True)
class _Mixed:
    """An inception block; ``channels`` is (B0, B1a, B1b, B2a, B2b, B3b).

    ``branch_2_conv`` is the scope of Branch_2's 3x3x3 unit: ``Conv3d_0b_3x3``
    everywhere except in Mixed_5b, where the reference calls it ``Conv3d_0a_3x3``.
    """

    name: str
    channels: tuple[int, int, int, int, int, int]
    branch_2_conv: str = "Conv3d_0b_3x3"
    strides: tuple[int, int, int] = (1, 1, 1)

    def __call__(self, x: keras.KerasTensor, width: float) -> keras.KerasTensor:
        b0, b1a, b1b, b2a, b2b, b3b = (_scaled(c, width) for c in self.channels)
        scope = self.name
        branch_0 = _unit(x, f"{scope}/Branch_0/Conv3d_0a_1x1", b0, (1, 1, 1))
        branch_1 = _unit(x, f"{scope}/Branch_1/Conv3d_0a_1x1", b1a, (1, 1, 1))
        branch_1 = _unit(branch_1, f"{scope}/Branch_1/Conv3d_0b_3x3", b1b, (3, 3, 3))
        branch_2 = _unit(x, f"{scope}/Branch_2/Conv3d_0a_1x1", b2a, (1, 1, 1))
        branch_2 = _unit(branch_2, f"{scope}/Branch_2/{self.branch_2_conv}", b2b, (3, 3, 3))
        branch_3 = layers.MaxPooling3D(
            3, 1, padding="same", name=keras_name(f"{scope}/Branch_3/MaxPool3d_0a_3x3")
        )(x)
        branch_3 = _unit(branch_3, f"{scope}/Branch_3/Conv3d_0b_1x1", b3b, (1, 1, 1))
        return layers.Concatenate(name=scope)([branch_0, branch_1, branch_2, branch_3])


#: The network up to Mixed_5c, one entry per endpoint, in order.
_BODY = (
    _Conv("Conv3d_1a_7x7", 64, (7, 7, 7), (2, 2, 2)),
    _MaxPool("MaxPool3d_2a_3x3", (1, 3, 3), (1, 2, 2)),
    _Conv("Conv3d_2b_1x1", 64, (1, 1, 1)),
    _Conv("Conv3d_2c_3x3", 192, (3, 3, 3)),
    _MaxPool("MaxPool3d_3a_3x3", (1, 3, 3), (1, 2, 2)),
    _Mixed("Mixed_3b", (64, 96, 128, 16, 32, 32)),
    _Mixed("Mixed_3c", (128, 128, 192, 32, 96, 64)),
    _MaxPool("MaxPool3d_4a_3x3", (3, 3, 3), (2, 2, 2)),
    _Mixed("Mixed_4b", (192, 96, 208, 16, 48, 64)),
    _Mixed("Mixed_4c", (160, 112, 224, 24, 64, 64)),
    _Mixed("Mixed_4d", (128, 128, 256, 24, 64, 64)),
    _Mixed("Mixed_4e", (112, 144, 288, 32, 64, 64)),
    _Mixed("Mixed_4f", (256, 160, 320, 32, 128, 128)),
    _MaxPool("MaxPool3d_5a_2x2", (2, 2, 2), (2, 2, 2)),
    _Mixed("Mixed_5b", (256, 160, 320, 32, 128, 128), branch_2_conv="Conv3d_0a_3x3"),
    _Mixed("Mixed_5c", (384, 192, 384, 48, 128, 128)),
)

#: Every endpoint, in order; any of them can be a ``final_endpoint``.
ENDPOINTS = tuple(block.name for block in _BODY) + ("Logits", "Predictions")
#: Endpoints that include the head, and so need a minimum input size.
_HEAD_ENDPOINTS = ("Logits", "Predictions")


def _strided(axis: int) -> list[tuple[str, int]]:
    """Return ``(endpoint, stride)`` for every endpoint that downsamples along ``axis``.

    ``axis`` is 0 for time and 1 for space (height and width share their strides).
    """
    return [(block.name, block.strides[axis]) for block in _BODY if block.strides[axis] > 1]


def _downsampled(length: int, axis: int) -> int:
    """Return what is left of ``length`` at Mixed_5c (SAME padding: ceil division per stride)."""
    for _, stride in _strided(axis):
        length = math.ceil(length / stride)
    return length


def _minimum_input(axis: int) -> int:
    """Return the smallest input length that leaves the head's pool window along ``axis``.

    With SAME padding a stride ``s`` maps ``n`` to ``ceil(n / s)``, and
    ``ceil(n / s) >= m`` exactly when ``n >= s * (m - 1) + 1``; this inverts the
    strides from the head back to the input.
    """
    needed = HEAD_POOL[axis]
    for _, stride in reversed(_strided(axis)):
        needed = stride * (needed - 1) + 1
    return needed


def minimum_frames() -> int:
    """Return the fewest input frames the Logits head accepts (9).

    Time is downsampled by stride 2 three times (Conv3d_1a_7x7, MaxPool3d_4a_3x3,
    MaxPool3d_5a_2x2), and the head's average pool needs 2 frames at Mixed_5c.
    """
    return _minimum_input(0)


def minimum_size() -> int:
    """Return the smallest frame height and width the Logits head accepts (193).

    Space is downsampled by stride 2 five times, and the head's average pool
    needs 7 x 7 positions at Mixed_5c.
    """
    return _minimum_input(1)


def _check_head_input(num_frames: int, size: int) -> None:
    """Raise ValueError if the head's VALID average pool would get too small an input."""
    checks = (("num_frames", num_frames, 0, "frame(s)"), ("size", size, 1, "pixel(s) per side"))
    for argument, value, axis, unit in checks:
        minimum = _minimum_input(axis)
        if value >= minimum:
            continue
        strides = ", ".join(f"{stride} in {name}" for name, stride in _strided(axis))
        raise ValueError(
            f"{argument}={value} is too small for the Logits head: the SAME-padded strides "
            f"({strides}) leave {_downsampled(value, axis)} {unit} at Mixed_5c, and the head's "
            f"AveragePooling3D {HEAD_POOL} with VALID padding needs {HEAD_POOL[axis]}. "
            f"Use {argument} >= {minimum}, or stop before the head with "
            f"final_endpoint='Mixed_5c'."
        )


def _check_arguments(
    num_classes: int, num_frames: int, size: int, channels: int, width: float, final_endpoint: str
) -> None:
    """Raise ValueError for arguments InceptionI3D cannot build a model from."""
    if final_endpoint not in ENDPOINTS:
        raise ValueError(f"Unknown final_endpoint {final_endpoint!r}; expected one of {ENDPOINTS}.")
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}.")
    for argument, value in (("num_frames", num_frames), ("size", size), ("channels", channels)):
        if value < 1:
            raise ValueError(f"{argument} must be at least 1, got {value}.")
    if final_endpoint in _HEAD_ENDPOINTS:
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}.")
        _check_head_input(num_frames, size)


def _logits(x: keras.KerasTensor, num_classes: int, dropout: float) -> keras.KerasTensor:
    """Apply the head: average pool, dropout, 1x1x1 conv with bias, mean over time and space."""
    x = layers.AveragePooling3D(
        HEAD_POOL, strides=1, padding="valid", name=keras_name("Logits/AvgPool3d_0a_7x7")
    )(x)
    x = layers.Dropout(dropout, name=keras_name("Logits/Dropout_0b"))(x)
    x = layers.Conv3D(
        num_classes, 1, use_bias=True, name=keras_name("Logits/Conv3d_0c_1x1/conv_3d")
    )(x)
    return layers.GlobalAveragePooling3D(name="Logits")(x)


def InceptionI3D(
    num_classes: int = 400,
    num_frames: int = 64,
    size: int = 224,
    channels: int = 3,
    width: float = 1.0,
    final_endpoint: str = "Logits",
    dropout: float = 0.5,
    name: str = SCOPE,
) -> keras.Model:
    """Build Inception-I3D up to ``final_endpoint``.

    Parameters
    ----------
    num_classes
        Outputs of the head (400 for Kinetics-400, 600 for Kinetics-600).
    num_frames, size
        Clip length and frame height = width.  With the head, at least
        :func:`minimum_frames` and :func:`minimum_size`.
    channels
        3 for the RGB stream, 2 for the optical-flow stream.
    width
        Multiplies the channel count of every unit (rounded, at least 1); 1.0 is
        the reference, smaller values give teaching-scale models.  The head
        always has ``num_classes`` outputs.
    final_endpoint
        One of :data:`ENDPOINTS`; the model returns that endpoint's output (a
        5-D feature map before the head, ``(batch, num_classes)`` at "Logits",
        their softmax at "Predictions").
    dropout
        Dropout rate before the logits (the reference's ``1 - keep_prob``).
    name
        Name of the model.

    Returns
    -------
    keras.Model
        Functional, input ``(batch, num_frames, size, size, channels)``, layers
        named after the reference scopes (see the module docstring).

    Raises
    ------
    ValueError
        For an unknown endpoint, a non-positive width or size, and inputs too
        small for the head (the message gives the minimum and why).
    """
    _check_arguments(num_classes, num_frames, size, channels, width, final_endpoint)
    inputs = keras.Input((num_frames, size, size, channels), name="video")
    x = inputs
    for block in _BODY:
        x = block(x, width)
        if block.name == final_endpoint:
            return keras.Model(inputs, x, name=name)
    x = _logits(x, num_classes, dropout)
    if final_endpoint == "Predictions":
        x = layers.Softmax(dtype="float32", name="Predictions")(x)  # float32 under mixed precision
    return keras.Model(inputs, x, name=name)


def preprocess_rgb(frames: np.ndarray, max_value: float = 255.0) -> np.ndarray:
    """Scale RGB frames from [0, max_value] to the [-1, 1] the RGB stream reads (float32)."""
    return np.asarray(frames, dtype=np.float32) * np.float32(2.0 / max_value) - np.float32(1.0)


def preprocess_flow(flow: np.ndarray) -> np.ndarray:
    """Clip optical flow (pixels per frame) to [-20, 20] and scale it to [-1, 1] (float32).

    The reference I3D's flow input: :func:`vidlab.flow.normalize_flow` with its bound.
    """
    return normalize_flow(flow, FLOW_CLIP)


def _reference_variables(model: keras.Model, stream: str) -> dict[str, keras.Variable]:
    """Map the reference name of every Conv3D and BatchNormalization weight to its variable."""
    targets = {}
    for layer in model.layers:
        scope = f"{stream}/{SCOPE}/{reference_name(layer.name)}"
        if isinstance(layer, layers.Conv3D):
            targets[f"{scope}/w"] = layer.kernel
            if layer.use_bias:
                targets[f"{scope}/b"] = layer.bias
        elif isinstance(layer, layers.BatchNormalization):
            for attribute in ("gamma", "beta", "moving_mean", "moving_variance"):
                variable = getattr(layer, attribute)
                if variable is not None:
                    targets[f"{scope}/{attribute}"] = variable
    return targets


def reference_shapes(model: keras.Model, stream: str = "RGB") -> dict[str, tuple[int, ...]]:
    """Return the reference name and shape of every weight of an InceptionI3D model.

    The names are those of DeepMind's Kinetics-400 checkpoints
    (``{stream}/inception_i3d/<scope>/w``, ``.../batch_norm/moving_mean``, ...), the
    shapes the model's; :func:`load_kinetics_weights` needs exactly these.
    """
    if stream not in STREAMS:
        raise ValueError(f"Unknown stream {stream!r}; expected one of {STREAMS}.")
    return {name: tuple(variable.shape)
            for name, variable in _reference_variables(model, stream).items()}


def _fitted(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """Return ``array`` in ``shape``, or None if it does not fit.

    Batch-norm variables of shape ``[C]`` may come as ``[1, 1, 1, 1, C]`` (the
    Kinetics-600 checkpoint stores them so).
    """
    if array.shape == shape:
        return array
    if len(shape) == 1 and array.shape == (1, 1, 1, 1, *shape):
        return array.reshape(shape)
    return None


def _read_source(source: Mapping[str, np.ndarray] | str | os.PathLike) -> dict[str, np.ndarray]:
    """Return the name -> array dict of a mapping or of an ``.npz`` file."""
    if isinstance(source, Mapping):
        return {name: np.asarray(array) for name, array in source.items()}
    with np.load(source) as archive:
        return {name: archive[name] for name in archive.files}


def _listing(title: str, items: list[str]) -> str:
    """Return ``title`` and up to :data:`_MAX_LISTED` of ``items``, one per line."""
    lines = [f"{title} ({len(items)}):", *(f"  {item}" for item in items[:_MAX_LISTED])]
    if len(items) > _MAX_LISTED:
        lines.append(f"  ... and {len(items) - _MAX_LISTED} more")
    return "\n".join(lines)


def load_kinetics_weights(
    model: keras.Model,
    source: Mapping[str, np.ndarray] | str | os.PathLike,
    stream: str = "RGB",
) -> None:
    """Set every weight of an InceptionI3D model from reference-named variables.

    The reference name of a weight is ``{stream}/inception_i3d/`` + the layer's
    :func:`reference_name` + ``/w`` or ``/b`` (Conv3D kernel ``[t, h, w, in, out]``,
    the layout of both Sonnet and Keras) or ``/beta``, ``/moving_mean``,
    ``/moving_variance`` (BatchNormalization, ``[C]`` or ``[1, 1, 1, 1, C]``).
    Nothing is assigned unless every weight of the model gets exactly one
    variable of the right shape and every variable of ``stream`` is used;
    variables of the other stream (or outside both) are ignored.

    The released checkpoints are TensorFlow-1 checkpoints; turn one into an
    ``.npz`` once with :func:`checkpoint_to_npz`, e.g.::

        checkpoint_to_npz("kinetics-i3d/data/checkpoints/rgb_imagenet/model.ckpt", "rgb.npz")
        model = InceptionI3D(num_classes=400)
        load_kinetics_weights(model, "rgb.npz", stream="RGB")

    Parameters
    ----------
    model
        Built by :func:`InceptionI3D` with the checkpoint's shapes: its
        ``num_classes``, ``width=1`` and ``channels`` (3 for RGB, 2 for Flow);
        ``num_frames`` and ``size`` do not matter.
    source
        A dict name -> array, or the path of an ``.npz`` with such keys.
    stream
        "RGB" or "Flow": the checkpoint scope to read.

    Raises
    ------
    ValueError
        For an unknown stream, and, listing the offending names, for model
        weights with no variable, variables the model has no weight for, and
        variables whose shape does not fit their weight.
    """
    if stream not in STREAMS:
        raise ValueError(f"Unknown stream {stream!r}; expected one of {STREAMS}.")
    arrays = _read_source(source)
    targets = _reference_variables(model, stream)
    offered = {name for name in arrays if name.startswith(f"{stream}/")}
    values, misshaped = {}, []
    for name in sorted(offered & targets.keys()):
        shape = tuple(targets[name].shape)
        value = _fitted(arrays[name], shape)
        if value is None:
            misshaped.append(f"{name}: {arrays[name].shape} in the source, {shape} in the model")
        else:
            values[name] = value
    mapped = {id(variable) for variable in targets.values()}
    problems = [
        ("Model weights with no variable in the source", sorted(targets.keys() - offered)),
        (f"Variables of {stream} with no weight in the model", sorted(offered - targets.keys())),
        ("Variables whose shape does not fit", misshaped),
        (
            "Model weights outside every Conv3D and BatchNormalization",
            [weight.path for weight in model.weights if id(weight) not in mapped],
        ),
    ]
    report = [_listing(title, items) for title, items in problems if items]
    if report:
        origin = "" if isinstance(source, Mapping) else f" from {os.fspath(source)}"
        raise ValueError(f"Cannot load the weights{origin}:\n" + "\n".join(report))
    for name, value in values.items():
        targets[name].assign(value.astype(targets[name].dtype))


class CheckpointError(ValueError):
    """A TensorFlow checkpoint cannot be read, or holds no I3D variable; names the file."""


def _reference_key(name: str, unscoped_stream: str) -> str | None:
    """The ``{stream}/inception_i3d/...`` key of a checkpoint variable, or None if not a weight.

    The Kinetics-400 checkpoints already name their variables so; the Kinetics-600
    one leaves out the scope (``Conv3d_1a_7x7/conv_3d/w``), and its variables belong
    to ``unscoped_stream``.  Optimizer slots and counters are not weights.
    """
    parts = name.split(REFERENCE_SEPARATOR)
    if parts[-1] not in _WEIGHT_NAMES:
        return None
    if parts[0] in STREAMS:
        return name
    if parts[0] in ENDPOINTS:
        return f"{unscoped_stream}/{SCOPE}/{name}"
    return None


def checkpoint_to_npz(
    ckpt_path: str | os.PathLike, out_path: str | os.PathLike, unscoped_stream: str = "RGB"
) -> Path:
    """Copy the model variables of a DeepMind I3D checkpoint into an ``.npz``.

    Reads every naming DeepMind publishes: ``RGB/inception_i3d/...`` and
    ``Flow/inception_i3d/...`` (the Kinetics-400 checkpoints, batch norm ``[C]``)
    and the unscoped names of the Kinetics-600 one (batch norm ``[1, 1, 1, 1, C]``,
    which :func:`load_kinetics_weights` reshapes), whose ``.../Momentum`` optimizer
    slots are left out.  The ``.npz`` keys are ``{stream}/inception_i3d/...``, ready
    for :func:`load_kinetics_weights`.  Needs TensorFlow, imported here only.  The
    file is written under a temporary name and moved into place when complete.

    Parameters
    ----------
    ckpt_path
        The checkpoint prefix, e.g. ``.../rgb_imagenet/model.ckpt`` (without ``.index``).
    out_path
        Where to write the ``.npz`` (written as given, no suffix added).
    unscoped_stream
        The stream of variables without a scope ("RGB": DeepMind's Kinetics-600
        checkpoint is an RGB model).

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    CheckpointError
        The checkpoint's files cannot be read (missing, truncated) or hold no I3D
        variable; the message names the checkpoint.
    """
    import tensorflow as tf  # reads TensorFlow 1 checkpoints: only this conversion needs it

    if unscoped_stream not in STREAMS:
        raise ValueError(f"Unknown stream {unscoped_stream!r}; expected one of {STREAMS}.")
    ckpt_path = os.fspath(ckpt_path)
    try:
        reader = tf.train.load_checkpoint(ckpt_path)
        keys = {name: _reference_key(name, unscoped_stream)
                for name in reader.get_variable_to_shape_map()}
        arrays = {key: reader.get_tensor(name) for name, key in sorted(keys.items()) if key}
    except (tf.errors.OpError, ValueError, IndexError, OSError) as error:  # IndexError: cut short
        message = getattr(error, "message", str(error)).splitlines()[0]
        raise CheckpointError(
            f"Cannot read the TensorFlow checkpoint {ckpt_path} ({message}). Delete its "
            "files (.index and .data-*) so that they are downloaded again."
        ) from error
    if not arrays:
        raise CheckpointError(f"{ckpt_path} holds no I3D variable (no name ends in "
                              f"{', '.join(_WEIGHT_NAMES)}); is it an I3D checkpoint?")
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp, tmp.open("wb") as file:
        np.savez(file, **arrays)
    return out_path


def kinetics_weights(folder: str, progress: bool = True) -> Path:
    """Fetch DeepMind's checkpoint ``folder`` and convert it once; return the ``.npz``.

    ``folder`` is one of :data:`vidlab.sources.I3D_CHECKPOINTS` (e.g.
    ``"rgb_imagenet"``); the files come from :mod:`vidlab.sources` (a mirror can
    stand in), verified, and the ``.npz`` lies next to them, named after the
    SHA-256 of the checkpoint's values, so a changed checkpoint is converted anew.
    """

    prefix = sources.fetch_checkpoint(folder, progress)
    data = prefix.with_name(prefix.name + ".data-00000-of-00001")
    npz = prefix.with_name(f"model-{file_sha256(data)[:16]}.npz")
    if not npz.is_file():
        checkpoint_to_npz(prefix, npz)
    return npz
