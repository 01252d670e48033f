# Notebook 05, exercise 2: the shortest input that leaves `window` positions after the strides.


def minimum_length(strides, window):
    """Return the fewest input positions that leave ``window`` after SAME-padded ``strides``."""
    needed = window
    for stride in reversed(strides):  # walk back from the head to the input
        needed = stride * (needed - 1) + 1  # ceil(n / s) >= m  <=>  n >= s * (m - 1) + 1
    return needed
