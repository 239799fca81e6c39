"""Rate limits: fixed-window counters, in this process or shared through Redis.

`hit(key, limit, window)` counts one event and says whether it is within the limit; `check`
only looks (a throttled login is refused before its password is even verified). With Redis the
counters are shared by every process, so a limit holds however many processes serve a user.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as redis
from redis.exceptions import RedisError


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    seconds: int

    @classmethod
    def parse(cls, raw: str) -> Limit:
        """'10/180' means 10 per 180 seconds."""
        count, _, seconds = raw.partition("/")
        if not (count.isdigit() and seconds.isdigit() and int(count) > 0 and int(seconds) > 0):
            raise ValueError(f"a rate limit looks like 10/180 (10 per 180 seconds), not {raw!r}")
        return cls(int(count), int(seconds))


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until the window resets (0 when allowed)


class MemoryLimiter:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window number, count)

    def _window(self, limit: Limit) -> tuple[int, int]:
        now = self.clock()
        number = int(now // limit.seconds)
        return number, max(1, math.ceil((number + 1) * limit.seconds - now))

    async def check(self, key: str, limit: Limit) -> Decision:
        number, left = self._window(limit)
        window, count = self._counts.get(key, (number, 0))
        used = count if window == number else 0
        return Decision(used < limit.count, 0 if used < limit.count else left)

    async def hit(self, key: str, limit: Limit) -> Decision:
        number, left = self._window(limit)
        window, count = self._counts.get(key, (number, 0))
        used = (count if window == number else 0) + 1
        self._counts[key] = (number, used)
        if len(self._counts) > 100_000:  # forget finished windows; memory stays bounded
            self._counts = {k: v for k, v in self._counts.items() if v[0] >= number - 1}
        return Decision(used <= limit.count, 0 if used <= limit.count else left)


class RedisLimiter(MemoryLimiter):
    """The same windows, counted in Redis. If Redis is unreachable, limits fall back to this
    process's own counters rather than letting everything through or refusing everyone."""

    def __init__(self, client: redis.Redis, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self.client = client

    def _key(self, key: str, limit: Limit) -> tuple[str, int]:
        number, left = self._window(limit)
        return f"discussit:rate:{key}:{limit.seconds}:{number}", left

    async def check(self, key: str, limit: Limit) -> Decision:
        name, left = self._key(key, limit)
        try:
            used = int(await self.client.get(name) or 0)
        except (RedisError, OSError):
            return await super().check(key, limit)
        return Decision(used < limit.count, 0 if used < limit.count else left)

    async def hit(self, key: str, limit: Limit) -> Decision:
        name, left = self._key(key, limit)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                used, _ = await pipe.incr(name).expire(name, limit.seconds + 1).execute()
        except (RedisError, OSError):
            return await super().hit(key, limit)
        return Decision(used <= limit.count, 0 if used <= limit.count else left)


def make_limiter(client: redis.Redis | None) -> MemoryLimiter:
    """Shared through Redis when the broker has a Redis client, else counted in this process."""
    return RedisLimiter(client) if client is not None else MemoryLimiter()


def client_address(conn: object) -> str:
    """The peer address uvicorn reports: the router's X-Forwarded-For only from trusted proxies
    (--forwarded-allow-ips), never a header a client could spoof directly."""
    client = getattr(conn, "client", None)
    return client.host if client is not None else "unknown"
