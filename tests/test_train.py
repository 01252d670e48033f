"""vidlab.train: group-held-out validation, seeded early-stopped fits, compact logs, evaluation."""

from pathlib import Path

import keras
import numpy as np
import pytest

from vidlab import config, train
from vidlab.datasets import VideoRecord


def records(groups=10, per_group=3):
    return [VideoRecord(Path(f"g{g}_c{c}.avi"), g % 2, g)
            for g in range(1, groups + 1) for c in range(per_group)]


def blobs(n=64, seed=0):
    """Two classes that a linear model separates, as (N, 4) features."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(0.0, 1.0, (n, 4)) + 1.5 * y[:, None]
    return x.astype("float32"), y


def small_model(seed=0):
    config.seed_everything(seed)
    inputs = keras.Input((4,))
    x = keras.layers.Dropout(0.2)(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


# --------------------------------------------------------------------------- the split


def test_split_by_group_keeps_every_group_on_one_side():
    clips = records()

    fit_part, held_out = train.split_by_group(clips, 0.2, seed=0)

    assert sorted(np.concatenate([fit_part, held_out]).tolist()) == list(range(len(clips)))
    assert not {clips[i].group for i in fit_part} & {clips[i].group for i in held_out}


def test_split_by_group_holds_out_about_the_fraction_of_groups_not_of_clips():
    clips = records(20, per_group=2) + records(5, per_group=1)
    for fraction, expected in ((0.25, 5), (0.1, 2), (0.5, 10)):
        _, held_out = train.split_by_group(clips, fraction, seed=1)
        assert len({clips[i].group for i in held_out}) == expected


def test_split_by_group_keeps_at_least_one_group_on_each_side():
    for fraction in (0.01, 0.99):
        fit_part, held_out = train.split_by_group(records(3), fraction)
        assert len(fit_part) and len(held_out)


def test_split_by_group_depends_on_the_seed_only():
    clips = records(25)

    first = train.split_by_group(clips, 0.3, seed=1)
    again = train.split_by_group(clips, 0.3, seed=1)

    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    held_out = {frozenset(clips[i].group for i in train.split_by_group(clips, 0.2, seed=s)[1])
                for s in range(5)}
    assert len(held_out) > 1


def test_split_by_group_indices_keep_the_order_of_the_records():
    fit_part, held_out = train.split_by_group(records(10), 0.3)

    assert list(fit_part) == sorted(fit_part) and list(held_out) == sorted(held_out)


@pytest.mark.parametrize("fraction", [0, 1, -0.2, 1.5])
def test_split_by_group_rejects_a_fraction_outside_zero_one(fraction):
    with pytest.raises(ValueError, match="fraction"):
        train.split_by_group(records(5), fraction)


def test_split_by_group_needs_two_groups():
    with pytest.raises(ValueError, match="two groups"):
        train.split_by_group(records(1, per_group=6), 0.5)


# --------------------------------------------------------------------------- fit


def stop(patience=10, min_delta=0.0):
    return keras.callbacks.EarlyStopping(patience=patience, min_delta=min_delta)


def test_fit_logs_one_short_line_every_k_epochs_and_a_summary(capsys):
    x, y = blobs()

    history = train.fit(small_model(), (x, y), (x[:16], y[:16]), epochs=7, batch_size=16,
                        learning_rate=0.01, stopping=stop(patience=50), log_every=3)

    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == ["3", "6", "7"]
    assert all(line.startswith("epoch") and "val_accuracy" in line for line in lines[:-1])
    assert lines[-1].startswith("best epoch") and lines[-1].endswith(" s")
    assert len(history.epoch) == 7
    assert 1 <= history.best_epoch <= 7
    assert history.seconds > 0


def test_fit_prints_nothing_when_asked(capsys):
    x, y = blobs()

    train.fit(small_model(), (x, y), (x[:16], y[:16]), epochs=2, batch_size=16, log_every=0)

    assert capsys.readouterr().out == ""


def test_fit_stops_early_and_restores_the_best_weights():
    x, y = blobs()
    x_val, y_val = blobs(32, seed=1)
    y_val = 1 - y_val  # a validation set that gets worse as training improves
    model = small_model()

    history = train.fit(model, (x, y), (x_val, y_val), epochs=100, batch_size=16,
                        learning_rate=0.05, stopping=stop(patience=2), log_every=0)

    assert len(history.epoch) < 100
    assert history.best_epoch == 1 + int(np.argmin(history.history["val_loss"]))
    restored = model.evaluate(x_val, y_val, verbose=0, return_dict=True)["loss"]
    assert restored == pytest.approx(min(history.history["val_loss"]), rel=1e-4)


def test_improvements_smaller_than_min_delta_do_not_count():
    x, y = blobs()
    model = small_model()

    history = train.fit(model, (x, y), (x, y), epochs=100, batch_size=16, learning_rate=0.05,
                        stopping=stop(patience=2, min_delta=10.0), log_every=0)

    # No loss can improve by 10: the first epoch stays the best, and patience ends the run.
    assert len(history.epoch) == 3
    assert history.best_epoch == 1
    assert min(history.history["val_loss"]) < history.history["val_loss"][0]


def test_fit_follows_a_learning_rate_schedule_step_by_step():
    x, y = blobs()
    model = small_model()
    schedule = keras.optimizers.schedules.CosineDecay(0.05, decay_steps=8)

    train.fit(model, (x, y), (x, y), epochs=2, batch_size=16, learning_rate=schedule,
              log_every=0)

    optimizer = model.optimizer
    assert int(optimizer.iterations) == 8  # 2 epochs of 64 / 16 batches
    assert float(optimizer.learning_rate) == pytest.approx(0.0, abs=1e-7)  # decayed to the end


def test_fit_repeats_itself_after_the_same_seed_and_not_after_another():
    """Initial weights, shuffling and dropout all follow config.seed_everything."""
    x, y = blobs(70)  # 70 = 4 batches of 16 and a partial one of 6
    runs = []
    for seed in (5, 5, 6):
        model = small_model(seed)  # seeds, then builds: weights, then shuffling and dropout
        history = train.fit(model, (x, y), (x[:20], y[:20]), epochs=4, batch_size=16,
                            log_every=0)
        runs.append((history.history, model.get_weights()))

    (first, first_weights), (again, again_weights), (other, _) = runs
    assert first == again
    assert all(np.array_equal(a, b) for a, b in zip(first_weights, again_weights, strict=True))
    assert first["loss"] != other["loss"]


def test_fit_and_evaluate_take_datasets_of_batches():
    import tensorflow as tf

    x, y = blobs()
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    model = small_model()

    history = train.fit(model, batches, batches, epochs=2, log_every=0)
    result = train.evaluate(model, batches.map(lambda a, b: a), y, ["a", "b"])

    assert len(history.history["val_loss"]) == 2
    assert result.confusion.sum() == len(y)


# --------------------------------------------------------------------------- evaluate


class Fixed:
    """Stands in for a model: returns given probabilities, one row per input row."""

    def __init__(self, probabilities):
        self.probabilities = np.asarray(probabilities, dtype="float32")

    def __call__(self, x, training=False):
        return self.probabilities[x[:, 0].astype(int)]


def rows(n):
    """Inputs for :class:`Fixed`: input i asks for row i."""
    return np.arange(n, dtype="float32")[:, None]


def test_evaluate_reports_accuracy_per_class_and_confusion():
    model = Fixed([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])

    result = train.evaluate(model, rows(4), np.array([0, 1, 1, 2]), ["Left", "Right", "Up"],
                            batch_size=3)

    assert result.accuracy == pytest.approx(0.75)
    np.testing.assert_array_equal(result.confusion, [[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(result.predicted, [0, 1, 0, 2])
    assert all(name in result.report for name in ("Left", "Right", "Up", "accuracy"))


def test_evaluate_keeps_classes_that_never_occur():
    model = Fixed([[0.9, 0.1, 0.0], [0.8, 0.1, 0.1]])

    result = train.evaluate(model, rows(2), np.array([0, 0]), ["a", "b", "c"])

    assert result.confusion.shape == (3, 3)
    assert result.accuracy == 1.0
