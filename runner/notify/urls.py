"""A target's webhook URL, read at send time from the variable or file vqr.yaml names, as a `Secret`.

`webhook_url(target, variables)` → `Secret`, registered with `SECRET_FILTER` so every sanitiser and log handler
redacts it; `UrlError` otherwise, whose message names where the URL was looked for, never what it is. Reads one
file at most.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from runner.model.notify import NotifyTarget
from runner.secret import SECRET_FILTER, Secret, SecretFilter

_MAX_URL_FILE_BYTES = 16 * 1024
_LOOPBACK_NAMES = frozenset({"localhost"})


class UrlError(Exception):
    """The URL is missing or unusable; the message is safe to print."""


def webhook_url(target: NotifyTarget, variables: Mapping[str, str], *,
                registry: SecretFilter = SECRET_FILTER) -> Secret:
    where = target.url_source
    if target.url_env is not None:
        raw = variables.get(target.url_env, "")
        if not raw.strip():
            raise UrlError(f"{where} is not set")
    elif target.url_file is not None:
        raw = _read(target)
    else:  # the schema requires one of them
        raise UrlError("no url_env or url_file")
    url = raw.strip()
    secret = Secret(url)
    registry.register(secret)  # before any check: nothing below may quote it, but a log line never will either
    _check(url, where)
    return secret


def _read(target: NotifyTarget) -> str:
    assert target.url_file is not None
    try:
        with target.url_file.open("rb") as handle:
            data = handle.read(_MAX_URL_FILE_BYTES + 1)
    except OSError as error:
        raise UrlError(f"cannot read {target.url_source}: {error.strerror or type(error).__name__}") from None
    if len(data) > _MAX_URL_FILE_BYTES:
        raise UrlError(f"{target.url_source} is larger than {_MAX_URL_FILE_BYTES} bytes: not a URL file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UrlError(f"{target.url_source} is not UTF-8 text") from None


def _check(url: str, where: str) -> None:
    if any(not "\x21" <= char <= "\x7e" for char in url):
        raise UrlError(f"the URL in {where} contains a space or a non-printable character")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  # raises ValueError on a bad port
    except ValueError:
        raise UrlError(f"the URL in {where} is not a valid URL") from None
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and _loopback(host):
        return  # a local receiver (tests, a sidecar relay): nothing crosses a network in clear text
    raise UrlError(f"the URL in {where} must be an https:// URL (http:// only to a loopback address)")


def _loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
