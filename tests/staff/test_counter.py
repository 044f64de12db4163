"""Finding a card at the counter: scan (token or card URL), type, search; who may come in."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from tests.staff.conftest import make_card

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "url_name", "args"),
    [
        ("get", "staff:counter", []),
        ("post", "staff:scan", []),
        ("get", "staff:kiosk_list", []),
    ],
)
def test_anonymous_people_are_sent_to_log_in(client, method, url_name, args):
    # Given nobody is logged in, when they open a counter page, then they land on the login
    url = reverse(url_name, args=args)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_anonymous_people_cannot_open_or_stamp_a_card(client, card_a):
    for response in (
        client.get(reverse("staff:card", args=[card_a.pk])),
        client.post(reverse("staff:card_stamp", args=[card_a.pk]), {"count": 1}),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_counter_offers_the_scanner_search_and_todays_stamps(staff_a):
    response = staff_a.get(reverse("staff:counter"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "vendor/qr-scanner/qr-scanner.min.js" in body
    assert 'name="code"' in body
    assert "No stamps from you yet today" in body


def test_a_scanned_card_token_opens_the_card(staff_a, card_a):
    # Given a customer's card, when its QR (the bare token) is scanned at the counter
    response = staff_a.post(reverse("staff:scan"), {"code": card_a.token}, follow=True)
    # Then the staff member sees the card: name, program, stamps of the goal
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("staff:card", args=[card_a.pk])
    assert "Maya Cohen" in body
    assert "Coffee card" in body
    assert "0 of 10" in body
    assert "+1 stamp" in body


def test_a_scanned_card_page_url_opens_the_card(staff_a, card_a):
    url = f"{settings.PUBLIC_BASE_URL}{reverse('card', args=[card_a.token])}"
    response = staff_a.post(reverse("staff:scan"), {"code": f"  {url}  "})
    assert response.status_code == 302
    assert response.url == reverse("staff:card", args=[card_a.pk])


def test_an_unknown_code_is_a_clear_not_found(staff_a, card_a):
    response = staff_a.post(reverse("staff:scan"), {"code": "x" * 27})
    assert response.status_code == 404
    assert "No card matches this code" in response.content.decode()


def test_typed_text_searches_by_name(staff_a, world_a, program_a, card_a):
    make_card(world_a, program_a, name="Jonas Berg", email="jonas@example.test")
    # When the staff member types part of a name
    response = staff_a.post(reverse("staff:scan"), {"code": "maya"}, follow=True)
    body = response.content.decode()
    # Then only the matching customer is listed, linking to the card
    assert "Maya Cohen" in body
    assert "Jonas Berg" not in body
    assert reverse("staff:card", args=[card_a.pk]) in body


@pytest.mark.parametrize("query", ["5551234", "+49 170 5551234", "maya@example"])
def test_search_by_phone_or_email(staff_a, card_a, query):
    response = staff_a.get(reverse("staff:counter"), {"q": query})
    body = response.content.decode()
    assert reverse("staff:card", args=[card_a.pk]) in body
    assert "Maya Cohen" in body


def test_a_search_without_match_says_so(staff_a, card_a):
    response = staff_a.get(reverse("staff:counter"), {"q": "Nobody Here"})
    assert "No customer matches" in response.content.decode()


def test_many_unknown_codes_are_rate_limited(staff_a, card_a):
    for _ in range(30):
        staff_a.post(reverse("staff:scan"), {"code": "y" * 27})
    # Then even a right code waits until the window passes
    response = staff_a.post(reverse("staff:scan"), {"code": card_a.token})
    assert response.status_code == 429
    assert "Too many unknown codes" in response.content.decode()
