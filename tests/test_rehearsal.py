"""The full profile, rehearsed end to end: every notebook's Colab path, from a local mirror.

``python -m vidlab.mirror rehearsal`` writes the generated stand-in of every external file,
``python -m vidlab.mirror serve`` serves it on 127.0.0.1 (a free port), and all five
notebooks run in order, each in a fresh kernel, with ``VIDLAB_PROFILE=full
VIDLAB_SCALE=smoke VIDLAB_MIRROR=http://127.0.0.1:PORT/``, an empty cache and an empty
Keras home (so nothing in ``~/.keras`` is used).  Any error output fails the run; the
printed lines show that each notebook took its full-profile branches.  The stand-in
checks code paths: its accuracies mean nothing and are not checked.

About 6 to 8 minutes on 2 cores, so ``make rehearsal`` runs it apart from the unit tests
(``pytest -m rehearsal``); ``make test`` runs both.  Times go to ``build/rehearsal-times.txt``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vidlab.tools import course

pytestmark = pytest.mark.rehearsal

ROOT = Path(__file__).resolve().parent.parent

#: What each notebook must print on the full profile: proof that it took those branches.
EXPECTED = {
    "01_frame_features": [r"Profile\s+full", r"REHEARSAL: VIDLAB_MIRROR=",
                          r"VideoDataset\('3classes': 3 classes, \d+ train / \d+ test clips\)",
                          r"vgg16_fc2: 224x224 RGB -> 4096 features, 134,260,544 parameters",
                          r"train features: \(\d+, 16, 4096\)",
                          r"v_\w+_g\d\d_c\d\d\.avi: \d+x\d+ \((?:landscape|portrait)\)",
                          r"most frequent label: .+ \(on [1-8] of 8 frames\)",
                          r"your video: \w+ \d\.\d\d\nplayed backwards: \w+ \d\.\d\d"],
    "02_lstm_forecasting": [r"Profile\s+full", r"training pairs: \(\d+, 15, 64, 64, 3\)",
                            r"your clip, 15 next frames at 64x64, mean squared error: copy the "
                            r"last frame \d\.\d{5}, ConvLSTM \d\.\d{5}"],
    "03_cnn_rnn": [r"backbone mobilenet_v2:[0-9a-f]{16}",
                   r"fine-tuning the last 20 layers of the image CNN",
                   r"this notebook: end to end, fine-tuned\s+UCF101, 3 classes",
                   r"v_\w+\.avi: \d+ windows? of 16 frames; top classes \(mean probability, "
                   r"at least 0\.10\): \w+ \d\.\d\d"],
    "04_two_stream": [r"spatial input \(\d+, 224, 224, 3\)",
                      r"temporal input \(\d+, 224, 224, 16\)",
                      r"measured: UCF101, 3 classes",
                      r"whole video, \d+ clips of 16 frames: spatial stream \w+ \d\.\d\d · "
                      r"temporal stream \w+ \d\.\d\d · learned fusion \w+ \d\.\d\d"],
    "05_i3d": [r"v_\w+_g\d\d_c\d\d\.avi \(\d+ frames, \d+ clips of 64\), true class \w+",
               r"two-stream \(mean\)\s+stand-in action",
               r"I3D \(RGB, Kinetics-pretrained\), 3 UCF101 classes, split 1: test accuracy",
               r"I3D, Kinetics-pretrained, fine-tuned \(RGB\)\s+05_i3d",
               r"v_\w+\.avi: windows of 64 frames at 25 fps, \d+ for RGB and \d+ for the flow "
               r"\((?:dis|tvl1)\)",
               r"RGB \+ flow \(sum of logits\): top 5 of 400 Kinetics classes, probability and "
               r"logit\n  \d\.\d{5} +-?\d+\.\d\d  stand-in action \d+\n"],
}
#: No notebook of the five may say that another has no result.
MISSING_RESULT = "result in this runtime's cache yet"


def printed(nb) -> str:
    """Everything a notebook printed on stdout and as text results."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and output.name == "stdout":
                parts.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def errors(nb) -> list[str]:
    return [f"{o.ename}: {o.evalue}" for cell in nb.cells for o in cell.get("outputs", [])
            if o.output_type == "error"]


@pytest.fixture(scope="module")
def mirror_url(tmp_path_factory):
    """The stand-in, written by the command line and served by it on a free port."""
    folder = tmp_path_factory.mktemp("mirror")
    start, cpu = time.perf_counter(), os.times()
    subprocess.run([sys.executable, "-m", "vidlab.mirror", "rehearsal", str(folder)],
                   check=True, capture_output=True, text=True, timeout=600)
    after = os.times()
    _record("rehearsal stand-in", time.perf_counter() - start,
            after.children_user + after.children_system - cpu.children_user - cpu.children_system)
    server = subprocess.Popen(
        [sys.executable, "-m", "vidlab.mirror", "serve", str(folder), "--port", "0",
         "--host", "127.0.0.1", "--quiet"], stdout=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline()
        port = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        assert port, f"the server said: {first!r}"
        yield f"http://127.0.0.1:{port[1]}/"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def rehearsal_env(mirror_url, tmp_path_factory):
    """The environment of the five kernels: one empty cache for the course, an empty Keras home."""
    keras_home = tmp_path_factory.mktemp("keras-home")
    env = {"VIDLAB_PROFILE": "full", "VIDLAB_SCALE": "smoke", "VIDLAB_MIRROR": mirror_url,
           "VIDLAB_CACHE": str(tmp_path_factory.mktemp("cache")), "KERAS_HOME": str(keras_home)}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


_TIMES: list[str] = []


def _record(what: str, seconds: float, cpu: float) -> None:
    _TIMES.append(f"{what:<22} {seconds:7.1f} s wall {cpu:7.1f} s CPU")
    out = ROOT / "build" / "rehearsal-times.txt"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(_TIMES) + "\n")
    print(_TIMES[-1])


@pytest.mark.parametrize("stem", list(EXPECTED))
def test_the_notebook_takes_its_full_profile_path_without_an_error(stem, rehearsal_env):
    before = os.times()
    nb, seconds = course.execute(ROOT / "notebooks" / f"{stem}.ipynb", timeout=900)
    after = os.times()
    _record(stem, seconds,
            after.children_user + after.children_system - before.children_user
            - before.children_system)
    assert errors(nb) == []
    text = printed(nb)
    for pattern in EXPECTED[stem]:
        assert re.search(pattern, text), f"{stem} did not print {pattern!r}"
    assert MISSING_RESULT not in text
    cache = Path(rehearsal_env["VIDLAB_CACHE"])
    assert not list((cache / "downloads").glob("publishers"))  # nothing came from the internet
    keras_home = Path(rehearsal_env["KERAS_HOME"])
    assert not [p for p in keras_home.rglob("*") if p.is_file() and p.name != "keras.json"]
