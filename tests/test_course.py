"""Specification of vidlab.tools.course: `make run` runs the notebooks in order and renders them."""

import re

import nbformat
import pytest

from vidlab.tools import course


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """An empty notebook folder, and a cache of its own for what notebooks record."""
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path / "cache"))
    (tmp_path / "notebooks").mkdir()
    return tmp_path / "notebooks"


def write_notebook(path, title, code):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nIt teaches {title.lower()}. More."),
                nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)


def test_build_executes_every_notebook_in_order_and_renders_each_one(folder, tmp_path, capsys):
    write_notebook(folder / "02_second.ipynb", "Second", "print('second ran')")
    write_notebook(folder / "01_first.ipynb", "First", "print(6 * 7)")
    (folder / "scratch.ipynb").write_text("not a course notebook: never run")

    assert course.build(tmp_path / "build", folder) == 0

    executed = nbformat.read(tmp_path / "build" / "01_first.ipynb", as_version=4)
    assert executed.cells[1].outputs[0]["text"] == "42\n"
    for stem in ("01_first", "02_second"):
        assert "It teaches" in (tmp_path / "build" / f"{stem}.html").read_text()
    index = (tmp_path / "build" / "index.html").read_text()
    assert index.index("01_first.html") < index.index("02_second.html")
    printed = capsys.readouterr().out
    assert printed.index("01_first") < printed.index("02_second") < printed.index("total")


def test_a_failing_notebook_is_reported_and_the_others_still_rendered(folder, tmp_path, capsys):
    write_notebook(folder / "01_broken.ipynb", "Broken", "raise RuntimeError('on purpose')")
    write_notebook(folder / "02_fine.ipynb", "Fine", "print('fine')")

    assert course.build(tmp_path / "build", folder) == 1

    assert "FAILED 01_broken.ipynb" in capsys.readouterr().out
    assert (tmp_path / "build" / "02_fine.html").is_file()
    assert not (tmp_path / "build" / "01_broken.html").exists()


def test_stored_progress_bars_read_as_they_ended(folder):
    """A tqdm widget's text is stored at 100%, not at the 0% it showed when it appeared."""
    path = folder / "01_bars.ipynb"
    write_notebook(path, "Bars", "from tqdm.auto import tqdm\n\n"
                                 "for _ in tqdm(range(3), desc='Counting'):\n    pass")

    nb, _ = course.execute(path)

    texts = [o["data"]["text/plain"] for o in nb.cells[1].outputs if "data" in o]
    assert len(texts) == 1
    assert texts[0].startswith("Counting: 100%|██████████| 3/3 [")


def test_nbval_compares_a_bar_as_it_began_with_the_bar_as_it_ended():
    """The sanitizer masks what differs between the two (percentage, bar, count), only that."""
    import re
    from pathlib import Path

    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns(
        (Path(__file__).resolve().parent.parent / "nbval_sanitize.cfg").read_text())

    def sanitize(text):
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    began = "Counting:   0%|          | 0/576 [00:00<?, ?it/s]"
    ended = "Counting: 100%|██████████| 576/576 [00:01<00:00, 410.20it/s]"
    assert sanitize(began) == sanitize(ended) == "Counting: PROGRESS/576 [TIME]"
    assert sanitize(ended.replace("Counting", "Decoding")) != sanitize(ended)
    assert sanitize(ended.replace("/576", "/575")) != sanitize(ended)


def test_definitions_defines_the_names_as_the_cells_write_them_and_runs_nothing_else(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("raise RuntimeError('never run')"),
                nbformat.v4.new_code_cell("def double(x):\n    return FACTOR * x\n\n\n"
                                          "print(double(UNDEFINED))"),
                nbformat.v4.new_markdown_cell("def triple(x): prose, not code"),
                nbformat.v4.new_code_cell("class Box:\n    pass\n\n\nmade = Box()")]
    path = tmp_path / "defs.ipynb"
    nbformat.write(nb, path)

    found = course.definitions(path, "double", "Box", FACTOR=2)

    assert found["double"](21) == 42
    assert isinstance(found["Box"](), found["Box"])
    assert "made" not in found  # the rest of a defining cell does not run
    with pytest.raises(LookupError, match="triple"):
        course.definitions(path, "triple")


def test_render_shows_the_stored_outputs_without_running_anything(folder, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Stored\n\nIt teaches storing. More."),
        nbformat.v4.new_code_cell("raise RuntimeError('never run')", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="printed when it was run\n")]),
    ]
    nbformat.write(nb, folder / "01_stored.ipynb")

    course.render(tmp_path / "site", folder)

    assert "printed when it was run" in (tmp_path / "site" / "01_stored.html").read_text()
    assert "01_stored.html" in (tmp_path / "site" / "index.html").read_text()
    assert (tmp_path / "site" / "mathjax" / "MathJax.js").is_file()  # the pages open offline


def test_a_page_loads_nothing_from_the_web(folder, tmp_path):
    badge = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
             "(https://colab.research.google.com/github/o/r/blob/main/01_first.ipynb)")
    nb = nbformat.v4.new_notebook(metadata={"widgets": {"state": {}}})
    nb.cells = [nbformat.v4.new_markdown_cell(f"# First\n\n{badge}\n\nIt teaches $x^2$.")]

    course.render_html(nb, tmp_path / "page.html")

    page = (tmp_path / "page.html").read_text()
    assert re.findall(r'<(?:script|link|img)[^>]*(?:src|href)="https?://', page) == []
    assert 'src="mathjax/MathJax.js' in page
