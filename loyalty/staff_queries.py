"""Reads the staff counter needs that loyalty.selectors does not have (yet)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.utils import timezone

from loyalty.models import StampEvent


def local_day_start(*, tenant: Any, now: datetime | None = None) -> datetime:
    """Midnight of the business's current day, as an aware datetime."""
    tz = tenant.tzinfo
    local_date = (now or timezone.now()).astimezone(tz).date()
    return datetime.combine(local_date, time.min, tzinfo=tz)


def staff_recent_events(
    *, tenant: Any, user: Any, limit: int = 10, now: datetime | None = None
) -> list[StampEvent]:
    """The stamp actions this person recorded today (the business's day), newest first."""
    return list(
        StampEvent.objects.filter(
            tenant=tenant,
            staff_user=user,
            created_at__gte=local_day_start(tenant=tenant, now=now),
        )
        .select_related("card__customer", "card__program", "location")
        .order_by("-created_at", "-id")[:limit]
    )
