"""The checks of notebook 02's exercises pass the reference solutions and fail wrong answers.

The reference solutions are the files a student loads with ``%load`` from
``notebooks/solutions/02_lstm_forecasting/``; each defines its answer and runs its check.
"""

import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
import solutions
from keras import layers

from vidlab import exercises

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "02_lstm_forecasting.ipynb"
SOLUTIONS = ROOT / "notebooks" / "solutions" / "02_lstm_forecasting"


def solution(name: str, verdict) -> tuple[dict, str, str]:
    """Run a solution file as ``%load`` + run would; return its names, verdict and output."""
    return (solutions.namespace("02_lstm_forecasting", name), *verdict())


def test_the_notebook_points_to_every_solution_and_every_one_exists():
    """Each exercise says where its solution is, as a one-line `%load`."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    markdown = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    loaded = re.findall(r"%load solutions/02_lstm_forecasting/(\w+)\.py", markdown)
    assert sorted(loaded) == sorted(p.stem for p in SOLUTIONS.glob("*.py"))
    assert len(loaded) == 4


def test_todo_raises_not_implemented_and_the_check_says_not_attempted(verdict):
    with pytest.raises(NotImplementedError, match="the output gate"):
        exercises.todo("the output gate")

    def stub(*args):
        return exercises.todo("the output gate")

    exercises.check_peephole_step(stub)
    status, out = verdict()
    assert status == exercises.TODO
    assert "not attempted yet" in out


# --------------------------------------------------------------------------- exercise 1


def test_split_sequence_multi_check_accepts_the_solution(verdict):
    _, status, _ = solution("split_sequence_multi", verdict)
    assert status == exercises.PASS


def test_split_sequence_multi_check_rejects_a_missing_last_window(verdict):
    right = solution("split_sequence_multi", verdict)[0]["split_sequence_multi"]

    def one_window_short(seq, n_in, n_out):
        X, y = right(seq, n_in, n_out)
        return X[:-1], y[:-1]

    exercises.check_split_sequence_multi(one_window_short)
    status, out = verdict()
    assert status == exercises.FAIL
    assert "should have shape (5, 3), yours has (4, 3)" in out
    assert "hint" in out


def test_split_sequence_multi_check_rejects_targets_taken_from_the_window(verdict):
    right = solution("split_sequence_multi", verdict)[0]["split_sequence_multi"]

    def overlapping(seq, n_in, n_out):
        X, _ = right(seq, n_in, n_out)
        return X, X[:, -n_out:]

    exercises.check_split_sequence_multi(overlapping)
    status, out = verdict()
    assert status == exercises.FAIL
    assert "y (with n_in=3, n_out=2" in out


def test_split_sequence_multi_check_reports_a_stub_as_not_attempted(verdict):
    def stub(seq, n_in, n_out):
        raise NotImplementedError

    exercises.check_split_sequence_multi(stub)
    assert verdict()[0] == exercises.TODO


# --------------------------------------------------------------------------- exercise 2


def stack(*lstms, head=None, with_input=True):
    """A forecaster of the given LSTM layers and a head, reading windows of 3 values."""
    start = [keras.Input((3, 1))] if with_input else []
    return keras.Sequential([*start, *lstms, head or layers.Dense(1)])


def relu_lstm(units=32, **kwargs):
    return layers.LSTM(units, activation="relu", **kwargs)


def test_deeper_stack_check_accepts_the_solution_after_training_it(verdict):
    _, status, out = solution("deeper_stack", verdict)
    assert status == exercises.PASS, out


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: stack(relu_lstm(return_sequences=True), relu_lstm(), relu_lstm()),
         "return_sequences=True"),
        (lambda: stack(*(relu_lstm(return_sequences=True) for _ in range(3))),
         "the last LSTM must return only its final state"),
        (lambda: stack(relu_lstm(return_sequences=True), relu_lstm()),
         "expected three LSTM layers, your model has 2"),
        (lambda: stack(relu_lstm(64, return_sequences=True), relu_lstm(64, return_sequences=True),
                       relu_lstm(64)),
         "LSTM layer 1 has 64 units"),
        (lambda: stack(relu_lstm(return_sequences=True), relu_lstm(return_sequences=True),
                       layers.LSTM(32)),
         "LSTM layer 3 uses tanh"),
        (lambda: stack(relu_lstm(return_sequences=True), relu_lstm(return_sequences=True),
                       relu_lstm(), head=layers.Dense(2)),
         "the head Dense(1)"),
        (lambda: stack(relu_lstm(return_sequences=True), relu_lstm(return_sequences=True),
                       relu_lstm(), with_input=False),
         "keras.Input((3, 1))"),
    ],
    ids=["middle_lstm_returns_one_vector", "last_lstm_returns_a_sequence", "two_layers",
         "wrong_width", "tanh", "two_outputs", "no_input"],
)
def test_deeper_stack_check_names_what_is_wrong_with_the_architecture(build, message, verdict):
    exercises.check_deeper_stack(build)
    status, out = verdict()
    assert status == exercises.FAIL
    assert message in out


def test_deeper_stack_check_rejects_the_right_layers_that_cannot_forecast(verdict):
    """The held-out number: a frozen all-zero head keeps the forecast at 0, far from 100."""
    def frozen_head():
        head = layers.Dense(1, kernel_initializer="zeros", trainable=False)
        return stack(relu_lstm(return_sequences=True), relu_lstm(return_sequences=True),
                     relu_lstm(), head=head)

    exercises.check_deeper_stack(frozen_head)
    status, out = verdict()
    assert status == exercises.FAIL
    assert "the architecture is right, but after 300 updates your model forecasts 0.00" in out


def test_deeper_stack_check_reports_a_stub_as_not_attempted(verdict):
    def stub():
        raise NotImplementedError

    exercises.check_deeper_stack(stub)
    assert verdict()[0] == exercises.TODO


def test_deeper_stack_parameter_count_is_what_keras_counts():
    assert stack(relu_lstm(return_sequences=True), relu_lstm(return_sequences=True),
                 relu_lstm()).count_params() == exercises._stack_param_count(32, 3) == 21_025


# --------------------------------------------------------------------------- exercise 3


def test_lstm_param_count_check_accepts_the_solution(verdict):
    _, status, _ = solution("lstm_param_count", verdict)
    assert status == exercises.PASS


def test_lstm_param_count_check_rejects_a_count_without_biases(verdict):
    exercises.check_lstm_param_count(lambda units, d: 4 * units * (d + units))
    status, out = verdict()
    assert status == exercises.FAIL
    assert "has 10400 weights, you counted 10200" in out


def test_lstm_param_count_agrees_with_keras():
    """The checker's formula is what Keras counts."""
    for units, input_dim in [(50, 1), (8, 3)]:
        layer = keras.layers.LSTM(units)
        layer.build((None, 5, input_dim))
        assert layer.count_params() == 4 * (input_dim * units + units * units + units)


