"""Veza's query API over httpx: typed replies or the `ApiError` tree (httpx exceptions never leave this package),
retries chosen per operation, the poll ladder, the run-wide retry budget and the submit budget (`budget`, vqr.yaml
`api.budget`). Network I/O.
"""

from __future__ import annotations

from runner.client.api import ClientConfig, JobState, Submitted, VezaClient
from runner.client.budget import Budget, LocalBudget, RedisBudget, budget_key, make_budget
from runner.client.decode import DEFAULT_MAX_REPLY_BYTES, MAX_DEPTH
from runner.client.errors import (
    ApiError,
    AuthError,
    DeadlineExceeded,
    InvalidRequest,
    NotFoundError,
    ResponseError,
    TransientError,
)
from runner.client.retry import PollLadder, RetryBudget, RetryPolicy, cached_resend_body
from runner.model.protocol import ApiProtocol, Paging

__all__ = [
    "DEFAULT_MAX_REPLY_BYTES",
    "MAX_DEPTH",
    "ApiError",
    "ApiProtocol",
    "AuthError",
    "Budget",
    "ClientConfig",
    "DeadlineExceeded",
    "InvalidRequest",
    "JobState",
    "LocalBudget",
    "NotFoundError",
    "Paging",
    "PollLadder",
    "RedisBudget",
    "ResponseError",
    "RetryBudget",
    "RetryPolicy",
    "Submitted",
    "TransientError",
    "VezaClient",
    "budget_key",
    "cached_resend_body",
    "make_budget",
]
