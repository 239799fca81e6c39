"""What staff do with bots, one use case each, each audited in its own transaction: make a bot
(an account with the bot role, a name and the default picture; it never logs in) and its first
token, make a new token (the old one stops at once) or revoke it, set or clear its webhook, make
a new signing secret. Adding a bot to a group is joining, as for anyone (groups/joining.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from discussit.accounts import audit, profiles
from discussit.accounts.auth import Viewer
from discussit.bots import tokens, webhooks
from discussit.core.db import Database, Outcome
from discussit.core.security import text
from discussit.models import Bot, Group, Membership, User, utcnow

_USERS = User.__table__  # type: ignore[attr-defined]
_BOTS = Bot.__table__  # type: ignore[attr-defined]
_GROUPS = Group.__table__  # type: ignore[attr-defined]
_MEMBERSHIPS = Membership.__table__  # type: ignore[attr-defined]
NO_PASSWORD = "!bot"  # no password hash matches it: a bot never logs in (accounts/passwords)


class Refused(Outcome):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class BotInfo:
    id: int
    username: str
    name: str
    avatar_version: int
    is_active: bool
    webhook_url: str
    webhook_secret: str
    token_hint: str | None
    last_delivery_at: datetime | None
    last_delivery_ok: bool | None
    last_delivery_note: str
    groups: tuple[tuple[str, str], ...] = ()  # (group id, name) it is a member of


_INFO = select(
    _USERS.c.id,
    _USERS.c.username,
    _USERS.c.display_name,
    _USERS.c.avatar_version,
    _USERS.c.is_active,
    _BOTS.c.webhook_url,
    _BOTS.c.webhook_secret,
    _BOTS.c.last_delivery_at,
    _BOTS.c.last_delivery_ok,
    _BOTS.c.last_delivery_note,
    tokens.hint_column(_USERS.c.id),
).join(_BOTS, _BOTS.c.user_id == _USERS.c.id)


def _info(conn: Connection, row: Any, with_groups: bool) -> BotInfo:
    uid, handle, display, version, active, url, secret, at, ok, note, hint = row
    groups: tuple[tuple[str, str], ...] = ()
    if with_groups:
        groups = tuple(
            (str(gid), name)
            for gid, name in conn.execute(
                select(_GROUPS.c.id, _GROUPS.c.name)
                .join(_MEMBERSHIPS, _MEMBERSHIPS.c.group_id == _GROUPS.c.id)
                .where(_MEMBERSHIPS.c.user_id == uid)
                .order_by(_GROUPS.c.name_key)
            )
        )
    return BotInfo(
        uid, handle, display or handle, version, active, url, secret, hint, at, ok, note, groups
    )


def all_bots(conn: Connection) -> list[BotInfo]:
    rows = conn.execute(_INFO.order_by(_USERS.c.username_key)).all()
    return [_info(conn, row, with_groups=False) for row in rows]


def bot(conn: Connection, bot_id: int) -> BotInfo | None:
    row = conn.execute(_INFO.where(_USERS.c.id == bot_id)).first()
    return None if row is None else _info(conn, row, with_groups=True)


async def create(db: Database, actor: Viewer, raw_username: str, raw_name: str) -> tuple[int, str]:
    """A new bot and its first token: (its id, the token, to show once). Refused."""
    try:
        username = text.clean(raw_username, text.USERNAME)
        name = text.clean(raw_name, text.DISPLAY_NAME)
    except text.InvalidText as problem:
        raise Refused(str(problem)) from None
    key = text.username_key(username)
    name_key = profiles.name_key(name) if name else ""

    def write(conn: Connection) -> tuple[int, str]:
        named = profiles.taken(conn, key)
        if named or (name_key and name_key != key and profiles.taken(conn, name_key)):
            raise Refused(f"Someone is already called “{name or username}”.")
        bot_id = conn.execute(
            insert(_USERS)
            .values(
                username=username,
                username_key=key,
                password_hash=NO_PASSWORD,
                is_bot=True,
                display_name=name,
                display_name_key=name_key,
                created_at=utcnow(),
            )
            .returning(_USERS.c.id)
        ).scalar_one()
        conn.execute(
            insert(_BOTS).values(
                user_id=bot_id,
                webhook_url="",
                webhook_secret=secrets.token_hex(32),
                created_by=actor.id,
                last_delivery_note="",
            )
        )
        token = tokens.issue(conn, bot_id)
        audit.record(conn, actor.id, "bot-created", bot_id, f"token {token[:10]}…")
        return bot_id, token

    return await db.write(write)


def _a_bot(conn: Connection, bot_id: int) -> None:
    if conn.execute(select(_BOTS.c.user_id).where(_BOTS.c.user_id == bot_id)).first() is None:
        raise Refused("There is no such bot.")


async def new_token(db: Database, actor: Viewer, bot_id: int) -> str:
    def write(conn: Connection) -> str:
        _a_bot(conn, bot_id)
        token = tokens.issue(conn, bot_id)
        audit.record(conn, actor.id, "token-created", bot_id, f"token {token[:10]}…")
        return token

    return await db.write(write)


async def revoke_token(db: Database, actor: Viewer, bot_id: int) -> None:
    def write(conn: Connection) -> None:
        _a_bot(conn, bot_id)
        if tokens.revoke(conn, bot_id):
            audit.record(conn, actor.id, "token-revoked", bot_id)

    await db.write(write)


async def set_webhook(db: Database, actor: Viewer, bot_id: int, raw_url: str) -> None:
    """The bot's webhook URL (http or https; "" for none). Refused."""
    url = ""
    if raw_url.strip():
        try:
            url = webhooks.check_url(raw_url)
        except webhooks.Refused as problem:
            raise Refused(str(problem)) from None

    def write(conn: Connection) -> None:
        _a_bot(conn, bot_id)
        conn.execute(update(_BOTS).where(_BOTS.c.user_id == bot_id).values(webhook_url=url))
        audit.record(conn, actor.id, "webhook-set", bot_id, url or "(none)")

    await db.write(write)


async def new_secret(db: Database, actor: Viewer, bot_id: int) -> None:
    def write(conn: Connection) -> None:
        _a_bot(conn, bot_id)
        secret = secrets.token_hex(32)
        conn.execute(update(_BOTS).where(_BOTS.c.user_id == bot_id).values(webhook_secret=secret))
        audit.record(conn, actor.id, "secret-created", bot_id)

    await db.write(write)
