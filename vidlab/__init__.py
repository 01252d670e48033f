"""vidlab: the package behind the notebooks of the video-classification course."""

import os

# TensorFlow takes its CPU tensors from malloc, and glibc gives large blocks back to the
# system when they are freed, so every training or prediction step faults its activations'
# memory in again: on a 2-core CPU, notebook 04's predictions spent about a third of their time
# so.  TensorFlow's BFC allocator keeps the memory and reuses it; the numbers are the same.
# TensorFlow reads the variable when it makes its first tensor; a value the user set wins.
os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")
