"""The one redemption service every flow uses: self-redeem, staff-scan, Redeem Code, POS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from loyalty.errors import LoyaltyError
from loyalty.models import CardEvent
from loyalty.services import card_journal_add, card_touch
from redemption.models import Channel, Redemption, RedemptionReversal
from tenants.webhooks import webhook_emit
from vouchers.models import RedemptionMethod, Voucher
from vouchers.services import voucher_lock, voucher_refresh


class RedemptionRefused(LoyaltyError):
    """Why a voucher cannot be redeemed now; `winner` is set when it already was."""

    def __init__(self, message: str, code: str, status_code: int, winner: Any = None) -> None:
        super().__init__(message, code, status_code)
        self.winner = winner


@dataclass
class Actor:
    """Who redeems: a staff member (with membership), an API key, or the customer."""

    user: Any = None
    membership: Any = None
    api_key: Any = None
    location: Any = None

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.display_name
        if self.api_key is not None:
            return str(_("POS (%(key)s)") % {"key": self.api_key.name})
        return str(_("the customer"))


def describe_redemption(redemption: Redemption, tzinfo: Any) -> str:
    """'Already redeemed at 14:03 by Dana, Main St' in the business's time."""
    local = timezone.localtime(redemption.created_at, tzinfo)
    when = date_format(local, "TIME_FORMAT")
    if local.date() != timezone.localtime(timezone.now(), tzinfo).date():
        when = f"{date_format(local, 'SHORT_DATE_FORMAT')} {when}"
    parts = [_("Already redeemed at %(when)s") % {"when": when}]
    if redemption.actor_label:
        parts.append(_("by %(who)s") % {"who": redemption.actor_label})
    text = " ".join(parts)
    if redemption.location is not None:
        text += f", {redemption.location.name}"
    return text


def _live_redemption(voucher: Voucher) -> Redemption | None:
    return (
        Redemption.objects.filter(voucher=voucher, reversed_at__isnull=True)
        .select_related("location")
        .first()
    )


def _refuse_state(voucher: Voucher, now: datetime) -> None:
    tz = voucher.tenant.tzinfo
    if voucher.state == Voucher.State.REDEEMED:
        winner = _live_redemption(voucher)
        message = describe_redemption(winner, tz) if winner else _("Already redeemed.")
        raise RedemptionRefused(message, "already_redeemed", 409, winner=winner)
    if voucher.state == Voucher.State.EXPIRED:
        raise RedemptionRefused(
            _("This voucher expired on %(date)s.")
            % {
                "date": date_format(timezone.localtime(voucher.expires_at, tz), "SHORT_DATE_FORMAT")
            },
            "expired",
            410,
        )
    if voucher.state == Voucher.State.VOID:
        raise RedemptionRefused(
            _("This voucher was voided: %(reason)s") % {"reason": voucher.void_reason},
            "void",
            410,
        )
    if voucher.state == Voucher.State.ISSUED:
        raise RedemptionRefused(
            _("Not active yet: usable from %(date)s.")
            % {
                "date": date_format(
                    timezone.localtime(voucher.active_from, tz), "SHORT_DATETIME_FORMAT"
                )
            },
            "not_active_yet",
            409,
        )
    if voucher.awaiting_code:
        raise RedemptionRefused(
            _("This voucher is still waiting for its code."), "code_pending", 409
        )


def _check_actor(voucher: Voucher, channel: str, actor: Actor) -> None:
    if channel == Channel.SELF and voucher.template.method != RedemptionMethod.SELF:
        raise RedemptionRefused(
            _("Show this voucher to the staff; they redeem it for you."), "method_not_allowed", 403
        )
    membership = actor.membership
    if channel == Channel.STAFF:
        if (
            membership is None
            or membership.tenant_id != voucher.tenant_id
            or not membership.is_active
        ):
            raise RedemptionRefused(
                _("This voucher is from another business."), "wrong_tenant", 404
            )
        allowed = list(membership.locations.all())
        if allowed and actor.location not in allowed:
            raise RedemptionRefused(
                _("You can redeem only at your own location."), "wrong_location", 403
            )
    if channel == Channel.API and (
        actor.api_key is None or actor.api_key.tenant_id != voucher.tenant_id
    ):
        raise RedemptionRefused(_("Unknown code."), "unknown_code", 404)


