"""Writes for Smart Vouchers; import from here."""

from vouchers.services.codes import (
    assign_code,
    code_import_check,
    code_import_confirm,
    code_import_run,
    code_pool_create,
    lookup_variants,
    pool_fill_waiting,
)
from vouchers.services.issuance import voucher_dates, voucher_issue
from vouchers.services.lifecycle import (
    campaign_create,
    campaign_run,
    event_vouchers_issue,
    voucher_lock,
    voucher_refresh,
    voucher_void,
    vouchers_refresh_due,
    vouchers_remind,
)
from vouchers.services.templates import template_create, template_update, trigger_create

__all__ = [
    "assign_code",
    "campaign_create",
    "campaign_run",
    "code_import_check",
    "code_import_confirm",
    "code_import_run",
    "code_pool_create",
    "event_vouchers_issue",
    "lookup_variants",
    "pool_fill_waiting",
    "template_create",
    "template_update",
    "trigger_create",
    "voucher_dates",
    "voucher_issue",
    "voucher_lock",
    "voucher_refresh",
    "voucher_void",
    "vouchers_refresh_due",
    "vouchers_remind",
]
