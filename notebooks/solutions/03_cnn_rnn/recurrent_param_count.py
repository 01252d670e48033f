"""Notebook 03, exercise 1: the weights of a Keras LSTM or GRU layer.

Every gate reads the input through a kernel (input_dim x units), the previous state through a
recurrent kernel (units x units), and adds a bias (units). An LSTM has four such blocks (input,
forget and output gates, and the cell candidate); a GRU three (update and reset gates, and the
candidate), and Keras's default GRU (reset_after=True) keeps a second, recurrent bias in each.

The heads of this notebook read the 64 values of the per-frame projection with a state of 32:
the LSTM layer has 4 x (64*32 + 32*32 + 32) = 12,416 weights, the GRU layer
3 x (64*32 + 32*32 + 2*32) = 9,408, about a quarter fewer: one block fewer, one bias more.
"""


def recurrent_param_count(cell, units, input_dim):
    one_block = input_dim * units + units * units + units  # kernel, recurrent kernel, bias
    if cell == "lstm":
        return 4 * one_block
    return 3 * (one_block + units)  # update, reset, candidate: a recurrent bias each
