from __future__ import annotations

import pytest

from loyalty.services import customer_join, program_create
from tenants.scoping import tenant_scope
from vouchers.models import RedemptionMethod, VoucherTemplate, VoucherTrigger
from vouchers.services import code_pool_create, template_create, trigger_create


@pytest.fixture
def scope_a(world_a):
    with tenant_scope(world_a.tenant):
        yield world_a.tenant


@pytest.fixture
def program(scope_a):
    return program_create(
        tenant=scope_a, data={"name": "Coffee", "stamp_goal": 10, "reward_text": "a free coffee"}
    )


@pytest.fixture
def card(program):
    card, _ = customer_join(program=program, name="Maya", email="maya@example.test")
    return card


def make_template(tenant, **data):
    defaults = {
        "reward_title": "Free coffee",
        "method": RedemptionMethod.REDEEM_CODE,
        "validity": VoucherTemplate.Validity.DAYS,
        "validity_value": 30,
    }
    return template_create(tenant=tenant, data={**defaults, **data})


@pytest.fixture
def code_template(scope_a, program):
    template = make_template(scope_a, show_barcode=True)
    trigger_create(template=template, program=program, kind=VoucherTrigger.Kind.STAMP_GOAL)
    return template


@pytest.fixture
def pool(scope_a):
    return code_pool_create(tenant=scope_a, name="Till codes", low_threshold=5)
