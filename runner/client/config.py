"""How to reach one tenant: the frozen `ClientConfig` (with the `ApiProtocol` of vqr.yaml's `api:` section), the URL
check (the key never travels over plain http to another machine) and the TLS context (a private CA adds trust, it
never disables verification). No network I/O.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path

import certifi
import httpx

from runner.client.decode import DEFAULT_MAX_REPLY_BYTES
from runner.client.retry import PollLadder, RetryPolicy
from runner.errors import UsageError
from runner.model.protocol import ApiProtocol
from runner.secret import Secret

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})  # the only hosts plain http may reach


@dataclass(frozen=True, kw_only=True)
class ClientConfig:
    """How to reach one tenant. `max_connections` must be at least the run's concurrency (the engine sees to it)."""

    base_url: str
    api_key: Secret
    ca_bundle: Path | None = None
    max_connections: int = 16
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    write_timeout: float = 30.0
    pool_timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll_ladder: PollLadder = field(default_factory=PollLadder)
    protocol: ApiProtocol = field(default_factory=ApiProtocol)  # poll path, status words, paging [assumed]
    use_env_proxies: bool = True  # HTTPS_PROXY and friends; never for loopback URLs
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES  # one reply (one page) held in memory at most

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.max_reply_bytes < 1 or min(
                self.connect_timeout, self.read_timeout, self.write_timeout, self.pool_timeout) <= 0:
            raise ValueError("max_connections, max_reply_bytes and every timeout must be positive")


def checked_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise UsageError(f"the Veza URL must be https://<tenant host>: {error}") from None
    if parsed.userinfo:
        # Never echoed: a password in a URL is a secret. The key goes in a header; httpx would refuse both anyway.
        raise UsageError(f"the Veza URL must not hold a user or password (https://<user>@{parsed.host}...): the API "
                         "key comes from VEZA_API_KEY or the environment's api_key_env")
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UsageError(f"the Veza URL must be https://<tenant host>, got {url!r}")
    if parsed.scheme == "http" and parsed.host not in LOOPBACK:
        # The key travels in a header: plain HTTP is only acceptable to this machine (the embedded sandbox).
        raise UsageError(f"refusing to send the API key over plain http to {parsed.host}: use https://")
    return url.rstrip("/")


def tls_context(ca_bundle: Path) -> ssl.SSLContext:
    """System roots plus certifi's plus the private CA: a private CA adds trust, it never disables verification."""
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=certifi.where())
    try:
        context.load_verify_locations(cafile=str(ca_bundle))
    except (OSError, ssl.SSLError) as error:
        raise UsageError(f"cannot load the CA bundle {ca_bundle}: {error}") from None
    return context
