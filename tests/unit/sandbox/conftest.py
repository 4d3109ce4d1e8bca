"""The `graph` fixture of the engine tests: one `company()` per module."""

from __future__ import annotations

import pytest

from runner.sandbox.graph import Graph
from tests.unit.sandbox.company import company


@pytest.fixture(scope="module")
def graph() -> Graph:
    return company()
