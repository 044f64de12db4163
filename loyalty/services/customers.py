"""Joining a program, and erasing a customer's personal data on request."""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty import hooks
from loyalty.errors import JoinRefused
from loyalty.models import Card, CardEvent, Customer, Program
from loyalty.services.stamping import card_journal_add

PHONE_RE = re.compile(r"^\+?[0-9]{6,15}$")


def normalize_phone(raw: str) -> str:
    """Digits with an optional leading +; separators people type are dropped."""
    return re.sub(r"[\s\-().]", "", raw or "")


def _validated(name: str, email: str, phone: str) -> tuple[str, str, str]:
    name = (name or "").strip()
    email = (email or "").strip().lower()
    phone = normalize_phone(phone)
    if not name or len(name) > 120:
        raise JoinRefused(_("Please enter your name."), "invalid_name")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise JoinRefused(
                _("That email address does not look right."), "invalid_email"
            ) from None
    if phone and not PHONE_RE.match(phone):
        raise JoinRefused(_("That phone number does not look right."), "invalid_phone")
    return name, email, phone


def _existing_card(program: Program, email: str, phone: str) -> Card | None:
    if not email and not phone:
        return None
    cards = Card.objects.filter(program=program, customer__erased_at__isnull=True).select_related(
        "customer"
    )
    if email:
        card = cards.filter(customer__email=email).first()
        if card:
            return card
    if phone:
        return cards.filter(customer__phone=phone).first()
    return None


@transaction.atomic
def customer_join(
    *,
    program: Program,
    name: str,
    email: str = "",
    phone: str = "",
    birthday: date | None = None,
    marketing_consent: bool = False,
) -> tuple[Card, bool]:
    """Create the customer and their card; the same email or phone returns the existing card.

    Raises JoinRefused for a paused program or invalid details (nothing is written then).
    """
    if not program.is_active:
        raise JoinRefused(_("This program is paused and takes no new members."), "program_paused")
    name, email, phone = _validated(name, email, phone)
    existing = _existing_card(program, email, phone)
    if existing is not None:
        return existing, False
    customer = (
        Customer.objects.filter(tenant=program.tenant, erased_at__isnull=True)
        .filter(**({"email": email} if email else {"phone": phone}))
        .first()
        if (email or phone)
        else None
    )
    if customer is None:
        customer = Customer.objects.create(
            tenant=program.tenant,
            name=name,
            email=email,
            phone=phone,
            birthday=birthday,
            marketing_consent=marketing_consent,
            consent_at=timezone.now() if marketing_consent else None,
        )
    try:
        with transaction.atomic():
            card = Card.objects.create(tenant=program.tenant, program=program, customer=customer)
    except IntegrityError:  # the same person joined twice at the same moment
        return Card.objects.get(program=program, customer=customer), False
    card_journal_add(
        card=card,
        kind=CardEvent.Kind.JOINED,
        params={"program": program.name},
        actor_label=name,
    )
    for listener in hooks.join_listeners:
        listener(card)
    hooks.card_changed(card)
    return card, True


@transaction.atomic
def customer_erase(*, customer: Customer, actor: object) -> None:
    """GDPR erasure: personal data removed; the anonymous ledger stays for the numbers."""
    if customer.erased_at is not None:
        return
    customer.name = _("Erased customer")
    customer.email = ""
    customer.phone = ""
    customer.birthday = None
    customer.marketing_consent = False
    customer.consent_at = None
    customer.erased_at = timezone.now()
    customer.save()
    for card in Card.objects.filter(customer=customer):
        card.version += 1
        card.save(update_fields=["version", "updated_at"])
        card_journal_add(
            card=card,
            kind=CardEvent.Kind.ERASED,
            actor=actor,
        )
        # Journal texts may quote the name; keep the ledger numbers, drop the words.
        CardEvent.objects.filter(card=card, kind=CardEvent.Kind.JOINED).update(actor_label="")
        hooks.card_changed(card)
