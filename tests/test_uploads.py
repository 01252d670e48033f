"""A student's own video reaches the notebook: by path, by web address, or Colab's upload button."""

import sys
from types import ModuleType

import numpy as np
import pytest

from vidlab import uploads, video
from vidlab.download import DownloadError

pytest_plugins = ["http_server"]


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    return tmp_path / "cache"


def clip_file(path, frames=6):
    rng = np.random.default_rng(0)
    return video.write_video(path, rng.integers(0, 255, (frames, 32, 48, 3), dtype=np.uint8))


def never():
    raise AssertionError("the example must not be made when the student gave a video")


def test_no_choice_gives_the_notebooks_own_example(tmp_path):
    example = clip_file(tmp_path / "example.avi")

    path, info = uploads.get_video(None, lambda: example)

    assert path == example
    assert (info.width, info.height) == (48, 32)
    assert uploads.get_video("  ", lambda: example)[0] == example


def test_a_path_is_used_where_it_is(tmp_path):
    mine = clip_file(tmp_path / "my clip.avi")

    path, info = uploads.get_video(str(mine), never)

    assert path == mine
    assert info.claimed_frames == 6


def test_a_missing_path_names_itself(tmp_path):
    with pytest.raises(FileNotFoundError, match="holiday.mp4"):
        uploads.get_video(str(tmp_path / "holiday.mp4"), never)


def test_a_file_opencv_cannot_read_says_how_to_re_encode_it(tmp_path):
    bad = tmp_path / "holiday.mov"
    bad.write_bytes(b"not a video at all")

    with pytest.raises(video.VideoReadError, match="ffmpeg -i holiday.mov"):
        uploads.get_video(str(bad), never)


def test_a_web_address_is_downloaded_once_into_the_cache(tmp_path, http_server, cache):
    http_server.files["/videos/my%20clip.avi"] = clip_file(tmp_path / "c.avi").read_bytes()
    url = http_server.url("/videos/my%20clip.avi")

    path, _ = uploads.get_video(url, never)
    again, _ = uploads.get_video(url, never)

    assert path == again == cache / "uploads" / "my_clip.avi"
    assert len(http_server.requests) == 1


def test_a_web_address_that_fails_says_so(http_server):
    http_server.fail["/gone.mp4"] = 404

    with pytest.raises(DownloadError, match="404"):
        uploads.get_video(http_server.url("/gone.mp4"), never)


def test_upload_outside_colab_asks_for_a_path():
    with pytest.raises(ValueError, match="not Colab: give the path"):
        uploads.get_video("upload", never)


def fake_colab(monkeypatch, uploaded):
    colab, files = ModuleType("google.colab"), ModuleType("google.colab.files")
    files.upload = lambda: uploaded
    colab.files = files
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.files", files)


def test_on_colab_the_uploaded_file_is_kept_in_the_cache(tmp_path, monkeypatch, cache):
    fake_colab(monkeypatch, {"../Phone Video.avi": clip_file(tmp_path / "p.avi").read_bytes()})

    path, info = uploads.get_video("upload", never)

    assert path == cache / "uploads" / "Phone_Video.avi"  # no folder part, no spaces
    assert info.claimed_frames == 6


def test_a_cancelled_upload_says_to_try_again(monkeypatch):
    fake_colab(monkeypatch, {})

    with pytest.raises(ValueError, match="No file was uploaded"):
        uploads.get_video("upload", never)
