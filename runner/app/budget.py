"""vqr.yaml `api.budget` → the client's submit `Budget` for one run's target: the Redis URL read as a secret (from
`redis_env` or `redis_file`; `redis` is a URL without credentials), warnings to stderr. No I/O but the URL's file.
"""

from __future__ import annotations

from typing import TextIO

from runner.client import Budget, make_budget
from runner.rates import BudgetSettings
from runner.sanitize import terminal_line
from runner.secret import Secret, load_secret
from runner.settings import ProcessEnv

REDIS_URL = "the shared budget's Redis URL"


def submit_budget(settings: BudgetSettings | None, process: ProcessEnv, *, target: str, api_key: Secret,
                  err: TextIO, shards: int = 1) -> Budget | None:
    """None without `api.budget`; a missing variable or unreadable file is a `SecretError` (exit 2, nothing sent).
    `shards`: this run is one of that many shard processes, so paced alone it takes its share of the rate."""
    if settings is None:
        return None
    url: Secret | None = None
    if settings.redis is not None:
        url = Secret(settings.redis)
    elif settings.shared:
        url = load_secret(process.variables, what=REDIS_URL, env_var=settings.redis_env, file=settings.redis_file)

    def warn(line: str) -> None:
        err.write(f"vqr run: warning: {terminal_line(line)}\n")
        err.flush()

    return make_budget(settings.gcra(), url=url, target=target, api_key=api_key, warn=warn, parts=shards)
