"""Who is typing, told to the group's open pages: gathered per group, never stored.

A page sends a typing signal at most every few seconds while keys are pressed
(static/js/discussit.js); each user's signals are budgeted here as well (one per
SIGNAL_EVERY seconds per user and group in each process, the rest dropped without a word: a
signal is a hint).
Signals are gathered per group for WINDOW seconds and go out as one small element naming
who typed (messages/_typing_signal.html), rendered once for every page, through the broker (so
they cross processes). Pages show it for others only, and drop each name a few seconds after its
last signal or when that person's message arrives. A page that is behind (its writer busy, or
its client not reading) misses it: typing is never queued, stored, or replayed on catch-up.
A large group's pages get it a turn at a time, and a message goes first: then the pages not yet
reached miss it (core/realtime/broker.py, Broker.deliver).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from discussit.core.realtime.broker import Broker, group_channel
from discussit.core.realtime.items import TypingChanged
from discussit.core.templating import render
from discussit.groups.membership import Member

log = logging.getLogger("discussit.typing")

WINDOW = 0.5  # seconds: signals of one group gathered into one send
SIGNAL_EVERY = 2.0  # seconds: at most one signal per user this often (pages send every 3 s)
MAX_USERS = 100  # the budget's memory: users remembered at once (the oldest forgotten)


class TypingUpdates:
    """Made once per app: `typing` is called for each typing frame of a group page."""

    def __init__(self, broker: Broker, window: float = WINDOW, every: float = SIGNAL_EVERY) -> None:
        self.broker = broker
        self.window = window
        self.every = every
        # (group, user) -> when their last signal there was taken
        self._last: dict[tuple[uuid.UUID, int], float] = {}
        self._pending: dict[uuid.UUID, dict[int, Member]] = {}
        self._flushers: dict[uuid.UUID, asyncio.Task[None]] = {}

    def typing(self, group_id: uuid.UUID, member: Member) -> bool:
        """One signal: False if it is past the user's budget (dropped)."""
        now = time.monotonic()
        key = (group_id, member.user_id)
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            return False
        self._last.pop(key, None)
        self._last[key] = now  # (newest last: the oldest are forgotten first)
        while len(self._last) > MAX_USERS:
            oldest = next(iter(self._last))
            if now - self._last[oldest] < self.every:
                break  # still within its budget window: keep it (more users than usual)
            del self._last[oldest]
        self._pending.setdefault(group_id, {})[member.user_id] = member
        if group_id not in self._flushers:
            self._flushers[group_id] = asyncio.get_running_loop().create_task(
                self._flush_after(group_id)
            )
        return True

    async def _flush_after(self, group_id: uuid.UUID) -> None:
        try:
            await asyncio.sleep(self.window)
        finally:
            self._flushers.pop(group_id, None)
        members = self._pending.pop(group_id, None)
        if not members:
            return
        html = render("messages/_typing_signal.html", members=list(members.values()))
        try:
            await self.broker.publish(group_channel(group_id), TypingChanged(html))
        except Exception as failure:  # a hint lost: nothing to catch up
            log.warning("typing not published group=%s: %s", group_id, type(failure).__name__)

    async def stop(self) -> None:
        for task in list(self._flushers.values()):
            task.cancel()
        await asyncio.gather(*self._flushers.values(), return_exceptions=True)
