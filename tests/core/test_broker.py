"""The broker's subscriptions: bounded, never waiting on a reader, and a resync (an emptied
queue) never loses the owner's own control item."""

from __future__ import annotations

import asyncio

import pytest

from discussit.core.realtime.broker import HINT_TURN, MemoryBroker
from discussit.core.realtime.items import RESYNC, CountChanged, EntryAppended, TypingChanged

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


def _pages(broker: MemoryBroker, count: int) -> list[list[object]]:
    """`count` pages of group "g" that take every item at once; what each got, in order."""
    got: list[list[object]] = []
    for _ in range(count):
        sub = broker.subscribe("g")
        mine: list[object] = []
        sub.direct = lambda item, mine=mine: not mine.append(item)  # type: ignore[func-returns-value]
        got.append(mine)
    return got


def test_a_typing_element_reaches_a_large_group_a_turn_at_a_time_and_a_message_goes_between():
    typing, message = TypingChanged("<b>ana</b>"), EntryAppended(7, "message", 1, "<li>hi</li>")

    async def scenario() -> tuple[list[int], list[list[object]]]:
        broker = MemoryBroker()
        pages = _pages(broker, 2 * HINT_TURN + 50)
        reached = []
        broker.deliver("g", typing)
        reached.append(sum(typing in got for got in pages))  # the first turn, at once
        await asyncio.sleep(0)  # one pass of the loop: the next turn
        reached.append(sum(typing in got for got in pages))
        broker.deliver("g", message)  # a message before the last turn: it drops the rest
        for _ in range(3):
            await asyncio.sleep(0)
        reached.append(sum(typing in got for got in pages))
        return reached, pages

    reached, pages = asyncio.run(scenario())
    assert reached == [HINT_TURN, 2 * HINT_TURN, 2 * HINT_TURN]
    assert all(got[-1] == message for got in pages)  # every page has the message, last
    assert all(got.count(typing) <= 1 for got in pages)


def test_a_typing_element_reaches_every_page_of_a_large_group_and_a_small_one_at_once():
    typing = TypingChanged("<b>ben</b>")

    async def scenario() -> tuple[int, int, int]:
        broker = MemoryBroker()
        small = _pages(broker, HINT_TURN)  # group "g": at once
        broker.deliver("g", typing)
        at_once = sum(typing in got for got in small)
        large = MemoryBroker()
        pages = _pages(large, 3 * HINT_TURN + 1)
        large.deliver("g", typing)
        first = sum(typing in got for got in pages)
        for _ in range(4):
            await asyncio.sleep(0)
        return at_once, first, sum(got == [typing] for got in pages)

    assert asyncio.run(scenario()) == (HINT_TURN, HINT_TURN, 3 * HINT_TURN + 1)
