"""A hostile Veza: a real threaded HTTP server on 127.0.0.1 (port 0) whose reply per path is scripted by the test.

Unscripted requests get a tiny honest Veza (connection check, submit, poll with two rows per query), so a whole
`vqr run` can go through it while one scripted reply attacks: deep nesting, an endless body, a lying
Content-Length, invalid UTF-8, NaN, a slow answer, a proxy's HTML page. The honest part can also be a tenant that
differs from the defaults of vqr.yaml's `api:` (`Tenant`: another poll path, other status words, paging in the query
string). Use the `hostile_server` fixture, or `HostileServer()` as a context manager; it never outlives its test
(endless bodies stop when the server does).
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from runner.client import endpoints

Handler = BaseHTTPRequestHandler


class Behaviour:
    """How to answer one request; `served` counts the body bytes written (to show a client stopped reading)."""

    served: int = 0

    def answer(self, handler: Handler, stop: threading.Event) -> None:
        raise NotImplementedError


@dataclass
class Raw(Behaviour):
    """`body` as is. `content_length` overrides the header (a lie, when larger than the body: the connection then
    closes early)."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_length: int | None = None
    content_type: str = "application/json"

    def answer(self, handler: Handler, stop: threading.Event) -> None:
        length = len(self.body) if self.content_length is None else self.content_length
        handler.send_response(self.status)
        handler.send_header("content-type", self.content_type)
        handler.send_header("content-length", str(length))
        for name, value in self.headers.items():
            handler.send_header(name, value)
        if length != len(self.body):
            handler.send_header("connection", "close")
            handler.close_connection = True
        handler.end_headers()
        try:
            handler.wfile.write(self.body)
        except OSError:  # the client refused the body (its Content-Length) and hung up
            handler.close_connection = True
            return
        self.served += len(self.body)


@dataclass
class Endless(Behaviour):
    """`head`, then `chunk` repeated until the client hangs up or the server stops (chunked transfer encoding), or
    until `limit` bytes when given (a large but finite reply)."""

    chunk: bytes = b"[" * 65536
    head: bytes = b""
    status: int = 200
    limit: int | None = None
    tail: bytes = b""

    def answer(self, handler: Handler, stop: threading.Event) -> None:
        handler.send_response(self.status)
        handler.send_header("content-type", "application/json")
        handler.send_header("transfer-encoding", "chunked")
        handler.end_headers()
        try:
            self._send(handler, self.head)
            while not stop.is_set() and (self.limit is None or self.served < self.limit):
                self._send(handler, self.chunk)
            self._send(handler, self.tail)
            handler.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client hung up: what a capped client must do
            handler.close_connection = True

    def _send(self, handler: Handler, data: bytes) -> None:
        if data:
            handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.served += len(data)


@dataclass
class Slow(Behaviour):
    """Wait `delay` seconds (or until the server stops), then answer like `then`."""

    delay: float
    then: Behaviour

    def answer(self, handler: Handler, stop: threading.Event) -> None:
        if not stop.wait(self.delay):
            self.then.answer(handler, stop)


@dataclass
class InTurn(Behaviour):
    """Each request gets the next behaviour; the last one answers every request after that."""

    behaviours: list[Behaviour]
    answered: int = 0

    def answer(self, handler: Handler, stop: threading.Event) -> None:
        behaviour = self.behaviours[min(self.answered, len(self.behaviours) - 1)]
        self.answered += 1
        behaviour.answer(handler, stop)


def json_reply(value: Any, status: int = 200) -> Raw:
    return Raw(json.dumps(value).encode(), status=status)


def proxy_page(status: int, title: str = "502 Bad Gateway") -> Raw:
    """What a proxy or load balancer in front of a tenant sends: an HTML page, not Veza's JSON (veza-api.md §6)."""
    page = (f"<!DOCTYPE html>\n<html>\n<head><title>{title}</title></head>\n<body>\n<center><h1>{title}</h1></center>"
            "\n<hr><center>nginx</center>\n<script>alert(1)</script>\n</body>\n</html>\n")
    return Raw(page.encode(), status=status, content_type="text/html")


def veza_error(status: int, code: str, message: str, *, resolution: str | None = None,
               violations: tuple[tuple[str, str], ...] = (), request_id: str = "req-7") -> Raw:
    """Veza's error body as its SDK's tests show it: a BadRequest and a UserFacingErrorInfo side by side."""
    details: list[dict[str, Any]] = []
    if violations:
        details.append({"@type": "type.googleapis.com/google.rpc.BadRequest",
                        "field_violations": [{"field": f, "description": d} for f, d in violations]})
    if resolution is not None:
        details.append({"@type": "type.googleapis.com/errorstatus.v1.UserFacingErrorInfo",
                        "reason": "INVALID_ARGUMENTS", "metadata": {}, "message": message, "resolution": resolution})
    return json_reply({"code": code, "message": message, "request_id": request_id,
                       "timestamp": "2026-05-01T12:00:00.405153171Z", "details": details}, status=status)


