"""Adding stamps at the counter: what the staff member sees and what the ledger holds."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from loyalty import hooks
from loyalty.models import StampSource
from loyalty.services import card_add_stamps, program_update
from tenants.scoping import tenant_scope
from tests.staff.conftest import make_card, make_program, stamp_events, stamp_via_counter

pytestmark = pytest.mark.django_db


def card_state(card):
    with scopes_disabled():
        card.refresh_from_db()
    return card.cycle, card.stamps


def test_one_tap_adds_one_stamp_attributed_to_the_person_and_location(staff_a, world_a, card_a):
    # When the staff member taps "+1 stamp"
    response = stamp_via_counter(staff_a, card_a, 1)
    # Then they are sent to the result screen, which shows the new count
    assert response.status_code == 302
    result = staff_a.get(response.url).content.decode()
    assert "+1 stamp" in result
    assert "Now 1 of 10" in result
    assert "Next customer" in result
    # And the ledger has one staff stamp with who and where
    [event] = stamp_events(card_a)
    assert (event.count, event.source) == (1, StampSource.STAFF)
    assert event.staff_user == world_a.staff
    assert event.location == world_a.location
    assert card_state(card_a) == (1, 1)


def test_add_n_stamps_at_once(staff_a, card_a):
    response = stamp_via_counter(staff_a, card_a, 3)
    body = staff_a.get(response.url).content.decode()
    assert "+3 stamps" in body
    assert "Now 3 of 10" in body
    assert [e.count for e in stamp_events(card_a)] == [3]


def test_reaching_a_milestone_shows_it(staff_a, card_a):
    stamp_via_counter(staff_a, card_a, 4)
    response = stamp_via_counter(staff_a, card_a, 1)
    body = staff_a.get(response.url).content.decode()
    assert "Reached 5 stamps: a cookie" in body


def test_completing_the_card_shows_the_reward(staff_a, world_a, card_a):
    # Given a card with 8 of 10 stamps
    with tenant_scope(world_a.tenant):
        card_add_stamps(card=card_a, count=8, source=StampSource.API)
    # When the staff member adds 3
    response = stamp_via_counter(staff_a, card_a, 3)
    body = staff_a.get(response.url).content.decode()
    # Then the card is complete, the reward is named, and the extra stamp starts card 2
    assert "Card complete: a free coffee!" in body
    assert "Now 1 of 10" in body
    assert card_state(card_a) == (2, 1)


def test_what_the_stamp_unlocked_is_listed(staff_a, card_a, monkeypatch):
    @dataclass
    class Unlocked:
        reward_title: str

        def __str__(self) -> str:
            return "Voucher V-123"

    def issue_voucher(card, event, outcome):
        return [Unlocked("Free croissant")] if card.stamps >= 2 else []

    monkeypatch.setattr(hooks, "stamp_listeners", [*hooks.stamp_listeners, issue_voucher])
    response = stamp_via_counter(staff_a, card_a, 2)
    body = staff_a.get(response.url).content.decode()
    assert "Voucher V-123" in body
    assert "Free croissant" in body


def test_a_cooldown_refusal_shows_the_reason_and_writes_nothing(staff_a, world_a):
    # Given a program with 30 minutes between stamps, and a card stamped a minute ago
    program = make_program(world_a, cooldown_minutes=30)
    card = make_card(world_a, program, email="c@example.test")
    with tenant_scope(world_a.tenant):
        card_add_stamps(
            card=card,
            count=1,
            source=StampSource.STAFF,
            now=timezone.now() - timedelta(minutes=1),
        )
    # When the staff member tries again
    response = stamp_via_counter(staff_a, card, 1)
    # Then they see the refusal with its reason, and nothing was added
    body = response.content.decode()
    assert response.status_code == 409
    assert "No stamp added" in body
    assert re.search(r"This card was stamped a moment ago\. Next stamp in (29|30) minutes\.", body)
    assert "Nothing was changed on this card." in body
    assert len(stamp_events(card)) == 1
    assert card_state(card) == (1, 1)


def test_a_daily_cap_refusal_shows_the_reason_and_writes_nothing(staff_a, world_a):
    program = make_program(world_a, daily_cap=2)
    card = make_card(world_a, program, email="d@example.test")
    assert stamp_via_counter(staff_a, card, 2).status_code == 302
    response = stamp_via_counter(staff_a, card, 1)
    assert response.status_code == 409
    assert "Daily limit reached: at most 2 stamps per day on one card." in response.content.decode()
    assert [e.count for e in stamp_events(card)] == [2]


def test_a_paused_program_refuses(staff_a, world_a, card_a, program_a):
    with tenant_scope(world_a.tenant):
        program_update(program=program_a, data={"is_active": False})
    response = stamp_via_counter(staff_a, card_a, 1)
    assert response.status_code == 409
    assert "This program is paused" in response.content.decode()
    assert stamp_events(card_a) == []


def test_a_double_submitted_form_stamps_once(staff_a, card_a):
    # Given one stamp form (one nonce), when it is submitted twice (a double tap)
    nonce = str(uuid.uuid4())
    first = stamp_via_counter(staff_a, card_a, 2, nonce=nonce)
    second = stamp_via_counter(staff_a, card_a, 2, nonce=nonce)
    # Then the second answer is the first one again, and the card got 2 stamps, not 4
    assert first.status_code == second.status_code == 302
    assert second.url == first.url
    assert "Now 2 of 10" in staff_a.get(second.url).content.decode()
    assert [e.count for e in stamp_events(card_a)] == [2]
    assert card_state(card_a) == (1, 2)


def test_each_shown_form_carries_a_fresh_nonce(staff_a, card_a):
    first = staff_a.get(reverse("staff:card", args=[card_a.pk])).context["nonce"]
    second = staff_a.get(reverse("staff:card", args=[card_a.pk])).context["nonce"]
    assert first != second


def test_a_refused_form_can_be_sent_again_once_allowed(staff_a, world_a):
    program = make_program(world_a, daily_cap=1)
    card = make_card(world_a, program, email="e@example.test")
    nonce = str(uuid.uuid4())
    stamp_via_counter(staff_a, card, 1)
    assert stamp_via_counter(staff_a, card, 1, nonce=nonce).status_code == 409
    with tenant_scope(world_a.tenant):
        program_update(program=program, data={"daily_cap": 5})
    assert stamp_via_counter(staff_a, card, 1, nonce=nonce).status_code == 302
    assert [e.count for e in stamp_events(card)] == [1, 1]


@pytest.mark.parametrize("count", [0, 11, "two"])
def test_an_invalid_count_is_refused(staff_a, card_a, count):
    response = stamp_via_counter(staff_a, card_a, count)
    assert response.status_code == 400
    assert "Choose between 1 and 10 stamps." in response.content.decode()
    assert stamp_events(card_a) == []


def test_a_missing_nonce_is_refused(staff_a, card_a):
    response = staff_a.post(reverse("staff:card_stamp", args=[card_a.pk]), {"count": 1})
    assert response.status_code == 400
    assert stamp_events(card_a) == []


def test_another_persons_result_is_not_shown(world_a, card_a, staff_a):
    response = stamp_via_counter(staff_a, card_a, 1)
    manager = world_a.client_for(world_a.manager)
    body = manager.get(response.url).content.decode()
    assert "Next customer" not in body


def test_todays_stamps_and_the_card_history_show_who_and_where(staff_a, world_a, card_a):
    stamp_via_counter(staff_a, card_a, 2)
    counter = staff_a.get(reverse("staff:counter")).content.decode()
    assert "Maya Cohen" in counter
    assert "+2" in counter
    assert world_a.location.name in counter
    card_page = staff_a.get(reverse("staff:card", args=[card_a.pk])).content.decode()
    assert "2 stamps (Staff)" in card_page
    assert world_a.staff.display_name in card_page
    assert "Joined Coffee card" in card_page


def test_todays_stamps_are_only_mine(world_a, card_a, staff_a):
    manager = world_a.client_for(world_a.manager)
    stamp_via_counter(manager, card_a, 1)
    counter = staff_a.get(reverse("staff:counter")).content.decode()
    assert "No stamps from you yet today" in counter
