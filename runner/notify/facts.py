"""A run directory's run.json → the few facts a notification tells (`read_facts`), and which triggers hold.

run.json is untrusted here (`vqr notify RUN_DIR` takes any directory): it is read under a size cap and every field is
narrowed by type, an entry of the wrong shape counted as absent, so a hand-edited file gives a smaller message, never
a traceback. Reads `exceptions` and `lifecycle` per CONTRACT14 when present. Reads one file; otherwise pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from runner.errors import UsageError
from runner.model import JSONObject, JSONValue
from runner.model.exceptions import ExceptionRule
from runner.model.notify import Trigger

RUN_FILE = "run.json"  # artifact.RUN_FILE; that package imports the journal, which notify never does
MAX_RUN_FILE_BYTES = 256 << 20  # a run.json of 3,000 queries with specs is ~20 MiB; beyond this it is not ours
FAILED_STATUSES = frozenset({"failed", "interrupted"})


@dataclass(frozen=True, kw_only=True)
class ExceptionFact:
    id: str
    owner: str
    reason: str
    expires: date
    matched: int
    expired: bool


@dataclass(frozen=True, kw_only=True)
class QueryFact:
    name: str
    owner: str | None
    status: str
    rows: int | None
    error: str | None  # "<category>: <message>", untrusted text
    failed_expectations: tuple[tuple[str, str, str], ...]  # (metric, severity, message)
    new_rows: int  # drift `added`
    new_entities: int | None  # lifecycle `new`, when run.json has it
    exceptions: tuple[ExceptionFact, ...]  # expiring soon or expired

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES or any(sev == "error" for _, sev, _ in self.failed_expectations)

    @property
    def has_new(self) -> bool:
        return self.new_rows > 0 or (self.new_entities or 0) > 0

    @property
    def notable(self) -> bool:
        """Worth a line of its own in a message."""
        return self.failed or bool(self.failed_expectations) or self.has_new or bool(self.exceptions)


@dataclass(frozen=True, kw_only=True)
class RunFacts:
    path: Path
    run_id: str
    status: str  # completed | interrupted | aborted
    exit_code: int
    env: str
    target: str
    started_at: str
    finished_at: str
    as_of: date  # run.json `as_of` (CONTRACT14), else its finish time
    vqr_version: str
    queries: tuple[QueryFact, ...]

    @property
    def incomplete(self) -> bool:
        return self.status != "completed"

    def owners(self) -> list[str | None]:
        """Every owner once, in order of first appearance; None for the queries without one (last)."""
        seen = list(dict.fromkeys(q.owner for q in self.queries if q.owner is not None))
        return [*seen, None] if any(q.owner is None for q in self.queries) else list(seen)


def triggers(run: RunFacts, queries: Sequence[QueryFact], *, everyone: bool) -> frozenset[Trigger]:
    """The triggers that hold for `queries` (one owner's, or all of them: `everyone`, where a run that did not
    complete or exited non-zero is a failure too)."""
    found = {Trigger.ALWAYS}
    if any(q.failed for q in queries) or (everyone and (run.incomplete or run.exit_code != 0)):
        found.add(Trigger.FAILURE)
    if any(q.has_new for q in queries):
        found.add(Trigger.NEW_ROWS)
    if any(q.exceptions for q in queries):
        found.add(Trigger.EXPIRING_EXCEPTIONS)
    return frozenset(found)


def read_facts(run_dir: Path, *, expiring_within_days: int) -> RunFacts:
    path = run_dir / RUN_FILE
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_RUN_FILE_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist: not a run directory, or the run never finished") from None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    if len(raw) > MAX_RUN_FILE_BYTES:
        raise UsageError(f"{path} is larger than {MAX_RUN_FILE_BYTES >> 20} MiB: not a run.json of vqr")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise UsageError(f"{path} is not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("run_id"), str) or not isinstance(
            data.get("queries"), list):
        raise UsageError(f"{path} is not a vqr run.json (no run_id or queries)")
    finished = _text(data.get("finished_at"))
    as_of = _day(_text(data.get("as_of"))) or _day(finished) or _day(_text(data.get("started_at"))) \
        or datetime.now(UTC).date()
    horizon = as_of + timedelta(days=expiring_within_days)
    return RunFacts(
        path=run_dir, run_id=str(data["run_id"]), status=_text(data.get("status")) or "unknown",
        exit_code=_int(data.get("exit_code")) or 0, env=_text(data.get("env")), target=_text(data.get("target")),
        started_at=_text(data.get("started_at")), finished_at=finished, as_of=as_of,
        vqr_version=_text(data.get("vqr_version")),
        queries=tuple(_query(q, as_of, horizon) for q in data["queries"] if isinstance(q, dict)
                      and isinstance(q.get("name"), str)))


def _text(value: JSONValue) -> str:
    return value if isinstance(value, str) else ""


def _int(value: JSONValue) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _obj(value: JSONValue) -> JSONObject:
    return value if isinstance(value, dict) else {}


def _list(value: JSONValue) -> list[JSONValue]:
    return value if isinstance(value, list) else []


def _day(text: str) -> date | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).date() if text else None
    except ValueError:
        return None


def _query(data: JSONObject, as_of: date, horizon: date) -> QueryFact:
    error = data.get("error")
    error_text = None
    if isinstance(error, dict):
        error_text = f"{_text(error.get('category')) or 'error'}: {_text(error.get('message'))}"
    failed = tuple((_text(e.get("metric")), _text(e.get("severity")), _text(e.get("message")))
                   for e in (_obj(item) for item in _list(data.get("expectations"))) if e.get("outcome") == "failed")
    lifecycle = data.get("lifecycle")
    owner = data.get("owner")
    return QueryFact(
        name=str(data["name"]), owner=owner if isinstance(owner, str) and owner else None,
        status=_text(data.get("status")) or "unknown", rows=_int(data.get("rows")), error=error_text,
        failed_expectations=failed, new_rows=max(0, _int(_obj(data.get("drift")).get("added")) or 0),
        # On a lifecycle's first run every entity is "new": that is a baseline, not news worth a message.
        new_entities=_int(lifecycle.get("new")) if isinstance(lifecycle, dict)
        and lifecycle.get("previous_run") is not None else None,
        exceptions=tuple(_exceptions(_obj(data.get("exceptions")), as_of, horizon)))


def _exceptions(section: JSONObject, as_of: date, horizon: date) -> Iterable[ExceptionFact]:
    """Expired rules, then active ones expiring by `horizon`; an entry `ExceptionRule.from_json` refuses is skipped."""
    for key, expired in (("expired", True), ("active", False)):
        for item in _list(section.get(key)):
            entry = _obj(item)
            try:
                rule = ExceptionRule.from_json(entry)
            except (KeyError, TypeError, ValueError):
                continue
            if expired or rule.expires <= horizon:
                yield ExceptionFact(id=rule.id, owner=rule.owner, reason=rule.reason, expires=rule.expires,
                                    matched=max(0, _int(entry.get("matched")) or 0),
                                    expired=expired or not rule.active(as_of))
