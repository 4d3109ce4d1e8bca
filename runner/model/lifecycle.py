"""Finding lifecycle values: what the journal holds of one query's entities (`OpenEntities`, `EntityChanges`,
named by a `LifecycleScope`) and what a run says of them (`Lifecycle`: new, persisting, resolved, the oldest open).

Frozen values with their run.json shape (`Lifecycle.to_json`); `state` stores them, `assess` computes them. Pure.
Entities are 64-bit key digests (signed, as SQLite stores them), held in `array('q')`: 8 bytes each, not objects.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime

from runner.model.assessment import EntityRef
from runner.model.values import JSONObject

SECONDS_PER_DAY = 86_400


def _empty() -> array[int]:
    return array("q")


@dataclass(frozen=True, kw_only=True)
class LifecycleScope:
    """Whose lifecycle: a query with one spec hash in one environment against one target. A new spec hash starts a
    new lifecycle, as it starts a new drift series."""

    env: str
    target: str
    query: str
    spec_hash: str


@dataclass(frozen=True, kw_only=True)
class OpenEntities:
    """The entities open after the lifecycle's latest recorded run (`previous_run`; None: never recorded), sorted by
    key digest, with when each was first seen (epoch seconds of that run's `as_of`). `recorded`: the run asking was
    itself recorded already (an earlier attempt of a resumed run), and this is the state it was compared with."""

    previous_run: str | None = None
    keys: array[int] = field(default_factory=_empty)
    first_seen: array[int] = field(default_factory=_empty)
    recorded: bool = False
    recorded_as_of: datetime | None = None  # when `recorded`: that run's `as_of`, so a resume reports the same ages


@dataclass(frozen=True, kw_only=True)
class EntityChanges:
    """What one run changes in a lifecycle: the digests it saw for the first time and the open ones it no longer
    saw, compared with `previous_run`'s state (the journal refuses to apply them over any other)."""

    run_id: str
    as_of: datetime
    previous_run: str | None
    new: array[int]
    resolved: array[int]


@dataclass(frozen=True, kw_only=True, slots=True)  # slots: up to 10 per query held until run.json
class OpenEntity:
    key: str
    name: str | None
    first_seen: datetime
    age_days: int

    def to_json(self) -> JSONObject:
        stamp = self.first_seen.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return {"id": self.key, "name": self.name, "first_seen": stamp, "age_days": self.age_days}


@dataclass(frozen=True, kw_only=True)
class Lifecycle:
    """A query's entities against its previous successful run of the same spec, environment and target."""

    previous_run: str | None  # None: the lifecycle's first run, so every entity is new
    new: int
    persisting: int
    resolved: int
    new_sample: tuple[EntityRef, ...] = ()
    resolved_sample: tuple[EntityRef, ...] = ()
    oldest: tuple[OpenEntity, ...] = ()  # oldest first

    @property
    def max_age_days(self) -> int:
        """The age of the oldest open entity; 0 when none is open."""
        return max((o.age_days for o in self.oldest), default=0)

    def to_json(self) -> JSONObject:
        """The `lifecycle` object of a query in run.json."""
        return {"previous_run": self.previous_run, "new": self.new, "persisting": self.persisting,
                "resolved": self.resolved, "new_sample": [r.to_json() for r in self.new_sample],
                "resolved_sample": [r.to_json() for r in self.resolved_sample],
                "oldest": [o.to_json() for o in self.oldest]}

