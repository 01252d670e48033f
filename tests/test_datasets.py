"""Specification of vidlab.datasets: listing clips, official splits, group splits, tf.data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from vidlab.datasets import (
    VideoDataset,
    VideoRecord,
    list_videos,
    make_dataset,
    motion_shapes,
    parse_group,
    read_clips,
    read_layout,
)
from vidlab.video import VideoReadError, read_video

# --------------------------------------------------------------------------- helpers


def touch(path: Path) -> Path:
    """An empty file (listing and split reading never decode clips)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def ucf_tree(root: Path, classes=("Archery", "Bowling"), groups=(1, 2, 3), test_groups=(1,),
             split: int = 1) -> Path:
    """A UCF101-layout tree of empty clips: 2 clips per (class, group), lists for ``split``."""
    train, test = [], []
    for label, name in enumerate(classes):
        for group in groups:
            for clip in (1, 2):
                relative = f"{name}/v_{name}_g{group:02d}_c{clip:02d}.avi"
                touch(root / relative)
                if group in test_groups:
                    test.append(relative)
                else:
                    train.append(f"{relative} {label + 1}")
    (root / "classInd.txt").write_text("".join(f"{i + 1} {n}\n" for i, n in enumerate(classes)))
    (root / f"trainlist{split:02d}.txt").write_text("\n".join(train) + "\n")
    (root / f"testlist{split:02d}.txt").write_text("\n".join(test) + "\n")
    return root


def records_of(groups: int, clips_per_group: int = 3) -> list[VideoRecord]:
    """Synthetic records: ``groups`` groups of a few clips each, labels cycling over 4 classes."""
    return [
        VideoRecord(Path(f"c{g % 4}/v_c{g % 4}_g{g:02d}_c{c:02d}.avi"), g % 4, g)
        for g in range(1, groups + 1)
        for c in range(1, clips_per_group + 1)
    ]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Real MotionShapes files: 8 clips (one per class) of 4 frames, 32x32."""
    root = tmp_path_factory.mktemp("tiny") / "ms"
    motion_shapes.write(root, num_per_class=1, num_frames=4, size=32, progress=False)
    records, names = list_videos(root)
    assert len(records) == 8 and len(names) == 8
    return records


# --------------------------------------------------------------------------- parse_group


@pytest.mark.parametrize(
    "name, group",
    [
        ("v_ApplyEyeMakeup_g08_c01.avi", 8),
        ("root/Class/v_Jump_Rope_g25_c07.mp4", 25),
        ("v_SlideLeft_g01_c03", 1),
        ("clip_001.avi", None),
        ("v_Class_g01.avi", None),
    ],
)
def test_parse_group_reads_ucf101_names(name, group):
    """The group is the gGG number of v_<Class>_gGG_cCC; other names have none."""
    assert parse_group(name) == group


# --------------------------------------------------------------------------- list_videos


def test_list_videos_lists_a_class_per_folder_tree(tmp_path):
    """Classes are the sorted folder names; each clip gets its folder's label and its group."""
    for cls in ("Bowling", "Archery", "Cricket"):
        for group in (1, 2):
            touch(tmp_path / cls / f"v_{cls}_g{group:02d}_c01.avi")
    records, names = list_videos(tmp_path)
    assert names == ["Archery", "Bowling", "Cricket"]
    assert len(records) == 6
    for record in records:
        assert record.path.parent.name == names[record.label]
        assert record.group == parse_group(record.path)
        assert record.path.is_file()


def test_list_videos_sorts_class_folders_naturally(tmp_path):
    """Numbered class folders sort as numbers: class2 before class10."""
    for cls in ("class10", "class2", "class1"):
        touch(tmp_path / cls / "v_x_g01_c01.avi")
    _, names = list_videos(tmp_path)
    assert names == ["class1", "class2", "class10"]


def test_list_videos_orders_clips_within_a_class(tmp_path):
    """Clips of a class are listed in natural order, so the listing is reproducible."""
    for clip in (10, 2, 1):
        touch(tmp_path / "A" / f"v_A_g01_c{clip}.avi")
    records, _ = list_videos(tmp_path)
    assert [r.path.name for r in records] == ["v_A_g01_c1.avi", "v_A_g01_c2.avi", "v_A_g01_c10.avi"]


def test_clips_without_a_ucf101_name_each_get_their_own_group(tmp_path):
    """A clip named freely becomes a group of one, distinct from every other group."""
    touch(tmp_path / "A" / "v_A_g01_c01.avi")
    touch(tmp_path / "A" / "holiday.mp4")
    touch(tmp_path / "A" / "party.MKV")
    touch(tmp_path / "B" / "dog.webm")
    records, _ = list_videos(tmp_path)
    free = [r.group for r in records if parse_group(r.path) is None]
    assert len(free) == 3
    assert len(set(free)) == 3
    assert not set(free) & {1}


