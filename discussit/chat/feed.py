"""The ordered feed of one open group page: every entry reaches the page once and in order.

The feed keeps a cursor (the last seq sent), holds entries that arrive ahead of an earlier one
(concurrent senders commit in seq order but may publish out of order), fills gaps that stay open
from the database, and batches: under load whatever is already queued goes out in one frame
(a join, leave or change starts a frame of its own: see _MESSAGE below).
It knows nothing of sockets: it queues HTML and sends frames through an `Outlet` (the socket's
FrameSender; in tests/chat/test_feed.py a plain list), and reads what it missed through `read`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from discussit import limits
from discussit.core.realtime.broker import Subscription
from discussit.core.realtime.items import EntryAppended
from discussit.timeline.entries import Entry, Kind
from discussit.timeline.live import entry_html

GAP_WAIT = 1.0  # seconds to wait for an entry published out of order before reading the DB
MAX_PENDING = 64  # entries held while waiting for an earlier one
MAX_BATCH = 64  # items (or caught-up entries) sent together in one frame
# A live entry other than a message (a join or leave, an edit, a deletion, a reaction) starts a
# frame of its own: its out-of-band parts may aim at what the entries before it in the batch
# add (a message it edits, a member an earlier join listed), and htmx finds every out-of-band
# target of a frame before it swaps any of it. (A catch-up sends each message as it is now, so
# a change in the same frame as its message changes nothing.)
_MESSAGE = Kind.MESSAGE.value


class Sequenced(Protocol):
    """An entry as the feed sends it: from the database (Entry) or live (EntryAppended)."""

    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def user_id(self) -> int: ...


class Outlet(Protocol):
    """Where the feed's HTML goes: `queue` adds to the next frame (`new_frame`: to a new one),
    `flush` sends them; `send_now` sends one frame at once if that needs no wait (else False,
    nothing sent)."""

    closed: bool

    def queue(self, html: str, new_frame: bool = False) -> None: ...
    async def flush(self) -> None: ...
    def send_now(self, html: str) -> bool: ...


class TooFarBehind(Exception):
    """More was missed than a catch-up replays (limits.CATCH_UP_MAX): the page must reload."""


# read(after) -> (the group's last seq, the entries after `after` up to it, oldest first, at
# most CATCH_UP_MAX + 1). It may raise to refuse (the page's viewer left, or logged out).
Read = Callable[[int], Awaitable[tuple[int, list[Entry]]]]


class Feed:
    # One per open page: slots instead of a dict.
    __slots__ = ("out", "read", "last_sent", "pending", "held_all")

    def __init__(self, out: Outlet, read: Read) -> None:
        self.out = out
        self.read = read
        self.last_sent: int | None = None  # None until the page says where it is (resume)
        self.pending: dict[int, EntryAppended] = {}  # entries that arrived ahead of an earlier one
        self.held_all = True  # every live entry before the start is in `pending` (`hold`)

    @property
    def started(self) -> bool:
        return self.last_sent is not None

    def hold(self, item: EntryAppended) -> None:
        """A live entry before the page said where it is: held (up to MAX_PENDING), so that a
        page resuming from where it was admitted needs no read (`start`)."""
        if self.held_all and len(self.pending) < MAX_PENDING:
            self.pending[item.seq] = item
        else:
            self.held_all = False  # too many: the start reads the database instead
            self.pending.clear()

    async def start(self, after: int, admitted_at: int | None = None) -> list[Sequenced]:
        """The page has everything up to `after`: send what came since, then go live. When
        `after` is the group's last seq as of the page's admission (read after subscribing)
        and every live entry since is held, they are all it missed: no read."""
        self.last_sent = after
        if after == admitted_at and self.held_all:
            self.pending = {s: i for s, i in self.pending.items() if s > after}
            sent = self._release()
            if not self.pending:  # (else an entry is missing between them: read)
                await self.out.flush()
                return sent
        return await self.catch_up()

    async def catch_up(self) -> list[Sequenced]:
        """Send every entry after the cursor, from the database, then any held entries that now
        follow. Returns what was sent. Raises TooFarBehind (nothing sent), or what `read` raises."""
        assert self.last_sent is not None
        upto, entries = await self.read(self.last_sent)
        # A cursor past the group's last seq (a stale or forged page) would hide what comes next.
        self.last_sent = min(self.last_sent, upto)
        if len(entries) > limits.CATCH_UP_MAX:
            raise TooFarBehind
        for count, entry in enumerate(entries, 1):
            self.out.queue(entry_html(entry))
            self.last_sent = entry.seq
            if count % MAX_BATCH == 0:
                await self.out.flush()
        # Everything up to `upto` has been read: a seq with no entry (a collapsed join/leave)
        # is no gap to wait for.
        self.last_sent = max(self.last_sent, upto)
        self.pending = {s: i for s, i in self.pending.items() if s > self.last_sent}
        sent: list[Sequenced] = [*entries, *self._release()]
        await self.out.flush()
        return sent

    def take(self, item: EntryAppended) -> tuple[Sequenced, ...] | None:
        """A live entry: queued if it is the next one (with the held entries that follow it),
        held if an earlier one is missing, dropped if already sent. Returns what was queued, or
        None when too many are held: then catch up from the database now. (The hot path of
        every delivery: the next entry, nothing held.)"""
        last = self.last_sent
        assert last is not None
        seq = item.seq
        if seq == last + 1:
            self.out.queue(item.html, item.kind != _MESSAGE)
            self.last_sent = seq
            return (item, *self._release()) if self.pending else (item,)
        if seq <= last:
            return ()  # already sent by a catch-up
        self.pending[seq] = item  # usually the earlier one comes within milliseconds
        return None if len(self.pending) > MAX_PENDING else ()

    def send_now(self, item: EntryAppended) -> bool:
        """The hot path of a live page whose writer is idle: the next entry, nothing held,
        written at once if the outlet can (True). Else nothing changes (`take` it in turn)."""
        last = self.last_sent
        if last is None or item.seq != last + 1 or self.pending or not self.out.send_now(item.html):
            return False
        self.last_sent = item.seq
        return True

    def _release(self) -> list[Sequenced]:
        released: list[Sequenced] = []
        assert self.last_sent is not None
        while (item := self.pending.pop(self.last_sent + 1, None)) is not None:
            self.out.queue(item.html, item.kind != _MESSAGE)
            self.last_sent = item.seq
            released.append(item)
        return released

    async def drain(
        self,
        sub: Subscription,
        handle: Callable[[Any], Awaitable[None]],
        on_gap: Callable[[], Awaitable[None]],
    ) -> None:
        """The page's writer: handle what the subscription has queued, then return (it runs only
        while there is work; chat/connection.py starts it when items are queued). Whatever is
        already queued (up to MAX_BATCH) goes out in one frame. While an entry is held for an
        earlier one, it waits up to GAP_WAIT seconds for more; a gap still open then costs one
        catch-up (`on_gap`), so only a gap that stays open reads the database."""
        out = self.out
        while not out.closed:
            for _ in range(MAX_BATCH):
                if out.closed or (item := sub.get_nowait()) is None:
                    break
                await handle(item)
            if self.started:  # before the page says where it is, what is queued waits for it
                await out.flush()
            if sub.has_items():
                continue
            if not self.pending or not self.started or out.closed:
                # (No await since the check: an item queued later starts a new writer. Held
                # before the start, entries wait for the resume frame, which starts one.)
                return
            try:
                async with asyncio.timeout(GAP_WAIT):
                    item = await sub.get()
            except TimeoutError:
                await on_gap()
                continue
            await handle(item)
