"""Wallet writes: pass records, device registrations, and scheduling pushes after commit."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from wallet.models import AppleRegistration, PassKitLog, WalletPass

logger = logging.getLogger(__name__)

MAX_LOG_MESSAGES = 50
MAX_LOG_LENGTH = 1000


def wallet_pass_ensure(*, card: Any) -> WalletPass:
    """The card's wallet record, created on the first download or save."""
    wallet_pass = WalletPass.objects.filter(card=card).first()
    if wallet_pass is not None:
        return wallet_pass
    try:
        with transaction.atomic():
            return WalletPass.objects.create(
                tenant_id=card.tenant_id,
                card=card,
                changed_at=timezone.now(),
                apple_pushed_version=card.version,
                google_pushed_version=card.version,
            )
    except IntegrityError:  # two first downloads at once
        return WalletPass.objects.get(card=card)


def _already_queued(key: tuple[int, int]) -> bool:
    """Is a push for this card already waiting for this transaction's commit? Django drops
    the queue on rollback, so a rolled-back change never blocks a later push."""
    connection = transaction.get_connection()
    return any(
        getattr(func, "wallet_push_key", None) == key
        for _sids, func, *_ in connection.run_on_commit
    )


def on_card_changed(card: Any) -> None:
    """Card listener (inside the change's transaction): mark the pass changed and push it
    once after commit, however many changes the transaction made."""
    updated = WalletPass.objects.filter(card_id=card.pk).update(changed_at=timezone.now())
    if not updated:
        return  # in no wallet yet: nothing to push
    key = (card.tenant_id, card.pk)
    if _already_queued(key):
        return

    def enqueue() -> None:
        from wallet.tasks import push_card

        enqueue.wallet_push_key = None  # type: ignore[attr-defined]  # ran: no longer pending

        try:
            push_card.apply_async(kwargs={"tenant_id": card.tenant_id, "card_id": card.pk})
        except Exception:  # the change is committed: a broker hiccup must not fail the request
            logger.exception("could not enqueue the wallet push of card %s", card.pk)

    enqueue.wallet_push_key = key  # type: ignore[attr-defined]
    transaction.on_commit(enqueue)


def on_program_changed(program: Any) -> None:
    """Design change: every card of the program gets its new pass, fanned out in batches."""
    from wallet.tasks import fan_out_program

    transaction.on_commit(
        lambda: fan_out_program.apply_async(
            kwargs={"tenant_id": program.tenant_id, "program_id": program.pk}
        )
    )


@transaction.atomic
def device_register(
    *, wallet_pass: WalletPass, device_library_identifier: str, push_token: str
) -> bool:
    """Register a device for the pass's updates; True if new. Idempotent: devices
    re-register often, and a new push token replaces the old one."""
    registration = AppleRegistration.objects.filter(
        wallet_pass=wallet_pass, device_library_identifier=device_library_identifier
    ).first()
    if registration is not None:
        if registration.push_token != push_token:
            registration.push_token = push_token
            registration.save(update_fields=["push_token", "updated_at"])
        return False
    try:
        with transaction.atomic():
            AppleRegistration.objects.create(
                tenant_id=wallet_pass.tenant_id,
                wallet_pass=wallet_pass,
                device_library_identifier=device_library_identifier,
                push_token=push_token,
            )
    except IntegrityError:
        return False
    return True


def device_unregister(*, wallet_pass: WalletPass, device_library_identifier: str) -> int:
    deleted, _ = AppleRegistration.objects.filter(
        wallet_pass=wallet_pass, device_library_identifier=device_library_identifier
    ).delete()
    return deleted


def registration_remove(*, registration_id: int) -> None:
    """APNs answered 410: the device no longer has the pass."""
    AppleRegistration.objects.filter(pk=registration_id).delete()


def wallet_pass_mark_fetched(*, wallet_pass: WalletPass) -> None:
    WalletPass.objects.filter(pk=wallet_pass.pk).update(apple_fetched_at=timezone.now())


def wallet_pass_mark_pushed(*, wallet_pass_id: int, version: int, google: bool = False) -> None:
    """Record a push of `version`; never moves backwards (an older push does not win)."""
    now = timezone.now()
    if google:
        WalletPass.objects.filter(pk=wallet_pass_id, google_pushed_version__lt=version).update(
            google_pushed_version=version, google_pushed_at=now
        )
    else:
        WalletPass.objects.filter(pk=wallet_pass_id, apple_pushed_version__lt=version).update(
            apple_pushed_version=version, apple_pushed_at=now
        )


def google_object_saved(*, wallet_pass: WalletPass, object_id: str, version: int) -> None:
    WalletPass.objects.filter(pk=wallet_pass.pk).update(
        google_object_id=object_id, google_saved_at=timezone.now(), google_pushed_version=version
    )


def passkit_log_store(*, messages: list[Any]) -> int:
    """Device logs, capped in count and length so a chatty device cannot fill the disk."""
    rows = [
        PassKitLog(message=str(message)[:MAX_LOG_LENGTH]) for message in messages[:MAX_LOG_MESSAGES]
    ]
    PassKitLog.objects.bulk_create(rows)
    return len(rows)
