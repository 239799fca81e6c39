"""Read cursors and unread counts: how much of each of a member's groups is new to them.

A member's cursor (memberships.last_read_seq) is the seq of the last entry of the group they
have seen; a join starts it at the join's own seq. Unread: the group's messages after it, by
someone else, not deleted. The database counts it (one query for all of a viewer's groups, on
the messages' (group_id, seq) index), and open pages and streams keep it live from their own
cursor (`LiveCounts`: one more for each new message by someone else), so a message to a
1,000-member group costs no query and no render per member.

A cursor moves forward only. Opening a group's latest page moves it at once (`mark_read`), as
does "Mark as read"; a visible page says what it has shown as entries arrive, and those
positions are gathered per member and written together (`ReadCursors`, at most once a second
per process), never once per message per member. Each move is published to the member's own
channel (`ReadMoved`), so their other pages and streams count again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, literal, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from discussit.core.db import Database, Outcome
from discussit.core.realtime.broker import Broker, Subscription, group_channel, user_channel
from discussit.core.realtime.items import EntryAppended, ReadMoved
from discussit.timeline.entries import Kind
from discussit.timeline.store import GROUPS, MEMBERSHIPS, MENTIONS, MESSAGES

log = logging.getLogger("discussit.reading")

FLUSH_SECONDS = 1.0  # positions from open pages are written together, this often at most
# (A visible page reports at most every 3 s: static/js/discussit.js READ_EVERY.)
WRITE_BATCH = 200  # positions per statement run (a transaction each)
MAX_EARLY = 64  # entries held for a group subscribed to and not yet counted
_MESSAGE = Kind.MESSAGE.value
_RECOUNTED = frozenset({Kind.DELETED.value, Kind.EDITED.value})


class BeyondLast(Outcome):
    """A read position past the group's last entry: nothing moves."""


@dataclass(slots=True)
class Unread:
    """One member's view of one group: their cursor, the group's last seq when counted, how
    many messages by others came after the cursor (not deleted), and how many of those mention
    the member."""

    cursor: int
    last_seq: int
    count: int
    mentions: int = 0  # of those, how many mention the member
    name: str = ""  # the group's
    notify: str = "mentions"  # the member's notification level there (groups/notifications.py)


def _unread_query(user_id: int, group_ids: Iterable[uuid.UUID] | None) -> Any:
    unread = and_(
        MESSAGES.c.group_id == MEMBERSHIPS.c.group_id,
        MESSAGES.c.seq > MEMBERSHIPS.c.last_read_seq,
        MESSAGES.c.author_id != user_id,
        MESSAGES.c.deleted_at.is_(None),
    )
    query = (
        select(
            MEMBERSHIPS.c.group_id,
            MEMBERSHIPS.c.last_read_seq,
            GROUPS.c.last_seq,
            func.count(MESSAGES.c.id),
            func.count(MENTIONS.c.user_id),
            GROUPS.c.name,
            MEMBERSHIPS.c.notify,
        )
        .select_from(MEMBERSHIPS)
        .join(GROUPS, GROUPS.c.id == MEMBERSHIPS.c.group_id)
        .outerjoin(MESSAGES, unread)
        .outerjoin(
            MENTIONS,
            and_(
                MENTIONS.c.group_id == MESSAGES.c.group_id,
                MENTIONS.c.seq == MESSAGES.c.seq,
                MENTIONS.c.user_id == user_id,
            ),
        )
        .where(MEMBERSHIPS.c.user_id == user_id)
        .group_by(
            MEMBERSHIPS.c.group_id,
            MEMBERSHIPS.c.last_read_seq,
            GROUPS.c.last_seq,
            GROUPS.c.name,
            MEMBERSHIPS.c.notify,
        )
    )
    if group_ids is not None:
        query = query.where(MEMBERSHIPS.c.group_id.in_(list(group_ids)))
    return query


def unread_now(
    conn: Connection, user_id: int, group_ids: Iterable[uuid.UUID] | None = None
) -> dict[uuid.UUID, Unread]:
    """The member's unread state of each of their groups (or of those given that they belong
    to), with each group's name and the member's notification level there, in one query."""
    return {
        group_id: Unread(int(cursor), int(last_seq), int(count), int(mentions), name, notify)
        for group_id, cursor, last_seq, count, mentions, name, notify in conn.execute(
            _unread_query(user_id, group_ids)
        )
    }


async def unread(
    session: AsyncSession, user_id: int, group_ids: Iterable[uuid.UUID] | None = None
) -> dict[uuid.UUID, Unread]:
    ids = None if group_ids is None else list(group_ids)
    if ids == []:
        return {}
    return await session.run_sync(lambda s: unread_now(s.connection(), user_id, ids))


