"""Who has a group open right now: open group pages counted per (group, user).

A person is online in a group while at least one of their group pages is connected, on any
process. `Presence` counts in this process; `redis.RedisPresence` shares the counts.
"""

from __future__ import annotations

import uuid
from collections import defaultdict


class Presence:
    def __init__(self) -> None:
        self._open: defaultdict[uuid.UUID, defaultdict[int, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self._sockets: defaultdict[int, int] = defaultdict(int)

    async def start(self) -> None:
        """Begin any background upkeep (nothing in memory)."""

    async def stop(self) -> None:
        """End background upkeep."""

    async def take_socket(self, user_id: int, cap: int) -> bool | None:
        """Take one of the user's `cap` places for open pages, if one is free: checked and
        taken in one step (nothing runs between the two in this process), so parallel
        handshakes cannot all pass the check. Give it back with `give_socket`. None: the count
        cannot be reached now (shared presence away); the page should retry later."""
        if self._sockets[user_id] >= cap:
            return False
        self._sockets[user_id] += 1
        return True

    async def give_socket(self, user_id: int) -> None:
        self._sockets[user_id] -= 1
        if self._sockets[user_id] <= 0:
            del self._sockets[user_id]

    async def connect(self, group_id: uuid.UUID, user_id: int) -> bool:
        """Count one more open page; True when the user just came online in the group."""
        users = self._open[group_id]
        users[user_id] += 1
        return users[user_id] == 1

    async def disconnect(self, group_id: uuid.UUID, user_id: int) -> bool:
        """Count one page fewer; True when the user just went offline in the group."""
        users = self._open.get(group_id)
        if users is None or users.get(user_id, 0) == 0:
            return False
        users[user_id] -= 1
        if users[user_id]:
            return False
        del users[user_id]
        if not users:
            del self._open[group_id]
        return True

    async def online(self, group_id: uuid.UUID) -> frozenset[int]:
        return frozenset(self._open.get(group_id, ()))

    async def sockets(self, user_id: int) -> int:
        """How many group pages this user has open, in every group (the per-user cap)."""
        return self._sockets.get(user_id, 0)
