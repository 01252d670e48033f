"""A local HTTP file server for the download tests, with switches to misbehave.

Test modules load the ``http_server`` fixture with ``pytest_plugins = ["http_server"]``.
The server listens on 127.0.0.1 on an ephemeral port and serves the bytes in
``server.files`` (URL path -> content).  It answers ``Range`` requests with
``206 Partial Content`` like a real file host, and can be told to:

* ``ignore_range = True``: answer every request with the whole file and ``200``;
* ``drop_after = K``: send only the first K body bytes of the next response,
  then close the connection (once);
* ``fail[path] = status``: answer that path with an error status (404, 500...).

``server.requests`` records ``(path, range_header)`` of every request.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass
class FakeServer:
    """What the tests control and observe; ``base_url`` is set once the server listens."""

    base_url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)
    ignore_range: bool = False
    drop_after: int | None = None
    requests: list[tuple[str, str | None]] = field(default_factory=list)

    def url(self, path: str) -> str:
        """The full URL of ``path`` (which starts with ``/``)."""
        return self.base_url + path

    def count(self, path: str) -> int:
        """How many requests asked for ``path``."""
        return sum(1 for requested, _ in self.requests if requested == path)


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """``(first, last)`` of a single ``Range`` header, or None if unsatisfiable."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix range: the last N bytes
        return (max(size - int(last), 0), size - 1) if int(last) and size else None
    last_byte = size - 1 if last == "" else min(int(last), size - 1)
    return (int(first), last_byte) if int(first) <= last_byte else None


class _Handler(BaseHTTPRequestHandler):
    state: FakeServer  # set on the subclass made per server

    def do_GET(self) -> None:
        state = self.state
        range_header = self.headers.get("Range")
        state.requests.append((self.path, range_header))
        if self.path in state.fail:
            self.send_error(state.fail[self.path])
            return
        if self.path not in state.files:
            self.send_error(404)
            return
        body = state.files[self.path]
        if range_header and not state.ignore_range:
            self._send_range(body, range_header)
        else:
            self._send(200, body, {})

    def _send_range(self, body: bytes, header: str) -> None:
        span = _byte_range(header, len(body))
        if span is None:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(body)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        first, last = span
        content_range = f"bytes {first}-{last}/{len(body)}"
        self._send(206, body[first : last + 1], {"Content-Range": content_range})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        limit = self.state.drop_after
        if limit is not None:
            self.state.drop_after = None
            body = body[:limit]
            self.close_connection = True
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def http_server() -> Iterator[FakeServer]:
    """A running :class:`FakeServer`, shut down after the test."""
    state = FakeServer()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
