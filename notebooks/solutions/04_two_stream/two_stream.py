# Exercise 3 of notebook 04: both streams and their average fusion as one Keras model.
import keras
from keras import layers

from vidlab import exercises


def my_two_stream(spatial, temporal):
    frame = keras.Input(spatial.input_shape[1:], name="frame")
    stack = keras.Input(temporal.input_shape[1:], name="flow_stack")
    # Each stream is a layer of the new model; Average adds no weights of its own.
    scores = layers.Average()([spatial(frame), temporal(stack)])
    return keras.Model([frame, stack], scores, name="two_stream")


if __name__ == "__main__":  # in the notebook, after %load
    exercises.check_two_stream(my_two_stream)
