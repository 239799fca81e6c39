"""The hottest statements (posting a message; a page's socket finding its login and its
group), each compiled once per dialect. On SQLite they run on the driver's own connection,
inside the transaction SQLAlchemy began, each value converted by its type as SQLAlchemy would
convert it for SQLite, and each returned value converted back as SQLAlchemy would (text to a
datetime, 0/1 to a bool); elsewhere SQLAlchemy runs them as usual.

Why: posting a message is two statements and a commit, opening a page two reads. SQLAlchemy's
work around each statement (its compiled cache, execution context and result objects) took as
long as SQLite's own work for them on the benchmark's machine, and every message and every page
pays it, however few read it. A row here is what SQLAlchemy would have returned.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase


class Prepared:
    """One SELECT, or one statement with RETURNING; `first` runs it and gives its first row as
    a tuple."""

    __slots__ = ("statement", "_sqlite")

    def __init__(self, statement: UpdateBase | Select[Any]) -> None:
        self.statement = statement
        self._sqlite: _OnDriver | None = None

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        if conn.dialect.driver != "pysqlite":  # (PostgreSQL; SQLite in an AsyncSession)
            row = conn.execute(self.statement, params).first()
            return None if row is None else tuple(row)
        compiled = self._sqlite
        if compiled is None:
            compiled = self._sqlite = _OnDriver(self.statement, conn.dialect)
        return compiled.first(conn, params)


class _OnDriver:
    """The statement compiled for SQLite: its SQL, for each positional value its name, any
    value of its own, and its type's conversion for SQLite (a UUID to its hex, a datetime to
    SQLite's text, as SQLAlchemy stores them), and for each returned column its conversion
    back (None: as the driver gives it)."""

    __slots__ = ("sql", "values", "results")

    def __init__(self, statement: UpdateBase | Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert compiled.positiontup is not None, "SQLite's parameters are positional"
        self.results: list[Callable[[Any], Any] | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.exported_columns
        ]
        self.sql = str(compiled)
        self.values: list[tuple[str, bool, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            # The type as this dialect implements it (as SQLAlchemy converts values itself):
            # a datetime becomes SQLite's text, a UUID its hex.
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            # A value of its own (the 1 of last_seq + 1) unless the caller gives one.
            fixed = not bind.required
            self.values.append((name, fixed, bind.effective_value if fixed else None, convert))

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        args = []
        for name, fixed, default, convert in self.values:
            value = default if fixed and name not in params else params[name]
            args.append(value if convert is None or value is None else convert(value))
        driver = conn.connection.driver_connection  # in SQLAlchemy's transaction (pysqlite)
        assert driver is not None
        try:
            cursor = driver.execute(self.sql, args)
            rows = cursor.fetchall()  # (done stepping: the change is made, the commit may come)
            cursor.close()
        except sqlite3.Error as failure:  # as SQLAlchemy raises it (core/sqlite.py reads it)
            raise DBAPIError.instance(
                self.sql, None, failure, sqlite3.Error, hide_parameters=True, dialect=conn.dialect
            ) from failure
        if not rows:
            return None
        return tuple(
            value if convert is None or value is None else convert(value)
            for value, convert in zip(rows[0], self.results, strict=True)
        )
