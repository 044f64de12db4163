"""The one stamping service every channel goes through, and the card journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from loyalty import hooks, journal
from loyalty.errors import StampRefused
from loyalty.locks import lock_card
from loyalty.models import Card, CardEvent, StampEvent, StampSource
from tenants.webhooks import webhook_emit

MAX_STAMPS_PER_CALL = 50


@dataclass
class StampOutcome:
    card: Card
    event: StampEvent
    cycles_completed: int
    milestones: list[dict[str, Any]] = field(default_factory=list)
    unlocked: list[Any] = field(default_factory=list)  # what listeners issued (vouchers)

    @property
    def message(self) -> str:
        goal = self.card.program.stamp_goal
        text = ngettext(
            "%(count)d stamp added.", "%(count)d stamps added.", abs(self.event.count)
        ) % {"count": abs(self.event.count)}
        if self.event.count < 0:
            text = _("%(count)d stamps removed.") % {"count": -self.event.count}
        progress = _("%(stamps)d of %(goal)d now.") % {"stamps": self.card.stamps, "goal": goal}
        return f"{text} {progress}"


def card_journal_add(
    *,
    card: Card,
    kind: str,
    params: dict[str, Any] | None = None,
    actor: Any = None,
    actor_label: str = "",
    location: Any = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CardEvent:
    """Append one event to the card's journal (used by every app that changes a card).

    `params` fill the kind's text in loyalty/journal.py; the text is rendered in the reader's
    language when shown, and stored in English for exports.
    """
    if actor is not None and not getattr(actor, "pk", None):
        actor_label = actor_label or str(actor)
        actor = None
    with translation.override("en"):  # labels keep their msgid, translated when shown
        params = {
            k: (v if isinstance(v, int | float) else str(v)) for k, v in (params or {}).items()
        }
    return CardEvent.objects.create(
        tenant_id=card.tenant_id,
        card=card,
        kind=kind,
        message=journal.render_stored(kind, params)[:300],
        actor=actor,
        actor_label=actor_label or (str(actor) if actor else ""),
        location=location,
        data={**(data or {}), journal.PARAMS_KEY: params},
        created_at=at or timezone.now(),
    )


def card_touch(*, card: Card) -> None:
    """Something about the card changed outside the ledger (a voucher): bump its version so
    wallets and the live page notice, and enqueue the card-changed side effects."""
    Card.objects.filter(pk=card.pk).update(version=models.F("version") + 1)
    card.version += 1
    hooks.card_changed(card)


def _local_day_start(card: Card, now: datetime) -> datetime:
    tz = card.tenant.tzinfo
    local_date = now.astimezone(tz).date()
    return datetime.combine(local_date, time.min, tzinfo=tz)


def _check_rules(card: Card, count: int, now: datetime) -> None:
    program = card.program
    if not program.is_active:
        raise StampRefused(_("This program is paused; it takes no stamps."), "program_paused")
    if card.customer.erased_at is not None:
        raise StampRefused(_("This card was closed at the customer's request."), "card_closed")
    if program.cooldown_minutes and card.last_stamp_at is not None:
        ready_at = card.last_stamp_at + timedelta(minutes=program.cooldown_minutes)
        if now < ready_at:
            minutes = max(1, int((ready_at - now).total_seconds() // 60) + 1)
            raise StampRefused(
                ngettext(
                    "This card was stamped a moment ago. Next stamp in %(n)d minute.",
                    "This card was stamped a moment ago. Next stamp in %(n)d minutes.",
                    minutes,
                )
                % {"n": minutes},
                "cooldown",
            )
    if program.max_stamps_per_visit or program.daily_cap:
        today = (
            StampEvent.objects.filter(
                card=card, created_at__gte=_local_day_start(card, now), count__gt=0
            )
            .exclude(source=StampSource.CORRECTION)
            .aggregate(total=Sum("count"))["total"]
            or 0
        )
        # A visit is one local day at the business, so "per visit" is counted per day too.
        if program.max_stamps_per_visit and today + count > program.max_stamps_per_visit:
            raise StampRefused(
                _("At most %(n)d stamps per visit; this card has %(today)d today.")
                % {"n": program.max_stamps_per_visit, "today": today},
                "visit_limit",
            )
        if program.daily_cap and today + count > program.daily_cap:
            raise StampRefused(
                _("Daily limit reached: at most %(n)d stamps per day on one card.")
                % {"n": program.daily_cap},
                "daily_cap",
            )


@transaction.atomic
def card_add_stamps(
    *,
    card: Card,
    count: int,
    source: str,
    actor: Any = None,
    location: Any = None,
    api_key: Any = None,
    now: datetime | None = None,
) -> StampOutcome:
    """Add `count` stamps to a card, for every channel.

    Locks the card row; enforces the program's rules (raises StampRefused with a message);
    appends the ledger row and updates the projection in the same transaction; completes
    cycles (stamps past the goal carry over); counts the visit once per local day; lets the
    stamp listeners issue what was reached; enqueues card-changed side effects after commit.
    """
    if not isinstance(count, int) or count < 1 or count > MAX_STAMPS_PER_CALL:
        raise StampRefused(
            _("Add between 1 and %(max)d stamps.") % {"max": MAX_STAMPS_PER_CALL},
            "invalid_count",
            status_code=400,
        )
    now = now or timezone.now()
    card = lock_card(card.pk)
    _check_rules(card, count, now)
    return _apply(
        card=card,
        count=count,
        source=source,
        actor=actor,
        location=location,
        api_key=api_key,
        now=now,
        reason="",
    )


@transaction.atomic
def card_correct_stamps(
    *,
    card: Card,
    delta: int,
    reason: str,
    actor: Any,
    location: Any = None,
    now: datetime | None = None,
) -> StampOutcome:
    """A correction: a new ledger row (positive or negative) with a reason; rules do not apply.

    A negative correction only removes stamps of the current cycle: a completed card and the
    reward it issued stay as they are (void the voucher separately).
    """
    reason = (reason or "").strip()
    if not reason:
        raise StampRefused(_("Say why you correct the stamps."), "reason_required", 400)
    if delta == 0 or abs(delta) > MAX_STAMPS_PER_CALL:
        raise StampRefused(_("Enter a correction between -50 and 50."), "invalid_count", 400)
    now = now or timezone.now()
    card = lock_card(card.pk)
    if card.stamps + delta < 0:
        raise StampRefused(
            _("The card has only %(n)d stamps in this cycle.") % {"n": card.stamps},
            "below_zero",
            400,
        )
    return _apply(
        card=card,
        count=delta,
        source=StampSource.CORRECTION,
        actor=actor,
        location=location,
        api_key=None,
        now=now,
        reason=reason,
    )


def _apply(
    *,
    card: Card,
    count: int,
    source: str,
    actor: Any,
    location: Any,
    api_key: Any,
    now: datetime,
    reason: str,
) -> StampOutcome:
    program = card.program
    goal = program.stamp_goal
    stamps_before, cycle_before = card.stamps, card.cycle
    reached_milestones: list[dict[str, Any]] = []
    if count > 0:
        milestones = program.milestone_list()
        position = stamps_before
        cycle = cycle_before
        for _step in range(count):
            position += 1
            for milestone in milestones:
                if int(milestone["stamps"]) == position:
                    reached_milestones.append({**milestone, "cycle": cycle})
            if position == goal:
                position = 0
                cycle += 1
        cycles_completed = cycle - cycle_before
        card.stamps, card.cycle = position, cycle
    else:
        cycles_completed = 0
        card.stamps = stamps_before + count
    card.total_stamps += count
    if count > 0 and source != StampSource.CORRECTION:
        local_today = now.astimezone(card.tenant.tzinfo).date()
        if card.last_visit_date != local_today:
            card.visits += 1
            card.last_visit_date = local_today
        card.last_stamp_at = now
    card.version += 1
    card.save(
        update_fields=[
            "stamps",
            "cycle",
            "total_stamps",
            "visits",
            "last_visit_date",
            "last_stamp_at",
            "version",
            "updated_at",
        ]
    )
    actor_user = actor if getattr(actor, "pk", None) else None
    event = StampEvent.objects.create(
        tenant_id=card.tenant_id,
        card=card,
        count=count,
        source=source,
        reason=reason,
        staff_user=actor_user,
        location=location,
        api_key=api_key,
        cycle_before=cycle_before,
        stamps_before=stamps_before,
        cycle_after=card.cycle,
        stamps_after=card.stamps,
        created_at=now,
    )
    who = {"actor": actor, "location": location, "at": now}
    if source == StampSource.CORRECTION:
        card_journal_add(
            card=card,
            kind=CardEvent.Kind.CORRECTED,
            params={"count": count, "reason": reason},
            data={"count": count},
            **who,
        )
    else:
        card_journal_add(
            card=card,
            kind=CardEvent.Kind.STAMPED,
            params={"count": count, "source": StampSource(source).label},
            data={"count": count, "source": source, "stamps_after": card.stamps},
            **who,
        )
    for milestone in reached_milestones:
        card_journal_add(
            card=card,
            kind=CardEvent.Kind.MILESTONE,
            params={"n": milestone["stamps"], "reward": milestone.get("reward", "")},
            data=milestone,
            **who,
        )
    for completed in range(cycle_before, cycle_before + cycles_completed):
        card_journal_add(
            card=card,
            kind=CardEvent.Kind.CYCLE_COMPLETED,
            params={"cycle": completed, "reward": program.reward_text},
            data={"cycle": completed},
            **who,
        )
    if source != StampSource.CORRECTION:
        webhook_emit(
            tenant_id=card.tenant_id,
            event="stamp.added",
            payload={
                "card": {
                    "id": card.pk,
                    "token": card.token,
                    "program": card.program_id,
                    "stamps": card.stamps,
                    "goal": goal,
                    "cycle": card.cycle,
                },
                "count": count,
                "source": source,
                "location": location.pk if location is not None else None,
            },
        )
    outcome = StampOutcome(
        card=card, event=event, cycles_completed=cycles_completed, milestones=reached_milestones
    )
    for listener in hooks.stamp_listeners:
        outcome.unlocked.extend(listener(card, event, outcome))
    hooks.card_changed(card)
    return outcome
