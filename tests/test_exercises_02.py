"""The checks of notebook 02's exercises accept right answers and reject wrong ones."""

import numpy as np
import pytest

from vidlab import exercises
from vidlab.models.lstm_cell import sigmoid


def verdict(capsys) -> tuple[str, str]:
    out = capsys.readouterr().out
    return out.split("]")[0].lstrip("["), out


# --------------------------------------------------------------------------- todo


def test_todo_raises_not_implemented_and_the_check_says_not_attempted(capsys):
    with pytest.raises(NotImplementedError, match="the forget gate"):
        exercises.todo("the forget gate")

    def stub(*args):
        return exercises.todo("the forget gate")

    exercises.check_lstm_step(stub)
    status, out = verdict(capsys)
    assert status == exercises.TODO
    assert "not attempted yet" in out


# --------------------------------------------------------------------------- exercise 1


def split_sequence_multi(seq, n_in, n_out):
    seq = np.asarray(seq, dtype=float)
    starts = range(len(seq) - n_in - n_out + 1)
    X = np.array([seq[k : k + n_in] for k in starts])
    y = np.array([seq[k + n_in : k + n_in + n_out] for k in starts])
    return X, y


def split_sequence_multi_one_window_short(seq, n_in, n_out):
    X, y = split_sequence_multi(seq, n_in, n_out)
    return X[:-1], y[:-1]


def test_split_sequence_multi_check_accepts_the_right_answer(capsys):
    exercises.check_split_sequence_multi(split_sequence_multi)
    assert verdict(capsys)[0] == exercises.PASS


def test_split_sequence_multi_check_rejects_a_missing_last_window(capsys):
    exercises.check_split_sequence_multi(split_sequence_multi_one_window_short)
    status, out = verdict(capsys)
    assert status == exercises.FAIL
    assert "should have shape (5, 3), yours has (4, 3)" in out
    assert "hint" in out


def test_split_sequence_multi_check_rejects_targets_taken_from_the_window(capsys):
    def overlapping(seq, n_in, n_out):
        X, _ = split_sequence_multi(seq, n_in, n_out)
        return X, X[:, -n_out:]

    exercises.check_split_sequence_multi(overlapping)
    status, out = verdict(capsys)
    assert status == exercises.FAIL
    assert "y (with n_in=3, n_out=2" in out


def test_split_sequence_multi_check_reports_a_stub_as_not_attempted(capsys):
    def stub(seq, n_in, n_out):
        raise NotImplementedError

    exercises.check_split_sequence_multi(stub)
    assert verdict(capsys)[0] == exercises.TODO


# --------------------------------------------------------------------------- exercise 2


def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias, forget=sigmoid):
    w_i, w_f, w_c, w_o = np.split(kernel, 4, axis=1)
    u_i, u_f, u_c, u_o = np.split(recurrent_kernel, 4, axis=1)
    b_i, b_f, b_c, b_o = np.split(bias, 4)
    i = sigmoid(x_t @ w_i + h_prev @ u_i + b_i)
    f = forget(x_t @ w_f + h_prev @ u_f + b_f)
    g = np.tanh(x_t @ w_c + h_prev @ u_c + b_c)
    o = sigmoid(x_t @ w_o + h_prev @ u_o + b_o)
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t


def test_lstm_step_check_accepts_the_right_forget_gate(capsys):
    exercises.check_lstm_step(lstm_step)
    assert verdict(capsys)[0] == exercises.PASS


def test_lstm_step_check_rejects_a_forget_gate_squashed_by_tanh(capsys):
    def with_tanh(*args):
        return lstm_step(*args, forget=np.tanh)

    exercises.check_lstm_step(with_tanh)
    status, out = verdict(capsys)
    assert status == exercises.FAIL
    assert "the new cell state c_t has the right shape but different values" in out
    assert "sigmoid" in out


def test_lstm_step_check_rejects_a_step_that_returns_only_h(capsys):
    exercises.check_lstm_step(lambda *args: lstm_step(*args)[0])
    status, out = verdict(capsys)
    assert status == exercises.FAIL
    assert "(h_t, c_t)" in out


# --------------------------------------------------------------------------- exercise 3


def test_lstm_param_count_check_accepts_four_gates_with_biases(capsys):
    exercises.check_lstm_param_count(lambda units, d: 4 * (units * (d + units) + units))
    assert verdict(capsys)[0] == exercises.PASS


def test_lstm_param_count_check_rejects_a_count_without_biases(capsys):
    exercises.check_lstm_param_count(lambda units, d: 4 * units * (d + units))
    status, out = verdict(capsys)
    assert status == exercises.FAIL
    assert "has 10400 weights, you counted 10200" in out


def test_lstm_param_count_agrees_with_keras():
    """The checker's formula is what Keras counts."""
    keras = pytest.importorskip("keras")
    for units, input_dim in [(50, 1), (8, 3)]:
        layer = keras.layers.LSTM(units)
        layer.build((None, 5, input_dim))
        assert layer.count_params() == 4 * (input_dim * units + units * units + units)
