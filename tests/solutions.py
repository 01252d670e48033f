"""The reference solutions of the notebooks' exercises, loaded as the tests use them.

Each solution is a file ``notebooks/solutions/<notebook>/<name>.py`` that a student
``%load``s into the exercise's cell; a check at its end runs only as a script.
"""

import runpy
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"


def namespace(notebook: str, name: str) -> dict:
    """Everything the solution file defines (its check, if any, not run)."""
    return runpy.run_path(str(FOLDER / notebook / f"{name}.py"))


def solution(notebook: str, name: str, function: str | None = None):
    """The function ``function`` (default: ``name``) of a solution file."""
    return namespace(notebook, name)[function or name]
