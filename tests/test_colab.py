"""Specification of the bootstrap cell that opens every notebook (its first code cell).

On Colab it clones the course repository, on the branch the notebooks' Colab badges open, and
installs it in editable mode (so the package finds the quick profile's pretrained weights in the
clone's ``data/``, which lies outside the package), without upgrading, downgrading or duplicating
Colab's own TensorFlow, Keras and OpenCV; it makes ``import vidlab`` work in the running kernel
at once; anywhere else it does nothing.

The end-to-end tests rebuild the Colab situation offline, in a fresh virtual environment:

* TensorFlow and the non-headless ``opencv-python`` are "preinstalled" as stand-in
  distributions (metadata only) with Colab-like versions;
* every other package of the project's environment (Keras, NumPy, IPython, pip...) is
  visible through a ``.pth`` file, as Colab's preinstalled stack is;
* the notebook's own cell then runs in a real IPython shell, from a folder standing in for
  Colab's ``/content``; its ``!git clone`` copies the repository's files (those git tracks or
  would track, as they are now) instead of reaching GitHub, and its ``%pip`` magic is the real
  one, told not to use the package index;
* the notebook's next cell then runs in that same shell, as it would in the same kernel.

Nothing is downloaded and nothing is written into the project's environment.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import NamedTuple

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover -- Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
BRANCH = "main"
#: Where the cell clones the repository on Colab (whose working directory is /content). Not
#: ``/content/vidlab``: a folder named like the package in the working directory would shadow
#: it as an empty namespace package after a runtime restart.
COLAB_CLONE = "/content/vidlab-repo"
#: The clone command, less the folder it clones into.
GIT_CLONE = ["git", "clone", "--depth", "1", "--branch", BRANCH, REPOSITORY]

#: What Colab has preinstalled that vidlab must leave alone (versions as on a Colab runtime).
COLAB_STACK = {"tensorflow": "2.19.0", "opencv-python": "4.11.0.86"}
#: The distributions the ``cpu`` extra would bring: a second copy of TensorFlow or OpenCV.
SECOND_COPIES = {"tensorflow-cpu", "opencv-python-headless"}


def bootstrap_source() -> str:
    """The first code cell of notebook 01 (every notebook has the same one)."""
    notebook = json.loads((ROOT / "notebooks" / "01_frame_features.ipynb").read_text())
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    return "".join(cell["source"])


def bootstrap_cloning_into(clone: Path) -> str:
    """The bootstrap cell, cloning into ``clone`` instead of Colab's ``/content/...``."""
    source = bootstrap_source()
    assert source.count(f'"{COLAB_CLONE}"') == 1, f"the cell does not clone into {COLAB_CLONE}"
    return source.replace(f'"{COLAB_CLONE}"', json.dumps(str(clone)))


def as_python(cell: str) -> str:
    """The cell as IPython runs it: ``%pip ...`` becomes ``get_ipython().run_line_magic(...)``
    and ``!git ...`` becomes ``get_ipython().system(...)``."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell)


class RecordingShell:
    """A stand-in for ``get_ipython()`` that records line magics and shell commands instead
    of running them.

    Like IPython, it expands ``{name}`` in a magic's line or a command from the cell's namespace.
    """

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.magics: list[tuple[str, str]] = []
        self.commands: list[list[str]] = []

    def run_line_magic(self, name: str, line: str) -> None:
        self.magics.append((name, line.format_map(self.namespace)))

    def system(self, command: str) -> None:
        self.commands.append(shlex.split(command.format_map(self.namespace)))


def run_bootstrap_here(clone: Path) -> RecordingShell:
    """Execute the bootstrap cell in this process (cloning into ``clone``), recording its
    magics and shell commands."""
    namespace: dict = {}
    shell = RecordingShell(namespace)
    namespace["get_ipython"] = lambda: shell
    exec(as_python(bootstrap_cloning_into(clone)), namespace)
    return shell


@pytest.fixture
def on_colab(monkeypatch, tmp_path) -> Path:
    """This process made to look like Colab for the cell; returns where it is to clone.

    Temporary files go to ``tmp_path``, and ``sys.path`` is restored afterwards.
    """
    monkeypatch.setitem(sys.modules, "google.colab", ModuleType("google.colab"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(sys, "path", list(sys.path))
    return tmp_path / PurePosixPath(COLAB_CLONE).name


def pip_install(shell: RecordingShell) -> list[str]:
    """The arguments of the cell's one ``%pip`` magic."""
    [(magic, line)] = shell.magics
    assert magic == "pip"
    return shlex.split(line)


