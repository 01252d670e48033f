"""Run and render the notebooks: ``python -m vidlab.tools.course build|render|outputs``.

* ``build`` (``make run``): runs every notebook in ``notebooks/`` in a fresh
  kernel, in order, and writes ``build/`` -- each executed notebook and its HTML
  rendering, plus ``index.html`` linking them with their execution times.
* ``render``: the same pages from the notebooks' stored outputs, in seconds; nothing is
  executed (the run-time column is left empty).
* ``outputs`` (``make outputs``): re-executes every notebook *in place*, so the
  stored outputs nbval checks always come from one fresh, complete run.

The pages open without a network: MathJax is copied beside them (``mathjax/``), and
nothing is loaded from the web (no RequireJS, no widget manager: a widget needs a running
kernel anyway, so the pages leave widgets out, and no Open-In-Colab badge).

C-level stderr (TensorFlow's absl/oneDNN start-up lines) is captured by the
kernel when run this way but not under pytest; it is stripped from what is
stored so that stored outputs and nbval see the same thing.  Progress bars are
stored as they ended (:func:`finish_progress_bars`), not as they began.
"""

from __future__ import annotations

import argparse
import ast
import copy
import html
import json
import re
import sys
import time
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

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def course_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The numbered notebooks of the course, in order."""
    return sorted(p for p in folder.glob("[0-9]*.ipynb"))


def strip_stderr(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop stderr stream outputs from every code cell."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
            ]
    return nb


def finish_progress_bars(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Give every stored tqdm progress bar the text of its last state.

    In a notebook a tqdm bar is a widget: an ``HBox`` of a label, a progress bar and the
    counts.  Its ``text/plain``, which pages without widgets show (GitHub, the slides),
    is what it read when it appeared, 0%; the widget state that the notebook's metadata
    keeps holds its last one.  That state is written back into the text, in tqdm's own
    layout: ``desc: 100%|██████████| 576/576 [00:01<00:00, 410.20it/s]``.
    """
    state = nb.metadata.get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})

    def model(reference: str) -> dict:
        return state.get(reference.removeprefix("IPY_MODEL_"), {})

    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            view = output.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            box = model(view["model_id"]) if view else {}
            children = [model(c) for c in box.get("state", {}).get("children", [])]
            if [c.get("model_name") for c in children] != [
                    "HTMLModel", "FloatProgressModel", "HTMLModel"]:
                continue
            label, bar, counts = (c["state"] for c in children)
            done = round(10 * bar["value"] / bar["max"]) if bar.get("max") else 10
            text = f"{label['value']}|{'█' * done}{' ' * (10 - done)}|{counts['value']}"
            output["data"]["text/plain"] = html.unescape(text).replace("\u2007", " ")
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
    return finish_progress_bars(strip_stderr(nb)), time.perf_counter() - start


