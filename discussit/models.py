"""The tables: users and their server-side sessions, groups, memberships, and a group's timeline.

A group's messages and join/leave events share one ordering cursor, `seq`, allocated from
`Group.last_seq` inside the inserting transaction. That row update serialises writers per group,
so commit order equals seq order, and history pages and catch-up after a reconnect are exact.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    ColumnElement,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
    bindparam,
    exists,
    func,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel

from discussit import limits


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=limits.USERNAME_MAX)
    # core.security.text.username_key: "Alice", "aIice" and "alice" are one account.
    username_key: str = Field(max_length=limits.USERNAME_MAX, unique=True)
    password_hash: str = Field(max_length=200)
    is_staff: bool = False
    # Deactivated by staff (admin/people.py): no login, every session ended; their messages stay.
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})
    # A bot (bots/): made by staff, posts through the API with a token, never logs in.
    is_bot: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    created_at: datetime = Field(default_factory=utcnow)
    # Their profile (accounts/profiles.py): the name shown for them ("" shows the username, which
    # stays their login and @handle), a few words about them, and which picture they show: it
    # counts up with every new picture or name (the default picture shows the name's initials),
    # so the picture's address changes with it and browsers may keep each one for good.
    display_name: str = Field(
        default="", max_length=limits.DISPLAY_NAME_MAX, sa_column_kwargs={"server_default": ""}
    )
    bio: str = Field(default="", max_length=limits.BIO_MAX, sa_column_kwargs={"server_default": ""})
    # The display name's username_key: nobody may take another's name (accounts/profiles.py).
    display_name_key: str = Field(
        default="",
        max_length=limits.DISPLAY_NAME_MAX * 3,
        index=True,
        sa_column_kwargs={"server_default": ""},
    )
    avatar_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


def shown_name() -> ColumnElement[str]:
    """The name pages show for a user, in SQL: their display name, else their username."""
    users = User.__table__  # type: ignore[attr-defined]
    return func.coalesce(func.nullif(users.c.display_name, ""), users.c.username)


class Avatar(SQLModel, table=True):
    """A picture a person chose for themselves: a small square WebP made from their upload."""

    __tablename__ = "avatars"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    image: bytes = Field(sa_type=LargeBinary)


class AuthSession(SQLModel, table=True):
    """A logged-in browser. The cookie holds a random token; the table holds its SHA-256.

    Logging out deletes the row, so a copied cookie stops working at once.
    """

    __tablename__ = "auth_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    # What the owner sees in their list of logins (accounts/logins.py): the browser it was made
    # in (its User-Agent, cut short), from where, and when it was last used (to a few minutes).
    user_agent: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    address: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    last_seen_at: datetime | None = None


def login_conditions() -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The one rule for a live login, on the auth_sessions row, with two parameters: the login
    :session_key has not ended (not logged out, and started after :session_oldest, i.e. within
    the longest a login lasts)."""
    created_at = AuthSession.__table__.c.created_at  # type: ignore[attr-defined]
    return (
        AuthSession.__table__.c.token_hash == bindparam("session_key"),  # type: ignore[attr-defined]
        created_at > bindparam("session_oldest", type_=created_at.type),
    )


def login_alive() -> ColumnElement[bool]:
    """The rule as one SQL condition: used wherever a statement checks a login itself."""
    return exists().where(*login_conditions())


