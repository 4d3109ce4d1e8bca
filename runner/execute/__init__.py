"""The batch engine: `QueryPlan`s and their members → `QueryResult`s, with bounded concurrency, shared submits,
polling, paging and every state change journaled. Failures are values, never exceptions.
"""

from __future__ import annotations

from runner.execute.assess_step import assess_result
from runner.execute.batch import run_batch
from runner.execute.task import RunContext

__all__ = [
    "RunContext",
    "assess_result",
    "run_batch",
]
