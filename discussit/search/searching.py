"""Searching: the one use case behind the search page, its live results and "More results".

In order: the text through the text policy and the search language (query.py); nothing to look
for, nothing run; then the searcher's budget (searches per user and per address); then, in one
session, the searcher's groups (for the group choice and `in:`), the people `from:` names, and
a page of results from the database's own engine (engines.py), every statement limited to the
groups the searcher belongs to then.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Connection, select

from discussit.accounts.auth import Viewer
from discussit.core.db import Database
from discussit.core.security import text as text_policy
from discussit.core.security.ratelimit import MemoryLimiter, spend
from discussit.models import Group, Membership, User
from discussit.search import engines, query
from discussit.search.engines import SORTS, Cursor, Hit, Scope, Sort
from discussit.settings import Settings

T = TypeVar("T")
_GROUPS = Group.__table__  # type: ignore[attr-defined]
_MEMBERSHIPS = Membership.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Ask:
    """A search as a page asks for it: the box's text, the group chosen (an id, or "" for all
    the searcher's groups), the order, and where the page starts (None: the first page)."""

    text: str = ""
    group: str = ""
    sort: Sort = "newest"
    cursor: Cursor | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    ask: Ask
    searched: bool  # False: nothing to look for (an empty box), or refused (notes say why)
    hits: list[Hit] = field(default_factory=list)
    more: Cursor | None = None  # the next page's start (None: no more results)
    notes: tuple[str, ...] = ()
    groups: list[tuple[uuid.UUID, str]] = field(default_factory=list)  # the searcher's


class TooManySearches(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def clean_sort(raw: str | None) -> Sort:
    return next((sort for sort in SORTS if sort == raw), "newest")


def _my_groups(conn: Connection, user_id: int) -> list[tuple[uuid.UUID, str]]:
    rows = conn.execute(
        select(_GROUPS.c.id, _GROUPS.c.name)
        .join(_MEMBERSHIPS, _MEMBERSHIPS.c.group_id == _GROUPS.c.id)
        .where(_MEMBERSHIPS.c.user_id == user_id)
        .order_by(_GROUPS.c.name_key)
    )
    return [(row.id, row.name) for row in rows]


def _people(conn: Connection, names: tuple[str, ...]) -> dict[str, int]:
    """username_key -> id of each account `names` names (in any case or look-alike spelling)."""
    keys = {text_policy.username_key(name) for name in names}
    rows = conn.execute(
        select(_USERS.c.id, _USERS.c.username_key).where(_USERS.c.username_key.in_(keys))
    )
    return {row.username_key: row.id for row in rows}


def _named(
    names: tuple[str, ...],
    known: dict[str, T],
    key: Callable[[str], str],
    missing: str,
    notes: list[str],
) -> set[T]:
    """What `names` name among `known` (by `key`); a note (`missing`) for each that is not."""
    found: set[T] = set()
    for name in names:
        value = known.get(key(name))
        if value is None:
            notes.append(missing.format(name=name))
        else:
            found.add(value)
    return found


def _scope(
    conn: Connection,
    viewer: Viewer,
    wanted: query.Query,
    ask: Ask,
    groups: list[tuple[uuid.UUID, str]],
) -> tuple[Scope | None, list[str]]:
    """Whose search, narrowed as asked; None when a narrowing leaves nothing to search."""
    notes: list[str] = []
    mine = {text_policy.name_key(name): gid for gid, name in groups}
    group_ids: set[uuid.UUID] | None = None
    if ask.group or wanted.groups:
        group_ids = set()
        chosen = next((gid for gid, _ in groups if str(gid) == ask.group), None)
        if ask.group and chosen is None:
            notes.append("You are not a member of the group chosen.")
        elif chosen is not None:
            group_ids.add(chosen)
        group_ids |= _named(
            wanted.groups,
            mine,
            text_policy.name_key,
            "You are not a member of a group called “{name}”.",
            notes,
        )
        if not group_ids:
            return None, notes
    author_ids: set[int] | None = None
    if wanted.authors:
        people = _people(conn, wanted.authors)
        author_ids = _named(
            wanted.authors, people, text_policy.username_key, "No one is called “{name}”.", notes
        )
        if not author_ids:
            return None, notes
    return (
        Scope(
            viewer.id,
            None if group_ids is None else tuple(sorted(group_ids, key=str)),
            None if author_ids is None else tuple(sorted(author_ids)),
        ),
        notes,
    )


async def search(
    db: Database,
    limiter: MemoryLimiter,
    settings: Settings,
    viewer: Viewer,
    conn: object,
    ask: Ask,
) -> Answer:
    """A page of what `ask` finds in the viewer's groups. Raises TooManySearches past the
    budget."""
    try:
        cleaned = text_policy.clean(ask.text, text_policy.SEARCH)
    except text_policy.InvalidText as problem:
        groups = await db.read(lambda c: _my_groups(c, viewer.id))
        return Answer(ask, False, notes=(str(problem),), groups=groups)
    wanted = query.parse(cleaned)
    notes = list(wanted.notes)
    if wanted.empty and not ask.group:
        groups = await db.read(lambda c: _my_groups(c, viewer.id))
        return Answer(ask, False, notes=tuple(notes), groups=groups)
    decision = await spend(limiter, "search", viewer.id, conn, settings.searches_per_user)
    if not decision.allowed:
        raise TooManySearches(decision.retry_after)
    async with db.session() as session:

        def run(conn: Connection) -> Answer:
            groups = _my_groups(conn, viewer.id)
            scope, narrowed = _scope(conn, viewer, wanted, ask, groups)
            all_notes = (*notes, *narrowed)
            if scope is None:
                return Answer(ask, True, notes=all_notes, groups=groups)
            sort = ask.sort if wanted.terms else "newest"  # no words: nothing to rank
            hits, more = engines.find(conn, wanted.terms, scope, sort, ask.cursor)
            return Answer(ask, True, hits, more, all_notes, groups)

        return await session.run_sync(lambda s: run(s.connection()))
