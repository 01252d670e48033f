"""Specification of vidlab.tools.slides: notebooks become offline reveal.js slides (`make slides`).

The rules are checked on small notebooks built here with nbformat; the export is checked on
the HTML it writes. Nothing is executed and nothing is fetched.
"""

from __future__ import annotations

import base64
import html
import io
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from PIL import Image

from vidlab.tools import slides

LONG_PLOT = "\n".join(
    ["fig, ax = plt.subplots()"] + [f"ax.plot(x, x ** {k})" for k in range(20)] + ["plt.show()"]
)
BOOTSTRAP = 'import sys\n\nif "google.colab" in sys.modules:\n    %pip install vidlab'
NOTES = "Point at the top curve: it is x to the power 19."


def png_output(width: int = 320, height: int = 240):
    """A display_data output holding a real PNG of the given size."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, format="PNG")
    data = {"image/png": base64.b64encode(buffer.getvalue()).decode(), "text/plain": "<Figure>"}
    return new_output("display_data", data=data)


def stream(text: str):
    return new_output("stream", name="stdout", text=text)


def progress_bar():
    data = {"application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2,
                                                          "version_minor": 0},
            "text/plain": "  0%|          | 0/10"}
    return new_output("display_data", data=data)


def demo_notebook():
    """Title, bootstrap, a section with a sub-heading, a long plot with notes, a short cell."""
    return new_notebook(cells=[
        new_markdown_cell(
            "# 01 · Demo\n\n[![Open In Colab](https://colab.research.google.com/assets/"
            "colab-badge.svg)](https://colab.research.google.com/github/o/r/blob/main/x.ipynb)"
            "\n\nWhat this deck is about."
        ),
        new_code_cell(BOOTSTRAP, metadata={"tags": ["nbval-skip"]}),
        new_markdown_cell("## 1. A section\n\nSome text.\n\n### A detail\n\nMore text."),
        new_code_cell(LONG_PLOT, outputs=[png_output()], metadata={"speaker_notes": NOTES}),
        new_code_cell("data = load()", outputs=[progress_bar(), stream("loaded 10 clips\n")]),
        new_code_cell('print("short")', outputs=[stream("short\n")]),
    ])


def kinds(nb) -> list[tuple[str, str]]:
    """(slide type, first line) of every cell."""
    return [(c.metadata.slideshow.slide_type, c.source.splitlines()[0] if c.source else "")
            for c in nb.cells]


def kind_of(nb, first_line: str) -> str:
    return dict((line, kind) for kind, line in kinds(nb))[first_line]


# --------------------------------------------------------------------------- slide rules


def test_the_title_and_sections_start_slides_and_subsections_start_subslides():
    """`#` and `##` headings start a slide, `###` a vertical sub-slide; other cells follow."""
    nb = slides.slide_metadata(demo_notebook())
    assert kind_of(nb, "# 01 · Demo") == "slide"
    assert kind_of(nb, "## 1. A section") == "slide"
    assert kind_of(nb, "### A detail") == "subslide"
    assert kind_of(nb, 'print("short")') == "-"


def test_markdown_cells_are_split_at_their_headings():
    """A cell holding a section and its sub-section becomes two cells, one per heading."""
    nb = slides.slide_metadata(demo_notebook())
    firsts = [line for _, line in kinds(nb)]
    assert firsts.index("### A detail") == firsts.index("## 1. A section") + 1


def test_headings_inside_fenced_code_do_not_split_a_cell():
    """A `# comment` in a code block of a solution is not a heading."""
    cell = new_markdown_cell("Solution:\n\n```python\n# a comment\nx = 1\n```\n\nDone.")
    assert slides.split_at_headings(cell) == [cell]


def test_the_colab_bootstrap_cell_is_skipped():
    """The cell nbval skips (pip on Colab) has no place on a slide."""
    nb = slides.slide_metadata(demo_notebook())
    assert kind_of(nb, "import sys") == "skip"


def test_long_plotting_code_is_hidden_and_short_code_is_kept():
    """A code cell longer than LONG_CODE_LINES whose output is a picture shows the picture only;
    short code, or long code without a picture, stays."""
    nb = slides.slide_metadata(demo_notebook())
    tagged = {c.source.splitlines()[0]: slides.HIDE_INPUT_TAG in c.metadata.get("tags", [])
              for c in nb.cells if c.cell_type == "code"}
    assert tagged == {"fig, ax = plt.subplots()": True, "data = load()": False,
                      'print("short")': False, "import sys": False}
    long_text_only = new_notebook(cells=[new_code_cell(LONG_PLOT, outputs=[stream("done\n")])])
    [cell] = slides.slide_metadata(long_text_only).cells
    assert slides.HIDE_INPUT_TAG not in cell.metadata.get("tags", [])


def test_speaker_notes_become_a_notes_cell_after_their_cell():
    """`metadata.speaker_notes` turns into a markdown cell of slide type "notes" right after."""
    nb = slides.slide_metadata(demo_notebook())
    index = next(i for i, c in enumerate(nb.cells) if c.source == LONG_PLOT)
    notes = nb.cells[index + 1]
    assert (notes.cell_type, notes.source) == ("markdown", NOTES)
    assert notes.metadata.slideshow.slide_type == "notes"
    assert "speaker_notes" not in nb.cells[index].metadata


def test_progress_bars_and_the_colab_badge_are_left_out():
    """Widgets need a live kernel, the badge a network: neither belongs on offline slides."""
    nb = slides.slide_metadata(demo_notebook())
    assert "colab-badge" not in nb.cells[0].source
    assert "What this deck is about." in nb.cells[0].source
    loaded = next(c for c in nb.cells if c.source == "data = load()")
    assert [o.output_type for o in loaded.outputs] == ["stream"]


def test_interactive_cells_whose_only_output_is_a_widget_are_skipped():
    """An explorer with sliders needs a live kernel; a static slide would show code only."""
    explorer = new_code_cell("display(widgets.IntSlider())", outputs=[progress_bar()])
    nb = slides.slide_metadata(new_notebook(cells=[new_markdown_cell("## Explore"), explorer]))
    assert [kind for kind, _ in kinds(nb)] == ["slide", "skip"]


def test_a_cell_that_would_overflow_the_slide_starts_a_subslide():
    """Under one heading, cells are stacked until the slide is full; the next one starts a
    sub-slide, taking its one-line lead-in paragraph along."""
    cells = [new_markdown_cell("## Results")]
    for k in range(3):
        cells += [new_markdown_cell(f"Figure {k}:"),
                  new_code_cell(f"plot({k})", outputs=[png_output(800, 400)])]
    nb = slides.slide_metadata(new_notebook(cells=cells))
    assert [kind for kind, _ in kinds(nb)] == [
        "slide", "-", "-", "subslide", "-", "subslide", "-"
    ]


def test_explicit_slideshow_metadata_wins_over_the_rules():
    """An author who set a slide type in Jupyter keeps it."""
    nb = demo_notebook()
    nb.cells[5].metadata["slideshow"] = {"slide_type": "fragment"}
    nb.cells[2].metadata["slideshow"] = {"slide_type": "subslide"}
    result = slides.slide_metadata(nb)
    assert kind_of(result, 'print("short")') == "fragment"
    assert kind_of(result, "## 1. A section") == "subslide"


def test_the_notebook_itself_is_not_changed():
    nb = demo_notebook()
    before = nbformat.writes(nb)
    slides.slide_metadata(nb)
    assert nbformat.writes(nb) == before


def test_the_estimated_height_of_a_picture_follows_its_png_size():
    """A picture twice as tall takes twice the lines, up to the tallest a slide shows."""
    small, tall = png_output(400, 140), png_output(400, 280)
    assert slides.output_lines(tall) == pytest.approx(2 * slides.output_lines(small))
    assert slides.output_lines(png_output(400, 4000)) == slides.PICTURE_LINES


# --------------------------------------------------------------------------- export


@pytest.fixture
def exported(tmp_path):
    """The HTML of the demo notebook's slides."""
    path = tmp_path / "01_demo.ipynb"
    nbformat.write(demo_notebook(), path)
    dest = slides.export(path, tmp_path / "slides")
    assert dest == tmp_path / "slides" / "01_demo.slides.html"
    return dest.read_text(encoding="utf-8")


