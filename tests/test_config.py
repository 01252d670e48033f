"""Specification of vidlab.config: profiles, settings, cache folder, seeding, environment report."""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest

from vidlab import config


@pytest.fixture
def off_colab(monkeypatch):
    """A plain machine: no VIDLAB_PROFILE, not Colab."""
    monkeypatch.delenv("VIDLAB_PROFILE", raising=False)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)


# --------------------------------------------------------------------------- profile


def test_profile_defaults_to_quick_off_colab(off_colab, monkeypatch):
    """Off Colab the profile is "quick", even on a machine with a GPU."""
    monkeypatch.setattr(config, "gpu_available", lambda: True)
    assert not config.on_colab()
    assert config.profile() == "quick"


def test_profile_is_full_on_colab_with_a_gpu(off_colab, monkeypatch):
    """On Colab with a GPU the default is "full"; on a CPU-only Colab runtime it is "quick"."""
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-test")
    assert config.on_colab()
    monkeypatch.setattr(config, "gpu_available", lambda: True)
    assert config.profile() == "full"
    monkeypatch.setattr(config, "gpu_available", lambda: False)
    assert config.profile() == "quick"


@pytest.mark.parametrize("value, expected", [("full", "full"), ("FULL", "full"),
                                             (" Quick ", "quick"), ("quick", "quick")])
def test_vidlab_profile_overrides_the_default_case_insensitively(
    off_colab, monkeypatch, value, expected
):
    """VIDLAB_PROFILE wins over the automatic choice; case and spaces do not matter."""
    monkeypatch.setenv("VIDLAB_PROFILE", value)
    assert config.profile() == expected


def test_vidlab_profile_wins_on_colab_too(off_colab, monkeypatch):
    """Even on Colab with a GPU, VIDLAB_PROFILE=quick is obeyed."""
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-test")
    monkeypatch.setattr(config, "gpu_available", lambda: True)
    monkeypatch.setenv("VIDLAB_PROFILE", "quick")
    assert config.profile() == "quick"


def test_an_unknown_vidlab_profile_raises_naming_the_allowed_values(off_colab, monkeypatch):
    """A typo in VIDLAB_PROFILE is a ValueError listing "quick" and "full"."""
    monkeypatch.setenv("VIDLAB_PROFILE", "fast")
    with pytest.raises(ValueError) as info:
        config.profile()
    message = str(info.value)
    assert "fast" in message and "quick" in message and "full" in message


def test_an_empty_vidlab_profile_means_the_default(off_colab, monkeypatch):
    """VIDLAB_PROFILE set to an empty string behaves as if unset."""
    monkeypatch.setenv("VIDLAB_PROFILE", "")
    assert config.profile() == "quick"


# --------------------------------------------------------------------------- settings


def test_quick_settings_are_small_motion_shapes_runs():
    """quick: MotionShapes, 8 classes, 100 clips each, 16 frames of 64x64, batches of 32."""
    quick = config.settings("quick")
    assert quick.profile == "quick"
    assert quick.dataset == "motion_shapes"
    assert quick.num_classes == 8
    assert quick.clips_per_class == 100
    assert (quick.num_frames, quick.frame_size, quick.batch_size) == (16, 64, 32)
    assert quick.seed == 0


def test_full_settings_are_a_ucf101_subset_at_imagenet_resolution():
    """full: UCF101 (10 classes, all their clips), 16 frames of 224x224, batches of 16."""
    full = config.settings("full")
    assert full.profile == "full"
    assert full.dataset == "ucf101"
    assert full.num_classes == 10
    assert full.clips_per_class == 0
    assert (full.num_frames, full.frame_size, full.batch_size) == (16, 224, 16)


def test_settings_are_frozen():
    """Settings cannot be changed by accident in a notebook."""
    quick = config.settings("quick")
    with pytest.raises(AttributeError):
        quick.batch_size = 1


def test_settings_default_to_the_active_profile(off_colab, monkeypatch):
    """settings() without a name follows profile()."""
    assert config.settings().profile == "quick"
    monkeypatch.setenv("VIDLAB_PROFILE", "full")
    assert config.settings() == config.settings("full")


def test_settings_of_an_unknown_profile_raise_value_error():
    """Only "quick" and "full" exist."""
    with pytest.raises(ValueError, match="quick"):
        config.settings("medium")


def test_a_notebooks_explicit_choice_wins_over_the_environment(off_colab, monkeypatch):
    """PROFILE = "quick" on the page is obeyed even where VIDLAB_PROFILE says full."""
    monkeypatch.setenv("VIDLAB_PROFILE", "full")
    assert config.profile("quick") == "quick"
    assert config.profile(" Full ") == "full"
    assert config.profile("auto") == "full"


def test_an_unknown_choice_lists_the_three_choices():
    with pytest.raises(ValueError, match="auto.*quick.*full"):
        config.profile("fast")


