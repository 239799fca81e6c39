"""Presence changes are gathered per group: many pages connecting at once (a restart makes every
page reconnect) cost each open page a few frames, not one per arrival."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest

from discussit.chat.presence import PresenceUpdates
from discussit.core.realtime.broker import MemoryBroker, Subscription, group_channel
from discussit.groups.membership import Member
from tests.helpers import presence_changes

pytestmark = pytest.mark.pure  # no database or Redis: the services pass leaves it out


def _drain(page: Subscription) -> list[dict]:  # type: ignore[type-arg]
    items = []
    while (item := page.get_nowait()) is not None:
        items.append(item)
    return items


def test_a_burst_of_arrivals_is_one_frame_after_the_first():
    async def scenario() -> tuple[list[dict], list[dict]]:  # type: ignore[type-arg]
        broker = MemoryBroker()
        group = uuid.uuid4()
        page = broker.subscribe(group_channel(group))
        updates = PresenceUpdates(broker, window=0.2)
        for uid in range(1, 101):  # 100 people open the group at once
            await updates.changed(group, Member(uid, f"user{uid}"), online=True)
        await updates.changed(group, Member(7, "user7"), online=False)  # and one closes it again
        right_away = _drain(page)
        await asyncio.sleep(0.4)
        return right_away, _drain(page)

    right_away, later = asyncio.run(scenario())
    assert len(right_away) == 1 and presence_changes(right_away[0].html) == {1: True}  # at once
    assert len(later) == 1  # the other 99 changes, together, each person's latest state only
    html = later[0].html
    assert presence_changes(html) == {uid: uid != 7 for uid in range(2, 101)}
    listed = re.findall(r'data-(?:online|offline)="([\d ]*)"', html)
    assert " ".join(listed).split().count("7") == 1


def test_a_change_after_a_quiet_window_goes_out_at_once_and_stop_sends_what_is_gathered():
    async def scenario() -> list[list[dict]]:  # type: ignore[type-arg]
        broker = MemoryBroker()
        group = uuid.uuid4()
        page = broker.subscribe(group_channel(group))
        updates = PresenceUpdates(broker, window=0.1)
        seen = []
        await updates.changed(group, Member(1, "ana"), online=True)
        seen.append(_drain(page))
        await asyncio.sleep(0.15)
        await updates.changed(group, Member(2, "bo"), online=True)
        seen.append(_drain(page))
        await updates.changed(group, Member(3, "cy"), online=True)  # within the window: held
        seen.append(_drain(page))
        await updates.stop()  # shutdown: nothing gathered is lost
        seen.append(_drain(page))
        return seen

    first, after_quiet, held, at_stop = asyncio.run(scenario())
    assert [len(first), len(after_quiet), len(held), len(at_stop)] == [1, 1, 0, 1]
    assert presence_changes(at_stop[0].html) == {3: True}


def test_while_changes_keep_coming_the_window_doubles_and_a_quiet_one_resets_it():
    async def scenario() -> tuple[list[float], int]:
        broker = MemoryBroker()
        group = uuid.uuid4()
        page = broker.subscribe(group_channel(group))
        updates = PresenceUpdates(broker, window=0.05, max_window=0.2)
        loop = asyncio.get_running_loop()
        began, sends = loop.time(), []
        uid = 0
        while loop.time() - began < 1.0:  # a change every 10 ms, for a second
            uid += 1
            await updates.changed(group, Member(uid, f"u{uid}"), online=True)
            sends += [loop.time() - began for _ in _drain(page)]
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.45)  # quiet: longer than the longest window
        sends += [loop.time() - began for _ in _drain(page)]
        await updates.changed(group, Member(0, "after"), online=True)
        return sends, len(_drain(page))

    sends, after_quiet = asyncio.run(scenario())
    gaps = [b - a for a, b in zip(sends, sends[1:-1], strict=False)]
    assert 4 <= len(sends) <= 9  # at a fixed 0.05 s window: about 20
    assert max(gaps) > 0.15  # it grew towards 0.2 s
    assert after_quiet == 1  # after a quiet window: at once