# A position for many members at once (executemany): forward only, members only.
_MOVE_MANY = (
    update(MEMBERSHIPS)
    .where(
        MEMBERSHIPS.c.group_id == bindparam("group_id_", type_=MEMBERSHIPS.c.group_id.type),
        MEMBERSHIPS.c.user_id == bindparam("user_id_"),
        MEMBERSHIPS.c.last_read_seq < bindparam("upto"),
    )
    .values(last_read_seq=bindparam("upto"))
)


async def mark_read(
    db: Database, broker: Broker, group_id: uuid.UUID, user_id: int, seq: int | None = None
) -> int | None:
    """Move the member's cursor to `seq` (None: the group's last entry), never back. Returns
    where it moved to, or None if it did not move (already there, or not a member); raises
    BeyondLast for a seq the group has not reached. The member's pages and streams hear of
    it."""

    def write(conn: Connection) -> int | None:
        last = select(GROUPS.c.last_seq).where(GROUPS.c.id == group_id).scalar_subquery()
        upto = last if seq is None else literal(seq)
        moved = conn.execute(  # one statement (a page load marks its group read)
            update(MEMBERSHIPS)
            .where(
                MEMBERSHIPS.c.group_id == group_id,
                MEMBERSHIPS.c.user_id == user_id,
                MEMBERSHIPS.c.last_read_seq < upto,
                upto <= last,
            )
            .values(last_read_seq=upto)
            .returning(MEMBERSHIPS.c.last_read_seq)
        ).first()
        if moved is not None:
            return int(moved[0])
        if seq is not None:  # not moved: already there, or past the group's last entry?
            found = conn.execute(select(GROUPS.c.last_seq).where(GROUPS.c.id == group_id)).first()
            if found is not None and seq > int(found[0]):
                raise BeyondLast
        return None

    moved = await db.write(write)
    if moved is not None:
        await broker.publish(user_channel(user_id), ReadMoved(str(group_id), moved))
    return moved


class ReadCursors:
    """Positions that open pages report as they show new entries, gathered per member and
    group (the newest wins) and written together, at most every `every` seconds: a busy group
    costs one write a second, not one per message per member. Made once per app."""

    def __init__(self, db: Database, broker: Broker, every: float = FLUSH_SECONDS) -> None:
        self.db = db
        self.broker = broker
        self.every = every
        self.pending: dict[tuple[uuid.UUID, int], int] = {}
        self._flushing: asyncio.Task[None] | None = None  # waiting to flush
        self._writing: asyncio.Future[None] | None = None  # a flush under way
        self._stopped = False

    def mark(self, group_id: uuid.UUID, user_id: int, seq: int) -> None:
        key = (group_id, user_id)
        if seq > self.pending.get(key, 0):
            self.pending[key] = seq
        if self._flushing is None and not self._stopped:
            self._flushing = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        try:
            await asyncio.sleep(self.every)
            # Shielded: a stop while it writes waits for it (what it took is not lost).
            self._writing = asyncio.ensure_future(self.flush())
            await asyncio.shield(self._writing)
        finally:
            self._flushing = None
            if self.pending and not self._stopped:  # marked while writing: the next round
                self._flushing = asyncio.get_running_loop().create_task(self._flush_soon())

    async def flush(self) -> None:
        """Write what is pending now: one statement run for WRITE_BATCH positions at a time,
        each batch its own short transaction with a pause between (a thousand pages of one
        busy group never hold up the loop for long); then tell each member's pages."""
        pending, self.pending = list(self.pending.items()), {}
        for start in range(0, len(pending), WRITE_BATCH):
            batch = pending[start : start + WRITE_BATCH]
            params = [
                {"group_id_": group_id, "user_id_": user_id, "upto": seq}
                for (group_id, user_id), seq in batch
            ]

            def write(conn: Connection, params: list[dict[str, object]] = params) -> None:
                conn.execute(_MOVE_MANY, params)

            try:
                await self.db.write(write)
            except Exception:  # the database refused: these positions are lost, nothing else
                log.warning("read positions not saved (%d)", len(batch), exc_info=True)
                continue
            for (group_id, user_id), seq in batch:  # (one that did not move changes nothing)
                await self.broker.publish(user_channel(user_id), ReadMoved(str(group_id), seq))
            await asyncio.sleep(0)  # others' turn between batches

    async def stop(self) -> None:
        """At shutdown: what is pending is written now, and a flush under way finishes."""
        self._stopped = True
        task = self._flushing
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._writing is not None:
            await asyncio.gather(self._writing, return_exceptions=True)
        await self.flush()


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
