"""Specification of every notebook's skeleton, read from the .ipynb JSON (nothing is executed).

Each numbered notebook in notebooks/ opens with its title and an Open-In-Colab badge, then the
Colab bootstrap cell, then what it teaches and assumes, an environment report and one
``parameters`` cell; it ends with exercises checked by ``vidlab.exercises``, a summary,
references and a pointer to what comes next. Its stored outputs come from one top-to-bottom
run without errors, and its metadata asks Colab for a GPU.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlparse

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover -- Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
BRANCH = "main"

#: The last section of a notebook points onwards; the last notebook points beyond the course.
NEXT_HEADINGS = ("Next", "Where to go next")

Position = tuple[int, int]  # (cell index, line index within the cell)


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    return "".join(cell["source"])


def code_cells(notebook: dict) -> list[tuple[int, dict]]:
    return [(i, c) for i, c in enumerate(notebook["cells"]) if c["cell_type"] == "code"]


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def headings(notebook: dict, level: int = 2) -> list[tuple[Position, str]]:
    """Markdown headings of ``level`` (outside fenced code), with where they are."""
    found, marker = [], "#" * level + " "
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        fenced = False
        for j, line in enumerate(source(cell).splitlines()):
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced and line.startswith(marker):
                found.append(((i, j), line[len(marker):].strip()))
    return found


def heading_position(notebook: dict, *titles: str) -> Position | None:
    """Where the first level-2 heading with one of ``titles`` is, or None."""
    return next((where for where, text in headings(notebook) if text in titles), None)


def first_code_cell(notebook: dict, wanted: Callable[[dict], bool]) -> Position | None:
    """Where the first code cell for which ``wanted(cell)`` holds is, or None."""
    return next(((i, 0) for i, c in code_cells(notebook) if wanted(c)), None)


def colab_link(path: Path) -> str:
    """The Colab URL that opens ``path`` from the repository's main branch."""
    owner_and_repo = urlparse(REPOSITORY).path.strip("/").removesuffix(".git")
    return (
        f"https://colab.research.google.com/github/{owner_and_repo}/blob/{BRANCH}/"
        f"notebooks/{path.name}"
    )


def bootstrap_cell() -> str:
    """The bootstrap cell every notebook shares: notebook 01's first code cell."""
    return source(code_cells(load(NOTEBOOKS[0]))[0][1])


def exercise_cells(notebook: dict) -> list[dict]:
    """Code cells of the ``## Exercises`` section: up to the next level-2 heading (``## Try it
    on your own video`` or ``## Summary``)."""
    start = heading_position(notebook, "Exercises")
    end = next((where for where, _ in headings(notebook) if start and where > start), None)
    if start is None or end is None:
        return []
    return [c for i, c in code_cells(notebook) if start[0] < i < end[0]]


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request) -> tuple[str, dict, Path]:
    """(file name, parsed JSON, path) of one numbered notebook."""
    return request.param.name, load(request.param), request.param


def test_the_course_has_notebooks():
    assert NOTEBOOKS, "no numbered notebooks in notebooks/"


# --------------------------------------------------------------------------- opening


def test_the_first_cell_is_the_title_and_an_open_in_colab_badge(notebook):
    """A markdown cell `# NN · Title` (NN: the file's number) with a badge opening this very
    notebook in Colab from the repository's main branch."""
    name, nb, path = notebook
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown", f"{name}: the first cell is not markdown"
    title = source(first).splitlines()[0]
    assert re.fullmatch(rf"# {name[:2]} · \S.*", title), (
        f"{name}: the first line should read '# {name[:2]} · Title', not {title!r}"
    )
    badges = re.findall(r"\[!\[Open In Colab\]\([^)]*\)\]\(([^)]*)\)", source(first))
    assert badges, f"{name}: no Open In Colab badge in the first cell"
    assert badges == [colab_link(path)], f"{name}: the badge should link to {colab_link(path)}"


def test_the_first_code_cell_is_the_shared_bootstrap_cell(notebook):
    """The first code cell is the Colab bootstrap, identical in every notebook, cloning the
    repository's main branch, the branch the badge opens (tests/test_colab.py runs it)."""
    name, nb, _ = notebook
    first_code = source(code_cells(nb)[0][1])
    assert "google.colab" in first_code, f"{name}: the first code cell is not the bootstrap"
    clone = f"git clone --depth 1 --branch {BRANCH} {REPOSITORY} "
    assert clone in first_code, (
        f"{name}: the bootstrap cell does not clone {REPOSITORY}'s {BRANCH} branch ({clone})"
    )
    assert first_code == bootstrap_cell(), (
        f"{name}: the bootstrap cell differs from notebook 01's; copy it from there"
    )


