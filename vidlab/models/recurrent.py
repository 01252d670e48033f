"""Recurrent video classifiers: an LSTM or a GRU reading per-frame CNN features in order.

This is the CNN + RNN recipe of LRCN (Donahue et al., 2015) and of "Beyond
Short Snippets" (Ng et al., 2015): a 2D image CNN turns every frame into a
feature vector, and a recurrent layer reads those vectors one after the other,
so that -- unlike pooling over time -- the order of the frames counts.

* :func:`build_recurrent_classifier` works on precomputed ``(N, T, D)`` frame
  features (the cache of :func:`vidlab.features.dataset_features`);
* :func:`build_end_to_end_classifier` puts the image CNN inside the model,
  wrapped in ``TimeDistributed``, frozen at first; :func:`set_backbone_trainable`
  unfreezes it for fine-tuning (full profile, on a GPU);
* :class:`SubtractClipMean` is a layer that removes from every frame's
  features the clip's average -- what stays constant over a clip (the scene,
  the object's look) -- and keeps how the features move;
* :class:`TemporalDifference` is a layer that turns frame features into the
  change from one frame to the next, ``F[t + 1] - F[t]``;
* :func:`running_predictions` gives the class probabilities after each frame
  of a clip, to see what the recurrent state has gathered so far.

The feature transformations are layers *inside* the model (a ``Normalization``
fitted on the training features, then :class:`SubtractClipMean` or
:class:`TemporalDifference`), so a saved model takes raw features, nothing has
to be repeated by hand at test time, and padding masks flow through them.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

CELLS = ("lstm", "gru")
#: Name of the ``TimeDistributed`` backbone layer of the end-to-end model.
BACKBONE_LAYER = "frame_cnn"
#: Smallest variance the standardization divides by: features that barely move
#: on the training clips must not blow up on unseen ones.
MIN_VARIANCE = 1e-4


@keras.saving.register_keras_serializable(package="vidlab")
class TemporalDifference(keras.layers.Layer):
    """The change between consecutive frames: ``(N, T, D) -> (N, T - 1, D)``.

    Output step ``t`` is ``inputs[:, t + 1] - inputs[:, t]``.  It is masked
    when either of its two frames is masked (padding), so a padded clip and the
    same clip unpadded give the same valid steps.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs[:, 1:] - inputs[:, :-1]

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        return ops.logical_and(mask[:, 1:], mask[:, :-1])

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else steps - 1, *input_shape[2:])


@keras.saving.register_keras_serializable(package="vidlab")
class SubtractClipMean(keras.layers.Layer):
    """Subtract from every frame the clip's mean feature vector: ``(N, T, D) -> (N, T, D)``.

    Only unmasked frames count towards the mean, so a zero-padded clip gives
    the same valid frames as the clip unpadded.  The mask passes through.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return inputs - ops.mean(inputs, axis=1, keepdims=True)
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        total = ops.sum(inputs * weights, axis=1, keepdims=True)
        count = ops.maximum(ops.sum(weights, axis=1, keepdims=True), 1.0)
        return inputs - total / count

    def compute_output_shape(self, input_shape):
        return input_shape


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and variance over every clip and frame of ``features``.

    Pass the *training* features only (unpadded): statistics fitted on the test
    set would leak it into the model.  Variances are floored at
    :data:`MIN_VARIANCE`.
    """
    features = np.asarray(features, dtype=np.float64)
    flat = features.reshape(-1, features.shape[-1])
    return flat.mean(0).astype(np.float32), np.maximum(flat.var(0), MIN_VARIANCE).astype(
        np.float32)


def _check_head_arguments(cell: str, units: int, layers: int, dropout: float,
                          projection: int | None) -> None:
    if projection is not None and projection < 1:
        raise ValueError(f"projection must be None or at least 1, got {projection}")
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    if units < 1 or layers < 1:
        raise ValueError(f"units and layers must be at least 1, got {units} and {layers}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")


