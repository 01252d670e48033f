# Solution to exercise 1 of notebook 02: windows with several targets.
import numpy as np

from vidlab import exercises


def split_sequence_multi(seq, n_in, n_out):
    seq = np.asarray(seq, dtype=np.float32)
    # The last window must still have n_out values after it.
    starts = range(len(seq) - n_in - n_out + 1)
    X = np.array([seq[k : k + n_in] for k in starts])
    y = np.array([seq[k + n_in : k + n_in + n_out] for k in starts])
    return X, y


exercises.check_split_sequence_multi(split_sequence_multi)
