"""Two-stream networks: appearance from one frame, motion from stacked optical flow, fused late.

Simonyan & Zisserman (2014) classify a video with two 2D ConvNets that never
see each other:

* the **spatial stream** looks at one RGB frame.  It is an image network
  pretrained on still images and fine-tuned with a new softmax head on its
  ``fc2`` features (:func:`build_spatial_stream`, fed by :func:`spatial_inputs`);
* the **temporal stream** looks at ``L`` consecutive optical-flow fields
  stacked into ``2L`` channels, x and y interleaved (:func:`stack_flows`,
  :func:`temporal_inputs`).  It has the spatial network's architecture with a
  ``2L``-channel input and is trained from scratch or, as in Temporal Segment
  Networks (Wang et al., 2016), initialised from the RGB network by
  *cross-modality initialisation*: the first convolution's filters are averaged
  over R, G and B and the average is replicated over the ``2L`` flow channels;
  every other layer is copied (:func:`build_temporal_stream`,
  :func:`cross_modality_kernel`).

The streams are trained separately and their softmax scores are fused:
averaged (the paper's default), averaged with a weight chosen on the
validation split (:func:`choose_fusion_weight`), or combined by a small learned
model, a logistic regression on the concatenated log-scores fit on the
validation split (:class:`LearnedFusion`).  :func:`evaluate_streams` reports
every stream and every fusion from one call.  At test time the paper also
averages each clip's scores over mirrored copies; mirroring flow must negate a
component of every vector (:func:`mirror_flow`, :func:`mirror_average`).

``L``: the paper stacks ``L = 10`` fields.  The course's clips have 16
frames, hence 15 fields; :data:`FLOW_LENGTH` is 8, a window of 9 frames centred
on the clip (:func:`flow_window`), which also holds the frame the spatial
stream sees (:func:`middle_frame`).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

from vidlab.flow import normalize_flow, stack_flow

#: Flow fields stacked by the temporal stream on the course's 16-frame clips.
FLOW_LENGTH = 8
#: Initialisations of the temporal stream.
INITS = ("cross_modality", "scratch")
#: The names :func:`evaluate_streams` and :func:`fused_scores` report, in order.
FUSIONS = ("spatial", "temporal", "average", "weighted", "learned")


# --------------------------------------------------------------------------- inputs


def middle_frame(clips: np.ndarray) -> np.ndarray:
    """Frame ``T // 2`` of every clip: ``(N, T, H, W, C)`` -> ``(N, H, W, C)``.

    The spatial stream's input at test time.  For 16 frames it is frame 8,
    which lies inside the flow window of :func:`flow_window`.
    """
    clips = np.asarray(clips)
    if clips.ndim != 5:
        raise ValueError(f"clips must have shape (N, T, H, W, C), got {clips.shape}")
    return clips[:, clips.shape[1] // 2]


def flow_window(num_frames: int, length: int = FLOW_LENGTH) -> tuple[int, int]:
    """The frames ``[first, last)`` whose ``length`` flow fields sit in the middle of a clip.

    A clip of ``num_frames`` frames has ``num_frames - 1`` fields; the window of
    ``length`` fields starts at ``(num_frames - 1 - length) // 2`` and needs
    ``length + 1`` frames.  ``clips[:, first:last]`` are the only frames whose
    flow the temporal stream reads, so only they need a flow computation.
    """
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if length > num_frames - 1:
        raise ValueError(f"{length} flow fields need at least {length + 1} frames, "
                         f"the clips have {num_frames}")
    first = (num_frames - 1 - length) // 2
    return first, first + length + 1


def stack_flows(flows: np.ndarray, length: int = FLOW_LENGTH,
                start: int | None = None) -> np.ndarray:
    """:func:`vidlab.flow.stack_flow` for a batch: ``(N, T-1, H, W, 2)`` -> ``(N, H, W, 2L)``.

    Channels are ``[x_s, y_s, x_s+1, y_s+1, ...]``, ``s = start``; ``start=None``
    centres the window on the fields (the same window as :func:`flow_window`).
    """
    flows = np.asarray(flows)
    if flows.ndim != 5 or flows.shape[-1] != 2:
        raise ValueError(f"flows must have shape (N, T-1, H, W, 2), got {flows.shape}")
    if start is None:
        start = flow_window(flows.shape[1] + 1, length)[0]
    if len(flows) == 0:
        return np.empty((0, *flows.shape[2:4], 2 * length), flows.dtype)
    stack_flow(flows[0], length, start)  # checks the window fits the clips
    window = flows[:, start:start + length]  # (N, L, H, W, 2)
    return np.moveaxis(window, 1, 3).reshape(*window.shape[:1], *window.shape[2:4], 2 * length)


def temporal_inputs(flows: np.ndarray, length: int = FLOW_LENGTH, bound: float = 20.0,
                    start: int | None = None) -> np.ndarray:
    """The temporal stream's input: stacked fields clipped to ``bound`` pixels, scaled to [-1, 1].

    ``bound=20`` is the two-stream / I3D value for frames of about 256 pixels;
    scale it with the frame size (5 px at 64x64).
    """
    return normalize_flow(stack_flows(flows, length, start), bound)


#: The mirrors of :func:`mirror_flow`, and the flow component each one negates.
MIRRORS = {"horizontal": 0, "vertical": 1}


def mirror_flow(stacks: np.ndarray, mirror: str = "horizontal") -> np.ndarray:
    """Mirror stacked flow ``(N, H, W, 2L)``: flip the image *and* the displacements.

    A flow field is a vector field: mirroring left-right moves every vector to
    the mirrored pixel and negates its x component (a motion to the right
    becomes a motion to the left); mirroring top-bottom negates y.  Flipping
    the channels like an RGB image would keep the old directions.
    """
    if mirror not in MIRRORS:
        raise ValueError(f"mirror must be one of {tuple(MIRRORS)}, got {mirror!r}")
    stacks = np.asarray(stacks)
    if stacks.ndim != 4 or stacks.shape[-1] % 2:
        raise ValueError(f"stacks must have shape (N, H, W, 2L), got {stacks.shape}")
    out = np.flip(stacks, axis=2 if mirror == "horizontal" else 1).copy()
    out[..., MIRRORS[mirror]::2] *= -1
    return out


def mirror_average(model: keras.Model, stacks: np.ndarray,
                   permutations: dict[str, Sequence[int]], batch_size: int | None = None,
                   return_views: bool = False):
    """Test-time mirroring: a temporal stream's scores averaged over the mirror images of the input.

    Parameters
    ----------
    model : keras.Model
        Stacked flow ``(N, H, W, 2L)`` -> ``(N, classes)`` scores.
    stacks : np.ndarray
        The clips' stacked flow.
    permutations : dict
        For each mirror used (``"horizontal"``, ``"vertical"``), the class of a
        mirrored clip: ``permutations[m][k]`` is the class that class ``k``
        becomes (e.g. ``SlideLeft`` -> ``SlideRight``; the identity when the
        labels do not depend on directions, as for most UCF101 actions).  Every
        combination of the given mirrors is a view: 2 views for one mirror, 4
        for both.
    batch_size : int or None
        Batch size of the single ``predict`` call over every view; ``None``:
        one view per batch.
    return_views : bool
        Also return every view's scores (view 0 is the clip as it is).

    Returns
    -------
    np.ndarray
        ``(N, classes)`` mean of the views' scores, each read back in the
        original clip's classes; with ``return_views``, the pair ``(mean,
        (views, N, classes) scores)``.
    """
    stacks = np.asarray(stacks)
    views, orders = [stacks], [None]
    for mirror, permutation in permutations.items():
        permutation = np.asarray(permutation)
        views += [mirror_flow(view, mirror) for view in views]
        orders += [permutation if order is None else permutation[order] for order in orders]
    batch_size = len(stacks) if batch_size is None else batch_size
    scores = np.asarray(model.predict(np.concatenate(views), batch_size=batch_size, verbose=0))
    scores = scores.reshape(len(views), len(stacks), -1)
    scores = np.stack([s if order is None else s[:, order]
                       for s, order in zip(scores, orders, strict=True)])
    return (scores.mean(axis=0), scores) if return_views else scores.mean(axis=0)


def spatial_inputs(frames: np.ndarray, backbone) -> np.ndarray:
    """RGB frames ``(N, H, W, 3)`` in [0, 255] resized and preprocessed for ``backbone``."""
    from vidlab.video import resize_frames

    size = backbone.input_size
    frames = np.asarray(frames)
    if frames.shape[1:3] != (size, size):
        frames = resize_frames(frames, (size, size))
    return np.asarray(backbone.preprocess(np.asarray(frames, np.float32)), np.float32)


# --------------------------------------------------------------------------- streams


def cross_modality_kernel(kernel: np.ndarray, channels: int) -> np.ndarray:
    """Cross-modality initialisation of a first-layer kernel (Wang et al., 2016).

    ``kernel`` is ``(kh, kw, 3, filters)`` (RGB input); the result is
    ``(kh, kw, channels, filters)`` where every input channel holds the mean of
    the three RGB filters.  A filter then answers a flow channel as it
    answered a grey image, without the RGB network's colour preferences.
    """
    kernel = np.asarray(kernel)
    if kernel.ndim != 4:
        raise ValueError(f"kernel must have shape (kh, kw, in, out), got {kernel.shape}")
    if channels < 1:
        raise ValueError(f"channels must be >= 1, got {channels}")
    mean = kernel.mean(axis=2, keepdims=True)
    return np.repeat(mean, channels, axis=2).astype(kernel.dtype)


def _trunk_model(source) -> keras.Model:
    """A backbone's feature model (``Backbone`` or ``keras.Model``)."""
    model = getattr(source, "model", source)
    if not isinstance(model, keras.Model):
        raise TypeError(f"expected a vidlab Backbone or a keras.Model, got {type(source).__name__}")
    return model


