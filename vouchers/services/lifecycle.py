"""A voucher's life after issue: activation, expiry, voiding, reminders; event triggers."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.models import Card, CardEvent
from loyalty.selectors import cards_for_segment
from loyalty.services import card_journal_add, card_touch
from vouchers.errors import VoucherError
from vouchers.locks import lock_voucher
from vouchers.models import Campaign, Voucher, VoucherTrigger
from vouchers.services.issuance import birthday_in_week, voucher_issue, voucher_public_url

BATCH = 500


def voucher_lock(voucher_id: int) -> Voucher:
    """Locks the voucher row for the rest of the transaction (other apps' entry point)."""
    return lock_voucher(voucher_id)


def voucher_refresh(*, voucher: Voucher, now: datetime | None = None) -> Voucher:
    """Brings the stored state up to the moment: activation and expiry are decided by the
    clock, so a late beat job never leaves an expired voucher usable. Call under the lock
    when the answer matters (redemption)."""
    now = now or timezone.now()
    changed = False
    if voucher.state == Voucher.State.ISSUED and voucher.active_from <= now:
        voucher.state, voucher.activated_at = Voucher.State.ACTIVE, now
        changed = True
        card_journal_add(
            card=voucher.card,
            kind=CardEvent.Kind.VOUCHER_ACTIVATED,
            params={"r": voucher.reward_title},
            data={"voucher": voucher.pk},
            at=now,
        )
    if (
        voucher.state in (Voucher.State.ISSUED, Voucher.State.ACTIVE)
        and voucher.expires_at is not None
        and voucher.expires_at <= now
    ):
        voucher.state, voucher.expired_at = Voucher.State.EXPIRED, now
        changed = True
        card_journal_add(
            card=voucher.card,
            kind=CardEvent.Kind.VOUCHER_EXPIRED,
            params={"r": voucher.reward_title},
            data={"voucher": voucher.pk},
            at=now,
        )
    if changed:
        voucher.save(update_fields=["state", "activated_at", "expired_at"])
        card_touch(card=voucher.card)
    return voucher


@transaction.atomic
def voucher_void(*, voucher: Voucher, reason: str, actor: Any) -> Voucher:
    """Owners and managers void a voucher with a reason. Locks the voucher."""
    reason = (reason or "").strip()
    if not reason:
        raise VoucherError(_("Say why the voucher is voided."), "reason_required", 400)
    voucher = lock_voucher(voucher.pk)
    voucher_refresh(voucher=voucher)
    if voucher.state not in (Voucher.State.ISSUED, Voucher.State.ACTIVE):
        raise VoucherError(
            _("Only an unused voucher can be voided; this one is %(state)s.")
            % {"state": voucher.get_state_display().lower()},
            "not_voidable",
            409,
        )
    now = timezone.now()
    voucher.state, voucher.voided_at, voucher.void_reason = Voucher.State.VOID, now, reason[:200]
    voucher.save(update_fields=["state", "voided_at", "void_reason"])
    card_journal_add(
        card=voucher.card,
        kind=CardEvent.Kind.VOUCHER_VOIDED,
        params={"r": voucher.reward_title, "why": reason},
        actor=actor,
        data={"voucher": voucher.pk},
        at=now,
    )
    card_touch(card=voucher.card)
    return voucher


def vouchers_refresh_due(*, tenant: Any, now: datetime | None = None) -> int:
    """Beat job: activate and expire what is due, in small transactions."""
    now = now or timezone.now()
    due = Voucher.objects.filter(tenant=tenant).filter(
        state__in=[Voucher.State.ISSUED, Voucher.State.ACTIVE]
    )
    ids = list(
        due.filter(state=Voucher.State.ISSUED, active_from__lte=now).values_list("pk", flat=True)
    ) + list(due.filter(expires_at__lte=now).values_list("pk", flat=True))
    for voucher_id in dict.fromkeys(ids):
        with transaction.atomic():
            voucher_refresh(voucher=lock_voucher(voucher_id), now=now)
    return len(ids)


def vouchers_remind(*, tenant: Any, now: datetime | None = None) -> int:
    """Beat job: remind customers (email where they gave one; the wallet card shows it)."""
    now = now or timezone.now()
    candidates = Voucher.objects.filter(
        tenant=tenant,
        state=Voucher.State.ACTIVE,
        reminded_at__isnull=True,
        expires_at__isnull=False,
        template__reminder_days__isnull=False,
    ).select_related("template", "card__customer", "tenant")
    sent = 0
    for voucher in candidates:
        if voucher.expires_at is None or voucher.template.reminder_days is None:
            continue
        if voucher.expires_at - timedelta(days=voucher.template.reminder_days) > now:
            continue
        with transaction.atomic():
            updated = Voucher.objects.filter(pk=voucher.pk, reminded_at__isnull=True).update(
                reminded_at=now
            )
            if not updated:
                continue
            card_touch(card=voucher.card)
            email = voucher.card.customer.email
            if email:
                transaction.on_commit(partial(_send_reminder, voucher, email))
        sent += 1
    return sent


def _send_reminder(voucher: Voucher, email: str) -> None:
    send_mail(
        subject=_("Your %(reward)s expires soon") % {"reward": voucher.reward_title},
        message=_("Your reward from %(business)s, %(reward)s, expires on %(date)s.\n\n%(url)s")
        % {
            "business": voucher.tenant.name,
            "reward": voucher.reward_title,
            "date": timezone.localtime(voucher.expires_at, voucher.tenant.tzinfo).date(),
            "url": voucher_public_url(voucher),
        },
        from_email=None,
        recipient_list=[email],
        fail_silently=True,
    )


def event_vouchers_issue(*, tenant: Any, now: datetime | None = None) -> int:
    """Beat job: birthday and win-back triggers, in batches, each card in its own transaction."""
    now = now or timezone.now()
    today = now.astimezone(tenant.tzinfo).date()
    issued = 0
    triggers = VoucherTrigger.objects.filter(
        tenant=tenant,
        is_active=True,
        template__is_active=True,
        kind__in=[VoucherTrigger.Kind.BIRTHDAY, VoucherTrigger.Kind.WINBACK],
    ).select_related("template", "program")
    for trigger in triggers:
        cards = Card.objects.filter(program=trigger.program, customer__erased_at__isnull=True)
        if trigger.kind == VoucherTrigger.Kind.BIRTHDAY:
            cards = cards.filter(customer__birthday__isnull=False)
        else:
            if not trigger.threshold:
                continue
            cards = cards.filter(last_visit_date__lte=today - timedelta(days=trigger.threshold))
        for card in cards.select_related("customer", "tenant", "program").iterator(
            chunk_size=BATCH
        ):
            if trigger.kind == VoucherTrigger.Kind.BIRTHDAY:
                if not birthday_in_week(card.customer.birthday, today):  # type: ignore[arg-type]
                    continue
                key = f"birthday:{today.year}"
            else:
                key = f"winback:{card.last_visit_date.isoformat()}"  # type: ignore[union-attr]
            with transaction.atomic():
                if voucher_issue(
                    template=trigger.template, card=card, trigger=trigger, issuance_key=key, now=now
                ):
                    issued += 1
    return issued


@transaction.atomic
def campaign_create(
    *, tenant: Any, name: str, template: Any, program: Any, segment: dict[str, Any], actor: Any
) -> Campaign:
    trigger = VoucherTrigger.objects.create(
        tenant=tenant, template=template, program=program, kind=VoucherTrigger.Kind.BROADCAST
    )
    campaign = Campaign.objects.create(
        tenant=tenant,
        name=name.strip() or template.reward_title,
        trigger=trigger,
        segment=segment,
        created_by=actor if getattr(actor, "pk", None) else None,
        total=cards_for_segment(program=program, segment=segment).count(),
    )
    from vouchers.tasks import run_campaign

    transaction.on_commit(
        lambda: run_campaign.apply_async(
            kwargs={"tenant_id": tenant.pk, "campaign_id": campaign.pk}
        )
    )
    return campaign


def campaign_run(*, campaign: Campaign) -> Campaign:
    """Issues the broadcast voucher to every card of the segment, in batches, saving progress.
    Safe to run again: each card gets it at most once (the issuance key is the campaign)."""
    if campaign.status == Campaign.Status.DONE:
        return campaign
    campaign.status = Campaign.Status.RUNNING
    campaign.save(update_fields=["status"])
    trigger = campaign.trigger
    cards = cards_for_segment(program=trigger.program, segment=campaign.segment).order_by("pk")
    ids = list(cards.values_list("pk", flat=True))
    campaign.total = len(ids)
    processed = issued = 0
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            for card in Card.objects.filter(pk__in=ids[start : start + BATCH]).select_related(
                "tenant", "program", "customer"
            ):
                if voucher_issue(
                    template=trigger.template,
                    card=card,
                    trigger=trigger,
                    issuance_key=f"campaign:{campaign.pk}",
                ):
                    issued += 1
                processed += 1
            campaign.processed, campaign.issued = processed, campaign.issued + issued
            issued = 0
            campaign.save(update_fields=["processed", "issued", "total"])
    campaign.status, campaign.finished_at = Campaign.Status.DONE, timezone.now()
    campaign.save(update_fields=["status", "finished_at"])
    return campaign
