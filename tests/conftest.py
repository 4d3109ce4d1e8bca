"""Fixtures shared by every test module: the real embedded sandbox, started once per test session."""

import os
import tempfile
from pathlib import Path

from tests.acceptance.sandbox_fixtures import sandbox, sandbox_client

# The lint cache signs its packs with a per-user key; tests (and the CLI subprocesses they start) use their own.
os.environ.setdefault("VQR_LINT_CACHE_KEY_FILE", str(Path(tempfile.mkdtemp(prefix="vqr-test-")) / "lint-cache.key"))

__all__ = ["sandbox", "sandbox_client"]
