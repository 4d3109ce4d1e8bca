"""`AdaptiveSlots`: at most `limit` holders, waiters woken oldest first when a slot frees or the limit rises, a
lower limit applied as holders leave, only submits feeding the increase, and cancelled waiters leaking nothing."""

from __future__ import annotations

import asyncio

from runner.execute.aimd import AimdLimit, AimdSettings
from runner.execute.slots import AdaptiveSlots


class Tick:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def gate(ceiling: int, start: float | None = None) -> tuple[AdaptiveSlots, Tick]:
    clock = Tick()
    aimd = AimdLimit(ceiling=ceiling, start=start, clock=clock, settings=AimdSettings(cooldown=1.0))
    return AdaptiveSlots(aimd), clock


async def _holders(slots: AdaptiveSlots, count: int, release: asyncio.Event,
                   order: list[int]) -> list[asyncio.Task[None]]:
    async def hold(i: int) -> None:
        async with slots:
            order.append(i)
            await release.wait()

    tasks = [asyncio.create_task(hold(i)) for i in range(count)]
    for _ in range(5):
        await asyncio.sleep(0)
    return tasks


def test_no_more_than_the_limit_hold_a_slot_and_the_rise_wakes_waiters() -> None:
    async def scenario() -> None:
        slots, _ = gate(ceiling=4, start=2)
        release, order = asyncio.Event(), list[int]()
        tasks = await _holders(slots, 5, release, order)
        assert order == [0, 1] and slots.in_flight == 2
        slots.answered("poll")  # polls never raise the limit
        assert slots.aimd.limit == 2
        for _ in range(3):
            slots.answered("submit")  # 2 + 1/2 + 1/2.5 + 1/2.9 > 3
        await asyncio.sleep(0)
        assert order == [0, 1, 2] and slots.in_flight == 3
        release.set()
        await asyncio.gather(*tasks)
        assert order == [0, 1, 2, 3, 4] and slots.in_flight == 0

    asyncio.run(scenario())


def test_a_throttle_lowers_the_limit_as_holders_leave() -> None:
    async def scenario() -> None:
        slots, _ = gate(ceiling=4)
        release, order = asyncio.Event(), list[int]()
        first = await _holders(slots, 4, release, order)
        slots.throttled("submit", status=429, retry_after_wait=None)
        assert slots.aimd.limit == 2 and slots.in_flight == 4  # nothing in flight is stopped
        later_release, later = asyncio.Event(), list[int]()
        waiting = await _holders(slots, 3, later_release, later)
        release.set()
        await asyncio.gather(*first)
        await asyncio.sleep(0)
        assert len(later) == 2 and slots.in_flight == 2
        later_release.set()
        await asyncio.gather(*waiting)
        assert slots.in_flight == 0

    asyncio.run(scenario())


def test_a_cancelled_waiter_leaks_no_slot() -> None:
    async def scenario() -> None:
        slots, _ = gate(ceiling=1)
        release, order = asyncio.Event(), list[int]()
        (holder, waiter, last) = await _holders(slots, 3, release, order)
        waiter.cancel()
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(holder, last)
        assert order == [0, 2] and slots.in_flight == 0 and waiter.cancelled()

    asyncio.run(scenario())


def test_a_group_done_with_the_tenant_hands_its_slot_on_before_it_ends_and_only_once() -> None:
    async def scenario() -> None:
        slots, _ = gate(ceiling=1, start=1)
        assessing, entered = asyncio.Event(), list[str]()

        async def first() -> None:
            async with slots.hold() as held:
                entered.append("first")
                held.release()  # its pages are read
                held.release()  # and again, as run_group's last member does: nothing more is given back
                await assessing.wait()  # its rows are still being assessed

        async def second() -> None:
            async with slots.hold():
                entered.append("second")

        tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
        for _ in range(5):
            await asyncio.sleep(0)
        assert entered == ["first", "second"]  # the second went in while the first still ran
        assessing.set()
        await asyncio.gather(*tasks)
        assert slots.in_flight == 0  # never below zero: the block's end gave nothing back twice

    asyncio.run(scenario())
