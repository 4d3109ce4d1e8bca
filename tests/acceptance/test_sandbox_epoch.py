"""The sandbox's clock is its `--epoch`: restarted sandboxes serve identical rows, so drift shows only real change."""

from __future__ import annotations

import time

import pytest

from runner.errors import UsageError
from runner.sandbox.config import SandboxConfig
from tests.acceptance.sandbox_fixtures import NODES, client_for, running_sandbox, spec


def first_page(**overrides: object) -> list[dict[str, object]]:
    with running_sandbox(nodes=300, **overrides) as box, client_for(box) as client:
        reply = client.post(NODES, params={"page_size": 50}, json=spec("OktaUser"))
        assert reply.status_code == 200, reply.text
        values: list[dict[str, object]] = reply.json()["values"]
        return values


def test_restarted_sandboxes_serve_identical_timestamps() -> None:
    first = first_page(latency=0.0)
    time.sleep(1.1)  # a clock-relative graph would now shift every timestamp by a second
    assert first_page(latency=0.0) == first
    assert any("last_login_at" in row["properties"] for row in first)  # type: ignore[operator]


def test_another_epoch_moves_the_timestamps() -> None:
    assert first_page(latency=0.0) != first_page(latency=0.0, epoch="2025-01-01T00:00:00Z")


def test_a_bad_epoch_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--epoch"):
        SandboxConfig(epoch="yesterday")