def _rebuild(model: keras.Model, channels: int) -> keras.Model:
    """A fresh, randomly initialised copy of a functional ``model`` with ``channels`` inputs."""
    config = model.get_config()
    inputs = [layer for layer in config.get("layers", []) if layer["class_name"] == "InputLayer"]
    if len(inputs) != 1:
        raise ValueError("the backbone must be a functional model with one image input")
    shape = list(inputs[0]["config"]["batch_shape"])
    inputs[0]["config"]["batch_shape"] = [*shape[:-1], channels]
    for layer in config["layers"]:
        layer.pop("build_config", None)  # the layers are built on the new input's shapes
    return keras.Model.from_config(config)


def _copy_weights(source: keras.Model, target: keras.Model, cross_modality: bool) -> list[str]:
    """Copy every layer's weights from ``source`` to ``target`` (same names).

    A layer whose kernel only differs in its input channels (the layer that
    reads the input) gets :func:`cross_modality_kernel` when ``cross_modality``
    is set; any other mismatch is an error.  Returns the names of the layers
    initialised that way.
    """
    converted = []
    for layer in target.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        original = source.get_layer(layer.name).get_weights()
        new = []
        for mine, theirs in zip(weights, original, strict=True):
            if mine.shape == theirs.shape:
                new.append(theirs)
            elif (cross_modality and mine.ndim == 4
                  and mine.shape[:2] + mine.shape[3:] == theirs.shape[:2] + theirs.shape[3:]):
                new.append(cross_modality_kernel(theirs, mine.shape[2]))
                converted.append(layer.name)
            else:
                raise ValueError(f"layer {layer.name!r}: cannot initialise weights of shape "
                                 f"{mine.shape} from {theirs.shape}")
        layer.set_weights(new)
    return converted


