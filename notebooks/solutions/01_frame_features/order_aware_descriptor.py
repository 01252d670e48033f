"""Notebook 01, exercise 2: a descriptor that sees which way things move.

In the notebook, `%load` this file into the exercise's cell and run it; the tests import it.
"""

from vidlab import exercises


def order_aware_descriptor(features):
    """(N, T, D) frame features -> (N, D): the second half's mean minus the first half's.

    A unit tuned to a region rises in the half of the clip the sprite reaches it; the
    difference says where the sprite went, and flips sign when the clip is reversed.
    """
    half = features.shape[1] // 2
    return features[:, half:].mean(axis=1) - features[:, :half].mean(axis=1)


# On the notebook's features, `fit_and_score(order_aware_descriptor)[0]` separates the
# slides and the zooms, but the two rotations stay close to a coin toss. An angle lives on
# a circle: whatever linear weights the classifier puts on "end minus start", summed over
# every starting angle the clockwise turns score as much as the counter-clockwise ones, so
# no single weighting tells the two apart at every starting angle. A nonlinear model of
# the sequence of frames (an LSTM, notebook 03) is not bound by that.

if __name__ == "__main__":  # in the notebook, not when the tests import this file
    exercises.check_order_aware_descriptor(order_aware_descriptor)