# --------------------------------------------------------------------------- the cell itself


def test_off_colab_the_bootstrap_cell_does_nothing(monkeypatch, tmp_path):
    """Without google.colab imported (any machine but Colab) the cell runs no git, no pip,
    and leaves sys.path alone."""
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    path = list(sys.path)
    shell = run_bootstrap_here(tmp_path / "clone")
    assert (shell.magics, shell.commands) == ([], [])
    assert sys.path == path


def test_on_colab_the_bootstrap_cell_clones_the_repositorys_main_branch(on_colab):
    """On a fresh runtime it runs one command: a shallow clone of the repository's main branch
    (the branch the badges open) into the folder it then installs."""
    shell = run_bootstrap_here(on_colab)
    assert shell.commands == [[*GIT_CLONE, str(on_colab)]]


def test_on_colab_the_bootstrap_cell_installs_the_clone_in_editable_mode(on_colab, tmp_path):
    """It runs one `%pip install -e` of the clone (so that vidlab's ``../data`` is the clone's
    data/), constrained by a file that pins the installed TensorFlow, Keras and OpenCV."""
    command, quiet, option, constraints, editable, project = pip_install(
        run_bootstrap_here(on_colab)
    )
    assert (command, quiet, option, editable) == ("install", "--quiet", "-c", "-e")
    assert project == str(on_colab)
    assert Path(constraints).parent == tmp_path


def test_on_colab_the_bootstrap_cell_makes_the_clone_importable_at_once(on_colab):
    """A running kernel does not read the .pth file of an editable install (Python reads them
    at start-up): the cell puts the clone first on sys.path itself."""
    run_bootstrap_here(on_colab)
    assert sys.path[0] == str(on_colab)


def test_running_the_bootstrap_cell_again_reuses_the_clone(on_colab):
    """When the clone exists (the cell ran before on this runtime), there is no second clone,
    the install runs again, and sys.path gets no second entry."""
    run_bootstrap_here(on_colab)
    on_colab.mkdir()
    again = run_bootstrap_here(on_colab)
    assert again.commands == []
    assert pip_install(again)[-2:] == ["-e", str(on_colab)]
    assert sys.path.count(str(on_colab)) == 1


def test_on_colab_the_constraints_pin_tensorflow_keras_and_opencv_as_installed(on_colab):
    """Every installed tensorflow*, keras* and opencv* distribution is pinned (==) to the
    version installed, and nothing else is constrained."""
    [(_, line)] = run_bootstrap_here(on_colab).magics
    constraints = Path(shlex.split(line)[3]).read_text().splitlines()
    pinned = {}
    for requirement in map(Requirement, constraints):
        [specifier] = requirement.specifier
        assert specifier.operator == "==", requirement
        pinned[requirement.name] = specifier.version
    assert pinned["keras"] == version("keras")
    for name, pin in pinned.items():
        assert name.lower().startswith(("tensorflow", "keras", "opencv")), name
        assert pin == version(name)


# --------------------------------------------------------------------------- Colab, offline

