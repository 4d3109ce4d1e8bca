"""The split of `vqr run --shard I/N` (plan/shard.py): deterministic, identical bodies together, stable as queries
are added (only the new ones appear, none moves), minimal movement when N grows, the duration split's greedy
balance, and the plan hash that tells plans apart."""

from __future__ import annotations

from collections import Counter

import pytest

from runner.errors import UsageError
from runner.model import IfAvailable, Immediate, JSONObject, QueryPlan, Shard
from runner.plan import assign, parse_shard, plan_hash
from runner.plan.select import body_hash, compared_body, spec_hash


def plan(name: str, node_type: str | None = None, *, snapshot: str | None = None,
         cache: IfAvailable | Immediate | None = None) -> QueryPlan:
    """A plan as build_plans makes it: `shard_key` over the unpinned body, the spec pinned by `snapshot`."""
    spec: JSONObject = {"query_type": "SOURCE_TO_DESTINATION",
                        "source_node_types": {"nodes": [{"node_type": node_type or name}]}}
    policy = cache or IfAvailable()
    pinned: JSONObject = {**spec, "snapshot_id": snapshot} if snapshot else spec
    return QueryPlan(name=name, file=f"queries/{name}.yaml", spec=pinned, spec_hash=spec_hash(pinned), cache=policy,
                     expect=None, timeout=60.0, shard_key=body_hash(compared_body(spec, policy)))


PLANS = [plan(f"q{i:03d}") for i in range(200)]


def test_the_split_is_deterministic_and_independent_of_order() -> None:
    split = assign(PLANS, 4)
    assert assign(list(reversed(PLANS)), 4) == split
    assert set(split.values()) == {0, 1, 2, 3}
    assert all(30 <= n <= 70 for n in Counter(split.values()).values()), Counter(split.values())


def test_adding_queries_moves_none_and_only_the_new_ones_appear() -> None:
    before = assign(PLANS, 4)
    grown = assign([*PLANS, *(plan(f"new{i}") for i in range(50))], 4)
    assert {name: grown[name] for name in before} == before
    assert set(grown) - set(before) == {f"new{i}" for i in range(50)}
    shrunk = assign(PLANS[:150], 4)  # removing queries moves none either
    assert shrunk == {name: before[name] for name in shrunk}


def test_identical_bodies_share_a_shard_whatever_their_names() -> None:
    twins = [plan(f"twin{i}", "OktaUser") for i in range(12)]
    split = assign([*PLANS, *twins], 7)
    assert len({split[t.name] for t in twins}) == 1


def test_a_snapshot_pin_does_not_reshuffle_the_shards_but_changes_the_plan() -> None:
    pinned = [plan(p.name, snapshot="123") for p in PLANS]
    assert assign(pinned, 4) == assign(PLANS, 4)
    split = assign(PLANS, 4)
    assert plan_hash(pinned, 4, "hash", split) != plan_hash(PLANS, 4, "hash", split)


def test_growing_the_shard_count_only_moves_queries_to_the_new_shard() -> None:
    four, five = assign(PLANS, 4), assign(PLANS, 5)
    moved = {name for name in four if four[name] != five[name]}
    assert moved and all(five[name] == 4 for name in moved)
    assert len(moved) < len(PLANS) // 3  # about 1/5; hash mod N would move about 4/5


def test_the_duration_split_is_greedy_longest_first_with_groups_kept_whole() -> None:
    plans = [plan("a"), plan("b"), plan("c"), plan("d"), plan("e", "a")]  # e has a's body
    durations = {"a": 10.0, "b": 9.0, "c": 2.0, "d": 1.0, "e": 3.0}
    # Groups: {a, e} weigh 10 (their longest), b 9, c 2, d 1 → 0:{a,e}, 1:{b}, 1:{c} (11), then 0:{d} (11).
    assert assign(plans, 2, by="duration", durations=durations) == {"a": 0, "e": 0, "b": 1, "c": 1, "d": 0}
    # Unknown durations weigh the median of the known ones; no durations at all: equal weights, ties by key.
    assert assign(plans, 2, by="duration", durations={}) == assign(list(reversed(plans)), 2, by="duration")
    assert set(assign(plans, 2, by="duration", durations={"a": 5.0}).values()) == {0, 1}


def test_the_plan_hash_tells_plans_apart() -> None:
    split = assign(PLANS, 4)
    same = plan_hash(PLANS, 4, "hash", split)
    assert plan_hash(list(reversed(PLANS)), 4, "hash", split) == same
    assert plan_hash(PLANS, 4, "duration", split) != same
    assert plan_hash(PLANS[:-1], 4, "hash", split) != same
    changed = [*PLANS[:-1], plan(PLANS[-1].name, cache=Immediate())]
    assert plan_hash(changed, 4, "hash", split) != same
    moved = {**split, "q000": (split["q000"] + 1) % 4}
    assert plan_hash(PLANS, 4, "hash", moved) != same


@pytest.mark.parametrize("text", ["4/4", "1/0", "a/4", "-1/4", "1", "1/4/2", "0/1001", ""])
def test_a_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        parse_shard(text)


def test_a_shard_is_zero_based() -> None:
    assert parse_shard("0/4") == Shard(index=0, count=4)
    assert parse_shard("3/4").slug == "shard-3-of-4" and parse_shard("3/4").label == "3/4"
