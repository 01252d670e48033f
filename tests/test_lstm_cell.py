"""The NumPy LSTM written from its equations is the same function as keras.layers.LSTM."""

import keras
import numpy as np
import pytest

from vidlab.models.lstm_cell import lstm_forward, lstm_step, lstm_weights, relu, sigmoid

ACTIVATIONS = {"tanh": np.tanh, "relu": relu}


def _keras_lstm(units, activation, **kwargs):
    """Build a Keras LSTM with its own random weights, returning sequences and states."""
    layer = keras.layers.LSTM(
        units, activation=activation, return_sequences=True, return_state=True, **kwargs
    )
    layer.build((None, None, 3))
    return layer


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize(
    "layer_kwargs",
    [{}, {"bias_initializer": "random_normal"}, {"use_bias": False}],
    ids=["default_bias", "random_bias", "no_bias"],
)
def test_forward_reproduces_keras_outputs_and_final_states(activation, layer_kwargs):
    keras.utils.set_random_seed(0)
    layer = _keras_lstm(6, activation, **layer_kwargs)
    x = np.random.default_rng(1).normal(size=(4, 5, 3)).astype("float32")

    outputs, h_last, c_last = (keras.ops.convert_to_numpy(t) for t in layer(x))
    mine = lstm_forward(x, *lstm_weights(layer), activation=ACTIVATIONS[activation])

    for theirs, ours in zip((outputs, h_last, c_last), mine, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=1e-5)


def test_forward_returns_every_hidden_state_and_the_last_states():
    rng = np.random.default_rng(0)
    kernel, recurrent, bias = rng.normal(size=(2, 12)), rng.normal(size=(3, 12)), np.zeros(12)

    outputs, h_last, c_last = lstm_forward(rng.normal(size=(5, 7, 2)), kernel, recurrent, bias)

    assert outputs.shape == (5, 7, 3)
    assert h_last.shape == c_last.shape == (5, 3)
    np.testing.assert_array_equal(outputs[:, -1], h_last)


def _one_unit_step(x, c_prev, kernel, i, f, c, o):
    """One step of a 1-input, 1-unit LSTM from zero hidden state, biases given per gate."""
    bias = np.array([i, f, c, o])  # Keras's packing order
    return lstm_step(
        x_t=np.full((1, 1), x),
        h_prev=np.zeros((1, 1)),
        c_prev=np.full((1, 1), c_prev),
        kernel=np.array([kernel], dtype=float),
        recurrent_kernel=np.zeros((1, 4)),
        bias=bias,
    )


def test_gates_are_packed_input_forget_candidate_output():
    # Shut input gate (i ~ 0), open forget gate (f ~ 1): the cell keeps its value,
    # and the open output gate (o ~ 1) shows tanh of it.
    h, c = _one_unit_step(x=1.0, c_prev=0.7, kernel=[0, 0, 0, 0], i=-50, f=50, c=0, o=50)

    np.testing.assert_allclose(c, [[0.7]])
    np.testing.assert_allclose(h, [[np.tanh(0.7)]])


def test_open_input_gate_and_shut_forget_gate_replace_the_cell_by_the_candidate():
    # Only the candidate reads x (third block of the kernel): g = tanh(2 * 0.3).
    h, c = _one_unit_step(x=0.3, c_prev=5.0, kernel=[0, 0, 2, 0], i=50, f=-50, c=0, o=50)

    np.testing.assert_allclose(c, [[np.tanh(0.6)]])
    np.testing.assert_allclose(h, [[np.tanh(np.tanh(0.6))]])


def test_sigmoid_is_the_logistic_function_without_overflow():
    x = np.array([-1000.0, -2.0, 0.0, 3.0, 1000.0])

    with np.errstate(over="raise"):
        values = sigmoid(x)

    np.testing.assert_allclose(values[1:4], 1.0 / (1.0 + np.exp(-x[1:4])))
    np.testing.assert_allclose(values[[0, -1]], [0.0, 1.0])


def test_weights_of_an_unbuilt_layer_are_a_value_error():
    with pytest.raises(ValueError, match="no weights yet"):
        lstm_weights(keras.layers.LSTM(4))