def _recurrent_head(x, num_classes: int, cell: str, units: int, layers: int,
                    bidirectional: bool, dropout: float, standardize_with: np.ndarray | None,
                    subtract_clip_mean: bool, differences: bool, projection: int | None):
    """Transform the frame features, read them in order, classify: the layers after the CNN."""
    if standardize_with is not None:
        mean, variance = feature_statistics(standardize_with)
        x = keras.layers.Normalization(axis=-1, mean=mean, variance=variance,
                                       name="standardize")(x)
    if subtract_clip_mean:
        x = SubtractClipMean(name="subtract_clip_mean")(x)
    if differences:
        x = TemporalDifference(name="temporal_difference")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="feature_dropout")(x)
    if projection:
        # One small Dense layer applied to every frame (a 3-D input is projected step by step).
        x = keras.layers.Dense(projection, activation="tanh", name="frame_projection")(x)
    recurrent = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
    for i in range(1, layers + 1):
        # Every layer but the last hands its whole sequence of states to the next one.  The
        # recurrent layers compute in float32 even under mixed precision: JAX's cuDNN RNN
        # kernel has no float16 version, and a small recurrent layer is cheap anyway.
        layer = recurrent(units, return_sequences=i < layers, dtype="float32",
                          name=f"{cell}_{i}")
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{cell}_{i}")
        x = layer(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="state_dropout")(x)
    # float32 even under a mixed-precision policy: a float16 softmax loses small probabilities.
    return keras.layers.Dense(num_classes, activation="softmax", dtype="float32",
                              name="class_probabilities")(x)


def build_recurrent_classifier(
    num_frames: int | None,
    feature_dim: int,
    num_classes: int,
    cell: str = "lstm",
    units: int = 64,
    layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    mask: bool = False,
    standardize_with: np.ndarray | None = None,
    subtract_clip_mean: bool = False,
    differences: bool = False,
    projection: int | None = None,
    name: str | None = None,
) -> keras.Model:
    """A recurrent classifier over per-frame features ``(N, T, D) -> (N, num_classes)``.

    Layers, in order: optional ``Masking`` (padding), optional standardization,
    optional :class:`SubtractClipMean` and :class:`TemporalDifference`, dropout,
    an optional per-frame ``Dense`` projection, ``layers`` stacked LSTM or GRU
    layers (optionally bidirectional), dropout, and a softmax ``Dense`` head
    that reads the last state.

    Parameters
    ----------
    num_frames : int or None
        Frames per clip; ``None`` accepts clips of any length.
    feature_dim : int
        Length ``D`` of one frame's feature vector.
    num_classes : int
    cell : ``"lstm"`` or ``"gru"``
    units : int
        Size of the recurrent state (per direction).
    layers : int
        Recurrent layers stacked on top of each other.
    bidirectional : bool
        Also read every clip backwards and concatenate both final states.
    dropout : float
        Rate of the dropout on the frame features and on the final state.
    mask : bool
        Add a ``Masking`` layer: frames whose features are all exactly 0 are
        padding, and the recurrent layers skip them (they carry their state over).
    standardize_with : (N, T, D) array or None
        Training features (never test features) to fit a per-feature
        standardization on; it becomes a ``Normalization`` layer of the model.
    subtract_clip_mean : bool
        Subtract from every frame the mean of its clip's frames (:class:`SubtractClipMean`).
    differences : bool
        Feed the recurrent layer ``F[t + 1] - F[t]`` instead of ``F[t]``.
    projection : int or None
        Width of a ``Dense`` (tanh) layer applied to every frame before the
        recurrent layer: fewer inputs, far fewer recurrent weights.
    name : str, optional
        The model's name (default: ``"<cell>_classifier"``).
    """
    _check_head_arguments(cell, units, layers, dropout, projection)
    inputs = keras.Input((num_frames, feature_dim), name="frame_features")
    x = keras.layers.Masking(mask_value=0.0, name="padding_mask")(inputs) if mask else inputs
    outputs = _recurrent_head(x, num_classes, cell, units, layers, bidirectional, dropout,
                              standardize_with, subtract_clip_mean, differences, projection)
    return keras.Model(inputs, outputs, name=name or f"{cell}_classifier")


