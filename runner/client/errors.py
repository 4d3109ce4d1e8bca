"""The Veza client's exception tree, and the translation of HTTP replies and httpx errors into it.

Pure functions over an `httpx.Response` or exception, no I/O. Every message names the operation, the HTTP status,
Veza's `code`, `message`, every field violation, the `resolution` of its UserFacingErrorInfo and the `request_id`
(what Veza support asks for); none ever contains the API key: server-provided text is passed through
`Secret.redact` before it is kept. A body that is not Veza's JSON (a proxy's HTML page) is named, never quoted.

    ApiError                 any failed API call (exit 3 when it aborts a run)
    ├── AuthError            401/403: the key is refused; a run aborts
    ├── NotFoundError        404: e.g. an expired or unknown cache_id or query_result_id
    ├── InvalidRequest       400: the spec or body was refused; retrying cannot help
    ├── ResponseError        a 2xx reply that breaks the API contract (not JSON, repeated page token...)
    ├── TransientError       429, 5xx, transport failures; `delivery` says whether the request may have arrived
    └── DeadlineExceeded     the request's, query's or run's deadline, or the retry budget, ran out
"""

from __future__ import annotations

import enum
import html
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from runner.client.decode import decode_json
from runner.client.endpoints import REQUEST_ID_HEADERS
from runner.errors import ExitCode, VqrError
from runner.secret import Secret

