"""Google Wallet for Stampwise: one LoyaltyClass per program, one LoyaltyObject per card,
ready vouchers as linked Offer objects. Enabled only when credentials are configured."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.templatetags.static import static
from django.utils import translation
from django.utils.translation import gettext as _

from wallet.google_wallet import (
    GoogleWalletClient,
    LocalNotificationQuota,
    LocalTokenBucket,
    RedisNotificationQuota,
    RedisTokenBucket,
    build_loyalty_class,
    build_loyalty_object,
    build_offer_class,
    build_offer_object,
)

GOOGLE_LIMIT_PER_SECOND = 20  # "Calls to the Google Wallet API are rate limited to 20 rps"
# One bucket shared by every worker through Redis. A token bucket lets `burst + rate * t`
# calls through in any t seconds, so burst + rate must stay under Google's limit for every
# one-second window (rate = burst = 20 let 40 through in the first second after a lull).
# 18/s with a single token: at most 19 in any second, a margin for network jitter.
REQUESTS_PER_SECOND = 18
BURST = 1

_lock = threading.Lock()
_client: GoogleWalletClient | None = None
_client_key: tuple[str, ...] | None = None


def google_enabled() -> bool:
    return bool(settings.GOOGLE_WALLET_ISSUER_ID and settings.GOOGLE_APPLICATION_CREDENTIALS)


def get_client() -> GoogleWalletClient:
    """One client per process (and per configuration, so tests can point it elsewhere)."""
    global _client, _client_key
    key = (
        settings.GOOGLE_WALLET_ISSUER_ID,
        settings.GOOGLE_APPLICATION_CREDENTIALS,
        settings.GOOGLE_WALLET_API_BASE,
        settings.REDIS_URL,
    )
    with _lock:
        if _client is None or _client_key != key:
            limiter: Any
            quota: Any
            if settings.REDIS_URL:
                import redis

                connection = redis.Redis.from_url(settings.REDIS_URL)
                prefix = f"{settings.CACHES['default'].get('KEY_PREFIX', 'stampwise')}:gw"
                limiter = RedisTokenBucket(
                    connection,
                    f"{prefix}:bucket:{settings.GOOGLE_WALLET_ISSUER_ID}",
                    rate=REQUESTS_PER_SECOND,
                    burst=BURST,
                )
                quota = RedisNotificationQuota(connection, prefix=f"{prefix}:quota")
            else:
                limiter = LocalTokenBucket(rate=REQUESTS_PER_SECOND, burst=BURST)
                quota = LocalNotificationQuota()
            _client = GoogleWalletClient(
                settings.GOOGLE_WALLET_ISSUER_ID,
                settings.GOOGLE_APPLICATION_CREDENTIALS,
                settings.GOOGLE_WALLET_API_BASE,
                rate_limiter=limiter,
                notification_quota=quota,
            )
            _client_key = key
        return _client


def class_id(program: Any) -> str:
    return f"{settings.GOOGLE_WALLET_ISSUER_ID}.sw-program-{program.pk}"


def object_id(card: Any) -> str:
    return f"{settings.GOOGLE_WALLET_ISSUER_ID}.sw-card-{card.serial_number}"


def offer_class_id(voucher: Any) -> str:
    return f"{settings.GOOGLE_WALLET_ISSUER_ID}.sw-reward-{voucher.template_id}"


def offer_object_id(voucher: Any) -> str:
    return f"{settings.GOOGLE_WALLET_ISSUER_ID}.sw-voucher-{voucher.pk}"


def sync_class(program: Any, locations: list[Any]) -> None:
    logo = (
        settings.PUBLIC_BASE_URL + program.logo.url
        if program.logo
        else settings.PUBLIC_BASE_URL + static("img/favicon.svg")
    )
    get_client().upsert_loyalty_class(
        build_loyalty_class(
            class_id=class_id(program),
            issuer_name=program.tenant.name,
            program_name=program.name,
            program_logo_uri=logo,
            hex_background_color=program.card_color,
            locations=[
                (float(loc.latitude), float(loc.longitude))
                for loc in locations
                if loc.latitude is not None
            ][:10],
        )
    )


def sync_offers(vouchers: list[Any]) -> list[str]:
    client = get_client()
    ids = []
    for voucher in vouchers:
        client.upsert_offer_class(
            build_offer_class(
                class_id=offer_class_id(voucher),
                issuer_name=voucher.tenant.name,
                title=voucher.reward_title,
                provider=voucher.tenant.name,
            )
        )
        client.upsert_offer_object(
            build_offer_object(
                object_id=offer_object_id(voucher),
                class_id=offer_class_id(voucher),
                redeem_code=voucher.code_display or None,
            )
        )
        ids.append(offer_object_id(voucher))
    return ids


def object_body(card: Any, offer_ids: list[str]) -> dict[str, Any]:
    with translation.override(card.tenant.default_language):
        return build_loyalty_object(
            object_id=object_id(card),
            class_id=class_id(card.program),
            account_name=card.customer.name,
            account_id=card.serial_number,
            stamps=card.stamps,
            goal=card.program.stamp_goal,
            barcode_value=card.token,
            barcode_alternate_text=card.serial_number,
            points_label=_("Stamps"),
            linked_offer_ids=offer_ids,
            state="INACTIVE" if card.customer.erased_at else "ACTIVE",
        )


def insert_object(card: Any, vouchers: list[Any], locations: list[Any]) -> str:
    """Class and object inserted over REST first, so the Save JWT only carries the id."""
    sync_class(card.program, locations)
    offers = sync_offers(vouchers)
    get_client().insert_loyalty_object(object_body(card, offers))
    return object_id(card)


def save_url(card: Any) -> str:
    client = get_client()
    jwt = client.save_jwt([object_id(card)], origins=[settings.PUBLIC_BASE_URL])
    return client.save_url(jwt)


def patch_object(card: Any, vouchers: list[Any], notify: str | None) -> None:
    """PATCH the card's object (points, barcode, linked offers); a visible notification when
    something worth a buzz happened, within Google's 3 per pass per 24 hours."""
    offers = sync_offers(vouchers)
    body = object_body(card, offers)
    patch = {
        key: body[key]
        for key in ("loyaltyPoints", "barcode", "linkedOfferIds", "state")
        if key in body
    }
    patch.setdefault("linkedOfferIds", [])
    client = get_client()
    client.patch_loyalty_object(object_id(card), patch)
    if notify:
        client.add_message(
            object_id(card),
            {"header": card.tenant.name, "body": notify},
            downgrade_when_quota_exceeded=True,
        )
