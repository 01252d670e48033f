"""Specification of what importing vidlab does to the process: TensorFlow's CPU allocator."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

#: Imports vidlab, then TensorFlow, makes a tensor and says whether the CPU allocator keeps
#: statistics (only TensorFlow's BFC allocator does; malloc's does not).
PROBE = """
import os
import vidlab
import tensorflow as tf
tf.ones((256, 256)) @ tf.ones((256, 256))
try:
    tf.config.experimental.get_memory_info("CPU:0")
    print("bfc", os.environ["TF_CPU_ALLOCATOR_USE_BFC"])
except ValueError:
    print("malloc", os.environ["TF_CPU_ALLOCATOR_USE_BFC"])
"""


def probe(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "TF_CPU_ALLOCATOR_USE_BFC"}
    done = subprocess.run([sys.executable, "-c", PROBE], env={**base, **env}, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def test_importing_vidlab_gives_tensorflow_its_bfc_cpu_allocator():
    """Memory of freed tensors is kept and reused instead of being returned to the system."""
    assert probe() == "bfc true"


@pytest.mark.parametrize("value", ["false", "0"])
def test_a_value_the_user_set_wins(value):
    assert probe(TF_CPU_ALLOCATOR_USE_BFC=value) == f"malloc {value}"
