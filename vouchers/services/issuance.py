"""Issuing Smart Vouchers: exactly once per trigger and card cycle (or event)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from loyalty.models import Card, CardEvent, StampEvent
from loyalty.services import card_journal_add, card_touch
from tenants.webhooks import webhook_emit
from vouchers.models import Voucher, VoucherTemplate, VoucherTrigger
from vouchers.services.codes import assign_code


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def voucher_dates(
    *, template: VoucherTemplate, tzinfo: Any, now: datetime
) -> tuple[datetime, datetime | None]:
    """(active_from, expires_at) for a voucher issued now, in the business's timezone."""
    local_now = now.astimezone(tzinfo)
    if template.activation_delay_days:
        start_day = local_now.date() + timedelta(days=template.activation_delay_days)
        active_from = datetime.combine(start_day, time.min, tzinfo=tzinfo)
    else:
        active_from = now
    expires_at: datetime | None
    if template.validity == VoucherTemplate.Validity.UNLIMITED:
        expires_at = None
    elif template.validity == VoucherTemplate.Validity.UNTIL_DATE and template.valid_until:
        expires_at = datetime.combine(
            template.valid_until + timedelta(days=1), time.min, tzinfo=tzinfo
        )
    elif template.validity == VoucherTemplate.Validity.MONTHS:
        expires_at = add_months(active_from.astimezone(tzinfo), template.validity_value or 1)
    else:
        expires_at = active_from + timedelta(days=template.validity_value or 30)
    return active_from, expires_at


def voucher_issue(
    *,
    template: VoucherTemplate,
    card: Card,
    trigger: VoucherTrigger | None,
    issuance_key: str,
    now: datetime | None = None,
) -> Voucher | None:
    """Issues one voucher, or None if this (card, trigger, key) already has one.

    The unique constraint is the guarantee; the savepoint keeps the caller's transaction alive.
    """
    now = now or timezone.now()
    active_from, expires_at = voucher_dates(template=template, tzinfo=card.tenant.tzinfo, now=now)
    if expires_at is not None and expires_at <= now:
        return None  # the template's end date has passed: nothing usable to give
    state = Voucher.State.ACTIVE if active_from <= now else Voucher.State.ISSUED
    try:
        with transaction.atomic():
            voucher = Voucher.objects.create(
                tenant_id=card.tenant_id,
                template=template,
                trigger=trigger,
                card=card,
                issuance_key=issuance_key,
                reward_title=template.reward_title,
                state=state,
                issued_at=now,
                active_from=active_from,
                expires_at=expires_at,
                activated_at=now if state == Voucher.State.ACTIVE else None,
            )
    except IntegrityError:
        return None
    if template.has_code:
        assign_code(voucher=voucher)
    card_journal_add(
        card=card,
        kind=CardEvent.Kind.VOUCHER_ISSUED,
        params={"reward": template.reward_title},
        data={"voucher": voucher.pk, "trigger": trigger.kind if trigger else None},
        at=now,
    )
    card_touch(card=card)
    webhook_emit(
        tenant_id=card.tenant_id, event="voucher.issued", payload={"voucher": voucher.as_api()}
    )
    return voucher


def _triggers(card: Card, kinds: list[str]) -> list[VoucherTrigger]:
    return list(
        VoucherTrigger.objects.filter(
            program_id=card.program_id, kind__in=kinds, is_active=True, template__is_active=True
        ).select_related("template")
    )


def _positions_reached(event: StampEvent, goal: int) -> list[tuple[int, int]]:
    """(cycle, position) of every stamp this event added, in order."""
    reached = []
    position, cycle = event.stamps_before, event.cycle_before
    for _step in range(max(event.count, 0)):
        position += 1
        reached.append((cycle, position))
        if position == goal:
            position, cycle = 0, cycle + 1
    return reached


def on_stamped(card: Card, event: StampEvent, outcome: Any) -> list[Voucher]:
    """Stamp listener: runs in the stamping transaction with the card row locked."""
    if event.count <= 0:
        return []
    triggers = _triggers(
        card,
        [VoucherTrigger.Kind.STAMP_GOAL, VoucherTrigger.Kind.MILESTONE, VoucherTrigger.Kind.VISIT],
    )
    if not triggers:
        return []
    goal = card.program.stamp_goal
    reached = _positions_reached(event, goal)
    issued: list[Voucher] = []
    for trigger in triggers:
        keys: list[str] = []
        if trigger.kind == VoucherTrigger.Kind.STAMP_GOAL:
            keys = [f"cycle:{cycle}" for cycle, pos in reached if pos == goal]
        elif trigger.kind == VoucherTrigger.Kind.MILESTONE and trigger.threshold:
            keys = [f"cycle:{cycle}" for cycle, pos in reached if pos == trigger.threshold]
        elif trigger.kind == VoucherTrigger.Kind.VISIT and trigger.threshold:
            if card.visits >= trigger.threshold:
                keys = [f"visit:{trigger.threshold}"]
        for key in keys:
            voucher = voucher_issue(
                template=trigger.template,
                card=card,
                trigger=trigger,
                issuance_key=key,
                now=event.created_at,
            )
            if voucher is not None:
                issued.append(voucher)
    return issued


def on_joined(card: Card) -> None:
    for trigger in _triggers(card, [VoucherTrigger.Kind.WELCOME]):
        voucher_issue(template=trigger.template, card=card, trigger=trigger, issuance_key="welcome")


def birthday_in_week(birthday: date, today: date) -> bool:
    """Is this year's birthday (Feb 29 -> Feb 28) in the same ISO week as today?"""
    day = min(birthday.day, calendar.monthrange(today.year, birthday.month)[1])
    this_year = date(today.year, birthday.month, day)
    return this_year.isocalendar()[:2] == today.isocalendar()[:2]


def voucher_public_url(voucher: Voucher) -> str:
    return settings.PUBLIC_BASE_URL + reverse("voucher", args=[voucher.token])


def card_page_vouchers(card: Card) -> dict[str, Any]:
    """For the card page: the customer's usable and recent vouchers."""
    from vouchers.selectors import voucher_list_for_card

    vouchers = voucher_list_for_card(card=card, recent_only=True)
    return {"vouchers": vouchers}
