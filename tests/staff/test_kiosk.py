"""The kiosk tablet: a QR that changes every 30 seconds."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from loyalty.models import StampSource
from loyalty.services import kiosk_claim, program_update
from loyalty.services.channels import KIOSK_ROTATION_SECONDS, kiosk_token_read
from tenants.scoping import tenant_scope
from tests.staff.conftest import make_program, stamp_events

pytestmark = pytest.mark.django_db


def test_the_kiosk_list_shows_active_programs(staff_a, world_a, program_a):
    paused = make_program(world_a, name="Old card")
    with tenant_scope(world_a.tenant):
        program_update(program=paused, data={"is_active": False})
    body = staff_a.get(reverse("staff:kiosk_list")).content.decode()
    assert reverse("staff:kiosk", args=[program_a.pk]) in body
    assert "Old card" not in body


def test_the_kiosk_page_shows_the_qr_the_business_and_the_reward(staff_a, world_a, program_a):
    response = staff_a.get(reverse("staff:kiosk", args=[program_a.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body
    assert world_a.tenant.name in body
    assert "Collect 10 stamps: a free coffee" in body
    assert "Scan with your phone camera to collect a stamp" in body
    assert reverse("staff:kiosk_token", args=[program_a.pk]) in body


def test_the_token_endpoint_returns_a_fresh_kiosk_token(staff_a, world_a, program_a, card_a):
    # When the tablet asks for the current code
    response = staff_a.get(reverse("staff:kiosk_token", args=[program_a.pk]))
    data = response.json()
    # Then it gets the scan URL, its QR as SVG, and how long it is valid
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    prefix = f"{settings.PUBLIC_BASE_URL}/k/"
    assert data["url"].startswith(prefix)
    assert data["svg"].lstrip().startswith("<svg") or "<svg" in data["svg"]
    assert 1 <= data["expires_in"] <= KIOSK_ROTATION_SECONDS
    # And the token is this program's, for the current 30-second window
    token = data["url"][len(prefix) :].rstrip("/")
    payload = kiosk_token_read(token)
    assert payload["p"] == program_a.pk
    assert payload["w"] == int(timezone.now().timestamp() // KIOSK_ROTATION_SECONDS)
    # And a customer can collect a stamp with it
    with tenant_scope(world_a.tenant):
        kiosk_claim(card=card_a, token=token)
    assert [e.source for e in stamp_events(card_a)] == [StampSource.KIOSK]


def test_a_paused_program_has_no_kiosk_code(staff_a, world_a, program_a):
    with tenant_scope(world_a.tenant):
        program_update(program=program_a, data={"is_active": False})
    response = staff_a.get(reverse("staff:kiosk_token", args=[program_a.pk]))
    assert response.status_code == 409
    assert response.json()["code"] == "program_paused"
    page = staff_a.get(reverse("staff:kiosk", args=[program_a.pk])).content.decode()
    assert "This program is paused" in page
