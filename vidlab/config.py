"""Profiles, cache directory, seeding and the environment report.

Two profiles share one code path:

* ``quick`` -- offline, CPU, minutes: MotionShapes videos and small backbones
  pretrained on still images (weights committed under ``data/``).
* ``full`` -- a UCF101 subset and ImageNet / Kinetics weights, meant for a GPU.

``quick`` is the default everywhere except on Colab with a GPU; the
``VIDLAB_PROFILE`` environment variable overrides the choice.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

PROFILES = ("quick", "full")

#: Folder of the repository's committed data (pretrained quick-profile weights).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def on_colab() -> bool:
    """Return True inside a Google Colab runtime."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def gpu_available() -> bool:
    """Return True if TensorFlow (or, failing that, ``nvidia-smi``) sees a GPU."""
    try:
        import tensorflow as tf
    except ImportError:
        return shutil.which("nvidia-smi") is not None
    return bool(tf.config.list_physical_devices("GPU"))


def profile() -> str:
    """Return the active profile name, ``"quick"`` or ``"full"``.

    ``VIDLAB_PROFILE`` wins when set; otherwise ``"full"`` on Colab with a GPU
    and ``"quick"`` everywhere else.
    """
    chosen = os.environ.get("VIDLAB_PROFILE", "").strip().lower()
    if chosen:
        if chosen not in PROFILES:
            raise ValueError(
                f"VIDLAB_PROFILE={chosen!r} is not a profile; expected one of {PROFILES}."
            )
        return chosen
    return "full" if on_colab() and gpu_available() else "quick"


@dataclass(frozen=True)
class Settings:
    """The sizes a profile runs at; every notebook's parameters cell reads these."""

    profile: str
    dataset: str
    num_classes: int
    clips_per_class: int
    num_frames: int
    frame_size: int
    batch_size: int
    seed: int = 0


def settings(name: str | None = None) -> Settings:
    """Return the :class:`Settings` of profile ``name`` (default: :func:`profile`)."""
    name = profile() if name is None else name
    if name == "quick":
        return Settings(
            profile="quick",
            dataset="motion_shapes",
            num_classes=8,
            clips_per_class=100,
            num_frames=16,
            frame_size=64,
            batch_size=32,
        )
    if name == "full":
        return Settings(
            profile="full",
            dataset="ucf101",
            num_classes=10,
            clips_per_class=0,  # all clips of the chosen classes
            num_frames=16,
            frame_size=224,
            batch_size=16,
        )
    raise ValueError(f"Unknown profile {name!r}; expected one of {PROFILES}.")


def cache_dir() -> Path:
    """Return the cache folder (``VIDLAB_CACHE``, default ``~/.cache/vidlab``), created."""
    path = Path(os.environ.get("VIDLAB_CACHE", Path.home() / ".cache" / "vidlab")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and the Keras backend, and make TensorFlow ops deterministic.

    With the same seed, the same machine and the same thread count, training runs
    give bit-identical results from one fresh process to the next.
    """
    import keras

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def environment_report(name: str | None = None) -> str:
    """Return a short report of versions, accelerator and profile for a notebook's top."""
    lines = [f"Python      {platform.python_version()}"]
    for module, label in (("tensorflow", "TensorFlow"), ("keras", "Keras"), ("cv2", "OpenCV")):
        try:
            version = __import__(module).__version__
        except ImportError:
            version = "not installed"
        lines.append(f"{label:<11} {version}")
    lines.append(f"GPU         {'yes' if gpu_available() else 'no (CPU only)'}")
    lines.append(f"Colab       {'yes' if on_colab() else 'no'}")
    lines.append(f"Profile     {profile() if name is None else name}")
    return "\n".join(lines)