#: The layers :func:`build_spatial_stream` and :func:`build_temporal_stream` add to the trunk.
HEAD_LAYERS = ("head_dropout", "head")


def _add_head(trunk: keras.Model, num_classes: int, dropout: float, name: str) -> keras.Model:
    x = trunk.output
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    # float32 even under a mixed-precision policy: a float16 softmax loses small probabilities.
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="head")(x)
    return keras.Model(trunk.input, outputs, name=name)


def build_spatial_stream(backbone, num_classes: int, dropout: float = 0.5,
                         name: str = "spatial_stream") -> keras.Model:
    """The spatial stream: a copy of the pretrained backbone and a new softmax head.

    Parameters
    ----------
    backbone : vidlab.backbones.Backbone or keras.Model
        The pretrained image network up to its feature layer (``fc2`` for
        ``shapes_vgg`` and VGG16).  It is copied, weights included, so
        fine-tuning the stream leaves the backbone untouched.
    num_classes : int
    dropout : float
        Dropout before the head (the paper uses 0.5 to 0.9 on its ``fc`` layers).

    Returns
    -------
    keras.Model
        ``(B, H, W, 3)`` preprocessed frames (:func:`spatial_inputs`) ->
        ``(B, num_classes)`` softmax; every layer is trainable (fine-tuning).
    """
    source = _trunk_model(backbone)
    trunk = _rebuild(source, source.input_shape[-1])
    _copy_weights(source, trunk, cross_modality=False)
    return _add_head(trunk, num_classes, dropout, name)