def test_nbval_skips_the_bootstrap_cell(notebook):
    """It is tagged `nbval-skip`: pip never runs when the notebooks are tested."""
    name, nb, _ = notebook
    assert "nbval-skip" in tags(code_cells(nb)[0][1]), (
        f"{name}: the bootstrap cell lacks the `nbval-skip` tag"
    )


# --------------------------------------------------------------------------- sections


def test_the_sections_come_in_the_course_order(notebook):
    """Objectives, prerequisites, environment report, parameters ... exercises, summary,
    references, and last of all the section that points onwards."""
    name, nb, _ = notebook
    report = first_code_cell(nb, lambda c: "config.environment_report()" in source(c))
    parameters = first_code_cell(nb, lambda c: "parameters" in tags(c))
    landmarks = {
        "## What you will learn": heading_position(nb, "What you will learn"),
        "## What this notebook assumes": heading_position(nb, "What this notebook assumes"),
        "a code cell calling config.environment_report()": report,
        "the cell tagged `parameters`": parameters,
        "## Exercises": heading_position(nb, "Exercises"),
        "## Summary": heading_position(nb, "Summary"),
        "## References": heading_position(nb, "References"),
        f"## {' or ## '.join(NEXT_HEADINGS)}": heading_position(nb, *NEXT_HEADINGS),
    }
    missing = [what for what, where in landmarks.items() if where is None]
    assert not missing, f"{name} lacks: {', '.join(missing)}"
    found = sorted(landmarks, key=landmarks.get)
    assert found == list(landmarks), f"{name}: sections out of order: {found}"
    last = headings(nb)[-1][1]
    assert last in NEXT_HEADINGS, f"{name}: the last section is '## {last}', not the next one"


def test_exactly_one_cell_is_tagged_parameters(notebook):
    """One `parameters` cell, so papermill (and a reader) finds every knob in one place."""
    name, nb, _ = notebook
    tagged = [i for i, c in code_cells(nb) if "parameters" in tags(c)]
    assert len(tagged) == 1, f"{name}: {len(tagged)} code cells tagged `parameters`: {tagged}"


def test_every_exercise_is_checked_by_the_shared_checker(notebook):
    """Each code cell of the Exercises section calls a `vidlab.exercises.check_...`."""
    name, nb, _ = notebook
    cells = exercise_cells(nb)
    assert cells, f"{name}: no exercise code cells in the '## Exercises' section"
    unchecked = [source(c).splitlines()[0] for c in cells if "exercises.check_" not in source(c)]
    assert not unchecked, f"{name}: exercise cells without `exercises.check_...`: {unchecked}"


def test_no_placeholder_is_left_in_the_prose(notebook):
    """No TODO/FIXME placeholder survives in a markdown cell (the numbers are written in)."""
    name, nb, _ = notebook
    placeholders = sorted({
        word for cell in nb["cells"] if cell["cell_type"] == "markdown"
        for word in re.findall(r"\b\w*(?:TODO|FIXME)\w*", source(cell))
    })
    assert not placeholders, f"{name}: placeholders left in the prose: {placeholders}"


# --------------------------------------------------------------------------- stored outputs


def test_no_stored_output_is_an_error(notebook):
    """The stored run finished without an exception in any cell."""
    name, nb, _ = notebook
    errors = [
        (i, o.get("ename")) for i, c in code_cells(nb) for o in c.get("outputs", [])
        if o["output_type"] == "error"
    ]
    assert not errors, f"{name}: stored error outputs (cell index, exception): {errors}"


def test_the_stored_outputs_come_from_one_top_to_bottom_run(notebook):
    """Every code cell has an execution count, strictly increasing down the notebook."""
    name, nb, _ = notebook
    unexecuted = [i for i, c in code_cells(nb) if c.get("execution_count") is None]
    assert not unexecuted, f"{name}: code cells never executed (cell indices): {unexecuted}"
    counts = [c["execution_count"] for _, c in code_cells(nb)]
    assert all(a < b for a, b in pairwise(counts)), (
        f"{name}: execution counts are not increasing: {counts}"
    )


# --------------------------------------------------------------------------- Colab


def test_the_notebook_asks_colab_for_a_gpu(notebook):
    """Colab opens it on a GPU runtime (the full profile's default there)."""
    name, nb, _ = notebook
    metadata = nb["metadata"]
    assert metadata.get("accelerator") == "GPU", f"{name}: metadata.accelerator is not 'GPU'"
    assert metadata.get("colab", {}).get("gpuType"), f"{name}: metadata.colab.gpuType is unset"
