"""Instructor slides: every notebook as reveal.js slides that open offline (``make slides``).

``python -m vidlab.tools.slides`` writes ``build/slides/``: one ``NN_name.slides.html`` per notebook
(nbconvert's reveal.js exporter), an ``index.html`` linking them, and next to them the
``reveal.js/`` and ``mathjax/`` files the slides load. Those are copied from installed packages
of the dev extra (sphinx-revealjs ships reveal.js, jupyter-server-mathjax ships MathJax 2), so
the slides open from the folder, or a copy of it, without a network.

How a notebook becomes slides (:func:`slide_metadata`, on a copy; the notebook is unchanged):

* markdown cells are split at their headings; a ``#`` or ``##`` heading starts a slide and a
  ``###`` heading a vertical sub-slide; a cell that would overflow the current slide starts a
  sub-slide of its own (the sizes are estimated from the text and the pictures);
* the Colab bootstrap cell (tagged ``nbval-skip``), the Colab badge, progress bars and the
  interactive cells whose only output is a widget (they need a live kernel) are left out;
* a long code cell (more than :data:`LONG_CODE_LINES` lines) whose point is a picture shows the
  picture only; other long code is folded into a scrolling box;
* a cell's ``speaker_notes`` metadata (a string) becomes the speaker notes of its slide (press
  ``s`` during the talk to open the speaker view).

A cell's own ``slideshow`` metadata, set in Jupyter, always wins over these rules.
"""

from __future__ import annotations

import argparse
import base64
import copy
import importlib.util
import io
import math
import re
import shutil
import sys
from pathlib import Path

import nbformat
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]

#: Tag of the Colab bootstrap cell (nbval skips it; the slides do too).
SKIP_TAG = "nbval-skip"
#: Tag that hides a cell's code on the slides only (nbconvert's TagRemovePreprocessor).
HIDE_INPUT_TAG = "hide-input-on-slides"
#: Code cells longer than this whose output is a picture show the picture only.
LONG_CODE_LINES = 12

#: Slide size in CSS pixels (16:9, as most projectors); reveal.js scales it to the screen.
SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720
#: Height of one line of slide text, and how many fit under a slide's margins.
LINE_PX = 28
SLIDE_LINES = 24
#: Characters per line of slide text before it wraps.
LINE_CHARS = 100
#: Tallest picture on a slide, in lines (the CSS below scales taller ones down to it).
PICTURE_LINES = 22

#: Where the copied assets go, relative to the slides.
REVEAL_DIR, MATHJAX_DIR = "reveal.js", "mathjax"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
#: How a page beside the ``mathjax/`` folder loads it.
MATHJAX_URL = f"{MATHJAX_DIR}/MathJax.js?config={MATHJAX_CONFIG}"
#: MathJax 2 as shipped by jupyter-server-mathjax has the STIX web fonts only, and a page that
#: loads it must ask for no other font file:
#:
#: * MathJax declares a font at ``about:blank`` to see when web fonts have loaded; Chromium
#:   refuses that request on a page opened from a file and logs an error, so that font is
#:   looked up locally instead (no request; it is missing either way, as MathJax expects);
#: * the hidden MathML that MathJax adds for screen readers would load MathJax's TeX fonts for
#:   some letters (``\mathcal``), which are not shipped; hidden, it needs no font of its own.
MATHJAX_SETUP = """<script>
window.MathJax = {"HTML-CSS": {availableFonts: ["STIX-Web"], preferredFont: "STIX-Web",
                               webFont: "STIX-Web", imageFont: null,
                               styles: {"@font-face": {"font-family": "MathJax_Blank",
                                                       src: "local('MathJax_Blank')"}}}};
</script>
<style>.MJX_Assistive_MathML * { font-family: inherit !important; }</style>"""

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_HEADING = re.compile(r"^(#{1,6}) \S")
_DETAILS = re.compile(r"<details>.*?</details>", flags=re.DOTALL)


class AssetsUnavailableError(RuntimeError):
    """reveal.js or MathJax is not installed (they come with the dev extra)."""


# --------------------------------------------------------------------------- cells


def heading_level(cell) -> int | None:
    """The level of the heading a markdown cell starts with (1 for ``#``), or None."""
    if cell.cell_type != "markdown":
        return None
    match = _HEADING.match(cell.source.lstrip())
    return len(match[1]) if match else None


