"""The whole demo: tenants first, then each domain app's part."""

from __future__ import annotations

from tenants.demo import DemoTenant, seed_tenants


def seed_all() -> list[DemoTenant]:
    return seed_tenants()
