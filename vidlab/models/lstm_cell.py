"""The LSTM written from its equations, in NumPy, for reading next to ``keras.layers.LSTM``.

Keras packs the weights of the four gates side by side, in the order
**i, f, c, o** (input gate, forget gate, candidate cell, output gate):

* ``kernel``            -- shape ``(input_dim, 4 * units)``, ``[W_i | W_f | W_c | W_o]``
* ``recurrent_kernel``  -- shape ``(units, 4 * units)``,     ``[U_i | U_f | U_c | U_o]``
* ``bias``              -- shape ``(4 * units,)``,           ``[b_i | b_f | b_c | b_o]``

(see ``LSTMCell.call`` in Keras, which splits the packed pre-activations with
``ops.split(z, 4, axis=1)`` into ``z0, z1, z2, z3`` and uses them as i, f, c, o).
With :func:`lstm_weights` to read a trained layer's arrays, :func:`lstm_forward`
reproduces the layer's outputs and final states.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

Activation = Callable[[np.ndarray], np.ndarray]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Return the logistic function ``1 / (1 + exp(-x))``.

    Computed as ``(1 + tanh(x / 2)) / 2``, the same function without overflow
    warnings for large negative ``x``.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def relu(x: np.ndarray) -> np.ndarray:
    """Return ``max(x, 0)`` elementwise (the activation of the forecasting models)."""
    return np.maximum(x, 0.0)


def lstm_step(
    x_t: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray,
    activation: Activation = np.tanh,
    recurrent_activation: Activation = sigmoid,
) -> tuple[np.ndarray, np.ndarray]:
    """Advance an LSTM by one time step.

    With σ the ``recurrent_activation`` and tanh the ``activation`` (Keras's
    defaults; the forecasting models pass relu as ``activation``)::

        i   = σ(x_t W_i + h_{t-1} U_i + b_i)        input gate
        f   = σ(x_t W_f + h_{t-1} U_f + b_f)        forget gate
        g   = tanh(x_t W_c + h_{t-1} U_c + b_c)     candidate cell
        o   = σ(x_t W_o + h_{t-1} U_o + b_o)        output gate
        c_t = f * c_{t-1} + i * g                   new cell state
        h_t = o * tanh(c_t)                         new hidden state (the output)

    Parameters
    ----------
    x_t
        Inputs at step t, shape ``(batch, input_dim)``.
    h_prev, c_prev
        Hidden and cell state after step t-1, each ``(batch, units)``.
    kernel, recurrent_kernel, bias
        Packed weights in Keras's gate order i, f, c, o (see the module docstring).
    activation
        Applied to the candidate and to the cell state on the way out.
    recurrent_activation
        Applied to the three gates.

    Returns
    -------
    h_t, c_t : np.ndarray
        The new hidden and cell state, each ``(batch, units)``.
    """
    w_i, w_f, w_c, w_o = np.split(kernel, 4, axis=1)
    u_i, u_f, u_c, u_o = np.split(recurrent_kernel, 4, axis=1)
    b_i, b_f, b_c, b_o = np.split(bias, 4)
    i = recurrent_activation(x_t @ w_i + h_prev @ u_i + b_i)
    f = recurrent_activation(x_t @ w_f + h_prev @ u_f + b_f)
    g = activation(x_t @ w_c + h_prev @ u_c + b_c)
    o = recurrent_activation(x_t @ w_o + h_prev @ u_o + b_o)
    c_t = f * c_prev + i * g
    h_t = o * activation(c_t)
    return h_t, c_t


def lstm_forward(
    x: np.ndarray,
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray,
    activation: Activation = np.tanh,
    recurrent_activation: Activation = sigmoid,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run :func:`lstm_step` over a batch of sequences, starting from zero state.

    The arithmetic is done in float64, as a reference to check float32 layers against.

    Parameters
    ----------
    x
        Input sequences, shape ``(batch, timesteps, input_dim)``.
    kernel, recurrent_kernel, bias, activation, recurrent_activation
        As in :func:`lstm_step`.

    Returns
    -------
    outputs : np.ndarray
        The hidden state after every step, ``(batch, timesteps, units)``; what
        ``LSTM(units, return_sequences=True)`` returns.
    h_T, c_T : np.ndarray
        The final hidden and cell state, each ``(batch, units)``; the two extra
        outputs of ``LSTM(..., return_state=True)``.
    """
    x = np.asarray(x, dtype=np.float64)
    units = recurrent_kernel.shape[0]
    h = np.zeros((x.shape[0], units))
    c = np.zeros((x.shape[0], units))
    outputs = []
    for t in range(x.shape[1]):
        h, c = lstm_step(
            x[:, t], h, c, kernel, recurrent_kernel, bias, activation, recurrent_activation
        )
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def lstm_weights(layer: keras.layers.LSTM) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(kernel, recurrent_kernel, bias)`` of a built ``keras.layers.LSTM``.

    Parameters
    ----------
    layer
        A layer that has been built (called once, or part of a built model).
        A layer made with ``use_bias=False`` gets a zero bias.

    Returns
    -------
    kernel, recurrent_kernel, bias : np.ndarray
        Float arrays, packed in the gate order i, f, c, o.

    Raises
    ------
    ValueError
        If the layer has not been built yet (it has no weights).
    """
    if not layer.built:
        raise ValueError(f"Layer {layer.name!r} has no weights yet; call it on an input first.")
    cell = layer.cell
    kernel = keras.ops.convert_to_numpy(cell.kernel)
    recurrent_kernel = keras.ops.convert_to_numpy(cell.recurrent_kernel)
    if cell.bias is None:
        return kernel, recurrent_kernel, np.zeros(4 * cell.units, dtype=kernel.dtype)
    return kernel, recurrent_kernel, keras.ops.convert_to_numpy(cell.bias)
