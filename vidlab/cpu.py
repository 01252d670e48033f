"""TensorFlow-on-CPU speed work: what it is, where it pays, and the benchmark that says so.

Nothing here changes a number a model computes (beyond float rounding); each piece only
changes how long it takes on a CPU, and each has a benchmark in ``benchmarks/``:

* :func:`array_batches` (``benchmarks/epoch_start.py``): arrays become a ``tf.data``
  pipeline with autotuning off.  From arrays Keras builds a pipeline with autotuning on,
  and TensorFlow 2.21 then often pauses, idle, at the start of an epoch (up to 2.6 s on a
  2-core CPU) while it shuts down the previous epoch's pipeline.  :func:`vidlab.train.fit`
  feeds arrays through it.
* :func:`fast_3d` with :class:`StackedConv3D` and :class:`SeparableMaxPooling3D`
  (``benchmarks/layers3d.py``): without oneDNN's kernels (``TF_ENABLE_ONEDNN_OPTS=0``,
  the second pass of ``make test``), TensorFlow trains ``Conv3D`` and ``MaxPooling3D``
  with slow generic CPU kernels, and the same layers computed with 2D operations train
  tens of times faster; with oneDNN's kernels (the default) Keras's own are faster.
  :func:`fast_3d` gives a model the 2D-op layers only where they pay.  Notebook 05 trains
  its mini-I3D through it.
* The choice between decoding clips first and decoding them beside the model
  (:func:`vidlab.features.dataset_features`, ``benchmarks/feature_extraction.py``) is
  made there: overlapping pays on a GPU, not on a 2-core CPU.

How each 3D operation is written with 2D ones:

* A 3D convolution with a ``kt x kh x kw`` kernel is, for each output frame, a
  2D convolution of the ``kt`` input frames it reads, stacked along channels,
  with the kernel's ``kt`` slices stacked the same way (:class:`StackedConv3D`).
* A 3D max pool is a 2D max pool of every frame, then a maximum over each
  window of ``kt`` frames (:class:`SeparableMaxPooling3D`): a maximum over a
  box is the maximum over time of the maxima over space.

Both layers subclass the Keras layer they replace, keep its weights, config and
output shape, and fall back to it where the 2D route does not apply (an unknown
number of frames, dilation in time, grouped convolution).
"""

from __future__ import annotations

import os

import keras
import numpy as np
from keras import layers, ops


def _time_windows(x, kt: int, stride: int):
    """Return the windows of ``kt`` frames that VALID output frames read: ``(B, T_out, kt, ...)``.

    Window ``t`` holds input frames ``t * stride`` to ``t * stride + kt - 1``.
    One gather: in TensorFlow's graph ``kt`` strided slices cost three times as much.
    """
    frames_out = (x.shape[1] - kt) // stride + 1
    starts = np.arange(frames_out)[:, np.newaxis] * stride
    windows = ops.take(x, (starts + np.arange(kt)).ravel(), axis=1)
    return ops.reshape(windows, (-1, frames_out, kt, *x.shape[2:]))


def repeat_edge_frames(x, before: int, after: int):
    """Pad time (axis 1) with ``before`` copies of the first frame and ``after`` of the last.

    One concatenation of two slices: ``ops.repeat`` builds the same tensor with
    about 30 operations in TensorFlow's graph, which every training step traces
    and runs (notebook 05's network pads 15 times).
    """
    return ops.concatenate([x[:, :1]] * before + [x] + [x[:, -1:]] * after, axis=1)


