"""Fault injection for the sandbox: a seeded plan of faults per API request, and the ASGI layer that applies them.

`FaultPlan.draw()` consumes the same amount of randomness for every request whatever the rates, so one seed and one
request sequence replay the same faults. 429, 5xx and connection resets strike before the request is processed;
a slow reply is processed first and delayed afterwards; empty pages and failed jobs are left to the handlers. With
`html_gateway_errors`, injected 502 and 504 replies are a proxy's HTML page instead of Veza's JSON error body.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from runner.sandbox.config import SandboxConfig
from runner.sandbox.wire import ApiError, error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_SERVER_ERRORS: tuple[tuple[int, str, str], ...] = (
    (500, "Internal", "internal error (injected by the sandbox)"),
    (502, "Unavailable", "bad gateway (injected by the sandbox)"),
    (503, "Unavailable", "service unavailable (injected by the sandbox)"),
    (504, "DeadlineExceeded", "deadline exceeded (injected by the sandbox)"),
)


@dataclass(frozen=True, kw_only=True)
class FaultDraw:
    """The faults one request meets. At most one of reset, throttle and server_error is set."""

    reset: bool = False
    throttle: bool = False
    server_error: int | None = None  # the HTTP status to fail with
    slow: bool = False
    empty_page: bool = False
    job_fail: bool = False


NO_FAULTS = FaultDraw()


class FaultPlan:
    """Draws each request's faults from `random.Random(fault_seed)`; `restart()` replays from the beginning."""

    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        # Replayable, not secret: the same seed must give the same faults.
        self._rng = random.Random(config.fault_seed)  # noqa: S311

    def restart(self) -> None:
        self._rng = random.Random(self._config.fault_seed)  # noqa: S311

    def draw(self) -> FaultDraw:
        c = self._config
        u_reset, u_429, u_5xx, u_kind, u_slow, u_empty, u_job = (self._rng.random() for _ in range(7))
        reset = u_reset < c.reset_rate
        throttle = not reset and u_429 < c.fail_rate_429
        failing = not reset and not throttle and u_5xx < c.fail_rate_5xx
        return FaultDraw(reset=reset, throttle=throttle,
                         server_error=_SERVER_ERRORS[int(u_kind * len(_SERVER_ERRORS))][0] if failing else None,
                         slow=u_slow < c.slow_rate, empty_page=u_empty < c.empty_page_rate,
                         job_fail=u_job < c.fail_rate_job)


def faults_of(scope: Scope) -> FaultDraw:
    """The faults drawn for this request (none outside the API paths)."""
    draw = scope.get("state", {}).get("faults", NO_FAULTS)
    assert isinstance(draw, FaultDraw)
    return draw


async def send_error(send: Send, error: ApiError, request_id: str) -> None:
    body = json.dumps(error_body(error, request_id)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# What a proxy in front of Veza answers for 502/504 (veza-api.md §6): a page, not Veza's JSON. Fixed text.
_GATEWAY_PAGE = ("<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}"
                 "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
_GATEWAY_REASONS = {502: "Bad Gateway", 504: "Gateway Time-out"}


async def _send_gateway_page(send: Send, status: int) -> None:
    body = _GATEWAY_PAGE.format(status=status, reason=_GATEWAY_REASONS[status]).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _reset_connection(transport: Any) -> bool:
    """Drop the connection with a TCP RST and no reply; False when the server gives no access to the transport."""
    if transport is None or not hasattr(transport, "abort"):
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger 0 turns the close into an RST, which is what a client sees when a middlebox drops a connection.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Let the server see the connection is lost before the request cycle ends, so it does not try to reply.
    for _ in range(3):
        await asyncio.sleep(0)
    return True


class FaultMiddleware:
    """Applies a `FaultPlan` to every request under `/api/`. Expects `scope["state"]` to hold `request_id` and
    `transport` (set by the outermost layer, which sees the server's own `send`)."""

    def __init__(self, app: ASGIApp, *, plan: FaultPlan, config: SandboxConfig,
                 on_fault: Callable[[str], None]) -> None:
        self._app = app
        self._plan = plan
        self._config = config
        self._on_fault = on_fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self._app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        draw = self._plan.draw()
        state["faults"] = draw
        request_id = str(state.get("request_id", ""))
        if draw.reset:
            self._on_fault("reset")
            if await _reset_connection(state.get("transport")):
                return
            # Without the transport (another ASGI server) the nearest thing is a reply-less gateway error.
            await send_error(send, ApiError("Unavailable", "connection reset (injected by the sandbox)"), request_id)
            return
        if draw.throttle:
            self._on_fault("429")
            await send_error(send, ApiError("ResourceExhausted", "too many requests (injected by the sandbox)",
                                             headers={"Retry-After": str(self._config.retry_after)}), request_id)
            return
        if draw.server_error is not None:
            status, code, message = next(e for e in _SERVER_ERRORS if e[0] == draw.server_error)
            self._on_fault(str(status))
            if self._config.html_gateway_errors and status in _GATEWAY_REASONS:
                await _send_gateway_page(send, status)
                return
            await send_error(send, ApiError(code, message, status=status), request_id)
            return
        if draw.slow:
            self._on_fault("slow")
            await self._app(scope, receive, self._delayed(send))
            return
        await self._app(scope, receive, send)

    def _delayed(self, send: Send) -> Send:
        delay = self._config.slow_seconds
        started = False

        async def send_later(message: Message) -> None:
            nonlocal started
            if not started:
                started = True
                await asyncio.sleep(delay)
            await send(message)

        return send_later
