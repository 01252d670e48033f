# Solution to exercise 4 of notebook 02: an LSTM step with peepholes.
import numpy as np

from vidlab import exercises


def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def peephole_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias, peephole):
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=-1)
    p_i, p_f, p_o = peephole  # one row of peephole weights per gate, used elementwise
    i = sigmoid(z_i + p_i * c_prev)
    f = sigmoid(z_f + p_f * c_prev)
    c_t = f * c_prev + i * np.tanh(z_g)
    o = sigmoid(z_o + p_o * c_t)  # the output gate looks at the NEW cell state
    h_t = o * np.tanh(c_t)
    return h_t, c_t


exercises.check_peephole_step(peephole_step)
