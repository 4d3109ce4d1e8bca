"""What a change to the query repository does: which queries it changes (`QueryChange`), how their rendered create
bodies differ (`SpecDiff`, as JSON paths), and, after `vqr diff --run`, how their results differ (`ResultDelta`).

Frozen values, no I/O. `runner.impact` computes them from two compiles (or a compile and a run directory); the
CLI's `--select state:...` selectors read `Change`; the diff formats (`text`, `md`, `json`) render an `ImpactReport`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from runner.model.assessment import EntityRef, Outcome
from runner.model.values import JSONObject, JSONValue


class Change(enum.Enum):
    """A query's state against the base: its name decides identity, its rendered create body decides change."""

    NEW = "new"  # no environment of the base has a query of this name
    MODIFIED = "modified"  # some environment renders a different create body (or has the query on one side only)
    REMOVED = "removed"  # no environment of the head has it
    UNCHANGED = "unchanged"


STATE_SELECTORS = frozenset(change.value for change in Change)  # `state:new|modified|removed|unchanged`


@dataclass(frozen=True, kw_only=True)
class Rendered:
    """One query as one side (base or head) renders it for one environment: exactly what `vqr render` prints."""

    name: str
    file: str  # relative to the project root, as findings name it
    env: str
    body: JSONObject  # the create-request body, unpinned, with a context-mode query's spec beside it
    # (`plan.select.compared_body`)
    body_hash: str  # `plan.select.body_hash(body)`: equal for bodies that differ only in how they spell "unset"


@dataclass(frozen=True, kw_only=True)
class QueryChange:
    """One query name and how the change treats it; `base` and `head` hold its rendering per environment (an
    environment where the side has no query of that name is absent)."""

    name: str
    change: Change
    base: Mapping[str, Rendered] = field(default_factory=dict)
    head: Mapping[str, Rendered] = field(default_factory=dict)

    @property
    def file(self) -> str:
        """The head's file, else the base's (a removed query)."""
        for side in (self.head, self.base):
            for rendered in side.values():
                return rendered.file
        return ""

    @property
    def base_file(self) -> str | None:
        return next((r.file for r in self.base.values()), None)


class Missing(enum.Enum):
    """The old or new side of a `PathChange` where the path does not exist (distinct from a JSON `null`)."""

    MISSING = "missing"


MISSING = Missing.MISSING


@dataclass(frozen=True, kw_only=True)
class PathChange:
    """One difference between two bodies at a JSON path (`$.immediate_run.request.body.query.node_types[0]`):
    `old` is MISSING for an added path, `new` is MISSING for a removed one."""

    path: str
    old: JSONValue | Missing
    new: JSONValue | Missing


@dataclass(frozen=True, kw_only=True)
class EnvDiff:
    """The same differences, shared by every environment in `envs` (environments with equal diffs are grouped)."""

    envs: tuple[str, ...]
    changes: tuple[PathChange, ...]


@dataclass(frozen=True, kw_only=True)
class SpecDiff:
    """How one changed query's rendered create body differs, per group of environments. A new query's diff has
    every path added, a removed one's every path removed."""

    name: str
    change: Change
    file: str
    base_file: str | None
    envs: tuple[EnvDiff, ...]


@dataclass(frozen=True, kw_only=True)
class SideResult:
    """One side's result of one query in `vqr diff --run`: rows, expectation outcomes, or the error that stopped
    it; `source` says whether it ran now (`ran`) or came from the `--state` run (`state`)."""

    status: str  # the QueryStatus value: succeeded, failed, not_run, interrupted
    source: str  # "ran" or "state"
    rows: int | None = None
    expectations: tuple[Outcome, ...] = ()
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResultDelta:
    """How one changed query's results differ between base and head, entities keyed as drift keys them
    (`assess.drift.entity_key`); the samples are bounded, the counts exact. A new query has no `before`, a removed
    one no `after`."""

    name: str
    env: str
    before: SideResult | None
    after: SideResult | None
    added: int = 0
    removed: int = 0
    changed: int = 0
    added_sample: tuple[EntityRef, ...] = ()
    removed_sample: tuple[EntityRef, ...] = ()
    changed_sample: tuple[EntityRef, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ImpactReport:
    """Everything `vqr diff` reports: the base and head it compared, the spec differences of every changed query
    (sorted by name), and with `--run` the result deltas by query name."""

    base: str  # what was compared against: `main (3f2c1a9)` or `state reports/latest (run 20261201T...)`
    head: str  # `work tree` or a ref
    envs: tuple[str, ...]
    diffs: tuple[SpecDiff, ...]
    deltas: Mapping[str, ResultDelta] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # things the reader must know: base files with errors, queries the state lacked

    def counts(self) -> JSONObject:
        tally: dict[str, int] = {c.value: 0 for c in (Change.NEW, Change.MODIFIED, Change.REMOVED)}
        for diff in self.diffs:
            tally[diff.change.value] += 1
        return dict(tally)
