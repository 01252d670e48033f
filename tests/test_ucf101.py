"""vidlab.datasets.ucf101: fetching some classes of a remote zip, member by member.

A local HTTP server (``tests/http_server.py``) serves a tiny fake UCF101: three
classes x two groups x two clips of real 4-frame videos, zipped like the real
archive, and a split-list zip like the official one.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

import numpy as np
import pytest

from vidlab.datasets import VideoDataset, ucf101
from vidlab.download import DownloadError
from vidlab.video import read_video, write_video

pytest_plugins = ["http_server"]

CLASSES = ["ApplyEyeMakeup", "Basketball", "Biking"]
VIDEOS, SPLITS = "/UCF101_videos.zip", "/UCF101TrainTestSplits-RecognitionTask.zip"


def zip_bytes(members, compression=None, comment=b""):
    """A zip of ``{name: bytes}``; members alternate stored / deflated unless told."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.comment = comment
        for index, (name, data) in enumerate(members.items()):
            method = compression
            if method is None:
                method = zipfile.ZIP_DEFLATED if index % 2 else zipfile.ZIP_STORED
            zf.writestr(name, data, compress_type=method)
    return buffer.getvalue()


def clip_name(cls, group, clip):
    return f"v_{cls}_g{group:02d}_c{clip:02d}.avi"


@pytest.fixture(scope="module")
def videos_zip(tmp_path_factory):
    """The fake UCF101 videos zip: ``UCF101/<Class>/v_<Class>_gGG_cCC.avi``, real AVIs."""
    folder = tmp_path_factory.mktemp("videos")
    rng = np.random.default_rng(0)
    members = {}
    for cls in CLASSES:
        for group in (1, 2):
            for clip in (1, 2):
                name = clip_name(cls, group, clip)
                frames = rng.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
                members[f"UCF101/{cls}/{name}"] = write_video(folder / name, frames).read_bytes()
    return zip_bytes(members)


def split_zip():
    """The fake split lists: in split k, group k % 2 + 1 is the test group."""
    lists = {"classInd.txt": "".join(f"{i} {c}\r\n" for i, c in enumerate(CLASSES, 1))}
    for split in (1, 2, 3):
        test_group = 1 if split != 2 else 2
        train, test = [], []
        for label, cls in enumerate(CLASSES, 1):
            for group in (1, 2):
                for clip in (1, 2):
                    path = f"{cls}/{clip_name(cls, group, clip)}"
                    if group == test_group:
                        test.append(f"{path}\r\n")
                    else:
                        train.append(f"{path} {label}\r\n")
        lists[f"trainlist0{split}.txt"] = "".join(train)
        lists[f"testlist0{split}.txt"] = "".join(test)
    return zip_bytes({f"ucfTrainTestlist/{k}": v.encode() for k, v in lists.items()})


@pytest.fixture
def ucf(http_server, videos_zip, tmp_path, monkeypatch):
    """The server with the fake UCF101; the cache is a temporary folder."""
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("VIDLAB_MIRROR", raising=False)
    http_server.files[VIDEOS] = videos_zip
    http_server.files[SPLITS] = split_zip()
    return http_server


@pytest.fixture
def urls(ucf):
    """The keyword arguments that point fetch and load at the local server."""
    return {"videos_url": ucf.url(VIDEOS), "splits_url": ucf.url(SPLITS), "progress": False}


# --- fetch and load ------------------------------------------------------------------------


def read_lines(path):
    return path.read_text().splitlines()


def test_fetch_builds_a_ucf101_layout_of_the_first_classes(tmp_path, urls):
    root = ucf101.fetch(2, **urls)
    assert root == tmp_path / "cache" / "downloads" / "publishers" / "ucf101" / "2classes"
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == CLASSES[:2]
    assert len(list(root.glob("*/*.avi"))) == 8
    assert read_lines(root / "classInd.txt") == ["1 ApplyEyeMakeup", "2 Basketball"]
    assert read_lines(root / "testlist01.txt") == [
        f"{cls}/{clip_name(cls, 1, clip)}" for cls in CLASSES[:2] for clip in (1, 2)
    ]
    assert (root / ".complete").is_file()


def test_chosen_class_names_are_renumbered_in_class_index_order(tmp_path, urls):
    root = ucf101.fetch(["Biking", "ApplyEyeMakeup"], root=tmp_path / "mine", **urls)
    assert read_lines(root / "classInd.txt") == ["1 ApplyEyeMakeup", "2 Biking"]
    assert read_lines(root / "trainlist02.txt") == [
        f"ApplyEyeMakeup/{clip_name('ApplyEyeMakeup', 1, c)} 1" for c in (1, 2)
    ] + [f"Biking/{clip_name('Biking', 1, c)} 2" for c in (1, 2)]
    assert not (root / "Basketball").exists()


