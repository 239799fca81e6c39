"""Who is logged in: server-side sessions behind a signed cookie, login, logout, and guards.

The cookie (Starlette's SessionMiddleware, signed with itsdangerous) carries a random token and
the CSRF token. The database keeps the token's SHA-256; logging out deletes that row, so a copied
cookie stops working at once, on pages, the WebSocket and the SSE stream alike.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from sqlalchemy import Connection, case, or_, update
from sqlalchemy import select as core_select
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection

from discussit.core.db import Database
from discussit.core.prepared import Prepared
from discussit.core.realtime.broker import Broker, user_channel
from discussit.core.realtime.items import LoggedOut
from discussit.core.security.csrf import csrf_token
from discussit.core.security.ratelimit import client_address
from discussit.core.security.text import username_key
from discussit.core.urls import url_path
from discussit.models import AuthSession, User, login_conditions, shown_name, utcnow

_UNKNOWN = object()


class LoginRequired(Exception):
    """Raised by guards; the app answers with a redirect to the login page (and back)."""


@dataclass(frozen=True, slots=True)
class Account:
    """What a request needs to know of the person logged in (not their password hash): read
    with their login in one statement on every request and every page's socket connect."""

    id: int
    username: str  # their login and @handle
    is_staff: bool
    name: str = ""  # the name pages show (their display name, else their username)
    avatar_version: int = 0  # which picture they show (accounts/profiles.avatar_path)
    is_bot: bool = False  # a bot posting through the API (bots/): it has no login

    @classmethod
    def of(cls, user: User) -> Account:
        assert user.id is not None
        name = user.display_name or user.username
        return cls(user.id, user.username, user.is_staff, name, user.avatar_version)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The logged-in user of a request or socket, and which session they are using."""

    user: Account
    session_key: str  # SHA-256 of the cookie token: identifies this login in the registry
    expires_at: datetime  # the server ends the session then, whatever the cookie says
    last_seen: datetime | None = None  # when this login was last used, to SEEN_EVERY

    @property
    def id(self) -> int:
        return self.user.id


def bot_viewer(account: Account) -> Viewer:
    """A bot acting through the API (its token checked by bots/api.py): a viewer with no login
    (posting does not ask for one), whose access lasts the request."""
    return Viewer(account, "", utcnow() + timedelta(minutes=1))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def find_user(session: AsyncSession, username: str) -> User | None:
    """The account with this username, in any case and spelled with any look-alikes ("Alice",
    "aIice" and "alice" are one account: core.security.text.username_key)."""
    exact = col(User.username) == username
    found = await session.exec(
        select(User)
        .where(or_(exact, col(User.username_key) == username_key(username)))
        .order_by(case((exact, 0), else_=1))  # a name kept from before the key (migration 0003)
        .limit(1)
    )
    return found.first()


_USERS = User.__table__  # type: ignore[attr-defined]
_LOGINS = AuthSession.__table__  # type: ignore[attr-defined]
_FIND_LOGIN = Prepared(
    core_select(
        _USERS.c.id,
        _USERS.c.username,
        _USERS.c.is_staff,
        shown_name(),
        _USERS.c.avatar_version,
        _LOGINS.c.created_at,
        _LOGINS.c.last_seen_at,
    )
    .join_from(_USERS, _LOGINS, _LOGINS.c.user_id == _USERS.c.id)
    .where(*login_conditions(), _USERS.c.is_active)
)


def _find_login(db: Connection, key: str, max_age: int) -> Viewer | None:
    """The user behind a login's token hash, if the login is alive (one statement)."""
    row = _FIND_LOGIN.first(db, session_params(key, max_age))
    if row is None:
        return None
    user_id, username, is_staff, name, avatar_version, started, last_seen = row
    account = Account(user_id, username, bool(is_staff), name, avatar_version)
    return Viewer(account, key, started + timedelta(seconds=max_age), last_seen or started)


SEEN_EVERY = timedelta(minutes=5)  # a login's "last used" is written at most this often
_SHOWN = re.compile(r"[^\x20-\x7e]")


def _touch(conn: Connection, key: str) -> None:
    conn.execute(update(_LOGINS).where(_LOGINS.c.token_hash == key).values(last_seen_at=utcnow()))


