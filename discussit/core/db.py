"""The database engine and sessions: one async engine per app, made in its lifespan."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from discussit.core import sqlite

T = TypeVar("T")


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


# Pooled connections (kept, and more at a burst) for reads: SQLite, and PostgreSQL.
SQLITE_POOL = (10, 20)
SERVER_POOL = (10, 10)
POOL_WAIT = 30.0  # seconds a session may wait for a connection (SQLAlchemy's pool timeout)
READ_THREADS = 4  # SQLite: threads (each with its connection) for reads that had to wait


class Outcome(Exception):
    """Raised by a write to end it without committing (nothing to change, not allowed)."""


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
        event.listen(engine.sync_engine, "connect", sqlite.set_pragmas)
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


_HOLDS_TURN: ContextVar[bool] = ContextVar("discussit_holds_db_turn", default=False)


class Database:
    """Hands out short-lived sessions; routes and the live layer never build engines themselves."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        kept, burst = SQLITE_POOL if engine.dialect.name == "sqlite" else SERVER_POOL
        self._turns = asyncio.Semaphore(kept + burst)
        self._sqlite = (
            sqlite.SQLite(sync_url(engine.url.render_as_string(hide_password=False)), READ_THREADS)
            if engine.dialect.name == "sqlite"
            else None
        )

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work(connection)`, a few statements that only read, in one round trip and one
        snapshot (for the hot reads: every page's connect). SQLite: at once on the loop, or on
        a reader thread if SQLite would wait (core/sqlite.py). PostgreSQL: on a pooled
        connection, in its turn (as `session`)."""
        if self._sqlite is not None:
            return await self._sqlite.read(work)
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

        SQLite: at once on the loop, or on the process's writer thread if SQLite would wait
        (core/sqlite.py). PostgreSQL: on a pooled connection (the group's row lock orders
        writers)."""
        if self._sqlite is not None:
            return await self._sqlite.write(work)
        async with self.engine.begin() as conn:
            return await conn.run_sync(work)

    async def close(self) -> None:
        if self._sqlite is not None:
            await asyncio.to_thread(self._sqlite.close)
        await self.engine.dispose()
