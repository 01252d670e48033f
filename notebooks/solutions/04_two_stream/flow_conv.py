# Exercise 2 of notebook 04: the temporal stream's first layer, initialised across modalities.
import numpy as np
from keras import layers

from vidlab import exercises


def my_flow_conv(rgb_conv, length):
    # The RGB layer's settings (filters, kernel size, strides, padding, activation)...
    flow_conv = layers.Conv2D.from_config(rgb_conv.get_config())
    # ... built for 2L input channels instead of 3.
    flow_conv.build((None, None, None, 2 * length))
    kernel, bias = rgb_conv.get_weights()  # (kh, kw, 3, filters), (filters,)
    mean = kernel.mean(axis=2, keepdims=True)  # each filter averaged over R, G and B
    flow_conv.set_weights([np.repeat(mean, 2 * length, axis=2), bias])
    return flow_conv


if __name__ == "__main__":  # in the notebook, after %load
    exercises.check_flow_conv(my_flow_conv)
