"""`runner.rates`: rate parsing and the GCRA arithmetic that the sandbox's gateway, the local budget and the Redis
script share."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import UsageError
from runner.rates import Gcra, budget_settings, parse_rate


@pytest.mark.parametrize(("text", "per_second"), [("20/s", 20.0), ("600/min", 10.0), (" 1.5 / second ", 1.5),
                                                  ("30/m", 0.5), (7, 7.0), (0.25, 0.25)])
def test_rates_parse_per_second(text: str | float, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["20", "20/h", "/s", "0/s", "-1/s", "fast", "2e9/s", True])
def test_bad_rates_are_usage_errors(text: str | float) -> None:
    with pytest.raises(UsageError, match="--rate-limit"):
        parse_rate(text, what="--rate-limit")


def test_a_burst_goes_at_once_then_one_per_interval() -> None:
    gcra = Gcra(rate=10.0, burst=3)
    tat, waits = None, []
    for _ in range(6):
        tat, wait = gcra.reserve(tat, now=100.0)
        waits.append(round(wait, 9))
    assert waits == [0.0, 0.0, 0.0, 0.1, 0.2, 0.3]
    assert tat == pytest.approx(100.6)


def test_an_idle_bucket_refills_but_never_beyond_its_burst() -> None:
    gcra = Gcra(rate=10.0, burst=2)
    tat, _ = gcra.reserve(None, now=0.0)
    tat, _ = gcra.reserve(tat, now=0.0)
    # An hour later the bucket is full again, and holds two, not 36,000.
    tat, first = gcra.reserve(tat, now=3600.0)
    tat, second = gcra.reserve(tat, now=3600.0)
    _, third = gcra.reserve(tat, now=3600.0)
    assert (first, second) == (0.0, 0.0) and third == pytest.approx(0.1)


def test_admit_refuses_without_spending_and_says_how_long() -> None:
    gcra = Gcra(rate=4.0, burst=1)
    tat, wait = gcra.admit(None, now=10.0)
    assert (tat, wait) == (10.25, 0.0)
    refused, wait = gcra.admit(tat, now=10.1)
    assert refused is None and wait == pytest.approx(0.15)
    # The refusal left the TAT alone: at 10.25 the call passes.
    assert gcra.admit(tat, now=10.25) == (10.5, 0.0)


def test_sustained_rate_matches_the_setting() -> None:
    gcra = Gcra(rate=20.0, burst=5)
    tat, now, sent = None, 0.0, 0
    while now < 10.0:  # a client hammering every millisecond for ten seconds
        new_tat, _ = gcra.admit(tat, now)
        if new_tat is not None:
            tat, sent = new_tat, sent + 1
        now += 0.001
    assert 20 * 10 <= sent <= 20 * 10 + 5


def test_a_gcra_needs_a_positive_rate_and_burst() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        Gcra(rate=0.0)
    with pytest.raises(ValueError, match="burst"):
        Gcra(rate=1.0, burst=0)


def test_budget_settings_from_the_section(tmp_path: Path) -> None:
    assert budget_settings({}, tmp_path) is None
    local = budget_settings({"rate": "600/min"}, tmp_path)
    assert local is not None and local.rate == 10.0 and local.burst == 1 and not local.shared
    shared = budget_settings({"rate": 5, "burst": 3, "redis_file": "secrets/redis"}, tmp_path)
    assert shared is not None and shared.shared and shared.redis_file == tmp_path / "secrets" / "redis"
    assert shared.gcra() == Gcra(rate=5.0, burst=3)