class Group(SQLModel, table=True):
    __tablename__ = "groups"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=limits.GROUP_NAME_MAX, unique=True)
    # core.security.text.name_key: "Café" and "CAFÉ" are one name, on every database.
    name_key: str = Field(max_length=limits.GROUP_NAME_KEY_MAX, unique=True)
    description: str = Field(default="", max_length=limits.GROUP_DESCRIPTION_MAX)
    last_seq: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    # Archived by staff: its history stays readable, but nobody posts, changes a message or
    # joins (timeline/store.next_seq refuses, in the writing transaction).
    archived_at: datetime | None = None
    # Private: only its members see it (home page, search); a member or staff adds people;
    # to anyone else it does not exist (404). groups/access.py.
    is_private: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_user_id", "user_id"),)

    group_id: uuid.UUID = Field(foreign_key="groups.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    joined_at: datetime = Field(default_factory=utcnow)
    # The seq of the last entry of the group this member has seen (groups/reading.py): what
    # comes after it, from others, is unread. A join starts it at the join's own seq.
    last_read_seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Which of the group's new messages raise a system notification on this member's pages
    # while hidden: "all", "mentions" (of them) or "nothing" (groups/reading.py LEVELS).
    notify: str = Field(
        default="mentions", max_length=8, sa_column_kwargs={"server_default": "mentions"}
    )


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("group_id", "seq", name="uq_messages_group_seq"),
        # A retried send (same id from the same author) is stored once.
        UniqueConstraint("author_id", "client_message_id", name="uq_messages_author_client_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: uuid.UUID = Field(foreign_key="groups.id", ondelete="CASCADE")
    seq: int
    # No index of its own: uq_messages_author_client_id starts with it (migration 0004).
    author_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    body: str = Field(max_length=limits.MESSAGE_MAX)
    client_message_id: str | None = Field(default=None, max_length=limits.CLIENT_MESSAGE_ID_MAX)
    created_at: datetime = Field(default_factory=utcnow)
    # `body` as HTML (timeline/formatting.py), rendered once when stored; None (messages stored
    # before formatting) or an older render_version: rendered again when read.
    body_html: str | None = Field(default=None, sa_type=Text)
    render_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The message this one answers (a seq in the same group), shown as a quote of it.
    reply_to_seq: int | None = None
    edited_at: datetime | None = None
    # Deleted: body and HTML emptied, reactions gone; the line stays as "message deleted".
    deleted_at: datetime | None = None


class Mention(SQLModel, table=True):
    """A member a message mentions (`@name`, resolved when it was stored or last edited): what
    mention counts count."""

    __tablename__ = "mentions"

    group_id: uuid.UUID = Field(foreign_key="groups.id", primary_key=True, ondelete="CASCADE")
    seq: int = Field(primary_key=True)  # the message's
    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")


class Reaction(SQLModel, table=True):
    """A member's reaction to a message: one of limits.REACTIONS, at most once per emoji."""

    __tablename__ = "reactions"
    __table_args__ = (
        UniqueConstraint("message_id", "user_id", "emoji", name="uq_reactions_message_user_emoji"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="messages.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    emoji: str = Field(max_length=limits.REACTION_MAX)
    created_at: datetime = Field(default_factory=utcnow)


class Change(SQLModel, table=True):
    """An edit, a deletion or a reaction change of the message at `target_seq`: an entry of the
    group's timeline at its own seq, so that open pages get it live and a page that was away
    gets it in its catch-up. It is not a line of history: pages show each message as it is."""

    __tablename__ = "changes"
    __table_args__ = (UniqueConstraint("group_id", "seq", name="uq_changes_group_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: uuid.UUID = Field(foreign_key="groups.id", ondelete="CASCADE")
    seq: int
    target_seq: int
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=10)  # "edited" | "deleted" | "reacted"
    created_at: datetime = Field(default_factory=utcnow)


class Event(SQLModel, table=True):
    """A join or leave, shown in the group's history between messages."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("group_id", "seq", name="uq_events_group_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: uuid.UUID = Field(foreign_key="groups.id", ondelete="CASCADE")
    seq: int
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=10)  # "joined" | "left"
    created_at: datetime = Field(default_factory=utcnow)


class Bot(SQLModel, table=True):
    """A bot's own settings: where its outgoing webhook goes (none: ""), the secret its
    deliveries are signed with, and how the last delivery went (shown to staff)."""

    __tablename__ = "bots"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    webhook_url: str = Field(default="", max_length=500)
    webhook_secret: str = Field(max_length=64)
    created_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    last_delivery_at: datetime | None = None
    last_delivery_ok: bool | None = None
    last_delivery_note: str = Field(default="", max_length=200)


class BotToken(SQLModel, table=True):
    """A bot's API token: only its SHA-256 is kept (the token is shown once), and its first
    characters to tell tokens apart. Revoked (rotated or by staff): it stops working at once."""

    __tablename__ = "bot_tokens"

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    hint: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class SiteSetting(SQLModel, table=True):
    """A setting staff change from the staff area (not the environment): `signup_policy`
    ("open" or "invite") and `invite_code` (the join link's code). accounts/signup_policy.py."""

    __tablename__ = "site_settings"

    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)


class AuditEntry(SQLModel, table=True):
    """Something staff did (or that staff should know of): who, what, to whom, when. Written in
    the same transaction as the action (accounts/audit.py)."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    action: str = Field(max_length=40)
    target_user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    detail: str = Field(default="", max_length=200)
