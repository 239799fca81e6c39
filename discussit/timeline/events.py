"""A join or a leave on a group's timeline, at a seq its caller allocated (store.next_seq) in the
same transaction as the membership change. Repeated joining and leaving collapses to one line."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from discussit.models import Event, utcnow
from discussit.timeline.entries import Entry, Kind
from discussit.timeline.store import MESSAGES

EVENTS = Event.__table__  # type: ignore[attr-defined]

EVENT_COLLAPSE_SECONDS = 600  # a join/leave within this of the same user's last one replaces it


def record_event(
    conn: Connection, group_id: uuid.UUID, seq: int, user_id: int, username: str, kind: Kind
) -> Entry:
    """Add a join/leave event at `seq` (allocated in the same transaction).

    Repeated joining and leaving is collapsed: if this user's previous event in the group is
    younger than EVENT_COLLAPSE_SECONDS and no message has come since, it is removed and this
    one takes its place (the entry says which seq it replaces, so open pages drop that line).
    However often someone clicks, the history holds one line for them between two messages."""
    created_at: datetime = utcnow()
    replaces = _collapsible_event(conn, group_id, user_id, created_at)
    if replaces is not None:
        conn.execute(delete(EVENTS).where(EVENTS.c.id == replaces[0]))
    conn.execute(
        insert(EVENTS).values(
            group_id=group_id, seq=seq, user_id=user_id, kind=kind.value, created_at=created_at
        )
    )
    return Entry(
        kind, seq, group_id, user_id, username, created_at, replaces=replaces and replaces[1]
    )


def _collapsible_event(
    conn: Connection, group_id: uuid.UUID, user_id: int, now: datetime
) -> tuple[int, int] | None:
    """(id, seq) of the user's last event in the group, if a new one may take its place."""
    last = conn.execute(
        select(EVENTS.c.id, EVENTS.c.seq)
        .where(
            EVENTS.c.group_id == group_id,
            EVENTS.c.user_id == user_id,
            EVENTS.c.created_at > now - timedelta(seconds=EVENT_COLLAPSE_SECONDS),
        )
        .order_by(EVENTS.c.seq.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    message_since = conn.execute(
        select(MESSAGES.c.id)
        .where(MESSAGES.c.group_id == group_id, MESSAGES.c.seq > last.seq)
        .limit(1)
    ).first()
    return None if message_since is not None else (last.id, last.seq)
