"""The stamp ledger and its projection (invariant 2), and the stamping rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyalty.errors import StampRefused
from loyalty.models import CardEvent, StampEvent, StampSource
from loyalty.selectors import stamp_events_for_card
from loyalty.services import card_add_stamps, card_correct_stamps, program_update

pytestmark = pytest.mark.django_db


def ledger_total(card) -> int:
    return sum(e.count for e in stamp_events_for_card(card=card))


def test_stamps_past_the_goal_carry_into_the_next_cycle(scope_a, card_a, world_a):
    # Given a 10-stamp card with 8 stamps
    card_add_stamps(card=card_a, count=8, source=StampSource.STAFF, actor=world_a.staff)
    # When 5 more arrive at once
    outcome = card_add_stamps(card=card_a, count=5, source=StampSource.STAFF, actor=world_a.staff)
    # Then the card is in cycle 2 with 3 stamps, and the journal says the card was completed
    card_a.refresh_from_db()
    assert (card_a.cycle, card_a.stamps, card_a.total_stamps) == (2, 3, 13)
    assert outcome.cycles_completed == 1
    assert ledger_total(card_a) == card_a.total_stamps
    kinds = list(CardEvent.objects.filter(card=card_a).values_list("kind", flat=True))
    assert kinds.count(CardEvent.Kind.CYCLE_COMPLETED) == 1
    assert kinds.count(CardEvent.Kind.MILESTONE) == 1  # the cookie at 5


def test_many_stamps_complete_several_cycles(scope_a, card_a):
    outcome = card_add_stamps(card=card_a, count=25, source=StampSource.API)
    card_a.refresh_from_db()
    assert (card_a.cycle, card_a.stamps) == (3, 5)
    assert outcome.cycles_completed == 2
    assert [m["cycle"] for m in outcome.milestones] == [1, 2, 3]


def test_event_records_who_where_and_the_projection(scope_a, card_a, world_a):
    card_add_stamps(
        card=card_a,
        count=2,
        source=StampSource.STAFF,
        actor=world_a.staff,
        location=world_a.location,
    )
    event = StampEvent.objects.get(card=card_a)
    assert event.staff_user == world_a.staff
    assert event.location == world_a.location
    assert (event.stamps_before, event.stamps_after, event.cycle_after) == (0, 2, 1)


def test_a_visit_counts_once_per_local_day(scope_a, card_a):
    # Berlin is UTC+1 in winter: 22:30 and 23:30 UTC are one UTC day but two Berlin days.
    day = datetime(2026, 1, 10, 22, 30, tzinfo=UTC)
    card_add_stamps(card=card_a, count=1, source=StampSource.STAFF, now=day - timedelta(hours=10))
    card_add_stamps(card=card_a, count=1, source=StampSource.STAFF, now=day)
    card_a.refresh_from_db()
    assert card_a.visits == 1
    card_add_stamps(card=card_a, count=1, source=StampSource.STAFF, now=day + timedelta(hours=1))
    card_a.refresh_from_db()
    assert card_a.visits == 2  # 23:30 in Berlin, a new day there


@pytest.mark.parametrize(
    ("rules", "first", "second", "code"),
    [
        ({"cooldown_minutes": 30}, 1, 1, "cooldown"),
        ({"daily_cap": 3}, 3, 1, "daily_cap"),
        ({"max_stamps_per_visit": 2}, 1, 2, "visit_limit"),
    ],
)
def test_rules_refuse_with_a_message_and_change_nothing(
    scope_a, card_a, program_a, rules, first, second, code
):
    program_update(program=program_a, data=rules)
    card_add_stamps(card=card_a, count=first, source=StampSource.STAFF)
    with pytest.raises(StampRefused) as refused:
        card_add_stamps(card=card_a, count=second, source=StampSource.KIOSK)
    assert refused.value.code == code
    assert refused.value.message
    card_a.refresh_from_db()
    assert card_a.stamps == first
    assert StampEvent.objects.filter(card=card_a).count() == 1


def test_cooldown_passes_with_time_and_daily_cap_resets_next_local_day(scope_a, card_a, program_a):
    program_update(program=program_a, data={"cooldown_minutes": 30, "daily_cap": 1})
    morning = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    card_add_stamps(card=card_a, count=1, source=StampSource.STAFF, now=morning)
    with pytest.raises(StampRefused):
        card_add_stamps(
            card=card_a, count=1, source=StampSource.STAFF, now=morning + timedelta(hours=2)
        )
    card_add_stamps(card=card_a, count=1, source=StampSource.STAFF, now=morning + timedelta(days=1))
    card_a.refresh_from_db()
    assert card_a.stamps == 2


def test_paused_program_takes_no_stamps(scope_a, card_a, program_a):
    program_update(program=program_a, data={"is_active": False})
    with pytest.raises(StampRefused, match="paused"):
        card_add_stamps(card=card_a, count=1, source=StampSource.STAFF)


def test_corrections_are_new_events_with_a_reason(scope_a, card_a, world_a):
    card_add_stamps(card=card_a, count=4, source=StampSource.STAFF)
    with pytest.raises(StampRefused, match="why"):
        card_correct_stamps(card=card_a, delta=-1, reason=" ", actor=world_a.manager)
    with pytest.raises(StampRefused):
        card_correct_stamps(card=card_a, delta=-5, reason="typo", actor=world_a.manager)
    card_correct_stamps(card=card_a, delta=-2, reason="stamped twice", actor=world_a.manager)
    card_a.refresh_from_db()
    assert card_a.stamps == 2
    assert list(stamp_events_for_card(card=card_a).values_list("count", flat=True)) == [4, -2]
    assert ledger_total(card_a) == card_a.total_stamps


@pytest.mark.parametrize("count", [0, -1, 51])
def test_invalid_counts_are_refused(scope_a, card_a, count):
    with pytest.raises(StampRefused):
        card_add_stamps(card=card_a, count=count, source=StampSource.STAFF)
    assert not StampEvent.objects.filter(card=card_a).exists()


def test_the_journal_is_shown_in_the_readers_language(scope_a, card_a, world_a):
    from django.utils import translation

    card_add_stamps(card=card_a, count=2, source=StampSource.STAFF, actor=world_a.staff)
    event = CardEvent.objects.filter(card=card_a, kind=CardEvent.Kind.STAMPED).get()
    assert event.message == "2 stamps (Staff)"  # stored in English for exports
    with translation.override("he"):
        assert event.text != event.message
        assert "2" in event.text
    with translation.override("en"):
        assert event.text == "2 stamps (Staff)"
