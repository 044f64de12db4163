"""Celery base task that re-enters the tenant's scope (as pretix's EventTask)."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.db import transaction

from tenants.models import Tenant
from tenants.scoping import tenant_scope


class TenantTask(Task):
    """A task called with `tenant_id=`; it runs inside that tenant's scope.

    Tasks take ids, load fresh state, and are safe to run twice.
    """

    abstract = True
    # Callers pass tenant_id=, which __call__ turns into tenant=: skip Celery's argument check.
    typing = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tenant_id = kwargs.pop("tenant_id", None)
        if tenant_id is None:
            raise TypeError(f"{self.name} needs tenant_id=")
        tenant = Tenant.objects.get(pk=tenant_id)
        with tenant_scope(tenant):
            return super().__call__(*args, tenant=tenant, **kwargs)


def enqueue_on_commit(task: Task, /, **kwargs: Any) -> None:
    """Enqueue after the surrounding transaction commits (never for a rolled-back change)."""
    transaction.on_commit(lambda: task.apply_async(kwargs=kwargs))


@shared_task(acks_late=True)
def purge_idempotency_keys() -> int:
    from tenants.services import idempotency_purge

    return idempotency_purge()


def fan_out_tenants(*tasks: Task) -> int:
    """Enqueue each task once per tenant (beat jobs); returns how many were enqueued."""
    count = 0
    for tenant_id in Tenant.objects.values_list("pk", flat=True):
        for task in tasks:
            task.apply_async(kwargs={"tenant_id": tenant_id})
            count += 1
    return count


class WebhookFailed(Exception):
    """The receiver did not answer 2xx; Celery retries with backoff."""


@shared_task(
    base=TenantTask,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(WebhookFailed,),
    max_retries=8,
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
)
def deliver_webhook(self: Task, *, tenant: Tenant, delivery_id: int) -> str:
    import time

    import requests
    from django.utils import timezone

    from tenants.models import WebhookDelivery
    from tenants.webhooks import delivery_body, sign

    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return "already delivered"  # a redelivered task: safe to run twice
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Stampwise-Webhooks/1",
        "Stampwise-Event": delivery.event,
        "Stampwise-Delivery": str(delivery.pk),
        "Stampwise-Signature": sign(delivery.endpoint.secret, int(time.time()), body),
    }
    delivery.attempts += 1
    try:
        response = requests.post(delivery.endpoint.url, data=body, headers=headers, timeout=10)
        delivery.last_status_code = response.status_code
        ok = 200 <= response.status_code < 300
        delivery.last_error = "" if ok else response.text[:300]
    except requests.RequestException as error:
        ok = False
        delivery.last_error = str(error)[:300]
    if ok:
        delivery.status, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, timezone.now()
    elif self.request.retries >= (self.max_retries or 0):
        delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(
        update_fields=["attempts", "last_status_code", "last_error", "status", "delivered_at"]
    )
    if not ok and delivery.status != WebhookDelivery.Status.FAILED:
        raise WebhookFailed(delivery.last_error or f"HTTP {delivery.last_status_code}")
    return delivery.status