def set_trunk_trainable(model: keras.Model, trainable: bool) -> int:
    """Freeze (or unfreeze) everything of a stream but its new head; return its trainable weights.

    Fine-tuning in two stages: a fresh head on a frozen trunk first, so that its
    random early gradients cannot scramble the pretrained weights, then every
    layer at a small learning rate.  Compile the model again afterwards
    (:func:`vidlab.train.fit` does).
    """
    for layer in model.layers:
        layer.trainable = trainable or layer.name in HEAD_LAYERS
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def build_temporal_stream(backbone, num_classes: int, length: int = FLOW_LENGTH,
                          init: str = "cross_modality", dropout: float = 0.5,
                          name: str = "temporal_stream") -> keras.Model:
    """The temporal stream: the backbone's architecture on ``2 * length`` flow channels.

    Parameters
    ----------
    backbone : vidlab.backbones.Backbone or keras.Model
        The RGB network whose architecture (and, with cross-modality
        initialisation, weights) the stream takes.
    num_classes : int
    length : int
        ``L``, the number of stacked flow fields; the input has ``2L`` channels.
    init : {"cross_modality", "scratch"}
        ``"cross_modality"``: the first convolution's kernel is
        :func:`cross_modality_kernel` of the RGB kernel, every other layer is a
        copy of the RGB network's.  ``"scratch"``: Keras's default random
        initialisation (seeded by :func:`vidlab.config.seed_everything`).
    dropout : float
        Dropout before the new softmax head.

    Returns
    -------
    keras.Model
        ``(B, H, W, 2L)`` stacked flow (:func:`temporal_inputs`) -> ``(B, num_classes)``.
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    source = _trunk_model(backbone)
    trunk = _rebuild(source, 2 * length)
    if init == "cross_modality":
        converted = _copy_weights(source, trunk, cross_modality=True)
        if not converted:
            raise ValueError("no input convolution found to initialise across modalities")
    return _add_head(trunk, num_classes, dropout, name)


# --------------------------------------------------------------------------- fusion


def _check_scores(spatial: np.ndarray, temporal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    spatial, temporal = np.asarray(spatial, np.float64), np.asarray(temporal, np.float64)
    if spatial.ndim != 2 or spatial.shape != temporal.shape:
        raise ValueError(f"the streams' scores must both be (N, classes), got {spatial.shape} "
                         f"and {temporal.shape}")
    return spatial, temporal


def fuse(spatial: np.ndarray, temporal: np.ndarray, weight: float = 0.5) -> np.ndarray:
    """Weighted average of two streams' softmax scores.

    Returns ``weight * spatial + (1 - weight) * temporal``; ``weight=0.5`` is the
    plain average, the paper's default fusion.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    spatial, temporal = _check_scores(spatial, temporal)
    return weight * spatial + (1.0 - weight) * temporal


