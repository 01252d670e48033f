"""Specification of the repository itself: layout, install files kept in sync, CI entry point."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover -- Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
EXTRAS = PROJECT["optional-dependencies"]


def normalise(name: str) -> str:
    """PEP 503 name: lowercase, runs of - _ . become one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def names(requirements: list[str]) -> set[str]:
    return {normalise(Requirement(r).name) for r in requirements}


def read_yaml(path: Path) -> dict:
    """environment.yml as data (PyYAML, which the dev stack ships)."""
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(path.read_text())


def pins() -> dict[str, Version]:
    """constraints.txt as {normalised name: pinned version}; every line must be an == pin."""
    result = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", line
        result[normalise(requirement.name)] = Version(specifiers[0].version)
    return result


def pip_section() -> list[str]:
    dependencies = read_yaml(ROOT / "environment.yml")["dependencies"]
    sections = [d["pip"] for d in dependencies if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "environment.yml needs exactly one pip: section"
    return [str(entry).strip() for entry in sections[0]]


# --------------------------------------------------------------------------- layout


@pytest.mark.parametrize("folder", ["notebooks", "vidlab", "tests", "data", "benchmarks"])
def test_the_repository_has_its_documented_folders(folder):
    """The folders the README and the Makefile rely on exist."""
    assert (ROOT / folder).is_dir(), f"{folder}/ is missing from the repository"


@pytest.mark.parametrize(
    "file",
    ["environment.yml", "pyproject.toml", "Makefile", "README.md", ".ci/run", "constraints.txt"],
)
def test_the_repository_has_its_documented_files(file):
    """The files a new user and CI start from exist."""
    assert (ROOT / file).is_file(), f"{file} is missing from the repository"


# --------------------------------------------------------------------------- dependencies


def test_core_dependencies_never_reinstall_tensorflow_or_opencv():
    """Colab ships TensorFlow and OpenCV: core dependencies must not pull a second copy."""
    core = names(PROJECT["dependencies"])
    assert not {n for n in core if n.startswith(("tensorflow", "opencv", "tf-"))}, core
    assert "keras" in core and "numpy" in core


def test_the_cpu_extra_brings_tensorflow_cpu_and_headless_opencv():
    """`pip install .[cpu]` is how a machine without them gets TensorFlow and OpenCV."""
    assert {"tensorflow-cpu", "opencv-python-headless"} <= names(EXTRAS["cpu"])


def test_the_dev_extra_brings_the_test_tools():
    """`make test` needs pytest, nbval and ruff from the dev extra."""
    assert {"pytest", "nbval", "ruff"} <= names(EXTRAS["dev"])


def test_constraints_pin_every_direct_dependency():
    """constraints.txt pins (==) the core dependencies and those of the cpu and dev extras."""
    pinned = pins()
    direct = names(PROJECT["dependencies"]) | names(EXTRAS["cpu"]) | names(EXTRAS["dev"])
    assert not direct - set(pinned), f"not pinned: {sorted(direct - set(pinned))}"


def test_pinned_versions_satisfy_pyproject():
    """Each pin is allowed by the specifier pyproject gives that package."""
    pinned = pins()
    for requirement in map(Requirement, PROJECT["dependencies"] + EXTRAS["cpu"] + EXTRAS["dev"]):
        version = pinned[normalise(requirement.name)]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{requirement.name}=={version} violates pyproject's {requirement}"
        )


def test_constraints_pin_each_package_once():
    """No package is pinned twice (under two spellings of its name, say)."""
    lines = [line.split("#", 1)[0].strip() for line in
             (ROOT / "constraints.txt").read_text().splitlines()]
    names_ = [normalise(Requirement(line).name) for line in lines if line]
    assert len(names_) == len(set(names_))


# --------------------------------------------------------------------------- environment.yml


def test_environment_yml_installs_the_project_with_existing_extras():
    """Its pip section installs `-e .[extras]`, and every extra exists in pyproject."""
    editable = [e for e in pip_section() if e.startswith("-e")]
    assert len(editable) == 1
    match = re.fullmatch(r"-e\s+\.\[([\w,\s-]+)\]", editable[0])
    assert match, editable[0]
    extras = {e.strip() for e in match[1].split(",")}
    assert extras and extras <= set(EXTRAS), f"unknown extras: {extras - set(EXTRAS)}"


