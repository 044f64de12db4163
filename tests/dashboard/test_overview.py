"""The dashboard overview: headline numbers, programs, and the get-started panel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.dashboard.conftest import join, make_program, stamp

pytestmark = pytest.mark.django_db


def test_a_new_business_sees_how_to_get_started(world_a, manager_client):
    body = manager_client.get(reverse("dashboard:index")).content.decode()
    assert "Get started in three steps" in body
    assert reverse("dashboard:program_create") in body
    # The sidebar leads to the new sections
    for name in ["dashboard:programs", "dashboard:customers", "dashboard:receipt_batches"]:
        assert f'href="{reverse(name)}"' in body


def test_overview_shows_numbers_and_programs(world_a, manager_client):
    program = make_program(world_a, name="Coffee", stamp_goal=3)
    card = join(program, "Ann", "ann@example.test")
    stamp(world_a, card, 3)  # completes the card
    join(program, "Ben", "ben@example.test")
    response = manager_client.get(reverse("dashboard:index"))
    body = response.content.decode()
    assert "Get started" not in body
    assert response.context["stats"] == {
        "customers": 2,
        "cards": 2,
        "stamps": 3,
        "visits": 1,
        "completed": 1,
    }
    assert "Coffee" in body
    assert reverse("dashboard:program_share", args=[program.pk]) in body
    assert "2 cards" in body


def test_staff_cannot_open_the_overview(world_a):
    assert world_a.staff_client.get(reverse("dashboard:index")).status_code == 403
