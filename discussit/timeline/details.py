"""What completes a page's messages beyond their own rows: their reactions (who, with which
emoji) and the messages replies quote, each read for a whole page in one query (bound
parameters, built once), and a quoted message's first line."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, select

from discussit import limits
from discussit.models import Message, Reaction, User, shown_name
from discussit.timeline import formatting
from discussit.timeline.entries import Quote, Reactions

_MESSAGES = Message.__table__  # type: ignore[attr-defined]
_REACTIONS = Reaction.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]
# The bound parameters of these statements and of history.py's, built once.
GROUP_ID = bindparam("group_id", type_=_MESSAGES.c.group_id.type)
SEQS: Any = bindparam("seqs", expanding=True)


def reactions(
    conn: Connection, group_id: uuid.UUID, seqs: Iterable[int]
) -> dict[int, tuple[Reactions, ...]]:
    """Each message's reactions, by seq: emoji in limits.REACTIONS order, people in the order
    they reacted."""
    wanted = sorted(set(seqs))
    if not wanted:
        return {}
    rows = conn.execute(_REACTIONS_OF, {"group_id": group_id, "seqs": wanted})
    people: dict[int, dict[str, list[tuple[int, str]]]] = defaultdict(lambda: defaultdict(list))
    for seq, emoji, user_id, username in rows:
        people[seq][emoji].append((user_id, username))
    order = {emoji: i for i, emoji in enumerate(limits.REACTIONS)}
    return {
        seq: tuple(
            Reactions(emoji, tuple(u for u, _ in who), tuple(n for _, n in who))
            for emoji, who in sorted(by_emoji.items(), key=lambda e: order.get(e[0], 99))
        )
        for seq, by_emoji in people.items()
    }


_REACTIONS_OF = (
    select(_MESSAGES.c.seq, _REACTIONS.c.emoji, _REACTIONS.c.user_id, shown_name())
    .join(_MESSAGES, _MESSAGES.c.id == _REACTIONS.c.message_id)
    .join(_USERS, _USERS.c.id == _REACTIONS.c.user_id)
    .where(_MESSAGES.c.group_id == GROUP_ID, _MESSAGES.c.seq.in_(SEQS))
    .order_by(_MESSAGES.c.seq, _REACTIONS.c.id)
)
_QUOTED = (
    select(_MESSAGES.c.seq, shown_name(), _MESSAGES.c.body, _MESSAGES.c.deleted_at)
    .join(_USERS, _USERS.c.id == _MESSAGES.c.author_id)
    .where(_MESSAGES.c.group_id == GROUP_ID, _MESSAGES.c.seq.in_(SEQS))
)


def first_line(body: str) -> str:
    """A quoted message's first line as a reader sees it, up to limits.QUOTE_MAX characters."""
    return formatting.first_line(body, limits.QUOTE_MAX)


def quotes(conn: Connection, group_id: uuid.UUID, seqs: Iterable[int]) -> dict[int, Quote]:
    """The messages of this group at `seqs`, as replies quote them (absent: no such message)."""
    wanted = sorted(set(seqs))
    if not wanted:
        return {}
    rows = conn.execute(_QUOTED, {"group_id": group_id, "seqs": wanted})
    return {
        seq: Quote(seq, username, "" if deleted_at else first_line(body), deleted_at is not None)
        for seq, username, body, deleted_at in rows
    }