_MAX_TEXT = 500  # server text kept in a message: enough for support, not a page of HTML
ERROR_TEXT_BYTES = 4 * _MAX_TEXT  # of a body that is not JSON, only the start is looked at
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
# A message is one line wherever it is shown: a server's line breaks would let its text start lines of its own
# (`::error::` workflow commands). Other control characters are escaped by each output's sanitiser.
_LINE_BREAKS = re.compile("[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


@dataclass(frozen=True, kw_only=True)
class FieldViolation:
    field: str
    description: str


class Delivery(enum.Enum):
    """Whether a failed request may have been processed: decides how a submit is retried (design.md §7)."""

    NOT_DELIVERED = "not_delivered"  # connect errors, 429, 503: provably never acted on
    UNKNOWN = "unknown"  # read timeouts, resets after sending, 500/502/504: the job may exist


class ApiError(VqrError):
    exit_code = ExitCode.INTERNAL

    def __init__(self, message: str, *, operation: str, status: int | None = None, code: str | None = None,
                 request_id: str | None = None, field_violations: tuple[FieldViolation, ...] = (),
                 resolution: str | None = None) -> None:
        self.operation = operation
        self.status = status
        self.code = code
        self.detail = message
        self.request_id = request_id
        self.field_violations = field_violations
        self.resolution = resolution  # what Veza tells the user to do (UserFacingErrorInfo), when it says
        super().__init__(_describe(operation, status, code, message, request_id, field_violations, resolution))


class AuthError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class InvalidRequest(ApiError):
    pass


class ResponseError(ApiError):
    pass


class TransientError(ApiError):
    def __init__(self, message: str, *, operation: str, delivery: Delivery, retry_after: float | None = None,
                 status: int | None = None, code: str | None = None, request_id: str | None = None,
                 refused: bool = False, resolution: str | None = None) -> None:
        super().__init__(message, operation=operation, status=status, code=code, request_id=request_id,
                         resolution=resolution)
        self.delivery = delivery
        self.retry_after = retry_after
        self.refused = refused  # the connection was refused: nothing listens at that address


class DeadlineExceeded(ApiError):
    pass


def _describe(operation: str, status: int | None, code: str | None, message: str, request_id: str | None,
              violations: tuple[FieldViolation, ...], resolution: str | None) -> str:
    head = operation + (f": HTTP {status}" if status is not None else "") + (f" {code}" if code else "")
    text = f"{head}: {message}" if message else head
    if violations:
        text += "; field violations: " + "; ".join(f"{v.field}: {v.description}" for v in violations)
    if resolution and resolution.casefold() not in message.casefold():  # Veza often repeats it in the message
        text += f"; resolution: {resolution}"
    if request_id:
        text += f" (request_id {request_id})"
    return _LINE_BREAKS.sub(" ", text)


# Statuses whose request provably never ran (throttled or refused at the door) versus those whose outcome is unknown.
_NOT_DELIVERED = frozenset({429, 503})
_UNKNOWN = frozenset({408, 500, 502, 504})


def error_from_response(response: httpx.Response, body: bytes, *, operation: str, secret: Secret,
                        retry_after: float | None) -> ApiError:
    """The exception for a non-2xx reply whose (possibly cut) body is `body`, with Veza's error body parsed when
    there is one."""
    status = response.status_code
    parsed = _parse_error_body(response, body, secret)
    request_id = parsed.request_id or (secret.redact(header) if (header := request_id_of(response)) else None)
    message = parsed.message
    if status in _NOT_DELIVERED or status in _UNKNOWN:
        delivery = Delivery.NOT_DELIVERED if status in _NOT_DELIVERED else Delivery.UNKNOWN
        return TransientError(message, operation=operation, delivery=delivery, retry_after=retry_after,
                              status=status, code=parsed.code, request_id=request_id, resolution=parsed.resolution)
    if 300 <= status < 400:
        location = secret.redact(response.headers.get("location", "?"))[:_MAX_TEXT]
        message = f"unexpected redirect to {location} (redirects are not followed: check the URL)"
    kind = {400: InvalidRequest, 401: AuthError, 403: AuthError, 404: NotFoundError}.get(status, ApiError)
    return kind(message, operation=operation, status=status, code=parsed.code, request_id=request_id,
                field_violations=parsed.violations, resolution=parsed.resolution)


@dataclass(frozen=True, kw_only=True)
class _ErrorBody:
    """What an error reply says, every text redacted and cut to `_MAX_TEXT`."""

    message: str
    code: str | None = None
    request_id: str | None = None
    violations: tuple[FieldViolation, ...] = ()
    resolution: str | None = None


def _parse_error_body(response: httpx.Response, data: bytes, secret: Secret) -> _ErrorBody:
    """Veza's error body `{code, message, request_id, timestamp, details}` (veza-api.md §6); `details` may hold a
    google.rpc.BadRequest (`field_violations`) and an errorstatus.v1.UserFacingErrorInfo (`message`, `resolution`)
    [SDK tests]. Anything else is described, a markup page without quoting it."""
    try:
        body = decode_json(data)  # bounded like every reply: a hostile error body cannot recurse either
    except ValueError:
        body = None
    if not isinstance(body, dict):
        markup = markup_kind(response, data)
        if markup is not None:
            heading = _TITLE.search(data[:ERROR_TEXT_BYTES])
            title = _tidy(html.unescape(_TAG.sub(" ", heading.group(1).decode("utf-8", "replace"))), secret)[:120] \
                if heading else ""
            titled = f' titled "{title}"' if title else ""
            return _ErrorBody(message=f"{_reason(response, secret)} (the body is {markup}{titled}, not Veza's JSON: a "
                                      "proxy or gateway answered)")
        return _ErrorBody(message=_tidy(data[:ERROR_TEXT_BYTES].decode("utf-8", "replace"), secret)[:_MAX_TEXT]
                          or _reason(response, secret))

    def text_of(value: object) -> str | None:
        text = "" if value is None else _tidy(str(value), secret)[:_MAX_TEXT]
        return text or None

    violations: list[FieldViolation] = []
    details = body.get("details")
    for detail in details if isinstance(details, list) else ():
        found = detail.get("field_violations") if isinstance(detail, dict) else None
        for item in found if isinstance(found, list) else ():
            if isinstance(item, dict):
                violations.append(FieldViolation(field=text_of(item.get("field")) or "",
                                                 description=text_of(item.get("description")) or ""))
    info = user_facing_info(details)
    return _ErrorBody(message=text_of(body.get("message")) or text_of(info.get("message")) or _reason(response, secret),
                      code=text_of(body.get("code")), request_id=text_of(body.get("request_id")),
                      violations=tuple(violations), resolution=text_of(info.get("resolution")))


def user_facing_info(details: object) -> Mapping[str, object]:
    """The first errorstatus.v1.UserFacingErrorInfo of an error's `details` (`reason`, `metadata`, `message`,
    `resolution`), else an empty mapping. Known by its `@type`'s last name, whatever its package prefix [SDK]."""
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).rsplit(".", 1)[-1] == "UserFacingErrorInfo":
            return detail
    return {}


