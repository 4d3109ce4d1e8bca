"""A webhook receiver for the notification tests: a threading `http.server` on 127.0.0.1 that answers each POST
with the next scripted status (then 200) and keeps every request it got; `dead_url()` is a closed port."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    script: list[tuple[int, dict[str, str]]]
    requests: list[Received] = field(default_factory=list)

    @property
    def delivered(self) -> list[Received]:
        """The requests answered 2xx: the messages a channel would show."""
        return [r for r in self.requests if 200 <= r.status < 300]


@contextlib.contextmanager
def receiver(script: Sequence[int | tuple[int, dict[str, str]]] = (), path: str = "/hooks/T0/B0/s3cr3t-token"
             ) -> Iterator[Receiver]:
    """Serve until the block ends; `script` gives the first answers (a status, or a status and headers)."""
    steps = [(s, {}) if isinstance(s, int) else s for s in script]
    lock = threading.Lock()
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                state = box[0]
                status, headers = state.script.pop(0) if state.script else (200, {})
                state.requests.append(Received(path=self.path, headers=dict(self.headers.items()), body=body,
                                               status=status))
            reply = b"ok" if status < 300 else b"server_error <b>nope</b>"
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows stderr of failures
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.append(Receiver(url=f"http://127.0.0.1:{server.server_address[1]}{path}", script=steps))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def dead_url(path: str = "/hooks/dead/s3cr3t-token") -> str:
    """A URL on a port nothing listens on (bound, then closed: the kernel refuses connections to it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
