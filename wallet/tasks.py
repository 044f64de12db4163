"""Wallet pushes in Celery: one task per changed card, idempotent, retried with backoff."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.utils.translation import gettext as _

from loyalty.selectors import access_card, access_program, card_list_for_program
from loyalty.services import program_cards_touch
from tenants.tasks import TenantTask
from wallet import google, passes, push, selectors, services
from wallet.google_wallet import GoogleWalletError, RateLimitTimeoutError

logger = logging.getLogger(__name__)
FAN_OUT_BATCH = 500


def _notification(card: Any, wallet_pass: Any, vouchers: list[Any]) -> str | None:
    """What deserves a visible Google notification: a reward that became ready."""
    if vouchers:
        newest = max(vouchers, key=lambda v: v.issued_at)
        if wallet_pass.google_pushed_at is None or newest.issued_at > wallet_pass.google_pushed_at:
            return _("Your %(reward)s is ready") % {"reward": newest.reward_title}
    return None


@shared_task(
    base=TenantTask,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=8,
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
)
def push_card(self: Any, *, tenant: Any, card_id: int) -> dict[str, int]:
    """Rebuilds nothing itself (devices fetch the pass); tells every wallet the card changed.

    Safe to run twice: a push of a version already pushed is skipped, and a repeated APNs push
    only makes the device fetch the same pass again.
    """
    card = access_card(tenant=tenant, card_id=card_id)
    wallet_pass = selectors.wallet_pass_for_card(card=card)
    if wallet_pass is None:
        return {"apple": 0, "google": 0}
    version = card.version
    sent = {"apple": 0, "google": 0, "removed": 0}
    retry_after: float | None = None

    registrations = selectors.registration_tokens(wallet_pass=wallet_pass)
    if registrations and wallet_pass.apple_pushed_version < version:
        client = push.apns_client()
        if client is None:
            logger.info("APNs not configured; %d devices not notified", len(registrations))
        else:
            results = client.send_many(
                [r.push_token for r in registrations], passes.pass_type_identifier()
            )
            retry = False
            for registration, result in zip(registrations, results, strict=True):
                if result.ok:
                    sent["apple"] += 1
                elif result.should_remove_registration:
                    services.registration_remove(registration_id=registration.pk)
                    sent["removed"] += 1
                elif result.should_retry:
                    retry = True
                    retry_after = result.retry_after or retry_after
                else:
                    logger.warning(
                        "APNs refused %s: %s %s", registration.pk, result.status, result.reason
                    )
            if retry:
                raise self.retry(countdown=retry_after or None)
            services.wallet_pass_mark_pushed(wallet_pass_id=wallet_pass.pk, version=version)

    if (
        wallet_pass.google_object_id
        and google.google_enabled()
        and wallet_pass.google_pushed_version < version
    ):
        vouchers, _locations = selectors.pass_inputs(card=card)
        try:
            google.patch_object(card, vouchers, _notification(card, wallet_pass, vouchers))
        except (GoogleWalletError, RateLimitTimeoutError) as error:
            raise self.retry(exc=error) from error
        services.wallet_pass_mark_pushed(
            wallet_pass_id=wallet_pass.pk, version=version, google=True
        )
        sent["google"] = 1
    return sent


def fan_out_key(program_id: int) -> str:
    return f"wallet-fanout:{program_id}"


@shared_task(base=TenantTask, acks_late=True, reject_on_worker_lost=True)
def fan_out_program(*, tenant: Any, program_id: int) -> int:
    """A design change: every card of the program gets a new version and a push, in batches,
    with progress for the dashboard."""
    program = access_program(tenant=tenant, program_id=program_id)
    ids = list(card_list_for_program(program=program).values_list("pk", flat=True))
    progress = {"total": len(ids), "done": 0}
    cache.set(fan_out_key(program_id), progress, 3600)
    for start in range(0, len(ids), FAN_OUT_BATCH):
        batch = ids[start : start + FAN_OUT_BATCH]
        program_cards_touch(program=program, card_ids=batch)  # enqueues each card's push
        progress["done"] += len(batch)
        cache.set(fan_out_key(program_id), progress, 3600)
    return len(ids)


def fan_out_progress(program_id: int) -> dict[str, int] | None:
    return cache.get(fan_out_key(program_id))
