"""Per-tenant request rate limits: a sliding window of one minute.

Two implementations of one small protocol:

* :class:`MemoryRateLimiter` keeps the window in this process (the default);
* :class:`RedisRateLimiter` keeps it in Redis (a sorted set per key, updated
  atomically by a Lua script stamped with the server's clock), so several API
  processes behind a load balancer share one limit.

:func:`build_rate_limiter` picks one from the settings; the app's composition
root calls it and closes the limiter at shutdown.
"""

from __future__ import annotations

import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis

from switchboard.config import Settings
from switchboard.services.exceptions import RateLimited

WINDOW_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Outcome of one request against the limit."""

    allowed: bool
    retry_after: int = 0
    remaining: int = 0


class RateLimiter(Protocol):
    """Counts requests per key over a sliding one-minute window."""

    limit: int

    async def hit(self, key: str, limit: int | None = None) -> RateDecision:
        """Record one request for ``key`` if the window has room (``limit``, default ``.limit``)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class MemoryRateLimiter:
    """In-process sliding window: the request times of the last minute, per key."""

    def __init__(
        self,
        *,
        limit: int,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self._window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    async def hit(self, key: str, limit: int | None = None) -> RateDecision:
        """Record one request for ``key`` if fewer than ``limit`` were made in the window."""
        limit = self.limit if limit is None else limit
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        if len(hits) >= limit:
            wait = hits[0] + self._window - now if hits else self._window
            return RateDecision(allowed=False, retry_after=max(1, math.ceil(wait)))
        hits.append(now)
        self._forget_idle(now)
        return RateDecision(allowed=True, remaining=limit - len(hits))

    def _forget_idle(self, now: float) -> None:
        # Bounded memory: drop keys whose newest hit has left the window.
        if len(self._hits) < 1024:
            return
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self._window]:
            del self._hits[key]

    async def aclose(self) -> None:
        """Nothing to release."""


# KEYS[1] = window key; ARGV = limit, window (ms), unique member suffix.
# Returns {allowed (0/1), count, retry_after_ms}.
_SLIDING_WINDOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = window
  if oldest[2] then wait = tonumber(oldest[2]) + window - now end
  return {0, count, wait}
end
redis.call('ZADD', KEYS[1], now, now .. '-' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, count + 1, 0}
"""


class RedisRateLimiter:
    """Sliding window shared through Redis by every API process."""

    def __init__(
        self,
        *,
        redis: Redis,
        limit: int,
        window: float = WINDOW_SECONDS,
        namespace: str = "switchboard:ratelimit:",
    ) -> None:
        self.limit = limit
        self._redis = redis
        self._window_ms = int(window * 1000)
        self._namespace = namespace
        self._script: Any = redis.register_script(_SLIDING_WINDOW_LUA)

    async def hit(self, key: str, limit: int | None = None) -> RateDecision:
        """Record one request for ``key`` atomically in Redis if the window has room."""
        limit = self.limit if limit is None else limit
        allowed, count, wait_ms = await self._script(
            keys=[self._namespace + key],
            args=[limit, self._window_ms, secrets.token_hex(6)],
        )
        if int(allowed):
            return RateDecision(allowed=True, remaining=limit - int(count))
        return RateDecision(allowed=False, retry_after=max(1, math.ceil(int(wait_ms) / 1000)))

    async def aclose(self) -> None:
        """Close the Redis connection pool."""
        await self._redis.aclose()


def build_rate_limiter(settings: Settings) -> RateLimiter:
    """The limiter the settings ask for: Redis when ``redis_url`` is set, else in-process."""
    if settings.redis_url:
        client: Redis = Redis.from_url(settings.redis_url)
        return RedisRateLimiter(redis=client, limit=settings.rate_limit_per_minute)
    return MemoryRateLimiter(limit=settings.rate_limit_per_minute)


async def check_sign_in(
    limiter: RateLimiter, settings: Settings, *, email: str, client: str | None
) -> None:
    """Count a sign-in attempt per client address and per e-mail; refuse one over either limit.

    Guessing many accounts' passwords from one address, or one account's from
    many addresses, each meets a limit of its own: ``login_attempts_per_minute``
    per e-mail and ``login_attempts_per_address_per_minute`` per address (the
    address the server sees: behind a proxy, set uvicorn's forwarded-allow-ips).
    The console's sign-in uses it too.

    Raises:
        RateLimited: too many attempts from this address or for this e-mail.
    """
    checks = (
        (f"login-addr:{client or 'unknown'}", settings.login_attempts_per_address_per_minute),
        (f"login:{email.strip().lower()}", settings.login_attempts_per_minute),
    )
    for key, limit in checks:
        decision = await limiter.hit(key, limit)
        if not decision.allowed:
            raise RateLimited("Too many sign-in attempts", retry_after=decision.retry_after)