def build_end_to_end_classifier(
    backbone,
    num_frames: int,
    num_classes: int,
    cell: str = "lstm",
    units: int = 64,
    layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    standardize_with: np.ndarray | None = None,
    subtract_clip_mean: bool = False,
    differences: bool = False,
    projection: int | None = None,
    name: str | None = None,
) -> keras.Model:
    """Frames in, classes out: a 2D image CNN on every frame, then the recurrent head.

    The image CNN (``backbone.model`` of :func:`vidlab.backbones.get_backbone`)
    is wrapped in ``TimeDistributed`` (layer name :data:`BACKBONE_LAYER`) and
    **frozen**: train the head first, then call :func:`set_backbone_trainable`
    and train again with a small learning rate to fine-tune it.

    Input: ``(N, num_frames, S, S, 3)`` frames already preprocessed with
    ``backbone.preprocess`` (``S = backbone.input_size``).  Under a
    ``mixed_float16`` policy the output layer stays float32.  The other
    parameters are those of :func:`build_recurrent_classifier`;
    ``standardize_with`` takes the cached training features of the same backbone.
    """
    _check_head_arguments(cell, units, layers, dropout, projection)
    size = backbone.input_size
    backbone.model.trainable = False
    frames = keras.Input((num_frames, size, size, 3), name="frames")
    x = keras.layers.TimeDistributed(backbone.model, name=BACKBONE_LAYER)(frames)
    outputs = _recurrent_head(x, num_classes, cell, units, layers, bidirectional, dropout,
                              standardize_with, subtract_clip_mean, differences, projection)
    return keras.Model(frames, outputs, name=name or f"{backbone.name}_{cell}")


def set_backbone_trainable(model: keras.Model, trainable: bool = True,
                           last_layers: int | None = None) -> int:
    """Unfreeze (or freeze) the image CNN of an end-to-end model; return its trainable weights.

    ``last_layers`` unfreezes only that many of the CNN's last layers.  Batch
    normalization layers always stay frozen (in inference mode): their
    statistics would be ruined by small video batches.  Compile the model again
    afterwards (:func:`vidlab.train.fit` does) -- a change of ``trainable``
    takes effect at compile time.
    """
    cnn = model.get_layer(BACKBONE_LAYER).layer
    cnn.trainable = trainable
    if trainable:
        for layer in cnn.layers[: -last_layers] if last_layers else []:
            layer.trainable = False
        for layer in cnn.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
    return sum(int(np.prod(w.shape)) for w in cnn.trainable_weights)


def has_mask(model: keras.Model) -> bool:
    """True if ``model`` starts with a ``Masking`` layer (it accepts zero-padded clips)."""
    return any(isinstance(layer, keras.layers.Masking) for layer in model.layers)


def running_predictions(model: keras.Model, features: np.ndarray,
                        batch_size: int = 256) -> np.ndarray:
    """Class probabilities after each frame: ``(N, T, D) -> (N, T, num_classes)``.

    Step ``t`` is the model's prediction from frames ``0 .. t`` only: each
    prefix is zero-padded to ``T`` frames and the padding is masked, so all
    prefixes run as one batch.  ``model`` must have a ``Masking`` layer.
    """
    if not has_mask(model):
        raise ValueError("running_predictions needs a model built with mask=True: it feeds "
                         "zero-padded prefixes of every clip.")
    features = np.asarray(features, dtype=np.float32)
    num_clips, num_frames, dim = features.shape
    prefixes = np.zeros((num_clips, num_frames, num_frames, dim), np.float32)
    for t in range(num_frames):
        prefixes[:, t, : t + 1] = features[:, : t + 1]
    prefixes = prefixes.reshape(-1, num_frames, dim)
    probabilities = [ops.convert_to_numpy(model(prefixes[start:start + batch_size],
                                                training=False))
                     for start in range(0, len(prefixes), batch_size)]
    return np.concatenate(probabilities).reshape(num_clips, num_frames, -1)