def definitions(path: Path, *names: str, **namespace) -> dict:
    """Define ``names`` exactly as the code cells of notebook ``path`` write them.

    Tests and benchmarks build the models a notebook writes on the page from the
    notebook itself, so the package's plumbing is checked against the lesson and
    never against a copy of it (d2l's pattern).  Only the top-level ``def`` and
    ``class`` statements of those names run, in the notebook's order; the rest of
    their cells (training, printing) does not.

    Parameters
    ----------
    path : Path
        The ``.ipynb`` file.
    *names : str
        The functions and classes wanted.
    **namespace
        The globals they read (``keras``, ``np``, the notebook's parameters, ...).

    Returns
    -------
    dict
        ``namespace``, with the definitions added.

    Raises
    ------
    LookupError
        If no code cell of the notebook defines one of ``names``.
    """
    wanted = set(names)
    for cell in json.loads(Path(path).read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if not any(re.search(rf"^(?:def|class) {re.escape(name)}\b", source, re.MULTILINE)
                   for name in wanted):
            continue
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in wanted:
                exec(compile(ast.Module([node], []), f"{Path(path).name}: {node.name}", "exec"),
                     namespace)
                wanted.discard(node.name)
    if wanted:
        raise LookupError(f"no code cell of {Path(path).name} defines {sorted(wanted)}")
    return namespace

def title_and_summary(nb: nbformat.NotebookNode) -> tuple[str, str]:
    """The notebook's ``# title`` and the first sentence after it."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            lines = cell.source.strip().splitlines()
            rest = " ".join(line for line in lines[1:] if line and not line.startswith(("[", "<")))
            return lines[0][2:].strip(), rest.split(". ")[0].strip().rstrip(".") + "."
    return "(untitled)", ""


def render_html(nb: nbformat.NotebookNode, dest: Path) -> None:
    """Write ``nb`` as a standalone HTML page that opens offline (MathJax from ``mathjax/``
    beside it, see :func:`copy_assets`; no widgets, no Colab badge)."""
    from nbconvert import HTMLExporter

    from vidlab.tools import slides

    template = (
        "{%- extends 'index.html.j2' -%}\n"
        "{%- block html_head_js -%}" + slides.MATHJAX_SETUP + "{%- endblock html_head_js -%}\n"
        "{% block jupyter_widgets %}{% endblock jupyter_widgets %}\n"
    )
    page = copy.deepcopy(nb)
    page.metadata.pop("widgets", None)
    for cell in page.cells:
        if slides.heading_level(cell) == 1:
            cell.source = slides.without_colab_badge(cell.source)
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not slides.is_widget_only(o)]
    exporter = HTMLExporter(raw_template=template, mathjax_url=slides.MATHJAX_URL)
    body, _ = exporter.from_notebook_node(page)
    dest.write_text(body, encoding="utf-8")


def copy_assets(out: Path) -> None:
    """Copy MathJax beside the pages (from the dev extra's jupyter-server-mathjax)."""
    from vidlab.tools import slides

    slides.copy_mathjax(out)


def write_index(dest: Path, heading: str, intro: str, rows: list[tuple[str, str, str, str]],
                appendix: str = "") -> Path:
    """Write an ``index.html`` of the course's pages (``make run``) or slides (``make slides``).

    Parameters
    ----------
    dest : Path
        The ``index.html`` to write.
    heading, intro : str
        The page's title and one line under it (plain text).
    rows : list of (link, title, summary, note)
        One row per notebook: its page, its title, what it teaches, and a short note
        (its run time, or nothing).
    appendix : str
        HTML added after the table (the course's results).

    Returns
    -------
    Path
        ``dest``.
    """
    items = "\n".join(
        f'<tr><td><a href="{html.escape(link)}">{html.escape(title)}</a></td>'
        f"<td>{html.escape(summary)}</td><td>{html.escape(note)}</td></tr>"
        for link, title, summary, note in rows
    )
    dest.write_text(
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(heading)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "td{padding:.3em .8em;vertical-align:top}</style>"
        f"<h1>{html.escape(heading)}</h1><p>{html.escape(intro)}</p>"
        f"<table>{items}</table>{appendix}",
        encoding="utf-8",
    )
    return dest


def _write_course_index(out: Path, rows: list[tuple[str, str, str, float | None]]) -> str:
    """The course's ``index.html``: every notebook with its run time, then the results table."""
    table = results.table(results.load("motion"))
    write_index(out / "index.html", "vidlab: video classification, hands-on",
                "Executed on the quick profile (MotionShapes, CPU).",
                [(link, title, summary, "" if seconds is None else f"{seconds:.0f} s")
                 for link, title, summary, seconds in rows],
                "<h2>Results on MotionShapes (motion labels, test split)</h2>"
                f"<pre>{html.escape(table)}</pre>")
    return table


def build(out: Path, folder: Path = NOTEBOOKS) -> int:
    """Execute and render every notebook of ``folder`` into ``out``; print a summary table.

    A notebook is rendered to HTML in a background thread while the next one runs:
    the exporter needs one core for a second or two, the kernel's start-up leaves one free.
    """
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
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
    table = _write_course_index(out, rows)
    print(f"\n{table}")
    print(f"\n{'notebook':<28}{'time':>8}")
    for link, _, _, seconds in rows:
        print(f"{Path(link).stem:<28}{seconds:>7.0f}s")
    print(f"{'total':<28}{time.perf_counter() - start:>7.0f}s")
    print(f"\nOpen {out / 'index.html'}")
    return 1 if failed else 0


def render(out: Path, folder: Path = NOTEBOOKS) -> None:
    """Render every notebook of ``folder`` into ``out`` from its stored outputs, as
    :func:`build` renders what it ran (nothing is executed), with the assets and the index."""
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    rows = []
    for path in course_notebooks(folder):
        nb = nbformat.read(path, as_version=4)
        render_html(nb, out / f"{path.stem}.html")
        rows.append((f"{path.stem}.html", *title_and_summary(nb), None))
    _write_course_index(out, rows)


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
    parser.add_argument("command", choices=["build", "render", "outputs"])
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    args = parser.parse_args(argv)
    if args.command == "render":
        render(args.out)
        print(f"Open {args.out / 'index.html'}")
        return 0
    return build(args.out) if args.command == "build" else refresh_outputs()


if __name__ == "__main__":
    sys.exit(main())
