"""A width-reduced 2D Inception-V1 for small still images: the quick profile's "ImageNet" model.

I3D (:mod:`vidlab.models.i3d`) is Inception-V1 with every 2D filter made 3D,
and its weights start as an ImageNet Inception-V1's, inflated.  The quick
profile has no ImageNet, so this module builds the same kind of network at
teaching scale, for 64 x 64 still images: the I3D endpoints up to ``Mixed_4c``,
each channel count multiplied by ``width`` (0.25 by default), and a global
average pool with two heads.  :mod:`vidlab.pretrain` trains it on MotionShapes
still images; notebook 05 writes its 3D counterpart in Keras on the page and
gives it these weights, inflated, layer by layer by name.

Architecture
------------
Every convolution is a *unit*, as in I3D: ``Conv2D`` (no bias, SAME padding) ->
``BatchNormalization`` (no scale, epsilon 1e-3) -> ReLU.  Shapes at 64 x 64:

================  ===========================  ======================
endpoint          what                         output (H, W, C)
================  ===========================  ======================
Conv2d_1a_5x5     unit 5x5, stride 2           32 x 32 x 16
MaxPool2d_2a_3x3  max pool 3x3, stride 2       16 x 16 x 16
Conv2d_2b_1x1     unit 1x1                     16 x 16 x 16
Conv2d_2c_3x3     unit 3x3                     16 x 16 x 48
MaxPool2d_3a_3x3  max pool 3x3, stride 2       8 x 8 x 48
Mixed_3b, 3c      inception blocks             8 x 8 x 64, 120
MaxPool2d_4a_3x3  max pool 3x3, stride 2       4 x 4 x 120
Mixed_4b, 4c      inception blocks             4 x 4 x 128, 128
AvgPool           global average pool          128
shape, pose       Dense heads                  ``num_shapes``, 5
================  ===========================  ======================

The stem is 5 x 5 rather than I3D's 7 x 7, because a 64-pixel image holds
sprites a few pixels wide.  An inception block concatenates four branches: a
1x1 unit; a 1x1 unit then a 3x3 unit; another such pair; a 3x3 max pool
(stride 1) then a 1x1 unit.  Layer names follow I3D's scopes with ``2d`` for
``3d`` and ``.`` for ``/``: the unit ``Mixed_3b.Branch_1.Conv2d_0b_3x3`` is the
layers ``<scope>.conv``, ``<scope>.bn`` and the ReLU ``<scope>``, and every
endpoint is the layer named after it.

No Flatten anywhere, only layer types :func:`vidlab.models.inflate.inflate`
converts.  Inputs are RGB scaled to [-1, 1], as I3D reads them
(:func:`vidlab.models.i3d.preprocess_rgb`).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers

#: Batch normalisation of every unit: no scale, I3D's epsilon, Keras's default momentum
#: (I3D's 0.999 lets the moving statistics lag for many epochs on a small dataset).
BN_EPSILON, BN_MOMENTUM = 1e-3, 0.99
#: Default channel multiplier: a quarter of I3D's channels.
WIDTH = 0.25
#: Name of the global average pool, whose output is the feature vector.
FEATURES = "AvgPool"
#: Number of regressed pose values (centre x, centre y, radius, cos and sin of the angle).
POSE_VALUES = 5


def _scaled(channels: int, width: float) -> int:
    """Return ``channels * width`` rounded, at least 1."""
    return max(1, round(channels * width))


def _unit(x, scope: str, filters: int, kernel: int, strides: int = 1):
    """Apply one unit: Conv2D (no bias, SAME) -> BN (no scale) -> ReLU, named after ``scope``."""
    x = layers.Conv2D(
        filters, kernel, strides, padding="same", use_bias=False, name=f"{scope}.conv"
    )(x)
    x = layers.BatchNormalization(
        scale=False, epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{scope}.bn"
    )(x)
    return layers.ReLU(name=scope)(x)


@dataclass(frozen=True)
class _Conv:
    """An endpoint that is one unit with a square kernel."""

    name: str
    filters: int
    kernel: int
    strides: int = 1

    def __call__(self, x, width: float):
        return _unit(x, self.name, _scaled(self.filters, width), self.kernel, self.strides)


@dataclass(frozen=True)
class _MaxPool:
    """An endpoint that is a 3x3 max pool with stride 2 (SAME padding)."""

    name: str

    def __call__(self, x, width: float):
        return layers.MaxPooling2D(3, 2, padding="same", name=self.name)(x)


@dataclass(frozen=True)
class _Mixed:
    """An inception block; ``channels`` is (B0, B1a, B1b, B2a, B2b, B3b), as in I3D's table."""

    name: str
    channels: tuple[int, int, int, int, int, int]

    def __call__(self, x, width: float):
        b0, b1a, b1b, b2a, b2b, b3b = (_scaled(c, width) for c in self.channels)
        scope = self.name
        branch_0 = _unit(x, f"{scope}.Branch_0.Conv2d_0a_1x1", b0, 1)
        branch_1 = _unit(x, f"{scope}.Branch_1.Conv2d_0a_1x1", b1a, 1)
        branch_1 = _unit(branch_1, f"{scope}.Branch_1.Conv2d_0b_3x3", b1b, 3)
        branch_2 = _unit(x, f"{scope}.Branch_2.Conv2d_0a_1x1", b2a, 1)
        branch_2 = _unit(branch_2, f"{scope}.Branch_2.Conv2d_0b_3x3", b2b, 3)
        branch_3 = layers.MaxPooling2D(
            3, 1, padding="same", name=f"{scope}.Branch_3.MaxPool2d_0a_3x3"
        )(x)
        branch_3 = _unit(branch_3, f"{scope}.Branch_3.Conv2d_0b_1x1", b3b, 1)
        return layers.Concatenate(name=scope)([branch_0, branch_1, branch_2, branch_3])


