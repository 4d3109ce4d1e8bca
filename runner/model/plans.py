"""The batch's work: what one query is asked to do (`QueryPlan`) and the create body it is sent with (`Member`).

Frozen values, no I/O. `plan` builds them, `execute` runs them, `artifact` records the plan beside the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.model.query import CachePolicy
from runner.model.results import QueryError
from runner.model.values import JSONObject, JSONValue

MAX_CONCURRENCY = 256  # queries in flight at once: `--concurrency` and vqr.yaml's defaults.concurrency
MAX_SHARDS = 1000  # `--shard I/N`, `--shards N`: more processes than this is a mistake, not a fan-out
SHARD_BY = ("hash", "duration")  # how a batch is split: plan/shard.py `assign`


@dataclass(frozen=True, kw_only=True)
class QueryPlan:
    """One query as the batch will run it: the rendered spec (snapshot pinned), its effective cache policy and
    deadline, and its expectations."""

    name: str
    file: str
    spec: JSONObject
    spec_hash: str
    cache: CachePolicy
    expect: JSONValue
    timeout: float  # seconds
    drift_ignore: tuple[str, ...] = ()  # `drift: {ignore: [...]}`: fields left out when comparing rows
    description: str | None = None
    owner: str | None = None
    severity: str = "medium"  # the query's `severity:` (runner.model.query.SEVERITIES)
    # Who the reports send this query to: its `owner:`, else its file's CODEOWNERS owners (recorded in run.json so
    # that re-rendering a report later needs no CODEOWNERS file and gives the same bytes).
    owners: tuple[str, ...] = ()
    # What `vqr render` prints for the query (unpinned, no --cache override) and its `body_hash`: run.json records
    # them so that `--state DIR` can tell which queries a change modifies.
    body: JSONObject | None = None
    body_hash: str = ""
    # The body as sent but without the snapshot pin (`body_hash` of `compared_body(spec, cache)` with the effective
    # cache policy): what `vqr run --shard` splits by, so identical bodies share a shard and a nightly snapshot id
    # does not reshuffle the shards.
    shard_key: str = ""
    # `body_hash` of the body exactly as sent (snapshot pin included): what tells two shards' plans apart.
    sent_hash: str = ""


@dataclass(frozen=True, kw_only=True)
class Member:
    """A query of a group: its plan, resolved create body (and the body to fall back to when a context id has
    expired and the query says `on_expired: run`)."""

    plan: QueryPlan
    body: JSONObject | None
    fallback: JSONObject | None = None
    problem: QueryError | None = None  # known before any call: fails without sending


@dataclass(frozen=True, kw_only=True)
class Shard:
    """`--shard I/N`: this process runs shard `index` (0-based, as GitHub matrices and Kubernetes'
    JOB_COMPLETION_INDEX count) of `count`."""

    index: int
    count: int

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def slug(self) -> str:
        """Its name in paths: `shard-0-of-4` (the shard's journal and reports directory)."""
        return f"shard-{self.index}-of-{self.count}"
