"""Veza's query API over httpx: typed replies or the `ApiError` tree (httpx exceptions never leave this package),
retries chosen per operation, the poll ladder and the run-wide retry budget. Network I/O.
"""

from __future__ import annotations

from runner.client.api import ClientConfig, JobState, Submitted, VezaClient
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
    "ClientConfig",
    "DeadlineExceeded",
    "InvalidRequest",
    "JobState",
    "NotFoundError",
    "Paging",
    "PollLadder",
    "ResponseError",
    "RetryBudget",
    "RetryPolicy",
    "Submitted",
    "TransientError",
    "VezaClient",
    "cached_resend_body",
]
