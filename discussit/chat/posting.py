"""Posting a message: the one use case every entry point calls (the form, the socket, and the
bot API to come). Only how the outcome is shown differs per entry point.

Order: the text policy, the sender's budget, formatting (the HTML is made once, here, and
stored beside the text), then persist (membership and login checked inside the insert's
transaction), then publish. A stored message is always published, even if the
page that sent it closes meanwhile.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import anyio
from sqlalchemy.exc import SQLAlchemyError

from discussit import limits
from discussit.accounts.auth import Viewer
from discussit.core.db import Database
from discussit.core.realtime.broker import Broker
from discussit.core.security import text as text_policy
from discussit.core.security.ratelimit import MemoryLimiter
from discussit.core.security.text import clean_seq
from discussit.groups.membership import members_named
from discussit.settings import Settings
from discussit.timeline.entries import Entry
from discussit.timeline.formatting import mentioned_names, render
from discussit.timeline.live import publish_entry
from discussit.timeline.store import (
    AlreadyStored,
    GroupArchived,
    NoSuchMessage,
    NotAMember,
    SessionEnded,
    store_message,
)

__all__ = ["clean_seq"]  # (where the chat's entry points have always found it)

log = logging.getLogger("discussit.posting")

# Formatting costs markdown-it-py about 0.05 ms for a short message and up to about 55 ms for
# 2,000 hostile characters (linear in length): past this many characters it runs on a worker
# thread, so that no message holds up the event loop for long.
FORMAT_ON_LOOP = 200


ARCHIVED = "This group is archived: it can be read, not written in."


class Reason(Enum):
    INVALID = "invalid"  # the text breaks the text policy
    TOO_FAST = "too fast"  # past the sender's message budget
    NOT_A_MEMBER = "not a member"
    LOGGED_OUT = "logged out"
    NOT_SAVED = "not saved"  # the database refused: nothing stored, nothing published
    NOT_FOUND = "not found"  # the message answered or changed is not in this group (or deleted)
    NOT_ALLOWED = "not allowed"  # a member, but not one who may change this message
    ARCHIVED = "archived"  # the group is read-only


@dataclass(frozen=True, slots=True)
class Posted:
    seq: int
    again: bool = False  # a retried send of a message already stored (and already broadcast)


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Reason
    problem: str  # in words for the sender
    retry_after: int = 0  # seconds (TOO_FAST)


async def formatted(db: Database, group_id: uuid.UUID, text: str) -> tuple[str, frozenset[int]]:
    """`text` as HTML (timeline/formatting.py), and the members of the group it mentions (the
    @names looked up first, in one read, only if it has any): on the loop when short, else on
    a thread."""
    if len(text) <= FORMAT_ON_LOOP:
        names = mentioned_names(text)
    else:
        names = await anyio.to_thread.run_sync(mentioned_names, text)
    members = await db.read(lambda conn: members_named(conn, group_id, names)) if names else {}
    if len(text) <= FORMAT_ON_LOOP:
        return render(text, members)
    return await anyio.to_thread.run_sync(render, text, members)


def clean_client_message_id(raw: object) -> str | None:
    """A page's id for one send (letters, digits, dashes), or None."""
    if (
        isinstance(raw, str)
        and limits.CLIENT_MESSAGE_ID_MIN <= len(raw) <= limits.CLIENT_MESSAGE_ID_MAX
        and raw.replace("-", "").isalnum()
        and raw.isascii()
    ):
        return raw
    return None


class Posting:
    """Made once per app (the lifespan); `post` is called by every entry point."""

    def __init__(
        self, db: Database, broker: Broker, limiter: MemoryLimiter, settings: Settings
    ) -> None:
        self.db = db
        self.broker = broker
        self.limiter = limiter
        self.settings = settings
        # Told of each message stored (after it is published): the bots' webhooks (app.py).
        self.on_posted: Callable[[Entry, Viewer], None] | None = None

    async def post(
        self,
        viewer: Viewer,
        group_id: uuid.UUID,
        raw_text: object,
        raw_client_id: object = None,
        raw_reply_to: object = None,
    ) -> Posted | Refused:
        try:
            text = text_policy.clean(raw_text, text_policy.MESSAGE)
        except text_policy.InvalidText as problem:
            return Refused(Reason.INVALID, str(problem))
        reply_to = None
        if raw_reply_to not in (None, ""):
            reply_to = clean_seq(raw_reply_to)
            if reply_to is None:
                return Refused(Reason.INVALID, "The message you are replying to is not known.")
        # One budget per user across all their pages and processes (Redis when configured).
        decision = await self.limiter.hit(
            f"messages:user:{viewer.id}", self.settings.messages_per_user
        )
        if not decision.allowed:
            return Refused(
                Reason.TOO_FAST,
                f"You are sending messages too fast. Wait "
                f"{decision.retry_after} seconds, then send again.",
                decision.retry_after,
            )
        client_id = clean_client_message_id(raw_client_id)
        with anyio.CancelScope(shield=True):  # persist, then publish, whatever the page does
            html, mentions = await formatted(self.db, group_id, text)
            try:
                entry = await store_message(
                    self.db,
                    group_id,
                    viewer.id,
                    viewer.user.name,
                    text,
                    client_id,
                    # (A bot has no login: its token was checked for this request.)
                    session=None
                    if viewer.user.is_bot
                    else (viewer.session_key, self.settings.session_max_age),
                    body_html=html,
                    reply_to=reply_to,
                    mentions=mentions,
                    avatar_version=viewer.user.avatar_version,
                )
            except AlreadyStored as stored:
                return Posted(stored.seq, again=True)
            except NotAMember:
                return Refused(Reason.NOT_A_MEMBER, "Join this group before posting in it.")
            except GroupArchived:
                return Refused(Reason.ARCHIVED, ARCHIVED)
            except NoSuchMessage:
                return Refused(
                    Reason.NOT_FOUND,
                    "The message you are replying to is not in this group, or was deleted.",
                )
            except SessionEnded:
                return Refused(Reason.LOGGED_OUT, "You have logged out. Log in again to post.")
            except SQLAlchemyError as failure:
                log.warning(
                    "message not stored group=%s user=%s: %s",
                    group_id,
                    viewer.id,
                    type(failure).__name__,
                )
                return Refused(
                    Reason.NOT_SAVED, "Your message could not be saved. Please send it again."
                )
            log.debug("message posted group=%s seq=%s user=%s", group_id, entry.seq, viewer.id)
            await publish_entry(self.broker, entry)
            if self.on_posted is not None:
                self.on_posted(entry, viewer)
        return Posted(entry.seq)
