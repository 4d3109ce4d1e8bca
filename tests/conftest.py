"""Fixtures shared by every test module: the real embedded sandbox, started once per test session."""

from tests.acceptance.sandbox_fixtures import sandbox, sandbox_client

__all__ = ["sandbox", "sandbox_client"]