#: Runs in the simulated Colab environment: the bootstrap cell in a real IPython shell with
#: Colab's module imported, then the notebook's next cell in the same shell (the same kernel).
#: ``!git ...`` commands are logged and a clone copies the repository's snapshot; the real
#: %pip magic runs, told to use no index and the environment's own setuptools (offline, pip
#: cannot fetch a build backend into an isolated build environment as it does on Colab).
RUN_CELL_AS_ON_COLAB = """
import json, shlex, shutil, sys, types
from IPython.core.interactiveshell import InteractiveShell

cell, snapshot, commands, result, next_cell = sys.argv[1:6]
sys.modules["google.colab"] = types.ModuleType("google.colab")
shell = InteractiveShell.instance()
colab_pip = shell.find_line_magic("pip")
offline_pip = lambda line: colab_pip(f"{line} --no-index --no-build-isolation")
shell.register_magic_function(offline_pip, "line", "pip")
colab_system = shell.system

def offline_system(command):
    argv = shlex.split(shell.var_expand(command, depth=1))
    if argv[0] != "git":
        return colab_system(command)  # %pip runs `python -m pip ...` through here
    with open(commands, "a") as log:
        log.write(json.dumps(argv) + "\\n")
    assert argv[:2] == ["git", "clone"], argv
    shutil.copytree(snapshot, argv[-1])

shell.system = offline_system
shell.run_cell(open(cell).read(), store_history=False).raise_error()
if shell.user_ns.get("_exit_code", 0):
    sys.exit(shell.user_ns["_exit_code"])
shell.user_ns["result"] = result
outcome = shell.run_cell(next_cell, store_history=False)
if not outcome.success:  # recorded for the tests that check the next cell
    error = outcome.error_in_exec or outcome.error_before_exec
    with open(result, "w") as file:
        json.dump({"error": f"{type(error).__name__}: {error}"}, file)
"""

#: What the simulated kernel runs after the bootstrap cell, and what a fresh Python (a
#: restarted runtime) runs: import vidlab and locate the quick profile's backbone weights.
#: ``_quick_weights`` finds them relative to the package and checks their sha256 against
#: data/MANIFEST.json, with no TensorFlow involved.
NEXT_CELL = """
import json
import vidlab
from vidlab import backbones

weights, _ = backbones._quick_weights("shapes_vgg")
with open(result, "w") as file:
    json.dump({"vidlab": vidlab.__file__, "weights": str(weights)}, file)
"""


def record_line(path: str, data: bytes) -> str:
    """One line of a wheel's RECORD: path, urlsafe-base64 sha256 without padding, size."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}\n"


def metadata_only_wheel(folder: Path, name: str, version_: str) -> Path:
    """Write a wheel that installs nothing but the metadata of ``name==version_``.

    It stands in for a big preinstalled distribution: pip and importlib.metadata see it,
    while ``import`` still finds the real modules of the project's environment.
    """
    stem = f"{name.replace('-', '_')}-{version_}"
    files = {
        f"{stem}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version_}\n",
        f"{stem}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: tests/test_colab.py\n"
            "Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [record_line(path, text.encode()) for path, text in files.items()]
    files[f"{stem}.dist-info/RECORD"] = "".join([*record, f"{stem}.dist-info/RECORD,,\n"])
    wheel = folder / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def require_setuptools_77() -> None:
    """Offline, pip builds vidlab's editable install with the project's own setuptools."""
    if Version(version("setuptools")) < Version("77"):
        pytest.fail("building vidlab needs setuptools>=77 (pyproject's SPDX license); "
                    "it comes with the dev extra: run `make` or install `.[dev]`")


def repository_snapshot(folder: Path) -> Path:
    """Copy the files git tracks, or would track, as they are now: what a clone of the
    repository holds once the working tree is committed (data/ included)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():  # not deleted in the working tree
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, folder / name)
    return folder


