"""Row locks for loyalty, in one place (as Saleor's lock_objects.py)."""

from __future__ import annotations

from loyalty.models import Card, ReceiptCode


def lock_card(card_id: int) -> Card:
    """The card row, locked until the transaction ends (no-op lock on SQLite)."""
    return (
        Card.objects.select_for_update(of=("self",))
        .select_related("program", "customer", "tenant")
        .get(pk=card_id)
    )


def lock_receipt_code(*, code: str) -> ReceiptCode | None:
    return (
        ReceiptCode.objects.select_for_update(of=("self",))
        .select_related("batch", "batch__program")
        .filter(code=code)
        .first()
    )
