"""The checks of notebook 03's exercises accept right answers and reject wrong ones."""

import numpy as np

from vidlab import exercises


def verdict(capsys) -> str:
    return capsys.readouterr().out.split("]")[0].lstrip("[")


def textbook_count(cell, units, input_dim):
    per_gate = input_dim * units + units * units + units
    return 4 * per_gate if cell == "lstm" else 3 * (per_gate + units)


def random_split(num_clips, fraction, seed):
    order = np.random.default_rng(seed).permutation(num_clips)
    count = round(fraction * num_clips)
    return order[count:], order[:count]


def test_param_count_check_accepts_the_textbook_formulas(capsys):
    exercises.check_recurrent_param_count(textbook_count)
    assert verdict(capsys) == exercises.PASS


def test_param_count_check_rejects_a_gru_with_one_bias_per_gate(capsys):
    def one_bias(cell, units, input_dim):
        gates = 4 if cell == "lstm" else 3
        return gates * (input_dim * units + units * units + units)

    exercises.check_recurrent_param_count(one_bias)
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]")
    assert "GRU" in out and "hint" in out


def test_param_count_check_rejects_a_forgotten_recurrent_kernel(capsys):
    exercises.check_recurrent_param_count(
        lambda cell, units, input_dim: (4 if cell == "lstm" else 3) * (input_dim + 1) * units)
    assert verdict(capsys) == exercises.FAIL


def test_random_split_check_accepts_a_seeded_permutation(capsys):
    exercises.check_random_clip_split(random_split)
    assert verdict(capsys) == exercises.PASS


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


def test_random_split_check_rejects_clips_lost_or_repeated(capsys):
    def repeated(num_clips, fraction, seed):
        fit_part, held_out = random_split(num_clips, fraction, seed)
        return np.concatenate([fit_part, held_out[:1]]), held_out

    exercises.check_random_clip_split(repeated)
    assert verdict(capsys) == exercises.FAIL


def test_shipped_stubs_are_reported_as_not_attempted(capsys):
    def stub(*args):
        raise NotImplementedError

    exercises.check_recurrent_param_count(stub)
    assert verdict(capsys) == exercises.TODO
    exercises.check_random_clip_split(stub)
    assert verdict(capsys) == exercises.TODO
