"""Specification of MotionShapes, the procedurally generated dataset of the quick profile."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from vidlab.datasets import VideoDataset, motion_shapes
from vidlab.datasets.motion_shapes import MOTIONS, REVERSAL_PAIRS, SHAPES, render_clip
from vidlab.video import read_video, video_info

YELLOW = np.array([250.0, 240.0, 40.0])


@pytest.fixture(scope="module")
def background():
    """One group's textured background, 96x96 (dark, so a bright sprite stands out)."""
    image, hue = motion_shapes.group_background(3, 96)
    assert image.shape == (96, 96, 3) and 0 <= hue < 1
    return image


def sprite_mask(frame: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Pixels where the sprite is drawn: those that differ clearly from the background."""
    return np.abs(frame.astype(float) - background).sum(axis=-1) > 120


def centroid(mask: np.ndarray) -> np.ndarray:
    """(x, y) centre of mass of a mask."""
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


# --------------------------------------------------------------------------- generate


def test_generate_returns_uint8_videos_labels_and_the_eight_motion_classes():
    """generate(n) gives (8n, T, S, S, 3) uint8 videos, (8n,) labels and the class names."""
    videos, labels, names = motion_shapes.generate(2, num_frames=4, size=32)
    assert videos.shape == (16, 4, 32, 32, 3)
    assert videos.dtype == np.uint8
    assert labels.shape == (16,)
    assert names == list(MOTIONS)
    assert len(names) == 8
    np.testing.assert_array_equal(np.bincount(labels, minlength=8), [2] * 8)


def test_the_motion_classes_are_the_four_reversal_pairs():
    """The 8 motion classes are exactly the members of the 4 reversal pairs."""
    assert len(REVERSAL_PAIRS) == 4
    members = set(REVERSAL_PAIRS) | set(REVERSAL_PAIRS.values())
    assert members == set(MOTIONS) and len(members) == 8
    assert REVERSAL_PAIRS["SlideRight"] == "SlideLeft"


@pytest.mark.parametrize("label_set, count", [("motion", 8), ("shape", 4), ("shape_motion", 8)])
def test_each_label_set_has_its_number_of_classes(label_set, count):
    """label_set "shape" has 4 classes, "motion" and "shape_motion" 8; labels index them."""
    videos, labels, names = motion_shapes.generate(1, num_frames=2, size=32, label_set=label_set)
    assert len(names) == count == len(set(names))
    assert names == motion_shapes.class_names(label_set)
    assert videos.shape[0] == count
    assert sorted(labels.tolist()) == list(range(count))


def test_shape_label_set_names_are_the_shapes():
    """The "shape" classes are the four sprite shapes; "shape_motion" crosses them with slides."""
    assert motion_shapes.class_names("shape") == list(SHAPES)
    combos = motion_shapes.class_names("shape_motion")
    assert "TriangleSlideLeft" in combos and "CrossSlideRight" in combos


def test_the_same_seed_generates_identical_videos():
    """generate is deterministic: the same seed gives bit-identical arrays."""
    a = motion_shapes.generate(1, num_frames=4, size=32, seed=5)
    b = motion_shapes.generate(1, num_frames=4, size=32, seed=5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_a_different_seed_generates_different_videos():
    """Another seed gives other clips (same labels)."""
    a, labels_a, _ = motion_shapes.generate(1, num_frames=4, size=32, seed=0)
    b, labels_b, _ = motion_shapes.generate(1, num_frames=4, size=32, seed=1)
    np.testing.assert_array_equal(labels_a, labels_b)
    assert not np.array_equal(a, b)


def test_up_to_64_frames_work():
    """num_frames=64, the largest allowed, works."""
    videos, _, _ = motion_shapes.generate(1, num_frames=64, size=32)
    assert videos.shape == (8, 64, 32, 32, 3)


def test_frames_up_to_224_pixels_work():
    """size=224, the largest allowed, works."""
    videos, _, _ = motion_shapes.generate(1, num_frames=2, size=224)
    assert videos.shape == (8, 2, 224, 224, 3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_per_class": 0},
        {"num_frames": 1},
        {"num_frames": 65},
        {"size": 31},
        {"size": 225},
        {"label_set": "colour"},
    ],
)
def test_out_of_range_arguments_raise_value_error(kwargs, tmp_path):
    """Too few clips, 1 or more than 64 frames, sizes outside 32..224, unknown label sets."""
    args = {"num_per_class": 1, "num_frames": 4, "size": 32} | kwargs
    with pytest.raises(ValueError):
        motion_shapes.generate(**args)
    with pytest.raises(ValueError):
        motion_shapes.write(tmp_path / "ds", progress=False, **args)
    assert not (tmp_path / "ds").exists()


# --------------------------------------------------------------------------- the reversal property


@pytest.mark.parametrize("drawn, reversed_", sorted(REVERSAL_PAIRS.items()))
@pytest.mark.parametrize("shape", ["Triangle", "Star"])
def test_a_reversed_clip_is_a_clip_of_the_partner_class(background, drawn, reversed_, shape):
    """For every pair, render(partner, rng(k)) == render(motion, rng(k))[::-1], exactly.

    So a clip of one class played backwards is a sample of its partner class,
    drawn with the same probability.
    """
    for k in range(3):
        forward = render_clip(shape, drawn, background, YELLOW, 8, np.random.default_rng(k))
        backward = render_clip(shape, reversed_, background, YELLOW, 8, np.random.default_rng(k))
        assert forward.dtype == np.uint8 and forward.shape == (8, 96, 96, 3)
        np.testing.assert_array_equal(backward, forward[::-1])


@pytest.mark.parametrize("drawn, reversed_", sorted(REVERSAL_PAIRS.items()))
def test_order_free_pooling_cannot_separate_a_pair_but_frame_order_can(
    background, drawn, reversed_
):
    """Max, min and mean over time are identical for a clip and its reversal; last - first is not.

    This is why a model that pools frames without their order is stuck at
    chance within each pair, while one that sees order is not.
    """
    forward = render_clip("Square", drawn, background, YELLOW, 10, np.random.default_rng(4))
    backward = render_clip("Square", reversed_, background, YELLOW, 10, np.random.default_rng(4))
    for pool in (np.max, np.min, np.mean):
        np.testing.assert_array_equal(pool(forward, axis=0), pool(backward, axis=0))
    change_forward = forward[-1].astype(int) - forward[0]
    change_backward = backward[-1].astype(int) - backward[0]
    assert not np.array_equal(change_forward, change_backward)
    np.testing.assert_array_equal(change_forward, -change_backward)


def test_distinct_seeds_give_distinct_clips(background):
    """The renderer's randomness matters: another generator state draws another clip."""
    a = render_clip("Cross", "SlideUp", background, YELLOW, 6, np.random.default_rng(0))
    b = render_clip("Cross", "SlideUp", background, YELLOW, 6, np.random.default_rng(1))
    assert not np.array_equal(a, b)


# --------------------------------------------------------------------------- motions move


def _clip(background, motion, shape="Triangle", k=2, num_frames=16):
    """A noise-free clip, so the sprite can be segmented exactly."""
    rng = np.random.default_rng(k)
    return render_clip(shape, motion, background, YELLOW, num_frames, rng, noise=0.0)


@pytest.mark.parametrize(
    "motion, axis, sign",
    [("SlideRight", 0, +1), ("SlideLeft", 0, -1), ("SlideDown", 1, +1), ("SlideUp", 1, -1)],
)
def test_slides_move_the_sprite_the_way_their_name_says(background, motion, axis, sign):
    """The sprite's centroid moves right / left / down / up, along that axis only."""
    clip = _clip(background, motion)
    first = centroid(sprite_mask(clip[0], background))
    last = centroid(sprite_mask(clip[-1], background))
    shift = last - first
    assert sign * shift[axis] > 0.2 * 96  # travels 25-45% of the frame
    assert abs(shift[1 - axis]) < 1.5
    path = [centroid(sprite_mask(f, background))[axis] for f in clip]
    assert np.all(sign * np.diff(path) > 0)  # steadily, frame after frame


@pytest.mark.parametrize("motion, sign", [("ZoomIn", +1), ("ZoomOut", -1)])
def test_zooms_grow_or_shrink_the_sprite_in_place(background, motion, sign):
    """ZoomIn grows the sprite's area, ZoomOut shrinks it; its centre stays put."""
    clip = _clip(background, motion, shape="Square")
    areas = np.array([sprite_mask(f, background).sum() for f in clip])
    assert sign * (areas[-1] - areas[0]) > 0.5 * areas.min()
    assert np.all(sign * np.diff(areas) >= 0)
    drift = centroid(sprite_mask(clip[-1], background)) - centroid(sprite_mask(clip[0], background))
    assert np.abs(drift).max() < 1.5


def _rotation_match(mask_a: np.ndarray, mask_b: np.ndarray, degrees: float) -> float:
    """IoU of mask_b with mask_a turned by ``degrees`` *clockwise on screen* around its centroid."""
    cx, cy = centroid(mask_a)
    # OpenCV's positive angles turn counter-clockwise on screen (y points down).
    matrix = cv2.getRotationMatrix2D((float(cx), float(cy)), -degrees, 1.0)
    size = mask_a.shape[::-1]
    turned = cv2.warpAffine(mask_a.astype(np.uint8), matrix, size, flags=cv2.INTER_NEAREST) > 0
    return (turned & mask_b).sum() / (turned | mask_b).sum()


@pytest.mark.parametrize("motion, clockwise", [("RotateClockwise", True),
                                               ("RotateCounterClockwise", False)])
@pytest.mark.parametrize("k", [0, 1])
def test_rotations_turn_the_sprite_the_way_their_name_says(background, motion, clockwise, k):
    """Frame 4 of a RotateClockwise clip matches frame 0 turned clockwise, not counter-clockwise.

    (The turn between frames 0 and 4 is about 20-35 degrees, well below the
    triangle's 120-degree symmetry, so the direction is unambiguous.)
    """
    clip = _clip(background, motion, k=k)
    first, later = sprite_mask(clip[0], background), sprite_mask(clip[4], background)
    assert not np.array_equal(first, later)
    cw, ccw = _rotation_match(first, later, 27), _rotation_match(first, later, -27)
    assert (cw > ccw) == clockwise, (cw, ccw)
    assert max(cw, ccw) > 0.6
    np.testing.assert_allclose(centroid(first), centroid(later), atol=1.0)


@pytest.mark.parametrize("motion", MOTIONS)
def test_every_motion_changes_the_frames(background, motion):
    """No class is static: the first and last frames differ where the sprite is."""
    clip = _clip(background, motion, shape="Star")
    assert sprite_mask(clip[0], background).sum() > 20
    assert not np.array_equal(sprite_mask(clip[0], background), sprite_mask(clip[-1], background))


def test_generated_clips_show_their_sprite_on_the_group_background():
    """A generated clip is mostly its group's background plus a small sprite and mild noise."""
    videos, _, _ = motion_shapes.generate(1, num_frames=4, size=64, seed=0)
    background, _ = motion_shapes.group_background(1, 64, seed=0)
    differs = np.abs(videos[0, 0].astype(float) - background).sum(-1) > 40
    assert 0.005 < differs.mean() < 0.2


# --------------------------------------------------------------------------- write


NAME = re.compile(r"v_(?P<cls>[A-Za-z]+)_g(?P<group>\d\d)_c(?P<clip>\d\d)\.avi")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """MotionShapes written to disk: 4 clips per class, 8 frames at the course's 64x64."""
    root = tmp_path_factory.mktemp("motion_shapes") / "ms"
    result = motion_shapes.write(root, num_per_class=4, num_frames=8, size=64, progress=False)
    assert result == root
    return root


def read_list(path):
    """The clip paths of a split list (first column)."""
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


def test_write_lays_clips_out_like_ucf101(written):
    """Files are root/<Class>/v_<Class>_gGG_cCC.avi, one folder per class."""
    folders = sorted(p.name for p in written.iterdir() if p.is_dir())
    assert folders == sorted(MOTIONS)
    videos = sorted(written.rglob("*.avi"))
    assert len(videos) == 8 * 4
    for video in videos:
        match = NAME.fullmatch(video.name)
        assert match, video.name
        assert match["cls"] == video.parent.name
    assert not [p for p in written.rglob("*") if p.name.startswith(".")]


def test_write_creates_class_index_and_split_lists(written):
    """classInd.txt numbers the classes from 1 in label order; the lists name every clip once."""
    lines = (written / "classInd.txt").read_text().splitlines()
    assert lines == [f"{i + 1} {name}" for i, name in enumerate(MOTIONS)]
    train, test = read_list(written / "trainlist01.txt"), read_list(written / "testlist01.txt")
    assert train and test
    on_disk = sorted(str(p.relative_to(written)) for p in written.rglob("*.avi"))
    assert sorted(train + test) == on_disk


def test_train_list_carries_one_based_labels(written):
    """Like UCF101, trainlist lines end with the 1-based class index; testlist lines do not."""
    for line in (written / "trainlist01.txt").read_text().splitlines():
        relative, label = line.split()
        assert MOTIONS[int(label) - 1] == relative.split("/")[0]
    test_lines = (written / "testlist01.txt").read_text().splitlines()
    assert all(len(line.split()) == 1 for line in test_lines)


def test_no_group_is_in_both_train_and_test(written):
    """The split holds out whole groups: no group number appears on both sides."""
    def groups(name):
        return {int(NAME.fullmatch(p.split("/")[1])["group"]) for p in read_list(written / name)}

    train, test = groups("trainlist01.txt"), groups("testlist01.txt")
    assert train and test
    assert not train & test


def test_written_clips_read_back_exactly_as_generated(written):
    """Each file decodes to generate()'s clip (same seed), every pixel: the files are lossless."""
    videos, labels, names = motion_shapes.generate(4, num_frames=8, size=64)
    num_groups = 4
    for label, name in enumerate(names):
        for path in sorted((written / name).glob("*.avi")):
            match = NAME.fullmatch(path.name)
            group, clip = int(match["group"]), int(match["clip"])
            index = label * 4 + (clip - 1) * num_groups + (group - 1)
            assert labels[index] == label
            decoded = read_video(path)
            np.testing.assert_array_equal(decoded, videos[index], err_msg=path.name)


def test_the_same_seed_writes_byte_identical_files(tmp_path):
    """Writing twice with one seed into two folders gives byte-identical files."""
    a = motion_shapes.write(tmp_path / "a", num_per_class=2, num_frames=4, size=32,
                            progress=False)
    b = motion_shapes.write(tmp_path / "b", num_per_class=2, num_frames=4, size=32,
                            progress=False)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    assert len(files_a) == 8 * 2 + 3
    for relative in files_a:
        assert (a / relative).read_bytes() == (b / relative).read_bytes(), relative


# --------------------------------------------------------------------------- load


LOAD_ARGS = {"num_per_class": 2, "num_frames": 4, "size": 32, "progress": False}


def test_load_generates_into_the_cache_then_reuses_it(tmp_path, monkeypatch):
    """load() writes the dataset under VIDLAB_CACHE once; later calls only read it."""
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path / "cache"))
    first = motion_shapes.load(**LOAD_ARGS)
    assert isinstance(first, VideoDataset)
    assert first.class_names == list(MOTIONS)
    assert len(first.train) + len(first.test) == 16
    assert first.train and first.test
    assert first.root.is_relative_to(tmp_path / "cache")
    assert all(r.path.is_file() for r in first.train + first.test)
    stamp = first.root.stat().st_mtime_ns

    def must_not_write(*args, **kwargs):
        raise AssertionError("load() regenerated a dataset that is already cached")

    monkeypatch.setattr(motion_shapes, "write", must_not_write)
    second = motion_shapes.load(**LOAD_ARGS)
    assert second.root == first.root
    assert second.train == first.train and second.test == first.test
    assert first.root.stat().st_mtime_ns == stamp