def test_environment_yml_installs_what_make_installs():
    """conda users get the same extras and constraints as `make` (which CI runs)."""
    makefile = (ROOT / "Makefile").read_text()
    make_extras = re.search(r'-e\s+"?\.\[([\w,-]+)\]', makefile)
    assert make_extras, "the Makefile no longer installs the project with extras"
    entries = pip_section()
    editable = next(e for e in entries if e.startswith("-e"))
    assert editable.replace(" ", "") == f"-e.[{make_extras[1]}]"
    assert "-c constraints.txt" in entries
    assert "-c constraints.txt" in makefile


def test_environment_yml_names_only_packages_pyproject_declares():
    """Any package its pip section names besides the project is declared in pyproject."""
    declared = names(PROJECT["dependencies"]) | {n for e in EXTRAS.values() for n in names(e)}
    for entry in pip_section():
        if entry.startswith("-"):
            option, _, argument = entry.partition(" ")
            assert option in ("-e", "-c", "-r"), entry
            if option in ("-c", "-r"):
                assert (ROOT / argument.strip()).is_file(), entry
            continue
        assert normalise(Requirement(entry).name) in declared, entry


def test_environment_yml_python_satisfies_requires_python():
    """The conda Python version is one pyproject supports."""
    dependencies = read_yaml(ROOT / "environment.yml")["dependencies"]
    python = [d for d in dependencies if isinstance(d, str) and re.match(r"python\b", d)]
    assert len(python) == 1
    version = re.split(r"[=<>]+", python[0], maxsplit=1)[1]
    assert SpecifierSet(PROJECT["requires-python"]).contains(version)


# --------------------------------------------------------------------------- make and CI


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, flags=re.MULTILINE))


@pytest.mark.parametrize("target", ["run", "test", "outputs", "lab", "bench", "browser"])
def test_the_makefile_has_the_documented_targets(target):
    """`make run`, `make test`, `make outputs`, `make lab`, `make bench`, `make browser` exist."""
    assert target in make_targets()


def test_make_test_runs_lint_unit_tests_and_notebooks():
    """`make test` is everything CI checks: ruff, the unit tests, the notebooks."""
    line = re.search(r"^test\s*:(.*)$", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)
    prerequisites = set(line[1].split())
    assert {"lint", "unit", "notebooks"} <= prerequisites
    assert {"lint", "unit", "notebooks"} <= make_targets()


def make_recipe(target: str) -> str:
    """The command lines of ``target`` in the Makefile."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{target}\s*:[^\n]*\n((?:\t[^\n]*\n)+)", text, flags=re.MULTILINE)
    assert match, f"no recipe for {target}"
    return match[1]


def test_make_test_runs_the_browser_tests_and_make_unit_leaves_them_out():
    """The browser tests (marker ``browser``) run in `make test`, once, through `make browser`."""
    line = re.search(r"^test\s*:(.*)$", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)
    assert "browser" in line[1].split()
    assert '-m browser' in make_recipe("browser")
    assert "not browser" in make_recipe("unit")


def test_ci_installs_the_browser_package_the_readme_names():
    """The README tells users to `apt-get install -y chromium`; .ci/run does the same."""
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    package = re.search(r"apt-get install -y (\S+)", readme)[1]
    assert package == "chromium"
    assert re.search(rf"apt-get install -y( -\w+)* {package}$", ci, flags=re.MULTILINE)


def test_ci_runs_make_test():
    """.ci/run is an executable script whose command is `make test`, failing on any error."""
    script = ROOT / ".ci" / "run"
    text = script.read_text()
    assert text.startswith("#!")
    commands = [line.strip() for line in text.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert "make test" in commands
    assert any(c.startswith("set -") and "e" in c.split()[1] for c in commands)
    if os.name == "posix":
        assert os.access(script, os.X_OK), ".ci/run is not executable"
