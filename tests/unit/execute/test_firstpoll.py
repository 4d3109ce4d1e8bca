"""When a job's first poll is sent: history first, then the run's own shortest job, then the ladder (skipping the
poll at 0 s for a new execution); a cached result is polled at once; the deadline caps every wait."""

from __future__ import annotations

import itertools
import random

import pytest

from runner.client.retry import PollLadder, poll_delays
from runner.execute.firstpoll import DECAY, RunPace, first_poll_wait, kept_duration
from runner.model import CacheUse


def test_the_pace_knows_nothing_until_enough_jobs_were_seen() -> None:
    pace = RunPace(recent=4, min_seen=3)
    pace.record(1.2)
    pace.record(0.0)  # not a duration: ignored
    pace.record(0.9)
    assert pace.shortest() == 0.0
    pace.record(1.5)
    assert pace.shortest() == 0.9


def test_the_pace_forgets_all_but_the_recent_jobs() -> None:
    pace = RunPace(recent=3, min_seen=1)
    for seconds in (0.1, 2.0, 2.5, 3.0):
        pace.record(seconds)
    assert pace.shortest() == 2.0  # 0.1 s was pushed out by the three after it


@pytest.mark.parametrize(("use", "typical", "seen", "expected"), [
    (CacheUse.HIT, 4.0, 1.0, 0.0),  # a cached result is ready now, whatever the history says
    (CacheUse.MISS, 4.0, 1.0, 4.0),  # the query's own history wins over the run's
    (CacheUse.UNKNOWN, 4.0, 1.0, 4.0),
    (CacheUse.MISS, 0.0, 1.0, 1.0),  # no history: the shortest job of this run
    (CacheUse.MISS, 0.0, 0.0, None),  # nothing known, a new execution: the ladder without its poll at 0 s
    (CacheUse.UNKNOWN, 0.0, 0.0, 0.0),  # nothing known, no cache ids: only an immediate poll can tell a cached one
    (CacheUse.UNKNOWN, 0.0, 1.0, 0.0),  # the run's pace is for new executions only: this one may be cached
])
def test_the_first_wait(use: CacheUse, typical: float, seen: float, expected: float | None) -> None:
    assert first_poll_wait(use=use, typical=typical, seen=seen, remaining=600.0) == expected


def test_the_first_wait_leaves_time_to_poll_before_the_deadline() -> None:
    assert first_poll_wait(use=CacheUse.MISS, typical=30.0, seen=0.0, remaining=10.0) == 9.0  # at least 1 s left
    # A 600 s job under the default 900 s timeout waits its typical time (half the time left made it 450 s, then
    # the ladder's 5 s steps to the job's end: about 30 polls a night).
    assert first_poll_wait(use=CacheUse.MISS, typical=600.0, seen=0.0, remaining=900.0) == 600.0
    assert first_poll_wait(use=CacheUse.MISS, typical=880.0, seen=0.0, remaining=900.0) == 810.0  # a tenth left
    assert first_poll_wait(use=CacheUse.MISS, typical=5.0, seen=0.0, remaining=1.5) == 0.75  # little left: half
    assert first_poll_wait(use=CacheUse.MISS, typical=0.0, seen=3.0, remaining=-1.0) == 0.0


def test_without_a_first_wait_the_ladder_starts_at_its_first_step() -> None:
    ladder = PollLadder(jitter=0.0)
    assert list(itertools.islice(poll_delays(ladder, random.Random(1)), 3)) == [0.0, 0.25, pytest.approx(0.35)]
    assert list(itertools.islice(poll_delays(ladder, random.Random(1), first=None), 2)) == [0.25, pytest.approx(0.35)]


def test_only_a_first_wait_from_the_querys_history_is_kept_shorter() -> None:
    assert kept_duration(2.0, confirms_history=True) == pytest.approx(2.0 * (1 - DECAY))
    assert kept_duration(2.0, confirms_history=False) == 2.0  # seen on the ladder, or the run's pace
    assert kept_duration(1800.0, confirms_history=True) == pytest.approx(1620.0)  # a tenth at any length


def test_the_poll_after_a_shortened_wait_reaches_the_time_it_was_shortened_from() -> None:
    for seconds in (0.05, 1.0, 30.0, 60.0, 600.0, 3600.0):
        kept = kept_duration(seconds, confirms_history=True)
        near = next(itertools.islice(poll_delays(PollLadder(), random.Random(1), first=kept), 1, None))
        assert kept + near >= seconds, (seconds, kept, near)
