# Exercise 1 of notebook 04: stack L flow fields into one 2L-channel input.
import numpy as np

from vidlab import exercises


def my_stack_flow(fields, length, start):
    window = fields[start:start + length]  # (L, H, W, 2)
    per_pixel = np.moveaxis(window, 0, 2)  # (H, W, L, 2): x, y of each field in turn
    # Reshaping (H, W, L, 2) reads the last two axes in order: each field's x, then its y.
    # Reshaping (L, H, W, 2) directly would mix pixels of different positions.
    return per_pixel.reshape(*per_pixel.shape[:2], 2 * length)


if __name__ == "__main__":  # in the notebook, after %load
    exercises.check_stack_flow(my_stack_flow)
