"""Rate limits: fixed-window counters, in this process or shared through Redis.

`hit(key, limit)` counts one event and says whether it is within the limit; `check`
only looks (a throttled login is refused before its password is even verified). With Redis the
counters are shared by every process, so a limit holds however many processes serve a user.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as redis
from redis.exceptions import RedisError

from discussit.settings import ADDRESS_FACTOR, Rate


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until the window resets (0 when allowed)


class MemoryLimiter:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window number, count)

    def _window(self, limit: Rate) -> tuple[int, int]:
        now = self.clock()
        number = int(now // limit.seconds)
        return number, max(1, math.ceil((number + 1) * limit.seconds - now))

    async def check(self, key: str, limit: Rate) -> Decision:
        number, left = self._window(limit)
        window, count = self._counts.get(key, (number, 0))
        used = count if window == number else 0
        return Decision(used < limit.count, 0 if used < limit.count else left)

    async def hit(self, key: str, limit: Rate) -> Decision:
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

    def _key(self, key: str, limit: Rate) -> tuple[str, int]:
        number, left = self._window(limit)
        return f"discussit:rate:{key}:{limit.seconds}:{number}", left

    async def check(self, key: str, limit: Rate) -> Decision:
        name, left = self._key(key, limit)
        try:
            used = int(await self.client.get(name) or 0)
        except (RedisError, OSError):
            return await super().check(key, limit)
        return Decision(used < limit.count, 0 if used < limit.count else left)

    async def hit(self, key: str, limit: Rate) -> Decision:
        name, left = self._key(key, limit)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, limit.seconds + 1)
                used, _ = await pipe.execute()
        except (RedisError, OSError):
            return await super().hit(key, limit)
        return Decision(used <= limit.count, 0 if used <= limit.count else left)


async def spend(
    limiter: MemoryLimiter, action: str, user_id: int, conn: object, per_user: Rate
) -> Decision:
    """One `action` from the user's budget and from their address's (ADDRESS_FACTOR users'
    worth): the first refusal, or allowed. Both are counted either way."""
    refused = None
    for key, rate in (
        (f"{action}:user:{user_id}", per_user),
        (f"{action}:addr:{client_address(conn)}", per_user.times(ADDRESS_FACTOR)),
    ):
        decision = await limiter.hit(key, rate)
        if not decision.allowed and refused is None:
            refused = decision
    return refused or Decision(True, 0)


def make_limiter(client: redis.Redis | None) -> MemoryLimiter:
    """Shared through Redis when there is a Redis client, else counted in this process."""
    return RedisLimiter(client) if client is not None else MemoryLimiter()


def client_address(conn: object) -> str:
    """What per-address budgets count: the client's address as the trusted proxies name it
    (core/security/proxies.py), else the peer's. An IPv6 address counts by its /64, the block
    one subscriber is usually given (else one host would have billions of budgets)."""
    client = getattr(conn, "client", None)
    if client is None:
        return "unknown"
    try:
        address = ipaddress.ip_address(client.host)
    except ValueError:
        return str(client.host)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
