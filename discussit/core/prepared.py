"""The posting path's statements, each compiled once per dialect. On SQLite they run on the
driver's own connection, inside the transaction SQLAlchemy began, with the values converted by
the statement's own column types; elsewhere SQLAlchemy runs them as usual.

Why: posting a message is two statements and a commit. SQLAlchemy's work around each statement
(its compiled cache, execution context and result objects) took as long as SQLite's own work
for them on the benchmark's machine, and every message pays it once, however few read it.
Only statements whose returned values need no conversion (integers) are taken, so a row here
is what SQLAlchemy would have returned.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase


class Prepared:
    """One statement with RETURNING; `first` runs it and gives its first row as a tuple."""

    __slots__ = ("statement", "_sqlite")

    def __init__(self, statement: UpdateBase) -> None:
        self.statement = statement
        self._sqlite: _OnDriver | None = None

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        if conn.dialect.name != "sqlite":
            row = conn.execute(self.statement, params).first()
            return None if row is None else tuple(row)
        compiled = self._sqlite
        if compiled is None:
            compiled = self._sqlite = _OnDriver(self.statement, conn.dialect)
        return compiled.first(conn, params)


class _OnDriver:
    """The statement compiled for SQLite: its SQL, and for each positional value its name (or
    fixed value) and the column type's conversion (a UUID to its text, a datetime to SQLite's)."""

    __slots__ = ("sql", "values")

    def __init__(self, statement: UpdateBase, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert compiled.positiontup is not None, "SQLite's parameters are positional"
        for column in statement.exported_columns:  # RETURNING: returned as the driver gives
            assert column.type.result_processor(dialect, None) is None, column
        self.sql = str(compiled)
        self.values: list[tuple[str | None, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            fixed = None if bind.required else bind.effective_value  # e.g. the 1 of last_seq + 1
            self.values.append(
                (name if bind.required else None, fixed, bind.type.bind_processor(dialect))
            )

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        args = []
        for name, fixed, convert in self.values:
            value = fixed if name is None else params[name]
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
        return tuple(rows[0]) if rows else None
