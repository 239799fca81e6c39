"""Read positions: what open group pages have shown while visible, gathered and written
together, so a busy group costs a few writes a second, not one per message per member.

The server knows what it sent each page (its feed's cursor); a page only says whether it is
visible (chat/frames.py: in its resume frame and on every change). Every SWEEP_SECONDS the
visible pages' cursors are marked (`watch`, `sweep`), and again as a page is hidden or closed;
what is marked is written within FLUSH_SECONDS. No frame per message per page."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Protocol

from sqlalchemy import Connection, bindparam, update

from discussit.core.db import Database
from discussit.core.realtime.broker import Broker, user_channel
from discussit.core.realtime.items import ReadMoved
from discussit.timeline.store import MEMBERSHIPS

log = logging.getLogger("discussit.reading")

FLUSH_SECONDS = 1.0  # positions are written together, this often at most
SWEEP_SECONDS = 2.0  # visible pages' positions are marked this often
WRITE_BATCH = 200  # positions per statement run (a transaction each)

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


class Reader(Protocol):
    """An open page that is visible: asked, at each sweep, to mark what it has been sent."""

    def mark_read(self) -> None: ...


class ReadCursors:
    """Positions that open pages have shown, gathered per member and group (the newest wins)
    and written together, at most every `every` seconds: a busy group costs one write a second,
    not one per message per member. Made once per app."""

    def __init__(
        self,
        db: Database,
        broker: Broker,
        every: float = FLUSH_SECONDS,
        sweep_every: float = SWEEP_SECONDS,
    ) -> None:
        self.db = db
        self.broker = broker
        self.every = every
        self.sweep_every = sweep_every
        self.pending: dict[tuple[uuid.UUID, int], int] = {}
        self.visible: set[Reader] = set()  # the open pages that are visible
        self._sweeping: asyncio.Task[None] | None = None  # while any page is visible
        self._flushing: asyncio.Task[None] | None = None  # waiting to flush
        self._writing: asyncio.Future[None] | None = None  # a flush under way
        self._stopped = False

    def watch(self, reader: Reader) -> None:
        """This page is visible: what it is sent is read (marked at each sweep)."""
        self.visible.add(reader)
        if self._sweeping is None and not self._stopped:
            self._sweeping = asyncio.get_running_loop().create_task(self._sweep_often())

    def unwatch(self, reader: Reader) -> None:
        self.visible.discard(reader)

    def sweep(self) -> None:
        """Mark what every visible page has been sent."""
        for reader in list(self.visible):
            try:
                reader.mark_read()
            except Exception:  # a bug in one page's marking: the others still go
                log.exception("read position not marked")

    async def _sweep_often(self) -> None:
        try:
            while self.visible and not self._stopped:
                await asyncio.sleep(self.sweep_every)
                self.sweep()
        finally:
            self._sweeping = None

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
        self.sweep()  # (the pages still open: what they were sent is read)
        for task in (self._sweeping, self._flushing):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._writing is not None:
            await asyncio.gather(self._writing, return_exceptions=True)
        await self.flush()
