"""The database engine and sessions: one async engine per app, made in its lifespan."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

T = TypeVar("T")
SQLITE_PRAGMAS = ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL")


_POSTGRES = re.compile(r"^postgres(ql)?(\+psycopg)?://")
_SQLITE = re.compile(r"^sqlite(\+aiosqlite)?://")


def async_url(url: str) -> str:
    """Turn the URLs people and PaaS providers write into the async driver URLs SQLAlchemy needs."""
    return _SQLITE.sub("sqlite+aiosqlite://", _POSTGRES.sub("postgresql+psycopg://", url))


def sync_url(url: str) -> str:
    """The same database for synchronous tools (Alembic): psycopg 3 serves both."""
    return _SQLITE.sub("sqlite://", _POSTGRES.sub("postgresql+psycopg://", url))


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
    cursor = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


# Pooled connections (kept, and more at a burst) for reads: SQLite, and PostgreSQL.
SQLITE_POOL = (10, 20)
SERVER_POOL = (10, 10)
POOL_WAIT = 30.0  # seconds a session may wait for a connection (SQLAlchemy's pool timeout)
READ_THREADS = 4  # SQLite: threads (each with its connection) for Database.read


def make_engine(url: str) -> AsyncEngine:
    """hide_parameters: a failing statement is logged and raised without its values, so no
    user input (a message, a password hash) reaches the log."""
    url = async_url(url)
    if url.startswith("sqlite"):
        # Reads: a pool of 10 + 20 connections (threads). With SQLAlchemy's 5 + 10, a burst of
        # pages connecting at once (5,000 in the bench, or every page after a restart) waited
        # up to its 30 s pool timeout and some were refused (bench/, issue 10's closing note).
        engine = create_async_engine(
            url,
            connect_args={"timeout": 30},
            pool_size=SQLITE_POOL[0],
            max_overflow=SQLITE_POOL[1],
            hide_parameters=True,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=SERVER_POOL[0],
        max_overflow=SERVER_POOL[1],
        hide_parameters=True,
        # An unreachable server fails a connection in 5 s, not after the kernel's SYN retries
        # (over two minutes): pages get 503/1013 and shutdown ends in time.
        connect_args={"connect_timeout": 5},
    )


class Outcome(Exception):
    """Raised by a write to end it without committing (nothing to change, not allowed)."""


class _SQLiteWriter:
    """SQLite's one writer, as one thread with one plain connection.

    Through aiosqlite every statement, fetch and commit is a round trip to its thread (about
    eight per posted message, each waiting for a thread wake-up); here a whole write
    transaction is one round trip. SQLite lets one writer in at a time anyway, so writes queue
    here in order instead of sleeping in its busy handler."""

    def __init__(self, url: str) -> None:
        self._engine: Engine = create_engine(
            sync_url(url),
            connect_args={"timeout": 30, "check_same_thread": False},
            hide_parameters=True,
        )
        event.listen(self._engine, "connect", _sqlite_pragmas)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._conn: Connection | None = None  # used by the writer thread only

    async def run(self, work: Callable[[Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, work)

    def _run(self, work: Callable[[Connection], T]) -> T:
        if self._conn is None:
            self._conn = self._engine.connect()
        try:
            with self._conn.begin():
                return work(self._conn)
        except Exception as failure:
            if not isinstance(failure, Outcome):  # a database error: reconnect next time
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


_HOLDS_TURN: ContextVar[bool] = ContextVar("discussit_holds_db_turn", default=False)


class _SQLiteReaders:
    """Short reads on SQLite, each in one round trip: a few threads, each with its own plain
    connection (WAL: readers never wait for the writer). The hot reads (every page's connect)
    through aiosqlite and an ORM session cost about ten thread round trips each."""

    def __init__(self, url: str, threads: int) -> None:
        self._engine: Engine = create_engine(
            sync_url(url),
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=threads,
            max_overflow=0,
            hide_parameters=True,
        )
        event.listen(self._engine, "connect", _sqlite_pragmas)
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sqlite-read")

    async def run(self, work: Callable[[Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, self._run, work)

    def _run(self, work: Callable[[Connection], T]) -> T:
        with self._engine.connect() as conn:  # pooled: one connection per thread, kept
            try:
                return work(conn)
            finally:
                conn.rollback()  # a read: nothing to keep, and the snapshot ends

    def close(self) -> None:
        self._threads.shutdown()
        self._engine.dispose()


class Database:
    """Hands out short-lived sessions; routes and the live layer never build engines themselves."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        kept, burst = SQLITE_POOL if engine.dialect.name == "sqlite" else SERVER_POOL
        self._turns = asyncio.Semaphore(kept + burst)
        self._readers = (
            _SQLiteReaders(engine.url.render_as_string(hide_password=False), READ_THREADS)
            if engine.dialect.name == "sqlite"
            else None
        )
        self._writer = (
            _SQLiteWriter(engine.url.render_as_string(hide_password=False))
            if engine.dialect.name == "sqlite"
            else None
        )

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work(connection)`, a few statements that only read, in one round trip and one
        snapshot (for the hot reads: every page's connect). SQLite: on a reader thread with a
        plain connection. PostgreSQL: on a pooled connection, in its turn (as `session`)."""
        if self._readers is not None:
            return await self._readers.run(work)
        async with self._turn(), self.engine.connect() as conn:
            try:
                return await conn.run_sync(work)
            finally:
                await conn.rollback()

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """One of the pool's turns, in arrival order. A task that holds one already (a read
        inside a session: a route's login lookup) goes on with it: waiting for a second turn
        while holding one, a burst of such requests would hold every turn and wait forever."""
        if _HOLDS_TURN.get():
            yield
            return
        try:
            async with asyncio.timeout(POOL_WAIT):
                await self._turns.acquire()
        except TimeoutError:
            raise PoolTimeout("no database connection was free in time") from None
        token = _HOLDS_TURN.set(True)
        try:
            yield
        finally:
            _HOLDS_TURN.reset(token)
            self._turns.release()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session, once one of the pool's connections is free for it: at most as many
        sessions as connections, served in the order they asked (asyncio's semaphore is
        first come, first served; SQLAlchemy's pool is not, and when every page reconnected
        at once after a restart some waited past its timeout while later ones were served).
        Waiting longer than POOL_WAIT raises SQLAlchemy's pool TimeoutError, as the pool did."""
        async with self._turn(), self._sessions() as session:
            yield session

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work(connection)` as one transaction: committed if it returns, rolled back if
        it raises (an `Outcome` too). For the hot, short writes: posting, joining, leaving.

        SQLite: on the process's writer thread, one round trip. PostgreSQL: on a pooled
        connection (the group's row lock orders writers)."""
        if self._writer is not None:
            return await self._writer.run(work)
        async with self.engine.begin() as conn:
            return await conn.run_sync(work)

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.to_thread(self._writer.close)
        if self._readers is not None:
            await asyncio.to_thread(self._readers.close)
        await self.engine.dispose()
