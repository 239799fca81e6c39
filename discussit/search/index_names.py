"""What migration 0010 (full-text search) makes beside the models' tables: SQLite's FTS5 table and
the tables it keeps its index in, PostgreSQL's tsvector column and its GIN index. Alembic's
comparison of models and database leaves them alone (migrations/env.py, the migrations test)."""

from __future__ import annotations

SEARCH_INDEX = frozenset(
    {
        "messages_fts",
        "messages_fts_data",
        "messages_fts_idx",
        "messages_fts_docsize",
        "messages_fts_config",
        "search",
        "ix_messages_search",
    }
)


def not_search_index(_object: object, name: str | None, *_: object) -> bool:
    """Alembic's include_object: everything but SEARCH_INDEX."""
    return name not in SEARCH_INDEX
