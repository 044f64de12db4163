"""Entering a tenant's scope: the one way tenant-owned rows become readable.

django-scopes treats `scope(tenant=None)` as "no filter", so every entry point goes through
`tenant_scope()`, which refuses a missing tenant instead of silently opening every tenant's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.utils import timezone
from django_scopes import scope

if TYPE_CHECKING:
    from tenants.models import Tenant


@contextmanager
def tenant_scope(tenant: Tenant) -> Iterator[Tenant]:
    if tenant is None or getattr(tenant, "pk", None) is None:
        raise ValueError("tenant_scope() needs a saved tenant")
    # Times on its pages are the business's local times.
    with scope(tenant=tenant.pk), timezone.override(tenant.timezone):
        yield tenant
