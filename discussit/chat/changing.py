"""Changing a message: editing, deleting, reacting. One use case per action, called by every
entry point (the plain forms, the htmx endpoints, the socket); only how the outcome is shown
differs per entry point.

Order, as for posting: the input checks, the actor's budget (changes per user and per address),
then the change and its timeline entry in one transaction (who may make it decided there, by
groups/access.py, on the message as it is then), then publish.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from discussit import limits
from discussit.accounts.auth import Viewer
from discussit.chat.posting import ARCHIVED, Reason, Refused, clean_seq, formatted
from discussit.core.db import Database
from discussit.core.realtime.broker import Broker
from discussit.core.security import text as text_policy
from discussit.core.security.ratelimit import MemoryLimiter, spend
from discussit.groups import access
from discussit.settings import Settings
from discussit.timeline import changes
from discussit.timeline.entries import Entry
from discussit.timeline.live import publish_entry
from discussit.timeline.store import GroupArchived, NotAMember, SessionEnded

log = logging.getLogger("discussit.changing")


@dataclass(frozen=True, slots=True)
class Changed:
    entry: Entry | None  # None: nothing to change (the same text; a reaction already so)


def clean_emoji(raw: object) -> str | None:
    """One of limits.REACTIONS (also without its emoji presentation selector), or None."""
    if not isinstance(raw, str):
        return None
    for emoji in limits.REACTIONS:
        if raw in (emoji, emoji.replace("\ufe0f", "")):
            return emoji
    return None


def clean_on(raw: object) -> bool | None:
    """A reaction's wanted state: "on"/"off" (True/False) or absent (toggle)."""
    if raw == "on" or raw is True:
        return True
    if raw == "off" or raw is False:
        return False
    return None


class Changing:
    """Made once per app (the lifespan); its methods are called by every entry point. `conn`
    is the request or socket the change came from (its address is budgeted)."""

    def __init__(
        self, db: Database, broker: Broker, limiter: MemoryLimiter, settings: Settings
    ) -> None:
        self.db = db
        self.broker = broker
        self.limiter = limiter
        self.settings = settings

    async def edit(
        self, viewer: Viewer, group_id: uuid.UUID, raw_seq: object, raw_text: object, conn: object
    ) -> Changed | Refused:
        try:
            text = text_policy.clean(raw_text, text_policy.MESSAGE)
        except text_policy.InvalidText as problem:
            return Refused(Reason.INVALID, str(problem))
        seq = await self._target(viewer, raw_seq, conn)
        if isinstance(seq, Refused):
            return seq
        html, mentions = await formatted(self.db, group_id, text)
        decide = access.may_edit(viewer)
        return await self._change(
            viewer,
            group_id,
            lambda c: changes.edit(
                c, group_id, seq, self._actor(viewer), text, html, decide, mentions
            ),
        )

    async def delete(
        self, viewer: Viewer, group_id: uuid.UUID, raw_seq: object, conn: object
    ) -> Changed | Refused:
        seq = await self._target(viewer, raw_seq, conn)
        if isinstance(seq, Refused):
            return seq
        decide = access.may_delete(viewer)
        return await self._change(
            viewer,
            group_id,
            lambda c: changes.remove(c, group_id, seq, self._actor(viewer), decide),
        )

    async def react(
        self,
        viewer: Viewer,
        group_id: uuid.UUID,
        raw_seq: object,
        raw_emoji: object,
        raw_on: object,
        conn: object,
    ) -> Changed | Refused:
        emoji = clean_emoji(raw_emoji)
        if emoji is None:
            return Refused(Reason.INVALID, "React with one of: " + " ".join(limits.REACTIONS) + ".")
        seq = await self._target(viewer, raw_seq, conn)
        if isinstance(seq, Refused):
            return seq
        on = clean_on(raw_on)
        decide = access.may_react(viewer)
        return await self._change(
            viewer,
            group_id,
            lambda c: changes.react(c, group_id, seq, self._actor(viewer), emoji, on, decide),
        )

    def _actor(self, viewer: Viewer) -> changes.Actor:
        return changes.Actor(
            viewer.id, viewer.user.name, (viewer.session_key, self.settings.session_max_age)
        )

    async def _target(self, viewer: Viewer, raw_seq: object, conn: object) -> int | Refused:
        """The changed message's seq, once the actor's budget allows one more change."""
        seq = clean_seq(raw_seq)
        if seq is None:
            return _NOT_FOUND
        decision = await spend(
            self.limiter, "changes", viewer.id, conn, self.settings.changes_per_user
        )
        if decision.allowed:
            return seq
        return Refused(
            Reason.TOO_FAST,
            f"You are changing messages too fast. Wait {decision.retry_after} seconds, "
            "then try again.",
            decision.retry_after,
        )

    async def _change(
        self, viewer: Viewer, group_id: uuid.UUID, work: Callable[[Connection], Entry]
    ) -> Changed | Refused:
        with anyio.CancelScope(shield=True):  # persist, then publish, whatever the page does
            try:
                entry = await self.db.write(work)
            except changes.Unchanged:
                return Changed(None)
            except changes.NoSuchMessage:
                return _NOT_FOUND
            except access.NotAllowed as refusal:
                return Refused(Reason.NOT_ALLOWED, refusal.problem)
            except NotAMember:
                return Refused(Reason.NOT_A_MEMBER, "You are not a member of this group.")
            except GroupArchived:
                return Refused(Reason.ARCHIVED, ARCHIVED)
            except SessionEnded:
                return Refused(Reason.LOGGED_OUT, "You have logged out. Log in again.")
            except SQLAlchemyError as failure:
                log.warning(
                    "change not stored group=%s user=%s: %s",
                    group_id,
                    viewer.id,
                    type(failure).__name__,
                )
                return Refused(
                    Reason.NOT_SAVED, "That change could not be saved. Please try again."
                )
            await publish_entry(self.broker, entry)
        return Changed(entry)


_NOT_FOUND = Refused(Reason.NOT_FOUND, "That message is not in this group, or was deleted.")
