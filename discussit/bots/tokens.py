"""Bots' API tokens: `dsk_` and 256 random bits, shown once; only their SHA-256 is kept (a
lookup by hash needs no constant-time compare: nobody can steer the hash). A token is revoked
when staff revoke it or make a new one; it stops working at once."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Connection, insert, select, update

from discussit.accounts.auth import Account
from discussit.models import BotToken, User, shown_name, utcnow

PREFIX = "dsk_"  # easy to find (and to register with secret scanners)
MAX_LENGTH = 100
_TOKENS = BotToken.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def from_header(value: str | None) -> str | None:
    """The token of an `Authorization: Bearer dsk_…` header, or None for any other form."""
    scheme, _, token = (value or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(PREFIX) or len(token) > MAX_LENGTH:
        return None
    return token if token.isascii() and token.isprintable() else None


def issue(conn: Connection, bot_id: int) -> str:
    """Revoke the bot's tokens and make it a new one: the token, to be shown once."""
    revoke(conn, bot_id)
    token = PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(_TOKENS).values(
            bot_id=bot_id, token_hash=digest(token), hint=token[:10], created_at=utcnow()
        )
    )
    return token


def revoke(conn: Connection, bot_id: int) -> int:
    """End every live token of the bot; how many there were."""
    done = conn.execute(
        update(_TOKENS)
        .where(_TOKENS.c.bot_id == bot_id, _TOKENS.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(done.rowcount or 0)


_BOT_OF = (
    select(
        _TOKENS.c.id,
        _USERS.c.id,
        _USERS.c.username,
        shown_name(),
        _USERS.c.avatar_version,
    )
    .join(_USERS, _USERS.c.id == _TOKENS.c.bot_id)
    .where(_USERS.c.is_bot, _USERS.c.is_active, _TOKENS.c.revoked_at.is_(None))
)


def bot_of(conn: Connection, token: str) -> Account | None:
    """The active bot a live token belongs to (and its last use noted), or None."""
    row = conn.execute(_BOT_OF.where(_TOKENS.c.token_hash == digest(token))).first()
    if row is None:
        return None
    token_id, user_id, username, name, avatar_version = row
    conn.execute(update(_TOKENS).where(_TOKENS.c.id == token_id).values(last_used_at=utcnow()))
    return Account(user_id, username, False, name, avatar_version, is_bot=True)


def hint_of(conn: Connection, bot_id: int) -> str | None:
    """The first characters of the bot's live token, if it has one."""
    return conn.execute(
        select(_TOKENS.c.hint).where(_TOKENS.c.bot_id == bot_id, _TOKENS.c.revoked_at.is_(None))
    ).scalar()