def split_at_headings(cell) -> list:
    """A markdown cell cut before each of its headings (fenced code is left whole)."""
    if cell.cell_type != "markdown":
        return [cell]
    chunks, current, fenced = [], [], False
    for line in cell.source.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and _HEADING.match(line) and any(s.strip() for s in current):
            chunks.append(current)
            current = []
        current.append(line)
    chunks.append(current)
    if len(chunks) == 1:
        return [cell]
    parts = []
    for k, lines in enumerate(chunks):
        part = nbformat.v4.new_markdown_cell("\n".join(lines).strip("\n"),
                                             metadata=copy.deepcopy(cell.metadata),
                                             id=f"{cell.get('id', 'cell')}-{k}"[:64])
        if "attachments" in cell:
            part.attachments = copy.deepcopy(cell.attachments)
        parts.append(part)
    return parts


def has_picture(cell) -> bool:
    """True if a code cell's outputs include an image."""
    return any(
        key.startswith("image/")
        for output in cell.get("outputs", []) for key in output.get("data", {})
    )


def is_widget_only(output) -> bool:
    """True for an output that is a widget (a progress bar, a control) and nothing more useful."""
    return _WIDGET_VIEW in output.get("data", {})


def is_interactive(cell) -> bool:
    """True for a code cell whose every output is a widget: it only works with a live kernel."""
    outputs = cell.get("outputs", []) if cell.cell_type == "code" else []
    return bool(outputs) and all(is_widget_only(o) for o in outputs)


def without_colab_badge(source: str) -> str:
    """Markdown minus the line holding the Open-In-Colab badge (a remote image)."""
    lines = [line for line in source.splitlines() if "colab-badge.svg" not in line]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# --------------------------------------------------------------------------- sizes


def text_lines(text: str) -> int:
    """Lines ``text`` takes on a slide, long lines wrapped."""
    return sum(max(1, math.ceil(len(line) / LINE_CHARS)) for line in text.splitlines())


def png_size(data: str) -> tuple[int, int]:
    """(width, height) in pixels of a base64-encoded PNG (Pillow reads its header)."""
    with Image.open(io.BytesIO(base64.b64decode(data))) as image:
        return image.size


def picture_lines(output) -> float:
    """Lines a displayed picture takes, once scaled to the slide's width and height."""
    data = output.get("data", {})
    if "image/png" not in data:
        return PICTURE_LINES / 2
    width, height = png_size(data["image/png"])
    shown = height * min(1.0, (SLIDE_WIDTH - 80) / max(width, 1))
    return min(PICTURE_LINES, shown / LINE_PX)


def output_lines(output) -> float:
    """Lines one output takes on a slide."""
    if output["output_type"] == "stream":
        return text_lines(output["text"])
    if output["output_type"] == "error":
        return 6
    data = output.get("data", {})
    if any(key.startswith("image/") for key in data) or "text/html" in data:
        return picture_lines(output)
    return text_lines(data.get("text/plain", ""))


def estimated_lines(cell) -> float:
    """Lines a cell takes on a slide: its visible text, code and outputs."""
    if cell.cell_type == "markdown":
        return text_lines(_DETAILS.sub("Solution", cell.source))
    if cell.cell_type != "code":
        return 0
    hidden = HIDE_INPUT_TAG in cell.metadata.get("tags", [])
    code = 0 if hidden else min(LONG_CODE_LINES, len(cell.source.splitlines())) + 1
    return code + sum(output_lines(o) for o in cell.get("outputs", []))


# --------------------------------------------------------------------------- slide rules


def base_slide_type(cell) -> str:
    """The slide type of a cell by the heading and tag rules alone."""
    if SKIP_TAG in cell.metadata.get("tags", []) or is_interactive(cell):
        return "skip"
    level = heading_level(cell)
    if level in (1, 2):
        return "slide"
    if level == 3:
        return "subslide"
    return "-"


def hide_long_plotting_code(cell) -> None:
    """Tag a long code cell whose output is a picture so the slides show the picture only."""
    long = len(cell.source.splitlines()) > LONG_CODE_LINES
    if cell.cell_type == "code" and long and has_picture(cell):
        tags = cell.metadata.setdefault("tags", [])
        if HIDE_INPUT_TAG not in tags:
            tags.append(HIDE_INPUT_TAG)


def notes_cell(text: str, parent_id: str):
    """A markdown cell that reveal.js shows only in the speaker view."""
    return nbformat.v4.new_markdown_cell(
        text, metadata={"slideshow": {"slide_type": "notes"}}, id=f"{parent_id}-notes"[:64]
    )


