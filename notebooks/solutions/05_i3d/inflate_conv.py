# Notebook 05, exercise 1: a trained Conv2D layer inflated into a Conv3D layer, the I3D way.
import keras
import numpy as np


def inflate_conv(conv_2d, kt):
    """Return a built Conv3D layer that is ``conv_2d`` inflated to ``kt`` frames."""
    conv_3d = keras.layers.Conv3D(
        conv_2d.filters, (kt, *conv_2d.kernel_size), strides=(1, *conv_2d.strides),
        padding=conv_2d.padding, activation=conv_2d.activation, use_bias=conv_2d.use_bias,
    )
    conv_3d.build((None, None, None, None, conv_2d.kernel.shape[2]))  # any clip, same channels
    kernel, *bias = conv_2d.get_weights()
    # kt copies of the 2D kernel along a new first axis, each divided by kt; the biases as they are
    conv_3d.set_weights([np.repeat(kernel[np.newaxis], kt, axis=0) / kt, *bias])
    return conv_3d
