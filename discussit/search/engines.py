"""Each database's own full-text engine, behind one function: `find` gives the same result shape
on SQLite (FTS5, migration 0010's `messages_fts`) and on PostgreSQL (the `search` tsvector
column and its GIN index).

Every statement joins the searcher's memberships as they are now, so only groups they belong to
are searched (never a filter applied to results afterwards: no page holes, nothing counted from
other groups), and leaves deleted messages out. Pages are keyset pages: newest first by message
id, or best first by (score, id); never an OFFSET. The user's words reach the engines only as
pieces of letters and digits each engine quotes itself (query.py), or through PostgreSQL's
websearch_to_tsquery, which takes any text. Snippets mark matches with the control characters
\\x02 and \\x03, which no message can hold (core/security/text.py): escaping the text and then
turning the marks into <mark> is left to the one filter that makes markup of them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Float, Integer, String, Uuid, bindparam, text
from sqlalchemy.sql.selectable import TextualSelect

from discussit import limits
from discussit.models import Message
from discussit.search.query import Term

Sort = Literal["newest", "best"]
SORTS: tuple[Sort, ...] = ("newest", "best")
PG_CONFIG = "discussit_search"  # migration 0010: `simple`, accents folded where it can
SNIPPET_WORDS = 16  # about how many words a snippet shows
PLAIN_SNIPPET = 240  # characters of a message shown when nothing is matched (filters only)
# Best first ranks the newest RANKED matches in the searcher's groups (scoring every match of a
# word in half the messages took a second at a million messages; a chat's recent past matters
# most). With fewer matches than that, all of them.
RANKED = 1000
RECENT = 100_000  # PostgreSQL, newest first: messages walked before the index is asked


@dataclass(frozen=True, slots=True)
class Hit:
    """A message found: where, who, when, and a snippet of it with its matches marked."""

    id: int
    group_id: uuid.UUID
    group_name: str
    seq: int
    username: str
    created_at: datetime
    snippet: str
    score: float | None  # best first: the engine's score (the page's key with the id)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts: after the message `before` (and, best first, its score)."""

    before: int
    score: float | None = None


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose search, and narrowed to which groups and authors (None: not narrowed)."""

    user_id: int
    group_ids: tuple[uuid.UUID, ...] | None = None
    author_ids: tuple[int, ...] | None = None


_MESSAGES = Message.__table__  # type: ignore[attr-defined]
_COLUMNS = {
    "id": Integer,
    "group_id": _MESSAGES.c.group_id.type,
    "group_name": String,
    "seq": Integer,
    "username": String,
    "created_at": _MESSAGES.c.created_at.type,
    "snippet": String,
    "score": Float,
}
_JOINS = """
JOIN memberships ms ON ms.group_id = m.group_id AND ms.user_id = :uid
JOIN groups g ON g.id = m.group_id
JOIN users u ON u.id = m.author_id"""
_HIT = (
    "m.id, m.group_id, g.name AS group_name, m.seq, "
    "COALESCE(NULLIF(u.display_name, ''), u.username) AS username, m.created_at"
)


def _narrowing(scope: Scope) -> str:
    where = " AND m.deleted_at IS NULL"
    if scope.group_ids is not None:
        where += " AND m.group_id IN :groups"
    if scope.author_ids is not None:
        where += " AND m.author_id IN :authors"
    return where


def _keyset(cursor: Cursor | None, sort: Sort, score: str, id_: str, lower_is_better: bool) -> str:
    if cursor is None:
        return ""
    if sort == "newest" or cursor.score is None:
        return f" AND {id_} < :before"
    worse = ">" if lower_is_better else "<"
    return f" AND ({score} {worse} :score OR ({score} = :score AND {id_} < :before))"


def _fts5_match(terms: tuple[Term, ...]) -> str:
    """An FTS5 query of quoted strings only, every one required: a phrase per term."""
    return " ".join(f'"{" ".join(t.words)}"' + ("*" if t.prefix else "") for t in terms)


def _sqlite(terms: tuple[Term, ...], scope: Scope, sort: Sort, cursor: Cursor | None) -> str:
    narrowing = _narrowing(scope)
    if sort == "newest":
        keyset = _keyset(cursor, sort, "", "messages_fts.rowid", True)
        # FTS5 gives its rows in rowid order: newest first stops after a page's worth.
        return f"""SELECT {_HIT},
            snippet(messages_fts, 0, char(2), char(3), '…', {SNIPPET_WORDS}) AS snippet,
            CAST(NULL AS REAL) AS score
        FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid {_JOINS}
        WHERE messages_fts MATCH :match{narrowing}{keyset}
        ORDER BY messages_fts.rowid DESC LIMIT :limit"""
    keyset = _keyset(cursor, sort, "score", "id", True)
    # bm25 for the RANKED newest matches only, and snippets (costly) only for the page.
    return f"""WITH recent AS (
            SELECT messages_fts.rowid AS id, bm25(messages_fts) AS score
            FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid {_JOINS}
            WHERE messages_fts MATCH :match{narrowing}
            ORDER BY messages_fts.rowid DESC LIMIT {RANKED}),
        page AS (
            SELECT id, score FROM recent WHERE 1 = 1{keyset}
            ORDER BY score, id DESC LIMIT :limit)
        SELECT {_HIT},
            snippet(messages_fts, 0, char(2), char(3), '…', {SNIPPET_WORDS}) AS snippet,
            page.score AS score
        FROM page JOIN messages_fts ON messages_fts.rowid = page.id
        JOIN messages m ON m.id = page.id
        JOIN groups g ON g.id = m.group_id JOIN users u ON u.id = m.author_id
        WHERE messages_fts MATCH :match
        ORDER BY page.score, page.id DESC"""


def _tsquery(terms: tuple[Term, ...]) -> tuple[str, dict[str, str]]:
    """A tsquery expression of every term, AND-ed: a phrase from each term's text as typed
    (websearch_to_tsquery takes any text, and reads none of it as an operator between double
    quotes), or, for the word being typed, that word as a prefix."""
    parts, params = [], {}
    for number, term in enumerate(terms):
        name = f"t{number}"
        if term.prefix:  # a single piece of letters and digits: safe inside quotes
            parts.append(f"to_tsquery('{PG_CONFIG}', :{name})")
            params[name] = f"'{term.words[0]}':*"
        else:  # in double quotes (which a term never holds): a phrase, no operators
            parts.append(f"websearch_to_tsquery('{PG_CONFIG}', :{name})")
            params[name] = f'"{term.text}"'
    return " && ".join(parts), params


def _postgres(tsquery: str, scope: Scope, sort: Sort, cursor: Cursor | None) -> str:
    """The tsquery is written out where it is used, not taken from a CTE: the planner then
    sees its words and can choose between walking the newest messages (a common word) and
    the GIN index (a rare one). It guesses a phrase as common as its words, though, and then
    walked a million messages for a rare phrase of common words. So newest first looks in the
    RECENT newest messages first, walking them (bounded), and only if they hold too few
    matches in the GIN index for the rest (where matches are then few)."""
    matching = f"m.search @@ ({tsquery}){_mine(scope)}{_narrowing(scope)}"
    headline = (
        f"ts_headline('{PG_CONFIG}', m.body, ({tsquery}), 'StartSel=' || chr(2) || ', StopSel='"
        f" || chr(3) || ', MaxWords={SNIPPET_WORDS + 4}, MinWords={SNIPPET_WORDS // 2}')"
    )
    if sort == "newest":
        keyset = _keyset(cursor, sort, "", "m.id", False)
        start = ":before" if cursor else "(SELECT coalesce(max(id), 0) + 1 FROM messages)"
        recent = f"""SELECT m.id FROM messages m WHERE {matching}{keyset}
                AND m.id >= {start} - {RECENT} ORDER BY m.id DESC LIMIT :limit"""
        # The older part takes the words' matches from the GIN index alone (behind OFFSET 0),
        # then narrows them: given more to AND, PostgreSQL added bitmaps of every message of
        # the groups (100,000) or of the id range (980,000), at 10 to 30 ms each.
        older = f"""SELECT m.id FROM (SELECT id, group_id, author_id, deleted_at FROM messages
                WHERE search @@ ({tsquery}) OFFSET 0) AS m
            WHERE m.id < {start} - {RECENT}{keyset}{_mine(scope)}{_narrowing(scope)}
            ORDER BY m.id DESC LIMIT :limit"""
        # (An Append under a LIMIT stops as soon as the first part has given enough.)
        page = f"""SELECT id, CAST(NULL AS float8) AS score
            FROM (({recent}) UNION ALL ({older})) AS hits LIMIT :limit"""
    else:
        # ts_rank_cd for the RANKED newest matches only, as on SQLite.
        keyset = _keyset(cursor, sort, "score", "id", False)
        page = f"""SELECT id, score FROM (
                SELECT id, ts_rank_cd(search, ({tsquery}))::float8 AS score FROM (
                    SELECT m.id, m.search FROM messages m WHERE {matching}
                    ORDER BY m.id DESC LIMIT {RANKED}) AS recent) AS ranked
            WHERE 1 = 1{keyset} ORDER BY score DESC, id DESC LIMIT :limit"""
    # The headline (costly) only for the page.
    return f"""SELECT {_HIT}, {headline} AS snippet, page.score AS score
        FROM ({page}) AS page JOIN messages m ON m.id = page.id
        JOIN groups g ON g.id = m.group_id JOIN users u ON u.id = m.author_id
        ORDER BY page.score DESC NULLS LAST, page.id DESC"""


def _mine(scope: Scope) -> str:
    """Only the groups the searcher belongs to now."""
    return " AND m.group_id = ANY(ARRAY(SELECT group_id FROM memberships WHERE user_id = :uid))"


def _filters_only(scope: Scope, cursor: Cursor | None) -> str:
    """No words, only from:/in: (either database): their messages, newest first."""
    keyset = "" if cursor is None else " AND m.id < :before"
    return f"""SELECT {_HIT}, substr(m.body, 1, {PLAIN_SNIPPET}) AS snippet,
            CAST(NULL AS REAL) AS score
        FROM messages m {_JOINS}
        WHERE 1 = 1{_narrowing(scope)}{keyset}
        ORDER BY m.id DESC LIMIT :limit"""


def _statement(sql: str, scope: Scope) -> TextualSelect:
    statement = text(sql)
    if scope.group_ids is not None:
        statement = statement.bindparams(bindparam("groups", expanding=True, type_=Uuid()))
    if scope.author_ids is not None:
        statement = statement.bindparams(bindparam("authors", expanding=True))
    return statement.columns(**_COLUMNS)


def find(
    conn: Connection,
    terms: tuple[Term, ...],
    scope: Scope,
    sort: Sort = "newest",
    cursor: Cursor | None = None,
    limit: int = limits.SEARCH_PAGE,
) -> tuple[list[Hit], Cursor | None]:
    """A page of the messages in the searcher's groups with every term (or, with no terms,
    every message the scope narrows to), and where the next page starts (None: no more)."""
    params: dict[str, Any] = {"uid": scope.user_id, "limit": limit + 1}
    if scope.group_ids is not None:
        params["groups"] = list(scope.group_ids)
    if scope.author_ids is not None:
        params["authors"] = list(scope.author_ids)
    if cursor is not None:
        params["before"] = cursor.before
        params["score"] = cursor.score
    if conn.dialect.name == "postgresql":
        # Plan each search for its own words (a common word and a rare one want different
        # plans), never a generic plan psycopg's prepared statements would settle on.
        conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    if not terms:
        sql = _filters_only(scope, cursor)
    elif conn.dialect.name == "sqlite":
        sql = _sqlite(terms, scope, sort, cursor)
        params["match"] = _fts5_match(terms)
    else:
        tsquery, words = _tsquery(terms)
        sql = _postgres(tsquery, scope, sort, cursor)
        params.update(words)
    rows = conn.execute(_statement(sql, scope), params).all()
    hits = [Hit(**row._mapping) for row in rows[:limit]]
    if len(rows) <= limit:
        return hits, None
    last = hits[-1]
    return hits, Cursor(last.id, last.score if sort == "best" and terms else None)
