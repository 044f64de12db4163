"""Tenant A's counter never finds, shows or stamps tenant B's cards (invariant 1)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from tests.isolation import snapshot_tenant
from tests.staff.conftest import make_card, make_program, stamp_events, stamp_via_counter

pytestmark = pytest.mark.django_db


@pytest.fixture
def card_b(world_b):
    program = make_program(world_b, name="Bravo card")
    return make_card(world_b, program, name="Bruno Bravo", phone="+15550009999")


@pytest.mark.parametrize("as_url", [False, True])
def test_scanning_another_businesss_card_is_not_found(world_a, world_b, card_b, as_url):
    # Given tenant B's card, when A's staff scans its QR at A's counter
    before = snapshot_tenant(world_b.tenant.pk)
    code = card_b.token
    if as_url:
        code = f"{settings.PUBLIC_BASE_URL}{reverse('card', args=[card_b.token])}"
    response = world_a.staff_client.post(reverse("staff:scan"), {"code": code})
    # Then the answer is "not found", nothing of B is shown, and B's rows are unchanged
    body = response.content.decode()
    assert response.status_code == 404
    assert "Bruno Bravo" not in body
    assert snapshot_tenant(world_b.tenant.pk) == before


def test_searching_does_not_find_another_businesss_customers(world_a, card_b):
    for query in ("Bruno", "5550009999", card_b.serial_number):
        body = world_a.staff_client.get(reverse("staff:counter"), {"q": query}).content.decode()
        assert "Bruno Bravo" not in body
        assert "No customer matches" in body


def test_another_businesss_card_cannot_be_opened_or_stamped(world_a, world_b, card_b):
    client = world_a.staff_client
    assert client.get(reverse("staff:card", args=[card_b.pk])).status_code == 404
    assert stamp_via_counter(client, card_b, 1).status_code == 404
    assert stamp_events(card_b) == []


def test_another_businesss_location_cannot_be_chosen(world_a, world_b):
    response = world_a.staff_client.post(
        reverse("staff:location"), {"location": world_b.location.pk}
    )
    assert response.status_code == 404


def test_the_harness_exercises_every_staff_route_with_b_s_objects(world_a, world_b):
    # Given B's objects as the harness builds them, when A's staff member tries each staff
    # route on them, then every object route answers 404/403 and nothing shows B's data.
    from tests import isolation
    from tests.isolation_routes.staff import ROUTES

    objects = isolation.build_objects(world_b)
    objects["tenant_b_id"] = world_b.tenant.pk
    session = world_a.client_for(world_a.staff)
    problems = []
    for name, route in ROUTES.items():
        problems += isolation.exercise(
            name, route, session=session, api=world_a.api, objects=objects
        )
    assert problems == []
    assert ROUTES["staff:scan"].post_data["code"] == objects["staff_card"].token
