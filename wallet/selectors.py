"""Reads for wallet passes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Max

from tenants.models import Location
from vouchers.selectors import voucher_list_for_card
from wallet.models import AppleRegistration, WalletPass


def wallet_pass_for_card(*, card: Any) -> WalletPass | None:
    return WalletPass.objects.filter(card=card).first()


def pass_inputs(*, card: Any) -> tuple[list[Any], list[Location]]:
    """What the pass shows besides the card: ready vouchers and up to 10 locations."""
    vouchers = [v for v in voucher_list_for_card(card=card) if v.is_usable]
    locations = list(
        Location.objects.filter(tenant_id=card.tenant_id, latitude__isnull=False).order_by("pk")[
            :10
        ]
    )
    return vouchers, locations


def registrations_for_device(
    *, device_library_identifier: str, pass_type_matches: bool, since: datetime | None
) -> list[AppleRegistration]:
    """A device's registrations across businesses (the device is the one asking, by the
    identifier Wallet gave it), changed since the tag."""
    if not pass_type_matches:
        return []
    registrations = (
        AppleRegistration.objects.with_scopes_disabled()  # type: ignore[attr-defined]
        .filter(device_library_identifier=device_library_identifier)
        .select_related("wallet_pass", "wallet_pass__card")
    )
    if since is not None:
        registrations = registrations.filter(wallet_pass__changed_at__gt=since)
    return list(registrations)


def registration_tokens(*, wallet_pass: WalletPass) -> list[AppleRegistration]:
    return list(AppleRegistration.objects.filter(wallet_pass=wallet_pass))


def wallet_status_for_cards(*, cards: list[Any]) -> dict[int, dict[str, Any]]:
    """Per card: in how many Apple Wallets, whether in Google Wallet, and when each was last
    updated (for the dashboard's customer page)."""
    passes = WalletPass.objects.filter(card__in=cards).annotate(
        devices=Count("registrations"), last_registered=Max("registrations__created_at")
    )
    return {
        p.card_id: {
            "apple_devices": p.devices,
            "apple_pushed_at": p.apple_pushed_at,
            "apple_fetched_at": p.apple_fetched_at,
            "google": bool(p.google_saved_at),
            "google_pushed_at": p.google_pushed_at,
        }
        for p in passes
    }
