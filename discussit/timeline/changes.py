"""Changing a message: an edit, a deletion, a reaction toggled. Each is a new entry of the
group's timeline (a `changes` row at the next seq, naming its target) written in the same
transaction as the change itself, so live pages and catch-ups replay it in seq order.

Who may make a change is not decided here: the caller passes `decide`, which sees the target
(its author, whether it is deleted, whether the actor is a member and still logged in) and
raises to refuse (groups/access.py). The seq is allocated first: it locks the group's row until
commit, so changes (and posts, joins, leaves) to one group are applied in seq order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from discussit.core.db import Outcome
from discussit.models import Change, Reaction, User, login_alive, utcnow
from discussit.timeline import history
from discussit.timeline.entries import Entry, Kind
from discussit.timeline.formatting import RENDER_VERSION
from discussit.timeline.store import (
    MEMBERSHIPS,
    MESSAGES,
    NoSuchGroup,
    NoSuchMessage,
    NotAMember,
    next_seq,
    write_mentions,
)

__all__ = ["Actor", "NoSuchMessage", "Target", "Unchanged", "edit", "react", "remove"]

CHANGES = Change.__table__  # type: ignore[attr-defined]
REACTIONS = Reaction.__table__  # type: ignore[attr-defined]
USERS = User.__table__  # type: ignore[attr-defined]


class Unchanged(Outcome):
    """The change would change nothing (the same text; a reaction already there or not)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A message about to be changed, and what `decide` needs to know about it."""

    message_id: int
    seq: int
    author_id: int
    deleted: bool
    actor_id: int
    actor_is_member: bool
    actor_is_staff: bool
    logged_in: bool


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: the logged-in user, and their login (key, longest a login lasts)."""

    user_id: int
    username: str
    session: tuple[str, int] | None = None


Decide = Callable[[Target], None]


def _target(conn: Connection, group_id: uuid.UUID, seq: int, actor: Actor, now: datetime) -> Target:
    member = (
        select(MEMBERSHIPS.c.user_id)
        .where(MEMBERSHIPS.c.group_id == group_id, MEMBERSHIPS.c.user_id == actor.user_id)
        .exists()
    )
    staff = select(USERS.c.is_staff).where(USERS.c.id == actor.user_id).scalar_subquery()
    columns: list[Any] = [MESSAGES.c.id, MESSAGES.c.author_id, MESSAGES.c.deleted_at, member, staff]
    params: dict[str, object] = {}
    if actor.session is not None:
        columns.append(login_alive())
        params = {
            "session_key": actor.session[0],
            "session_oldest": now - timedelta(seconds=actor.session[1]),
        }
    query = select(*columns).where(MESSAGES.c.group_id == group_id, MESSAGES.c.seq == seq)
    row = conn.execute(query, params).first()
    if row is None:
        raise NoSuchMessage
    return Target(
        row[0],
        seq,
        row[1],
        row[2] is not None,
        actor.user_id,
        bool(row[3]),
        bool(row[4]),
        bool(row[5]) if actor.session is not None else True,
    )


def _change(
    conn: Connection,
    group_id: uuid.UUID,
    seq: int,
    actor: Actor,
    kind: Kind,
    decide: Decide,
    apply: Callable[[Target, datetime], None],
) -> Entry:
    now = utcnow()
    try:
        change_seq = next_seq(conn, group_id, writing=True)
    except NoSuchGroup:
        raise NotAMember from None
    target = _target(conn, group_id, seq, actor, now)
    decide(target)
    apply(target, now)
    conn.execute(
        insert(CHANGES).values(
            group_id=group_id,
            seq=change_seq,
            target_seq=seq,
            user_id=actor.user_id,
            kind=kind.value,
            created_at=now,
        )
    )
    message = history.messages_now(conn, group_id, [seq])[seq]
    return Entry(kind, change_seq, group_id, actor.user_id, actor.username, now, target=message)


_BY_ID = MESSAGES.c.id == bindparam("message_id")


def edit(
    conn: Connection,
    group_id: uuid.UUID,
    seq: int,
    actor: Actor,
    body: str,
    body_html: str,
    decide: Decide,
    mentions: frozenset[int] = frozenset(),
) -> Entry:
    """Replace the message's text (and its HTML and the members it mentions, made by the
    caller). The same text: Unchanged."""

    def apply(target: Target, now: datetime) -> None:
        found = conn.execute(
            select(MESSAGES.c.body).where(_BY_ID), {"message_id": target.message_id}
        ).scalar_one()
        if found == body:
            raise Unchanged
        conn.execute(
            update(MESSAGES)
            .where(_BY_ID)
            .values(body=body, body_html=body_html, render_version=RENDER_VERSION, edited_at=now),
            {"message_id": target.message_id},
        )
        write_mentions(conn, group_id, seq, mentions, again=True)

    return _change(conn, group_id, seq, actor, Kind.EDITED, decide, apply)


def remove(conn: Connection, group_id: uuid.UUID, seq: int, actor: Actor, decide: Decide) -> Entry:
    """Delete the message: its text and HTML are emptied and its reactions removed; its line
    stays, saying it was deleted."""

    def apply(target: Target, now: datetime) -> None:
        conn.execute(
            update(MESSAGES).where(_BY_ID).values(body="", body_html="", deleted_at=now),
            {"message_id": target.message_id},
        )
        conn.execute(delete(REACTIONS).where(REACTIONS.c.message_id == target.message_id))

    return _change(conn, group_id, seq, actor, Kind.DELETED, decide, apply)


def react(
    conn: Connection,
    group_id: uuid.UUID,
    seq: int,
    actor: Actor,
    emoji: str,
    on: bool | None,
    decide: Decide,
) -> Entry:
    """Add (on=True), remove (on=False) or toggle (None) the actor's `emoji` on the message.
    Nothing to do (already there, or not there): Unchanged."""

    def apply(target: Target, now: datetime) -> None:
        mine = (
            REACTIONS.c.message_id == target.message_id,
            REACTIONS.c.user_id == actor.user_id,
            REACTIONS.c.emoji == emoji,
        )
        there = conn.execute(select(REACTIONS.c.id).where(*mine)).first() is not None
        wanted = (not there) if on is None else on
        if wanted == there:
            raise Unchanged
        if wanted:
            conn.execute(
                insert(REACTIONS).values(
                    message_id=target.message_id, user_id=actor.user_id, emoji=emoji, created_at=now
                )
            )
        else:
            conn.execute(delete(REACTIONS).where(*mine))

    return _change(conn, group_id, seq, actor, Kind.REACTED, decide, apply)
