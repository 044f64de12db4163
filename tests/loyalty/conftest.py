from __future__ import annotations

import pytest

from loyalty.services import customer_join, program_create
from tenants.scoping import tenant_scope


@pytest.fixture
def program_a(world_a):
    with tenant_scope(world_a.tenant):
        return program_create(
            tenant=world_a.tenant,
            data={
                "name": "Coffee card",
                "stamp_goal": 10,
                "reward_text": "a free coffee",
                "milestones": [{"stamps": 5, "reward": "a cookie"}],
            },
        )


@pytest.fixture
def card_a(world_a, program_a):
    with tenant_scope(world_a.tenant):
        card, _ = customer_join(program=program_a, name="Maya", email="maya@example.test")
    return card


@pytest.fixture
def scope_a(world_a):
    with tenant_scope(world_a.tenant):
        yield world_a.tenant