def offline_env(scratch: Path) -> dict[str, str]:
    """Environment for the subprocesses: no index, no user site, scratch temp and IPython dirs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env.update(
        PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_COLOR="1",
        PYTHONNOUSERSITE="1",
        TMPDIR=str(scratch), IPYTHONDIR=str(scratch / "ipython"),
    )
    return env


def hidden_from_colab(entry: str) -> bool:
    """Entries of the project's site-packages the simulated Colab must not see.

    vidlab itself (it is what gets installed) and the *metadata* of the project's TensorFlow
    and OpenCV distributions (tensorflow-cpu, opencv-python-headless): Colab has others. Their
    modules stay visible, so ``import vidlab`` still finds TensorFlow and cv2.
    """
    name = entry.lower()
    metadata = name.endswith((".dist-info", ".egg-info"))
    return (
        name.startswith(("vidlab", "__editable__"))
        or name.endswith(".pth")
        or (metadata and name.startswith(("tensorflow", "opencv")))
    )


def colab_like_view(project_site: Path, view: Path) -> Path:
    """A folder of links to the project's installed packages, minus what Colab lacks."""
    view.mkdir()
    for entry in sorted(os.listdir(project_site)):
        if not hidden_from_colab(entry):
            (view / entry).symlink_to(project_site / entry)
    return view