def test_load_leaves_no_temporary_folders_in_the_cache(tmp_path, monkeypatch):
    """After load(), the cache holds the finished dataset folder and nothing else."""
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path))
    dataset = motion_shapes.load(**LOAD_ARGS)
    entries = list((tmp_path / "motion_shapes").iterdir())
    assert entries == [dataset.root]


def test_different_parameters_are_cached_separately(tmp_path, monkeypatch):
    """Each (label set, size, frames, seed) gets its own cache folder."""
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path))
    a = motion_shapes.load(**LOAD_ARGS)
    b = motion_shapes.load(**LOAD_ARGS | {"seed": 1})
    assert a.root != b.root and a.root.is_dir() and b.root.is_dir()


def test_an_interrupted_generation_leaves_nothing_behind(tmp_path, monkeypatch):
    """If writing fails half-way, load() raises and neither the dataset nor a temp folder stays."""
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path))
    real_write = motion_shapes.write

    def write_then_fail(root, *args, **kwargs):
        real_write(root, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(motion_shapes, "write", write_then_fail)
    with pytest.raises(KeyboardInterrupt):
        motion_shapes.load(**LOAD_ARGS)
    assert list((tmp_path / "motion_shapes").iterdir()) == []
    monkeypatch.setattr(motion_shapes, "write", real_write)
    assert motion_shapes.load(**LOAD_ARGS).train


def test_every_motion_class_has_its_reversal_partner():
    names = motion_shapes.class_names("motion")

    partners = motion_shapes.reversal_partners(names)

    assert names[partners[names.index("SlideLeft")]] == "SlideRight"
    assert names[partners[names.index("RotateClockwise")]] == "RotateCounterClockwise"
    np.testing.assert_array_equal(partners[partners], np.arange(len(names)))


def test_shape_motion_classes_keep_their_shape_when_reversed():
    names = motion_shapes.class_names("shape_motion")

    partners = motion_shapes.reversal_partners(names)

    assert names[partners[names.index("StarSlideLeft")]] == "StarSlideRight"


def test_classes_without_a_partner_map_to_themselves():
    np.testing.assert_array_equal(motion_shapes.reversal_partners(["Triangle", "Star"]), [0, 1])


def test_reversed_clips_are_real_samples_of_the_partner_class():
    names = motion_shapes.class_names("motion")
    clips, labels, _ = motion_shapes.generate(1, 6, 32, "motion", seed=3)

    more_clips, more_labels = motion_shapes.add_reversed(clips, labels, names)

    assert len(more_clips) == 2 * len(clips)
    left = names.index("SlideLeft")
    i = int(np.flatnonzero(labels == names.index("SlideRight"))[0])
    np.testing.assert_array_equal(more_clips[len(clips) + i], clips[i][::-1])
    assert more_labels[len(clips) + i] == left


@pytest.mark.parametrize("mirror, expected", [
    ("horizontal", {"SlideLeft": "SlideRight", "SlideUp": "SlideUp", "ZoomIn": "ZoomIn",
                    "RotateClockwise": "RotateCounterClockwise"}),
    ("vertical", {"SlideLeft": "SlideLeft", "SlideDown": "SlideUp", "ZoomOut": "ZoomOut",
                  "RotateCounterClockwise": "RotateClockwise"}),
])
def test_a_mirror_swaps_its_directions_and_the_sense_of_rotation(mirror, expected):
    names = motion_shapes.class_names("motion")

    partners = motion_shapes.mirror_partners(names, mirror)

    assert {name: names[partners[names.index(name)]] for name in expected} == expected
    np.testing.assert_array_equal(partners[partners], np.arange(len(names)))


def test_a_mirror_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="horizontal"):
        motion_shapes.mirror_partners(["SlideLeft"], "diagonal")


def test_an_example_clip_comes_as_a_students_video_would(tmp_path):
    path = motion_shapes.write_example(tmp_path / "mine.mp4", "ZoomIn", "Cross", num_frames=20)

    info = video_info(path)
    frames = read_video(path, size=64)

    assert (info.width, info.height, info.fps) == (256, 256, 25)
    assert frames.shape == (20, 64, 64, 3)
    with pytest.raises(ValueError, match="motion must be one of"):
        motion_shapes.write_example(tmp_path / "bad.mp4", "Jump")
