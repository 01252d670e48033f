"""The checks of notebook 03's exercises accept right answers and reject wrong ones.

The right answers are the reference solutions in ``notebooks/solutions/03_cnn_rnn/``, the files
the notebook tells a student to ``%load``.
"""


import keras
import numpy as np
import pytest
import solutions

from vidlab import exercises


def solution(name):
    return solutions.solution("03_cnn_rnn", name)


def random_split(num_clips, fraction, seed):
    return solution("random_clip_split")(num_clips, fraction, seed)


def test_param_count_check_accepts_the_reference_solution(verdict):
    exercises.check_recurrent_param_count(solution("recurrent_param_count"))
    assert verdict()[0] == exercises.PASS


def test_param_count_check_rejects_a_gru_with_one_bias_per_gate(capsys):
    def one_bias(cell, units, input_dim):
        gates = 4 if cell == "lstm" else 3
        return gates * (input_dim * units + units * units + units)

    exercises.check_recurrent_param_count(one_bias)
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]")
    assert "GRU" in out and "hint" in out


def test_param_count_check_rejects_a_forgotten_recurrent_kernel(verdict):
    exercises.check_recurrent_param_count(
        lambda cell, units, input_dim: (4 if cell == "lstm" else 3) * (input_dim + 1) * units)
    assert verdict()[0] == exercises.FAIL


def test_random_split_check_accepts_the_reference_solution(verdict):
    exercises.check_random_clip_split(solution("random_clip_split"))
    assert verdict()[0] == exercises.PASS


def test_random_split_check_rejects_a_block_of_consecutive_clips(capsys):
    def block(num_clips, fraction, seed):
        count = round(fraction * num_clips)
        return np.arange(count, num_clips), np.arange(count)

    exercises.check_random_clip_split(block)
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]")
    assert "whole classes" in out


def test_random_split_check_rejects_a_split_that_ignores_the_seed(capsys):
    exercises.check_random_clip_split(lambda n, fraction, seed: random_split(n, fraction, 0))
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]")
    assert "seed" in out


def test_random_split_check_rejects_clips_lost_or_repeated(verdict):
    def repeated(num_clips, fraction, seed):
        fit_part, held_out = random_split(num_clips, fraction, seed)
        return np.concatenate([fit_part, held_out[:1]]), held_out

    exercises.check_random_clip_split(repeated)
    assert verdict()[0] == exercises.FAIL


def test_shipped_stubs_are_reported_as_not_attempted(verdict):
    def stub(*args):
        raise NotImplementedError

    exercises.check_recurrent_param_count(stub)
    assert verdict()[0] == exercises.TODO
    exercises.check_random_clip_split(stub)
    assert verdict()[0] == exercises.TODO
    exercises.check_small_gru_head(stub, *toy_splits(), pooling_accuracy=0.5)
    assert verdict()[0] == exercises.TODO


# --------------------------------------------------------------------------- exercise 3


def toy_clips(num_clips, seed, frames=8, dim=6):
    """Four classes in two reversal pairs: a value that climbs or falls, in one of two places.

    Every clip starts at a random level, so max/min pooling over time sees the same range for a
    climb and a fall (chance within a pair); a recurrent layer that reads the frames in order
    sees the direction.
    """
    rng = np.random.default_rng(seed)
    labels = np.arange(num_clips) % 4
    start = rng.uniform(-3, 3, num_clips)
    direction = np.where(labels % 2 == 0, 1.0, -1.0)
    level = start[:, None] + 0.3 * direction[:, None] * np.arange(frames)
    clips = rng.normal(0, 0.05, (num_clips, frames, dim)) + 1.0
    place = 3 * (labels // 2)
    clips[np.arange(num_clips), :, place] += level
    return clips.astype("float32"), labels


def toy_splits():
    return toy_clips(192, 0), toy_clips(64, 1), toy_clips(64, 2)


def head(inputs, x, num_classes, **output):
    x = keras.layers.Dense(8, activation="tanh")(x)
    x = keras.layers.GRU(8)(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax",
                                                  **output)(x))


def check_toy(build, capsys, pooling_accuracy=0.5):
    exercises.check_small_gru_head(build, *toy_splits(), pooling_accuracy=pooling_accuracy,
                                   epochs=30)
    return capsys.readouterr().out


def test_small_head_check_accepts_the_reference_solution(capsys):
    out = check_toy(solution("build_small_gru_head"), capsys)

    assert out.splitlines()[-1].startswith(f"[{exercises.PASS}]"), out
    assert "test accuracy" in out


def test_small_head_check_rejects_a_head_that_does_not_beat_pooling(capsys):
    # Every class always gets the same probability: a frozen, all-zero softmax layer.
    def never_learns(train_features, num_classes):
        inputs = keras.Input((None, train_features.shape[-1]))
        return head(inputs, keras.layers.Masking()(inputs), num_classes, trainable=False,
                    kernel_initializer="zeros")

    out = check_toy(never_learns, capsys)

    assert f"[{exercises.FAIL}]" in out and "does not beat max/min pooling" in out


def test_small_head_check_rejects_a_head_no_better_than_a_perfect_baseline(capsys):
    out = check_toy(solution("build_small_gru_head"), capsys, pooling_accuracy=1.0)

    assert f"[{exercises.FAIL}]" in out and "does not beat" in out


@pytest.mark.parametrize(("wrong", "message"), [
    ("lstm", "replace the LSTM by a GRU"),
    ("no_mask", "Masking"),
    ("too_big", "more than 10,000"),
    ("fixed_length", "keras.Input((None, 6))"),
    ("no_softmax", "softmax"),
    ("wrong_classes", "4 class probabilities"),
])
def test_small_head_check_names_what_is_wrong_with_the_model(capsys, wrong, message):
    def build(train_features, num_classes):
        dim = train_features.shape[-1]
        inputs = keras.Input((8 if wrong == "fixed_length" else None, dim))
        x = inputs if wrong == "no_mask" else keras.layers.Masking()(inputs)
        if wrong == "lstm":
            x = keras.layers.LSTM(4, return_sequences=True)(x)
        if wrong == "too_big":
            x = keras.layers.Dense(1000)(x)
        x = keras.layers.GRU(8)(x)
        classes = num_classes + 1 if wrong == "wrong_classes" else num_classes
        activation = "relu" if wrong == "no_softmax" else "softmax"
        return keras.Model(inputs, keras.layers.Dense(classes, activation=activation)(x))

    out = check_toy(build, capsys)

    assert out.startswith(f"[{exercises.FAIL}]"), out
    assert message in out
    assert "hint" in out
