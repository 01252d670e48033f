"""Notebook 01, exercise 3: cut a pretrained network at a convolutional block, pool over space.

In the notebook, `%load` this file into the exercise's cell and run it; the tests import it.
"""

import keras
from keras import layers

from vidlab import exercises


def pooled_extractor(network, layer):
    """A frame-feature extractor: ``network``'s layer ``layer``, averaged over all positions."""
    feature_maps = network.get_layer(layer).output  # (None, height, width, channels)
    pooled = layers.GlobalAveragePooling2D(name=f"{layer}_average")(feature_maps)
    return keras.Model(network.input, pooled, name=f"{network.name}_{layer}_average")


# Which cut still knows where the sprite is? fc2: it is computed from the flattened block,
# every position with weights of its own. The average over positions keeps what the block
# saw and forgets where, so the max/min over time of those features can no longer list the
# places a slide passed through, and telling a slide from a zoom gets harder.

if __name__ == "__main__":  # in the notebook, not when the tests import this file
    exercises.check_pooled_extractor(pooled_extractor)
