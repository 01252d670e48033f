"""Training and evaluation shared by notebooks 03-05.

* :func:`split_by_group` holds out whole groups of the training clips as a
  validation set (never a random split of clips: see
  :func:`vidlab.datasets.group_split`);
* :func:`fit` trains a Keras classifier, seeded, with early stopping on that
  validation set and the best epoch's weights restored, and prints one short
  line every few epochs instead of progress bars;
* :func:`evaluate` returns the accuracy, sklearn's per-class report and the
  confusion matrix.

Every number :func:`fit` prints is a loss or an accuracy, which are
bit-identical from one run to the next on the same machine (seeded, with
TensorFlow op determinism); the training time is printed as ``12.3 s``, which
the notebooks' sanitizer ignores.

Arrays reach ``model.fit`` as a ``tf.data`` pipeline built here
(:func:`array_batches`: shuffled with the seed, batched, tf.data's autotuning
off) rather than as arrays.  From arrays Keras builds a pipeline with
autotuning on, and TensorFlow 2.21 then often pauses, idle, at the start of an
epoch (up to 2.6 s on a 2-core CPU) while it shuts down the previous epoch's
pipeline; ``benchmarks/epoch_start.py`` measures the pauses both ways.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
from sklearn.metrics import classification_report, confusion_matrix

from vidlab import config


def split_by_group(records: Sequence, fraction: float = 0.2,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, validation)`` into ``records``; about ``fraction`` of the groups held out.

    ``records`` are :class:`vidlab.datasets.VideoRecord` in the order of the
    arrays they describe (e.g. ``dataset.train`` and its cached features), so
    ``x[train]`` and ``x[validation]`` split the arrays the same way.
    """
    from vidlab.datasets import group_split

    _, held_out = group_split(list(records), fraction, seed)
    held_out = set(held_out)
    is_validation = np.array([r in held_out for r in records])
    return np.flatnonzero(~is_validation), np.flatnonzero(is_validation)


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


def fit(
    model: keras.Model,
    x_train,
    y_train: np.ndarray | None,
    x_val,
    y_val: np.ndarray | None,
    epochs: int = 100,
    batch_size: int = 32,
    seed: int = 0,
    patience: int = 10,
    min_delta: float = 0.0,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
    log_every: int = 5,
    monitor: str = "val_loss",
    verbose: bool = True,
) -> keras.callbacks.History:
    """Train ``model`` (softmax outputs, integer labels) with early stopping on ``(x_val, y_val)``.

    The model is compiled here (Adam at ``learning_rate``, sparse categorical
    cross-entropy, accuracy), so calling :func:`fit` again -- e.g. to fine-tune
    after unfreezing layers -- starts a fresh optimizer.  Training stops when
    ``monitor`` has not improved for ``patience`` epochs, and the weights of its
    best epoch are restored.

    Parameters
    ----------
    x_train, y_train
        Arrays, or a ``tf.data.Dataset`` of ``(inputs, labels)`` batches with
        ``y_train=None`` (then ``batch_size`` is the dataset's own).
    x_val, y_val
        A validation set of *held-out groups* (:func:`split_by_group`), never the
        test set: the test set is looked at once, at the end.  Arrays, or a
        dataset with ``y_val=None``.
    min_delta
        The smallest change of ``monitor`` that counts as an improvement.  With
        the default 0, a validation loss that keeps creeping towards zero resets
        ``patience`` at every epoch and early stopping never ends the run.
    learning_rate
        Adam's learning rate: a number, or a schedule of the step number such as
        ``keras.optimizers.schedules.CosineDecay(5e-3, decay_steps=epochs *
        steps_per_epoch)``, which ends a short budget at a small rate instead of
        in the middle of a big step.
    seed
        Seeds the shuffling and the dropout (:func:`vidlab.config.seed_everything`);
        seed again before *building* the model for identical initial weights.
    log_every
        Print one line every ``log_every`` epochs (``verbose=False``: nothing).

    Returns
    -------
    keras.callbacks.History
        ``.history`` holds the per-epoch curves (for :func:`vidlab.viz.plot_history`);
        ``.best_epoch`` (1-based) and ``.seconds`` (training time) are added.
    """
    config.seed_everything(seed)
    # The metric object and Adam's slots are made here, not inside the first training step:
    # TensorFlow traces a step that creates variables twice (8 s per fit for notebook 05's I3D).
    accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=[accuracy])
    model.optimizer.build(model.trainable_variables)
    stopper = keras.callbacks.EarlyStopping(monitor=monitor, patience=patience,
                                            min_delta=min_delta, restore_best_weights=True)
    callbacks = [stopper] + ([CompactLog(log_every)] if verbose else [])
    if y_train is None:  # a dataset that yields (inputs, labels) batches
        data = {"x": x_train, "shuffle": False}  # a dataset shuffles itself
    elif (batches := array_batches(x_train, y_train, batch_size, True, seed)) is not None:
        data = {"x": batches, "shuffle": False}  # the pipeline shuffles itself
    else:
        data = {"x": x_train, "y": y_train, "batch_size": batch_size, "shuffle": True}
    if y_val is None:
        validation = x_val
    elif (batches := array_batches(x_val, y_val, batch_size, shuffle=False)) is not None:
        validation = batches
    else:
        validation = (x_val, y_val)
    start = time.perf_counter()
    history = model.fit(**data, validation_data=validation, epochs=epochs, callbacks=callbacks,
                        verbose=0)
    history.seconds = time.perf_counter() - start
    history.best_epoch = stopper.best_epoch + 1
    if verbose:
        best = history.history[monitor][stopper.best_epoch]
        print(f"best epoch {history.best_epoch} of {len(history.epoch)} ({monitor} {best:.3f}), "
              f"its weights restored; trained in {history.seconds:.1f} s")
    return history


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
