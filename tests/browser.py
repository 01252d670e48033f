"""A real browser for the tests: Debian's headless Chromium, driven by Playwright.

Test modules load these fixtures with ``pytest_plugins = ["browser"]``:

* ``chromium`` (session): the browser. Playwright drives the system's ``chromium`` (Debian's
  package, ``apt-get install -y chromium``); nothing downloads a browser. If it cannot start,
  the test fails with a message naming the missing package; it is never skipped.
* ``offline_context``: a fresh browser profile that reaches 127.0.0.1 and local files only.
  Every request for another host is refused, as in a lecture hall without a network, and
  recorded with everything else that went wrong in ``context.problems`` (:class:`Problems`).
* ``jupyter_lab`` (session): JupyterLab serving copies of the course's notebooks on
  127.0.0.1, on the quick profile, with its own settings (no news, no extension manager).

Test modules also import its helpers, so pytest cannot rewrite its asserts:
PYTEST_DONT_REWRITE (its asserts carry their own messages).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest
from PIL import Image, ImageChops

from vidlab.tools.course import course_notebooks

ROOT = Path(__file__).resolve().parent.parent
#: Where the screenshots go, for a person to look at.
SCREENSHOTS = ROOT / "build" / "screenshots"

#: The Debian package that ships the browser, and the command it installs.
CHROMIUM_PACKAGE = "chromium"
#: Flags that work as root in a container without a GPU (Playwright adds ``--headless`` and a
#: fresh ``--user-data-dir``); the last ones keep Chromium from calling home.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@dataclass
class Problems:
    """What went wrong in a browser context, in the words a person debugging it needs."""

    #: Uncaught JavaScript exceptions and ``console.error`` messages.
    errors: list[str] = field(default_factory=list)
    #: Local requests that failed or were answered with an HTTP error.
    failed: list[str] = field(default_factory=list)
    #: Requests for another host, refused because the network is off.
    refused: list[str] = field(default_factory=list)


def chromium_executable() -> str:
    """The system Chromium's path; fails the test, naming the package, when it is missing."""
    path = shutil.which(CHROMIUM_PACKAGE)
    if path is None:
        pytest.fail(
            f"No `{CHROMIUM_PACKAGE}` on PATH: the browser tests drive Debian's "
            f"`{CHROMIUM_PACKAGE}` package. Install it with `apt-get install -y "
            f"{CHROMIUM_PACKAGE}` (as .ci/run does; see the README).",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def chromium():
    """Headless Chromium, started once per test session."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.fail(
            "Playwright is not installed: it comes with the dev extra "
            '(`pip install -c constraints.txt -e ".[cpu,dev]"`, what `make` does).',
            pytrace=False,
        )
    executable = chromium_executable()
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        except Error as error:
            log = error.message.split("Call log:")[0].splitlines()
            said = [line.split("[err] ", 1)[1] for line in log if "[err] " in line]
            pytest.fail(
                f"{executable} did not start: {' / '.join(said[-5:]) or log[0]}. The browser "
                f"tests need Debian's `{CHROMIUM_PACKAGE}` package and the libraries it depends "
                f"on: `apt-get install -y {CHROMIUM_PACKAGE}`.",
                pytrace=False,
            )
        yield browser
        browser.close()


def is_local(url: str) -> bool:
    """True for a URL of this machine: a file, inline data, or a server on 127.0.0.1."""
    parsed = urlparse(url)
    return parsed.scheme in ("file", "data", "blob", "about") or parsed.hostname in LOCAL_HOSTS


def new_offline_context(browser, **options):
    """A fresh browser context with the network off; its problems are in ``.problems``."""
    context = browser.new_context(**options)
    problems = Problems()

    def refuse_remote(route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            problems.refused.append(route.request.url)
            route.abort("internetdisconnected")

    def on_console(message) -> None:
        # A failed load is reported, with its URL, as a failed or refused request.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.errors.append(f"console.error: {message.text}")

    def on_request_failed(request) -> None:
        if request.url not in problems.refused:
            problems.failed.append(f"{request.url}: {request.failure}")

    def on_response(response) -> None:
        if response.status >= 400:
            problems.failed.append(f"{response.url}: HTTP {response.status}")

    context.route("**/*", refuse_remote)
    context.on("console", on_console)
    context.on("weberror", lambda error: problems.errors.append(f"uncaught: {error.error}"))
    context.on("requestfailed", on_request_failed)
    context.on("response", on_response)
    context.problems = problems
    return context


def wait_until(page, condition: str, what: str, timeout: float = 30) -> None:
    """Wait until the JavaScript expression ``condition`` holds in ``page``; after ``timeout``
    seconds fail, saying ``what`` did not happen and what the browser reported meanwhile."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({condition})"):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:.0f} s on {page.url}; the "
                        f"browser reported {page.context.problems}", pytrace=False)
        time.sleep(0.2)


