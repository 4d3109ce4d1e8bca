"""Veza's JSON conventions for the sandbox: error bodies and HTTP codes, int64/duration/enum conversions, page tokens,
and the parsing of a `nodes_async_create` body into a typed `CreateRequest`.

Pure functions and values, no I/O (veza-api.md §1, §3, §5, §6). Problems in a request raise `ApiError`, which the
app turns into Veza's error body `{code, message, request_id, timestamp, details}`.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from runner.protojson import EFFECTIVE_PERMISSION_NAMES, ENUM_NAMES, normalise

# gRPC gateway mapping of error codes to HTTP statuses (veza-api.md §6).
HTTP_STATUS: dict[str, int] = {
    "InvalidArgument": 400, "FailedPrecondition": 400, "OutOfRange": 400, "Unauthenticated": 401,
    "PermissionDenied": 403, "NotFound": 404, "AlreadyExists": 409, "Aborted": 409, "ResourceExhausted": 429,
    "Internal": 500, "Unknown": 500, "Unimplemented": 501, "Unavailable": 503, "DeadlineExceeded": 504,
}
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
USER_FACING_TYPE = "type.googleapis.com/errorstatus.v1.UserFacingErrorInfo"
# UserFacingErrorInfo reasons: INVALID_ARGUMENTS, NOT_FOUND and INTERNAL are seen in the SDK's tests; the rest follow
# their pattern [assumed].
REASONS: dict[str, str] = {
    "InvalidArgument": "INVALID_ARGUMENTS", "FailedPrecondition": "INVALID_ARGUMENTS",
    "OutOfRange": "INVALID_ARGUMENTS",
    "NotFound": "NOT_FOUND", "Internal": "INTERNAL", "Unknown": "INTERNAL", "Unauthenticated": "UNAUTHENTICATED",
    "PermissionDenied": "PERMISSION_DENIED", "AlreadyExists": "ALREADY_EXISTS", "Aborted": "ABORTED",
    "ResourceExhausted": "RESOURCE_EXHAUSTED", "Unimplemented": "UNIMPLEMENTED", "Unavailable": "UNAVAILABLE",
    "DeadlineExceeded": "DEADLINE_EXCEEDED",
}
# What a user can do about each kind of refusal, when the error names nothing more specific.
RESOLUTIONS: dict[str, str] = {
    "InvalidArgument": "Correct the fields listed in the field violations and send the request again.",
    "NotFound": "Check the identifier; ids of cached results expire, so submit the query again to get new ones.",
    "Unauthenticated": "Send a valid API key in the header `Authorization: Bearer <key>`.",
    "PermissionDenied": "Use an API key whose role may call this endpoint.",
    "ResourceExhausted": "Wait for the number of seconds in Retry-After, then send the request again.",
    "Unimplemented": "Check the method and path against the API reference.",
    "Unavailable": "Retry in a moment; if it keeps failing, contact support with the request_id.",
    "DeadlineExceeded": "Retry in a moment, or narrow the query; if it keeps failing, contact support with the "
                        "request_id.",
}
DEFAULT_RESOLUTION = "Retry later; if the error persists, contact support with the request_id."

_DURATION = re.compile(r"^(\d+(?:\.\d{1,9})?)s$")
_INT64 = re.compile(r"^-?\d{1,19}$")


class ApiError(Exception):
    """A request the sandbox refuses, as Veza would: a gRPC code, a message, `details`, extra reply headers."""

    def __init__(self, code: str, message: str, *, details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None, status: int | None = None,
                 resolution: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}
        self.status = status or HTTP_STATUS.get(code, 500)
        self.resolution = resolution or RESOLUTIONS.get(code, DEFAULT_RESOLUTION)


def field_violations(violations: list[tuple[str, str]]) -> dict[str, Any]:
    """A `google.rpc.BadRequest` detail listing `(field, description)` pairs."""
    return {"@type": BAD_REQUEST_TYPE,
            "field_violations": [{"field": name, "description": text} for name, text in violations]}


def invalid_argument(field: str, description: str, *, message: str | None = None,
                     resolution: str | None = None) -> ApiError:
    return ApiError("InvalidArgument", message or f"invalid {field}: {description}",
                    details=[field_violations([(field, description)])], resolution=resolution)


def user_facing(error: ApiError) -> dict[str, Any]:
    """The `errorstatus.v1.UserFacingErrorInfo` detail: a reason word, string metadata, the message, a resolution."""
    metadata: dict[str, str] = {"code": error.code}
    for detail in error.details:
        violations = detail.get("field_violations") if detail.get("@type") == BAD_REQUEST_TYPE else None
        if violations:
            metadata["field"] = str(violations[0].get("field", ""))
            break
    return {"@type": USER_FACING_TYPE, "reason": REASONS.get(error.code, "INTERNAL"), "metadata": metadata,
            "message": error.message, "resolution": error.resolution}


def rfc3339_now() -> str:
    """UTC now with nanoseconds, the way Veza writes timestamps: `2022-08-05T21:12:29.405153171Z`."""
    ns = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 1_000_000_000)) + f".{ns % 1_000_000_000:09d}Z"


def new_request_id() -> str:
    return secrets.token_hex(16)


def error_body(error: ApiError, request_id: str) -> dict[str, Any]:
    """Veza's error body: the BadRequest detail (when a field is at fault), then the UserFacingErrorInfo."""
    details = [detail for detail in error.details if detail.get("@type") != USER_FACING_TYPE]
    return {"code": error.code, "message": error.message, "request_id": request_id, "timestamp": rfc3339_now(),
            "details": [*details, user_facing(error)]}


