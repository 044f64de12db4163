from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from loyalty.models import StampEvent
from loyalty.services import customer_join, program_create
from tenants.scoping import tenant_scope


def make_program(world: Any, **data: Any):
    fields = {"name": "Coffee card", "stamp_goal": 10, "reward_text": "a free coffee", **data}
    with tenant_scope(world.tenant):
        return program_create(tenant=world.tenant, data=fields)


def make_card(world: Any, program: Any, name: str = "Maya Cohen", **contact: str):
    with tenant_scope(world.tenant):
        card, _ = customer_join(program=program, name=name, **contact)
    return card


def stamp_via_counter(client: Any, card: Any, count: int = 1, nonce: str | None = None):
    return client.post(
        reverse("staff:card_stamp", args=[card.pk]),
        {"count": count, "nonce": nonce or str(uuid.uuid4())},
    )


def stamp_events(card: Any) -> list[StampEvent]:
    with scopes_disabled():
        return list(
            StampEvent.objects.filter(card_id=card.pk)
            .select_related("staff_user", "location")
            .order_by("id")
        )


@pytest.fixture
def program_a(world_a):
    return make_program(world_a, milestones=[{"stamps": 5, "reward": "a cookie"}])


@pytest.fixture
def card_a(world_a, program_a):
    return make_card(world_a, program_a, email="maya@example.test", phone="+49 170 5551234")


@pytest.fixture
def staff_a(world_a):
    return world_a.staff_client
