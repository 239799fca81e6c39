"""A person's logins (server-side sessions), as they see and end them: which browser, from where,
last used when; sign one out, or every one but this; and a new password, which signs out the
others. Ending a login deletes its row (its cookie stops working at once) and tells its live
pages and streams to close, in every process (the user's broker channel), as logging out does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select, update

from discussit.accounts import passwords
from discussit.accounts.auth import Viewer
from discussit.core.db import Database
from discussit.core.realtime.broker import Broker, user_channel
from discussit.core.realtime.items import LoggedOut
from discussit.models import AuthSession, User

_LOGINS = AuthSession.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]

# The browser and the system a User-Agent names, first match wins (only to show a person which
# of their logins is which; nothing is decided by it).
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe(user_agent: str) -> str:
    """ "Firefox on Linux", or what is known of it."""
    browser = next((name for token, name in _BROWSERS if token in user_agent), None)
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "An unknown browser"


@dataclass(frozen=True, slots=True)
class Login:
    id: int
    device: str
    address: str
    started: datetime
    last_seen: datetime
    current: bool


def logins_of(conn: Connection, viewer: Viewer) -> list[Login]:
    """The viewer's logins, this one first, then the most recently used."""
    rows = conn.execute(
        select(_LOGINS).where(_LOGINS.c.user_id == viewer.id).order_by(_LOGINS.c.id.desc())
    )
    found = [
        Login(
            row.id,
            describe(row.user_agent),
            row.address,
            row.created_at,
            row.last_seen_at or row.created_at,
            row.token_hash == viewer.session_key,
        )
        for row in rows
    ]
    return sorted(found, key=lambda login: (not login.current, -login.last_seen.timestamp()))


def end_logins_of(
    conn: Connection, user_id: int, keep: str | None = None, login_id: int | None = None
) -> list[str]:
    """In the caller's transaction: delete `user_id`'s logins (but the one with key `keep`; only
    `login_id`, if given). Their keys, for `announce_ended` once committed."""
    ending = _LOGINS.c.user_id == user_id
    if keep is not None:
        ending &= _LOGINS.c.token_hash != keep
    if login_id is not None:
        ending &= _LOGINS.c.id == login_id
    keys = [row.token_hash for row in conn.execute(select(_LOGINS.c.token_hash).where(ending))]
    conn.execute(delete(_LOGINS).where(ending))
    return keys


async def announce_ended(broker: Broker, user_id: int, keys: list[str]) -> None:
    """After the commit: each ended login's live pages and streams close, in every process."""
    for key in keys:
        await broker.publish(user_channel(user_id), LoggedOut(key))


async def end_logins(
    db: Database, broker: Broker, viewer: Viewer, login_id: int | None = None
) -> int:
    """End the viewer's login `login_id` (never this one: that is logging out), or, without
    one, every login of theirs but this one. How many ended."""
    keys = await db.write(
        lambda conn: end_logins_of(conn, viewer.id, keep=viewer.session_key, login_id=login_id)
    )
    await announce_ended(broker, viewer.id, keys)
    return len(keys)


async def change_password(
    db: Database, broker: Broker, viewer: Viewer, current: str, new: str, again: str
) -> list[str]:
    """Set a new password if `current` is right and `new` is acceptable; then every other
    login ends. The problems with what was typed (nothing changed), or [] when done."""
    found = await db.read(
        lambda c: c.execute(select(_USERS.c.password_hash).where(_USERS.c.id == viewer.id)).scalar()
    )
    if not await passwords.verify_password(found, current):
        return ["That is not your current password."]
    problems = passwords.problems(new, viewer.user.username)
    if new != again:
        problems.append("The two new passwords do not match.")
    if problems:
        return problems
    new_hash = await passwords.hash_password(new)

    def store(conn: Connection) -> None:
        conn.execute(update(_USERS).where(_USERS.c.id == viewer.id).values(password_hash=new_hash))

    await db.write(store)
    await end_logins(db, broker, viewer)
    return []