def parse_duration(value: Any, field: str) -> float:
    """A protobuf duration (`"86400s"`, `"1.5s"`) in seconds; negative or malformed values are refused."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1))
    raise invalid_argument(field, f"expected a non-negative duration such as \"86400s\", got {value!r}")


def parse_int64(value: Any, field: str) -> int:
    """An int64 sent as a JSON string (`"100"`) or, leniently, as a number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT64.match(value):
        return int(value)
    raise invalid_argument(field, f"expected an int64 (a decimal string such as \"100\"), got {value!r}")


def int64(value: int) -> str:
    return str(value)


def _enum_name(value: Any, names: tuple[str, ...], field: str) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value < len(names):
            return names[value]
        raise invalid_argument(field, f"{value} is not a known value of this enum")
    return value


def normalize_enums(value: Any, path: str = "") -> Any:
    """A copy of a spec with integer enum values replaced by their names (names are what Veza replies with)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key in ENUM_NAMES:
                out[key] = _enum_name(item, ENUM_NAMES[key], where)
            elif key == "effective_permissions" and isinstance(item, dict) and isinstance(item.get("values"), list):
                converted = normalize_enums(item, where)
                converted["values"] = [_enum_name(v, EFFECTIVE_PERMISSION_NAMES, f"{where}.values[{i}]")
                                       for i, v in enumerate(item["values"])]
                out[key] = converted
            else:
                out[key] = normalize_enums(item, where)
        return out
    if isinstance(value, list):
        return [normalize_enums(item, f"{path}[{i}]") for i, item in enumerate(value)]
    return value


class PageTokens:
    """Opaque page tokens: base64url JSON of (what they page, offset) with an HMAC, so a tampered token is a 400."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(16)

    def _mac(self, binding: str, offset: int) -> str:
        return hmac.new(self._key, f"{binding}\n{offset}".encode(), hashlib.sha256).hexdigest()[:24]

    def encode(self, binding: str, offset: int) -> str:
        raw = json.dumps({"r": binding, "o": offset, "m": self._mac(binding, offset)}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, token: Any, binding: str) -> int:
        """The offset a token stands for; empty means 0. Tokens for another result or altered ones are refused."""
        if token is None or token == "":
            return 0
        refused = invalid_argument("page_token", "not a page token issued for this result",
                                   resolution="Send the next_page_token of the previous page unchanged, or no "
                                              "page_token for the first page.")
        if not isinstance(token, str) or len(token) > 1024:
            raise refused
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise refused from None
        if not isinstance(data, dict):
            raise refused
        offset = data.get("o")
        if (data.get("r") != binding or not isinstance(offset, int) or isinstance(offset, bool) or offset < 0
                or not hmac.compare_digest(str(data.get("m")), self._mac(binding, offset))):
            raise refused
        return offset


