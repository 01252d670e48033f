"""vidlab.download: cached, resumable, verified and atomic downloads; safe archive extraction.

Every test talks to a local HTTP server (``tests/http_server.py``), never the internet.
"""

from __future__ import annotations

import hashlib
import io
import random
import socket
import tarfile
import zipfile

import pytest

from vidlab.download import (
    DownloadError,
    atomic_path,
    checksum_matches,
    download,
    file_checksum,
    parse_checksum,
    safe_extract,
)

pytest_plugins = ["http_server"]

PAYLOAD = random.Random(0).randbytes(300_000)
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def server(http_server):
    """The local server, serving PAYLOAD at /data.bin."""
    http_server.files["/data.bin"] = PAYLOAD
    return http_server


def get(server, dest, **kwargs):
    """Download /data.bin to dest without a progress bar."""
    return download(server.url("/data.bin"), dest, progress=False, **kwargs)


# --- download: the happy path and the cache ------------------------------------------------


def test_download_writes_the_verified_file_and_no_part_file(server, tmp_path):
    dest = tmp_path / "sub" / "data.bin"
    assert get(server, dest, checksum=SHA256) == dest
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "sub" / "data.bin.part").exists()


def test_a_cached_file_is_not_downloaded_again(server, tmp_path):
    dest = tmp_path / "data.bin"
    get(server, dest, checksum=SHA256)
    get(server, dest, checksum=SHA256)
    get(server, dest)
    assert server.count("/data.bin") == 1


def test_a_cached_file_with_another_checksum_is_replaced(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.write_bytes(b"an older version")
    get(server, dest, checksum=SHA256)
    assert dest.read_bytes() == PAYLOAD


def test_the_checksum_may_be_given_in_upper_case(server, tmp_path):
    get(server, tmp_path / "data.bin", checksum=SHA256.upper())
    get(server, tmp_path / "data.bin", checksum=SHA256.upper())
    assert server.count("/data.bin") == 1


# --- download: verification ----------------------------------------------------------------


def test_a_checksum_mismatch_names_both_hashes_and_leaves_no_file(server, tmp_path):
    dest, wrong = tmp_path / "data.bin", "0" * 64
    with pytest.raises(DownloadError) as info:
        get(server, dest, checksum=wrong)
    message = str(info.value)
    assert wrong in message and SHA256 in message and "checksum" in message
    assert not dest.exists()
    assert not (tmp_path / "data.bin.part").exists()


# --- download: interruptions ---------------------------------------------------------------


def test_an_interrupted_transfer_resumes_with_a_range_request(server, tmp_path):
    server.drop_after = 100_000
    dest = get(server, tmp_path / "data.bin", checksum=SHA256)
    assert dest.read_bytes() == PAYLOAD
    assert server.requests == [("/data.bin", None), ("/data.bin", "bytes=100000-")]


def test_a_part_file_left_by_an_earlier_run_is_resumed(server, tmp_path):
    (tmp_path / "data.bin.part").write_bytes(PAYLOAD[:123_456])
    dest = get(server, tmp_path / "data.bin", checksum=SHA256)
    assert dest.read_bytes() == PAYLOAD
    assert server.requests == [("/data.bin", "bytes=123456-")]


def test_a_server_that_ignores_range_still_yields_the_right_file(server, tmp_path):
    server.drop_after, server.ignore_range = 100_000, True
    dest = get(server, tmp_path / "data.bin", checksum=SHA256)
    assert dest.read_bytes() == PAYLOAD
    assert len(server.requests) == 2


def test_a_part_file_longer_than_the_remote_file_restarts_from_zero(server, tmp_path):
    (tmp_path / "data.bin.part").write_bytes(PAYLOAD + b"stale tail")
    dest = get(server, tmp_path / "data.bin", checksum=SHA256)
    assert dest.read_bytes() == PAYLOAD


def test_without_retries_a_dropped_connection_fails_and_keeps_the_partial_data(server, tmp_path):
    server.drop_after = 100_000
    with pytest.raises(DownloadError, match="dropped"):
        get(server, tmp_path / "data.bin", retries=0)
    assert (tmp_path / "data.bin.part").stat().st_size == 100_000
    assert get(server, tmp_path / "data.bin", checksum=SHA256).read_bytes() == PAYLOAD


# --- download: errors ----------------------------------------------------------------------


def test_http_404_names_the_url_the_status_and_the_quick_profile(http_server, tmp_path):
    url = http_server.url("/missing.zip")
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path / "missing.zip", progress=False)
    message = str(info.value)
    assert url in message and "404" in message
    assert message.endswith("set VIDLAB_PROFILE=quick")
    assert isinstance(info.value, OSError)
    assert not (tmp_path / "missing.zip").exists()


def test_an_unreachable_server_raises_download_error(tmp_path):
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DownloadError, match="VIDLAB_PROFILE=quick"):
        download(f"http://127.0.0.1:{port}/x", tmp_path / "x", progress=False, retries=0)


