"""Specification of vidlab.features: batched extraction, the cache, pooling."""

import numpy as np
import pytest

from vidlab import features
from vidlab.backbones import get_backbone
from vidlab.datasets import VideoDataset, VideoRecord, list_videos, motion_shapes, read_clips
from vidlab.video import VideoReadError


@pytest.fixture(scope="module")
def backbone():
    return get_backbone("shapes_vgg", "quick", weights=False)


@pytest.fixture
def clips():
    return np.random.default_rng(0).integers(0, 256, (3, 4, 48, 48, 3), dtype=np.uint8)


def test_extract_features_returns_one_vector_per_frame(backbone, clips):
    out = features.extract_features(clips, backbone, batch_size=5, progress=False)
    assert out.shape == (3, 4, backbone.feature_dim)
    assert out.dtype == np.float32


def test_batched_extraction_equals_the_naive_per_frame_loop(backbone, clips):
    fast = features.extract_features(clips, backbone, batch_size=7, progress=False)
    slow = features.naive_extract(clips, backbone)
    np.testing.assert_allclose(fast, slow, rtol=1e-4, atol=1e-4)


def test_large_frames_go_to_the_model_in_smaller_calls():
    assert features.frames_per_call(64) == features.frames_per_call(112) == 256
    assert features.frames_per_call(224) == 64
    assert features.frames_per_call(4096) == 1
    with pytest.raises(ValueError, match="input_size"):
        features.frames_per_call(0)


@pytest.mark.parametrize("input_size, per_call", [(32, [256, 44]), (224, [64] * 4 + [44])])
def test_extract_features_calls_the_model_with_at_most_frames_per_call(input_size, per_call):
    class Recorder:
        def __init__(self):
            self.calls = []

        def predict_on_batch(self, batch):
            self.calls.append(len(batch))
            return np.zeros((len(batch), 2), np.float32)

    from vidlab.backbones import Backbone

    model = Recorder()
    backbone = Backbone(name="recorder", model=model, preprocess=lambda x: x,
                        input_size=input_size, feature_dim=2, classifier=None,
                        weights_id="recorder:test")
    frames = np.zeros((3, 100, 8, 8, 3), np.uint8)  # 300 frames, resized to input_size
    assert features.extract_features(frames, backbone, progress=False).shape == (3, 100, 2)
    assert model.calls == per_call


def test_extract_features_rejects_a_single_clip(backbone, clips):
    with pytest.raises(ValueError, match=r"\(N, T, H, W, 3\)"):
        features.extract_features(clips[0], backbone)


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """Real MotionShapes files: 8 clips of 4 frames, 32x32 (the backbone resizes them to 64)."""
    root = tmp_path_factory.mktemp("videos") / "ms"
    motion_shapes.write(root, num_per_class=1, num_frames=4, size=32, progress=False)
    return list_videos(root)[0]


def test_features_of_video_files_equal_those_of_the_decoded_clips(backbone, records):
    """The tf.data path decodes while the model runs; it must not change a single number."""
    clips, _ = read_clips(records, num_frames=4, size=32, progress=False)
    expected = features.extract_features(clips, backbone, batch_size=12, progress=False)
    got = features.video_features(records, backbone, num_frames=4, size=32, batch_size=12,
                                  progress=False)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("gpu", [False, True])
def test_dataset_features_read_each_split_the_way_the_hardware_suits(backbone, records, gpu,
                                                                     tmp_path, monkeypatch):
    """Decoding overlaps the model only on a GPU; the features are the same either way."""
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path))
    monkeypatch.setattr(features.config, "gpu_available", lambda: gpu)
    used = []
    monkeypatch.setattr(features, "video_features", _spy(features.video_features, used))
    dataset = VideoDataset(records[0].path.parent.parent, ["a"], records[:5], records[5:])
    got = features.dataset_features(dataset, backbone, num_frames=4, size=32, progress=False)
    assert len(used) == (2 if gpu else 0)
    clips, labels = read_clips(records[5:], num_frames=4, size=32, progress=False)
    np.testing.assert_array_equal(got["test"], features.extract_features(
        clips, backbone, progress=False).astype(np.float16).astype(np.float32))
    np.testing.assert_array_equal(got["y_test"], labels)


def _spy(function, calls):
    def spy(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)
    return spy


def test_frame_batches_hold_whole_clips_in_record_order(backbone, records):
    batches = [b.numpy() for b in features.frame_batches(records[:5], 4, 32, backbone,
                                                         clips_per_batch=2)]
    assert [len(b) for b in batches] == [8, 8, 4]
    assert batches[0].shape[1:] == (backbone.input_size, backbone.input_size, 3)
    clips, _ = read_clips(records[4:5], num_frames=4, size=32, progress=False)
    np.testing.assert_array_equal(batches[-1], backbone.prepare(clips[0]))


