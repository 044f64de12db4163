"""Writes for loyalty. Split by topic; import from here."""

from loyalty.services.channels import (
    kiosk_claim,
    kiosk_token_issue,
    receipt_batch_create,
    receipt_code_claim,
)
from loyalty.services.customers import customer_erase, customer_join
from loyalty.services.programs import (
    program_cards_touch,
    program_create,
    program_set_active,
    program_update,
)
from loyalty.services.stamping import (
    StampOutcome,
    card_add_stamps,
    card_correct_stamps,
    card_journal_add,
    card_touch,
)

__all__ = [
    "StampOutcome",
    "card_add_stamps",
    "card_correct_stamps",
    "card_journal_add",
    "card_touch",
    "customer_erase",
    "customer_join",
    "kiosk_claim",
    "kiosk_token_issue",
    "program_cards_touch",
    "program_create",
    "program_set_active",
    "program_update",
    "receipt_batch_create",
    "receipt_code_claim",
]