@transaction.atomic
def voucher_redeem(
    *, voucher: Voucher, channel: str, actor: Actor, now: datetime | None = None
) -> Redemption:
    """Redeems a voucher exactly once.

    Locks the voucher row; checks state, activation and expiry at this moment, the method the
    template allows for this channel, and the actor's tenant and location; writes one
    Redemption (a partial unique constraint backs the lock); journals it; enqueues the
    wallet update and webhook after commit. Raises RedemptionRefused with a plain message.
    """
    now = now or timezone.now()
    voucher = voucher_lock(voucher.pk)
    voucher_refresh(voucher=voucher, now=now)
    _refuse_state(voucher, now)
    _check_actor(voucher, channel, actor)
    try:
        with transaction.atomic():
            redemption = Redemption.objects.create(
                tenant_id=voucher.tenant_id,
                voucher=voucher,
                method=voucher.template.method,
                channel=channel,
                actor=actor.user,
                actor_label=actor.label[:120],
                api_key=actor.api_key,
                location=actor.location,
                created_at=now,
            )
    except IntegrityError:  # only reachable without a row lock (SQLite); the constraint holds
        winner = _live_redemption(voucher)
        raise RedemptionRefused(
            describe_redemption(winner, voucher.tenant.tzinfo)
            if winner
            else _("Already redeemed."),
            "already_redeemed",
            409,
            winner=winner,
        ) from None
    voucher.state, voucher.redeemed_at = Voucher.State.REDEEMED, now
    voucher.save(update_fields=["state", "redeemed_at"])
    card_journal_add(
        card=voucher.card,
        kind=CardEvent.Kind.VOUCHER_REDEEMED,
        params={"reward": voucher.reward_title, "channel": Channel(channel).label},
        actor=actor.user,
        actor_label=actor.label,
        location=actor.location,
        data={"voucher": voucher.pk, "redemption": redemption.pk},
        at=now,
    )
    card_touch(card=voucher.card)
    webhook_emit(
        tenant_id=voucher.tenant_id,
        event="voucher.redeemed",
        payload={
            "voucher": voucher.as_api(),
            "redemption": {
                "id": redemption.pk,
                "redeemed_at": now.isoformat(),
                "channel": channel,
                "redeemed_by": redemption.actor_label,
                "location": actor.location.name if actor.location is not None else None,
            },
        },
    )
    return redemption


def voucher_redeem_by_import(*, voucher: Voucher, actor: Any) -> Redemption:
    """A code the POS reports as used (the owner's upload)."""
    return voucher_redeem(
        voucher=voucher,
        channel=Channel.POS_IMPORT,
        actor=Actor(user=actor if getattr(actor, "pk", None) else None),
    )


UNDO_WINDOW = timedelta(minutes=10)


@transaction.atomic
def redemption_reverse(
    *, redemption: Redemption, reason: str, membership: Any, now: datetime | None = None
) -> Redemption:
    """A manager undoes a redemption within the window; the voucher is usable again.

    Locks the voucher; exactly once (the reversal's one-to-one constraint backs the lock);
    both events stay in the journal.
    """
    now = now or timezone.now()
    reason = (reason or "").strip()
    if membership is None or not membership.has_role("manager"):
        raise RedemptionRefused(_("Only a manager can undo a redemption."), "forbidden", 403)
    if not reason:
        raise RedemptionRefused(_("Say why the redemption is undone."), "reason_required", 400)
    voucher = voucher_lock(redemption.voucher_id)
    redemption = Redemption.objects.select_for_update(of=("self",)).get(pk=redemption.pk)
    if redemption.reversed_at is not None:
        raise RedemptionRefused(_("This redemption was already undone."), "already_reversed", 409)
    if now - redemption.created_at > UNDO_WINDOW:
        raise RedemptionRefused(
            _("Too late to undo: a redemption can be undone within %(n)d minutes.")
            % {"n": int(UNDO_WINDOW.total_seconds() // 60)},
            "undo_window_passed",
            409,
        )
    try:
        with transaction.atomic():
            RedemptionReversal.objects.create(
                tenant_id=redemption.tenant_id,
                redemption=redemption,
                actor=membership.user,
                reason=reason[:200],
                created_at=now,
            )
    except IntegrityError:
        raise RedemptionRefused(
            _("This redemption was already undone."), "already_reversed", 409
        ) from None
    redemption.reversed_at, redemption.reversed_by = now, membership.user
    redemption.reverse_reason = reason[:200]
    redemption.save(update_fields=["reversed_at", "reversed_by", "reverse_reason"])
    voucher.state, voucher.redeemed_at = Voucher.State.ACTIVE, None
    voucher.save(update_fields=["state", "redeemed_at"])
    voucher_refresh(voucher=voucher, now=now)  # it may have expired in the meantime
    card_journal_add(
        card=voucher.card,
        kind=CardEvent.Kind.REDEMPTION_REVERSED,
        params={"reward": voucher.reward_title, "why": reason},
        actor=membership.user,
        data={"voucher": voucher.pk, "redemption": redemption.pk},
        at=now,
    )
    card_touch(card=voucher.card)
    return redemption