def markup_kind(response: httpx.Response, data: bytes) -> str | None:
    """"an HTML page" (or "an XML document") when a reply that should be JSON is markup: what a proxy, a gateway or
    a sign-in page in front of the tenant sends (a 502/504 from Veza's edge, veza-api.md §6). Else None."""
    kind = response.headers.get("content-type", "").lower()
    start = data[:ERROR_TEXT_BYTES].lstrip()[:5].lower()
    if "html" in kind:
        return "an HTML page"
    if "xml" in kind or start == b"<?xml":
        return "an XML document"
    return "an HTML page" if start[:1] == b"<" else None


def _reason(response: httpx.Response, secret: Secret) -> str:
    said = _tidy(response.reason_phrase, secret)[:80]
    return said or httpx.codes.get_reason_phrase(response.status_code) or "no reason given"


def _tidy(text: str, secret: Secret) -> str:
    """Server text as one line (runs of whitespace, line breaks included, become one space), the key redacted."""
    return " ".join(secret.redact(text).split())


def request_id_of(response: httpx.Response) -> str | None:
    return request_id_in(response.headers)


def request_id_in(headers: Mapping[str, str]) -> str | None:
    """The request id a reply's headers carry (case-insensitive headers: httpx's or aiohttp's)."""
    for name in REQUEST_ID_HEADERS:
        if name in headers:
            return headers[name][:200]
    return None


def error_from_transport(error: httpx.TransportError, *, operation: str, secret: Secret | None = None) -> ApiError:
    """A transport failure, classified by whether the request can have reached the server.

    Connect errors and pool timeouts happen before a byte is sent. Everything after the connection is up (write or
    read failures, timeouts, a peer closing without a reply) leaves the outcome unknown. A certificate that fails
    verification is final: retrying cannot make it trusted. The message may quote what the server sent (a malformed
    status line): it is made one line and the key redacted, like every server text.
    """
    cause: BaseException | None = error
    refused = False  # anyio wraps the socket's ConnectionRefusedError in an OSError of its own: look down the chain
    certificate: ssl.SSLCertVerificationError | None = None
    while cause is not None:
        # aiohttp's certificate error is itself an SSLCertVerificationError, without the verify_message of the ssl
        # module's one that it wraps (its cause): the innermost one that has it says what failed.
        if isinstance(cause, ssl.SSLCertVerificationError) and (
                certificate is None or getattr(cause, "verify_message", None)):
            certificate = cause
        refused = refused or isinstance(cause, ConnectionRefusedError)
        cause = cause.__cause__ or cause.__context__
    if certificate is not None:
        said = getattr(certificate, "verify_message", None) or certificate
        return ApiError(f"TLS certificate verification failed: {said} (for a private CA, use --ca-bundle or "
                        "SSL_CERT_FILE)", operation=operation)
    delivery = (Delivery.NOT_DELIVERED if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout
                                                               | httpx.PoolTimeout)
                else Delivery.UNKNOWN)
    # The class name says which failure it was; the text names the host and the failure, never our headers.
    reason = _tidy(str(error), secret) if secret is not None else str(error)
    return TransientError(f"{type(error).__name__}: {reason or 'no detail'}"[:_MAX_TEXT], operation=operation,
                          delivery=delivery, refused=refused)
