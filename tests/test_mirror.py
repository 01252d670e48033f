"""vidlab.mirror: a classroom mirror (fetch, serve) and the offline rehearsal stand-in.

The stand-in is built once for the module (about 20 s of CPU); the checks read it as the
notebooks' code does: zip members, video files, Keras weight files, TensorFlow checkpoints.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import zipfile
from urllib.request import Request, urlopen

import cv2
import numpy as np
import pytest

from vidlab import mirror, sources
from vidlab.download import DownloadError, download

pytest_plugins = ["http_server"]

CLIP_NAME = re.compile(r"UCF101/(?P<cls>\w+)/v_(?P=cls)_g(?P<group>\d\d)_c(?P<clip>\d\d)\.avi")


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    return mirror.rehearsal(tmp_path_factory.mktemp("rehearsal"))


@pytest.fixture
def served(tmp_path):
    """A running mirror server on 127.0.0.1 for a folder with one 1000-byte file."""
    (tmp_path / "data.bin").write_bytes(bytes(range(250)) * 4)
    server = mirror.make_server(tmp_path, port=0, host="127.0.0.1", quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def get(url, header=None):
    """(status, headers, body) of one GET, error statuses included."""
    request = Request(url, headers={"Range": header} if header else {})
    try:
        with urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except Exception as error:  # urllib raises HTTPError for 4xx
        return error.code, error.headers, b""


# --- serve ----------------------------------------------------------------------------------


def test_the_server_answers_ranges_like_a_file_host(served):
    data = bytes(range(250)) * 4
    url = served + "data.bin"
    assert get(url)[0] == 200 and get(url)[2] == data
    status, headers, body = get(url, "bytes=10-19")
    assert (status, body, headers["Content-Range"]) == (206, data[10:20], "bytes 10-19/1000")
    status, _, body = get(url, "bytes=-7")  # a suffix range, as remotezip asks first
    assert (status, body) == (206, data[-7:])
    status, headers, _ = get(url, "bytes=5000-")
    assert (status, headers["Content-Range"]) == (416, "bytes */1000")


def test_a_download_from_the_server_resumes_where_it_stopped(served, tmp_path):
    data = bytes(range(250)) * 4
    dest = tmp_path / "copy" / "data.bin"
    dest.parent.mkdir()
    dest.with_name("data.bin.part").write_bytes(data[:300])
    download(served + "data.bin", dest, f"sha256:{hashlib.sha256(data).hexdigest()}",
             progress=False)
    assert dest.read_bytes() == data


def test_serving_a_missing_folder_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="vidlab.mirror fetch"):
        mirror.make_server(tmp_path / "nothing", port=0)


# --- fetch ----------------------------------------------------------------------------------


def test_fetch_verifies_each_file_and_writes_a_manifest(http_server, tmp_path, monkeypatch,
                                                        capsys):
    data = b"label one\nlabel two\n"
    name = "kinetics-i3d/data/label_map.txt"
    pinned = sources.Source(name, http_server.url("/label_map.txt"),
                            f"sha256:{hashlib.sha256(data).hexdigest()}", len(data), len(data), "")
    monkeypatch.setitem(sources.SOURCES, name, pinned)
    http_server.files["/label_map.txt"] = data
    folder = mirror.fetch(tmp_path / "mirror", [name], progress=False)
    assert (folder / name).read_bytes() == data
    manifest = json.loads((folder / sources.MANIFEST).read_text())
    assert manifest["kind"] == "fetched" and manifest["files"][name]["size"] == len(data)
    assert "1 files, 20 B" in capsys.readouterr().out
    http_server.files["/label_map.txt"] = b"something else"
    (folder / name).unlink()
    with pytest.raises(DownloadError, match="checksum mismatch"):
        mirror.fetch(tmp_path / "mirror", [name], progress=False)
    assert not (folder / name).exists()


# --- the rehearsal stand-in -----------------------------------------------------------------


def test_the_stand_in_has_every_source_and_a_rehearsal_manifest(stand_in):
    manifest = json.loads((stand_in / sources.MANIFEST).read_text())
    assert manifest["kind"] == "rehearsal"
    assert set(manifest["files"]) == set(sources.SOURCES)
    for name, entry in manifest["files"].items():
        data = (stand_in / name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size"], entry["sha256"])


def test_the_stand_in_videos_are_laid_out_like_ucf101(stand_in, tmp_path):
    with zipfile.ZipFile(stand_in / sources.UCF101_VIDEOS) as archive:
        names = archive.namelist()
        matches = [CLIP_NAME.fullmatch(name) for name in names]
        assert all(matches), [n for n, m in zip(names, matches, strict=True) if not m]
        classes = {m["cls"] for m in matches}
        assert len(classes) >= 3 and classes <= set(mirror.REHEARSAL_CLASSES)
        for cls in classes:
            assert len({m["group"] for m in matches if m["cls"] == cls}) >= 3
        path = tmp_path / "clip.avi"
        path.write_bytes(archive.read(names[0]))
    capture = cv2.VideoCapture(str(path))
    ok, frame = capture.read()
    assert ok and frame.shape == (240, 320, 3)
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(25)
    capture.release()
    with zipfile.ZipFile(stand_in / sources.UCF101_SPLITS) as archive:
        lists = {name.split("/")[-1]: archive.read(name).decode() for name in archive.namelist()}
    listed = {line.split()[0] for name in ("trainlist01.txt", "testlist01.txt")
              for line in lists[name].splitlines()}
    assert listed == {name.removeprefix("UCF101/") for name in names}
    assert lists["classInd.txt"].splitlines()[0] == "1 ApplyEyeMakeup"


@pytest.mark.parametrize("name", ["mobilenet_v2", "vgg16_fc2"])
def test_keras_applications_load_the_stand_in_weights(stand_in, name):
    import keras

    path = stand_in / sources.IMAGENET_WEIGHTS[name]
    builder = keras.applications.MobileNetV2 if name == "mobilenet_v2" else keras.applications.VGG16
    model = builder(weights=str(path), include_top=True)
    images = np.random.default_rng(0).uniform(-1, 1, (2, 224, 224, 3)).astype(np.float32)
    probabilities = np.asarray(model.predict_on_batch(images))
    assert probabilities.shape == (2, 1000) and np.allclose(probabilities.sum(1), 1, atol=1e-4)
    keras.backend.clear_session()


def test_the_stand_in_vgg16_gives_fc2_features_of_a_real_networks_size(stand_in):
    """Notebook 01 caches fc2 features in float16 (at most 65,504): a stand-in whose signal
    grows from layer to layer overflows it, and the classifier on top sees infinities."""
    import keras

    vgg = keras.applications.VGG16(weights=str(stand_in / sources.IMAGENET_WEIGHTS["vgg16_fc2"]))
    fc2 = keras.Model(vgg.input, vgg.get_layer("fc2").output)
    frames = np.stack([mirror.rehearsal_clip(cls, 1, 1)[0, :224, 48:272]
                       for cls in ("ApplyEyeMakeup", "Archery")])
    features = np.asarray(fc2.predict_on_batch(
        keras.applications.vgg16.preprocess_input(frames.astype(np.float32))))
    assert np.isfinite(features.astype(np.float16)).all()
    assert 0.1 < features.mean() and features.max() < 1000
    assert 0.2 < (features > 0).mean() < 0.8  # ReLU features: some on, some off
    keras.backend.clear_session()


def test_the_stand_in_class_index_and_label_maps_have_the_real_lengths(stand_in):
    index = json.loads((stand_in / sources.IMAGENET_CLASS_INDEX).read_text())
    assert len(index) == 1000 and len(index["999"]) == 2
    for classes, name in sources.KINETICS_LABELS.items():
        assert len((stand_in / name).read_text().splitlines()) == classes


def test_the_stand_in_checkpoints_are_named_as_deepmind_names_them(stand_in):
    tf = pytest.importorskip("tensorflow")
    base = stand_in / "kinetics-i3d" / "data" / "checkpoints"
    # Counts and shapes measured on DeepMind's own .index files: 230 variables per
    # Kinetics-400 stream; 346 entries in the Kinetics-600 one (116 of them Momentum slots).
    for folder, scope in [("rgb_imagenet", "RGB/inception_i3d/"),
                          ("flow_scratch", "Flow/inception_i3d/")]:
        listed = dict(tf.train.list_variables(str(base / folder / "model.ckpt")))
        assert len(listed) == 230 and all(name.startswith(scope) for name in listed)
        assert listed[f"{scope}Conv3d_1a_7x7/batch_norm/beta"] == [64]
    listed = dict(tf.train.list_variables(str(base / "rgb_scratch_kin600" / "model.ckpt")))
    assert len(listed) == 346 and sum(name.endswith("/Momentum") for name in listed) == 116
    assert listed["Conv3d_1a_7x7/batch_norm/beta"] == [1, 1, 1, 1, 64]
    assert listed["Logits/Conv3d_0c_1x1/conv_3d/w"] == [1, 1, 1, 1024, 600]


@pytest.mark.parametrize(("folder", "classes", "channels", "stream"), [
    ("rgb_imagenet", 400, 3, "RGB"), ("flow_imagenet", 400, 2, "Flow"),
    ("rgb_scratch_kin600", 600, 3, "RGB"),
])
def test_every_published_checkpoint_naming_loads(stand_in, tmp_path, folder, classes, channels,
                                                 stream):
    from vidlab.models import i3d

    npz = i3d.checkpoint_to_npz(stand_in / "kinetics-i3d" / "data" / "checkpoints" / folder /
                                "model.ckpt", tmp_path / "weights.npz")
    model = i3d.InceptionI3D(num_classes=classes, num_frames=i3d.minimum_frames(),
                             size=i3d.minimum_size(), channels=channels)
    i3d.load_kinetics_weights(model, npz, stream=stream)
    with np.load(npz) as arrays:
        kernel = arrays[f"{stream}/inception_i3d/Logits/Conv3d_0c_1x1/conv_3d/w"]
    np.testing.assert_array_equal(
        np.asarray(model.get_layer(i3d.keras_name("Logits/Conv3d_0c_1x1/conv_3d")).kernel), kernel)


def test_the_command_line_lists_its_three_commands(capsys):
    with pytest.raises(SystemExit):
        mirror.main(["--help"])
    help_text = capsys.readouterr().out
    assert all(command in help_text for command in ("fetch", "serve", "rehearsal"))


def test_clips_of_the_stand_in_move():
    clip = mirror.rehearsal_clip("ApplyEyeMakeup", 1, 1)
    assert clip.shape == (mirror.REHEARSAL_FRAMES[1], 240, 320, 3) and clip.dtype == np.uint8
    assert np.abs(clip[0].astype(int) - clip[-1]).mean() > 1  # the sprite moved
