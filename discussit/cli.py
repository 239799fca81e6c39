"""The `discussit` command (also `python -m discussit`): staff tasks on the configured database.

discussit create-group NAME [--description TEXT]
discussit make-staff USERNAME [--revoke]
discussit migrate
discussit settings-table     (the README's settings table, made from discussit/settings.py)
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from discussit.accounts.auth import find_user
from discussit.core.db import Database, make_engine
from discussit.core.migrate import SchemaOutOfDate, prepare_schema, upgrade
from discussit.groups import directory
from discussit.settings import database_url_from_env, readme_table


async def _with_db(work):  # type: ignore[no-untyped-def]
    url = database_url_from_env()
    await prepare_schema(url)
    db = Database(make_engine(url))
    try:
        return await work(db)
    finally:
        await db.close()


async def create_group(name: str, description: str) -> str:
    async def work(db: Database) -> str:
        async with db.session() as session:
            group = await directory.create(session, name, description)
            return f"Created group {group.name!r} ({group.id})"

    return await _with_db(work)


async def make_staff(username: str, staff: bool) -> str:
    async def work(db: Database) -> str:
        async with db.session() as session:
            user = await find_user(session, username)
            if user is None:
                raise LookupError(f"No user named {username!r}; they must sign up first.")
            user.is_staff = staff
            session.add(user)
            await session.commit()
            return f"{user.username} is {'now' if staff else 'no longer'} staff"

    return await _with_db(work)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="discussit", description="DiscussIt staff commands.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-group", help="create a group everyone can see and join")
    create.add_argument("name")
    create.add_argument("--description", default="")
    staff = commands.add_parser("make-staff", help="make a user staff (or --revoke)")
    staff.add_argument("username")
    staff.add_argument("--revoke", action="store_true")
    commands.add_parser("migrate", help="bring the database schema up to date (release step)")
    commands.add_parser("settings-table", help="print the README's table of settings")
    args = parser.parse_args(argv)
    try:
        if args.command == "settings-table":
            print(readme_table())
        elif args.command == "migrate":
            upgrade(database_url_from_env())
            print("Database schema is up to date")
        elif args.command == "create-group":
            print(asyncio.run(create_group(args.name, args.description)))
        else:
            print(asyncio.run(make_staff(args.username, not args.revoke)))
    except (directory.InvalidGroup, LookupError, SchemaOutOfDate) as problem:
        print(f"discussit: {problem}", file=sys.stderr)
        return 1
    return 0