def slide_types(cells: list) -> list[str]:
    """The slide type of every cell: its own ``slideshow`` metadata if set, else the heading
    and tag rules, with a sub-slide wherever the next cell would overflow the current one.

    A short lead-in paragraph moves to the new sub-slide with the cell it introduces.
    """
    kinds: list[str] = []
    used, lead_in = 0.0, None  # lines on the current slide; index of a movable lead-in
    for i, cell in enumerate(cells):
        explicit = cell.metadata.get("slideshow", {}).get("slide_type")
        kind = explicit or base_slide_type(cell)
        lines = estimated_lines(cell)
        if not explicit and kind == "-" and used > 0 and used + lines > SLIDE_LINES:
            if lead_in == i - 1 and used > estimated_lines(cells[lead_in]):
                kinds[lead_in] = "subslide"
                used = estimated_lines(cells[lead_in])
            else:
                kind, used = "subslide", 0.0
        if kind in ("slide", "subslide"):
            used = 0.0
        if kind not in ("skip", "notes"):
            used += lines
        movable = not explicit and kind == "-" and cell.cell_type == "markdown"
        lead_in = i if movable and lines <= 4 else None
        kinds.append(kind)
    return kinds


def assign_slide_types(cells: list) -> None:
    """Set ``metadata.slideshow.slide_type`` on every cell (see :func:`slide_types`)."""
    for cell, kind in zip(cells, slide_types(cells), strict=True):
        slideshow = {**cell.metadata.get("slideshow", {}), "slide_type": kind}
        cell.metadata["slideshow"] = nbformat.from_dict(slideshow)


def slide_metadata(nb):
    """A copy of ``nb`` ready for the slides exporter; ``nb`` itself is left unchanged.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A notebook, with its stored outputs.

    Returns
    -------
    nbformat.NotebookNode
        Markdown split at headings, every cell with ``metadata.slideshow.slide_type``, long
        plotting cells tagged :data:`HIDE_INPUT_TAG`, speaker notes as ``"notes"`` cells, and
        widgets and the Colab badge removed (the rules are in the module docstring).
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    cells = []
    for cell in nb.cells:
        notes = cell.metadata.pop("speaker_notes", None)
        if cell.cell_type == "markdown" and heading_level(cell) == 1:
            cell.source = without_colab_badge(cell.source)
        if cell.cell_type == "code" and not is_interactive(cell):
            cell.outputs = [o for o in cell.outputs if not is_widget_only(o)]
            hide_long_plotting_code(cell)
        cells.extend(split_at_headings(cell))
        if notes:
            cells.append(notes_cell(notes, cell.get("id", "cell")))
    assign_slide_types(cells)
    nb.cells = cells
    return nb


# --------------------------------------------------------------------------- export

#: nbconvert's reveal template, without what it would fetch from the web (jQuery, RequireJS,
#: Mermaid, the widget manager), loading reveal.js and its notes plugin from the local copy.
TEMPLATE = """{%- extends 'index.html.j2' -%}

{%- block html_head_js -%}
""" + MATHJAX_SETUP + """
{%- endblock html_head_js -%}

{% block jupyter_widgets %}{% endblock jupyter_widgets %}

{%- block html_head_css -%}
<style>
/* Readable from the back of the room: large text, slides that scroll rather than clip,
   long code folded into a scrolling box, pictures scaled to fit a slide. */
.reveal .slides section:not(.stack) { max-height: 100%; overflow-y: auto; }
.reveal .jp-InputArea-editor { max-height: 16em; overflow-y: auto; }
.reveal .jp-RenderedImage img { max-height: 620px; width: auto; }
.reveal aside.notes { display: none; }
</style>
{%- endblock html_head_css -%}

