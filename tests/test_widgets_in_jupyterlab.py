"""Specification of the notebooks' widgets, used as a student uses them: in JupyterLab, in a
real browser (headless Chromium), on the quick profile.

Each test opens its notebook, runs all its cells (Run → Run All Cells), changes every control
of the notebook's widget once with the mouse, and checks that what the widget shows changed
each time, that no Python traceback appeared (in a cell or, for a widget callback, in
JupyterLab's log console) and that the browser logged no JavaScript error. The widget is
photographed before and after, into ``build/screenshots/``.

Running a notebook retrains its models (30 to 90 s each), so two notebooks run at a time:
their kernels share the two cores, and a test starts the next selected notebook before it
waits for its own.
"""

from __future__ import annotations

import pytest
from browser import (
    LabNotebook,
    control,
    drag_slider,
    picture,
    save_screenshot,
    wait_for_new_picture,
)

pytest_plugins = ["browser"]
pytestmark = pytest.mark.browser

#: Notebooks whose kernels run at the same time.
PARALLEL = 2
#: The only request for another host a notebook makes: the Open-In-Colab badge of its title.
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


class Runner:
    """Notebooks open in JupyterLab, at most :data:`PARALLEL` of them running at once."""

    def __init__(self, browser, lab, queue: list[str]):
        self.browser, self.lab, self.queue = browser, lab, list(queue)
        self.open: dict[str, LabNotebook] = {}

    def start(self, name: str) -> None:
        if name not in self.open:
            self.open[name] = LabNotebook(self.browser, self.lab, name)
            self.open[name].run_all()
        if name in self.queue:
            self.queue.remove(name)

    def ready(self, name: str) -> LabNotebook:
        """``name`` with all its cells run; the next queued notebooks start meanwhile."""
        self.start(name)
        while self.queue and len(self.open) < PARALLEL:
            self.start(self.queue[0])
        notebook = self.open[name]
        notebook.wait_until_run()
        notebook.page.bring_to_front()
        return notebook

    def close(self, name: str) -> None:
        self.open.pop(name).close()


@pytest.fixture(scope="module")
def runner(chromium, jupyter_lab, request):
    """The notebooks of the selected tests, in the order the tests run."""
    queue = [item.callspec.params["notebook"] for item in request.session.items
             if hasattr(item, "callspec") and "notebook" in item.callspec.params]
    runner = Runner(chromium, jupyter_lab, queue)
    yield runner
    for name in list(runner.open):
        runner.close(name)


@pytest.fixture
def notebook(runner, request):
    """The notebook named by the test's parameter, all its cells run."""
    yield runner.ready(request.param)
    runner.close(request.param)


def assert_nothing_went_wrong(notebook: LabNotebook) -> None:
    assert notebook.tracebacks() == []
    assert notebook.logged_errors() == []
    assert notebook.problems.errors == []
    assert notebook.problems.failed == []
    assert set(notebook.problems.refused) <= {COLAB_BADGE}


@pytest.mark.parametrize("notebook", ["02_lstm_forecasting.ipynb"], indirect=True)
def test_the_training_explorer_trains_the_chosen_variant_on_the_chosen_series(notebook):
    explorer = notebook.widget("variant")
    result = explorer.locator(".widget-output")
    before = picture(explorer)
    save_screenshot(before, "02_lstm_forecasting-before")

    control(explorer, "dropdown", "variant").locator("select").select_option("stacked_lstm")
    control(explorer, "dropdown", "series").locator("select").select_option(
        label="toy 10, 20, ..., 90")
    assert int(drag_slider(control(explorer, "slider", "window"), 0.25)) in range(4, 8)
    assert drag_slider(control(explorer, "slider", "updates"), 0.0) == "50"
    assert result.locator("img").count() == 0
    explorer.get_by_role("button", name="Train").click()

    result.locator("img").wait_for(timeout=120_000)
    assert "forecast of the next value" in result.inner_text()  # the toy series was used
    after = wait_for_new_picture(explorer, before)
    save_screenshot(after, "02_lstm_forecasting-after")
    assert_nothing_went_wrong(notebook)


@pytest.mark.parametrize("notebook", ["03_cnn_rnn.ipynb"], indirect=True)
def test_the_player_redraws_the_prediction_for_the_chosen_video_and_frame(notebook):
    player = notebook.widget("test video")
    shown = player.locator("img.widget-image")
    frame = control(player, "slider", "frame")
    save_screenshot(picture(player), "03_cnn_rnn-before")

    before = picture(shown)
    control(player, "dropdown", "test video").locator("select").select_option(index=5)
    after_video = wait_for_new_picture(shown, before)

    assert int(drag_slider(frame, 0.3)) in range(3, 7)
    after_frame = wait_for_new_picture(shown, after_video)

    player.locator(".widget-play button:has(.fa-play)").click()
    wait_for_new_picture(shown, after_frame)
    last_frame = player.locator(".widget-readout", has_text="15")
    last_frame.wait_for(timeout=30_000)  # it plays on to the last frame, and stops there
    save_screenshot(picture(player), "03_cnn_rnn-after")
    assert_nothing_went_wrong(notebook)


@pytest.mark.parametrize("notebook", ["04_two_stream.ipynb"], indirect=True)
def test_the_stream_explorer_redraws_the_chosen_clip_and_frame(notebook):
    explorer = notebook.widget("test clip")
    shown = explorer.locator("img.widget-image")
    verdict = explorer.locator(".widget-html")
    save_screenshot(picture(explorer), "04_two_stream-before")

    before, verdict_before = picture(shown), verdict.inner_text()
    clips = control(explorer, "dropdown", "test clip").locator("select")
    # Options read "3: ClassName" (a no-break space after the colon in the browser).
    names = [text.split()[-1] for text in clips.locator("option").all_text_contents()]
    clips.select_option(index=next(i for i, name in enumerate(names) if name != names[0]))
    after_clip = wait_for_new_picture(shown, before)
    assert verdict.inner_text() != verdict_before  # the verdict is about the new clip

    assert drag_slider(control(explorer, "slider", "frame"), 0.0) == "0"
    wait_for_new_picture(shown, after_clip)
    save_screenshot(picture(explorer), "04_two_stream-after")
    assert_nothing_went_wrong(notebook)


@pytest.mark.parametrize("notebook", ["05_i3d.ipynb"], indirect=True)
def test_the_feature_map_browser_shows_the_chosen_time_step_and_channel(notebook):
    browser = notebook.widget("time step")
    shown = browser.locator("img.widget-image")
    save_screenshot(picture(browser), "05_i3d-before")

    before = picture(shown)
    assert drag_slider(control(browser, "slider", "time step"), 1.0) != "0"
    after_step = wait_for_new_picture(shown, before)

    control(browser, "dropdown", "channel").locator("select").select_option(index=7)
    wait_for_new_picture(shown, after_step)
    save_screenshot(picture(browser), "05_i3d-after")
    assert_nothing_went_wrong(notebook)
