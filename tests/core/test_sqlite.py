"""SQLite's hot reads and writes run at once on the loop, and go to threads when SQLite would
wait (core/sqlite.py): a lock held elsewhere delays a write, never loses it or blocks the loop;
reads go on meanwhile; the loop's writes are checkpointed by a thread."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from discussit.core import sqlite
from discussit.timeline.store import GROUPS
from tests.core.test_db import add_group


def _count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(GROUPS)).scalar_one())


@pytest.fixture
def db_file(migrated_sqlite: Path, tmp_path: Path) -> Path:
    path = tmp_path / "discussit.db"
    path.write_bytes(migrated_sqlite.read_bytes())
    with sqlite3.connect(path) as conn:  # as the app's start-up leaves it (a lasting setting)
        conn.execute("PRAGMA journal_mode=WAL")
    return path


def test_a_write_that_would_wait_goes_to_the_writer_thread_and_the_loop_goes_on(db_file):
    async def scenario() -> tuple[bool, int, int]:
        db = sqlite.SQLite(f"sqlite:///{db_file}", read_threads=2)
        other = sqlite3.connect(db_file, isolation_level=None)
        try:
            await db.write(add_group("before"))
            other.execute("BEGIN IMMEDIATE")  # another connection holds the write lock
            waiting = asyncio.create_task(db.write(add_group("while locked")))
            await asyncio.sleep(0)  # it tried on the loop, found the lock, went to the thread
            during = await db.read(_count)  # reads go on meanwhile (WAL), on the loop
            done_while_locked = waiting.done()
            other.execute("COMMIT")
            assert await waiting == "while locked"
            return done_while_locked, during, await db.read(_count)
        finally:
            other.close()
            await asyncio.to_thread(db.close)

    done_while_locked, during, after = asyncio.run(scenario())
    assert not done_while_locked
    assert (during, after) == (1, 2)


def test_writes_queued_on_the_thread_keep_their_order_and_none_is_lost(db_file):
    async def scenario() -> list[str]:
        db = sqlite.SQLite(f"sqlite:///{db_file}", read_threads=2)
        other = sqlite3.connect(db_file, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            first = asyncio.create_task(db.write(add_group("a")))
            await asyncio.sleep(0)
            # The writer thread has work: later writes queue behind it, not on the loop.
            rest = [asyncio.create_task(db.write(add_group(name))) for name in "bcd"]
            other.execute("COMMIT")
            await asyncio.gather(first, *rest)
            rows = await db.read(
                lambda conn: list(conn.execute(select(GROUPS.c.name).order_by(GROUPS.c.created_at)))
            )
            return [row[0] for row in rows]
        finally:
            other.close()
            await asyncio.to_thread(db.close)

    assert asyncio.run(scenario()) == ["a", "b", "c", "d"]


def test_the_loops_writes_are_checkpointed_by_a_thread_not_on_the_loop(db_file):
    async def scenario() -> tuple[int, tuple[int, int, int] | None, int]:
        db = sqlite.SQLite(f"sqlite:///{db_file}", read_threads=2)
        try:
            on_loop = await db.read(
                lambda conn: conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
            )
            waits = await db.read(
                lambda conn: conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
            )
            assert waits == 0  # the loop's connection never waits for a lock
            for i in range(sqlite.CHECKPOINT_EVERY - 1):
                await db.write(add_group(f"g{i}"))
            none_yet = db.checkpointing
            await db.write(add_group("last"))
            assert none_yet is None and db.checkpointing is not None
            return on_loop, await asyncio.wrap_future(db.checkpointing), await db.read(_count)
        finally:
            await asyncio.to_thread(db.close)

    on_loop, (busy, frames, copied), count = asyncio.run(scenario())
    assert on_loop == 0  # the loop's connection never checkpoints (nor syncs) itself
    assert busy == 0 and frames > 0 and copied == frames  # the thread copied the whole WAL
    assert count == sqlite.CHECKPOINT_EVERY


def _wal_restarts(db_file: Path) -> int:
    """The WAL header's checkpoint sequence number: it moves on each time the WAL starts over."""
    header = Path(f"{db_file}-wal").read_bytes()[:16]
    return int.from_bytes(header[12:16], "big")


def test_after_a_whole_checkpoint_the_writer_thread_starts_the_wal_over_not_a_message(db_file):
    """The write that starts the WAL over syncs it to disk: the writer thread makes one of its
    own at once (changing nothing), so the next message's write is not the one that waits."""

    async def scenario() -> tuple[int, int, int, int]:
        db = sqlite.SQLite(f"sqlite:///{db_file}", read_threads=2)
        try:
            for i in range(sqlite.CHECKPOINT_EVERY):
                await db.write(add_group(f"g{i}"))
            before = _wal_restarts(db_file)  # (the loop has not yet heard from the checkpoint)
            assert db.checkpointing is not None
            _busy, frames, copied = await asyncio.wrap_future(db.checkpointing)
            assert frames > 0 and copied == frames
            await asyncio.sleep(0)  # the loop heard that the checkpoint ended
            assert db.restarting is not None
            await db.restarting
            after = _wal_restarts(db_file)
            await db.write(add_group("next"))  # on the loop again: nothing left to restart
            return before, after, _wal_restarts(db_file), await db.read(_count)
        finally:
            await asyncio.to_thread(db.close)

    before, after, then, count = asyncio.run(scenario())
    assert after == before + 1 and then == after
    assert count == sqlite.CHECKPOINT_EVERY + 1
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (0,)  # unchanged
