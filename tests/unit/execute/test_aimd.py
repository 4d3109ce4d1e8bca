"""`AimdLimit` on a hand-moved clock: multiplicative decrease once per cooldown (or Retry-After), slow additive
increase on healthy submits, the bounds, the converged mean, the compact series and the report."""

from __future__ import annotations

import pytest

from runner.execute.aimd import AimdLimit, AimdSettings


class Tick:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limit(ceiling: int = 16, start: float | None = None, **settings: float) -> tuple[AimdLimit, Tick]:
    clock = Tick()
    return AimdLimit(ceiling=ceiling, start=start, clock=clock, settings=AimdSettings(**settings)), clock  # type: ignore[arg-type]


@pytest.mark.parametrize(("start", "expected"), [(None, 16), (6.7, 6), (40, 16), (0.2, 1)])
def test_it_starts_at_the_ceiling_capped_by_the_last_value(start: float | None, expected: int) -> None:
    aimd, _ = limit(start=start)
    assert aimd.limit == aimd.start == expected


def test_a_throttle_halves_it_once_per_cooldown() -> None:
    aimd, clock = limit(cooldown=1.0)
    aimd.throttled()
    assert aimd.limit == 8
    clock.now += 0.5
    aimd.throttled()  # a request sent before the first refusal came back: not a new signal
    assert aimd.limit == 8 and aimd.throttles == 2
    clock.now += 0.6
    aimd.throttled()
    assert aimd.limit == 4
    for _ in range(10):
        clock.now += 2
        aimd.throttled()
    assert aimd.limit == 1  # never below one


def test_retry_after_lengthens_the_quiet_time_and_is_summed() -> None:
    aimd, clock = limit(cooldown=1.0)
    aimd.throttled(retry_after_wait=3.0)
    clock.now += 2.0
    aimd.throttled(retry_after_wait=1.5)
    assert aimd.limit == 8
    aimd.healthy()  # nor does it climb while the server asked us to wait
    assert aimd.limit == 8
    clock.now += 1.5
    aimd.throttled()
    assert aimd.limit == 4
    assert aimd.retry_after_seconds == pytest.approx(4.5) and aimd.throttles == 3


def test_healthy_submits_raise_it_by_about_one_per_round() -> None:
    aimd, _ = limit(ceiling=16, start=4)
    for _ in range(4):
        aimd.healthy()
    assert aimd.limit == 4  # each step is 1/limit of a growing limit: four steps stay just under 5
    aimd.healthy()
    assert aimd.limit == 5
    for _ in range(1000):
        aimd.healthy()
    assert aimd.limit == 16  # never above the configured concurrency
    assert [limit for _, limit in aimd.series()][:3] == [4, 5, 6]


def test_converged_is_the_time_weighted_mean_after_the_first_throttle() -> None:
    aimd, clock = limit(ceiling=16)
    assert aimd.converged() is None
    clock.now += 10  # before any throttle: not part of the mean
    aimd.throttled()  # 8 for 3 s
    clock.now += 3
    aimd.throttled()  # 4 for 1 s
    clock.now += 1
    assert aimd.converged() == pytest.approx((8 * 3 + 4 * 1) / 4)


def test_the_series_keeps_changes_only_and_is_thinned() -> None:
    aimd, clock = limit(ceiling=64, cooldown=0.0, max_points=8)
    clock.now += 1.25
    aimd.throttled()
    assert aimd.series() == [(0.0, 64), (1.25, 32)]
    aimd.healthy()  # 32 + 1/32: the integer limit did not change, nothing recorded
    assert len(aimd.series()) == 2
    for _ in range(200):
        clock.now += 1
        aimd.healthy()
    series = aimd.series()
    assert len(series) <= 9 and series[0] == (0.0, 64) and series[-1][1] == aimd.limit
    assert [t for t, _ in series] == sorted(t for t, _ in series)


def test_the_report_and_what_the_next_run_starts_under() -> None:
    aimd, clock = limit(ceiling=16)
    assert aimd.report(configured=16).learnt_cap is None  # reached its ceiling unthrottled: no limit found
    aimd.throttled(retry_after_wait=2.0)
    clock.now += 4
    report = aimd.report(configured=16)
    assert (report.start, report.final, report.converged, report.throttled) == (16, 8, 8.0, 1)
    assert report.learnt_cap == 8.0 and report.retry_after_seconds == 2.0
    assert report.to_json()["series"] == [[0.0, 16], [0.0, 8]]
    climbing, _ = limit(ceiling=16, start=5)
    assert climbing.report(configured=16).learnt_cap == 5.0  # still under its ceiling: the next starts there


def test_inconsistent_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="AIMD"):
        AimdSettings(decrease=1.0)
    with pytest.raises(ValueError, match="ceiling"):
        AimdLimit(ceiling=0, clock=Tick())