def test_a_failed_redownload_keeps_the_existing_file(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.write_bytes(b"good older copy")
    server.fail["/data.bin"] = 500
    with pytest.raises(DownloadError, match="500"):
        get(server, dest, checksum=SHA256)
    assert dest.read_bytes() == b"good older copy"


def test_a_redownload_with_the_wrong_checksum_keeps_the_existing_file(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.write_bytes(b"good older copy")
    with pytest.raises(DownloadError, match="checksum"):
        get(server, dest, checksum="f" * 64)
    assert dest.read_bytes() == b"good older copy"


def test_download_error_survives_pickling():
    import pickle

    error = pickle.loads(pickle.dumps(DownloadError("http://x/y", "HTTP 404 Not Found")))
    assert (error.url, error.reason) == ("http://x/y", "HTTP 404 Not Found")
    assert "http://x/y" in str(error)


# --- checksums and atomic writes ----------------------------------------------------------


def test_checksums_of_every_kind_are_recognised(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(PAYLOAD)
    blob = hashlib.sha1(f"blob {len(PAYLOAD)}\0".encode() + PAYLOAD).hexdigest()
    assert checksum_matches(path, SHA256) and checksum_matches(path, f"sha256:{SHA256}")
    assert checksum_matches(path, f"md5:{hashlib.md5(PAYLOAD).hexdigest()}")
    assert file_checksum(path, "git-blob-sha1") == blob  # what `git hash-object` prints
    assert not checksum_matches(path, "md5:" + "0" * 32)


def test_a_malformed_checksum_is_refused_with_the_kinds_it_knows():
    with pytest.raises(ValueError, match="git-blob-sha1"):
        parse_checksum("crc32:1234")
    with pytest.raises(ValueError, match="hex"):
        parse_checksum("sha256:not-hex")


def test_a_download_pinned_by_md5_is_verified(server, tmp_path):
    with pytest.raises(DownloadError, match="expected md5"):
        get(server, tmp_path / "data.bin", checksum="md5:" + "0" * 32)
    assert not list(tmp_path.iterdir())


def test_atomic_path_moves_the_file_into_place_only_on_success(tmp_path):
    target = tmp_path / "out" / "result.npz"
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".npz" and tmp.parent == target.parent
        tmp.write_bytes(b"complete")
    assert target.read_bytes() == b"complete"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"complete"
    assert [p.name for p in target.parent.iterdir()] == ["result.npz"]


# --- safe_extract --------------------------------------------------------------------------


def make_zip(path, members):
    """Write a zip of ``{name: bytes}``; return its path."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return path


def make_tar(path, members):
    """Write a tar.gz of ``{name: bytes, or ("symlink", target)}``; return its path."""
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(data, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, data[1]
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    ("maker", "member", "data"),
    [
        (make_zip, "../evil.txt", b"x"),
        (make_zip, "/abs/evil.txt", b"x"),
        (make_zip, "ok/../../evil.txt", b"x"),
        (make_tar, "../evil.txt", b"x"),
        (make_tar, "/abs/evil.txt", b"x"),
        (make_tar, "link", ("symlink", "../../outside")),
    ],
    ids=["zip-dotdot", "zip-absolute", "zip-nested-dotdot", "tar-dotdot", "tar-absolute",
         "tar-symlink"],
)
def test_safe_extract_refuses_a_member_that_escapes(tmp_path, maker, member, data):
    archive = maker(tmp_path / "bad.archive", {"fine.txt": b"ok", member: data})
    with pytest.raises(ValueError) as info:
        safe_extract(archive, tmp_path / "out")
    assert "bad.archive" in str(info.value) and repr(member) in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.archive"]  # nothing written


def test_safe_extract_refuses_a_zip_symlink(tmp_path):
    info = zipfile.ZipInfo("link")
    info.external_attr = 0o120777 << 16
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(ValueError, match="link"):
        safe_extract(tmp_path / "bad.zip", tmp_path / "out")


@pytest.mark.parametrize("maker", [make_zip, make_tar])
def test_safe_extract_unpacks_a_good_archive_and_lists_its_files(tmp_path, maker):
    members = {"lists/a.txt": b"alpha", "lists/deeper/b.txt": b"beta", "top.txt": b"top"}
    archive = maker(tmp_path / "good.archive", members)
    files = safe_extract(archive, tmp_path / "out")
    assert files == [tmp_path / "out" / name for name in members]
    assert {p.relative_to(tmp_path / "out").as_posix(): p.read_bytes() for p in files} == members
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.archive", "out"]


def test_safe_extract_replaces_entries_of_the_archive_and_keeps_the_others(tmp_path):
    dest = tmp_path / "out"
    (dest / "lists").mkdir(parents=True)
    (dest / "lists" / "stale.txt").write_text("from an older archive")
    (dest / "unrelated.txt").write_text("mine")
    safe_extract(make_zip(tmp_path / "new.zip", {"lists/a.txt": b"alpha"}), dest)
    assert [p.name for p in (dest / "lists").iterdir()] == ["a.txt"]
    assert (dest / "unrelated.txt").read_text() == "mine"


def test_safe_extract_refuses_a_file_that_is_no_archive(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="neither a zip nor a tar"):
        safe_extract(tmp_path / "notes.txt", tmp_path / "out")
