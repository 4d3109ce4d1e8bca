"""One webhook POST with retries: `post_json(client, url, payload, ...)` → `Delivery` (sent or not, attempts, why).

Retried: connect errors and timeouts before a reply, 429 (after its `Retry-After`), and 5xx; full-jitter exponential
backoff (`client.retry.RetryPolicy`), all within one total deadline. Not retried: any other status, a redirect (not
followed: a webhook that moves is a configuration to fix). httpx exceptions stay here; no message ever quotes the
URL (httpx names it in some), only the exception's kind or the status. The clock, sleep and rng are injected.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from runner.client.retry import RetryPolicy, parse_retry_after
from runner.model import JSONObject
from runner.sanitize import terminal_line
from runner.secret import Secret

DEFAULT_POLICY = RetryPolicy(base=0.5, cap=8.0, retry_after_cap=30.0, max_attempts=5, attempt_timeout=15.0,
                             request_deadline=60.0)
_MAX_DETAIL = 120  # characters of a refusal's body kept (Slack answers `invalid_blocks`, Teams a JSON error)


@dataclass(frozen=True, kw_only=True)
class Delivery:
    sent: bool
    attempts: int
    status: int | None  # the last HTTP status, None when no reply came
    detail: str  # one line, safe to print: "HTTP 200", "connection refused after 5 attempts", ...


def encode(payload: JSONObject) -> bytes:
    """The body sent: ASCII JSON (every non-ASCII character escaped), so it is valid whatever the data held."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def post_json(client: httpx.Client, url: Secret, payload: JSONObject, *, policy: RetryPolicy = DEFAULT_POLICY,
              clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
              rng: random.Random | None = None) -> Delivery:
    rng = rng or random.Random()  # noqa: S311  # jitter, not a secret
    body = encode(payload)
    deadline = clock() + policy.request_deadline
    attempts = 0
    while True:
        attempts += 1
        remaining = deadline - clock()
        timeout = httpx.Timeout(max(0.1, min(policy.attempt_timeout, remaining)))
        retry_after: float | None = None
        try:
            with client.stream("POST", url.reveal(), content=body, timeout=timeout,
                               headers={"Content-Type": "application/json"}) as reply:
                status = reply.status_code
                said = "" if 200 <= status < 300 else _said(reply)
                retry_header = reply.headers.get("Retry-After")
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            outcome = Delivery(sent=False, attempts=attempts, status=None, detail=_kind(error))
        except httpx.HTTPError as error:  # a read or write failure: the message may have arrived, so no resend
            return Delivery(sent=False, attempts=attempts, status=None, detail=f"{_kind(error)} (not retried)")
        except httpx.InvalidURL:  # not an HTTPError; its message quotes the URL
            return Delivery(sent=False, attempts=attempts, status=None, detail="httpx refused the URL as invalid")
        else:
            if 200 <= status < 300:
                return Delivery(sent=True, attempts=attempts, status=status, detail=f"HTTP {status}")
            outcome = Delivery(sent=False, attempts=attempts, status=status, detail=f"HTTP {status}{said}")
            if status != 429 and status < 500:
                return outcome
            retry_after = parse_retry_after(retry_header)
        wait = policy.wait(attempts, rng, retry_after)
        if attempts >= policy.max_attempts or clock() + wait >= deadline:
            why = "" if attempts >= policy.max_attempts else ", the deadline would pass before the next"
            return Delivery(sent=False, attempts=attempts, status=outcome.status,
                            detail=f"{outcome.detail} after {attempts} attempt(s){why}")
        sleep(wait)


def _kind(error: httpx.HTTPError) -> str:
    names: dict[type[httpx.HTTPError], str] = {
        httpx.ConnectError: "connection failed", httpx.ConnectTimeout: "connect timeout",
        httpx.PoolTimeout: "connect timeout", httpx.ReadTimeout: "read timeout", httpx.WriteTimeout: "write timeout",
        httpx.RemoteProtocolError: "the receiver broke the protocol"}
    return names.get(type(error), type(error).__name__)


def _said(reply: httpx.Response) -> str:
    """A refusal's first words (`: invalid_payload`): untrusted, one line, secrets redacted, cut short. Only the
    first few hundred bytes are read: a receiver's error page can be any size."""
    head = b""
    for chunk in reply.iter_bytes():
        head += chunk
        if len(head) >= _MAX_DETAIL * 4:
            break
    text = " ".join(terminal_line(head[:_MAX_DETAIL * 4].decode("utf-8", "replace")).split())[:_MAX_DETAIL]
    return f": {text}" if text else ""
