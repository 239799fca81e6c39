"""core/prepared.py: a posting statement run on SQLite's driver does what SQLAlchemy would do
with it (the same values stored, the same row back, inside the same transaction) and fails as
SQLAlchemy would fail (so a busy database still sends the write to the writer thread)."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import bindparam, create_engine, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from discussit.core import sqlite
from discussit.core.prepared import Prepared
from discussit.models import utcnow
from discussit.timeline.store import GROUPS
from tests.core.test_sqlite import db_file  # noqa: F401 (a fixture)

NEXT = Prepared(
    update(GROUPS)
    .where(GROUPS.c.id == bindparam("group_id", type_=GROUPS.c.id.type))
    .values(last_seq=GROUPS.c.last_seq + 1)
    .returning(GROUPS.c.last_seq)
)
ADD = Prepared(
    insert(GROUPS)
    .values(
        id=bindparam("id", type_=GROUPS.c.id.type),
        name=bindparam("name"),
        name_key=bindparam("name"),
        description="",
        last_seq=bindparam("last_seq"),
        created_at=bindparam("created_at", type_=GROUPS.c.created_at.type),
        is_private=False,  # (a prepared statement fills in no column default)
    )
    .returning(GROUPS.c.last_seq)
)


def written(path, work):  # type: ignore[no-untyped-def]
    """`work` run as one write on a fresh SQLite of the file at `path` (core/sqlite.py), and
    its result."""

    async def scenario():  # type: ignore[no-untyped-def]
        db = sqlite.SQLite(f"sqlite:///{path}", read_threads=1)
        try:
            return await db.write(work)
        finally:
            await asyncio.to_thread(db.close)

    return asyncio.run(scenario())


def test_values_go_in_as_sqlalchemy_stores_them_and_the_row_comes_back(db_file):  # noqa: F811
    group_id, created = uuid.uuid4(), utcnow() - timedelta(days=1, microseconds=7)
    params = {"id": group_id, "name": "Prepared", "last_seq": 41, "created_at": created}

    def work(conn):  # type: ignore[no-untyped-def]
        added = ADD.first(conn, params)
        seq = NEXT.first(conn, {"group_id": group_id})
        missing = NEXT.first(conn, {"group_id": uuid.uuid4()})
        stored = conn.execute(
            select(GROUPS.c.id, GROUPS.c.created_at, GROUPS.c.last_seq).where(
                GROUPS.c.id == group_id  # found through SQLAlchemy's own conversion
            )
        ).one()
        return added, seq, missing, tuple(stored)

    added, seq, missing, stored = written(db_file, work)
    assert (added, seq, missing) == ((41,), (42,), None)
    assert stored == (group_id, created, 42)


def test_the_stored_text_is_sqlalchemys_to_the_character(db_file):  # noqa: F811
    """SQLite keeps datetimes and UUIDs as text: a row stored here must read, sort and compare
    exactly as one SQLAlchemy stored (a whole second too: no format of the driver's own)."""
    rows = []
    for created in (utcnow().replace(microsecond=0), utcnow().replace(microsecond=7)):
        for way in ("prepared", "sqlalchemy"):
            rows.append((way, uuid.uuid4(), created))

    def work(conn):  # type: ignore[no-untyped-def]
        for way, group_id, created in rows:
            values = {"id": group_id, "name": f"{way} {group_id}", "last_seq": 0}
            if way == "prepared":
                ADD.first(conn, {**values, "created_at": created})
            else:
                conn.execute(
                    insert(GROUPS).values(
                        **values, name_key=values["name"], description="", created_at=created
                    )
                )

    written(db_file, work)
    with sqlite3.connect(db_file) as raw:
        stored = {
            name.split()[1]: (row_id, created)
            for row_id, name, created in raw.execute("SELECT id, name, created_at FROM groups")
            if " " in name
        }
    for way, group_id, created in rows:
        row_id, text = stored[str(group_id)]
        assert row_id == group_id.hex, way
        assert text == created.strftime("%Y-%m-%d %H:%M:%S.%f"), way


def test_a_rolled_back_transaction_keeps_nothing_prepared_statements_did(db_file):  # noqa: F811
    group_id = uuid.uuid4()

    class Undo(Exception):
        pass

    def work(conn):  # type: ignore[no-untyped-def]
        ADD.first(conn, {"id": group_id, "name": "Undone", "last_seq": 0, "created_at": utcnow()})
        raise Undo

    def count(conn):  # type: ignore[no-untyped-def]
        return conn.execute(select(GROUPS.c.id).where(GROUPS.c.id == group_id)).all()

    async def scenario():  # type: ignore[no-untyped-def]
        db = sqlite.SQLite(f"sqlite:///{db_file}", read_threads=1)
        try:
            with pytest.raises(Undo):
                await db.write(work)
            return await db.read(count)
        finally:
            await asyncio.to_thread(db.close)

    assert asyncio.run(scenario()) == []


def test_driver_errors_are_raised_as_sqlalchemy_raises_them(db_file):  # noqa: F811
    """A broken constraint is SQLAlchemy's IntegrityError; a lock held elsewhere is its
    OperationalError carrying SQLite's busy code, which core/sqlite.py sends to the writer
    thread: the write waits its turn and is stored."""
    group_id = uuid.uuid4()
    row = {"id": group_id, "name": "Twice", "last_seq": 0, "created_at": utcnow()}

    async def scenario():  # type: ignore[no-untyped-def]
        db = sqlite.SQLite(f"sqlite:///{db_file}", read_threads=1)
        other = sqlite3.connect(db_file, isolation_level=None)
        try:
            await db.write(lambda conn: ADD.first(conn, row))
            with pytest.raises(IntegrityError) as twice:
                await db.write(lambda conn: ADD.first(conn, {**row, "id": uuid.uuid4()}))
            assert isinstance(twice.value.orig, sqlite3.IntegrityError)
            other.execute("BEGIN IMMEDIATE")
            waiting = asyncio.create_task(
                db.write(lambda conn: NEXT.first(conn, row | {"group_id": group_id}))
            )
            await asyncio.sleep(0)
            assert not waiting.done()  # on the writer thread, waiting for the lock
            other.execute("COMMIT")
            return await waiting
        finally:
            other.close()
            await asyncio.to_thread(db.close)

    assert asyncio.run(scenario()) == (1,)


def test_a_busy_database_fails_with_sqlites_busy_code(db_file):  # noqa: F811
    engine = create_engine(f"sqlite:///{db_file}", connect_args={"timeout": 0})  # never waits
    other = sqlite3.connect(db_file, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with engine.connect() as conn, pytest.raises(OperationalError) as busy, conn.begin():
            NEXT.first(conn, {"group_id": uuid.uuid4()})
        assert busy.value.orig.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # type: ignore[union-attr]
    finally:
        other.close()
        engine.dispose()


def test_a_select_gives_back_the_row_sqlalchemy_gives(db_file):  # noqa: F811
    """A SELECT run on the driver converts what it returns as SQLAlchemy does: a datetime from
    SQLite's text, a UUID from its hex, a bool from 0/1 (a page's socket finds its login so)."""
    group_id, created = uuid.uuid4(), utcnow().replace(microsecond=123)
    query = select(
        GROUPS.c.id,
        GROUPS.c.created_at,
        GROUPS.c.last_seq,
        GROUPS.c.name,
        (GROUPS.c.last_seq > bindparam("above")).label("past"),
    ).where(GROUPS.c.id == bindparam("group_id", type_=GROUPS.c.id.type))
    prepared = Prepared(query)

    def work(conn):  # type: ignore[no-untyped-def]
        ADD.first(conn, {"id": group_id, "name": "Read", "last_seq": 5, "created_at": created})
        params = {"group_id": group_id, "above": 3}
        return (
            prepared.first(conn, params),
            tuple(conn.execute(query, params).one()),
            prepared.first(conn, {"group_id": uuid.uuid4(), "above": 3}),
        )

    mine, theirs, missing = written(db_file, work)
    assert mine == theirs == (group_id, created, 5, "Read", True)
    assert [type(value) for value in mine] == [type(value) for value in theirs]
    assert missing is None
