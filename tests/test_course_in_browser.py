"""Specification of the rendered course and the slides, opened in a real browser without a
network (headless Chromium, every request for another host refused).

The course is rendered from the notebooks' stored outputs with the code ``make run`` renders
with (``python -m vidlab.tools.course render``), the slides with ``make slides``'s, both into
``build/browser/``. A reader follows the index's links; a presenter opens each deck, moves
on with the space bar and presses ``s`` for the speaker view. Every picture must have
loaded, and the browser must have logged no error and no failed or refused request.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from browser import Problems, wait_until

from vidlab.tools import course, slides

pytest_plugins = ["browser"]
pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = course.course_notebooks()


@pytest.fixture(scope="module")
def site() -> Path:
    """``build/browser/``: the course rendered into ``course/``, the slides into ``slides/``."""
    out = ROOT / "build" / "browser"
    shutil.rmtree(out, ignore_errors=True)
    course.render(out / "course")
    slides.build(out / "slides")
    return out


def typeset(page) -> None:
    """Wait until MathJax has typeset the page (it loads its parts from files as it goes)."""
    wait_until(page, "window.MathJax && MathJax.isReady", "MathJax's start")
    page.evaluate("() => new Promise(done => MathJax.Hub.Queue(done))")


def broken_images(page) -> list[str]:
    """The pictures of ``page`` that did not load."""
    return page.locator("img").evaluate_all(
        "images => images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )


def first_speaker_note(notebook: Path) -> str:
    """The first words of the first speaker note of ``notebook`` (its cells' metadata)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    notes = next(c["metadata"]["speaker_notes"] for c in cells if "speaker_notes" in c["metadata"])
    return " ".join(notes.split()[:6])


def test_the_course_index_links_every_notebook_and_every_page_opens_offline(
        site, offline_context):
    index = (site / "course" / "index.html").as_uri()
    page = offline_context.new_page()
    page.goto(index)
    links = page.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert links == [f"{notebook.stem}.html" for notebook in NOTEBOOKS]

    for k, notebook in enumerate(NOTEBOOKS):
        page.goto(index)
        page.locator("a").nth(k).click()
        page.wait_for_load_state("load")
        typeset(page)
        assert page.url.endswith(f"/{notebook.stem}.html")
        assert page.locator("img").count() > 0  # its plots
        assert broken_images(page) == []
        assert page.get_by_text("Math Processing Error").count() == 0
        if notebook.stem.startswith("02"):
            assert page.locator(".MathJax").count() > 0  # the LSTM's equations, typeset

    assert offline_context.problems == Problems()


def test_every_deck_opens_offline_advances_and_opens_its_speaker_view(site, offline_context):
    index = (site / "slides" / "index.html").as_uri()
    page = offline_context.new_page()
    page.goto(index)
    links = page.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert links == [f"{notebook.stem}.slides.html" for notebook in NOTEBOOKS]

    for k, notebook in enumerate(NOTEBOOKS):
        page.goto(index)
        page.locator("a").nth(k).click()
        wait_until(page, "window.Reveal && Reveal.isReady()", "reveal.js's start")
        typeset(page)
        assert broken_images(page) == []
        slides_seen = [page.evaluate("Reveal.getIndices()")]
        while not page.evaluate("Reveal.getSlideNotes()"):  # on to the first slide with notes
            page.keyboard.press(" ")
            slides_seen.append(page.evaluate("Reveal.getIndices()"))
            assert slides_seen[-1] != slides_seen[-2], f"{notebook.stem}: space did not advance"

        with page.expect_popup() as opened:
            page.keyboard.press("s")
        speaker_view = opened.value
        notes = speaker_view.locator(".speaker-controls-notes .value")
        notes.filter(has_text=first_speaker_note(notebook)).wait_for(timeout=10_000)
        speaker_view.locator("#current-slide iframe").wait_for()
        speaker_view.close()

    assert offline_context.problems == Problems()
