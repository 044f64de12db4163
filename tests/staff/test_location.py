"""Which location a stamp is attributed to."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from tenants.models import Membership
from tests.factories import LocationFactory
from tests.staff.conftest import stamp_events, stamp_via_counter

pytestmark = pytest.mark.django_db


@pytest.fixture
def harbour(world_a):
    with scopes_disabled():
        return LocationFactory(tenant=world_a.tenant, name="Harbour kiosk")


def limit_to(world, user, *locations):
    with scopes_disabled():
        Membership.objects.get(tenant=world.tenant, user=user).locations.set(locations)


def test_staff_limited_to_a_location_cannot_choose_another(staff_a, world_a, harbour, card_a):
    # Given a staff member allowed only at the main location
    limit_to(world_a, world_a.staff, world_a.location)
    # Then the counter offers no other place
    counter = staff_a.get(reverse("staff:counter")).content.decode()
    assert "Harbour kiosk" not in counter
    # When they post the other location anyway, they are refused
    response = staff_a.post(reverse("staff:location"), {"location": harbour.pk})
    assert response.status_code == 403
    # And their stamps still count for the main location
    stamp_via_counter(staff_a, card_a, 1)
    assert [e.location for e in stamp_events(card_a)] == [world_a.location]


def test_a_chosen_location_is_remembered(staff_a, world_a, harbour, card_a):
    limit_to(world_a, world_a.staff, world_a.location, harbour)
    counter = staff_a.get(reverse("staff:counter")).content.decode()
    assert "Harbour kiosk" in counter
    # When they choose the harbour
    response = staff_a.post(
        reverse("staff:location"), {"location": harbour.pk, "next": reverse("staff:counter")}
    )
    assert response.status_code == 302
    # Then every following stamp is attributed to it
    stamp_via_counter(staff_a, card_a, 1)
    stamp_via_counter(staff_a, card_a, 1)
    assert [e.location for e in stamp_events(card_a)] == [harbour, harbour]
    assert "Harbour kiosk" in staff_a.get(reverse("staff:card", args=[card_a.pk])).content.decode()


def test_no_location_list_means_every_location(world_a, harbour, card_a):
    owner = world_a.owner_client
    counter = owner.get(reverse("staff:counter")).content.decode()
    assert "Harbour kiosk" in counter
    assert world_a.location.name in counter
    owner.post(reverse("staff:location"), {"location": harbour.pk})
    stamp_via_counter(owner, card_a, 1)
    [event] = stamp_events(card_a)
    assert (event.staff_user, event.location) == (world_a.owner, harbour)


def test_an_offsite_next_url_is_ignored(staff_a, world_a):
    response = staff_a.post(
        reverse("staff:location"),
        {"location": world_a.location.pk, "next": "https://evil.example/"},
    )
    assert response.url == reverse("staff:counter")