def test_a_broken_video_file_is_named_not_a_tensorflow_error(backbone, records, tmp_path):
    broken = tmp_path / "v_Broken_g01_c01.avi"
    broken.write_bytes(b"not a video")
    mixed = [*records[:3], VideoRecord(broken, 0, 1), *records[3:]]
    with pytest.raises(VideoReadError, match="v_Broken_g01_c01.avi"):
        features.video_features(mixed, backbone, num_frames=4, size=32, batch_size=8,
                                progress=False)


def test_cache_computes_once_and_reuses(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "y": np.array([1, 2])}

    first = features.cached("demo", {"a": 1}, compute)
    second = features.cached("demo", {"a": 1}, compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["x"], second["x"])
    np.testing.assert_array_equal(second["y"], [1, 2])


def test_a_changed_setting_never_reuses_stale_features(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path))
    features.cached("demo", {"size": 64}, lambda: {"x": np.zeros(2, np.float32)})
    other = features.cached("demo", {"size": 112}, lambda: {"x": np.ones(2, np.float32)})
    np.testing.assert_array_equal(other["x"], [1, 1])


def test_a_damaged_cache_file_is_recomputed_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path))
    features.cached("demo", {"k": 1}, lambda: {"x": np.zeros(2, np.float32)})
    (cached_file,) = (tmp_path / "features").glob("demo-*.npz")
    cached_file.write_bytes(b"half a file")
    with pytest.warns(UserWarning, match="recomputing"):
        out = features.cached("demo", {"k": 1}, lambda: {"x": np.ones(2, np.float32)})
    np.testing.assert_array_equal(out["x"], [1, 1])


def test_no_temporary_files_are_left_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path))
    features.cached("demo", {"k": 2}, lambda: {"x": np.zeros(2, np.float32)})
    assert [p.name for p in (tmp_path / "features").iterdir() if p.name.startswith(".")] == []


def test_max_min_pool_concatenates_max_then_min_over_time():
    x = np.array([[[1.0, -2.0], [3.0, 0.0], [2.0, 5.0]]])
    np.testing.assert_array_equal(features.max_min_pool(x), [[3.0, 5.0, 1.0, -2.0]])


def test_mean_pool_averages_over_time():
    x = np.array([[[1.0, -2.0], [3.0, 0.0], [2.0, 5.0]]])
    np.testing.assert_allclose(features.mean_pool(x), [[2.0, 1.0]])


@pytest.mark.parametrize("pool", [features.max_min_pool, features.mean_pool])
def test_pooling_is_blind_to_frame_order(pool):
    x = np.random.default_rng(1).normal(size=(4, 6, 3))
    np.testing.assert_allclose(pool(x), pool(x[:, ::-1]))


@pytest.mark.parametrize("pool", [features.max_min_pool, features.mean_pool])
def test_pooling_checks_the_feature_shape(pool):
    with pytest.raises(ValueError, match=r"\(N, T, D\)"):
        pool(np.zeros((4, 6)))


def test_a_cold_and_a_warm_cache_return_the_same_values(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path))
    fine = np.array([0.1234567, 1.0001], np.float32)  # not representable in float16
    cold = features.cached("demo", {"k": 3}, lambda: {"x": fine})
    warm = features.cached("demo", {"k": 3}, lambda: {"x": fine})
    np.testing.assert_array_equal(cold["x"], warm["x"])
    assert cold["x"].dtype == np.float32


def test_features_are_cached_per_weights_content_not_per_name(backbone, records, tmp_path,
                                                              monkeypatch):
    """Same backbone name, other weights file: the cached features are not reused."""
    import dataclasses

    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path))
    dataset = VideoDataset(records[0].path.parent.parent, ["a"], records[:5], records[5:])
    used = []
    monkeypatch.setattr(features, "extract_features", _spy(features.extract_features, used))
    features.dataset_features(dataset, backbone, num_frames=4, size=32, progress=False)
    features.dataset_features(dataset, backbone, num_frames=4, size=32, progress=False)
    assert len(used) == 2  # train and test, once: the second call read the cache
    other = dataclasses.replace(backbone, weights_id="shapes_vgg:0123456789abcdef")
    features.dataset_features(dataset, other, num_frames=4, size=32, progress=False)
    assert len(used) == 4


def test_a_pretrained_backbone_is_identified_by_its_weights_file_content():
    from vidlab.config import DATA_DIR
    from vidlab.download import file_sha256

    digest = file_sha256(DATA_DIR / "shapes_vgg.weights.h5")
    assert get_backbone("shapes_vgg", "quick").weights_id == f"shapes_vgg:{digest[:16]}"