def deep_nesting(depth: int, opener: bytes = b"[") -> Raw:
    """A reply of `depth` nested arrays (or objects with `opener=b'{"a":'`), closed properly."""
    closer = b"]" if opener == b"[" else b"}"
    return Raw(b'{"status": "DONE", "values": [' + opener * depth + b"1" + closer * depth + b"]}")


def done_page(rows: list[Any]) -> dict[str, Any]:
    return {"status": "DONE", "progress_status": {"row_count": str(len(rows))}, "values": rows,
            "has_more": False, "next_page_token": None}


_NODE_TYPE = re.compile(rb'"node_type"\s*:\s*"([^"]+)"')


def query_result_id(node_type: str) -> str:
    """The id the honest part gives a submit of `node_type`: scripts key a query's poll on it."""
    return f"qr-{node_type}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up (what a capped client does) is expected; anything else is printed as usual."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


@dataclass(frozen=True, kw_only=True)
class Tenant:
    """How the honest part speaks the async poll: where it answers, which status word a finished job has, and where
    it reads `page_size`/`page_token` (it ignores them anywhere else, as Veza's `query_spec:nodes` ignores body
    paging). `rows` per query, served `page_size` at a time, `default_page_size` when it found none."""

    poll_path: str = endpoints.NODES_ASYNC_GET
    done_word: str = "DONE"
    paging: str = "body"  # or "query"
    rows: int = 2
    default_page_size: int = 1


@dataclass(frozen=True, kw_only=True)
class Seen:
    """One request as it arrived: the path without its query string, the query string's values, the body."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes


class HostileServer:
    """`on(path, behaviour, when=b"...", times=n)` scripts the replies to `path` (only requests whose body contains
    `when`, if given; only the first `n` of them, if given, then the next script or the honest part answers); the
    newest script that matches wins. `requests` keeps every request as `Seen`."""

    def __init__(self, tenant: Tenant | None = None) -> None:
        self.tenant = tenant or Tenant()
        self._scripts: list[tuple[str, bytes | None, list[int | None], Behaviour]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.requests: list[Seen] = []
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = _Server(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def on(self, path: str, behaviour: Behaviour, *, when: bytes | None = None, times: int | None = None) -> Behaviour:
        self._scripts.append((path, when, [times], behaviour))
        return behaviour

    def on_poll(self, node_type: str, behaviour: Behaviour) -> Behaviour:
        """Script every poll of the query over `node_type`."""
        return self.on(self.tenant.poll_path, behaviour, when=query_result_id(node_type).encode())

    def polls(self) -> list[Seen]:
        return [seen for seen in self.requests if seen.path == self.tenant.poll_path]

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    def _handle(self, handler: Handler) -> None:
        path, _, query = handler.path.partition("?")
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        seen = Seen(method=handler.command, path=path, query=parse_qs(query, keep_blank_values=True), body=body)
        self.requests.append(seen)
        with self._lock:  # handler threads run at once: a `times` count is taken by one request only
            chosen = next((behaviour for script_path, when, left, behaviour in reversed(self._scripts)
                           if script_path == path and (when is None or when in body) and _take(left)), None)
        (chosen or _honest(self.tenant, seen)).answer(handler, self._stop)


def _take(left: list[int | None]) -> bool:
    if left[0] is None:
        return True
    if left[0] == 0:
        return False
    left[0] -= 1
    return True


def _honest(tenant: Tenant, seen: Seen) -> Behaviour:
    if seen.path == endpoints.CONNECTION_CHECK:
        return json_reply({"values": [], "has_more": False})
    if seen.path == endpoints.NODES_ASYNC_CREATE:
        found = _NODE_TYPE.search(seen.body)
        node_type = found.group(1).decode() if found else "unknown"
        return json_reply({"query_result_id": query_result_id(node_type), "cache_id": f"cache-{node_type}"})
    if seen.path == tenant.poll_path:
        body = json.loads(seen.body)
        qr = str(body.get("query_result_id", ""))
        paging = {k: v[0] for k, v in seen.query.items()} if tenant.paging == "query" else body
        start = int(str(paging.get("page_token") or "0"))
        size = int(str(paging.get("page_size") or tenant.default_page_size))
        rows = [{"id": f"{qr}-{i}", "type": "Node"} for i in range(1, tenant.rows + 1)][start:start + size]
        more = start + size < tenant.rows
        return json_reply({**done_page(rows), "status": tenant.done_word, "has_more": more,
                           "next_page_token": str(start + size) if more else "",
                           "progress_status": {"row_count": str(tenant.rows)}})
    return json_reply({"code": "NotFound", "message": f"no route {seen.path}"}, status=404)


@pytest.fixture
def hostile_server() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll `condition` until true or `timeout` seconds pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()
