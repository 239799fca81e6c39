"""Schema migrations (Alembic): the only way the schema is created or changed.

`discussit migrate` (the Procfile's release step) upgrades the configured database. The embedded
SQLite default also migrates itself on start; a PostgreSQL app only checks it is at the head.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import anyio.to_thread
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from discussit.core.db import is_sqlite, sync_url

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


class SchemaOutOfDate(RuntimeError):
    """The database is not at the latest migration."""


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


@cache
def head_revision() -> str | None:
    """The latest migration (read once per process: the migrations do not change under it)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(database_url: str) -> str | None:
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def check_current(database_url: str) -> None:
    current, head = current_revision(database_url), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"The database schema is at {current or 'nothing'}, not {head}: run "
            "`discussit migrate` (the Procfile's release step) before starting the web process."
        )


async def prepare_schema(database_url: str) -> None:
    """At start-up: the embedded SQLite file migrates itself; any other database must already be
    at the head (migrated by the release step), or start-up stops with a clear message."""
    work = _upgrade_if_behind if is_sqlite(database_url) else check_current
    await anyio.to_thread.run_sync(work, database_url)


def _upgrade_if_behind(database_url: str) -> None:
    """Upgrade unless already at the head (asking costs a query; an upgrade with nothing to do
    loads every migration script first)."""
    if current_revision(database_url) != head_revision():
        upgrade(database_url)
