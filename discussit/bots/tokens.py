"""Bots' API tokens: `dsk_` and 256 random bits, shown once; only their SHA-256 is kept (a
lookup by hash needs no constant-time compare: nobody can steer the hash). A token is revoked
when staff revoke it or make a new one; it stops working at once."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from discussit.accounts.auth import SEEN_EVERY, Account
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
        _TOKENS.c.last_used_at,
    )
    .join(_USERS, _USERS.c.id == _TOKENS.c.bot_id)
    .where(_USERS.c.is_bot, _USERS.c.is_active, _TOKENS.c.revoked_at.is_(None))
)


@dataclass(frozen=True, slots=True)
class Found:
    """A live token's bot, and whether the token's "last used" is due to be written."""

    account: Account
    token_id: int
    stale: bool


def bot_of(conn: Connection, token: str) -> Found | None:
    """The active bot a live token belongs to, or None (a read: nothing written)."""
    row = conn.execute(_BOT_OF.where(_TOKENS.c.token_hash == digest(token))).first()
    if row is None:
        return None
    token_id, user_id, username, name, avatar_version, last_used = row
    stale = last_used is None or last_used < utcnow() - SEEN_EVERY
    return Found(Account(user_id, username, False, name, avatar_version, True), token_id, stale)


def touch(conn: Connection, token_id: int) -> None:
    """Note the token's use (at most every SEEN_EVERY, like a login's)."""
    conn.execute(update(_TOKENS).where(_TOKENS.c.id == token_id).values(last_used_at=utcnow()))


def hint_column(bot_id: Any) -> Any:
    """The first characters of the bot's live token (NULL: it has none), as a column of a
    query over bots."""
    live = select(_TOKENS.c.hint).where(_TOKENS.c.bot_id == bot_id, _TOKENS.c.revoked_at.is_(None))
    return live.limit(1).scalar_subquery()
