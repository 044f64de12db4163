"""Fixed-window counters in the shared cache (Redis in production).

`cache.add` + `cache.incr` are atomic on Redis, so several web processes count together.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    scope: str
    limit: int
    window: int  # seconds


def _key(limit: Limit, ident: str, now: float) -> tuple[str, int]:
    window_index = int(now // limit.window)
    retry_after = int((window_index + 1) * limit.window - now) + 1
    return f"rl:{limit.scope}:{ident}:{window_index}", retry_after


def count(limit: Limit, ident: str) -> int:
    key, _ = _key(limit, ident, time.time())
    return int(cache.get(key, 0))


def is_limited(limit: Limit, ident: str) -> int | None:
    """Seconds to wait if `ident` is already over the limit, else None (does not count)."""
    now = time.time()
    key, retry_after = _key(limit, ident, now)
    if int(cache.get(key, 0)) >= limit.limit:
        return retry_after
    return None


def hit(limit: Limit, ident: str) -> int:
    """Count one event for `ident`; returns the count in the current window."""
    key, _ = _key(limit, ident, time.time())
    if cache.add(key, 1, timeout=limit.window + 5):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=limit.window + 5)
        return 1


def reset(limit: Limit, ident: str) -> None:
    key, _ = _key(limit, ident, time.time())
    cache.delete(key)


def client_ip(request) -> str:  # type: ignore[no-untyped-def]
    # Only behind our own proxy is X-Forwarded-For trustworthy; otherwise anyone could pick
    # a fresh "IP" per request and walk past the limit.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and settings.TRUST_X_FORWARDED_FOR:
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "unknown")
