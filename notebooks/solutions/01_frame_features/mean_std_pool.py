"""Notebook 01, exercise 1: mean + std pooling.

In the notebook, `%load` this file into the exercise's cell and run it; the tests import it.
"""

import numpy as np

from vidlab import exercises


def mean_std_pool(features):
    """(N, T, D) frame features -> (N, 2D): the mean over time, then the standard deviation."""
    return np.concatenate([features.mean(axis=1), features.std(axis=1)], axis=1)


# Is it order free? Yes: neither the mean nor the standard deviation depends on the order
# of the frames, so a clip and its reversal still get the same descriptor.

if __name__ == "__main__":  # in the notebook, not when the tests import this file
    exercises.check_mean_std_pool(mean_std_pool)
