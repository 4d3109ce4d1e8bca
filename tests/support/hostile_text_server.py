"""A hostile Veza on 127.0.0.1 (stdlib `http.server` in a thread) whose every text field attacks the outputs: escape
sequences that retitle and clear a terminal, `\\n::error::` workflow commands, and the API key it received echoed
back in 2xx replies (job errors, status words, page tokens, `x-request-id`, a row's value). Row keys are CSV
formulas and the colliding pair `"a.b"` / `{"a": {"b"}}`.

Which attack a query meets is chosen by the node type of its spec (`ATTACKS`). Serves until the context exits.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from runner.client import endpoints

# Retitles the terminal (OSC 0 ... BEL), clears it (CSI 2J), then starts a line with a workflow command; C1 CSI too.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\n::error::injected\r\n::warning file=x::\x9b31m"
REFUSE_CHECK = "/refuse-check"  # a base URL ending so gets its connection check refused
FORMULA_HEADER = "=HYPERLINK(\"http://evil\",\"x\")"

ATTACKS = {
    "OktaUser": "refused",  # a 400 whose message holds the escapes and the key
    "OktaGroup": "job-error",  # 2xx: the job ends FAILED with an error echoing the key; x-request-id echoes it too
    "AwsIamUser": "rows",  # 2xx: two pages, the page token echoing the key; formula and colliding row keys
    "AwsIamRole": "status-word",  # 2xx: a page read answers with a status word made of the key and escapes
    "S3Bucket": "html-5xx",  # a 501 with an HTML body holding the escapes and the key
}


class _Handler(BaseHTTPRequestHandler):
    server: HostileServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _reply(self, status: int, body: Any, *, html: bool = False, request_id: str | None = None) -> None:
        data = body.encode() if html else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "text/html" if html else "application/json")
        self.send_header("content-length", str(len(data)))
        if request_id is not None:
            # Header values cannot carry control characters on the wire: the key alone.
            self.send_header("x-request-id", request_id)
        self.end_headers()
        self.wfile.write(data)

    def _key(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ")

    def do_GET(self) -> None:
        if self.path.startswith(REFUSE_CHECK):  # the connection check itself refused, hostilely
            self._reply(400, {"code": "InvalidArgument", "message": f"no {HOSTILE} {self._key()}", "details": []})
            return
        self._reply(200, {"values": [], "has_more": False, "next_page_token": None}, request_id=f"req-{self._key()}")

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        key = self._key()
        if self.path == endpoints.NODES_ASYNC_CREATE:
            self._submit(body, key)
        elif self.path == endpoints.NODES_ASYNC_GET:
            self._read(body, key)
        else:
            self._reply(404, {"code": "NotFound", "message": "no such path"})

    def _submit(self, body: dict[str, Any], key: str) -> None:
        attack = ATTACKS.get(_node_type(body), "rows")
        if attack == "refused":
            self._reply(400, {"code": "InvalidArgument", "message": f"bad spec {HOSTILE} {key}", "request_id": "r1",
                              "details": []})
            return
        if attack == "html-5xx":
            self._reply(501, f"<html><title>{HOSTILE}</title><body>{key}</body></html>", html=True)
            return
        qid = f"qr-{attack}"
        self._reply(200, {"query_result_id": qid, "cache_id": f"cache-{attack}", "last_completed_cache_id": ""},
                    request_id=f"submit-{key}")

    def _read(self, body: dict[str, Any], key: str) -> None:
        attack = str(body["query_result_id"]).removeprefix("qr-")
        token = str(body.get("page_token") or "")
        if attack == "job-error":
            self._reply(200, {"status": "FAILED", "error": {"message": f"job broke {HOSTILE} {key}"}},
                        request_id=f"poll-{key}")
            return
        if attack == "status-word" and token:
            self._reply(200, {"status": f"{key}{HOSTILE}", "values": [], "has_more": False},
                        request_id=f"page-{key}")
            return
        first = not token
        rows: list[Any] = ([{"id": "u1", "a.b": "flat", "a": {"b": "nested"}, FORMULA_HEADER: "=1+1",
                             "name": f"name {HOSTILE}", "note": f"echoed {key}"}] if first
                           else [{"id": "u2", "a.b": "flat2"}])
        self._reply(200, {"status": "DONE", "progress_status": {"row_count": "2"}, "values": rows, "path_values": [],
                          "next_page_token": f"{key}-page2" if first else "", "has_more": first},
                    request_id=f"page-{key}")


def _node_type(body: dict[str, Any]) -> str:
    (inner,) = body.values()
    spec = inner.get("request", {}).get("body", {}) if isinstance(inner, dict) else {}
    try:
        return str(spec["source_node_types"]["nodes"][0]["node_type"])
    except (KeyError, IndexError, TypeError):
        return ""


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True


@contextlib.contextmanager
def hostile_text_server() -> Iterator[str]:
    """Serve on a free port of 127.0.0.1; yields the base URL."""
    server = HostileServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
