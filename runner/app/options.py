"""What `vqr run` is asked to do: the user's `RunOptions`, and the engine `Tuning` that tests and benchmarks set.

Frozen values, no I/O, and no import of the engine (the CLI builds these, and `vqr --help` must stay fast). The
limits the CLI shows as choices come from the stages that own them (`model.plans`, `model.query`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runner.client.retry import PollLadder, RetryPolicy
    from runner.sandbox.config import SandboxConfig

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 100_000


@dataclass(frozen=True, kw_only=True)
class Tuning:
    """Knobs of the engine and the embedded sandbox, not on the command line: the defaults suit a real tenant."""

    page_size: int = DEFAULT_PAGE_SIZE
    heartbeat: float = 15.0  # seconds between progress lines when stderr is not a terminal
    sandbox: SandboxConfig | None = None  # the embedded sandbox (default: from VQR_SANDBOX_*)
    retry: RetryPolicy | None = None
    poll_ladder: PollLadder | None = None
    retry_budget: float = 100.0
    max_reply_bytes: int | None = None  # one API reply held in memory at most (default: the client's, 64 MiB)


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """Everything `vqr run` accepts. Durations are seconds."""

    env: str | None = None
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    concurrency: int | None = None  # default: the project's defaults.concurrency
    cache: str | None = None  # --cache MODE for every query
    snapshot_id: str | None = None
    resume: bool = False
    fail_fast: bool = False
    reports: Path | None = None  # default: the project's reports directory
    query_timeout: float | None = None  # default: the query's `timeout`, else the project's defaults.timeout
    run_deadline: float | None = None
    quiet: bool = False
    ca_bundle: Path | None = None  # a private CA, added to the system's and certifi's roots
    shard: str | None = None  # `--shard I/N` as given (parsed by run_command: the CLI stays parsing only)
    shard_by: str = "hash"  # `--shard-by`: plan.shard.SHARD_BY
    tuning: Tuning = field(default_factory=Tuning)
