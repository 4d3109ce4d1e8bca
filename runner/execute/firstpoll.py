"""When to send a job's first poll: after the query's typical duration from the journal, else after the shortest
job this run has seen so far, else at once only when the result may already be ready; and what duration the journal
keeps of a job for the next run.

`first_poll_wait(use=, typical=, seen=, remaining=)` and `kept_duration(seconds, confirms_history=)` are pure;
`RunPace` is the run's own record of its new executions' durations (in memory, shared by every task of one batch).
No I/O.

Why: each poll costs a request, client CPU and the tenant's quota. A job that the submit's reply names as a new
execution (`CacheUse.MISS`) cannot be finished the instant it was created, so polling it at 0 s is always wasted;
and a nightly batch's first run (no history yet) submits many jobs of similar length, so the first wave's
durations are a fair lower bound for the waves after it. The shortest duration, not the median, is used: waiting
too little costs one more poll, waiting too long delays a finished job, so the bound must stay on the safe side.
"""

from __future__ import annotations

from collections import deque

from runner.model import CacheUse

RECENT = 32  # new executions remembered: the latest wave of a batch, not its whole history
MIN_SEEN = 3  # fewer jobs than this say too little about the next one
# A first poll that waited the expected time and found the job ended shows only that the job took no longer: the
# journal keeps that time shortened by this share, so the expectation can come down again (see kept_duration).
DECAY = 0.1


class RunPace:
    """The durations (seconds) of the latest new executions of this run, as its tasks saw them."""

    def __init__(self, *, recent: int = RECENT, min_seen: int = MIN_SEEN) -> None:
        self._seen: deque[float] = deque(maxlen=recent)
        self._min_seen = min_seen

    def record(self, seconds: float) -> None:
        if seconds > 0:
            self._seen.append(seconds)

    def shortest(self) -> float:
        """The shortest recent duration once `min_seen` jobs have been seen, else 0.0 (nothing known)."""
        return min(self._seen) if len(self._seen) >= self._min_seen else 0.0


def first_poll_wait(*, use: CacheUse, typical: float, seen: float, remaining: float) -> float | None:
    """Seconds before the first poll of a job whose submit just replied; None for "on the poll ladder's first step"
    (a new execution with nothing known: the ladder as usual, without its poll at 0 s).

    `use` is what the reply says of the cache (a HIT is polled at once: its rows are ready), `typical` the query's
    duration from the journal (0 if none), `seen` this run's `RunPace.shortest()`, `remaining` the time to the
    deadline (the wait leaves `deadline_slack(remaining)` of it, so the deadline is not passed unpolled). An UNKNOWN
    reply with nothing known is polled at once: only a first poll that finds the job done tells a cached result from
    a new one when the reply carries no cache ids.
    """
    if use is CacheUse.HIT:
        return 0.0
    # The run's own pace only for replies that name a new execution: one without cache ids is told from a cached
    # result only by a first poll at once, and that poll is cheap for a cached result.
    wait = typical or (seen if use is CacheUse.MISS else 0.0)
    if not wait:
        return None if use is CacheUse.MISS else 0.0
    return max(0.0, min(wait, remaining - deadline_slack(remaining)))


def deadline_slack(remaining: float) -> float:
    """What a first wait leaves of the `remaining` seconds before the query's deadline: a tenth, at least a second
    (half, when less than two seconds remain). Why not half, as before: a 600 s job under the default 900 s timeout
    then waited 450 s and climbed the ladder's 5 s steps for the rest, about 30 polls every night; a tenth leaves
    90 s to learn that the job is late, which is all the slack is for."""
    return max(remaining / 10, min(remaining / 2, 1.0))


def kept_duration(seconds: float, *, confirms_history: bool) -> float:
    """The job duration the journal keeps for the next run's first poll: `seconds` as this run saw it (submit reply
    to the poll that found the job ended, or the first wait when that first poll found it), a tenth (`DECAY`)
    shorter when `confirms_history`: the first poll waited the query's typical time from the journal and found the
    job ended.

    Why: such a job may have ended long before; keeping the wait itself made the expected time a ratchet. After a
    few slow nights (3 of the last 5 runs) every later night waited the slow time, found each job ended and kept
    that time again, forever. Shortened, it comes down by a tenth a night (the journal follows the latest run when
    it is shorter than the median, state/pacing.py) until a first poll finds the job still running. The poll after
    it (client/retry.poll_delays: an eighth of the wait later) then reaches the time the wait was shortened from, so
    a job whose length holds still is polled once and twice on alternate nights, and is found at most an eighth of
    its length late, whatever that length. A wait that came from this run's other jobs (`RunPace`) is kept as it
    was: it was no estimate of this query's own, and the next run's first poll, which waits it, confirms it.
    """
    return seconds * (1.0 - DECAY) if confirms_history else seconds
