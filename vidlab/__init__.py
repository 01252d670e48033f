"""vidlab: the package behind the notebooks of the video-classification course."""

import os

# TensorFlow takes its CPU tensors from malloc, and glibc gives large blocks back to the
# system when they are freed, so every training or prediction step faults its activations'
# memory in again.  TensorFlow's BFC allocator keeps the memory and reuses it: on a 2-core CPU
# notebook 04's predictions took about a third less time, with the same numbers.
# TensorFlow reads the variable when it makes its first tensor; a value the user set wins.
os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")
