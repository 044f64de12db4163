"""The whole demo: tenants first, then each domain app's part."""

from __future__ import annotations

from loyalty.demo import seed_loyalty
from tenants.demo import DemoTenant, seed_tenants
from tenants.scoping import tenant_scope


def seed_all() -> list[DemoTenant]:
    demos = seed_tenants()
    for demo in demos:
        with tenant_scope(demo.tenant):
            seed_loyalty(demo)
    return demos
