"""Fast data set-up straight through the domain functions (the same code the routes call)."""

from __future__ import annotations

import uuid

from discussit.accounts.auth import find_user
from discussit.core.db import Database
from discussit.groups import directory, membership
from discussit.models import User
from discussit.timeline.entries import Entry
from discussit.timeline.store import store_message


def run(client, work):  # type: ignore[no-untyped-def]
    """Run `await work(session)` on the app's own event loop and database."""

    async def call():  # type: ignore[no-untyped-def]
        async with database(client).session() as session:
            return await work(session)

    return client.portal.call(call)


def database(client) -> Database:  # type: ignore[no-untyped-def]
    return client.app_state["db"]


async def _named(session, name: str) -> User:  # type: ignore[no-untyped-def]
    found = await find_user(session, name)
    assert found is not None, name
    return found


def user(client, name: str) -> User:
    async def load(session):  # type: ignore[no-untyped-def]
        return await _named(session, name)

    return run(client, load)


def post_messages(client, group_id: uuid.UUID, author: str, count: int, prefix: str = "m") -> None:
    author_user = user(client, author)

    async def post() -> None:
        for i in range(count):
            await store(database(client), group_id, author_user, f"{prefix}{i}")

    client.portal.call(post)


def client_store(client, group_id: uuid.UUID, author: str, text: str) -> Entry:  # type: ignore[no-untyped-def]
    """One message by `author`, stored as the posting path stores it."""
    author_user = user(client, author)
    return client.portal.call(store, database(client), group_id, author_user, text)


async def store(
    db: Database, group_id: uuid.UUID, author: User, text: str, client_message_id: str | None = None
) -> Entry:
    """Store a message as the posting path does (no login check: set-up, not a page)."""
    assert author.id is not None
    return await store_message(db, group_id, author.id, author.username, text, client_message_id)


def add_member(client, group_id: uuid.UUID, name: str) -> None:
    member = user(client, name)
    client.portal.call(membership.join, database(client), group_id, member)


def many_groups(client, count: int, prefix: str = "Group") -> None:
    async def create(session):  # type: ignore[no-untyped-def]
        for i in range(count):
            await directory.create(session, f"{prefix} {i:04d}", "generated")

    run(client, create)


def make_staff(client, name: str) -> None:
    async def promote(session):  # type: ignore[no-untyped-def]
        found = await _named(session, name)
        found.is_staff = True
        session.add(found)
        await session.commit()

    run(client, promote)


def make_group(client, name: str, description: str = "") -> uuid.UUID:  # type: ignore[no-untyped-def]
    async def create(session):  # type: ignore[no-untyped-def]
        return (await directory.create(session, name, description)).id

    return run(client, create)  # type: ignore[no-any-return]


def make_users(client, names: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Accounts straight into the table (no password that works): members for size tests."""
    from discussit.core.security.text import username_key

    async def add(session):  # type: ignore[no-untyped-def]
        session.add_all(
            User(username=n, username_key=username_key(n), password_hash="!") for n in names
        )
        await session.commit()

    run(client, add)
