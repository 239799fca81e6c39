"""The group page's WebSocket (htmx hx-ws): live history in, messages out.

Protocol (htmx 4.0.1 hx-ws): the client sends JSON objects of form values plus `headers`.
  {"type": "resume", "page": "2", "after": N, "visible": "1"}   sent on every (re)connect:
      replay seq > N, then go live; while the page is visible ("1"), what it is sent is read;
      a page of another kind than core/templating.py SOCKET_PAGE is told to reload
  {"type": "visibility", "visible": "0"}   the page was hidden ("0") or shown ("1")
  {"type": "read", "seq": N}   (a client that reads otherwise) it has shown everything up to N
  {"text": "...", "client_message_id": "..."}   post as the logged-in user (author fields ignored)
The server sends HTML fragments: new lines of the timeline as they are (the page appends a
frame's main content to #timeline), everything else with hx-swap-oob, saying where it goes.

Order of work: check origin (refused before accept), accept, subscribe, then check login, the
per-user cap and membership (so a leave cannot slip between check and subscribe). From then on
one writer task reads the subscription: before the page's resume frame it acts only on the
signals that end the socket (its user left, logged out); from the resume frame it replays
what the page missed (after checking membership and login again) and goes live (chat/feed.py).
Leaving, logout and session expiry close the socket whatever state it is in.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import suppress

import anyio
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from discussit.accounts.auth import Viewer, current_viewer
from discussit.chat.frames import Frames
from discussit.chat.presence import PresenceUpdates
from discussit.chat.updates import Updates
from discussit.core.db import Database
from discussit.core.realtime import closecodes
from discussit.core.realtime.broker import Broker, Subscription, group_channel, user_channel
from discussit.core.realtime.presence import Presence
from discussit.core.security import origins
from discussit.core.security.ratelimit import MemoryLimiter, spend
from discussit.core.templating import render
from discussit.groups import access, membership
from discussit.settings import Settings

log = logging.getLogger("discussit.socket")

# Taking and giving back a page's presence count is shielded from cancellation (a count taken
# must be given back), but bounded: with Redis unreachable, shutdown must still end in time.
CLEANUP_SECONDS = 3.0


class GroupSocket(Frames, Updates):
    """One open group page: the reader (chat/frames.py) and the writer (chat/updates.py) over
    one connection (chat/connection.py). No state of its own."""

    __slots__ = ()


async def _admit(ws: WebSocket) -> tuple[Viewer, uuid.UUID, Subscription, int, int] | None:
    """Login, readiness, the per-user cap, membership and the group's last seq, in two reads
    of one round trip each (Database.read). Refused: the socket is closed (1008, or 1013 to
    retry later) and None returned. Subscribes before checking membership, so a leave cannot
    slip in between unseen."""
    broker: Broker = ws.state.broker
    db: Database = ws.state.db
    settings: Settings = ws.state.settings
    sub: Subscription | None = None
    try:
        viewer = await current_viewer(ws)
        if viewer is None:
            await ws.close(closecodes.POLICY, "log in first")
            return None
        if not broker.ready():
            # Live updates cannot flow yet (Redis not reachable): htmx retries 1013.
            log.warning("socket refused: live updates not ready")
            await ws.close(closecodes.TRY_AGAIN_LATER, "not ready")
            return None
        if not await _within_budget(ws, viewer):
            return None
        try:
            group_id = access.parse_group_id(ws.path_params["group_id"])
        except access.NoSuchGroup:
            await ws.close(closecodes.POLICY, "no such group")
            return None
        sub = broker.subscribe(group_channel(group_id), user_channel(viewer.id))
        try:
            # Membership, login and the group's last seq in one statement: a page that
            # resumes from that seq needs no second read (chat/feed.py Feed.start).
            cursor, read_seq = await db.read(
                lambda conn: access.admission_now(conn, group_id, viewer, settings.session_max_age)
            )
        except (access.NoSuchGroup, access.NotAMemberOf, access.LoginEnded):
            sub.close()
            log.info("socket refused: not a member group=%s user=%s", group_id, viewer.id)
            await ws.close(closecodes.POLICY, "not a member")
            return None
        except access.GroupArchived:
            sub.close()
            await ws.close(closecodes.POLICY, "group archived")
            return None
    except PoolTimeout:
        # Every database connection stayed busy (a burst of pages connecting at once): not a
        # server error; htmx reconnects after 1013 and the page catches up then.
        if sub is not None:
            sub.close()
        log.warning("socket refused: database busy")
        with suppress(WebSocketDisconnect):  # (the client may have given up meanwhile)
            await ws.close(closecodes.TRY_AGAIN_LATER, "busy")
        return None
    except BaseException:  # cancelled (the client left, or shutdown) at any await above
        if sub is not None:
            sub.close()
        raise
    return viewer, group_id, sub, cursor, read_seq


async def _within_budget(ws: WebSocket, viewer: Viewer) -> bool:
    """Opening a page costs a catch-up of up to limits.CATCH_UP_MAX entries: connects are
    budgeted per user and per address. Past it the page is told to wait and retries (1013)."""
    settings: Settings = ws.state.settings
    limiter: MemoryLimiter = ws.state.limiter
    if (await spend(limiter, "connect", viewer.id, ws, settings.connects_per_user)).allowed:
        return True
    log.info("socket refused: connecting too often user=%s", viewer.id)
    await ws.send_text(render("live/_too_often.html"))
    await ws.close(closecodes.TRY_AGAIN_LATER, "connecting too often")
    return False


async def group_socket(ws: WebSocket) -> None:
    settings: Settings = ws.state.settings
    if not origins.allowed(ws, settings):
        log.info("socket refused: origin not allowed")
        await ws.close(closecodes.POLICY)  # before accept: the handshake gets HTTP 403
        return
    # Accept, then close with 1008 on refusal: htmx does not retry that (a refused handshake,
    # which the browser sees as 1006, it would retry forever).
    await ws.accept()
    admitted = await _admit(ws)
    if admitted is None:
        return
    viewer, group_id, sub, cursor, read_seq = admitted
    presence: Presence = ws.state.presence
    presence_updates: PresenceUpdates = ws.state.presence_updates
    try:
        member = membership.member_of(viewer)
        # What may have been counted, set *before* each call: a call cut off by the deadline
        # may have counted or not, and is undone either way (at worst a place too many is
        # given back for a moment; a place never given back would lock the user out).
        taken: bool | None = False
        counted = False
        try:
            # Counting and uncounting are shielded from cancellation (shutdown): a count taken
            # must be given back, or the user would look online (and use a socket) forever.
            # The per-user cap is checked and taken in one step (presence.take_socket).
            with anyio.CancelScope(
                shield=True, deadline=anyio.current_time() + CLEANUP_SECONDS
            ) as counting:
                taken = True  # (if cut off inside: maybe taken)
                taken = await presence.take_socket(viewer.id, settings.sockets_per_user)
                if taken:
                    counted = True  # (likewise)
                    came_online = await presence.connect(group_id, viewer.id)
            if counting.cancelled_caught or taken is None:  # presence unreachable: retry later
                log.warning("socket refused: presence not reachable in time")
                await ws.close(closecodes.TRY_AGAIN_LATER, "busy")
                return
            if not taken:
                log.info("socket refused: too many open pages user=%s", viewer.id)
                await ws.send_text(render("live/_too_many.html"))
                await ws.close(closecodes.POLICY, "too many open pages")
                return
            if came_online:
                await presence_updates.changed(group_id, member, online=True)
            await GroupSocket(ws, viewer, group_id, sub, cursor, read_seq).run()
        finally:
            with anyio.CancelScope(shield=True, deadline=anyio.current_time() + CLEANUP_SECONDS):
                if taken:
                    await presence.give_socket(viewer.id)
                if counted and await presence.disconnect(group_id, viewer.id):
                    await presence_updates.changed(group_id, member, online=False)
    finally:
        sub.close()


routes = [WebSocketRoute("/groups/{group_id}/ws", group_socket, name="chat:socket")]
