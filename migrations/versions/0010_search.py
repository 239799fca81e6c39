"""full-text search over messages: on SQLite an FTS5 index kept in step with `messages` by
triggers (in the writing transaction), on PostgreSQL a generated `tsvector` column with a GIN
index; both filled from the messages already stored

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: an external-content FTS5 table (the text stays in `messages` only), accents folded
# ("cafe" finds "café"). The triggers give the index exactly the old text on an update or a
# delete, as an external-content index needs; a deleted message's body is emptied, which the
# update trigger takes out of the index.
SQLITE_UP = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2', prefix='3')",
    "CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN"
    " INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);"
    " END",
    "CREATE TRIGGER messages_fts_au AFTER UPDATE OF body ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);"
    " INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
    # Then merged into one segment: a rebuild leaves many, and the merging of them would
    # otherwise fall on the next thousands of posts, each waiting for its share (on a million
    # messages, a post took 40 to 75 µs more at the median and up to 57 ms).
    "INSERT INTO messages_fts(messages_fts) VALUES ('optimize')",
]
SQLITE_DOWN = [
    "DROP TRIGGER messages_fts_au",
    "DROP TRIGGER messages_fts_ad",
    "DROP TRIGGER messages_fts_ai",
    "DROP TABLE messages_fts",
]

# PostgreSQL: the `simple` configuration (every word kept, no language's stemming or stop words:
# a chat of names, code and several languages), with accents folded by `unaccent` where the
# server has it (a contrib extension; without it, accents count, as in `simple`).
PG_CONFIG = "discussit_search"
PG_UP = [
    "ALTER TABLE messages ADD COLUMN search tsvector"
    f" GENERATED ALWAYS AS (to_tsvector('{PG_CONFIG}'::regconfig, body)) STORED",
    "CREATE INDEX ix_messages_search ON messages USING gin (search)",
    # Statistics of the new column now (the planner's choice between walking the newest
    # messages and the index depends on how common a word is), not at autovacuum's next pass.
    "ANALYZE messages",
]
PG_DOWN = [
    "DROP INDEX ix_messages_search",
    "ALTER TABLE messages DROP COLUMN search",
    f"DROP TEXT SEARCH CONFIGURATION {PG_CONFIG}",
]


def _pg_configuration() -> None:
    op.execute(f"CREATE TEXT SEARCH CONFIGURATION {PG_CONFIG} (COPY = simple)")
    bind = op.get_bind()
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")
    ).first()
    if available is None:
        return
    try:
        with bind.begin_nested():  # (a refused CREATE EXTENSION must not end the migration)
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent"))
    except sa.exc.DBAPIError:
        return
    op.execute(
        f"ALTER TEXT SEARCH CONFIGURATION {PG_CONFIG}"
        " ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
        return
    _pg_configuration()
    for statement in PG_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else PG_DOWN:
        op.execute(statement)
