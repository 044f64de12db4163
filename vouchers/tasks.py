"""Voucher jobs: event triggers, activation/expiry, reminders, imports and campaigns."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from tenants.tasks import TenantTask, fan_out_tenants
from vouchers import services
from vouchers.models import Campaign, CodeImport


@shared_task(base=TenantTask, acks_late=True)
def refresh_vouchers(*, tenant: Any) -> int:
    return services.vouchers_refresh_due(tenant=tenant)


@shared_task(base=TenantTask, acks_late=True)
def remind_vouchers(*, tenant: Any) -> int:
    return services.vouchers_remind(tenant=tenant)


@shared_task(base=TenantTask, acks_late=True)
def issue_event_vouchers(*, tenant: Any) -> int:
    return services.event_vouchers_issue(tenant=tenant)


@shared_task(acks_late=True)
def voucher_housekeeping() -> int:
    """Beat: per tenant, expire/activate, remind, and run birthday and win-back triggers."""
    return fan_out_tenants(refresh_vouchers, remind_vouchers, issue_event_vouchers)


@shared_task(base=TenantTask, acks_late=True)
def run_code_import(*, tenant: Any, import_id: int) -> int:
    code_import = CodeImport.objects.get(pk=import_id)
    return services.code_import_run(code_import=code_import).imported


@shared_task(base=TenantTask, acks_late=True)
def run_campaign(*, tenant: Any, campaign_id: int) -> int:
    campaign = Campaign.objects.get(pk=campaign_id)
    return services.campaign_run(campaign=campaign).issued