@pytest.fixture
def offline_context(chromium) -> Iterator:
    """A fresh browser profile without a network (see :func:`new_offline_context`)."""
    context = new_offline_context(chromium, viewport={"width": 1280, "height": 800})
    yield context
    context.close()


# --------------------------------------------------------------------------- pictures


def picture(locator, settle: float = 10) -> Image.Image:
    """A screenshot of what ``locator`` shows, once two in a row are the same (or after
    ``settle`` seconds): an image being replaced or a layout still moving is not photographed.
    """
    def shot() -> Image.Image:
        return Image.open(io.BytesIO(locator.screenshot(animations="disabled"))).convert("RGB")

    deadline = time.monotonic() + settle
    previous, current = None, shot()
    while (previous is None or not same_picture(previous, current)) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
        previous, current = current, shot()
    return current


def same_picture(first: Image.Image, second: Image.Image) -> bool:
    """True when two screenshots have the same size and the same pixels."""
    return first.size == second.size and ImageChops.difference(first, second).getbbox() is None


def wait_for_new_picture(locator, before: Image.Image, timeout: float = 60) -> Image.Image:
    """What ``locator`` shows once it differs from ``before``; fails after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = picture(locator, settle=2)
        if not same_picture(now, before):
            return now
        time.sleep(0.25)
    pytest.fail(f"what {locator} shows did not change within {timeout:.0f} s", pytrace=False)


def save_screenshot(image: Image.Image, name: str) -> Path:
    """Save ``image`` as ``build/screenshots/<name>.png`` and return the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    image.save(path)
    return path


# --------------------------------------------------------------------------- JupyterLab


@dataclass
class JupyterLab:
    """A running JupyterLab: where it listens, and the token it asks for."""

    url: str
    token: str

    def workspace_url(self, notebook: str) -> str:
        """The URL that opens ``notebook`` alone, in a fresh workspace of its own."""
        workspace = Path(notebook).stem
        return f"{self.url}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={self.token}"

    def api(self, method: str, path: str) -> bytes:
        """Call JupyterLab's REST API (``/api/...``) with the token."""
        headers = {"Authorization": f"token {self.token}"}
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


#: JupyterLab's user settings for the tests: no question about fetching news on start-up.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        '{"fetchNews": "false", "checkForUpdates": false}',
}


