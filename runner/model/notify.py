"""vqr.yaml `notify:` as frozen values: targets (webhook, slack, teams), when each sends, and where its URL comes from.

`NotifySettings.from_section(section, root)` reads the section (already checked against schemas/project.schema.json)
into values; a URL is never a value here, only where to find it (`url_env` or `url_file`): `runner.notify` reads it
at send time. Pure: no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from runner.model.values import JSONObject, JSONValue

DEFAULT_DEADLINE_SECONDS = 60.0
DEFAULT_EXPIRING_DAYS = 14


class TargetKind(enum.StrEnum):
    WEBHOOK = "webhook"
    SLACK = "slack"
    TEAMS = "teams"


class Trigger(enum.StrEnum):
    """Why a message is sent (vqr.yaml `when:`); a target sends when any of its triggers holds."""

    FAILURE = "failure"
    NEW_ROWS = "new_rows"
    EXPIRING_EXCEPTIONS = "expiring_exceptions"
    ALWAYS = "always"


@dataclass(frozen=True, kw_only=True)
class NotifyTarget:
    name: str
    kind: TargetKind
    url_env: str | None = None  # exactly one of url_env and url_file (the schema's oneOf)
    url_file: Path | None = None
    when: frozenset[Trigger] = frozenset({Trigger.FAILURE})
    per_owner: bool = False

    @property
    def url_source(self) -> str:
        """Where the URL comes from, for messages: never the URL itself."""
        return f"${self.url_env}" if self.url_env is not None else f"file {self.url_file}"


@dataclass(frozen=True, kw_only=True)
class NotifySettings:
    targets: tuple[NotifyTarget, ...] = ()
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS  # one target, retries and waits included
    expiring_within_days: int = DEFAULT_EXPIRING_DAYS

    @classmethod
    def from_section(cls, section: JSONObject, *, root: Path, deadline_seconds: float | None = None) -> NotifySettings:
        """`deadline_seconds` is `deadline:` parsed by the caller (durations live above the model)."""
        targets = section.get("targets")
        return cls(
            targets=tuple(_target(name, raw, root) for name, raw in (targets.items() if isinstance(targets, dict)
                                                                      else ())),
            deadline_seconds=deadline_seconds if deadline_seconds is not None else DEFAULT_DEADLINE_SECONDS,
            expiring_within_days=_int(section.get("expiring_within_days"), DEFAULT_EXPIRING_DAYS))


def _int(value: JSONValue, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _target(name: str, raw: JSONValue, root: Path) -> NotifyTarget:
    data = raw if isinstance(raw, dict) else {}
    when = data.get("when", ["failure"])
    words = [when] if isinstance(when, str) else [w for w in when if isinstance(w, str)] if isinstance(when, list) \
        else ["failure"]
    url_env, url_file = data.get("url_env"), data.get("url_file")
    return NotifyTarget(
        name=name, kind=TargetKind(str(data.get("type", "webhook"))),
        url_env=url_env if isinstance(url_env, str) else None,
        url_file=root / url_file if isinstance(url_file, str) else None,  # an absolute path stays itself
        when=frozenset(Trigger(w) for w in words), per_owner=data.get("per_owner") is True)
