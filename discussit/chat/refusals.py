"""How a group socket refuses: a frame it could not take (counted: too many in a short time
close the socket), and each refused posting outcome shown to its sender only, with their text
given back to fix. The reader (chat/frames.py) is built on it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from discussit.chat.connection import Connection
from discussit.chat.posting import Reason, Refused
from discussit.core.realtime import closecodes
from discussit.core.security import text as text_policy
from discussit.timeline.entries import Quote


@dataclass(frozen=True, slots=True)
class Given:
    """What a refused message frame sent, given back to fix: its text and the message it
    answers."""

    text: str
    reply: Quote | None = None


# Refused frames (unreadable, the wrong shape, text the policy refuses, a second resume) within
# BAD_FRAME_WINDOW seconds before the socket is closed (1008): a page of ours sends few.
MAX_BAD_FRAMES = 5
BAD_FRAME_WINDOW = 60.0
MAX_THROTTLED = 10  # rate-limited messages in a row, before the socket is closed (1013)


class Refusals(Connection):
    __slots__ = ()

    async def bad_frame(self, problem: str, given: Given | str = "") -> None:
        """A frame the server refused: say so (giving back any text to fix); after a few in a
        short time it is not a page of ours: close (1008)."""
        if not await self.count_bad_frame():
            await self.error(problem, given if isinstance(given, Given) else Given(given))

    async def count_bad_frame(self) -> bool:
        """One more refused frame; too many in a short time close the socket (True)."""
        now = time.monotonic()
        count, since = self.bad_frames
        if now - since > BAD_FRAME_WINDOW:
            count, since = 0, now
        self.bad_frames = (count + 1, since)
        if count + 1 >= MAX_BAD_FRAMES:
            await self.end(f"{count + 1} bad frames", "live/_refused.html")
            return True
        return False

    async def refused(self, outcome: Refused, given: Given) -> None:
        await self.error(outcome.problem, given)

    async def invalid(self, outcome: Refused, given: Given) -> None:
        await self.bad_frame(outcome.problem, given)  # counts, like any refused frame

    async def flooding(self) -> bool:
        """One more refusal for going too fast; too many in a row close the socket (True)."""
        self.throttled += 1
        if self.throttled >= MAX_THROTTLED:
            await self.end("message flood", None, closecodes.TRY_AGAIN_LATER)
            return True
        return False

    async def too_fast(self, outcome: Refused, given: Given) -> None:
        if not await self.flooding():
            await self.error(outcome.problem, given)

    async def refused_not_member(self, outcome: Refused, given: Given) -> None:
        await self.left()

    async def refused_logged_out(self, outcome: Refused, given: Given) -> None:
        await self.logged_out()

    async def refused_archived(self, outcome: Refused, given: Given) -> None:
        await self.archived()

    REFUSALS: dict[Reason, Callable[[Refusals, Refused, Given], Awaitable[None]]] = {
        Reason.INVALID: invalid,
        Reason.NOT_SAVED: refused,
        Reason.NOT_FOUND: refused,
        Reason.NOT_ALLOWED: refused,
        Reason.TOO_FAST: too_fast,
        Reason.NOT_A_MEMBER: refused_not_member,
        Reason.LOGGED_OUT: refused_logged_out,
        Reason.ARCHIVED: refused_archived,
    }

    async def error(self, problem: str, given: Given) -> None:
        """Tell only this sender what went wrong, and give their text back to fix (and the
        message it answers)."""
        await self.notice(
            "messages/_composer.html",
            oob=True,
            composer_error=problem,
            composer_text=text_policy.echo(given.text),
            reply=given.reply,
        )