def _same_time_padding(frames: int, kt: int, stride: int) -> tuple[int, int]:
    """Return the frames SAME padding adds before and after (TensorFlow's rule)."""
    total = max((-(-frames // stride) - 1) * stride + kt - frames, 0)
    return total // 2, total - total // 2


@keras.saving.register_keras_serializable(package="vidlab")
class StackedConv3D(layers.Conv3D):
    """A ``Conv3D`` computed as one 2D convolution over stacked time windows.

    Input ``(batch, T, H, W, C)`` and kernel ``(kt, kh, kw, C, filters)``, as
    ``Conv3D``.  Each output frame reads ``kt`` input frames; they are stacked
    along channels into ``(batch * T_out, H, W, kt * C)`` and convolved in
    space with the kernel reshaped to ``(kh, kw, kt * C, filters)``.  The
    output equals ``Conv3D``'s to float rounding; the input is copied
    ``kt / stride`` times in memory.
    """

    def _stackable(self, inputs) -> bool:
        return (
            inputs.shape[1] is not None
            and self.dilation_rate[0] == 1
            and self.groups == 1
            and self.data_format == "channels_last"
        )

    def call(self, inputs):
        if not self._stackable(inputs):
            return super().call(inputs)
        kt, kh, kw = self.kernel_size
        stride = self.strides[0]
        if self.padding == "same":
            before, after = _same_time_padding(inputs.shape[1], kt, stride)
            if before or after:
                inputs = ops.pad(inputs, ((0, 0), (before, after), (0, 0), (0, 0), (0, 0)))
        _, frames, height, width, channels = inputs.shape
        if kt == 1 and stride == 1:  # every frame on its own: no windows to gather
            frames_out, stacked = frames, ops.reshape(inputs, (-1, height, width, channels))
        else:
            windows = _time_windows(inputs, kt, stride)  # (B, T_out, kt, H, W, C)
            frames_out = windows.shape[1]
            stacked = ops.transpose(windows, (0, 1, 3, 4, 2, 5))  # frames next to channels
            stacked = ops.reshape(stacked, (-1, height, width, kt * channels))
        kernel = ops.reshape(
            ops.transpose(self.kernel, (1, 2, 0, 3, 4)), (kh, kw, kt * channels, self.filters)
        )
        outputs = ops.conv(
            stacked,
            kernel,
            strides=self.strides[1:],
            padding=self.padding,
            dilation_rate=self.dilation_rate[1:],
        )
        outputs = ops.reshape(outputs, (-1, frames_out, *outputs.shape[1:]))
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        return self.activation(outputs) if self.activation is not None else outputs


@keras.saving.register_keras_serializable(package="vidlab")
class SeparableMaxPooling3D(layers.MaxPooling3D):
    """A ``MaxPooling3D`` computed as a 2D max pool of every frame, then a max over time.

    SAME padding in time repeats the edge frames, which are inside every
    window that reaches past them, so the maximum is the one ``MaxPooling3D``
    computes (it ignores its padding).
    """

    def call(self, inputs):
        if inputs.shape[1] is None or self.data_format != "channels_last":
            return super().call(inputs)
        kt, kh, kw = self.pool_size
        stride = self.strides[0]
        _, frames, height, width, channels = inputs.shape
        x = ops.reshape(inputs, (-1, height, width, channels))
        if (kh, kw, *self.strides[1:]) != (1, 1, 1, 1):
            x = ops.max_pool(x, (kh, kw), self.strides[1:], padding=self.padding)
        x = ops.reshape(x, (-1, frames, *x.shape[1:]))
        if kt == 1 and stride == 1:
            return x
        if self.padding == "same":
            before, after = _same_time_padding(frames, kt, stride)
            x = repeat_edge_frames(x, before, after)
        return ops.max(_time_windows(x, kt, stride), axis=2)


#: The Keras layer each layer of this module computes, and the other way round.
_TWINS = {layers.Conv3D: StackedConv3D, layers.MaxPooling3D: SeparableMaxPooling3D}


def with_2d_ops(model: keras.Model) -> keras.Model:
    """Return a copy of ``model`` whose Conv3D and MaxPooling3D compute with 2D operations.

    Every ``keras.layers.Conv3D`` becomes a :class:`StackedConv3D` and every
    ``keras.layers.MaxPooling3D`` a :class:`SeparableMaxPooling3D`, from the
    same config (name included); every other layer is cloned as it is.  The
    copy holds ``model``'s weights and computes the same numbers, to float
    rounding.  On a CPU without oneDNN's kernels it trains far faster; with
    them, slower (``benchmarks/layers3d.py``): :func:`fast_3d` chooses.

    Parameters
    ----------
    model
        A functional or Sequential Keras model.

    Returns
    -------
    keras.Model
        The copy; ``model`` itself is left unchanged.
    """

    def clone(layer: layers.Layer) -> layers.Layer:
        return _TWINS.get(type(layer), type(layer)).from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def array_batches(x, y, batch_size: int, shuffle: bool, seed: int = 0):
    """``(x, y)`` as a ``tf.data.Dataset`` of batches, tf.data's autotuning off.

    With ``shuffle``, the order changes every epoch and repeats from one run to
    the next (it follows ``seed``).  Why autotuning is off: this module's
    docstring.  On a backend other than TensorFlow this returns ``None`` and
    :func:`fit` passes the arrays to Keras as they are.
    """
    if keras.backend.backend() != "tensorflow":
        return None
    # TensorFlow is imported here, not at the top: the module also serves the JAX backend.
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.batch(batch_size).with_options(options)


def slow_3d_kernels() -> bool:
    """Whether training ``Conv3D`` and ``MaxPooling3D`` goes through TensorFlow's slow kernels.

    True on the TensorFlow backend, on a CPU, with oneDNN's kernels turned off
    (``TF_ENABLE_ONEDNN_OPTS=0``): there a training step of notebook 05's mini-I3D is
    tens of times slower with Keras's 3D layers than with the 2D-op ones
    (``benchmarks/layers3d.py`` prints both).
    """
    if keras.backend.backend() != "tensorflow" or os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0":
        return False
    import tensorflow as tf  # the TensorFlow backend is in use: it is already imported

    return not tf.config.list_physical_devices("GPU")


def fast_3d(model: keras.Model) -> keras.Model:
    """``model`` as it is, or where TensorFlow's 3D kernels are slow, its 2D-op copy.

    The copy (:func:`with_2d_ops`) holds the same weights and computes the same
    numbers to float rounding; only the time a training step takes differs.

    Parameters
    ----------
    model
        A functional or Sequential Keras model with ``Conv3D``/``MaxPooling3D`` layers.

    Returns
    -------
    keras.Model
        ``model`` itself, or the copy when :func:`slow_3d_kernels`.
    """
    return with_2d_ops(model) if slow_3d_kernels() else model
