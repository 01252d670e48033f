"""Saved results, so the course-wide table is read from what the notebooks measured.

Each notebook calls :func:`record` for the models it evaluates, in the label set
of its profile (:func:`label_set`: ``motion`` for the quick profile's MotionShapes
motion labels, ``full`` for the full profile's UCF101 subset); the last notebook
and ``make run`` read them back with :func:`load`.  Results live in
``<cache>/results/<label_set>.json``, so they last as long as the cache
(``VIDLAB_CACHE``; on Colab, a folder on Google Drive keeps them across runtimes).
"""

from __future__ import annotations

import json
from pathlib import Path

from vidlab import config
from vidlab.download import atomic_path


def _path(label_set: str) -> Path:
    folder = config.cache_dir() / "results"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{label_set}.json"


def label_set(profile: str) -> str:
    """The label set a profile's results are recorded in: ``motion`` (quick) or ``full``."""
    if profile not in ("quick", "full"):
        raise ValueError(f"Unknown profile {profile!r}; expected 'quick' or 'full'.")
    return "motion" if profile == "quick" else "full"


def load(label_set: str = "motion") -> dict[str, dict]:
    """All recorded results of ``label_set``, keyed by model name."""
    path = _path(label_set)
    return json.loads(path.read_text()) if path.is_file() else {}


def record(model: str, notebook: str, accuracy: float, params: int | None = None,
           seconds: float | None = None, label_set: str = "motion") -> None:
    """Save (or replace) the test accuracy of ``model`` measured in ``notebook``."""
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be a fraction in [0, 1], got {accuracy}")
    results = load(label_set)
    results[model] = {"notebook": notebook, "accuracy": round(float(accuracy), 4),
                      "params": params, "seconds": None if seconds is None else round(seconds, 1)}
    path = _path(label_set)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(results, indent=2, sort_keys=True))


def table(results: dict[str, dict]) -> str:
    """Format results as a plain-text table, in the order of the notebooks.

    Columns: model, notebook, test accuracy, parameters and training time
    (``12.3 s``; empty where a notebook did not record them).  The model and
    notebook columns are as wide as their longest entry.
    """
    rows = sorted(results.items(), key=lambda item: (item[1]["notebook"], item[0]))
    cells = [(name, r["notebook"], f"{r['accuracy']:.3f}",
              "" if r["params"] is None else f"{r['params']:,}",
              "" if r.get("seconds") is None else f"{r['seconds']:.1f} s") for name, r in rows]
    header = ("model", "notebook", "test accuracy", "parameters", "training")
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header) - 1)]
    lines = []
    for name, notebook, accuracy, params, seconds in [header, *cells]:
        # The training time comes last and left-aligned: it varies from run to run, and its
        # width must not move the other columns.
        lines.append(f"{name:<{widths[0]}}  {notebook:<{widths[1]}}  {accuracy:>{widths[2]}}  "
                     f"{params:>{widths[3]}}  {seconds}".rstrip())
    return "\n".join(lines)
