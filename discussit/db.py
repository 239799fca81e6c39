"""The database engine and sessions: one async engine per app, made in its lifespan."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from discussit import models  # noqa: F401  (registers the tables on SQLModel.metadata)


def async_url(url: str) -> str:
    """Turn the URLs people and PaaS providers write into the async driver URLs SQLAlchemy needs."""
    url = re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql+psycopg://", url)
    return re.sub(r"^sqlite(\+aiosqlite)?://", "sqlite+aiosqlite://", url)


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
    return create_async_engine(url, pool_pre_ping=True)


async def create_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)


class Database:
    """Hands out short-lived sessions; routes and the live layer never build engines themselves."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session
