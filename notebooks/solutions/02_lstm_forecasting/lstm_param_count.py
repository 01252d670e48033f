# Solution to exercise 3 of notebook 02: counting an LSTM's weights.
from vidlab import exercises


def lstm_param_count(units, input_dim):
    one_gate = input_dim * units + units * units + units  # W, U and b of one gate
    return 4 * one_gate


exercises.check_lstm_param_count(lstm_param_count)
