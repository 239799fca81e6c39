"""A person's profile: the name shown for them, a few words about them, and their picture.

The username stays their login and their @handle; the display name is what messages, member
lists, reactions and quotes show. A display name goes through the one text policy and may not
be another person's name: not their username nor their display name, compared as usernames are
(case and look-alikes: "AIice" is Alice's). Every change counts up `avatar_version` (the
default picture shows the name's initials), so each picture has an address of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import anyio
from sqlalchemy import Connection, delete, insert, or_, select, update

from discussit.accounts import avatars
from discussit.accounts.auth import Viewer
from discussit.core.db import Database
from discussit.core.realtime.broker import Broker, user_channel
from discussit.core.realtime.items import ProfileChanged
from discussit.core.security import text
from discussit.core.urls import url_path
from discussit.models import Avatar, User, shown_name

_USERS = User.__table__  # type: ignore[attr-defined]
_AVATARS = Avatar.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Profile:
    id: int
    username: str
    display_name: str
    bio: str
    avatar_version: int
    is_staff: bool
    is_active: bool
    joined_at: datetime
    has_picture: bool  # an uploaded one (else their initials show)

    @property
    def name(self) -> str:
        return self.display_name or self.username


_PROFILE = select(
    _USERS.c.id,
    _USERS.c.username,
    _USERS.c.display_name,
    _USERS.c.bio,
    _USERS.c.avatar_version,
    _USERS.c.is_staff,
    _USERS.c.is_active,
    _USERS.c.created_at,
    _AVATARS.c.user_id.is_not(None),
).outerjoin(_AVATARS, _AVATARS.c.user_id == _USERS.c.id)


def profile_of(conn: Connection, user_id: int) -> Profile | None:
    row = conn.execute(_PROFILE.where(_USERS.c.id == user_id)).first()
    return None if row is None else Profile(*row)


def avatar_path(user_id: int, version: int) -> str:
    """A picture's address: a new one with every new picture, so browsers keep each for good."""
    return f"{url_path('people:avatar', user_id=user_id)}?v={version}"


def name_key(name: str) -> str:
    """How a display name compares with usernames and other display names: as usernames do
    (case, look-alikes), and without the punctuation around it ("mallory." is mallory's)."""
    return text.username_key(name.strip(_AROUND))


_AROUND = " .,;:!?'\"()[]{}<>-_*~`|/\\@#"


def taken(conn: Connection, key: str, but: int = 0) -> bool:
    """Whether anyone (but the account `but`) is called `key` (a name key): by username or
    display name. Profiles, sign-up and new bots all ask this."""
    named = or_(_USERS.c.username_key == key, _USERS.c.display_name_key == key)
    found = conn.execute(select(_USERS.c.id).where(_USERS.c.id != but, named).limit(1))
    return found.first() is not None


def someone_called(conn: Connection, name: str) -> bool:
    """Whether any account is called `name`, by username or display name (a new username)."""
    return taken(conn, name_key(name))


def _changed(conn: Connection, user_id: int) -> ProfileChanged:
    name, version = conn.execute(
        select(shown_name(), _USERS.c.avatar_version).where(_USERS.c.id == user_id)
    ).one()
    return ProfileChanged(user_id, name, version)


async def _announce(broker: Broker, changed: ProfileChanged) -> None:
    await broker.publish(user_channel(changed.user_id), changed)


async def update_profile(
    db: Database, broker: Broker, viewer: Viewer, raw_name: str, raw_bio: str
) -> dict[str, list[str]]:
    """Set the viewer's display name and bio; what is wrong with each field (nothing changed),
    or {} when done."""
    problems: dict[str, list[str]] = {}
    name = bio = ""
    try:
        name = text.clean(raw_name, text.DISPLAY_NAME)
    except text.InvalidText as problem:
        problems["display_name"] = [str(problem)]
    try:
        bio = text.clean(raw_bio, text.BIO)
    except text.InvalidText as problem:
        problems["bio"] = [str(problem)]
    if name.startswith("@"):
        problems["display_name"] = ["A display name cannot start with @: that is for handles."]
    if problems:
        return problems
    key = name_key(name) if name else ""

    def write(conn: Connection) -> ProfileChanged | None:
        if key and taken(conn, key, but=viewer.id):
            return None
        conn.execute(
            update(_USERS)
            .where(_USERS.c.id == viewer.id)
            .values(
                display_name=name,
                display_name_key=key,
                bio=bio,
                avatar_version=_USERS.c.avatar_version + 1,
            )
        )
        return _changed(conn, viewer.id)

    changed = await db.write(write)
    if changed is None:
        return {"display_name": [f"Someone else is called “{name}”: choose another name."]}
    await _announce(broker, changed)
    return {}


async def set_avatar(db: Database, broker: Broker, viewer: Viewer, upload: bytes) -> str | None:
    """Make the upload the viewer's picture; what is wrong with it (nothing changed), or None."""
    try:
        image = await anyio.to_thread.run_sync(avatars.make_avatar, upload)
    except avatars.BadImage as problem:
        return str(problem)

    await _set_picture(db, broker, viewer, image)
    return None


async def remove_avatar(db: Database, broker: Broker, viewer: Viewer) -> None:
    """Back to the picture of the viewer's initials."""
    await _set_picture(db, broker, viewer, None)


async def _set_picture(db: Database, broker: Broker, viewer: Viewer, image: bytes | None) -> None:
    def write(conn: Connection) -> ProfileChanged:
        conn.execute(delete(_AVATARS).where(_AVATARS.c.user_id == viewer.id))
        if image is not None:
            conn.execute(insert(_AVATARS).values(user_id=viewer.id, image=image))
        conn.execute(
            update(_USERS)
            .where(_USERS.c.id == viewer.id)
            .values(avatar_version=_USERS.c.avatar_version + 1)
        )
        return _changed(conn, viewer.id)

    await _announce(broker, await db.write(write))


@dataclass(frozen=True, slots=True)
class Picture:
    """What a person's picture address serves: an uploaded WebP, or else their initials."""

    version: int
    webp: bytes | None
    svg: str


def picture_of(conn: Connection, user_id: int) -> Picture | None:
    row = conn.execute(
        select(_USERS.c.username, _USERS.c.display_name, _USERS.c.avatar_version, _AVATARS.c.image)
        .outerjoin(_AVATARS, _AVATARS.c.user_id == _USERS.c.id)
        .where(_USERS.c.id == user_id)
    ).first()
    if row is None:
        return None
    username, display_name, version, image = row
    svg = "" if image is not None else avatars.initials_svg(display_name or username, user_id)
    return Picture(version, None if image is None else bytes(image), svg)
