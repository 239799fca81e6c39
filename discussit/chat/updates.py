"""The writer half of a group socket: broker items in (a table of item kinds -> handlers),
frames out through the ordered feed (chat/feed.py), and the checks before any catch-up."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel.ext.asyncio.session import AsyncSession

from discussit import limits
from discussit.chat.connection import Connection, Resume
from discussit.chat.feed import TooFarBehind
from discussit.core.realtime import closecodes
from discussit.core.realtime.items import (
    EntryAppended,
    GroupChanged,
    LevelChanged,
    LoggedOut,
    MembershipChanged,
    PresenceChanged,
    ProfileChanged,
    ReadMoved,
    Resync,
    TypingChanged,
)
from discussit.groups import access, membership, reading
from discussit.groups.live import members_html, unread_html
from discussit.groups.livecounts import LiveCounts, Recount, UnreadChanged
from discussit.timeline import history
from discussit.timeline.entries import EVENTS, Entry, Kind

T = TypeVar("T")
_LEFT = Kind.LEFT.value
MAX_EARLY = 64  # presence changes held for a page that has not sent its resume frame yet


class Updates(Connection):
    __slots__ = ()

    def writer(self) -> Coroutine[Any, Any, None]:
        return self.feed.drain(self.sub, self.handle, self.catch_up)

    def deliver_now(self, item: Any) -> bool:
        """The hot path of every delivery, run by the publisher: the next entry (or a presence
        change) for a live page whose writer is idle, written at once if the client is reading.
        Anything else (an entry out of order or held, this user's own leave, which is checked
        first, a control item, a client not reading) is queued for the writer."""
        if self.drainer is not None:
            return False  # the writer is at work: it keeps the order
        cls = type(item)
        if cls is EntryAppended:
            if item.kind == _LEFT and item.user_id == self.viewer.id:
                return False  # checked first, by the writer
            return self.feed.send_now(item)
        if cls is PresenceChanged:
            return self.feed.started and self.sender.send_now(item.html)
        if cls is ReadMoved and self.counts is None:
            return True  # this page counts no other group: nothing to do (no writer task)
        if cls is TypingChanged:  # now or never: a page that is behind misses it
            if not self.feed.started or self.sender.send_now(item.html):
                return True
            # Not sent: the page is behind (dropped), or the server cannot say whether a send
            # would wait (not uvicorn): then the writer sends it if nothing else is queued.
            return self.sender.knows_writable
        return False

    async def handle(self, item: Any) -> None:
        handler = self.ITEMS.get(type(item))
        if handler is not None:
            await handler(self, item)

    async def on_resume(self, item: Resume) -> None:
        try:
            await self.catch_up(item.after)
        finally:
            self.resume_done()
        if item.others and not self.sender.closed:
            await self.follow_other_groups()

    async def follow_other_groups(self) -> None:
        """The page lists the viewer's other groups: keep their unread counts live
        (groups/livecounts.py), and send those that changed since the page was rendered."""
        user_id, here = self.viewer.id, self.group_id
        mine = await self.db.read(lambda conn: reading.group_ids_now(conn, user_id))
        others = [group_id for group_id in mine if group_id != here]
        if not others:
            return
        self.counts = LiveCounts(
            self.sub.broker,
            user_id,
            changed=lambda group_id: self.sub.put(UnreadChanged(group_id)),  # type: ignore[arg-type]
            recount=lambda group_id: self.sub.put(Recount(group_id)),  # type: ignore[arg-type]
        )
        await self.recount(others)

    async def recount(self, group_ids: list[uuid.UUID]) -> None:
        """Count these of the followed groups again, and send their badges."""
        counts = self.counts
        if counts is None:
            return
        await counts.count_now(self.db, group_ids)
        for group_id in group_ids:
            if group_id in counts.counts:
                self.sender.queue(self.badge(group_id))
        await self.sender.flush()

    def badge(self, group_id: uuid.UUID) -> str:
        assert self.counts is not None
        return unread_html(group_id, self.counts.count(group_id), self.counts.mentions(group_id))

    async def on_unread(self, item: UnreadChanged) -> None:
        if self.counts is not None:
            await self.sender.send(self.badge(item.group_id))

    async def on_recount(self, item: Recount) -> None:
        if self.counts is not None and item.group_id in self.counts.counts:
            await self.recount([item.group_id])

    async def on_membership(self, item: MembershipChanged) -> None:
        """The viewer left another of their groups (elsewhere): its count stops, and clears."""
        counts = self.counts
        group_id = uuid.UUID(item.group_id)
        if counts is not None and not item.is_member and group_id in counts.counts:
            counts.drop(group_id)
            await self.sender.send(unread_html(group_id, 0, 0))

    async def on_level(self, item: LevelChanged) -> None:
        """The viewer chose another level for one of their groups (elsewhere, or here): the
        page's list of groups holds it (the page renders no row again from its counts)."""
        self.sender.queue(item.html)  # (before the resume frame: sent after the catch-up)

    async def on_read(self, item: ReadMoved) -> None:
        if self.counts is not None:
            self.counts.read(uuid.UUID(item.group_id), item.seq)

    async def on_entry(self, item: EntryAppended) -> None:
        feed = self.feed
        if feed.last_sent is None:  # before the resume frame: held for it (chat/feed.py)
            feed.hold(item)
            if item.kind == _LEFT and item.user_id == self.viewer.id:
                await self.check_still_allowed()
            return
        sent = feed.take(item)
        if sent is None:
            await self.catch_up()
            return
        for entry in sent:  # (a loop, not any(): this runs for every delivery)
            if entry.kind == _LEFT and entry.user_id == self.viewer.id:
                await self.check_still_allowed()
                return

    async def on_presence(self, item: PresenceChanged) -> None:
        if not self.feed.started and len(self.sender.outbox) >= MAX_EARLY:
            return  # a page that never resumes holds only so much (presence is advisory)
        self.sender.queue(item.html)  # before the resume frame: sent after the catch-up

    async def on_typing(self, item: TypingChanged) -> None:
        if self.feed.started and not self.sub.has_items():  # (behind: dropped)
            self.sender.queue(item.html)

    async def on_resync(self, item: Resync) -> None:
        """Items were lost. Live: catch up. Before the resume frame (the catch-up will send the
        entries): check now whether a lost item was this user's leave or logout."""
        if self.counts is not None:  # count notices may have been lost too
            await self.recount(list(self.counts.counts))
        if self.feed.started:
            await self.catch_up()
        else:
            self.feed.held_all = False  # lost entries too: the start reads the database
            await self.check_still_allowed()

    async def on_group_changed(self, item: GroupChanged) -> None:
        if item.group_id != str(self.group_id):
            return
        if item.deleted:
            await self.deleted()
            return
        await self.sender.send(item.html)
        if item.archived:
            await self.archived()

    async def on_profile(self, item: ProfileChanged) -> None:
        """This viewer's new name or picture: what this page sends from now on carries them."""
        if item.user_id == self.viewer.id:
            user = replace(self.viewer.user, name=item.name, avatar_version=item.avatar_version)
            self.viewer = replace(self.viewer, user=user)

    async def on_logout(self, item: LoggedOut) -> None:
        if item.session_key == self.viewer.session_key:
            await self.logged_out()

    ITEMS: dict[type, Callable[[Updates, Any], Awaitable[None]]] = {
        Resume: on_resume,
        EntryAppended: on_entry,
        PresenceChanged: on_presence,
        TypingChanged: on_typing,
        ReadMoved: on_read,
        MembershipChanged: on_membership,
        LevelChanged: on_level,
        UnreadChanged: on_unread,
        Recount: on_recount,
        Resync: on_resync,
        LoggedOut: on_logout,
        GroupChanged: on_group_changed,
        ProfileChanged: on_profile,
    }

    async def read_missed(self, after: int) -> tuple[int, list[Entry]]:
        """For the feed: the group's last seq and the entries after `after`, once membership
        and login are checked again (in the same database session)."""
        async with self.db.session() as session:
            upto = await self._cursor(session)
            if after >= upto:
                return upto, []
            return upto, await history.entries_after(
                session, self.group_id, after, upto, limits.CATCH_UP_MAX + 1
            )

    async def _cursor(self, session: AsyncSession) -> int:
        return await access.replay_cursor(
            session, self.group_id, self.viewer, self.settings.session_max_age
        )

    async def check_still_allowed(self) -> None:
        """This user may have left or logged out: membership and login, checked now."""

        async def check() -> int:
            async with self.db.session() as session:
                return await self._cursor(session)

        await self.checked(check())

    async def checked(self, work: Awaitable[T]) -> T | None:
        """Run a read that checks access before anything is sent. Refused (left, logged out,
        too far behind, the database busy): the socket ends as the refusal says, and None."""
        try:
            return await work
        except TooFarBehind:
            await self.end("too far behind: reload", "live/_reload.html", closecodes.NORMAL)
        except access.LoginEnded:
            await self.logged_out()
        except (access.NotAMemberOf, access.NoSuchGroup):
            await self.left()
        except access.GroupArchived:
            await self.archived()
        except PoolTimeout:  # every database connection stayed busy: the page retries (1013)
            await self.end("database busy", None, closecodes.TRY_AGAIN_LATER)
        return None

    async def catch_up(self, after: int | None = None) -> None:
        """Send what the page missed (from `after`, or from the feed's cursor), then the member
        list if anyone joined or left meanwhile."""
        sent = await self.checked(
            self.feed.start(after, self.admitted_at) if after is not None else self.feed.catch_up()
        )
        if sent is None:
            return
        if any(e.kind in EVENTS for e in sent):  # someone joined or left meanwhile
            async with self.db.session() as session:
                members = await membership.members(session, self.group_id)
            online = await self.presence.online(self.group_id)
            await self.sender.send(members_html(self.group_id, members, online))
            if all(m.user_id != self.viewer.id for m in members):
                await self.left()