def page_size_of(value: Any, *, default: int, maximum: int) -> int:
    """`page_size` from a body or query string: absent or 0 means the default; above the maximum is clamped."""
    if value is None or value == "":
        return default
    size = parse_int64(value, "page_size")
    if size < 0:
        raise invalid_argument("page_size", "must not be negative")
    return default if size == 0 else min(size, maximum)


class CreateMode(enum.Enum):
    IF_AVAILABLE = "cached_result_if_available"
    IMMEDIATE = "immediate_run"
    CONTEXT = "cached_result_context"


DEFAULT_MAX_STALENESS = 86400.0  # 24 h, Veza's documented default (veza-api.md §3)
_MODE_FIELDS = ("cached_result_if_available", "immediate_run", "cached_result_context", "request")


@dataclass(frozen=True, kw_only=True)
class CreateRequest:
    """A parsed `nodes_async_create` body: the mode, its spec (enums as names) or cache id, and warnings to return."""

    mode: CreateMode
    spec: dict[str, Any] | None = None
    max_staleness: float = DEFAULT_MAX_STALENESS
    cache_id: str | None = None
    warnings: tuple[str, ...] = ()


def _spec_of(request: Any, where: str) -> dict[str, Any]:
    if not isinstance(request, dict):
        raise invalid_argument(where, "expected an object with a `body` (the query spec)")
    body = request.get("body")
    if not isinstance(body, dict):
        raise invalid_argument(f"{where}.body", "expected the query spec (an object)")
    spec = normalize_enums(body, f"{where}.body")
    assert isinstance(spec, dict)
    return spec


def normalised_create_body(body: Any) -> Any:
    """A create body with each mode's spec (`<mode>.request.body`) in protojson's normal form. Of the envelope only
    `null`s are dropped (unset messages), so which mode is set stays what the client wrote."""
    if not isinstance(body, dict):
        return body
    out = {key: value for key, value in body.items() if value is not None}
    for name in _MODE_FIELDS:
        mode = out.get(name)
        if not isinstance(mode, dict):
            continue
        mode = out[name] = {key: value for key, value in mode.items() if value is not None}
        request = mode if name == "request" else mode.get("request")
        if isinstance(request, dict) and isinstance(request.get("body"), dict):
            request = {**request, "body": normalise(request["body"])}
            out[name] = request if name == "request" else {**mode, "request": request}
    return out


def parse_create_body(body: Any) -> CreateRequest:
    """Exactly one of the three modes (or the deprecated top-level `request`), as a `CreateRequest`."""
    if not isinstance(body, dict):
        raise invalid_argument("body", "expected a JSON object")
    present = [name for name in _MODE_FIELDS if body.get(name) is not None]
    if len(present) != 1:
        what = "none" if not present else ", ".join(present)
        raise ApiError("InvalidArgument",
                       f"exactly one of cached_result_if_available, immediate_run, cached_result_context must be set "
                       f"(got {what})",
                       details=[field_violations([("cached_result_if_available|immediate_run|cached_result_context",
                                                   f"exactly one must be set, got {what}")])])
    mode_field = present[0]
    value = body[mode_field]
    if mode_field == "request":
        return CreateRequest(mode=CreateMode.IF_AVAILABLE, spec=_spec_of(value, "request"),
                             warnings=("`request` is deprecated: use cached_result_if_available, immediate_run or "
                                       "cached_result_context",))
    if not isinstance(value, dict):
        raise invalid_argument(mode_field, "expected an object")
    if mode_field == "cached_result_context":
        cache_id = value.get("cache_id")
        if not isinstance(cache_id, str) or not cache_id:
            raise invalid_argument("cached_result_context.cache_id", "expected a cache_id from an earlier reply")
        return CreateRequest(mode=CreateMode.CONTEXT, cache_id=cache_id)
    spec = _spec_of(value.get("request"), f"{mode_field}.request")
    if mode_field == "immediate_run":
        return CreateRequest(mode=CreateMode.IMMEDIATE, spec=spec)
    staleness = value.get("max_staleness")
    max_staleness = (DEFAULT_MAX_STALENESS if staleness is None
                     else parse_duration(staleness, "cached_result_if_available.max_staleness"))
    return CreateRequest(mode=CreateMode.IF_AVAILABLE, spec=spec, max_staleness=max_staleness)