def test_list_videos_ignores_files_that_are_not_videos(tmp_path):
    """Text files, images and files at the root are not clips."""
    touch(tmp_path / "A" / "v_A_g01_c01.avi")
    touch(tmp_path / "A" / "notes.txt")
    touch(tmp_path / "A" / "thumb.jpg")
    touch(tmp_path / "classInd.txt")
    touch(tmp_path / "loose.avi")
    records, names = list_videos(tmp_path)
    assert names == ["A"]
    assert [r.path.name for r in records] == ["v_A_g01_c01.avi"]


def test_list_videos_of_a_tree_without_videos_raises_file_not_found(tmp_path):
    """Class folders with no video in them: FileNotFoundError naming the root."""
    touch(tmp_path / "A" / "readme.txt")
    (tmp_path / "B").mkdir()
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path))):
        list_videos(tmp_path)


def test_list_videos_of_a_missing_root_raises_file_not_found(tmp_path):
    """A root that does not exist: FileNotFoundError naming it."""
    with pytest.raises(FileNotFoundError, match="no_such_dataset"):
        list_videos(tmp_path / "no_such_dataset")


# --------------------------------------------------------------------------- read_layout


def test_read_layout_reads_the_official_split(tmp_path):
    """classInd + trainlist01 + testlist01 give a VideoDataset with both sides filled."""
    ucf_tree(tmp_path)
    dataset = read_layout(tmp_path)
    assert isinstance(dataset, VideoDataset)
    assert dataset.root == tmp_path
    assert dataset.class_names == ["Archery", "Bowling"]
    assert len(dataset.train) == 8 and len(dataset.test) == 4
    assert {r.group for r in dataset.test} == {1}
    assert {r.group for r in dataset.train} == {2, 3}
    for record in dataset.train + dataset.test:
        assert record.path.is_file()
        assert dataset.class_names[record.label] == record.path.parent.name
    assert "2 classes" in repr(dataset) and "8 train / 4 test" in repr(dataset)


def test_read_layout_labels_follow_class_ind_not_alphabetical_order(tmp_path):
    """Label i is the class on line i + 1 of classInd.txt."""
    ucf_tree(tmp_path, classes=("Zumba", "Archery"))
    dataset = read_layout(tmp_path)
    assert dataset.class_names == ["Zumba", "Archery"]
    assert {r.label for r in dataset.train if r.path.parent.name == "Zumba"} == {0}


def test_read_layout_reads_the_requested_split_number(tmp_path):
    """split=2 reads trainlist02.txt and testlist02.txt."""
    ucf_tree(tmp_path, test_groups=(2, 3), split=2)
    dataset = read_layout(tmp_path, split=2)
    assert {r.group for r in dataset.test} == {2, 3}
    with pytest.raises(FileNotFoundError, match="trainlist01.txt"):
        read_layout(tmp_path, split=1)


def test_read_layout_ignores_clips_that_no_list_names(tmp_path):
    """Extra files on disk (e.g. classes not in the lists) are left out, not an error."""
    ucf_tree(tmp_path)
    touch(tmp_path / "Extra" / "v_Extra_g01_c01.avi")
    dataset = read_layout(tmp_path)
    assert all("Extra" not in str(r.path) for r in dataset.train + dataset.test)


@pytest.mark.parametrize("missing", ["classInd.txt", "trainlist01.txt", "testlist01.txt"])
def test_read_layout_with_a_missing_list_file_names_it(tmp_path, missing):
    """Each of the three list files is required; the error names the missing one."""
    ucf_tree(tmp_path)
    (tmp_path / missing).unlink()
    with pytest.raises(FileNotFoundError, match=missing):
        read_layout(tmp_path)


def test_read_layout_with_a_listed_clip_missing_on_disk_names_the_clip(tmp_path):
    """A list that names a clip that is not there raises FileNotFoundError naming the clip."""
    ucf_tree(tmp_path)
    (tmp_path / "Bowling" / "v_Bowling_g02_c01.avi").unlink()
    with pytest.raises(FileNotFoundError, match="v_Bowling_g02_c01.avi"):
        read_layout(tmp_path)


def test_read_layout_rejects_a_split_that_leaks_a_group_into_both_sides(tmp_path):
    """A (class, group) with clips in train and in test is a leaking split: ValueError."""
    ucf_tree(tmp_path)
    with (tmp_path / "testlist01.txt").open("a") as handle:
        handle.write("Archery/v_Archery_g02_c01.avi\n")
    with pytest.raises(ValueError, match="group"):
        read_layout(tmp_path)