def choose_fusion_weight(spatial: np.ndarray, temporal: np.ndarray, y: np.ndarray,
                         grid: Sequence[float] | None = None) -> float:
    """The spatial weight of :func:`fuse` with the best accuracy on ``(spatial, temporal, y)``.

    Pass the *validation* split's scores, never the test split's.  ``grid``
    defaults to 0, 0.05, ..., 1; ties go to the weight closest to 0.5 (the
    plain average), then to the smaller weight.
    """
    grid = np.round(np.linspace(0, 1, 21), 4) if grid is None else np.asarray(grid, float)
    y = np.asarray(y)
    scored = [(np.mean(fuse(spatial, temporal, w).argmax(1) == y), -abs(w - 0.5), -w)
              for w in grid]
    best = max(range(len(grid)), key=lambda i: scored[i])
    return float(grid[best])


class LearnedFusion:
    """A learned fusion layer: logistic regression on the concatenated log-scores of both streams.

    On log-probabilities a linear model can learn a weighted *product* of the
    streams per class (a class needs both streams' support), which averaging
    cannot express.  Fit it on the validation split: the streams are
    over-confident on their own training clips.
    """

    def __init__(self, C: float = 1.0, eps: float = 1e-6):
        self.C, self.eps = C, eps
        self.model = None

    def _features(self, spatial: np.ndarray, temporal: np.ndarray) -> np.ndarray:
        spatial, temporal = _check_scores(spatial, temporal)
        return np.log(np.clip(np.concatenate([spatial, temporal], axis=1), self.eps, 1.0))

    def fit(self, spatial: np.ndarray, temporal: np.ndarray, y: np.ndarray,
            num_classes: int | None = None) -> LearnedFusion:
        """Fit on one split's scores and labels; returns ``self``."""
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(y)
        self.num_classes = np.asarray(spatial).shape[1] if num_classes is None else num_classes
        self.model = LogisticRegression(C=self.C, max_iter=2000)
        self.model.fit(self._features(spatial, temporal), y)
        return self

    def predict_proba(self, spatial: np.ndarray, temporal: np.ndarray) -> np.ndarray:
        """``(N, classes)`` fused probabilities (zero for a class absent when fitting)."""
        if self.model is None:
            raise RuntimeError("call fit() on the validation split first")
        seen = self.model.predict_proba(self._features(spatial, temporal))
        out = np.zeros((len(seen), self.num_classes))
        out[:, self.model.classes_] = seen
        return out


def fused_scores(spatial: np.ndarray, temporal: np.ndarray, weight: float = 0.5,
                 learned: LearnedFusion | None = None) -> dict[str, np.ndarray]:
    """Every stream's and every fusion's ``(N, classes)`` scores, keyed as :data:`FUSIONS`.

    ``"weighted"`` uses ``weight`` (from :func:`choose_fusion_weight`);
    ``"learned"`` is present only when a fitted :class:`LearnedFusion` is given.
    """
    spatial, temporal = _check_scores(spatial, temporal)
    scores = {"spatial": spatial, "temporal": temporal, "average": fuse(spatial, temporal),
              "weighted": fuse(spatial, temporal, weight)}
    if learned is not None:
        scores["learned"] = learned.predict_proba(spatial, temporal)
    return scores


def evaluate_streams(spatial: np.ndarray, temporal: np.ndarray, y: np.ndarray,
                     weight: float = 0.5, learned: LearnedFusion | None = None
                     ) -> dict[str, float]:
    """Accuracy of each stream and of each fusion on one split, from one call.

    Parameters
    ----------
    spatial, temporal : np.ndarray
        ``(N, classes)`` softmax scores of the two streams on the same clips.
    y : np.ndarray
        ``(N,)`` true labels.
    weight : float
        The spatial weight of the weighted fusion.
    learned : LearnedFusion or None
        A fusion fitted on the validation split; adds ``"learned"``.

    Returns
    -------
    dict
        ``{"spatial", "temporal", "average", "weighted"[, "learned"]}`` -> accuracy.
    """
    y = np.asarray(y)
    return {name: float(np.mean(s.argmax(1) == y))
            for name, s in fused_scores(spatial, temporal, weight, learned).items()}