def test_load_returns_a_dataset_whose_clips_are_readable(urls):
    dataset = ucf101.load(num_classes=2, **urls)
    assert isinstance(dataset, VideoDataset)
    assert dataset.class_names == CLASSES[:2]
    assert (len(dataset.train), len(dataset.test)) == (4, 4)
    assert {r.group for r in dataset.train} == {2} and {r.group for r in dataset.test} == {1}
    for record in dataset.train + dataset.test:
        assert read_video(record.path).shape == (4, 32, 32, 3)


def test_a_rerun_makes_no_video_request(ucf, urls):
    ucf101.fetch(2, **urls)
    video_requests, all_requests = ucf.count(VIDEOS), len(ucf.requests)
    ucf101.fetch(2, **urls)
    assert ucf.count(VIDEOS) == video_requests
    ucf101.load(2, **urls)
    assert len(ucf.requests) == all_requests  # complete on disk: no request at all


def written(root):
    """Each clip file under ``root`` with the identity of its last write (inode, time)."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in root.glob("*/*.avi")}


def test_a_rerun_after_an_interruption_fetches_only_the_missing_clips(ucf, urls):
    root = ucf101.fetch(2, **urls)
    missing = root / "Basketball" / clip_name("Basketball", 2, 1)
    missing.unlink()
    (root / ".complete").unlink()
    before = written(root)
    ucf101.load(2, **urls)
    assert missing.is_file()
    after = written(root)
    assert {name for name in after if after[name] != before.get(name)} == {missing.name}


def test_a_corrupt_clip_fails_the_fetch_and_a_rerun_completes_it(ucf, urls, videos_zip):
    name = f"UCF101/Biking/{clip_name('Biking', 2, 2)}"
    info = zipfile.ZipFile(io.BytesIO(videos_zip)).getinfo(name)
    corrupt = bytearray(videos_zip)
    corrupt[info.header_offset + 30 + len(name) + 100] ^= 0xFF  # inside the clip's data
    ucf.files[VIDEOS] = bytes(corrupt)
    with pytest.raises(DownloadError, match=clip_name("Biking", 2, 2)):
        ucf101.fetch(3, **urls)
    root = ucf101.default_root(3)
    assert not (root / ".complete").exists() and not (root / "classInd.txt").exists()
    assert not (root / name.removeprefix("UCF101/")).exists()
    before = written(root)
    ucf.files[VIDEOS] = videos_zip
    dataset = ucf101.load(3, **urls)
    assert len(dataset.train) + len(dataset.test) == 12
    after = written(root)
    rewritten = {clip for clip in after if after[clip] != before.get(clip)}
    assert rewritten == {clip_name("Biking", 2, 2)}


def test_a_list_of_names_gets_its_own_default_folder(urls):
    root = ucf101.fetch(["Biking"], **urls)
    assert root.parent == ucf101.default_root(1).parent
    assert root.name.startswith("1classes-") and root != ucf101.default_root(1)


def test_an_unknown_class_name_lists_the_valid_names(urls):
    with pytest.raises(ValueError, match="Dancing") as info:
        ucf101.fetch(["Biking", "Dancing"], **urls)
    assert all(name in str(info.value) for name in CLASSES)


def test_asking_for_more_classes_than_exist_is_an_error(urls):
    with pytest.raises(ValueError, match="1 to 3"):
        ucf101.fetch(4, **urls)


def test_network_failures_surface_as_download_errors_with_the_quick_hint(ucf, urls):
    ucf.fail[VIDEOS] = 500
    with pytest.raises(DownloadError, match="VIDLAB_PROFILE=quick") as info:
        ucf101.fetch(1, **urls)
    assert ucf.url(VIDEOS) in str(info.value)
    with pytest.raises(DownloadError, match="404"):
        ucf101.fetch(1, **{**urls, "splits_url": ucf.url("/elsewhere.zip")})


def test_a_truncated_archive_names_the_member_and_leaves_no_partial_clip(ucf, urls, videos_zip):
    infos = zipfile.ZipFile(io.BytesIO(videos_zip)).infolist()
    cut = infos[-1]  # the last member: its data is cut in the middle
    directory = videos_zip[videos_zip.index(b"PK\x01\x02"):]
    end = cut.header_offset + 30 + len(cut.filename) + cut.compress_size // 2
    ucf.files[VIDEOS] = videos_zip[:end] + b"\0" * (len(videos_zip) - end - len(directory)) + (
        directory)
    with pytest.raises(DownloadError, match=PurePath(cut.filename).name) as info:
        ucf101.fetch(3, **urls)
    assert ucf.url(VIDEOS) in str(info.value)
    assert not list(ucf101.default_root(3).rglob(PurePath(cut.filename).name))
    assert not list(ucf101.default_root(3).rglob(".*.tmp*"))


def test_a_server_without_range_requests_is_reported(ucf, urls):
    ucf.ignore_range = True
    with pytest.raises(DownloadError, match="range"):
        ucf101.fetch(1, **urls)


def test_a_file_that_is_not_a_zip_is_reported(ucf, urls):
    ucf.files[VIDEOS] = b"<html>a login page</html>" * 10
    with pytest.raises(DownloadError, match="not a zip"):
        ucf101.fetch(1, **urls)