# --------------------------------------------------------------------------- exercise 4


@pytest.fixture
def peephole_step(verdict):
    namespace, status, _ = solution("peephole_step", verdict)
    assert status == exercises.PASS
    return namespace["peephole_step"]


def test_peephole_check_accepts_the_solution(peephole_step):
    """The fixture has run the solution file, whose check said PASS."""
    assert callable(peephole_step)


def test_peephole_check_rejects_a_step_without_peepholes(peephole_step, verdict):
    def plain(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias, peephole):
        return peephole_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias,
                             np.zeros_like(peephole))

    exercises.check_peephole_step(plain)
    status, out = verdict()
    assert status == exercises.FAIL
    assert "what an LSTM without peepholes gives" in out


def test_peephole_check_rejects_an_output_gate_that_reads_the_old_cell(verdict):
    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def old_cell(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias, peephole):
        z_i, z_f, z_g, z_o = np.split(x_t @ kernel + h_prev @ recurrent_kernel + bias, 4, -1)
        i, f = sigmoid(z_i + peephole[0] * c_prev), sigmoid(z_f + peephole[1] * c_prev)
        c_t = f * c_prev + i * np.tanh(z_g)
        return sigmoid(z_o + peephole[2] * c_prev) * np.tanh(c_t), c_t

    exercises.check_peephole_step(old_cell)
    status, out = verdict()
    assert status == exercises.FAIL
    assert "your output gate reads c_prev" in out


def test_peephole_check_rejects_a_forget_gate_without_its_peephole(peephole_step, verdict):
    def no_forget_peephole(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias, peephole):
        # Only the forget gate's row is zeroed: neither named mistake, still wrong.
        return peephole_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias,
                             peephole * np.array([[1.0], [0.0], [1.0]]))

    exercises.check_peephole_step(no_forget_peephole)
    status, out = verdict()
    assert status == exercises.FAIL
    assert "the new cell state c_t has the right shape but different values" in out
    assert "elementwise" in out


def test_peephole_check_rejects_a_step_that_returns_only_h(peephole_step, verdict):
    exercises.check_peephole_step(lambda *args: peephole_step(*args)[0])
    status, out = verdict()
    assert status == exercises.FAIL
    assert "(h_t, c_t)" in out
