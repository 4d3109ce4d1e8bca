"""What the assess stage says of one result: drift against the previous run and expectation outcomes.

Frozen values with their run.json shapes (`to_json`); computed by `runner.assess`, carried by `QueryResult`. Pure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from runner.model.values import JSONObject


@dataclass(frozen=True, kw_only=True, order=True, slots=True)  # slots: ~20 of them per query held for run.json
class EntityRef:
    """One entity named in a drift listing; `fields` are the changed fields (for changed entities only)."""

    key: str
    name: str | None = None
    fields: tuple[str, ...] = ()

    def to_json(self) -> JSONObject:
        out: JSONObject = {"id": self.key, "name": self.name}
        if self.fields:
            out["fields"] = list(self.fields)
        return out


@dataclass(frozen=True, kw_only=True)
class DriftResult:
    previous_run: str
    added: int
    removed: int
    changed: int
    unchanged: int
    added_sample: tuple[EntityRef, ...] = ()
    removed_sample: tuple[EntityRef, ...] = ()
    changed_sample: tuple[EntityRef, ...] = ()
    ignored: tuple[str, ...] = ()
    previous_env: str = ""  # the previous run's environment and target: the same as this run's, by the lookup
    previous_target: str = ""

    def to_json(self) -> JSONObject:
        """The `drift` object of a query in run.json."""
        return {"previous_run": self.previous_run, "previous_env": self.previous_env,
                "previous_target": self.previous_target, "added": self.added, "removed": self.removed,
                "changed": self.changed, "unchanged": self.unchanged, "ignored": list(self.ignored),
                "added_sample": [e.to_json() for e in self.added_sample],
                "removed_sample": [e.to_json() for e in self.removed_sample],
                "changed_sample": [e.to_json() for e in self.changed_sample]}


class Verdict(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class ExpectSeverity(enum.Enum):
    ERROR = "error"
    WARN = "warn"


@dataclass(frozen=True, kw_only=True)
class Drift:
    """Rows added and removed since `previous_run` (same query, same spec hash)."""

    added: int
    removed: int
    previous_run: str


@dataclass(frozen=True, kw_only=True)
class Outcome:
    metric: str
    bounds: JSONObject
    severity: ExpectSeverity
    verdict: Verdict
    actual: int | None
    message: str

    @property
    def is_error_failure(self) -> bool:
        return self.verdict is Verdict.FAILED and self.severity is ExpectSeverity.ERROR

    def to_json(self) -> JSONObject:
        return {"metric": self.metric, "bounds": self.bounds, "severity": self.severity.value,
                "outcome": self.verdict.value, "actual": self.actual, "message": self.message}
