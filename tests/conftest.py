"""Fixtures shared by every test module: the real embedded sandbox, started once per test session."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.acceptance.sandbox_fixtures import sandbox, sandbox_client
from tests.support.redis_server import redis_server

# `make test` must be repeatable: property tests replay the same examples every run (profile "repeatable").
# `make fuzz` draws fresh random examples on every run (profile "fuzz").
settings.register_profile("repeatable", derandomize=True, deadline=None)
settings.register_profile("fuzz", deadline=None)
settings.load_profile(os.environ.get("VQR_HYPOTHESIS_PROFILE", "repeatable"))

# The lint cache signs its packs with a per-user key; tests (and the CLI subprocesses they start) use their own.
os.environ.setdefault("VQR_LINT_CACHE_KEY_FILE", str(Path(tempfile.mkdtemp(prefix="vqr-test-")) / "lint-cache.key"))



@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server for this session (each xdist worker its own): fails, never skips, when it is missing."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


__all__ = ["sandbox", "sandbox_client"]
