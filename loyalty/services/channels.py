"""Stamping channels besides the counter: the kiosk QR and one-time receipt codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.errors import StampRefused
from loyalty.locks import lock_receipt_code
from loyalty.models import Card, KioskClaim, Program, ReceiptBatch, ReceiptCode, StampSource
from loyalty.services.stamping import StampOutcome, card_add_stamps
from tenants.codes import generate_code, normalize_code

KIOSK_SALT = "stampwise.kiosk"
KIOSK_ROTATION_SECONDS = 30
# A code shown at the end of its 30 s may be scanned just after it changed: one window of grace.
KIOSK_GRACE_WINDOWS = 1
MAX_RECEIPT_BATCH = 5000


def _window(now: datetime) -> int:
    return int(now.timestamp() // KIOSK_ROTATION_SECONDS)


def kiosk_token_issue(*, program: Program, now: datetime | None = None) -> str:
    """The signed, time-bound token the kiosk shows as a QR (changes every 30 seconds)."""
    now = now or timezone.now()
    return signing.dumps(
        {"t": program.tenant_id, "p": program.pk, "w": _window(now)}, salt=KIOSK_SALT
    )


def kiosk_token_read(token: str) -> dict[str, int] | None:
    """The token's payload if the signature is ours (freshness is checked at claim time)."""
    try:
        payload = signing.loads(token, salt=KIOSK_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not {"t", "p", "w"} <= payload.keys():
        return None
    return payload


@transaction.atomic
def kiosk_claim(*, card: Card, token: str, now: datetime | None = None) -> StampOutcome:
    """One stamp from a kiosk QR, subject to the program's rules; each QR stamps a card once."""
    now = now or timezone.now()
    payload = kiosk_token_read(token)
    if payload is None or payload["t"] != card.tenant_id:
        raise StampRefused(_("This is not a valid kiosk code."), "kiosk_invalid", 400)
    if payload["p"] != card.program_id:
        raise StampRefused(_("This kiosk code is for another program."), "kiosk_other_program", 400)
    age = _window(now) - payload["w"]
    if age < 0 or age > KIOSK_GRACE_WINDOWS:
        raise StampRefused(
            _("This kiosk code has expired. Scan the code on the screen now."), "kiosk_expired", 410
        )
    try:
        with transaction.atomic():
            KioskClaim.objects.create(
                tenant_id=card.tenant_id, card=card, nonce=f"{payload['p']}:{payload['w']}"
            )
    except IntegrityError:
        raise StampRefused(
            _("You already collected the stamp from this code."), "kiosk_used", 409
        ) from None
    return card_add_stamps(card=card, count=1, source=StampSource.KIOSK, now=now)


@transaction.atomic
def receipt_batch_create(
    *, program: Program, size: int, stamps_each: int = 1, note: str = "", actor: Any = None
) -> ReceiptBatch:
    if not 1 <= size <= MAX_RECEIPT_BATCH:
        raise StampRefused(
            _("A batch has between 1 and %(max)d codes.") % {"max": MAX_RECEIPT_BATCH},
            "invalid_size",
            400,
        )
    if not 1 <= stamps_each <= 10:
        raise StampRefused(_("Each code gives 1 to 10 stamps."), "invalid_count", 400)
    batch = ReceiptBatch.objects.create(
        tenant_id=program.tenant_id,
        program=program,
        size=size,
        stamps_each=stamps_each,
        note=note,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    codes: set[str] = set()
    while len(codes) < size:
        codes.add(generate_code())
    # 50-bit codes: a clash with an existing one is vanishingly rare, but never allowed.
    taken = set(
        ReceiptCode.objects.filter(tenant_id=program.tenant_id, code__in=codes).values_list(
            "code", flat=True
        )
    )
    codes -= taken
    while len(codes) < size:
        code = generate_code()
        if not ReceiptCode.objects.filter(tenant_id=program.tenant_id, code=code).exists():
            codes.add(code)
    ReceiptCode.objects.bulk_create(
        [ReceiptCode(tenant_id=program.tenant_id, batch=batch, code=code) for code in codes],
        batch_size=1000,
    )
    return batch


@transaction.atomic
def receipt_code_claim(*, card: Card, code: str, now: datetime | None = None) -> StampOutcome:
    """Gives the code's stamps to the first card that claims it; rules apply.

    Locks the code row; raises StampRefused (404 unknown, 409 used, 400 other program).
    """
    receipt = lock_receipt_code(code=normalize_code(code))
    if receipt is None:
        raise StampRefused(
            _("We don't know this code. Check it and try again."), "unknown_code", 404
        )
    if receipt.claimed_at is not None:
        raise StampRefused(_("This receipt code has already been used."), "code_used", 409)
    if receipt.batch.program_id != card.program_id:
        raise StampRefused(_("This code is for another program."), "code_other_program", 400)
    now = now or timezone.now()
    outcome = card_add_stamps(
        card=card, count=receipt.batch.stamps_each, source=StampSource.RECEIPT, now=now
    )
    receipt.claimed_by = card
    receipt.claimed_at = now
    receipt.save(update_fields=["claimed_by", "claimed_at"])
    return outcome
