"""Staff and people: the list of accounts (searched by name, a page at a time), making staff or
not, deactivating and reactivating. A deactivated account cannot log in and every one of its
logins ends at once, in every process (its pages close); its messages stay, under its name.
Staff cannot remove their own staff role or deactivate themselves (someone must run the place).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from discussit import limits
from discussit.accounts import audit, logins
from discussit.accounts.auth import Viewer
from discussit.core.db import Database, Outcome
from discussit.core.realtime.broker import Broker
from discussit.core.security.text import username_key
from discussit.models import User

_USERS = User.__table__  # type: ignore[attr-defined]
PAGE = 50


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    username: str
    is_staff: bool
    is_active: bool
    joined: datetime


def people(
    conn: Connection, search: str = "", after: str | None = None
) -> tuple[list[Person], str | None]:
    """Accounts whose name starts with `search` (any case or look-alike), by name, PAGE at a
    time after the name key `after`; and the next page's key."""
    query = select(_USERS).order_by(_USERS.c.username_key).limit(PAGE + 1)
    if search:
        key = username_key(search)[: limits.USERNAME_MAX]
        query = query.where(_USERS.c.username_key.startswith(key, autoescape=True))
    if after:
        query = query.where(_USERS.c.username_key > after)
    rows = conn.execute(query).all()
    found = [Person(r.id, r.username, r.is_staff, r.is_active, r.created_at) for r in rows[:PAGE]]
    next_key = rows[PAGE - 1].username_key if len(rows) > PAGE else None
    return found, next_key


class Refused(Outcome):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class NoSuchPerson(Outcome):
    """No account with that id."""


def _target(conn: Connection, user_id: int) -> str:
    name = conn.execute(select(_USERS.c.username).where(_USERS.c.id == user_id)).scalar()
    if name is None:
        raise NoSuchPerson
    return str(name)


async def set_staff(db: Database, actor: Viewer, user_id: int, staff: bool) -> str:
    """Make `user_id` staff, or not; recorded. Their name. Raises Refused or NoSuchPerson."""
    if user_id == actor.id and not staff:
        raise Refused("You cannot remove your own staff role; ask another staff member.")

    def change(conn: Connection) -> str:
        name = _target(conn, user_id)
        conn.execute(update(_USERS).where(_USERS.c.id == user_id).values(is_staff=staff))
        audit.record(conn, actor.id, "staff-on" if staff else "staff-off", user_id)
        return name

    return await db.write(change)


async def set_active(
    db: Database, broker: Broker, actor: Viewer, user_id: int, active: bool
) -> str:
    """Reactivate `user_id`, or deactivate them: no login, every login of theirs ended now
    (their pages close); recorded. Their name. Raises Refused or NoSuchPerson."""
    if user_id == actor.id and not active:
        raise Refused("You cannot deactivate yourself.")

    def change(conn: Connection) -> tuple[str, list[str]]:
        name = _target(conn, user_id)
        conn.execute(update(_USERS).where(_USERS.c.id == user_id).values(is_active=active))
        keys = [] if active else logins.end_logins_of(conn, user_id)
        audit.record(conn, actor.id, "reactivate" if active else "deactivate", user_id)
        return name, keys

    name, keys = await db.write(change)
    await logins.announce_ended(broker, user_id, keys)
    return name