{% block footer_js %}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({
  controls: true,
  progress: true,
  history: true,
  center: false,
  transition: "{{ resources.reveal.transition }}",
  slideNumber: "{{ resources.reveal.number }}",
  width: {{ resources.reveal.width }},
  height: {{ resources.reveal.height }},
  plugins: [RevealNotes],
});
Reveal.on("slidechanged", function (event) {
  if (window.MathJax && window.MathJax.Hub) {
    MathJax.Hub.Queue(["Rerender", MathJax.Hub, event.currentSlide]);
  }
});
</script>
{% endblock footer_js %}
"""


def make_exporter():
    """nbconvert's SlidesExporter set up for offline, projector-sized slides."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = {HIDE_INPUT_TAG}
    return SlidesExporter(
        config=config,
        raw_template=TEMPLATE,
        reveal_url_prefix=REVEAL_DIR,
        reveal_theme="white",
        reveal_transition="fade",
        reveal_number="c/t",
        reveal_width=str(SLIDE_WIDTH),
        reveal_height=str(SLIDE_HEIGHT),
        mathjax_url=MATHJAX_URL,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def export(notebook_path: Path, out_dir: Path) -> Path:
    """Export one notebook, from its stored outputs, to reveal.js slides.

    Parameters
    ----------
    notebook_path : Path
        The ``.ipynb`` file.
    out_dir : Path
        Where the slides go (created if needed). They load reveal.js and MathJax from
        ``out_dir/reveal.js`` and ``out_dir/mathjax`` (see :func:`copy_assets`).

    Returns
    -------
    Path
        ``out_dir/<notebook stem>.slides.html``.
    """
    nb = nbformat.read(notebook_path, as_version=4)
    body, _ = make_exporter().from_notebook_node(
        slide_metadata(nb), resources={"metadata": {"name": notebook_path.stem}}
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / f"{notebook_path.stem}.slides.html"
    dest.write_text(body, encoding="utf-8")
    return dest


# --------------------------------------------------------------------------- assets


def package_folder(name: str) -> Path:
    """The folder of installed package ``name`` (found without importing it)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise AssetsUnavailableError(
            f"{name} is not installed; it ships the files the slides load offline. Install "
            'the dev extra: `pip install -c constraints.txt -e ".[cpu,dev]"` (what `make` does).'
        )
    return Path(next(iter(spec.submodule_search_locations)))


def reveal_source() -> Path:
    """reveal.js as shipped inside sphinx-revealjs (``dist/`` and ``plugin/``)."""
    return package_folder("sphinx_revealjs") / "_static" / "revealjs"


def mathjax_source() -> Path:
    """MathJax 2 as shipped by jupyter-server-mathjax (``MathJax.js``, ``config/`` ...)."""
    return package_folder("jupyter_server_mathjax") / "static"


def copy_assets(out_dir: Path, reveal: Path | None = None, mathjax: Path | None = None) -> None:
    """Copy reveal.js (core, themes, notes plugin) and MathJax next to the slides.

    Parameters
    ----------
    out_dir : Path
        The slides' folder; the files go to ``reveal.js/`` and ``mathjax/`` in it.
    reveal, mathjax : Path, optional
        Source folders; by default those of the installed packages (:func:`reveal_source`,
        :func:`mathjax_source`).
    """
    reveal = reveal_source() if reveal is None else reveal
    for part in ("dist", "plugin/notes", "LICENSE"):
        source, dest = reveal / part, out_dir / REVEAL_DIR / part
        if source.is_dir():
            shutil.copytree(source, dest, dirs_exist_ok=True)
        elif source.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
    copy_mathjax(out_dir, mathjax)


def copy_mathjax(out_dir: Path, mathjax: Path | None = None) -> None:
    """Copy MathJax to ``out_dir/mathjax``, where pages that load :data:`MATHJAX_URL` find it
    (default source: the installed package, :func:`mathjax_source`)."""
    mathjax = mathjax_source() if mathjax is None else mathjax
    shutil.copytree(mathjax, out_dir / MATHJAX_DIR, dirs_exist_ok=True)


def build(out_dir: Path, notebooks: list[Path] | None = None, reveal: Path | None = None,
          mathjax: Path | None = None) -> list[Path]:
    """Export every notebook to ``out_dir``, with the assets and an index (``make slides``).

    Parameters
    ----------
    out_dir : Path
        The slides' folder, e.g. ``build/slides``.
    notebooks : list of Path, optional
        Default: every numbered notebook of the course.
    reveal, mathjax : Path, optional
        Asset sources, as in :func:`copy_assets`.

    Returns
    -------
    list of Path
        The ``.slides.html`` files written, in order.
    """
    from vidlab.tools.course import course_notebooks, title_and_summary, write_index

    notebooks = course_notebooks() if notebooks is None else notebooks
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_assets(out_dir, reveal, mathjax)
    decks, rows = [], []
    for path in notebooks:
        title, summary = title_and_summary(nbformat.read(path, as_version=4))
        decks.append(export(path, out_dir))
        rows.append((decks[-1].name, title, summary, ""))
    write_index(out_dir / "index.html", "vidlab: video classification, hands-on (slides)",
                "Arrow keys move between slides, s opens the speaker notes, f goes full "
                "screen, Esc shows the overview.", rows)
    return decks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    args = parser.parse_args(argv)
    for path in build(args.out):
        print(path)
    print(f"\nOpen {args.out / 'index.html'} (works offline; copy the whole folder to move it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
