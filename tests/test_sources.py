"""vidlab.sources: every external file named once, and VIDLAB_MIRROR standing in for each.

Mirrors here are temporary folders or the local HTTP server of ``tests/http_server.py``;
nothing reaches the internet.
"""

from __future__ import annotations

import hashlib
import json
import socket

import pytest

from vidlab import sources
from vidlab.download import DownloadError, parse_checksum

pytest_plugins = ["http_server"]

LABELS = "kinetics-i3d/data/label_map.txt"


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """An empty cache and no mirror, unless a test sets one."""
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("VIDLAB_MIRROR", raising=False)
    return tmp_path / "cache"


def make_mirror(folder, kind, files):
    """A mirror folder holding ``files`` ({name: bytes}) and a manifest of ``kind``."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        entries[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (folder / sources.MANIFEST).write_text(json.dumps({"kind": kind, "files": entries}))
    return folder


def cached_files(cache):
    return [path for path in cache.rglob("*") if path.is_file()]


def test_every_source_has_a_url_a_size_and_a_pin_or_says_it_is_unpinned():
    for name, source in sources.SOURCES.items():
        assert source.url.startswith("https://") and source.approx_bytes > 0
        if source.checksum is None:
            assert "unpinned" in source.about.lower(), name
        else:
            parse_checksum(source.checksum)
    unpinned = {name for name, s in sources.SOURCES.items() if s.checksum is None}
    assert unpinned == {sources.UCF101_VIDEOS, sources.UCF101_SPLITS,
                        sources.IMAGENET_WEIGHTS["mobilenet_v2"]}


def test_the_full_profile_files_are_all_listed():
    needed = {sources.UCF101_VIDEOS, sources.UCF101_SPLITS, sources.IMAGENET_CLASS_INDEX,
              *sources.IMAGENET_WEIGHTS.values(), *sources.KINETICS_LABELS.values()}
    for folder in ("rgb_imagenet", "flow_imagenet", "rgb_scratch", "flow_scratch",
                   "rgb_scratch_kin600"):
        base = f"kinetics-i3d/data/checkpoints/{folder}/model.ckpt"
        needed |= {f"{base}.index", f"{base}.data-00000-of-00001"}
    assert set(sources.SOURCES) == needed
    assert sources.total_bytes() > 7e9  # UCF101's archive alone is about 6.5 GB


def test_a_mirror_url_serves_every_file_under_the_same_relative_name(monkeypatch):
    assert sources.location(LABELS) == sources.get(LABELS).url
    monkeypatch.setenv("VIDLAB_MIRROR", "http://classroom:8000/")
    assert sources.location(LABELS) == f"http://classroom:8000/{LABELS}"


def test_an_unknown_source_lists_the_valid_names():
    with pytest.raises(KeyError, match="label_map"):
        sources.get("kinetics-i3d/label_map.txt")


def test_a_rehearsal_folder_mirror_is_verified_against_its_manifest(tmp_path, cache, monkeypatch,
                                                                    capsys):
    mirror = make_mirror(tmp_path / "mirror", "rehearsal", {LABELS: b"stand-in\n"})
    monkeypatch.setenv("VIDLAB_MIRROR", str(mirror))
    path = sources.fetch(LABELS)
    assert path.read_bytes() == b"stand-in\n"
    assert path.is_relative_to(cache / "downloads") and "mirror-" in str(path)
    assert "REHEARSAL" in capsys.readouterr().out


def test_a_stand_in_with_the_wrong_checksum_is_refused_and_nothing_is_kept(tmp_path, cache,
                                                                          monkeypatch):
    mirror = make_mirror(tmp_path / "mirror", "rehearsal", {LABELS: b"stand-in\n"})
    (mirror / LABELS).write_bytes(b"tampered\n")
    monkeypatch.setenv("VIDLAB_MIRROR", str(mirror))
    with pytest.raises(DownloadError, match="checksum mismatch") as info:
        sources.fetch(LABELS)
    assert str(mirror / LABELS) in str(info.value)
    assert cached_files(cache) == []


def test_a_fetched_mirror_is_checked_against_the_publishers_pin(tmp_path, cache, monkeypatch):
    mirror = make_mirror(tmp_path / "mirror", "fetched", {LABELS: b"not DeepMind's file\n"})
    monkeypatch.setenv("VIDLAB_MIRROR", str(mirror))
    with pytest.raises(DownloadError, match=sources.get(LABELS).checksum.split(":")[1]):
        sources.fetch(LABELS)
    assert cached_files(cache) == []


def test_a_file_missing_from_a_mirror_folder_is_named(tmp_path, monkeypatch):
    mirror = make_mirror(tmp_path / "mirror", "fetched", {})
    monkeypatch.setenv("VIDLAB_MIRROR", str(mirror))
    with pytest.raises(DownloadError, match="vidlab.mirror fetch") as info:
        sources.fetch(LABELS)
    assert str(mirror / LABELS) in str(info.value)


def test_an_http_mirror_serves_the_file_and_its_manifest(http_server, cache, monkeypatch):
    data = b"stand-in label\n"
    manifest = {"kind": "rehearsal",
                "files": {LABELS: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}}}
    http_server.files[f"/{sources.MANIFEST}"] = json.dumps(manifest).encode()
    http_server.files[f"/{LABELS}"] = data
    monkeypatch.setenv("VIDLAB_MIRROR", http_server.url("/"))
    assert sources.fetch(LABELS, progress=False).read_bytes() == data
    assert http_server.count(f"/{LABELS}") == 1
    sources.fetch(LABELS, progress=False)  # cached and verified: no second download
    assert http_server.count(f"/{LABELS}") == 1


def test_a_mirror_that_is_down_names_itself_and_what_to_do(cache, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("VIDLAB_MIRROR", f"http://127.0.0.1:{port}/")
    with pytest.raises(DownloadError, match="unset VIDLAB_MIRROR") as info:
        sources.fetch(LABELS, progress=False)
    assert f"127.0.0.1:{port}" in str(info.value)
    assert cached_files(cache) == []
