"""Database.write: one short transaction, committed or rolled back as a whole; a failed write
(a database error, or an Outcome such as "not a member") leaves the next write unharmed."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from discussit.core import migrate
from discussit.core.db import Database, Outcome, make_engine
from discussit.models import utcnow
from discussit.timeline.store import GROUPS


def add_group(name: str):  # type: ignore[no-untyped-def]
    """A write that adds a group called `name` (for Database.write and core.sqlite)."""

    def work(conn: Connection) -> str:
        conn.execute(
            insert(GROUPS).values(
                id=uuid.uuid4(),
                name=name,
                name_key=name,
                description="",
                last_seq=0,
                created_at=utcnow(),
            )
        )
        return name

    return work


def _names(conn: Connection) -> list[str]:
    return sorted(conn.execute(select(GROUPS.c.name)).scalars())


def test_a_write_commits_whole_or_not_at_all_and_failures_do_not_poison_the_next(database_url):
    migrate.upgrade(database_url)

    class Refused(Outcome):
        pass

    def half_then_refuse(conn: Connection) -> None:
        add_group("half")(conn)
        raise Refused

    def broken(conn: Connection) -> None:
        add_group("before the error")(conn)
        conn.execute(text("INSERT INTO no_such_table VALUES (1)"))

    async def scenario() -> tuple[list[str], int]:
        db = Database(make_engine(database_url))
        try:
            assert await db.write(add_group("first")) == "first"
            with pytest.raises(Refused):
                await db.write(half_then_refuse)
            with pytest.raises((OperationalError, ProgrammingError)):
                await db.write(broken)
            # Many writers at once: each in its own transaction, none lost.
            await asyncio.gather(*(db.write(add_group(f"g{i}")) for i in range(20)))
            names = await db.write(_names)
            count = await db.write(
                lambda conn: conn.execute(select(func.count()).select_from(GROUPS)).scalar_one()
            )
            return names, count
        finally:
            await db.close()

    names, count = asyncio.run(scenario())
    assert names == sorted(["first", *(f"g{i}" for i in range(20))])
    assert count == 21


def test_a_task_holding_a_database_turn_is_not_made_to_wait_for_a_second(database_url):
    """Sessions wait for a turn (as many as the pool has connections, first come first
    served). A route opens its session, then looks up its viewer (a read of its own) before
    the session queries: many such requests at once must not each hold a turn and wait for
    another one (they would all wait until the 30 s pool timeout)."""
    migrate.upgrade(database_url)

    async def scenario() -> int:
        db = Database(make_engine(database_url))

        async def route() -> int:
            async with db.session() as outer:
                async with db.session() as inner:  # (the viewer lookup, before `outer` is used)
                    await inner.exec(select(1))  # type: ignore[call-overload]
                return int((await outer.exec(select(1))).one()[0])  # type: ignore[call-overload]

        try:
            answers = await asyncio.wait_for(asyncio.gather(*(route() for _ in range(60))), 20)
            return sum(answers)
        finally:
            await db.close()

    assert asyncio.run(scenario()) == 60