def test_read_layout_reads_what_motion_shapes_writes(tmp_path):
    """MotionShapes' files and lists form a valid layout with held-out groups."""
    motion_shapes.write(tmp_path, num_per_class=4, num_frames=2, size=32, progress=False)
    dataset = read_layout(tmp_path)
    assert dataset.class_names == motion_shapes.class_names("motion")
    assert len(dataset.train) + len(dataset.test) == 32
    assert not {r.group for r in dataset.train} & {r.group for r in dataset.test}


# --------------------------------------------------------------------------- read_clips


def test_read_clips_decodes_every_record(tiny):
    """read_clips gives (N, T, S, S, 3) uint8 clips and the records' labels, in order."""
    clips, labels = read_clips(tiny[:5], num_frames=3, size=24, progress=False)
    assert clips.shape == (5, 3, 24, 24, 3)
    assert clips.dtype == np.uint8
    np.testing.assert_array_equal(labels, [r.label for r in tiny[:5]])


def test_read_clips_in_threads_gives_the_clips_of_one_thread_in_record_order(tiny):
    """Threads change the speed, never the result: same clips, same order as one worker."""
    records = tiny[::-1]
    alone, labels_alone = read_clips(records, num_frames=3, size=24, progress=False, workers=1)
    threaded, labels = read_clips(records, num_frames=3, size=24, progress=False, workers=4)
    np.testing.assert_array_equal(threaded, alone)
    np.testing.assert_array_equal(labels, labels_alone)
    np.testing.assert_array_equal(
        threaded[0], read_video(records[0].path, num_frames=3, size=24))


def test_read_clips_names_the_clip_that_cannot_be_read(tiny, tmp_path):
    """A damaged file among good ones stops the read with an error naming that file."""
    broken = tmp_path / "v_Broken_g01_c01.avi"
    broken.write_bytes(b"not a video")
    records = [*tiny[:3], VideoRecord(broken, 0, 1), *tiny[3:5]]
    with pytest.raises(VideoReadError, match="v_Broken_g01_c01.avi"):
        read_clips(records, num_frames=3, size=24, progress=False, workers=4)


def test_read_clips_pads_short_clips_to_num_frames(tiny):
    """Asking more frames than a clip has pads it (4-frame clips, 6 frames asked)."""
    clips, _ = read_clips(tiny[:2], num_frames=6, size=32, progress=False)
    assert clips.shape == (2, 6, 32, 32, 3)


# --------------------------------------------------------------------------- make_dataset


def batches(dataset):
    """All (clips, labels) batches of a tf.data pipeline, as numpy arrays."""
    return [(clips.numpy(), labels.numpy()) for clips, labels in dataset]


def test_make_dataset_yields_float32_batches_in_record_order(tiny):
    """Evaluation pipelines: (B, T, S, S, 3) float32 in [0, 255], labels in record order."""
    records = tiny[:6]
    got = batches(make_dataset(records, num_frames=3, size=32, batch_size=4))
    assert [c.shape for c, _ in got] == [(4, 3, 32, 32, 3), (2, 3, 32, 32, 3)]
    assert all(c.dtype == np.float32 for c, _ in got)
    labels = np.concatenate([y for _, y in got])
    np.testing.assert_array_equal(labels, [r.label for r in records])
    clips = np.concatenate([c for c, _ in got])
    expected, _ = read_clips(records, num_frames=3, size=32, progress=False)
    np.testing.assert_array_equal(clips, expected.astype(np.float32))


def test_make_dataset_without_training_is_deterministic(tiny):
    """Two passes over an evaluation pipeline give identical batches."""
    dataset = make_dataset(tiny[:6], num_frames=3, size=32, batch_size=4, cache=True)
    first, second = batches(dataset), batches(dataset)
    for (c1, y1), (c2, y2) in zip(first, second, strict=True):
        np.testing.assert_array_equal(c1, c2)
        np.testing.assert_array_equal(y1, y2)


def test_training_pipelines_with_the_same_seed_are_reproducible(tiny):
    """training=True shuffles and samples windows, identically for two pipelines of one seed."""
    records = tiny[:6]
    a = batches(make_dataset(records, 2, 32, 3, training=True, seed=11))
    b = batches(make_dataset(records, 2, 32, 3, training=True, seed=11))
    assert len(a) == len(b) == 2
    for (c1, y1), (c2, y2) in zip(a, b, strict=True):
        assert c1.shape == (3, 2, 32, 32, 3) and c1.dtype == np.float32
        np.testing.assert_array_equal(c1, c2)
        np.testing.assert_array_equal(y1, y2)
    labels = np.concatenate([y for _, y in a])
    assert sorted(labels.tolist()) == sorted(r.label for r in records)
