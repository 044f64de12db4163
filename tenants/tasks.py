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