class FreshVenv:
    """A new virtual environment that sees the project's packages, like Colab's stack."""

    def __init__(self, folder: Path, env: dict[str, str]):
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
        self.folder, self.env = folder, env
        self.python = folder / "bin" / "python"
        self.site = Path(self.run("import sysconfig; print(sysconfig.get_path('purelib'))"))

    def python_(self, *argv: str, cwd: Path | None = None) -> str:
        """Run this environment's Python with ``argv`` (in ``cwd``, by default the
        environment's folder); return its stdout, failing loudly."""
        done = subprocess.run(
            [str(self.python), *argv], cwd=cwd or self.folder, env=self.env,
            capture_output=True, text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.strip()

    def run(self, code: str, *args: str, cwd: Path | None = None) -> str:
        return self.python_("-c", code, *args, cwd=cwd)

    def pip(self, *args: str) -> None:
        self.python_("-m", "pip", *args)

    def versions(self, *names: str) -> dict[str, str]:
        code = "import sys, json, importlib.metadata as m; print(json.dumps("
        code += "{n: m.version(n) for n in sys.argv[1:]}))"
        return json.loads(self.run(code, *names))

    def own_distributions(self) -> set[str]:
        """Distributions installed into this environment's own site-packages."""
        return {
            p.name.split("-")[0].replace("_", "-").lower() for p in self.site.glob("*.dist-info")
        }


class SimulatedColab(NamedTuple):
    venv: FreshVenv
    keras_before: dict[str, str]  # {"keras": version} before the bootstrap ran
    constraints: Path  # the constraints file the cell wrote
    content: Path  # stands in for Colab's working directory, /content
    clone: Path  # where the cell cloned the repository, in ``content``
    commands: list[list[str]]  # the shell commands (``!git ...``) the cell ran
    next_cell: dict[str, str]  # what the next cell found: vidlab's and the weights' paths

    def found_by_next_cell(self) -> dict[str, str]:
        assert "error" not in self.next_cell, f"the next cell failed: {self.next_cell['error']}"
        return self.next_cell


@pytest.fixture(scope="module")
def colab(tmp_path_factory) -> Iterator[SimulatedColab]:
    """A fresh Colab-like environment in which the notebooks' bootstrap cell has run, then
    the next cell, in the same IPython shell."""
    require_setuptools_77()
    scratch = tmp_path_factory.mktemp("colab")
    env = offline_env(scratch)
    project_site = Path(sysconfig.get_path("purelib"))
    before = sorted(os.listdir(project_site))

    snapshot = repository_snapshot(scratch / "snapshot")
    stand_ins = [metadata_only_wheel(scratch, n, v) for n, v in COLAB_STACK.items()]

    venv = FreshVenv(scratch / "venv", env)
    view = colab_like_view(project_site, scratch / "preinstalled")
    (venv.site / "colab_preinstalled.pth").write_text(f"{view}\n")
    venv.pip("install", "--quiet", "--no-index", "--no-deps", *map(str, stand_ins))
    assert venv.versions(*COLAB_STACK) == COLAB_STACK
    keras_before = venv.versions("keras")

    content = scratch / "content"
    content.mkdir()
    clone = content / PurePosixPath(COLAB_CLONE).name
    cell = scratch / "bootstrap_cell.ipy"
    cell.write_text(bootstrap_cloning_into(clone))
    commands, result = scratch / "commands.jsonl", scratch / "next_cell.json"
    venv.run(RUN_CELL_AS_ON_COLAB, str(cell), str(snapshot), str(commands), str(result),
             NEXT_CELL, cwd=content)

    yield SimulatedColab(
        venv, keras_before, scratch / "colab-constraints.txt", content, clone,
        [json.loads(line) for line in commands.read_text().splitlines()]
        if commands.exists() else [],
        json.loads(result.read_text()),
    )
    assert sorted(os.listdir(project_site)) == before, "the project's environment was modified"


def test_on_colab_the_cell_cloned_the_repository_once(colab):
    """The one shell command was the shallow clone of the main branch into the clone folder."""
    assert colab.commands == [[*GIT_CLONE, str(colab.clone)]]


def test_on_colab_tensorflow_and_opencv_are_left_exactly_as_they_were(colab):
    """After the bootstrap, Colab's tensorflow and opencv-python have their old versions."""
    assert colab.venv.versions(*COLAB_STACK) == COLAB_STACK


def test_on_colab_keras_is_left_as_it_was(colab):
    """Keras, a core dependency of vidlab that Colab already has, is not upgraded."""
    assert colab.venv.versions("keras") == colab.keras_before


def test_on_colab_the_bootstrap_adds_vidlab_and_nothing_else(colab):
    """No second TensorFlow or OpenCV (tensorflow-cpu, opencv-python-headless) is installed:
    vidlab is the only new distribution next to Colab's."""
    installed = colab.venv.own_distributions()
    assert not installed & SECOND_COPIES, f"a second copy was installed: {installed}"
    assert installed == set(COLAB_STACK) | {"vidlab"}


def test_on_colab_the_constraints_file_pinned_colabs_versions(colab):
    """The file the cell handed to pip pins Colab's TensorFlow, OpenCV and Keras versions."""
    pins = colab.constraints.read_text().splitlines()
    expected = {f"{n}=={v}" for n, v in {**COLAB_STACK, **colab.keras_before}.items()}
    assert expected <= set(pins), pins


def test_on_colab_the_next_cell_imports_vidlab_from_the_clone(colab):
    """In the same kernel, without a restart, the next cell's `import vidlab` finds the
    clone's package."""
    found = colab.found_by_next_cell()
    assert Path(found["vidlab"]) == colab.clone / "vidlab" / "__init__.py"


def test_on_colab_the_next_cell_finds_the_quick_profiles_weights(colab):
    """A CPU-only Colab runtime uses the quick profile, whose backbones load the weights in
    the repository's data/: in the same kernel, vidlab finds them in the clone, intact."""
    weights = Path(colab.found_by_next_cell()["weights"])
    assert weights == colab.clone / "data" / "shapes_vgg.weights.h5"
    assert weights.is_file()


def test_after_a_restart_vidlab_imports_from_the_clone_and_finds_the_weights(colab):
    """A restarted runtime (a fresh Python in /content, sys.path untouched by the cell) gets
    vidlab through the editable install, from the clone, not shadowed by the clone's folder,
    and the weights with it."""
    result = colab.content / "after_restart.json"
    colab.venv.run(f"result = {str(result)!r}\n{NEXT_CELL}", cwd=colab.content)
    found = json.loads(result.read_text())
    assert Path(found["vidlab"]) == colab.clone / "vidlab" / "__init__.py"
    assert Path(found["weights"]) == colab.clone / "data" / "shapes_vgg.weights.h5"
