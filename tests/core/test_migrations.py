"""The migrations, and nothing else, make the schema: applied to an empty database they produce
exactly the models' tables, columns, types, indexes and constraints (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from discussit.core import migrate
from discussit.core.db import sync_url


def test_migrations_produce_exactly_the_models_schema(settings):
    # `settings.database_url` was migrated by the fixtures/app path: an empty SQLite file here
    # (migrated now), or the PostgreSQL test database (migrated once per run from empty).
    migrate.upgrade(settings.database_url)
    engine = create_engine(sync_url(settings.database_url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert differences == []
    assert tables == set(SQLModel.metadata.tables) | {"alembic_version"}
    assert migrate.current_revision(settings.database_url) == migrate.head_revision()


def test_a_database_behind_the_migrations_is_refused_with_a_clear_message(tmp_path):
    import pytest

    url = f"sqlite:///{tmp_path}/empty.db"
    with pytest.raises(migrate.SchemaOutOfDate, match="discussit migrate"):
        migrate.check_current(url)
    migrate.upgrade(url)
    migrate.check_current(url)


def test_the_migrate_command_upgrades_the_configured_database(tmp_path, monkeypatch, capsys):
    from discussit.cli import main

    url = f"sqlite:///{tmp_path}/release.db"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert migrate.current_revision(url) == migrate.head_revision()