def test_the_smoke_scale_shrinks_only_what_a_rehearsal_may_shrink(monkeypatch):
    """VIDLAB_SCALE=smoke: fewer classes and video frames; same data, sizes and batches."""
    monkeypatch.delenv("VIDLAB_SCALE", raising=False)
    full = config.settings("full")
    monkeypatch.setenv("VIDLAB_SCALE", "smoke")
    smoke = config.settings("full")
    assert (smoke.scale, full.scale) == ("smoke", "normal")
    assert smoke.num_classes < full.num_classes and smoke.max_video_frames >= 64
    assert full.max_video_frames is None
    same = ("dataset", "clips_per_class", "num_frames", "frame_size", "batch_size", "seed")
    assert all(getattr(smoke, name) == getattr(full, name) for name in same)
    assert config.settings("quick").scale == "normal"  # the quick profile is already small


def test_an_unknown_scale_is_refused(monkeypatch):
    monkeypatch.setenv("VIDLAB_SCALE", "tiny")
    with pytest.raises(ValueError, match="smoke"):
        config.scale()


# --------------------------------------------------------------------------- strategy


def test_a_cpu_runtime_trains_on_one_replica_and_keeps_the_batch():
    strategy = config.distribution_strategy()
    assert strategy.num_replicas_in_sync == 1
    assert config.global_batch_size(16, strategy) == 16
    with pytest.raises(ValueError, match="at least 1"):
        config.global_batch_size(0)


# --------------------------------------------------------------------------- cache_dir


def test_cache_dir_honours_vidlab_cache_and_creates_it(tmp_path, monkeypatch):
    """VIDLAB_CACHE picks the folder, which is created (parents included) if missing."""
    target = tmp_path / "deep" / "cache"
    monkeypatch.setenv("VIDLAB_CACHE", str(target))
    assert config.cache_dir() == target
    assert target.is_dir()
    assert config.cache_dir() == target  # a second call with the folder present is fine


def test_cache_dir_defaults_to_the_user_cache(tmp_path, monkeypatch):
    """Without VIDLAB_CACHE the cache is ~/.cache/vidlab."""
    monkeypatch.delenv("VIDLAB_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.cache_dir() == tmp_path / ".cache" / "vidlab"
    assert (tmp_path / ".cache" / "vidlab").is_dir()


def test_cache_dir_expands_a_tilde(tmp_path, monkeypatch):
    """VIDLAB_CACHE=~/something is expanded to the home folder."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("VIDLAB_CACHE", "~/vidcache")
    assert config.cache_dir() == tmp_path / "vidcache"


# --------------------------------------------------------------------------- seeding


def test_seed_everything_makes_keras_numpy_and_python_draws_repeat(monkeypatch):
    """After seed_everything(s), keras.random, numpy's and Python's RNGs repeat their draws.

    (TensorFlow's op determinism switch is recorded, not flipped, to leave the
    process as it was for the other tests.)
    """
    import keras

    calls = []
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        monkeypatch.setattr(tf.config.experimental, "enable_op_determinism",
                            lambda: calls.append(True))

    def draws():
        return (
            np.asarray(keras.random.normal((4,))),
            np.random.rand(3),  # noqa: NPY002 -- the legacy global RNG is what is seeded
            random.random(),
        )

    config.seed_everything(0)
    first = draws()
    config.seed_everything(0)
    second = draws()
    config.seed_everything(1)
    other = draws()
    for a, b in zip(first[:2], second[:2], strict=True):
        np.testing.assert_array_equal(a, b)
    assert first[2] == second[2]
    assert not np.array_equal(first[0], other[0])
    assert not np.array_equal(first[1], other[1])
    if keras.backend.backend() == "tensorflow":
        assert calls == [True, True, True]


# --------------------------------------------------------------------------- environment report


def test_environment_report_names_versions_gpu_and_profile(off_colab, monkeypatch):
    """The report lists Python, TensorFlow, Keras, OpenCV, the GPU, Colab and the profile."""
    monkeypatch.setattr(config, "gpu_available", lambda: False)
    report = config.environment_report()
    for word in ("Python", "TensorFlow", "Keras", "OpenCV", "GPU", "Colab", "Profile"):
        assert word in report, word
    import cv2
    import keras

    assert keras.__version__ in report
    assert cv2.__version__ in report
    assert "no (CPU only)" in report
    assert report.splitlines()[-1].split() == ["Profile", "quick"]


def test_environment_report_shows_the_given_profile_and_a_gpu(monkeypatch):
    """environment_report(name) reports that profile; a visible GPU is reported as such."""
    monkeypatch.setattr(config, "gpu_available", lambda: True)
    report = config.environment_report("full")
    assert report.splitlines()[-1].split() == ["Profile", "full"]
    assert any(line.split() == ["GPU", "yes"] for line in report.splitlines())


def test_gpu_available_returns_a_bool():
    """gpu_available answers True or False (no exception on a CPU-only machine)."""
    assert config.gpu_available() in (True, False)
