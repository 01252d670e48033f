# Solution to exercise 2 of notebook 02: a deeper stack.
import keras
from keras import layers

from vidlab import exercises


def build_deeper_stack():
    return keras.Sequential([
        keras.Input((3, 1)),
        # Each LSTM that feeds another one hands on its whole output sequence...
        layers.LSTM(32, activation="relu", return_sequences=True),
        layers.LSTM(32, activation="relu", return_sequences=True),
        # ...and the last one only its final state, one vector per window.
        layers.LSTM(32, activation="relu"),
        layers.Dense(1),
    ], name="deeper_stack")


exercises.check_deeper_stack(build_deeper_stack)
