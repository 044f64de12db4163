"""Reads for redemption."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from redemption.models import Redemption


def redemption_live_for_voucher(*, voucher: Any) -> Redemption | None:
    return (
        Redemption.objects.filter(voucher=voucher, reversed_at__isnull=True)
        .select_related("location", "actor")
        .first()
    )


def access_redemption(*, tenant: Any, redemption_id: int) -> Redemption:
    redemption = (
        Redemption.objects.filter(tenant=tenant, pk=redemption_id)
        .select_related("voucher", "voucher__card", "location")
        .first()
    )
    if redemption is None:
        raise Http404
    return redemption


def redemption_list_recent(*, tenant: Any, limit: int = 20) -> list[Redemption]:
    return list(
        Redemption.objects.filter(tenant=tenant).select_related(
            "voucher", "voucher__card__customer", "location"
        )[:limit]
    )
