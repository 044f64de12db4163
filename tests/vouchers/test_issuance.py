"""Invariant 3: a voucher is issued with the stamp that reached its trigger, exactly once."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.models import Card, CardEvent, StampSource
from loyalty.services import card_add_stamps, customer_join, program_create
from tenants.codes import ALPHABET
from tenants.scoping import tenant_scope
from tests.vouchers.conftest import make_template
from vouchers.models import RedemptionMethod, Voucher
from vouchers.services import (
    campaign_create,
    event_vouchers_issue,
    trigger_create,
    voucher_void,
)

pytestmark = pytest.mark.django_db


def vouchers_of(card, trigger=None):
    qs = Voucher.objects.filter(card=card)
    return qs.filter(trigger=trigger) if trigger else qs


def test_reaching_the_goal_issues_one_voucher_with_a_generated_code(card, code_template):
    outcome = card_add_stamps(card=card, count=9, source=StampSource.STAFF)
    assert outcome.unlocked == []
    outcome = card_add_stamps(card=card, count=1, source=StampSource.STAFF)
    assert len(outcome.unlocked) == 1
    voucher = vouchers_of(card).get()
    assert voucher.state == Voucher.State.ACTIVE
    assert voucher.issuance_key == "cycle:1"
    assert len(voucher.code) == 10
    assert set(voucher.code) <= set(ALPHABET)
    assert voucher.code_display == f"{voucher.code[:5]}-{voucher.code[5:]}"
    assert CardEvent.objects.filter(card=card, kind=CardEvent.Kind.VOUCHER_ISSUED).count() == 1


def test_many_stamps_at_once_issue_one_voucher_per_completed_cycle(card, code_template):
    outcome = card_add_stamps(card=card, count=25, source=StampSource.API)
    assert len(outcome.unlocked) == 2
    assert sorted(vouchers_of(card).values_list("issuance_key", flat=True)) == [
        "cycle:1",
        "cycle:2",
    ]


def test_milestone_and_visit_triggers(scope_a, program, card):
    cookie = make_template(scope_a, reward_title="Cookie", method=RedemptionMethod.STAFF_SCAN)
    milestone = trigger_create(template=cookie, program=program, kind="milestone", threshold=5)
    tenth = make_template(scope_a, reward_title="Visit gift", method=RedemptionMethod.SELF)
    visit = trigger_create(template=tenth, program=program, kind="visit", threshold=2)
    day = datetime(2026, 5, 1, 10, tzinfo=UTC)
    card_add_stamps(card=card, count=6, source=StampSource.STAFF, now=day)
    assert vouchers_of(card, milestone).count() == 1
    assert vouchers_of(card, visit).count() == 0
    card_add_stamps(card=card, count=1, source=StampSource.STAFF, now=day + timedelta(days=1))
    card_add_stamps(card=card, count=1, source=StampSource.STAFF, now=day + timedelta(days=2))
    assert vouchers_of(card, visit).count() == 1  # the 2nd visit, once
    card_add_stamps(card=card, count=7, source=StampSource.STAFF, now=day + timedelta(days=3))
    assert vouchers_of(card, milestone).count() == 2  # the 5th stamp of cycle 2


def test_welcome_voucher_on_joining(scope_a, program):
    welcome = make_template(scope_a, reward_title="Welcome drink", method=RedemptionMethod.SELF)
    trigger_create(template=welcome, program=program, kind="welcome")
    card, _ = customer_join(program=program, name="Ada", email="ada@example.test")
    customer_join(program=program, name="Ada", email="ada@example.test")  # joins again
    assert vouchers_of(card).get().reward_title == "Welcome drink"


def test_activation_delay_and_validity(scope_a, program, card):
    template = make_template(scope_a, activation_delay_days=1, validity="months", validity_value=1)
    trigger_create(template=template, program=program, kind="stamp_goal")
    noon = datetime(2026, 1, 31, 11, 0, tzinfo=UTC)  # 12:00 in Berlin
    card_add_stamps(card=card, count=10, source=StampSource.STAFF, now=noon)
    voucher = vouchers_of(card).get()
    assert voucher.state == Voucher.State.ISSUED
    berlin_midnight = datetime(2026, 1, 31, 23, 0, tzinfo=UTC)  # Feb 1, 00:00 Berlin
    assert voucher.active_from == berlin_midnight
    assert voucher.expires_at == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)  # Mar 1 00:00 Berlin


def test_birthday_and_winback_events_issue_once(scope_a, program, card):
    bday = make_template(scope_a, reward_title="Birthday cake", method=RedemptionMethod.STAFF_SCAN)
    trigger_create(template=bday, program=program, kind="birthday")
    back = make_template(scope_a, reward_title="We miss you", method=RedemptionMethod.STAFF_SCAN)
    trigger_create(template=back, program=program, kind="winback", threshold=30)
    customer = card.customer
    customer.birthday = date(1990, 6, 17)
    customer.save()
    Card.objects.filter(pk=card.pk).update(last_visit_date=date(2026, 5, 1), visits=3)
    june = datetime(2026, 6, 16, 9, tzinfo=UTC)  # same ISO week as June 17
    assert event_vouchers_issue(tenant=scope_a, now=june) == 2
    assert event_vouchers_issue(tenant=scope_a, now=june + timedelta(days=1)) == 0
    assert sorted(vouchers_of(card).values_list("issuance_key", flat=True)) == [
        "birthday:2026",
        "winback:2026-05-01",
    ]


def test_broadcast_campaign_reaches_the_segment_once(scope_a, program, world_a):
    template = make_template(
        scope_a, reward_title="Summer treat", method=RedemptionMethod.STAFF_SCAN
    )
    cards = [customer_join(program=program, name=f"C{i}")[0] for i in range(5)]
    for c in cards[:3]:
        card_add_stamps(card=c, count=2, source=StampSource.STAFF)
    campaign = campaign_create(
        tenant=scope_a,
        name="Summer",
        template=template,
        program=program,
        segment={"min_stamps": 2},
        actor=world_a.owner,
    )
    from vouchers.services import campaign_run

    campaign_run(campaign=campaign)  # eager Celery ran it already; running again changes nothing
    campaign.refresh_from_db()
    assert (campaign.status, campaign.total, campaign.processed, campaign.issued) == (
        "done",
        3,
        3,
        3,
    )
    assert Voucher.objects.filter(trigger=campaign.trigger).count() == 3


def test_void_needs_a_reason_and_keeps_the_voucher_used_up(card, code_template, world_a):
    card_add_stamps(card=card, count=10, source=StampSource.STAFF)
    voucher = vouchers_of(card).get()
    from vouchers.errors import VoucherError

    with pytest.raises(VoucherError):
        voucher_void(voucher=voucher, reason="", actor=world_a.manager)
    voucher_void(voucher=voucher, reason="Given by mistake", actor=world_a.manager)
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.VOID
    assert CardEvent.objects.filter(card=card, kind=CardEvent.Kind.VOUCHER_VOIDED).exists()
    with pytest.raises(VoucherError):
        voucher_void(voucher=voucher, reason="again", actor=world_a.manager)


def test_until_date_in_the_past_issues_nothing(scope_a, program, card):
    template = make_template(scope_a, validity="until_date", valid_until=date(2020, 1, 1))
    trigger_create(template=template, program=program, kind="stamp_goal")
    card_add_stamps(card=card, count=10, source=StampSource.STAFF)
    assert not vouchers_of(card).exists()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("stamp"), st.integers(1, 12)), st.tuples(st.just("void"), st.just(0))
        ),
        max_size=25,
    )
)
def test_property_vouchers_equal_completed_cycles(scope_a, world_a, steps):
    # For any sequence of stamps and voids, each trigger has exactly one voucher per completed
    # cycle (voiding never lets a cycle issue again), and the ledger matches the card.
    program = program_create(
        tenant=scope_a,
        data={"name": f"P{uuid.uuid4().hex[:6]}", "stamp_goal": 4, "reward_text": "x"},
    )
    goal_t = make_template(scope_a, reward_title="Goal")
    mid_t = make_template(scope_a, reward_title="Mid", method=RedemptionMethod.STAFF_SCAN)
    goal = trigger_create(template=goal_t, program=program, kind="stamp_goal")
    mid = trigger_create(template=mid_t, program=program, kind="milestone", threshold=2)
    card, _ = customer_join(program=program, name="P")
    for action, count in steps:
        if action == "stamp":
            card_add_stamps(card=card, count=count, source=StampSource.API)
        else:
            live = Voucher.objects.filter(card=card, state=Voucher.State.ACTIVE).first()
            if live:
                voucher_void(voucher=live, reason="test", actor=world_a.manager)
    card.refresh_from_db()
    completed = card.cycle - 1
    assert vouchers_of(card, goal).count() == completed
    reached_mid = completed + (1 if card.stamps >= 2 else 0)
    assert vouchers_of(card, mid).count() == reached_mid


def _concurrently(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_stamping_issues_exactly_one_voucher_per_cycle(live_server, world_a):
    with tenant_scope(world_a.tenant):
        program = program_create(
            tenant=world_a.tenant, data={"name": "C", "stamp_goal": 5, "reward_text": "x"}
        )
        template = make_template(world_a.tenant)
        trigger_create(template=template, program=program, kind="stamp_goal")
        card, _ = customer_join(program=program, name="Race")
    url = f"{live_server.url}/api/v1/cards/{card.pk}/stamps"
    headers = {"Authorization": f"Bearer {world_a.api_key}"}
    responses = _concurrently(
        20,
        lambda i: requests.post(
            url, json={"count": 1}, timeout=60, headers={**headers, "Idempotency-Key": f"k{i}"}
        ),
    )
    assert [r.status_code for r in responses] == [201] * 20
    issued = [v for r in responses for v in r.json()["vouchers_issued"]]
    assert len(issued) == 4
    with tenant_scope(world_a.tenant):
        keys = sorted(Voucher.objects.filter(card=card).values_list("issuance_key", flat=True))
        codes = set(Voucher.objects.filter(card=card).values_list("code", flat=True))
    assert keys == ["cycle:1", "cycle:2", "cycle:3", "cycle:4"]
    assert len(codes) == 4


def test_reminder_before_expiry_is_sent_once(
    scope_a, program, card, django_capture_on_commit_callbacks
):
    from django.core import mail

    from vouchers.services import vouchers_remind

    template = make_template(scope_a, validity="days", validity_value=7, reminder_days=3)
    trigger_create(template=template, program=program, kind="stamp_goal")
    start = datetime(2026, 4, 1, 9, tzinfo=UTC)
    card_add_stamps(card=card, count=10, source=StampSource.STAFF, now=start)
    assert vouchers_remind(tenant=scope_a, now=start + timedelta(days=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert vouchers_remind(tenant=scope_a, now=start + timedelta(days=5)) == 1
    assert vouchers_remind(tenant=scope_a, now=start + timedelta(days=6)) == 0
    assert len(mail.outbox) == 1
    assert "expires soon" in mail.outbox[0].subject
    assert "/voucher/" in mail.outbox[0].body


def test_the_beat_job_activates_and_expires_on_time(scope_a, program, card):
    from vouchers.services import vouchers_refresh_due

    template = make_template(scope_a, validity="days", validity_value=2, activation_delay_days=1)
    trigger_create(template=template, program=program, kind="stamp_goal")
    start = datetime(2026, 4, 1, 9, tzinfo=UTC)
    card_add_stamps(card=card, count=10, source=StampSource.STAFF, now=start)
    voucher = Voucher.objects.get(card=card)
    vouchers_refresh_due(tenant=scope_a, now=start + timedelta(hours=20))
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ACTIVE
    vouchers_refresh_due(tenant=scope_a, now=start + timedelta(days=4))
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.EXPIRED
    kinds = list(CardEvent.objects.filter(card=card).values_list("kind", flat=True))
    assert "voucher_activated" in kinds
    assert "voucher_expired" in kinds