def test_the_slides_load_reveal_js_and_mathjax_from_the_local_copy(exported):
    """Every script and style sheet comes from the folder: the slides open offline."""
    sources = re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]*)"', exported)
    assert f"{slides.REVEAL_DIR}/dist/reveal.js" in sources
    assert f"{slides.REVEAL_DIR}/plugin/notes/notes.js" in sources
    assert f"{slides.REVEAL_DIR}/dist/reveal.css" in sources
    assert any(s.startswith(f"{slides.MATHJAX_DIR}/MathJax.js") for s in sources)
    remote = [s for s in sources if re.match(r"(https?:)?//", s)]
    assert not remote, f"the slides fetch {remote}"
    assert "import mermaid" not in exported and "require(" not in exported


def test_the_slides_carry_the_speaker_notes(exported):
    """reveal.js shows an `<aside class="notes">` in the speaker view only."""
    asides = re.findall(r'<aside class="notes">(.*?)</aside>', exported, flags=re.DOTALL)
    assert len(asides) == 1 and "x to the power 19" in asides[0]


def slides_body(page: str) -> str:
    """The slides themselves: the page without its head (styles, scripts)."""
    return page[page.index('<div class="reveal">'):]


def shown_text(page: str) -> str:
    """What the slides display, without tags (code is highlighted token by token, so a line
    of code is only found once the tags are gone)."""
    return html.unescape(re.sub(r"<[^>]+>", "", slides_body(page)))


