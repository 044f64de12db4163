"""The whole demo: tenants first, then each domain app's part."""

from __future__ import annotations

from loyalty.demo import seed_loyalty, seed_program
from tenants.demo import DemoTenant, seed_tenants
from tenants.scoping import tenant_scope
from vouchers.demo import seed_rewards, seed_voucher_states


def seed_all() -> list[DemoTenant]:
    demos = seed_tenants()
    for demo in demos:
        with tenant_scope(demo.tenant):
            program = seed_program(demo)
            triggers = seed_rewards(demo, program)
            seed_loyalty(demo, program)
            seed_voucher_states(demo, program, triggers)
    return demos
