"""The in-app broker: carries live items (core/realtime/items.py) between connections.

Each subscriber owns one bounded queue; publishing never waits for a slow subscriber. A
subscriber whose queue fills up is marked for resync (its queue is emptied and a Resync item put
in), and it catches up from the database, the source of truth.

`MemoryBroker` serves one process; `redis.RedisBroker` (one subscriber task per process, decoding
each item once and calling `deliver`) serves several.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from discussit.core.realtime.items import RESYNC, EntryAppended, Item, TypingChanged

log = logging.getLogger("discussit.broker")

LOBBY = "lobby"  # every home page
# A typing element goes to a large group's pages this many at a time (Broker.deliver).
HINT_TURN = 100


def group_channel(group_id: uuid.UUID) -> str:
    return f"group:{group_id}"


def user_channel(user_id: int) -> str:
    return f"user:{user_id}"


class Subscription:
    """One connection's view of the broker: a bounded queue fed by one or more channels, read by
    one task. (A list and one waiter: an asyncio.Queue costs every open page ~2 KB more, and
    an empty deque 624 bytes against a list's 56; the queue is short and bounded.)

    An owner may also take items as they are delivered (`direct`: with nothing queued, it is
    offered each item first and returns True when it dealt with it at once, without waiting),
    and be told when items are queued (`on_queued`), to start a reader only when one is needed
    (chat/connection.py: an idle page has no task of its own)."""

    __slots__ = (
        "broker",
        "channels",
        "maxsize",
        "items",
        "control",
        "_waiter",
        "direct",
        "on_queued",
    )

    def __init__(self, broker: Broker, channels: tuple[str, ...], maxsize: int) -> None:
        self.broker = broker
        self.channels = channels
        self.maxsize = maxsize
        self.items: list[Any] = []
        self.control: object | None = None  # the owner's own item, ahead of the queue
        self._waiter: asyncio.Future[None] | None = None
        self.direct: Callable[[Any], bool] | None = None
        self.on_queued: Callable[[], None] | None = None

    def put(self, item: Item) -> None:
        direct = self.direct
        if direct is not None and not self.items and self.control is None:
            try:
                if direct(item):
                    return
            except Exception:  # one page's fault never stops a fan-out: it gets the item queued
                log.exception("direct delivery failed")
        if len(self.items) >= self.maxsize:
            self.resync()
            return
        self.items.append(item)
        self._wake()

    def interrupt(self, item: object) -> None:
        """Hand the owner's reader one item of its own, ahead of the queue. It is kept apart
        from the queue, so a resync (which empties the queue) never drops it; one at a time."""
        self.control = item
        self._wake()

    def resync(self) -> None:
        """Drop what is queued and ask the owner to re-read from the database."""
        self.items.clear()
        self.items.append(RESYNC)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        elif self.on_queued is not None:
            self.on_queued()

    async def get(self) -> Any:
        """The next item, waiting for one (one reader at a time)."""
        while not self.has_items():
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._next()

    def has_items(self) -> bool:
        """Is anything waiting to be read?"""
        return bool(self.items) or self.control is not None

    def get_nowait(self) -> Any:
        """The next item if there is one, else None."""
        return self._next() if self.has_items() else None

    def _next(self) -> Any:
        if self.control is not None:
            item, self.control = self.control, None
            return item
        return self.items.pop(0)

    def close(self) -> None:
        self.broker.unsubscribe(self)


class Broker:
    def __init__(self, queue_size: int = 1024) -> None:
        self.queue_size = queue_size
        self._subscribers: defaultdict[str, set[Subscription]] = defaultdict(set)
        self._hints: dict[str, asyncio.Handle] = {}  # a typing element part way through its pages

    async def start(self) -> None:
        """Connect to the backend (nothing to do in memory)."""

    async def stop(self) -> None:
        """Disconnect from the backend."""

    async def publish(self, channel: str, item: Item) -> None:
        raise NotImplementedError

    async def healthy(self) -> bool:
        """Can this broker carry items right now? (for /healthz; may ask the backend)"""
        return True

    def ready(self) -> bool:
        """Is it subscribed, so new sockets will get live items? (cheap: no round trip)"""
        return True

    def subscribe(self, *channels: str) -> Subscription:
        sub = Subscription(self, channels, self.queue_size)
        for channel in channels:
            self._subscribers[channel].add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        for channel in sub.channels:
            subs = self._subscribers.get(channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subscribers[channel]

    def deliver(self, channel: str, item: Item) -> None:
        """Hand an item to every local subscriber of `channel`, without ever waiting.

        A typing element goes to a large group's pages HINT_TURN at a time, a turn per pass of
        the event loop: a message read meanwhile goes first instead of waiting for the whole
        burst (1,000 pages took about 17 ms on the bench's machine). A new line of the timeline
        delivered on the channel before the last turn drops the rest: a typing element is a
        hint (the next comes within a second), and none may reach a page after its author's
        message."""
        subs = tuple(self._subscribers.get(channel, ()))
        if self._hints and (type(item) is EntryAppended or type(item) is TypingChanged):
            rest = self._hints.pop(channel, None)  # (every message passes here: mostly empty)
            if rest is not None:
                rest.cancel()
        if type(item) is TypingChanged and len(subs) > HINT_TURN:
            self._hint_turn(channel, item, subs, 0)
            return
        for sub in subs:
            sub.put(item)

    def _hint_turn(
        self, channel: str, item: Item, subs: tuple[Subscription, ...], start: int
    ) -> None:
        end = start + HINT_TURN
        for sub in subs[start:end]:
            sub.put(item)
        if end < len(subs):
            self._hints[channel] = asyncio.get_running_loop().call_soon(
                self._hint_turn, channel, item, subs, end
            )
        else:
            self._hints.pop(channel, None)

    def resync_all(self) -> None:
        """Every local subscriber re-reads from the database (after the backend lost items)."""
        for sub in {s for subs in self._subscribers.values() for s in subs}:
            sub.resync()

    def subscriber_count(self) -> int:
        return len({s for subs in self._subscribers.values() for s in subs})


class MemoryBroker(Broker):
    """Single-process broker: publishing is delivering."""

    async def publish(self, channel: str, item: Item) -> None:
        self.deliver(channel, item)
