"""Inflate a whole 2D image CNN into a 3D video CNN, the I3D way.

Notebook 05 writes the lesson on the page: its ``inflate_kernel`` cell, a 3D
Inception block and a mini-I3D whose layers take the inflated weights of the
2D layers of the same names.  This module is the same rule as plumbing, for
any functional 2D Keras model, with one option the page leaves out (padding
time with copies of the end frames); ``tests/test_notebook_05.py`` checks that
both inflate the same way.

Carreira & Zisserman bootstrap a video network from an image network: every
``k x k`` filter becomes a ``kt x k x k`` filter, and its weights are the 2D
weights repeated ``kt`` times along time and divided by ``kt``
(:func:`inflate_kernel`).  Then a *boring video* -- one image repeated over
time -- gives, at every frame, the activations the 2D network gives on the
image: each 3D filter sums ``kt`` equal frames, times ``1 / kt`` each.  Pooling
and batch norm act per frame, global pooling averages equal frames, so the
video network's output equals the image network's.

Temporal padding
----------------
Every inflated convolution keeps the number of frames (``ceil(T / stride)``):
time is padded by ``kt - 1`` frames, ``(kt - 1) // 2`` before and ``kt // 2``
after (plain SAME padding pads the same at stride 1, and less at larger
strides), whatever the 2D layer's spatial padding ("valid" stays valid in
space only).
What the padded frames hold is the ``padding`` argument of :func:`inflate`:

* ``"zeros"`` -- zero frames, as SAME padding of ``Conv3D`` (the I3D choice).
  The fixed point then holds only where a filter sees ``kt`` copies of the
  image: near the first and last frames the filters also see zeros, which are
  not copies of the image, and the borders drift from the 2D activations,
  ``(kt - 1) // 2`` more frames with every stacked convolution.
* ``"replicate"`` -- copies of the first and last frames.  Every padded frame
  is then a copy of the image and the fixed point holds at every frame.

Keras's ``Conv3D`` has a single padding mode for all three axes, so an inflated
convolution whose time padding is not plain SAME is a :class:`VideoPadding3D`
layer (time padded as chosen, space padded with zeros exactly as the 2D
layer's SAME would, or not at all for VALID) followed by a ``Conv3D`` with
VALID padding.  Pooling needs no such care: its time window is 1 unless
chosen, a chosen window pads time as the 2D layer pads space (VALID drops
``kt - 1`` frames), and SAME max and average pooling ignore their padding, so
they give the image's values at every frame either way.

What is converted
-----------------
:func:`inflate` walks a functional (or built Sequential) 2D model layer by
layer and builds the 3D counterpart of each, keeping its name:

=======================================  ==============================================
2D layer                                 3D layer
=======================================  ==============================================
InputLayer ``(H, W, C)``                 Input ``(num_frames, H, W, C)``
Conv2D ``(kh, kw)``                      Conv3D ``(kt, kh, kw)``, inflated weights
MaxPooling2D, AveragePooling2D           MaxPooling3D, AveragePooling3D, time size 1
GlobalAverage/MaxPooling2D               GlobalAverage/MaxPooling3D (over time too)
BatchNormalization, Dense                the same layer, the same weights
Activation, ReLU, Dropout, Rescaling     the same layer
Add, Concatenate                         the same layer
=======================================  ==============================================

The 3D layers are Keras's own; :func:`vidlab.cpu.fast_3d` makes
a copy that computes them with 2D operations, far faster to train with
TensorFlow on a CPU without oneDNN's kernels.

An axis given to BatchNormalization or Concatenate as a positive number moves
up by one, past the new time axis (negative ones, like the default -1, stay).
The time kernel ``kt`` and the time stride can be chosen per layer by name.
Flatten is refused (flattening a video mixes time into the features; use
global pooling), and so is every other layer, by name.  Regularisers and
constraints of the 2D layers are not carried over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers, ops

from vidlab.cpu import repeat_edge_frames

#: Temporal padding modes of :func:`inflate`.
PADDINGS = ("zeros", "replicate")


def inflate_kernel(kernel_2d: np.ndarray, kt: int) -> np.ndarray:
    """Return the I3D inflation of a Conv2D kernel: ``kt`` copies along time, divided by ``kt``.

    Parameters
    ----------
    kernel_2d
        Shape ``(kh, kw, in, out)``, as in ``keras.layers.Conv2D``.
    kt
        Temporal size of the 3D kernel.

    Returns
    -------
    np.ndarray
        Shape ``(kt, kh, kw, in, out)``, as in ``keras.layers.Conv3D``, of the
        kernel's dtype; its sum over time is ``kernel_2d``.

    Raises
    ------
    ValueError
        If the kernel is not 4-D or ``kt < 1``.
    """
    kernel_2d = np.asarray(kernel_2d)
    if kernel_2d.ndim != 4:
        raise ValueError(f"A Conv2D kernel is (kh, kw, in, out); got shape {kernel_2d.shape}.")
    if kt < 1:
        raise ValueError(f"The time kernel size must be at least 1, got {kt}.")
    stacked = np.repeat(kernel_2d[np.newaxis], kt, axis=0)
    return (stacked / kt).astype(kernel_2d.dtype, copy=False)


def _same_padding(
    length: int | None, kernel: int, stride: int, dilation: int = 1
) -> tuple[int, int]:
    """Return the ``(before, after)`` zeros that SAME padding adds along one axis.

    As in TensorFlow (and Keras on every backend): the total makes the output
    ``ceil(length / stride)`` long, and the odd one goes after.

    Raises
    ------
    ValueError
        If the total depends on an unknown ``length`` (``stride > 1``).
    """
    span = (kernel - 1) * dilation + 1
    if stride == 1:
        total = span - 1
    elif length is None:
        raise ValueError(
            "Inflating a strided SAME convolution with explicit padding needs its input's "
            "spatial size; give the 2D model a fixed input height and width."
        )
    else:
        total = max((-(-length // stride) - 1) * stride + span - length, 0)
    return total // 2, total - total // 2


@keras.saving.register_keras_serializable(package="vidlab")
class VideoPadding3D(layers.Layer):
    """Pad a video ``(batch, T, H, W, C)``: time with zero or edge frames, space with zeros.

    Parameters
    ----------
    time_padding
        Frames to put before the first frame and after the last.
    space_padding
        ``((top, bottom), (left, right))`` rows and columns of zeros.
    time_mode
        "zeros" (zero frames) or "replicate" (copies of the first and last frames).
    """

    def __init__(
        self,
        time_padding: tuple[int, int],
        space_padding: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0)),
        time_mode: str = "zeros",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if time_mode not in PADDINGS:
            raise ValueError(f"Unknown time_mode {time_mode!r}; expected one of {PADDINGS}.")
        self.time_padding = tuple(time_padding)
        self.space_padding = tuple(tuple(pair) for pair in space_padding)
        self.time_mode = time_mode

    def call(self, x):
        before, after = self.time_padding
        if self.time_mode == "replicate":
            x = repeat_edge_frames(x, before, after)
            before = after = 0
        return ops.pad(x, ((0, 0), (before, after), *self.space_padding, (0, 0)))

    def compute_output_shape(self, input_shape):
        batch, *lengths, channels = input_shape
        pads = (self.time_padding, *self.space_padding)
        padded = [None if n is None else n + sum(pad) for n, pad in zip(lengths, pads, strict=True)]
        return (batch, *padded, channels)

    def get_config(self):
        config = super().get_config()
        config.update(
            time_padding=self.time_padding,
            space_padding=self.space_padding,
            time_mode=self.time_mode,
        )
        return config


@dataclass(frozen=True)
class _Plan:
    """The temporal choices of one :func:`inflate` call."""

    time_kernels: int | Mapping[str, int]
    time_strides: Mapping[str, int]
    padding: str

    def kernel(self, layer: layers.Layer) -> int:
        """Temporal size for ``layer``: the int for every Conv2D, else from the dict (or 1)."""
        if isinstance(self.time_kernels, Mapping):
            return self.time_kernels.get(layer.name, 1)
        return self.time_kernels if type(layer) is layers.Conv2D else 1

    def stride(self, layer: layers.Layer) -> int:
        """Temporal stride for ``layer`` (1 unless named in ``time_strides``)."""
        return self.time_strides.get(layer.name, 1)


def _shifted_axis(axis: int) -> int:
    """Return the 5-D axis of a 4-D axis: time is inserted at 1, so positive axes move by one."""
    return axis + 1 if axis > 0 else axis


def _check_channels_last(layer: layers.Layer) -> None:
    """Raise ValueError for a layer that reads channels first."""
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise ValueError(f"Layer {layer.name!r} is channels_first; inflate() needs channels_last.")


def _space_padding(layer: layers.Conv2D, x) -> tuple[tuple[int, int], tuple[int, int]]:
    """Return the zeros the 2D layer pads ``x`` with: ``((top, bottom), (left, right))``."""
    if layer.padding == "valid":
        return ((0, 0), (0, 0))
    _, _, height, width, _ = x.shape
    sizes = zip((height, width), layer.kernel_size, layer.strides, layer.dilation_rate, strict=True)
    return tuple(_same_padding(*size) for size in sizes)


def _conv(layer: layers.Conv2D, x, plan: _Plan):
    """Conv2D -> Conv3D with kernel ``(kt, kh, kw)`` and the inflated weights.

    Time is padded to keep the frame count (see the module docstring); plain
    SAME does that when the 2D layer is SAME and the mode is "zeros", otherwise
    a :class:`VideoPadding3D` pads first and the Conv3D is VALID.
    """
    _check_channels_last(layer)
    kt, stride = plan.kernel(layer), plan.stride(layer)
    padding = layer.padding
    if kt > 1 and (padding, plan.padding) != ("same", "zeros"):
        x = VideoPadding3D(
            _same_padding(None, kt, 1),
            _space_padding(layer, x),
            time_mode=plan.padding,
            name=f"{layer.name}_pad",
        )(x)
        padding = "valid"
    conv = layers.Conv3D(
        layer.filters,
        (kt, *layer.kernel_size),
        (stride, *layer.strides),
        padding=padding,
        dilation_rate=(1, *layer.dilation_rate),
        groups=layer.groups,
        activation=layer.activation,
        use_bias=layer.use_bias,
        name=layer.name,
    )
    y = conv(x)
    weights = layer.get_weights()
    conv.set_weights([inflate_kernel(weights[0], kt), *weights[1:]])
    return y


def _pool(layer: layers.Layer, x, plan: _Plan):
    """Max/AveragePooling2D -> 3D pooling with window ``(kt, ph, pw)``, kt 1 unless chosen."""
    _check_channels_last(layer)
    pooling = {
        layers.MaxPooling2D: layers.MaxPooling3D,
        layers.AveragePooling2D: layers.AveragePooling3D,
    }
    return pooling[type(layer)](
        (plan.kernel(layer), *layer.pool_size),
        (plan.stride(layer), *layer.strides),
        padding=layer.padding,
        name=layer.name,
    )(x)


def _global_pool(layer: layers.Layer, x, plan: _Plan):
    """GlobalAverage/MaxPooling2D -> the 3D one, which pools over time as well."""
    _check_channels_last(layer)
    pooling = {
        layers.GlobalAveragePooling2D: layers.GlobalAveragePooling3D,
        layers.GlobalMaxPooling2D: layers.GlobalMaxPooling3D,
    }
    return pooling[type(layer)](keepdims=layer.keepdims, name=layer.name)(x)


def _with_axis(layer: layers.Layer, x, plan: _Plan):
    """BatchNormalization, Concatenate: the same layer along the shifted axis, same weights."""
    config = layer.get_config()
    config["axis"] = _shifted_axis(config["axis"])
    return _copy(type(layer).from_config(config), layer, x)


def _same_layer(layer: layers.Layer, x, plan: _Plan):
    """Layers indifferent to the number of axes: a copy of the layer, same weights."""
    return _copy(type(layer).from_config(layer.get_config()), layer, x)


def _copy(new: layers.Layer, old: layers.Layer, x):
    """Call ``new`` on ``x`` and give it the weights of ``old``."""
    y = new(x)
    new.set_weights(old.get_weights())
    return y


def _flatten(layer: layers.Layer, x, plan: _Plan):
    """Refuse Flatten, whose meaning would change."""
    raise ValueError(
        f"Layer {layer.name!r} is a Flatten: flattening a video would mix time into the "
        "features and change the size the next layer reads. Replace it in the 2D model with "
        "GlobalAveragePooling2D (or GlobalMaxPooling2D), which inflates to pooling over time too."
    )


_Converter = Callable[[layers.Layer, object, _Plan], object]

#: The 3D counterpart of each supported 2D layer type (exact types: subclasses may differ).
_CONVERTERS: dict[type, _Converter] = {
    layers.Conv2D: _conv,
    layers.MaxPooling2D: _pool,
    layers.AveragePooling2D: _pool,
    layers.GlobalAveragePooling2D: _global_pool,
    layers.GlobalMaxPooling2D: _global_pool,
    layers.BatchNormalization: _with_axis,
    layers.Concatenate: _with_axis,
    layers.Dense: _same_layer,
    layers.Activation: _same_layer,
    layers.ReLU: _same_layer,
    layers.Dropout: _same_layer,
    layers.Rescaling: _same_layer,
    layers.Add: _same_layer,
    layers.Flatten: _flatten,
}
#: Layer types whose temporal kernel size and stride can be chosen.
_TEMPORAL = (layers.Conv2D, layers.MaxPooling2D, layers.AveragePooling2D)


def _graph(model_2d: keras.Model) -> keras.Model:
    """Return ``model_2d`` as a functional model (a built Sequential is rewrapped)."""
    try:
        return keras.Model(model_2d.inputs, model_2d.outputs, name=model_2d.name)
    except (AttributeError, ValueError) as error:
        raise ValueError(
            f"inflate() walks the layer graph of a functional model (or of a Sequential built "
            f"with an Input); {model_2d.name!r} has none: {error}"
        ) from error


def _checked_choices(graph: keras.Model, argument: str, choices: Mapping[str, int]) -> None:
    """Raise ValueError for choices naming no Conv2D/pooling layer, or below 1."""
    temporal = {layer.name for layer in graph.layers if type(layer) in _TEMPORAL}
    unknown = sorted(set(choices) - temporal)
    if unknown:
        raise ValueError(
            f"{argument} names {unknown}, which are not Conv2D, MaxPooling2D or "
            f"AveragePooling2D layers of {graph.name!r}; those are {sorted(temporal)}."
        )
    small = {name: value for name, value in choices.items() if value < 1}
    if small:
        raise ValueError(f"{argument} must be at least 1; got {small}.")


def _plan(
    graph: keras.Model,
    time_kernels: int | Mapping[str, int],
    time_strides: Mapping[str, int] | None,
    padding: str,
) -> _Plan:
    """Validate the temporal choices of :func:`inflate` and bundle them."""
    if padding not in PADDINGS:
        raise ValueError(f"Unknown padding {padding!r}; expected one of {PADDINGS}.")
    if isinstance(time_kernels, Mapping):
        _checked_choices(graph, "time_kernels", time_kernels)
    elif time_kernels < 1:
        raise ValueError(f"time_kernels must be at least 1, got {time_kernels}.")
    time_strides = dict(time_strides or {})
    _checked_choices(graph, "time_strides", time_strides)
    return _Plan(time_kernels, time_strides, padding)


def _rebuilt(operation, tensors: dict[int, object]):
    """Return the 3D tensors standing for the inputs ``operation`` reads in the 2D graph."""
    inputs = operation.input
    flat = inputs if isinstance(inputs, list | tuple) else [inputs]
    missing = [tensor for tensor in flat if id(tensor) not in tensors]
    if missing:
        raise ValueError(
            f"Layer {operation.name!r} reads a tensor inflate() has not rebuilt: a layer called "
            "more than once (a shared layer) is not supported."
        )
    rebuilt = [tensors[id(tensor)] for tensor in flat]
    return rebuilt if isinstance(inputs, list | tuple) else rebuilt[0]


def _converted(operation, x, plan: _Plan):
    """Return the output of the 3D counterpart of ``operation`` on ``x``."""
    converter = _CONVERTERS.get(type(operation))
    if converter is None:
        supported = ", ".join(
            sorted(cls.__name__ for cls in _CONVERTERS if cls is not layers.Flatten)
        )
        raise ValueError(
            f"Layer {operation.name!r} ({type(operation).__name__}) has no 3D counterpart in "
            f"inflate(); supported layers: InputLayer, {supported}."
        )
    return converter(operation, x, plan)


def inflate(
    model_2d: keras.Model,
    time_kernels: int | Mapping[str, int] = 3,
    time_strides: Mapping[str, int] | None = None,
    num_frames: int | None = None,
    padding: str = "zeros",
) -> keras.Model:
    """Build the 3D counterpart of a 2D CNN, with I3D-inflated weights.

    Parameters
    ----------
    model_2d
        A functional model (or a Sequential built with an Input) made of the
        layers listed in the module docstring, channels last.
    time_kernels
        Temporal kernel size ``kt``.  An int applies to every Conv2D (pooling
        keeps a time window of 1); a dict maps layer names (Conv2D or 2D
        pooling) to their size, and every layer it does not name gets 1.
    time_strides
        Layer name (Conv2D or 2D pooling) -> temporal stride; 1 for the others.
    num_frames
        Frames of the input video; None accepts any number.
    padding
        "zeros" (SAME padding in time, the fixed point fails near the borders)
        or "replicate" (edge frames repeated, the fixed point holds everywhere);
        see the module docstring.

    Returns
    -------
    keras.Model
        Input ``(batch, num_frames, H, W, C)`` for each 2D input ``(batch, H, W, C)``;
        layers keep their 2D names (the :class:`VideoPadding3D` before conv ``c``,
        where there is one, is ``c_pad``).  On a video of one image repeated, its output
        equals ``model_2d``'s on the image (at every frame with "replicate",
        away from the temporal borders with "zeros").

    Raises
    ------
    ValueError
        For a layer with no 3D counterpart (named in the message), a Flatten,
        a shared layer, a model with no layer graph, and choices naming layers
        that are not Conv2D or 2D pooling layers.
    """
    graph = _graph(model_2d)
    plan = _plan(graph, time_kernels, time_strides, padding)
    tensors: dict[int, object] = {}
    for operation in graph.operations:
        if isinstance(operation, layers.InputLayer):
            output = keras.Input(
                (num_frames, *operation.batch_shape[1:]), dtype=operation.dtype, name=operation.name
            )
        else:
            output = _converted(operation, _rebuilt(operation, tensors), plan)
        tensors[id(operation.output)] = output
    inputs = [tensors[id(tensor)] for tensor in graph.inputs]
    outputs = [tensors[id(tensor)] for tensor in graph.outputs]
    return keras.Model(
        inputs[0] if len(inputs) == 1 else inputs,
        outputs[0] if len(outputs) == 1 else outputs,
        name=f"{model_2d.name}_inflated",
    )
