"""Loading the search phase's data (bench/searchdata.py) into an empty database migrated to
0009, the revision before search: SQLite through its own executemany, PostgreSQL by COPY."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from alembic import command
from sqlalchemy import create_engine, pool

from bench.searchdata import RENDERED, Data, body_html
from discussit.core import migrate
from discussit.core.db import sync_url
from discussit.core.security.text import name_key, username_key
from discussit.models import Group, Membership, Message, User

BEFORE_SEARCH = "0009"
BATCH = 20_000
_TABLES = {
    "users": (User, ("id", "username", "username_key", "password_hash", "is_staff", "created_at")),
    "groups": (Group, ("id", "name", "name_key", "description", "last_seq", "created_at")),
    "memberships": (
        Membership,
        ("group_id", "user_id", "joined_at", "last_read_seq", "notify"),
    ),
    "messages": (
        Message,
        (
            "id",
            "group_id",
            "seq",
            "author_id",
            "body",
            "body_html",
            "render_version",
            "created_at",
        ),
    ),
}


def _last_seqs(data: Data) -> dict[uuid.UUID, int]:
    last = {gid: 0 for gid, _ in data.groups}
    for group, seq, *_ in data.messages():
        last[data.groups[group][0]] = seq
    return last


def _rows(data: Data, table: str, last: dict[uuid.UUID, int]) -> Iterator[tuple[Any, ...]]:
    start = datetime(2024, 12, 1, tzinfo=UTC)
    if table == "users":
        for k, name in enumerate(data.people):
            yield (k + 1, name, username_key(name), "x", False, start)
    elif table == "groups":
        for gid, name in data.groups:
            yield (gid, name, name_key(name), "", last[gid], start)
    elif table == "memberships":
        for k, people in data.members.items():
            gid = data.groups[k][0]
            for person in people:
                yield (gid, person + 1, start, last[gid], "mentions")
    else:
        for number, (group, seq, author, text, at) in enumerate(data.messages(), start=1):
            gid = data.groups[group][0]
            yield (number, gid, seq, author + 1, text, body_html(text), RENDERED, at)


def _batches(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def load(url: str, data: Data) -> None:
    """Migrate `url` (empty) to 0009 and load `data` into it."""
    command.upgrade(migrate.alembic_config(url), BEFORE_SEARCH)
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    dialect = engine.dialect
    last = _last_seqs(data)
    try:
        with engine.begin() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            for table, (model, columns) in _TABLES.items():
                types = [model.__table__.c[c].type for c in columns]  # type: ignore[attr-defined]
                if dialect.name == "sqlite":
                    procs = [t.dialect_impl(dialect).bind_processor(dialect) for t in types]
                    marks = ", ".join("?" * len(columns))
                    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})'
                    for batch in _batches(_rows(data, table, last)):
                        converted = [
                            tuple(p(v) if p else v for p, v in zip(procs, row, strict=True))
                            for row in batch
                        ]
                        raw.executemany(sql, converted)  # type: ignore[attr-defined]
                else:
                    cursor = raw.cursor()
                    copy_sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
                    with cursor.copy(copy_sql) as copy:  # type: ignore[attr-defined]
                        for row in _rows(data, table, last):
                            copy.write_row(row)
            if dialect.name != "sqlite":
                cursor = raw.cursor()
                cursor.execute("SELECT setval('messages_id_seq', (SELECT max(id) FROM messages))")
                cursor.execute("SELECT setval('users_id_seq', (SELECT max(id) FROM users))")
                cursor.execute("ANALYZE")
    finally:
        engine.dispose()


def search_migration(url: str) -> None:
    """The search migration (0010 and anything after it): creates and back-fills the index."""
    migrate.upgrade(url)
