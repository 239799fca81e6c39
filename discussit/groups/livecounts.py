"""One viewer's unread counts, kept live from their groups' channels (groups/reading.py counts
them in the database; this follows them between counts, with no query per message)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from discussit.core.db import Database
from discussit.core.realtime.broker import Broker, Subscription, group_channel
from discussit.core.realtime.items import EntryAppended
from discussit.groups.reading import Unread, unread_now
from discussit.timeline.entries import Kind

MAX_EARLY = 64  # entries held for a group subscribed to and not yet counted
_MESSAGE = Kind.MESSAGE.value
_RECOUNTED = frozenset({Kind.DELETED.value, Kind.EDITED.value})


@dataclass(frozen=True, slots=True)
class UnreadChanged:
    """A page's or stream's count of a group changed (LiveCounts): send it. Local: never
    crosses the broker."""

    group_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Recount:
    """A page's or stream's count of a group must be read from the database again. Local."""

    group_id: uuid.UUID


class LiveCounts:
    """One viewer's unread counts of some of their groups, kept live from those groups'
    channels with no query per message: a new message by someone else after what was counted
    adds one. What cannot be followed that way (a deletion or an edit while something is
    unread, items lost by the broker, a cursor moved part way) asks for a count from the database
    (`recount`). `changed(group_id)` is called whenever a count may have changed."""

    def __init__(
        self,
        broker: Broker,
        viewer_id: int,
        changed: Callable[[uuid.UUID], None],
        recount: Callable[[uuid.UUID], None],
    ) -> None:
        self.broker = broker
        self.viewer_id = viewer_id
        self.changed = changed
        self.recount = recount
        self.counts: dict[uuid.UUID, Unread] = {}
        self._subs: dict[uuid.UUID, Subscription] = {}
        self._early: dict[uuid.UUID, list[EntryAppended]] = {}  # subscribed, not yet counted

    def subscribe(self, group_id: uuid.UUID) -> None:
        """Before `group_id` is counted (or counted again) from the database, then `follow`:
        subscribed if not yet, and entries published meanwhile are held, then counted if the
        count did not include them (by seq). Meanwhile the count shown stays the last one."""
        if group_id not in self._subs:
            sub = self.broker.subscribe(group_channel(group_id))
            sub.direct = lambda item: self._entry(group_id, item)
            sub.on_queued = lambda: self._lost(group_id, sub)
            self._subs[group_id] = sub
        self._early[group_id] = []

    def follow(self, group_id: uuid.UUID, state: Unread) -> None:
        """Count `group_id` live from `state`, read after `subscribe`."""
        if group_id not in self._subs:
            self.subscribe(group_id)
        self.counts[group_id] = state
        early = self._early.pop(group_id, None)
        if early is None:
            return
        if len(early) > MAX_EARLY:
            self.recount(group_id)
            return
        for item in early:
            self._entry(group_id, item)

    async def count_now(self, db: Database, group_ids: list[uuid.UUID]) -> None:
        """(Re)count these groups from the database and follow them from there: subscribed
        first, then one read (Database.read), so nothing published meanwhile is missed or
        counted twice; a group the viewer no longer belongs to is dropped."""
        for group_id in group_ids:
            self.subscribe(group_id)
        viewer_id = self.viewer_id
        found = await db.read(lambda conn: unread_now(conn, viewer_id, group_ids))
        for group_id in group_ids:
            if group_id in found:
                self.follow(group_id, found[group_id])
            else:
                self.drop(group_id)

    def drop(self, group_id: uuid.UUID) -> None:
        self.counts.pop(group_id, None)
        self._early.pop(group_id, None)
        sub = self._subs.pop(group_id, None)
        if sub is not None:
            sub.close()

    def close(self) -> None:
        for group_id in list(self._subs):
            self.drop(group_id)

    def count(self, group_id: uuid.UUID) -> int:
        state = self.counts.get(group_id)
        return 0 if state is None else state.count

    def mentions(self, group_id: uuid.UUID) -> int:
        state = self.counts.get(group_id)
        return 0 if state is None else state.mentions

    def notify(self, group_id: uuid.UUID) -> str:
        """The viewer's notification level there (counted from the database, or chosen since)."""
        state = self.counts.get(group_id)
        return "mentions" if state is None else state.notify

    def level_chosen(self, group_id: uuid.UUID, level: str) -> None:
        state = self.counts.get(group_id)
        if state is not None:
            state.notify = level

    def _entry(self, group_id: uuid.UUID, item: object) -> bool:
        if type(item) is not EntryAppended:
            return True
        early = self._early.get(group_id)
        if early is not None:  # being counted: held until the count is in (`follow`)
            if len(early) <= MAX_EARLY:
                early.append(item)  # (past MAX_EARLY: `follow` counts again)
            return True
        state = self.counts.get(group_id)
        if state is None:
            return True
        if item.seq <= state.last_seq:
            return True  # counted already
        state.last_seq = item.seq
        if item.kind == _MESSAGE and item.user_id != self.viewer_id and item.seq > state.cursor:
            state.count += 1
            if self.viewer_id in item.mentions:
                state.mentions += 1
            self.changed(group_id)
        elif item.kind in _RECOUNTED and state.count:
            self.recount(group_id)  # (a deleted message, or an edit that may mention one)
        return True

    def _lost(self, group_id: uuid.UUID, sub: Subscription) -> None:
        sub.items.clear()  # (only a Resync is ever queued: every entry is taken at once)
        self.recount(group_id)

    def read(self, group_id: uuid.UUID, seq: int) -> None:
        """The viewer's cursor of `group_id` moved to `seq` (elsewhere, or here)."""
        state = self.counts.get(group_id)
        if state is None or seq <= state.cursor:
            return
        state.cursor = seq
        if seq >= state.last_seq:
            if state.count:
                state.count = state.mentions = 0
                self.changed(group_id)
        else:
            self.recount(group_id)
