"""For the reconnect storm: many groups seeded at once, and a group page that reconnects by
itself with its cursor (as htmx does) and counts every entry it is sent."""

from __future__ import annotations

import asyncio
import json
import random
import re
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import itsdangerous

from bench import wsclient
from bench.run import signed_login
from discussit.core.templating import SOCKET_PAGE

ENTRY = re.compile(rb'id="entry-(\d+)"')
NONCE = re.compile(rb"nonce(\d+)x")  # in a message's text: when it was sent (the sender's map)


@dataclass
class Group:
    id: str
    cookies: list[str]  # one per member, in member order


def seed_groups(
    url: str, secret: str, groups: int, members: int, extra_users: int = 0
) -> tuple[list[Group], list[str]]:
    """`groups` groups of `members` members each (distinct users), plus `extra_users` users in
    no group; sessions signed as the app signs them. Returns the groups and the extras' cookies."""
    from sqlmodel import Session, create_engine

    from discussit.core import migrate
    from discussit.core.db import sync_url
    from discussit.models import Group as GroupRow
    from discussit.models import Membership, User

    migrate.upgrade(url)
    engine = create_engine(sync_url(url))
    signer = itsdangerous.TimestampSigner(secret)
    tag = secrets.token_hex(3)

    out: list[Group] = []
    with Session(engine) as session:
        users = [
            User(username=f"u{tag}{i}", username_key=f"u{tag}{i}", password_hash="!")
            for i in range(groups * members + extra_users)
        ]
        session.add_all(users)
        rows = [
            GroupRow(id=uuid.uuid4(), name=f"Busy {tag} {g}", name_key=f"busy {tag} {g}")
            for g in range(groups)
        ]
        session.add_all(rows)
        session.commit()
        for g, row in enumerate(rows):
            mine = users[g * members : (g + 1) * members]
            session.add_all(Membership(group_id=row.id, user_id=u.id) for u in mine)
            out.append(Group(str(row.id), [signed_login(session, u.id, signer) for u in mine]))
        extras = [signed_login(session, u.id, signer) for u in users[groups * members :]]
        session.commit()
    engine.dispose()
    return out, extras


def last_seqs(db_file: Path) -> dict[str, int]:
    """Every group's last seq, read straight from the SQLite file (the truth)."""
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=30) as db:
        rows = db.execute("SELECT id, last_seq FROM groups").fetchall()
    return {str(uuid.UUID(str(group))): int(seq) for group, seq in rows}


@dataclass
class LivePage:
    """An open group page: it reconnects when closed (at once, then with a little jitter, as
    htmx retries), resumes from the newest entry it shows, and counts what it is sent."""

    port: int
    group: str
    cookie: str
    seen: set[int] = field(default_factory=set)
    arrivals: dict[int, float] = field(default_factory=dict)  # nonce -> when it arrived
    duplicates: int = 0
    newest: int = 0
    connects: int = 0
    ws: wsclient.LeanSocket | None = None
    live_since: float = 0.0  # when the current socket sent its resume frame
    handshakes: list[tuple[float, float]] = field(default_factory=list)  # (began, seconds)

    def on_message(self, payload: bytes) -> None:
        now = time.perf_counter()
        for raw in ENTRY.findall(payload):
            seq = int(raw)
            if seq in self.seen:
                self.duplicates += 1
                continue
            self.seen.add(seq)
            self.newest = max(self.newest, seq)
        for raw in NONCE.findall(payload):
            self.arrivals.setdefault(int(raw), now)

    async def open(self) -> None:
        began = time.perf_counter()
        url = f"ws://127.0.0.1:{self.port}/groups/{self.group}/ws"
        ws = await wsclient.connect(
            url, self.on_message, origin=f"http://127.0.0.1:{self.port}", cookie=self.cookie
        )
        ws.send_text(
            json.dumps(
                {
                    "type": "resume",
                    "page": SOCKET_PAGE,
                    "after": str(self.newest),
                    "headers": {"HX-Request": "true"},
                }
            )
        )
        self.ws, self.live_since = ws, time.perf_counter()
        self.handshakes.append((began, self.live_since - began))
        self.connects += 1

    async def keep_open(self, stop: asyncio.Event) -> None:
        delay = 0.0
        while not stop.is_set():
            try:
                await self.open()
                delay = 0.0
                assert self.ws is not None
                await self.ws.closed.wait()
                self.ws = None
            except (TimeoutError, OSError, wsclient.HandshakeFailed):
                self.ws = None
            if stop.is_set():
                return
            await asyncio.sleep(delay + random.random() * 0.1)
            delay = min(2.0, delay * 2 + 0.1)

    def say(self, text: str) -> bool:
        if self.ws is None or self.ws.closed.is_set():
            return False
        self.ws.send_text(
            json.dumps(
                {
                    "csrf_token": "bench",
                    "client_message_id": uuid.uuid4().hex,
                    "text": text,
                    "headers": {"HX-Request": "true"},
                }
            )
        )
        return True