def clean_user_agent(raw: str | None) -> str:
    """A User-Agent as kept for the list of logins: printable ASCII, cut to its column."""
    return _SHOWN.sub("", raw or "")[:200]


async def current_viewer(
    conn: HTTPConnection, session: AsyncSession | None = None
) -> Viewer | None:
    """Who is logged in (one statement, once per request); in `session` when the caller has
    one, else in one round trip of its own (Database.read: every page's socket asks)."""
    known = getattr(conn.state, "viewer", _UNKNOWN)
    if known is not _UNKNOWN:
        return known if isinstance(known, Viewer) else None
    viewer = None
    token = conn.session.get("sid")
    if isinstance(token, str):
        key = _token_hash(token)
        max_age = conn.state.settings.session_max_age
        if session is None:
            db: Database = conn.state.db
            viewer = await db.read(lambda c: _find_login(c, key, max_age))
        else:
            viewer = await session.run_sync(lambda s: _find_login(s.connection(), key, max_age))
        if viewer is not None and (viewer.last_seen or utcnow()) < utcnow() - SEEN_EVERY:
            db = conn.state.db
            await db.write(lambda c: _touch(c, key))
    conn.state.viewer = viewer
    return viewer


async def require_viewer(conn: HTTPConnection) -> Viewer:
    viewer = await current_viewer(conn)
    if viewer is None:
        raise LoginRequired
    return viewer


async def log_in(conn: HTTPConnection, user: User) -> Viewer:
    """Start a new server-side session. Everything from before login is dropped (no fixation),
    and a login this browser already had ends on the server (its pages close)."""
    assert user.id is not None
    await _end_session(conn)
    token = secrets.token_urlsafe(32)
    db: Database = conn.state.db
    async with db.session() as session:
        session.add(
            AuthSession(
                token_hash=_token_hash(token),
                user_id=user.id,
                user_agent=clean_user_agent(conn.headers.get("user-agent")),
                address=client_address(conn)[:64],
            )
        )
        await session.commit()
    conn.session.clear()
    conn.session["sid"] = token
    csrf_token(conn)
    viewer = Viewer(
        Account.of(user),
        _token_hash(token),
        utcnow() + timedelta(seconds=conn.state.settings.session_max_age),
        utcnow(),
    )
    conn.state.viewer = viewer
    return viewer


async def log_out(conn: HTTPConnection) -> int | None:
    """End this browser's session on the server (its live pages close); the user id it was."""
    ended = await _end_session(conn)
    conn.session.clear()
    conn.state.viewer = None
    return ended


async def _end_session(conn: HTTPConnection) -> int | None:
    """Delete this browser's server-side session, if it has one, and tell that user's live
    pages and streams opened with it to close. Returns the user id it belonged to."""
    token = conn.session.get("sid")
    if not isinstance(token, str):
        return None
    key = _token_hash(token)
    db: Database = conn.state.db
    async with db.session() as session:
        found = await session.exec(select(AuthSession.user_id).where(AuthSession.token_hash == key))
        user_id = found.first()
        if user_id is None:
            return None
        await session.exec(delete(AuthSession).where(col(AuthSession.token_hash) == key))
        await session.commit()
    broker: Broker = conn.state.broker
    await broker.publish(user_channel(user_id), LoggedOut(key))
    return user_id


async def purge_expired(db: Database, max_age: int) -> int:
    """Delete the sessions that have ended by age (their cookies no longer work anyway); how
    many there were. Run at start and then on a schedule (app.py)."""
    oldest = utcnow() - timedelta(seconds=max_age)
    async with db.session() as session:
        result = await session.exec(
            delete(AuthSession).where(col(AuthSession.created_at) <= oldest)
        )
        await session.commit()
    return int(result.rowcount or 0)


def session_params(session_key: str, max_age: int) -> dict[str, object]:
    """The parameters models.login_alive() needs for one login."""
    return {"session_key": session_key, "session_oldest": utcnow() - timedelta(seconds=max_age)}


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are honoured as a place to return to after login."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ch in target for ch in "\\\r\n\t"):
        return "/"
    return target


def login_url(path_and_query: str) -> str:
    login = url_path("accounts:login")
    if path_and_query in ("", "/"):
        return login
    return login + "?next=" + quote(path_and_query, safe="/")
