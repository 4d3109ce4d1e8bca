"""Deterministic shards of a batch (`vqr run --shard I/N`, `vqr plan --shards N`): which shard runs each plan, and
the identity of the whole split (`plan_hash`), which `vqr report merge` compares across shards.

Pure. The default split is rendezvous hashing of each plan's `shard_key` (its create body without the snapshot
pin): identical bodies land on one shard, so their shared submit still happens once; a query keeps its shard as
queries are added or removed, and only about 1/(N+1) of them move when N grows by one (hash mod N would move most).
The `duration` split balances past durations (passed in) greedily, longest first: better balanced, less stable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from runner.errors import UsageError
from runner.model import QueryPlan, Shard
from runner.model.plans import MAX_SHARDS, SHARD_BY
from runner.plan.select import body_hash, compared_body


def parse_shard(text: str) -> Shard:
    """`I/N` → `Shard`: 0 ≤ I < N ≤ MAX_SHARDS, or a usage error (exit 2)."""
    index, sep, count = text.partition("/")
    if not (sep and index.isdigit() and count.isdigit()):
        raise UsageError(f"--shard must be I/N (0-based, e.g. 0/4), got {text!r}")
    shard = Shard(index=int(index), count=int(count))
    check_count(shard.count, "--shard")
    if shard.index >= shard.count:
        raise UsageError(f"--shard {text}: the index counts from 0, so it must be below {shard.count}")
    return shard


def check_count(count: int, option: str = "--shards") -> None:
    if not 1 <= count <= MAX_SHARDS:
        raise UsageError(f"{option}: the number of shards must be between 1 and {MAX_SHARDS}, got {count}")


def rendezvous(key: str, count: int) -> int:
    """The shard whose score for `key` is highest (highest random weight): each shard's score depends only on
    the key and the shard, so adding a shard takes keys only from the others, never shuffles them."""
    def score(index: int) -> bytes:
        return hashlib.sha256(f"{index}:{key}".encode()).digest()
    return max(range(count), key=score)


def _groups(plans: Sequence[QueryPlan]) -> dict[str, list[QueryPlan]]:
    """Plans by shard key, in first-appearance order: one group is one submit and must never be split."""
    groups: dict[str, list[QueryPlan]] = {}
    for plan in plans:
        groups.setdefault(plan.shard_key, []).append(plan)
    return groups


def assign(plans: Sequence[QueryPlan], count: int, *, by: str = "hash",
           durations: Mapping[str, float] | None = None) -> dict[str, int]:
    """Query name → shard index. `by="duration"`: each group weighs its members' longest past duration (a query
    without one weighs the median of those known, else 1 s); groups heaviest first (ties by key) go to the shard
    with the least load so far (ties to the lowest index)."""
    groups = _groups(plans)
    if by == "hash":
        return {plan.name: rendezvous(key, count) for key, members in groups.items() for plan in members}
    if by != "duration":
        raise UsageError(f"--shard-by must be one of {', '.join(SHARD_BY)}, got {by!r}")
    known = sorted(v for v in (durations or {}).values() if v >= 0)
    default = known[len(known) // 2] if known else 1.0
    weights = {key: max((durations or {}).get(p.name, default) for p in members) for key, members in groups.items()}
    load = [0.0] * count
    out: dict[str, int] = {}
    for key in sorted(groups, key=lambda k: (-weights[k], k)):
        index = min(range(count), key=lambda i: (load[i], i))
        load[index] += weights[key]
        out.update({plan.name: index for plan in groups[key]})
    return out


def sent_hash(plan: QueryPlan) -> str:
    """The body as this batch sends it (snapshot pin and --cache override included): two shards that would send
    different bodies for a query belong to different plans. `build_plans` has taken it (`plan.sent_hash`)."""
    return plan.sent_hash or body_hash(compared_body(plan.spec, plan.cache))


def plan_hash(plans: Sequence[QueryPlan], count: int, by: str, assignment: Mapping[str, int]) -> str:
    """Identity of a split: every query's sent body and shard, N and the method. Equal on every shard of one plan
    (same repository, selection, options and, for `duration`, the same durations); anything else differs."""
    members = sorted([plan.name, sent_hash(plan), assignment[plan.name]] for plan in plans)
    text = json.dumps({"count": count, "by": by, "members": members}, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
