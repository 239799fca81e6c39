"""The broker's subscriptions: bounded, never waiting on a reader, and a resync (an emptied
queue) never loses the owner's own control item."""

from __future__ import annotations

import asyncio

import pytest

from discussit.core.realtime.broker import MemoryBroker
from discussit.core.realtime.items import RESYNC, CountChanged

pytestmark = pytest.mark.pure  # no database or Redis: the services pass leaves it out


def test_a_full_queue_is_emptied_and_marked_for_resync():
    broker = MemoryBroker(queue_size=3)
    sub = broker.subscribe("lobby")
    for n in range(4):
        broker.deliver("lobby", CountChanged(str(n)))
    assert list(sub.items) == [RESYNC]


def test_the_owners_control_item_comes_first_and_survives_a_resync():
    async def scenario() -> list[object]:
        broker = MemoryBroker(queue_size=2)
        sub = broker.subscribe("g")
        sub.put(CountChanged("queued"))
        sub.interrupt("resume")
        for n in range(2):  # the second overflows: the queue is emptied
            sub.put(CountChanged(str(n)))
        return [await sub.get(), sub.get_nowait(), sub.get_nowait()]

    assert asyncio.run(scenario()) == ["resume", RESYNC, None]


def test_an_interrupt_wakes_a_waiting_reader():
    async def scenario() -> object:
        sub = MemoryBroker().subscribe("g")
        waiting = asyncio.create_task(sub.get())
        await asyncio.sleep(0)
        sub.interrupt("resume")
        return await asyncio.wait_for(waiting, 1)

    assert asyncio.run(scenario()) == "resume"


def test_an_owner_takes_items_directly_while_nothing_is_queued_and_is_told_when_they_queue():
    sub = MemoryBroker().subscribe("g")
    taken: list[object] = []
    woken: list[int] = []
    sub.direct = lambda item: item != CountChanged("no") and not taken.append(item)
    sub.on_queued = lambda: woken.append(len(sub.items))
    sub.put(CountChanged("a"))  # taken at once
    sub.put(CountChanged("no"))  # refused: queued, and the owner is told
    sub.put(CountChanged("b"))  # something is queued: it queues behind, in order
    assert taken == [CountChanged("a")]
    assert list(sub.items) == [CountChanged("no"), CountChanged("b")] and woken == [1, 2]


def test_a_direct_delivery_that_fails_queues_the_item_and_the_fan_out_goes_on():
    broker = MemoryBroker()
    broken, fine = broker.subscribe("g"), broker.subscribe("g")

    def fail(item: object) -> bool:
        raise RuntimeError("a bug in one page")

    broken.direct = fail
    broker.deliver("g", CountChanged("x"))
    assert list(broken.items) == [CountChanged("x")] and list(fine.items) == [CountChanged("x")]
