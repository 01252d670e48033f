"""A layer that counts how often TensorFlow traces a training step through it."""

import keras


class CountTrainingCalls(keras.layers.Layer):
    """Identity that counts how often it is called in training mode (once per trace in graphs)."""

    calls = 0

    def call(self, x, training=None):
        if training:
            CountTrainingCalls.calls += 1
        return x
