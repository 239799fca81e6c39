"""The database engine and sessions: one async engine per app, made in its lifespan."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def async_url(url: str) -> str:
    """Turn the URLs people and PaaS providers write into the async driver URLs SQLAlchemy needs."""
    url = re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql+psycopg://", url)
    return re.sub(r"^sqlite(\+aiosqlite)?://", "sqlite+aiosqlite://", url)


def sync_url(url: str) -> str:
    """The same database for synchronous tools (Alembic): psycopg 3 serves both."""
    url = re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql+psycopg://", url)
    return re.sub(r"^sqlite(\+aiosqlite)?://", "sqlite://", url)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            for pragma in (
                "journal_mode=WAL",
                "busy_timeout=30000",
                "foreign_keys=ON",
                "synchronous=NORMAL",
            ):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Database:
    """Hands out short-lived sessions; routes and the live layer never build engines themselves."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        # SQLite has one writer at a time. Writers in this process take turns here, in order,
        # instead of in SQLite's busy handler, which sleeps for milliseconds at a time.
        self._write_turn = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A session for one short write transaction (posting, joining, leaving)."""
        if self._write_turn is None:  # PostgreSQL: the group's row lock orders writers
            async with self._sessions() as session:
                yield session
            return
        async with self._write_turn, self._sessions() as session:
            yield session
