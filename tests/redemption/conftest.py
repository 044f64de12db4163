from __future__ import annotations

import pytest

from loyalty.services import customer_join, program_create
from tenants.scoping import tenant_scope
from vouchers.models import VoucherTrigger
from vouchers.services import template_create, trigger_create, voucher_issue


class Issuer:
    """Issues vouchers of a chosen method on tenant A's card, for redemption tests."""

    def __init__(self, world):
        self.world = world
        with tenant_scope(world.tenant):
            self.program = program_create(
                tenant=world.tenant,
                data={"name": "Coffee", "stamp_goal": 10, "reward_text": "a coffee"},
            )
            self.card, _ = customer_join(
                program=self.program, name="Maya Levi", email="m@example.test"
            )
        self.templates = {}
        self.count = 0

    def __call__(self, method="redeem_code", **template_data):
        with tenant_scope(self.world.tenant):
            key = (method, tuple(sorted(template_data.items())))
            if key not in self.templates:
                template = template_create(
                    tenant=self.world.tenant,
                    data={
                        "reward_title": f"Free coffee ({method})",
                        "method": method,
                        **template_data,
                    },
                )
                trigger = trigger_create(
                    template=template,
                    program=self.program,
                    kind=VoucherTrigger.Kind.VISIT,
                    threshold=999,
                )
                self.templates[key] = (template, trigger)
            template, trigger = self.templates[key]
            self.count += 1
            return voucher_issue(
                template=template, card=self.card, trigger=trigger, issuance_key=f"t{self.count}"
            )


@pytest.fixture
def issue(world_a):
    return Issuer(world_a)
