"""A local HTTP server in a thread, serving bytes from memory: the tests' stand-in for a data set mirror.

It can honour or ignore ``Range`` requests, cut a response short once (a dropped
connection), and records every request so a test can assert what the client asked.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Served:
    """What the server holds and how it behaves; mutable between requests."""

    files: dict[str, bytes] = field(default_factory=dict)
    ranges: bool = True  # honour Range requests with 206
    cut_once: dict[str, int] = field(default_factory=dict)  # path -> bytes sent before the first GET is cut
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # (method, path, Range header)
    base: str = ""

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def gets(self, path: str) -> list[str | None]:
        """The Range header of every GET of ``path`` (None: no Range)."""
        return [rng for method, got, rng in self.requests if method == "GET" and got == "/" + path.lstrip("/")]


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002  # quiet in test output
            pass

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            rng = self.headers.get("Range")
            served.requests.append((self.command, self.path, rng))
            data = served.files.get(self.path)
            if data is None:
                self.send_error(404, "Not Found")
                return
            start = 0
            match = re.fullmatch(r"bytes=(\d+)-", rng or "")
            if body and match and served.ranges:
                start = int(match.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            if not body:
                return
            payload = data[start:]
            cut = served.cut_once.pop(self.path, None)
            if cut is not None:
                self.wfile.write(payload[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(payload)

    return Handler


@contextmanager
def serving(served: Served) -> Iterator[Served]:
    """Run the server on a free local port for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
