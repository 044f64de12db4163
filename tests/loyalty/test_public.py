"""The customer's side: joining from the QR link, the live card page, kiosk and receipts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from loyalty.models import Card, Customer, StampEvent, StampSource
from loyalty.services import (
    card_add_stamps,
    kiosk_token_issue,
    program_update,
    receipt_batch_create,
)
from tenants.codes import format_code
from tenants.scoping import tenant_scope

pytestmark = pytest.mark.django_db


def join(client, program, **data):
    return client.post(f"/join/{program.join_token}/", {"name": "Noa", **data})


def card_count(world):
    with tenant_scope(world.tenant):
        return Card.objects.count()


def test_join_page_shows_the_business_and_the_offer(client, program_a):
    page = client.get(f"/join/{program_a.join_token}/").content.decode()
    assert "Alpha" in page
    assert "Collect 10 stamps, get a free coffee." in page
    assert 'name="marketing_consent"' in page
    assert "checked" not in page.split('name="marketing_consent"')[1].split(">")[0]


def test_joining_creates_customer_and_card_and_lands_on_the_card(client, world_a, program_a):
    response = join(client, program_a, email="noa@example.test", phone="+49 170 1234567")
    assert response.status_code == 302
    with tenant_scope(world_a.tenant):
        card = Card.objects.get()
        assert card.customer.phone == "+491701234567"
        assert not card.customer.marketing_consent
    assert response["Location"] == f"/card/{card.token}/"
    assert len(card.token) >= 22  # >= 128 bits, URL-safe
    page = client.get(response["Location"]).content.decode()
    assert "Hi Noa!" in page
    assert "10 more stamps for a free coffee" in page


def test_joining_twice_with_the_same_email_returns_the_same_card(client, world_a, program_a):
    first = join(client, program_a, email="noa@example.test")
    second = join(Client(), program_a, email="NOA@example.test")
    assert first["Location"] == second["Location"]
    assert card_count(world_a) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "noa@@example"}, "Enter a valid email address."),
        ({"phone": "call me"}, "That phone number does not look right."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_bad_join_input_gets_a_message_and_creates_nothing(
    client, world_a, program_a, data, message
):
    response = join(client, program_a, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert card_count(world_a) == 0


def test_unknown_and_paused_programs(client, world_a, program_a):
    assert client.get("/join/not-a-real-token/").status_code == 404
    with tenant_scope(world_a.tenant):
        program_update(program=program_a, data={"is_active": False})
    response = join(client, program_a)
    assert response.status_code == 410
    assert "paused" in response.content.decode()
    assert card_count(world_a) == 0


def test_join_flood_is_rate_limited_per_ip(client, world_a, program_a, settings):
    from loyalty import public_views
    from tenants import ratelimit

    limit = public_views.JOIN_LIMIT
    public_views.JOIN_LIMIT = ratelimit.Limit("join-ip", 3, 3600)
    try:
        for i in range(3):
            assert join(client, program_a, email=f"p{i}@example.test").status_code == 302
        response = join(client, program_a, email="p9@example.test")
        assert response.status_code == 429
        assert "Too many sign-ups" in response.content.decode()
    finally:
        public_views.JOIN_LIMIT = limit
    assert card_count(world_a) == 3


def test_card_page_state_endpoint_reports_changes_only(client, world_a, card_a):
    page = client.get(f"/card/{card_a.token}/").content.decode()
    assert f'data-version="{card_a.version}"' in page
    unchanged = client.get(f"/card/{card_a.token}/state/?v={card_a.version}")
    assert unchanged.status_code == 204
    with tenant_scope(world_a.tenant):
        card_add_stamps(card=card_a, count=3, source=StampSource.STAFF)
    changed = client.get(f"/card/{card_a.token}/state/?v={card_a.version}")
    assert changed.status_code == 200
    html = changed.content.decode()
    assert html.count("stamp filled") == 3
    assert "7 more stamps for a free coffee" in html


def test_unknown_card_token_is_404(client):
    assert client.get("/card/nope/").status_code == 404
    assert client.get("/card/nope/state/").status_code == 404


def test_card_qr_is_an_svg_of_the_token(client, card_a):
    response = client.get(f"/card/{card_a.token}/qr.svg")
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content


def test_receipt_code_gives_its_stamps_once(client, world_a, program_a, card_a):
    with tenant_scope(world_a.tenant):
        batch = receipt_batch_create(program=program_a, size=3, stamps_each=2)
        code = batch.codes.first().code
    url = f"/card/{card_a.token}/claim/"
    response = client.post(url, {"code": format_code(code).lower()}, follow=True)
    assert "2 stamps added" in response.content.decode()
    response = client.post(url, {"code": code}, follow=True)
    assert "already been used" in response.content.decode()
    response = client.post(url, {"code": "ZZZZZ-ZZZZZ"}, follow=True)
    assert "We don&#x27;t know this code" in response.content.decode()
    with tenant_scope(world_a.tenant):
        card_a.refresh_from_db()
        assert card_a.stamps == 2
        assert StampEvent.objects.filter(card=card_a, source=StampSource.RECEIPT).count() == 1


def test_scanned_receipt_without_a_card_leads_to_join_and_claims_after(client, world_a, program_a):
    with tenant_scope(world_a.tenant):
        code = receipt_batch_create(program=program_a, size=1).codes.get().code
    response = client.get(f"/r/{code}/")
    assert response.status_code == 302
    assert response["Location"] == f"/join/{program_a.join_token}/?r={code}"
    page = client.post(response["Location"], {"name": "Ori", "receipt": code}, follow=True)
    assert "1 stamp added" in page.content.decode()
    # The next receipt scanned on this phone goes straight to this card.
    with tenant_scope(world_a.tenant):
        code2 = receipt_batch_create(program=program_a, size=1).codes.get().code
    page = client.get(f"/r/{code2}/", follow=True).content.decode()
    assert "1 stamp added" in page
    with tenant_scope(world_a.tenant):
        assert Card.objects.get().stamps == 2


def test_kiosk_qr_stamps_the_remembered_card_once(client, world_a, program_a, card_a):
    client.get(f"/card/{card_a.token}/")  # the phone has opened its card before
    with tenant_scope(world_a.tenant):
        token = kiosk_token_issue(program=program_a)
    page = client.get(f"/k/{token}/", follow=True).content.decode()
    assert "1 stamp added" in page
    page = client.get(f"/k/{token}/", follow=True).content.decode()
    assert "already collected" in page
    with tenant_scope(world_a.tenant):
        card_a.refresh_from_db()
        assert card_a.stamps == 1


def test_expired_or_forged_kiosk_token_changes_nothing(client, world_a, program_a, card_a):
    client.get(f"/card/{card_a.token}/")
    with tenant_scope(world_a.tenant):
        old = kiosk_token_issue(program=program_a, now=timezone.now() - timedelta(minutes=2))
    page = client.get(f"/k/{old}/", follow=True).content.decode()
    assert "expired" in page
    assert client.get(f"/k/{old[:-3]}abc/").status_code == 400
    with tenant_scope(world_a.tenant):
        card_a.refresh_from_db()
        assert card_a.stamps == 0


def test_kiosk_without_a_card_on_the_phone_explains_what_to_do(client, world_a, program_a):
    with tenant_scope(world_a.tenant):
        token = kiosk_token_issue(program=program_a)
    response = client.get(f"/k/{token}/")
    assert response.status_code == 404
    assert "Open your stamp card on this phone first" in response.content.decode()


def test_another_tenants_kiosk_token_does_not_stamp(client, world_a, world_b, card_a):
    from loyalty.services import program_create

    with tenant_scope(world_b.tenant):
        program_b = program_create(tenant=world_b.tenant, data={"name": "B", "reward_text": "x"})
        token = kiosk_token_issue(program=program_b)
    response = client.post(f"/card/{card_a.token}/claim/", {"kiosk": token}, follow=True)
    assert "not a valid kiosk code" in response.content.decode()
    with tenant_scope(world_a.tenant):
        assert Customer.objects.count() == 1
        card_a.refresh_from_db()
        assert card_a.stamps == 0
