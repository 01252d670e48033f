"""Execute the course's notebooks and render them: ``python -m vidlab.course build|outputs``.

* ``build`` (``make run``): runs every notebook in ``notebooks/`` in a fresh
  kernel, in order, and writes ``build/`` -- each executed notebook and its HTML
  rendering, plus ``index.html`` linking them with their execution times.
* ``outputs`` (``make outputs``): re-executes every notebook *in place*, so the
  stored outputs nbval checks always come from one fresh, complete run.

C-level stderr (TensorFlow's absl/oneDNN start-up lines) is captured by the
kernel when run this way but not under pytest; it is stripped from what is
stored so that stored outputs and nbval see the same thing.
"""

from __future__ import annotations

import argparse
import html
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

from vidlab import results

if TYPE_CHECKING:
    import nbformat

# nbformat and nbclient are imported inside the functions that run notebooks: importing
# nbformat takes about 2 s (its JSON-schema validator), and notebook 05 imports this module
# only for course_notebooks().

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def course_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The numbered notebooks of the course, in order."""
    return sorted(p for p in folder.glob("[0-9]*.ipynb"))


def notebook_functions(path: Path, names: Sequence[str], namespace: dict) -> dict:
    """Define, in ``namespace``, the functions ``names`` exactly as a notebook's cells write them.

    Tests and benchmarks build the models a notebook writes on the page from the
    notebook itself, so that the package's plumbing is checked against the
    lesson and never against a copy of it (d2l's pattern).  Only the ``def``
    statements run, in notebook order; the rest of their cells does not.

    Parameters
    ----------
    path
        The ``.ipynb`` file.
    names
        Functions to define; each must be defined at the top level of a code cell.
    namespace
        The globals the functions read (``np``, ``keras``, the notebook's
        parameters, ...); it receives the definitions.

    Returns
    -------
    dict
        ``namespace``, with the functions added.

    Raises
    ------
    ValueError
        If the notebook defines one of ``names`` nowhere.
    """
    import ast
    import json

    wanted, found = set(names), set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or not any(f"def {n}(" in source for n in wanted):
            continue
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and node.name in wanted:
                exec(compile(ast.Module([node], []), f"{path.name}:{node.name}", "exec"),
                     namespace)
                found.add(node.name)
    missing = sorted(wanted - found)
    if missing:
        raise ValueError(f"{path.name} defines no function named {', '.join(missing)}.")
    return namespace


def strip_stderr(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop stderr stream outputs from every code cell."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
            ]
    return nb


def execute(path: Path, timeout: int = 600) -> tuple[nbformat.NotebookNode, float]:
    """Run ``path`` top to bottom in a fresh kernel; return the notebook and seconds taken."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    bar = tqdm(total=code_cells, desc=path.stem, unit="cell", leave=True)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_executed=lambda **_: bar.update(1),
    )
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        bar.close()
    return strip_stderr(nb), time.perf_counter() - start


def title_and_summary(nb: nbformat.NotebookNode) -> tuple[str, str]:
    """The notebook's ``# title`` and the first sentence after it."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            lines = cell.source.strip().splitlines()
            rest = " ".join(line for line in lines[1:] if line and not line.startswith(("[", "<")))
            return lines[0][2:].strip(), rest.split(". ")[0].strip().rstrip(".") + "."
    return "(untitled)", ""


def render_html(nb: nbformat.NotebookNode, dest: Path) -> None:
    """Write ``nb`` as a standalone HTML page."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    dest.write_text(body, encoding="utf-8")


def write_index(rows: list[tuple[str, str, str, float]], table: str, dest: Path) -> None:
    """Write ``index.html``: one line per notebook, linked, with its run time, and the results."""
    items = "\n".join(
        f'<tr><td><a href="{html.escape(link)}">{html.escape(title)}</a></td>'
        f"<td>{html.escape(summary)}</td><td>{seconds:.0f} s</td></tr>"
        for link, title, summary, seconds in rows
    )
    dest.write_text(
        "<!doctype html><meta charset='utf-8'><title>vidlab course</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "td{padding:.3em .8em;vertical-align:top}</style>"
        "<h1>vidlab: video classification, hands-on</h1>"
        "<p>Executed on the quick profile (MotionShapes, CPU).</p>"
        "<table><tr><th>notebook</th><th>what it teaches</th><th>run time</th></tr>"
        f"{items}</table>"
        "<h2>Results on MotionShapes (motion labels, test split)</h2>"
        f"<pre>{html.escape(table)}</pre>",
        encoding="utf-8",
    )


def build(out: Path, folder: Path = NOTEBOOKS) -> int:
    """Execute and render every notebook of ``folder`` into ``out``; print a summary table.

    A notebook is rendered to HTML in a background thread while the next one runs:
    the exporter needs one core for a second or two, the kernel's start-up leaves one free.
    """
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    rows, failed = [], []
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as renderer:
        renderings = []
        for path in course_notebooks(folder):
            try:
                nb, seconds = execute(path)
            except Exception as error:  # report every failing notebook, then exit non-zero
                print(f"FAILED {path.name}: {type(error).__name__}: {str(error)[-2000:]}")
                failed.append(path.name)
                continue
            nbformat.write(nb, out / path.name)
            renderings.append(renderer.submit(render_html, nb, out / f"{path.stem}.html"))
            title, summary = title_and_summary(nb)
            rows.append((f"{path.stem}.html", title, summary, seconds))
        for rendering in renderings:
            rendering.result()  # re-raises an exporter's error here
    table = results.table(results.load("motion"))
    write_index(rows, table, out / "index.html")
    print(f"\n{table}")
    print(f"\n{'notebook':<28}{'time':>8}")
    for link, _, _, seconds in rows:
        print(f"{Path(link).stem:<28}{seconds:>7.0f}s")
    print(f"{'total':<28}{time.perf_counter() - start:>7.0f}s")
    print(f"\nOpen {out / 'index.html'}")
    return 1 if failed else 0


def refresh_outputs() -> int:
    """Re-execute every notebook in place (fresh kernel each) to refresh stored outputs."""
    import nbformat

    for path in course_notebooks():
        nb, seconds = execute(path)
        nbformat.write(nb, path)
        print(f"{path.name}: {seconds:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "outputs"])
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    args = parser.parse_args(argv)
    return build(args.out) if args.command == "build" else refresh_outputs()


if __name__ == "__main__":
    sys.exit(main())
