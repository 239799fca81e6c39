"""The webhook workers: the messages that mention bots with a webhook, delivered off the
posting path (a bounded queue, a few workers), each delivery's outcome kept on the bot's row
for staff, and a bot's text answer posted as its reply, through the one posting use case."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass

import httpx2 as httpx
from sqlalchemy import Connection, select, update

from discussit.accounts.auth import Account, Viewer, bot_viewer
from discussit.bots import webhooks
from discussit.chat.posting import Posting, Refused
from discussit.core.db import Database
from discussit.core.urls import url_path
from discussit.models import Bot, Group, Membership, User, shown_name, utcnow
from discussit.settings import Settings
from discussit.timeline.entries import Entry

log = logging.getLogger("discussit.webhooks")
_BOTS = Bot.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]
_GROUPS = Group.__table__  # type: ignore[attr-defined]
_MEMBERSHIPS = Membership.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Hook:
    bot: Account
    url: str
    secret: str
    group_name: str


def hooks_for(conn: Connection, group_id: uuid.UUID, user_ids: frozenset[int]) -> list[Hook]:
    """The active bots among `user_ids` that have a webhook, with the group's name."""
    rows = conn.execute(
        select(
            _USERS.c.id,
            _USERS.c.username,
            shown_name(),
            _USERS.c.avatar_version,
            _BOTS.c.webhook_url,
            _BOTS.c.webhook_secret,
            select(_GROUPS.c.name).where(_GROUPS.c.id == group_id).scalar_subquery(),
        )
        .join(_BOTS, _BOTS.c.user_id == _USERS.c.id)
        .join(_MEMBERSHIPS, _MEMBERSHIPS.c.user_id == _USERS.c.id)
        .where(
            _MEMBERSHIPS.c.group_id == group_id,  # (still a member when it is delivered)
            _USERS.c.id.in_(sorted(user_ids)),
            _USERS.c.is_bot,
            _USERS.c.is_active,
            _BOTS.c.webhook_url != "",
        )
    )
    return [
        Hook(Account(uid, handle, False, name, version, is_bot=True), url, secret, group or "")
        for uid, handle, name, version, url, secret, group in rows
    ]


def _active(conn: Connection, bot_id: int) -> bool:
    return bool(conn.execute(select(_USERS.c.is_active).where(_USERS.c.id == bot_id)).scalar())


def _record(conn: Connection, bot_id: int, ok: bool, note: str) -> None:
    conn.execute(
        update(_BOTS)
        .where(_BOTS.c.user_id == bot_id)
        .values(last_delivery_at=utcnow(), last_delivery_ok=ok, last_delivery_note=note[:200])
    )


class Webhooks:
    """Made once per app (the lifespan): `offer` from posting, `start` and `stop`."""

    def __init__(
        self, db: Database, posting: Posting, settings: Settings, sender: webhooks.Sender
    ) -> None:
        self.db, self.posting, self.settings, self.sender = db, posting, settings, sender
        self.queue: asyncio.Queue[Entry] = asyncio.Queue(maxsize=webhooks.QUEUE_SIZE)
        self.workers: list[asyncio.Task[None]] = []
        self.dropped = 0

    def offer(self, entry: Entry, author: Viewer) -> None:
        """A message just posted: queued if it mentions anyone and is not by a bot."""
        if not entry.mentions or author.user.is_bot:
            return
        try:
            self.queue.put_nowait(entry)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning(
                "webhook queue full: message group=%s seq=%s dropped", entry.group_id, entry.seq
            )

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.workers = [loop.create_task(self._work()) for _ in range(webhooks.WORKERS)]

    async def stop(self) -> None:
        for worker in self.workers:
            worker.cancel()
        for worker in self.workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await self.sender.close()

    async def idle(self) -> None:
        """Until every queued message is delivered (tests wait on this, not on time)."""
        await self.queue.join()

    async def _work(self) -> None:
        while True:
            entry = await self.queue.get()
            try:
                hooks = await self.db.read(
                    lambda conn, e=entry: hooks_for(conn, e.group_id, e.mentions)  # type: ignore[misc]
                )
                # Each bot mentioned at once: one slow webhook does not hold up the others'.
                await asyncio.gather(*(self._deliver_safely(entry, hook) for hook in hooks))
            except Exception:
                log.exception("webhook delivery failed group=%s seq=%s", entry.group_id, entry.seq)
            finally:
                self.queue.task_done()

    async def _deliver_safely(self, entry: Entry, hook: Hook) -> None:
        try:
            await self._deliver(entry, hook)
        except Exception:
            log.exception("webhook bot=%s group=%s seq=%s", hook.bot.id, entry.group_id, entry.seq)

    def _link(self, entry: Entry) -> str:
        path = url_path("messages:show", group_id=entry.group_id, seq=entry.seq)
        return self.settings.public_url.rstrip("/") + path

    async def _deliver(self, entry: Entry, hook: Hook) -> None:
        delivery = webhooks.new_delivery_id()
        body = webhooks.payload(
            delivery,
            {"id": hook.bot.id, "username": hook.bot.username},
            {"id": str(entry.group_id), "name": hook.group_name},
            entry,
            self._link(entry),
        )
        answer = None
        try:
            answer = await self.sender.deliver(hook.url, hook.secret, body, delivery)
            ok, note = 200 <= answer.status < 300, f"HTTP {answer.status}"
        except webhooks.Refused as refusal:
            ok, note = False, f"not sent: {refusal}"
        except TimeoutError:
            ok, note = False, f"no answer within {webhooks.DEADLINE:.0f} seconds"
        except (httpx.HTTPError, OSError) as failure:
            ok, note = False, f"failed: {type(failure).__name__}"
        if not ok:
            log.warning("webhook bot=%s delivery=%s %s", hook.bot.id, delivery, note)
        text = webhooks.answer_text(answer) if ok and answer is not None else None
        if text is not None and not await self.db.read(lambda conn: _active(conn, hook.bot.id)):
            text, note = None, f"{note}; its answer was not posted: the bot is deactivated"
        if text is not None:
            outcome = await self.posting.post(
                bot_viewer(hook.bot), entry.group_id, text, f"hook-{delivery}", str(entry.seq)
            )
            if isinstance(outcome, Refused):
                ok, note = False, f"{note}; its answer was not posted: {outcome.problem}"
            else:
                note = f"{note}; answered"
        await self.db.write(lambda conn: _record(conn, hook.bot.id, ok, note))
