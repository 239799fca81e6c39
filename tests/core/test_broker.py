"""The broker's subscriptions: bounded, never waiting on a reader, and a resync (an emptied
queue) never loses the owner's own control item."""

from __future__ import annotations

import asyncio

from discussit.core.realtime.broker import MemoryBroker
from discussit.core.realtime.items import RESYNC, CountChanged


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
