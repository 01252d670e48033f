"""Profiles, cache directory, seeding and the environment report.

Two profiles share one code path:

* ``quick`` -- offline, CPU, minutes: MotionShapes videos and small backbones
  pretrained on still images (weights committed under ``data/``).
* ``full`` -- a UCF101 subset and ImageNet / Kinetics weights, meant for a GPU.

``quick`` is the default everywhere except on Colab with a GPU; a notebook's
``PROFILE = "quick"`` or ``"full"``, or else the ``VIDLAB_PROFILE`` environment
variable, overrides the choice.

``VIDLAB_SCALE=smoke`` shrinks the full profile for a rehearsal (CI runs every
notebook's full branches on a generated stand-in of its files, see
:mod:`vidlab.mirror`): the same code path, models, input sizes and dtypes, with
fewer classes, fewer frames where a whole video is read, and (in each notebook's
parameters cell) fewer epochs.

:func:`distribution_strategy` chooses how full-profile training uses the
accelerators the runtime offers.
"""

from __future__ import annotations

# Keras and TensorFlow are imported inside the functions that need them: this module is
# imported first by everything (the Colab set-up cell and the course tools too), TensorFlow
# takes seconds and most of a gigabyte to import, and Keras may run on another backend.
import os
import platform
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

PROFILES = ("quick", "full")
#: What a notebook's parameters cell may ask for: ``"auto"`` lets :func:`profile` choose.
PROFILE_CHOICES = ("auto", *PROFILES)
#: ``normal``: the sizes a profile is meant for; ``smoke``: the full profile, shrunk for CI.
SCALES = ("normal", "smoke")

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


def profile(choice: str = "auto") -> str:
    """Return the profile to run, ``"quick"`` or ``"full"``.

    ``choice`` is what a notebook's parameters cell asks for: ``"quick"`` or
    ``"full"`` is obeyed as it is; with ``"auto"``, ``VIDLAB_PROFILE`` wins when
    set, and otherwise it is ``"full"`` on Colab with a GPU and ``"quick"``
    everywhere else.
    """
    choice = choice.strip().lower()
    if choice not in PROFILE_CHOICES:
        raise ValueError(f"PROFILE={choice!r} is not a choice; expected one of {PROFILE_CHOICES}.")
    if choice != "auto":
        return choice
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
    #: ``"normal"`` or ``"smoke"`` (:func:`scale`; only the full profile shrinks).
    scale: str = field(default="normal", repr=False)
    #: Frames read from a video that a notebook reads whole (None: all of them).
    max_video_frames: int | None = field(default=None, repr=False)


def scale() -> str:
    """Return ``VIDLAB_SCALE``: ``"normal"`` (unset or empty) or ``"smoke"``."""
    chosen = os.environ.get("VIDLAB_SCALE", "").strip().lower() or "normal"
    if chosen not in SCALES:
        raise ValueError(f"VIDLAB_SCALE={chosen!r} is not a scale; expected one of {SCALES}.")
    return chosen


def settings(name: str | None = None) -> Settings:
    """Return the :class:`Settings` of profile ``name`` (default: :func:`profile`).

    With ``VIDLAB_SCALE=smoke`` the full profile keeps its dataset, frame count,
    frame size and batch size, and reads 3 classes and at most 64 frames of a
    video it reads whole (the shortest clip I3D's published checkpoints were
    trained on); the quick profile does not change.
    """
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
        smoke = scale() == "smoke"
        return Settings(
            profile="full",
            dataset="ucf101",
            num_classes=3 if smoke else 10,
            clips_per_class=0,  # all clips of the chosen classes
            num_frames=16,
            frame_size=224,
            batch_size=16,
            scale="smoke" if smoke else "normal",
            max_video_frames=64 if smoke else None,
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


def _colab_tpu() -> bool:
    """True on a Colab TPU runtime (its TPU address, or a TPU VM's accelerator device)."""
    return on_colab() and ("COLAB_TPU_ADDR" in os.environ or os.path.exists("/dev/accel0"))


def distribution_strategy():
    """Return the ``tf.distribute`` strategy for full-profile training on this runtime.

    ``TPUStrategy`` on a Colab TPU runtime, ``MirroredStrategy`` over every GPU
    when there are several, and TensorFlow's default strategy otherwise (one GPU,
    or the CPU: one replica, and ``strategy.scope()`` changes nothing).  Build a
    model *and* call :func:`vidlab.train.fit` inside ``strategy.scope()`` (``fit``
    compiles the model and makes the optimizer's variables, which must be made
    under the same strategy), and give it :func:`global_batch_size` clips a step.
    """
    import tensorflow as tf

    if _colab_tpu():
        address = os.environ.get("COLAB_TPU_ADDR")
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
            tpu=f"grpc://{address}" if address else "local")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([gpu.name for gpu in gpus])
    return tf.distribute.get_strategy()


def global_batch_size(per_replica: int, strategy=None) -> int:
    """Return the batch of one training step: ``per_replica`` clips on every replica.

    ``strategy`` defaults to the one in scope (TensorFlow's default: 1 replica).
    """
    if per_replica < 1:
        raise ValueError(f"per_replica must be at least 1, got {per_replica}")
    if strategy is None:
        import tensorflow as tf

        strategy = tf.distribute.get_strategy()
    return per_replica * strategy.num_replicas_in_sync