#: The network up to Mixed_4c, one entry per endpoint, with I3D's channel counts (width 1).
_BODY = (
    _Conv("Conv2d_1a_5x5", 64, 5, 2),
    _MaxPool("MaxPool2d_2a_3x3"),
    _Conv("Conv2d_2b_1x1", 64, 1),
    _Conv("Conv2d_2c_3x3", 192, 3),
    _MaxPool("MaxPool2d_3a_3x3"),
    _Mixed("Mixed_3b", (64, 96, 128, 16, 32, 32)),
    _Mixed("Mixed_3c", (128, 128, 192, 32, 96, 64)),
    _MaxPool("MaxPool2d_4a_3x3"),
    _Mixed("Mixed_4b", (192, 96, 208, 16, 48, 64)),
    _Mixed("Mixed_4c", (160, 112, 224, 24, 64, 64)),
)

#: Every endpoint of the body, in order.
ENDPOINTS = tuple(block.name for block in _BODY)


def InceptionV1Mini(
    size: int = 64,
    num_shapes: int = 4,
    width: float = WIDTH,
    name: str = "shapes_inception",
) -> keras.Model:
    """Build the width-reduced 2D Inception-V1 with its two still-image heads.

    Parameters
    ----------
    size
        Image height = width (at least 16: four stride-2 steps leave one position).
    num_shapes
        Classes of the ``shape`` head.
    width
        Multiplies the channel count of every unit (rounded, at least 1); 1.0
        gives I3D's channels, the default a quarter of them.
    name
        Name of the model.

    Returns
    -------
    keras.Model
        Functional, input ``(batch, size, size, 3)`` in [-1, 1]; outputs
        ``{"shape": softmax over num_shapes, "pose": 5 regressed values}``.
        ``model.get_layer(FEATURES).output`` is the feature vector both heads read.

    Raises
    ------
    ValueError
        For a non-positive width, fewer than one shape, or a size under 16.
    """
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}.")
    if num_shapes < 1:
        raise ValueError(f"num_shapes must be at least 1, got {num_shapes}.")
    if size < 16:
        raise ValueError(f"size must be at least 16 pixels, got {size}.")
    inputs = keras.Input((size, size, 3), name="image")
    x = inputs
    for block in _BODY:
        x = block(x, width)
    x = layers.GlobalAveragePooling2D(name=FEATURES)(x)
    shape = layers.Dense(num_shapes, activation="softmax", name="shape")(x)
    pose = layers.Dense(POSE_VALUES, name="pose")(x)
    return keras.Model(inputs, {"shape": shape, "pose": pose}, name=name)
