"""The client's typed results (`Submitted`, `Page`) and the parsing of Veza's JSON replies into them.

Pure functions, no I/O (veza-api.md §2, §3, §5): int64 values may come as strings, empty fields as null or [].
A reply that breaks the contract (no query_result_id, a non-list `values`...) is a `ResponseError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runner.client.errors import ResponseError, user_facing_info
from runner.model import JSONObject, JSONValue
from runner.model.protocol import JobState


@dataclass(frozen=True, kw_only=True)
class Submitted:
    """The reply to a submit. `mode` is the create mode actually sent last; `resent_as_cached` is true when an
    attempt of unknown outcome made the client resend as `cached_result_if_available`."""

    query_result_id: str
    cache_id: str | None
    last_completed_cache_id: str | None
    request_id: str | None
    warnings: tuple[str, ...]
    attempts: int
    mode: str
    resent_as_cached: bool


@dataclass(frozen=True, kw_only=True)
class Page:
    """One poll or page reply. Rows are the API's JSON objects, passed through untouched."""

    status: str
    state: JobState
    row_count: int | None
    values: tuple[JSONValue, ...]
    path_values: tuple[JSONValue, ...]
    next_page_token: str
    has_more: bool
    request_id: str | None
    warnings: tuple[str, ...] = ()
    error: str | None = None  # why a job FAILED, when the reply says


def _optional_str(reply: JSONObject, key: str, operation: str) -> str | None:
    value = reply.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ResponseError(f"`{key}` is not a string", operation=operation)
    return value


def _int64(value: JSONValue, key: str, operation: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ResponseError(f"`{key}` is not an integer", operation=operation)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise ResponseError(f"`{key}` is not an integer", operation=operation)


def _list(reply: JSONObject, key: str, operation: str) -> tuple[JSONValue, ...]:
    value = reply.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ResponseError(f"`{key}` is not a list", operation=operation)
    return tuple(value)


def _warnings(reply: JSONObject) -> tuple[str, ...]:
    value = reply.get("warnings")
    if not isinstance(value, list):
        return ()
    out: list[str] = []
    for item in value:
        if isinstance(item, dict):
            out.append(str(item.get("message") or item))
        else:
            out.append(str(item))
    return tuple(out)


def parse_submitted(reply: JSONObject, *, request_id: str | None, attempts: int, mode: str,
                    resent_as_cached: bool) -> Submitted:
    query_result_id = _optional_str(reply, "query_result_id", "submit")
    if query_result_id is None:
        raise ResponseError("the reply has no query_result_id", operation="submit", request_id=request_id)
    return Submitted(
        query_result_id=query_result_id,
        cache_id=_optional_str(reply, "cache_id", "submit"),
        last_completed_cache_id=_optional_str(reply, "last_completed_cache_id", "submit"),
        request_id=request_id,
        warnings=_warnings(reply),
        attempts=attempts,
        mode=mode,
        resent_as_cached=resent_as_cached,
    )


def parse_page(reply: JSONObject, *, request_id: str | None, state_of: Callable[[str], JobState],
               synchronous: bool) -> Page:
    """A poll reply (`synchronous=False`: its `status` decides the state) or a synchronous page (always DONE)."""
    operation = "nodes" if synchronous else "poll"
    status = reply.get("status")
    status_text = "DONE" if synchronous and status is None else str(status or "")
    progress = reply.get("progress_status")
    row_count = _int64(progress.get("row_count"), "progress_status.row_count", operation) \
        if isinstance(progress, dict) else None
    has_more = reply.get("has_more")
    if has_more is not None and not isinstance(has_more, bool):
        raise ResponseError("`has_more` is not a boolean", operation=operation, request_id=request_id)
    return Page(
        status=status_text,
        state=JobState.DONE if synchronous else state_of(status_text),
        row_count=row_count,
        values=_list(reply, "values", operation),
        path_values=_list(reply, "path_values", operation),
        next_page_token=_optional_str(reply, "next_page_token", operation) or "",
        has_more=bool(has_more),
        request_id=request_id,
        warnings=_warnings(reply),
        error=_job_error(reply.get("error")),
    )


def _job_error(value: JSONValue) -> str | None:
    """Why a job failed, from an `error` shaped like Veza's error body [assumed]: `code: message`, and the
    resolution of its UserFacingErrorInfo when it has one."""
    if isinstance(value, dict):
        parts = [str(value[key]) for key in ("code", "message") if value.get(key)]
        resolution = user_facing_info(value.get("details")).get("resolution")
        text = ": ".join(parts) + (f"; resolution: {resolution}" if resolution else "")
        return text.lstrip("; ") or None
    return str(value) if value else None


def parse_count(reply: JSONObject) -> int:
    count = _int64(reply.get("number_value"), "number_value", "count")
    if count is None:
        raise ResponseError("the reply has no number_value", operation="count")
    return count
