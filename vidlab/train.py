"""Training and evaluation shared by notebooks 03-05.

* :func:`split_by_group` holds out whole groups of the training clips as a
  validation set (never a random split of clips);
* :func:`fit` trains a Keras classifier, seeded, with early stopping on that
  validation set and the best epoch's weights restored, and prints one short
  line every few epochs instead of progress bars;
* :func:`evaluate` returns the accuracy, sklearn's per-class report and the
  confusion matrix.

Every number :func:`fit` prints is a loss or an accuracy, which are
bit-identical from one run to the next on the same machine (seeded, with
TensorFlow op determinism); the training time is printed as ``12.3 s``, which
the notebooks' sanitizer ignores.

Arrays reach ``model.fit`` as a ``tf.data`` pipeline with autotuning off
(:func:`vidlab.cpu.array_batches`, which says why).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
from sklearn.metrics import classification_report, confusion_matrix
from sklearn.model_selection import GroupShuffleSplit

from vidlab import cpu


def split_by_group(records: Sequence, fraction: float = 0.2,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, validation)`` into ``records``; about ``fraction`` of the groups held out.

    Never a random split of clips: every group (one scene, one background) lands
    on one side only, as scikit-learn's ``GroupShuffleSplit`` draws them.
    ``records`` are :class:`vidlab.datasets.VideoRecord` in the order of the
    arrays they describe (e.g. ``dataset.train`` and its cached features), so
    ``x[train]`` and ``x[validation]`` split the arrays the same way; both index
    arrays are in that order.

    Raises
    ------
    ValueError
        If ``fraction`` is not between 0 and 1, or the records come from one group.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    groups = np.array([r.group for r in records])
    count = len(np.unique(groups))
    if count < 2:
        raise ValueError(f"split_by_group needs clips from at least two groups, got {count}.")
    held_out = min(count - 1, max(1, round(fraction * count)))  # one group at least, each side
    splitter = GroupShuffleSplit(n_splits=1, test_size=held_out, random_state=seed)
    return next(splitter.split(groups, groups=groups))


class CompactLog(keras.callbacks.Callback):
    """Print one line every ``every`` epochs (and the last one): losses and accuracies."""

    def __init__(self, every: int = 5, digits: int = 3):
        super().__init__()
        self.every, self.digits = max(1, every), digits
        self._last: tuple[int, dict] | None = None

    def _line(self, epoch: int, logs: dict) -> str:
        shown = "  ".join(f"{key} {value:.{self.digits}f}" for key, value in logs.items()
                          if key in ("loss", "accuracy", "val_loss", "val_accuracy"))
        return f"epoch {epoch + 1:>3}  {shown}"

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        self._last = (epoch, logs)
        if (epoch + 1) % self.every == 0:
            print(self._line(epoch, logs))
            self._last = None

    def on_train_end(self, logs=None):
        if self._last is not None:  # the last epoch, if its line was not printed yet
            print(self._line(*self._last))


def fit(
    model: keras.Model,
    train,
    validation,
    epochs: int = 100,
    batch_size: int = 32,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
    stopping: keras.callbacks.EarlyStopping | None = None,
    log_every: int = 5,
) -> keras.callbacks.History:
    """Train ``model`` (softmax outputs, integer labels), stopping early on ``validation``.

    The model is compiled here (Adam at ``learning_rate``, sparse categorical
    cross-entropy, accuracy), so calling :func:`fit` again -- e.g. to fine-tune
    after unfreezing layers -- starts a fresh optimizer.  The shuffling and the
    dropout draw from Keras's seeded random state: call
    :func:`vidlab.config.seed_everything` before building the model for a run
    that repeats.

    Parameters
    ----------
    train, validation
        ``(x, y)`` arrays, or a ``tf.data.Dataset`` of ``(inputs, labels)``
        batches (then ``batch_size`` is the dataset's own).  The validation set
        holds out whole *groups* (:func:`split_by_group`), never the test set:
        the test set is looked at once, at the end.
    learning_rate
        Adam's learning rate: a number, or a schedule of the step number such as
        ``keras.optimizers.schedules.CosineDecay(5e-3, decay_steps=epochs *
        steps_per_epoch)``, which ends a short budget at a small rate instead of
        in the middle of a big step.
    stopping
        When to stop: a ``keras.callbacks.EarlyStopping`` (default: no better
        ``val_loss`` for 10 epochs).  Its best epoch's weights are restored.
        With ``min_delta=0``, a validation loss that keeps creeping towards zero
        resets ``patience`` at every epoch and the run never stops early.
    log_every
        Print one line every ``log_every`` epochs, and one on the best epoch;
        0 prints nothing.

    Returns
    -------
    keras.callbacks.History
        ``.history`` holds the per-epoch curves (for :func:`vidlab.viz.plot_history`);
        ``.best_epoch`` (1-based) and ``.seconds`` (training time) are added.
    """
    stopping = stopping or keras.callbacks.EarlyStopping(patience=10)
    stopping.restore_best_weights = True
    # The metric object and Adam's slots are made here, not inside the first training step:
    # TensorFlow traces a step that creates variables twice (8 s per fit for notebook 05's I3D).
    accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=[accuracy])
    model.optimizer.build(model.trainable_variables)
    callbacks = [stopping] + ([CompactLog(log_every)] if log_every else [])
    batches = _batches(train, batch_size, shuffle=True)
    if isinstance(batches, tuple):  # arrays on another backend: Keras batches them
        data = {"x": batches[0], "y": batches[1], "batch_size": batch_size, "shuffle": True}
    else:  # a dataset shuffles itself
        data = {"x": batches, "shuffle": False}
    start = time.perf_counter()
    history = model.fit(**data, validation_data=_batches(validation, batch_size, shuffle=False),
                        epochs=epochs, callbacks=callbacks, verbose=0)
    history.seconds = time.perf_counter() - start
    history.best_epoch = stopping.best_epoch + 1
    if log_every:
        best = history.history[stopping.monitor][stopping.best_epoch]
        print(f"best epoch {history.best_epoch} of {len(history.epoch)} ({stopping.monitor} "
              f"{best:.3f}), its weights restored; trained in {history.seconds:.1f} s")
    return history


def _batches(data, batch_size: int, shuffle: bool):
    """``(x, y)`` arrays as :func:`vidlab.cpu.array_batches` (on another backend, as they
    are); a dataset as it is."""
    if not isinstance(data, tuple):
        return data  # a dataset of (inputs, labels) batches: it batches and shuffles itself
    x, y = data
    seed = int(np.random.randint(2**31)) if shuffle else 0  # noqa: NPY002 -- the seeded state
    batches = cpu.array_batches(x, y, batch_size, shuffle, seed)
    return (x, y) if batches is None else batches


@dataclass
class Evaluation:
    """What :func:`evaluate` measured on one split."""

    accuracy: float
    #: sklearn's ``classification_report`` text: precision, recall, F1 per class.
    report: str
    #: ``(C, C)`` counts, rows true class, columns predicted class.
    confusion: np.ndarray
    #: ``(N,)`` predicted class of every clip.
    predicted: np.ndarray
    #: ``(N, C)`` predicted class probabilities.
    probabilities: np.ndarray


def predict_probabilities(model: keras.Model, x, batch_size: int = 256) -> np.ndarray:
    """``model``'s outputs on ``x``, batch by batch, as one NumPy array.

    Arrays are fed in slices of ``batch_size`` through a plain model call: no
    ``tf.function`` is traced per model, so evaluating many small models in a
    row stays quiet and fast.  Anything else (a ``tf.data.Dataset`` of input
    batches) goes through ``model.predict``.
    """
    if not hasattr(x, "shape"):
        return np.asarray(model.predict(x, verbose=0))
    outputs = [keras.ops.convert_to_numpy(model(x[start:start + batch_size], training=False))
               for start in range(0, len(x), batch_size)]
    return np.concatenate(outputs)


def evaluate(model: keras.Model, x, y: np.ndarray, class_names: Sequence[str],
             batch_size: int = 256) -> Evaluation:
    """Accuracy, per-class report and confusion matrix of ``model`` on ``(x, y)``.

    ``x`` is an array, or an (unshuffled) dataset of input batches whose
    labels, in order, are ``y``.
    """
    probabilities = predict_probabilities(model, x, batch_size)
    predicted = probabilities.argmax(axis=-1)
    y = np.asarray(y)
    labels = np.arange(len(class_names))
    return Evaluation(
        accuracy=float(np.mean(predicted == y)),
        report=classification_report(y, predicted, labels=labels,
                                     target_names=list(class_names), digits=3,
                                     zero_division=0),
        confusion=confusion_matrix(y, predicted, labels=labels),
        predicted=predicted,
        probabilities=probabilities,
    )
