"""The migrations, and nothing else, make the schema: applied to an empty database they produce
exactly the models' tables, columns, types, indexes and constraints (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from discussit import models  # noqa: F401 (the tables, for SQLModel.metadata)
from discussit.core import migrate
from discussit.core.db import sync_url
from discussit.search import index_names


def test_migrations_produce_exactly_the_models_schema(settings):
    # `settings.database_url` was migrated by the fixtures/app path: an empty SQLite file here
    # (migrated now), or the PostgreSQL test database (migrated once per run from empty).
    migrate.upgrade(settings.database_url)
    engine = create_engine(sync_url(settings.database_url))
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": index_names.not_search_index}
        )
        differences = compare_metadata(context, SQLModel.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert differences == []
    assert tables - index_names.SEARCH_INDEX == set(SQLModel.metadata.tables) | {"alembic_version"}
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


def test_the_text_policy_migration_keeps_every_account_and_group(tmp_path):
    """0003 keys names by the text policy; names that now share a key (made before it) all
    stay, the older one keeping the plain key."""
    import uuid

    from alembic import command
    from sqlalchemy import text as sql

    from discussit.core.security.text import name_key, username_key

    url = f"sqlite:///{tmp_path}/old.db"
    command.upgrade(migrate.alembic_config(url), "0002")
    engine = create_engine(sync_url(url))
    with engine.begin() as conn:
        for uid, name in [(1, "alice"), (2, "aIice"), (3, "bob")]:
            conn.execute(
                sql(
                    "INSERT INTO users (id, username, username_key, password_hash, is_staff,"
                    " created_at) VALUES (:id, :n, :k, '!', 0, '2026-01-01')"
                ),
                {"id": uid, "n": name, "k": name.lower()},
            )
        for gid, name, made in [("a" * 32, "Café", "2026-01-01"), ("b" * 32, "CAFÉ", "2026-01-02")]:
            conn.execute(
                sql(
                    "INSERT INTO groups (id, name, description, last_seq, created_at)"
                    " VALUES (:id, :n, '', 0, :t)"
                ),
                {"id": gid, "n": name, "t": made},
            )
    migrate.upgrade(url)
    with engine.connect() as conn:
        users = dict(conn.execute(sql("SELECT username, username_key FROM users")).all())
        groups = dict(conn.execute(sql("SELECT name, name_key FROM groups")).all())
    engine.dispose()
    assert users["alice"] == username_key("alice") and users["bob"] == username_key("bob")
    assert users["aIice"] == username_key("aIice") + "~2"
    assert groups["Café"] == name_key("Café")
    assert groups["CAFÉ"] == name_key("CAFÉ") + "~" + str(uuid.UUID("b" * 32))


def test_the_formatting_migration_renders_every_message_stored_before(tmp_path):
    """0005 stores each earlier message's HTML, a thousand at a time, so reads need not."""
    from alembic import command
    from sqlalchemy import text as sql

    from discussit.timeline.formatting import RENDER_VERSION, to_html

    url = f"sqlite:///{tmp_path}/old.db"
    command.upgrade(migrate.alembic_config(url), "0004")
    engine = create_engine(sync_url(url))
    bodies = {seq: f"**{seq}** see https://example.com/{seq}" for seq in range(1, 1203)}
    with engine.begin() as conn:
        conn.execute(
            sql(
                "INSERT INTO users (id, username, username_key, password_hash, is_staff,"
                " created_at) VALUES (1, 'alice', 'alice', '!', 0, '2026-01-01')"
            )
        )
        conn.execute(
            sql(
                "INSERT INTO groups (id, name, name_key, description, last_seq, created_at)"
                " VALUES (:id, 'Lounge', 'lounge', '', 1202, '2026-01-01')"
            ),
            {"id": "a" * 32},
        )
        conn.execute(
            sql(
                "INSERT INTO messages (group_id, seq, author_id, body, created_at)"
                " VALUES (:g, :seq, 1, :body, '2026-01-01')"
            ),
            [{"g": "a" * 32, "seq": seq, "body": body} for seq, body in bodies.items()],
        )
    migrate.upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(sql("SELECT seq, body_html, render_version FROM messages")).all()
    engine.dispose()
    assert len(rows) == len(bodies)
    assert all(html == to_html(bodies[seq]) for seq, html, _ in rows)
    assert {version for _, _, version in rows} == {RENDER_VERSION}
