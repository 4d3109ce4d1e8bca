"""Pure planning: `Query` values and selectors → `QueryPlan`s → groups of members that share one submit, and the
exact create body (`create_body`). The journal's lookup is passed in as a function.
"""

from __future__ import annotations

from runner.model.plans import SHARD_BY
from runner.plan.batch import build_groups, build_plans
from runner.plan.select import body_hash, compared_body, create_body, normal_body, query_body, select_queries
from runner.plan.shard import assign, check_count, parse_shard, plan_hash

__all__ = [
    "SHARD_BY",
    "assign",
    "body_hash",
    "build_groups",
    "build_plans",
    "check_count",
    "compared_body",
    "create_body",
    "normal_body",
    "parse_shard",
    "plan_hash",
    "query_body",
    "select_queries",
]