@pytest.fixture(scope="session")
def jupyter_lab(tmp_path_factory) -> Iterator[JupyterLab]:
    """JupyterLab on 127.0.0.1 serving copies of the course's notebooks (the originals, with
    their stored outputs, are never opened), with kernels on the quick profile.

    Kernels use the cache that ``VIDLAB_CACHE`` names, as the notebooks do; ``make browser``
    points it at the cache the nbval run just filled.
    """
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    root.mkdir()
    for notebook in course_notebooks():
        shutil.copy2(notebook, root / notebook.name)
    for name, text in LAB_SETTINGS.items():
        (home / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (home / "settings" / name).write_text(text)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, VIDLAB_PROFILE="quick", JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    log = home / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
        f"--port={port}", "--ServerApp.port_retries=0", f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={home / 'settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}", "--LabApp.extension_manager=readonly",
    ]
    with log.open("w") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    lab = JupyterLab(f"http://127.0.0.1:{port}", token)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{log.read_text()[-3000:]}", pytrace=False)
            try:
                lab.api("GET", "status")
                break
            except OSError:
                time.sleep(0.2)
        yield lab
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class LabNotebook:
    """One notebook in JupyterLab, in a browser profile of its own, as a student has it open.

    Parameters
    ----------
    browser : playwright.sync_api.Browser
        The browser (the ``chromium`` fixture).
    lab : JupyterLab
        The server (the ``jupyter_lab`` fixture).
    name : str
        The notebook's file name, e.g. ``"03_cnn_rnn.ipynb"``.
    """

    def __init__(self, browser, lab: JupyterLab, name: str):
        self.lab, self.name = lab, name
        self.context = new_offline_context(browser, viewport={"width": 1400, "height": 1000})
        self.problems: Problems = self.context.problems
        self.page = self.context.new_page()

    def run_all(self) -> None:
        """Open the notebook and choose Run → Run All Cells; return once its cells are queued
        (the kernel then runs them while the test goes on)."""
        self.page.goto(self.lab.workspace_url(self.name))
        # Run All acts once the notebook is loaded and its kernel has started.
        self.page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=120_000)
        self.page.get_by_role("menuitem", name="Run", exact=True).click()
        self.page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        # Every cell is queued at once ([*]); the last one shows [*] until it has run.
        self.wait_for(lambda: self.last_prompt() == "[*]:", 60, "Run All did not start")

    def prompts(self) -> list[str]:
        """The execution prompt of every code cell: ``[3]:``, ``[*]:`` while queued or running.

        (Text content, not inner text: JupyterLab does not render cells out of view.)
        """
        return self.page.locator(".jp-CodeCell .jp-InputPrompt").all_text_contents()

    def last_prompt(self) -> str:
        """The execution prompt of the last code cell."""
        return self.page.locator(".jp-CodeCell .jp-InputPrompt").last.text_content() or ""

    def wait_for(self, done, timeout: float, failure: str) -> None:
        """Poll ``done()`` every second; fail with ``failure`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name}: {failure} within {timeout:.0f} s: {self.prompts()}",
                            pytrace=False)
            time.sleep(1)

    def wait_until_run(self, timeout: float = 900) -> None:
        """Wait until every cell has run, and fail with its traceback if one raised (JupyterLab
        then stops, and the cells still queued lose their [*])."""
        self.wait_for(lambda: self.last_prompt() != "[*]:", timeout, "the cells did not run")
        assert self.tracebacks() == [], f"{self.name} raised:\n{self.tracebacks()[0]}"
        not_run = [p for p in self.prompts() if not p.strip(" []:").isdigit()]
        assert not_run == [], f"{self.name}: cells left unrun: {not_run}"

    def tracebacks(self) -> list[str]:
        """The text of every Python traceback shown in the notebook's outputs."""
        outputs = self.page.locator(".jp-OutputArea-output", has_text="Traceback (most recent")
        return outputs.all_text_contents()

    def logged_errors(self) -> list[str]:
        """What the kernel wrote to stderr or raised outside a cell, e.g. in a widget callback.

        JupyterLab shows these in its log console (View → Show Log Console), at level error.
        """
        self.page.get_by_role("menuitem", name="View", exact=True).click()
        self.page.get_by_role("menuitem", name="Show Log Console", exact=True).click()
        console = self.page.locator(".jp-LogConsolePanel")
        console.wait_for()
        error = self.page.locator(".jp-OutputArea-prompt[data-log-level='error']")
        return console.locator(".jp-OutputArea-child").filter(has=error).all_text_contents()

    def widget(self, label: str):
        """The outermost widget of the output that holds a control labelled ``label``."""
        control = self.page.locator(".widget-label", has_text=label)
        return self.page.locator(".jp-OutputArea-output > .jupyter-widgets").filter(has=control)

    def close(self) -> None:
        """Shut the notebook's kernel down and close its tab."""
        for session in json.loads(self.lab.api("GET", "sessions")):
            if session["path"] == self.name:
                self.lab.api("DELETE", f"sessions/{session['id']}")
        self.context.close()


def control(widget, kind: str, label: str):
    """The control of ``kind`` (``dropdown``, ``slider``...) labelled ``label`` in ``widget``."""
    return widget.locator(f".widget-{kind}").filter(
        has=widget.page.locator(".widget-label", has_text=label)
    )


def drag_slider(slider, fraction: float) -> str:
    """Drag a slider's handle with the mouse to ``fraction`` of its track; return the readout."""
    page = slider.page
    handle = slider.locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    grip, track = handle.bounding_box(), slider.locator(".noUi-base").bounding_box()
    y = grip["y"] + grip["height"] / 2
    page.mouse.move(grip["x"] + grip["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(track["x"] + fraction * track["width"], y, steps=8)
    page.mouse.up()
    return slider.locator(".widget-readout").inner_text()
