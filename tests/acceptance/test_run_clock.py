"""The run's reference time: the sandbox serves its simulated clock as each reply's `Date` (moved by
`/_sandbox/advance`'s days, remembered by its store), and `vqr run` records it in run.json as `as_of`
(`clock: server`), so exception expiry and finding ages follow the tenant's clock rather than the runner's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from runner.client.retry import parse_http_date
from tests.acceptance.impact_repo import repo, target, veza, vqr
from tests.acceptance.sandbox_fixtures import client_for, running_sandbox

__all__ = ["repo", "target", "veza"]


def server_now(client: httpx.Client) -> datetime:
    return parsedate_to_datetime(client.get("/_sandbox/stats").headers["date"])


def test_the_date_header_moves_with_each_advance(target: httpx.Client) -> None:
    start = server_now(target)
    assert abs((start - datetime.now(UTC)).total_seconds()) < 5
    assert target.post("/_sandbox/advance", json={}).json()["days"] == 1  # a nightly step by default
    assert target.post("/_sandbox/advance", json={"days": 30}).status_code == 200
    assert round((server_now(target) - start) / timedelta(days=1)) == 31
    assert target.post("/_sandbox/advance", json={"days": -1}).status_code == 400
    assert target.post("/_sandbox/reset").status_code == 200
    assert round((server_now(target) - start) / timedelta(days=1)) == 0


def test_a_stored_sandbox_keeps_its_clock(tmp_path: Path) -> None:
    with running_sandbox(state=str(tmp_path / "store"), nodes=100) as first, client_for(first) as client:
        assert client.post("/_sandbox/advance", json={"days": 7}).status_code == 200
    with running_sandbox(state=str(tmp_path / "store"), nodes=100) as again, client_for(again) as client:
        assert round((server_now(client) - datetime.now(UTC)) / timedelta(days=1)) == 7


def test_run_json_records_the_tenants_clock(repo: Path, target: httpx.Client,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert target.post("/_sandbox/advance", json={"days": 40}).status_code == 200
    code, _, err = vqr(capsys, "run", "--env", "sandbox", "--select", "tag:nightly", "--quiet")
    assert code == 0, err
    run = json.loads((repo / "reports" / "latest" / "run.json").read_text())
    as_of = datetime.fromisoformat(run["as_of"].replace("Z", "+00:00"))
    assert run["clock"] == "server" and round((as_of - datetime.now(UTC)) / timedelta(days=1)) == 40


@pytest.mark.parametrize(("value", "expected"), [
    ("Wed, 02 Dec 2026 07:00:00 GMT", datetime(2026, 12, 2, 7, tzinfo=UTC)),
    ("not a date", None), ("", None), (None, None), ("Wed, 99 Dec 2026 07:00:00 GMT", None),
])
def test_http_dates_parse_or_are_ignored(value: str | None, expected: datetime | None) -> None:
    assert parse_http_date(value) == expected

