"""SQLite's hot reads and writes (every page's connect, posting, joining, leaving), each in one
call: on the event loop's own thread when SQLite can answer without waiting, else on threads.

A read or write of an indexed row or two takes SQLite tens of microseconds; handing it to a
thread and back cost more than that on the benchmark's machine (a thread hop is about 80 µs of
CPU there, two per connect and one per message). So a hot read or write first runs at once on
the loop, on a connection that never waits: its busy timeout is 0, so a lock held elsewhere (a
signup's session on its own connection, or the writer thread busy) makes it fail at once with
nothing changed, and then it goes to the threads, which wait their turn as before. In WAL mode
readers never wait for the writer. Nor does the loop wait for the disk: with
synchronous=NORMAL SQLite syncs files only at a checkpoint and when a write starts the WAL over
after one. So the loop's connection never checkpoints itself: every CHECKPOINT_EVERY writes on
the loop, a reader thread checkpoints, passively (it never blocks a writer), and after a
checkpoint that copied the whole WAL the writer thread starts the WAL over with a write of its
own (the write that syncs), as soon as the checkpoint reports back."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

log = logging.getLogger("discussit.db")

T = TypeVar("T")
PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL")
WAITING_PRAGMAS = (*PRAGMAS, "busy_timeout=30000")  # every other connection waits up to 30 s
LOOP_PRAGMAS = (*PRAGMAS, "busy_timeout=0", "wal_autocheckpoint=0")  # never waits (see above)
CHECKPOINT_EVERY = 200  # writes on the loop between checkpoints (SQLite's own: 1,000 pages)


def _pragmas(*pragmas: str) -> Callable[[Any, Any], None]:
    def run(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    return run


set_pragmas = _pragmas(*WAITING_PRAGMAS)  # for every other connection (db.make_engine too)


def _engine(
    url: str, pragmas: Callable[[Any, Any], None], pool_size: int = 1, wait: float = 30
) -> Engine:
    engine = create_engine(
        url,
        connect_args={"timeout": wait, "check_same_thread": False},
        pool_size=pool_size,
        max_overflow=0,
        hide_parameters=True,
    )
    event.listen(engine, "connect", pragmas)
    return engine


def _must_wait(failure: DBAPIError) -> bool:
    """SQLite said the database is locked (by another connection): try again where waiting is
    allowed."""
    code = getattr(failure.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class _Waited:
    """Returned by a try on the loop that SQLite could not answer without waiting."""


_WAIT = _Waited()


def _transaction(conn: Connection, work: Callable[[Connection], T], commit: bool) -> T:
    """`work` as one transaction: committed if `commit` and it returns; else rolled back."""
    transaction = conn.begin()
    try:
        result = work(conn)
    except BaseException:
        transaction.rollback()
        raise
    if commit:
        try:
            transaction.commit()
        except BaseException:  # (SQLite said busy): nothing kept, and no lock left held
            transaction.rollback()
            raise
    else:
        transaction.rollback()  # a read: nothing to keep, and the snapshot ends
    return result


class _Writer:
    """SQLite's one writer thread, with one plain connection: for writes that had to wait. They
    queue here in order instead of sleeping in SQLite's busy handler."""

    def __init__(self, url: str) -> None:
        self._engine = _engine(url, set_pragmas)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._conn: Connection | None = None  # used by the writer thread only
        self.pending = 0  # writes handed to the thread and not yet done

    async def run(self, work: Callable[[Connection], T]) -> T:
        return await self.submit(work)

    def submit(self, work: Callable[[Connection], T]) -> asyncio.Future[T]:
        """Hand `work` to the thread now (counted in `pending` at once); its outcome later."""
        loop = asyncio.get_running_loop()
        done = self._thread.submit(self._run, work)  # (raises RuntimeError once shut down)
        self.pending += 1
        # Counted until the thread is done with it, even if the caller stopped waiting.
        done.add_done_callback(lambda _: _call_soon(loop, self._one_done))
        return asyncio.wrap_future(done)

    def _one_done(self) -> None:
        self.pending -= 1

    def _run(self, work: Callable[[Connection], T]) -> T:
        if self._conn is None:
            self._conn = self._engine.connect()
        try:
            return _transaction(self._conn, work, commit=True)
        except DBAPIError:  # a database error: reconnect next time
            self._conn.close()
            self._conn = None
            raise

    def close(self) -> None:
        self._thread.submit(self._close).result()
        self._thread.shutdown()
        self._engine.dispose()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _Readers:
    """A few threads, each with its own plain connection (pooled: one per thread, kept)."""

    def __init__(self, url: str, threads: int) -> None:
        self._engine = _engine(url, set_pragmas, pool_size=threads)
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sqlite-read")

    async def run(self, work: Callable[[Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, self._run, work)

    def _run(self, work: Callable[[Connection], T]) -> T:
        with self._engine.connect() as conn:
            return _transaction(conn, work, commit=False)

    def checkpoint(self) -> Future[tuple[int, int, int]]:
        return self._threads.submit(self._checkpoint)

    def _checkpoint(self) -> tuple[int, int, int]:
        """(1 if it could not finish, frames in the WAL, frames copied to the database)."""
        with self._engine.connect() as conn:
            busy, frames, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
            return int(busy), int(frames), int(copied)

    def close(self) -> None:
        self._threads.shutdown()
        self._engine.dispose()


class SQLite:
    """The hot path's reads and writes on one SQLite file (Database.read and Database.write)."""

    def __init__(self, url: str, read_threads: int) -> None:
        self._loop_engine = _engine(url, _pragmas(*LOOP_PRAGMAS), wait=0)  # its pragmas too
        self._loop_conn: Connection | None = None
        self._writer = _Writer(url)
        self._readers = _Readers(url, read_threads)
        self._since_checkpoint = 0
        self.checkpointing: Future[tuple[int, int, int]] | None = None
        self.restarting: asyncio.Future[None] | None = None  # the WAL started over (see below)

    async def read(self, work: Callable[[Connection], T]) -> T:
        result = self._now(work, commit=False)
        if isinstance(result, _Waited):
            return await self._readers.run(work)
        return result

    async def write(self, work: Callable[[Connection], T]) -> T:
        # On the writer thread, in order, after writes already there (such as the start of a
        # new WAL after a checkpoint).
        self._after_checkpoint()
        if not self._writer.pending:
            result = self._now(work, commit=True)
            if not isinstance(result, _Waited):
                self._wrote()
                return result
        return await self._writer.run(work)

    def _now(self, work: Callable[[Connection], T], commit: bool) -> T | _Waited:
        """`work` at once on the loop's connection, or _WAIT if SQLite would have to wait (then
        nothing was changed)."""
        try:
            if self._loop_conn is None:  # (its pragmas too may find the database locked)
                self._loop_conn = self._loop_engine.connect()
            return _transaction(self._loop_conn, work, commit)
        except SQLAlchemyError as failure:
            if isinstance(failure, DBAPIError) and _must_wait(failure):
                return _WAIT
            if self._loop_conn is not None:  # another database error: reconnect next time
                self._loop_conn.close()
                self._loop_conn = None
            raise

    def _wrote(self) -> None:
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY and self.checkpointing is None:
            self._since_checkpoint = 0
            loop = asyncio.get_running_loop()
            try:
                self.checkpointing = self._readers.checkpoint()
            except RuntimeError:  # shutting down: the write itself is committed
                return
            self.checkpointing.add_done_callback(_log_failure)
            self.checkpointing.add_done_callback(lambda _: _call_soon(loop, self._after_checkpoint))

    def _after_checkpoint(self) -> None:
        """Once a checkpoint is done (called when it ends, and before each write): if it copied
        the whole WAL, the next write starts the WAL over, and that write syncs it to disk
        (about 10 ms on the benchmark's machine). So the writer thread does it at once, with a
        write of its own, and no message waits for that sync; a write that comes meanwhile
        queues behind it, as while the writer thread has any work. (A write on the loop in the
        moment between SQLite finishing the checkpoint and its thread reporting it can still be
        the one that starts the WAL over, as before this; and if a reader or a write got in
        first, the write of its own just adds a frame.)"""
        done = self.checkpointing
        if done is None or not done.done():
            return
        self.checkpointing = None
        if done.exception() is not None:
            return
        _busy, frames, copied = done.result()
        if frames and copied == frames:
            try:
                self.restarting = self._writer.submit(_start_wal_over)
            except RuntimeError:  # shutting down
                return
            self.restarting.add_done_callback(_log_restart_failure)

    def close(self) -> None:
        if self._loop_conn is not None:
            self._loop_conn.close()
            self._loop_conn = None
        self._loop_engine.dispose()
        self._writer.close()
        self._readers.close()


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    with suppress(RuntimeError):  # the loop is closed (shutdown): nothing left to count
        loop.call_soon_threadsafe(callback)


def _start_wal_over(conn: Connection) -> None:
    """A write that changes nothing (the database header's user_version, set to itself): after
    a checkpoint that copied the whole WAL, the first write starts the WAL over."""
    version = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
    conn.exec_driver_sql(f"PRAGMA user_version = {version}")


def _log_restart_failure(done: asyncio.Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("starting the WAL over failed: %s", type(done.exception()).__name__)


def _log_failure(done: Future[tuple[int, int, int]]) -> None:
    failure = done.exception()
    if failure is not None:
        log.warning("WAL checkpoint failed: %s", type(failure).__name__)