def test_the_slides_hide_the_code_of_a_long_plotting_cell_but_show_its_picture(exported):
    text = shown_text(exported)
    assert "ax.plot(x, x ** 19)" not in text
    assert slides_body(exported).count("data:image/png;base64,") == 1
    assert 'print("short")' in text and "data = load()" in text


def test_the_slides_leave_out_the_bootstrap_cell(exported):
    assert "google.colab" not in shown_text(exported)


# --------------------------------------------------------------------------- assets and build


def fake_assets(root):
    """Minimal stand-ins for the reveal.js and MathJax folders of the installed packages."""
    reveal, mathjax = root / "revealjs", root / "mathjax-static"
    for relative in ("dist/reveal.js", "dist/reveal.css", "dist/theme/white.css",
                     "plugin/notes/notes.js", "plugin/zoom/zoom.js", "LICENSE"):
        (reveal / relative).parent.mkdir(parents=True, exist_ok=True)
        (reveal / relative).write_text(relative)
    (mathjax / "config").mkdir(parents=True)
    (mathjax / "MathJax.js").write_text("mathjax")
    (mathjax / "config" / "Safe.js").write_text("safe")
    return reveal, mathjax


def test_copy_assets_puts_reveal_js_and_mathjax_next_to_the_slides(tmp_path):
    """The core, the themes, the notes plugin and MathJax land where the slides look for them."""
    reveal, mathjax = fake_assets(tmp_path)
    out = tmp_path / "slides"
    slides.copy_assets(out, reveal, mathjax)
    for relative in ("dist/reveal.js", "dist/reveal.css", "dist/theme/white.css",
                     "plugin/notes/notes.js", "LICENSE"):
        assert (out / slides.REVEAL_DIR / relative).is_file(), relative
    assert not (out / slides.REVEAL_DIR / "plugin" / "zoom").exists()
    assert (out / slides.MATHJAX_DIR / "MathJax.js").is_file()
    assert (out / slides.MATHJAX_DIR / "config" / "Safe.js").is_file()


def test_the_installed_packages_ship_the_files_the_slides_load():
    """sphinx-revealjs and jupyter-server-mathjax (dev extra) provide every referenced file."""
    reveal, mathjax = slides.reveal_source(), slides.mathjax_source()
    for relative in ("dist/reveal.js", "dist/reveal.css", "dist/theme/white.css",
                     "plugin/notes/notes.js"):
        assert (reveal / relative).is_file(), f"{relative} is missing from {reveal}"
    config = slides.MATHJAX_CONFIG.split(",")[0]
    assert (mathjax / "MathJax.js").is_file()
    assert (mathjax / "config" / f"{config}.js").is_file()


def test_a_missing_asset_package_says_how_to_install_it():
    with pytest.raises(slides.AssetsUnavailableError, match="dev extra"):
        slides.package_folder("no_such_package_for_slides")


def test_build_writes_every_deck_the_assets_and_an_index(tmp_path):
    """`make slides`: one deck per notebook, reveal.js and MathJax, and an index linking them."""
    notebooks = []
    for name in ("01_demo", "02_more"):
        nbformat.write(demo_notebook(), tmp_path / f"{name}.ipynb")
        notebooks.append(tmp_path / f"{name}.ipynb")
    reveal, mathjax = fake_assets(tmp_path)
    out = tmp_path / "build" / "slides"
    written = slides.build(out, notebooks, reveal, mathjax)
    assert [p.name for p in written] == ["01_demo.slides.html", "02_more.slides.html"]
    index = (out / "index.html").read_text()
    assert 'href="01_demo.slides.html"' in index and 'href="02_more.slides.html"' in index
    assert "01 · Demo" in index
    assert (out / slides.REVEAL_DIR / "dist" / "reveal.js").is_file()
