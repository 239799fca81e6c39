"""Who came online or went offline, told to the group's open pages at most once per window.

When many pages connect at once (a server restart makes every page reconnect), announcing each
arrival to every open page costs N x N frames. Changes are gathered per group instead: the
first change after a quiet window goes out at once (so one person opening a page is seen
immediately), later ones within the window go out together when it ends, each member's latest
state only. While changes keep coming (a reconnect storm), each gathered send doubles the
group's window, up to MAX_WINDOW: a send costs every open page a frame, and in a storm of 5,000
pages the sends at a fixed quarter second were a third of the server's work. A quiet window
resets it. A send is one small element listing who came online and who went offline (user ids),
rendered once per process and sent to every page as is; the page's script marks each member.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from discussit.core.realtime.broker import Broker, group_channel
from discussit.core.realtime.items import PresenceChanged
from discussit.core.templating import render
from discussit.groups.membership import Member

log = logging.getLogger("discussit.presence")

WINDOW = 0.25  # seconds
MAX_WINDOW = 4.0  # seconds: the longest a change waits while changes keep coming


class PresenceUpdates:
    def __init__(
        self, broker: Broker, window: float = WINDOW, max_window: float = MAX_WINDOW
    ) -> None:
        self.broker = broker
        self.window = window
        self.max_window = max_window
        self._windows: dict[uuid.UUID, float] = {}  # a group's window while changes keep coming
        self._pending: dict[uuid.UUID, dict[int, tuple[Member, bool]]] = {}
        self._last_sent: dict[uuid.UUID, float] = {}
        self._flushers: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._stopped = False

    async def changed(self, group_id: uuid.UUID, member: Member, online: bool) -> None:
        now = asyncio.get_running_loop().time()
        last = self._last_sent.get(group_id)
        pending = self._pending.get(group_id)
        window = self._windows.get(group_id, self.window)
        if pending is None and (self._stopped or last is None or now - last >= window):
            self._last_sent[group_id] = now
            self._windows.pop(group_id, None)  # after a quiet window: back to the shortest
            await self._publish(group_id, {member.user_id: (member, online)})
            return
        if pending is None:
            pending = self._pending[group_id] = {}
        pending[member.user_id] = (member, online)
        if group_id not in self._flushers:
            delay = (last if last is not None else now) + window - now
            self._flushers[group_id] = asyncio.create_task(self._flush_after(group_id, delay))

    async def _flush_after(self, group_id: uuid.UUID, delay: float) -> None:
        await asyncio.sleep(max(0.0, delay))
        del self._flushers[group_id]
        await self._flush(group_id)

    async def _flush(self, group_id: uuid.UUID) -> None:
        changes = self._pending.pop(group_id, None)
        if changes:
            self._last_sent[group_id] = asyncio.get_running_loop().time()
            window = self._windows.get(group_id, self.window)
            self._windows[group_id] = min(self.max_window, window * 2)  # changes keep coming
            try:
                await self._publish(group_id, changes)
            except Exception as failure:  # the broker is down: pages resync when it is back
                log.warning("presence not published group=%s: %s", group_id, type(failure).__name__)

    async def _publish(self, group_id: uuid.UUID, changes: dict[int, tuple[Member, bool]]) -> None:
        html = render(
            "members/_presence_changes.html",
            online=[member.user_id for member, online in changes.values() if online],
            offline=[member.user_id for member, online in changes.values() if not online],
        )
        await self.broker.publish(group_channel(group_id), PresenceChanged(html))

    async def stop(self) -> None:
        """Send what is gathered now; later changes (pages closing at shutdown) go out at once."""
        self._stopped = True
        for group_id, task in list(self._flushers.items()):
            task.cancel()
            self._flushers.pop(group_id, None)
            await self._flush(group_id)
