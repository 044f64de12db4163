"""Brute-force protection for code look-ups: failed attempts counted in the shared cache.

Per API key and per staff user: 10 failures in 15 minutes; per IP: 30 a minute. Counting is
atomic across processes (Redis INCR). Past a limit the answer is 429 with Retry-After, and
the owner sees an alert in the dashboard.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from tenants import ratelimit
from tenants.services import alert_raise

PER_ACTOR = ratelimit.Limit("redeem-fail-actor", 10, 15 * 60)
PER_IP = ratelimit.Limit("redeem-fail-ip", 30, 60)


def identities(
    *, ip: str, api_key: Any = None, user: Any = None
) -> list[tuple[ratelimit.Limit, str]]:
    found = [(PER_IP, ip)]
    if api_key is not None:
        found.append((PER_ACTOR, f"key:{api_key.pk}"))
    if user is not None and getattr(user, "pk", None):
        found.append((PER_ACTOR, f"user:{user.pk}"))
    return found


def blocked_for(idents: list[tuple[ratelimit.Limit, str]]) -> int | None:
    """Seconds to wait if any identity is over its limit."""
    waits = [w for limit, ident in idents if (w := ratelimit.is_limited(limit, ident))]
    return max(waits) if waits else None


def record_failure(*, idents: list[tuple[ratelimit.Limit, str]], tenant: Any, who: str) -> None:
    for limit, ident in idents:
        if ratelimit.hit(limit, ident) == limit.limit:
            alert_raise(
                tenant=tenant,
                kind="redeem_code_guessing",
                message=_(
                    "%(n)d unknown codes from %(who)s (%(ident)s); further attempts are "
                    "refused for a while."
                )
                % {"n": limit.limit, "who": who, "ident": ident},
            )
