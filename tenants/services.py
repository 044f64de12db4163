"""Writes for tenants: sign-up, staff, invitations, API keys."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tenants.models import (
    Alert,
    ApiKey,
    IdempotencyRecord,
    Invitation,
    Location,
    Membership,
    Role,
    Tenant,
    User,
)
from tenants.selectors import hash_api_key

INVITATION_DAYS = 7
IDEMPOTENCY_KEEP_FOR = timedelta(hours=48)  # promised: at least 24 hours


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "business"
    slug = base
    while Tenant.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


@transaction.atomic
def tenant_sign_up(
    *,
    business_name: str,
    email: str,
    password: str,
    first_name: str = "",
    timezone_name: str = "UTC",
    language: str = "en",
) -> tuple[Tenant, User]:
    """A new owner creates their business. Raises ValidationError if the email is taken."""
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": _("An account with this email already exists.")})
    user = User.objects.create_user(email=email, password=password, first_name=first_name)
    tenant = Tenant.objects.create(
        name=business_name.strip(),
        slug=_unique_slug(business_name),
        timezone=timezone_name,
        default_language=language,
    )
    Location.objects.create(tenant=tenant, name=_("Main location"))
    Membership.objects.create(tenant=tenant, user=user, role=Role.OWNER)
    return tenant, user


@transaction.atomic
def invitation_create(*, tenant: Tenant, email: str, role: str, invited_by: User) -> Invitation:
    """Invite someone by email; the link lets them join with the given role."""
    email = email.strip().lower()
    if Membership.objects.filter(tenant=tenant, user__email=email, is_active=True).exists():
        raise ValidationError({"email": _("This person already works here.")})
    invitation = Invitation.objects.create(
        tenant=tenant,
        email=email,
        role=role,
        token=secrets.token_urlsafe(32),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    link = settings.PUBLIC_BASE_URL + reverse("invitation_accept", args=[invitation.token])
    transaction.on_commit(
        lambda: send_mail(
            subject=_("You're invited to %(business)s on Stampwise") % {"business": tenant.name},
            message=_(
                "%(inviter)s invited you to join %(business)s as %(role)s.\n\n"
                "Accept the invitation: %(link)s\n\nThe link is valid for %(days)s days."
            )
            % {
                "inviter": invited_by,
                "business": tenant.name,
                "role": Role(role).label,
                "link": link,
                "days": INVITATION_DAYS,
            },
            from_email=None,
            recipient_list=[email],
        )
    )
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Raises ValidationError if the invitation is used, expired or for another address."""
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation has already been used."))
    if invitation.expires_at < timezone.now():
        raise ValidationError(_("This invitation has expired. Ask for a new one."))
    if invitation.email != user.email.lower():
        raise ValidationError(_("This invitation was sent to another email address."))
    membership, created = Membership.objects.get_or_create(
        tenant=invitation.tenant, user=user, defaults={"role": invitation.role}
    )
    if not created:
        membership.role = invitation.role
        membership.is_active = True
        membership.save(update_fields=["role", "is_active"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership


@transaction.atomic
def membership_update(
    *, membership: Membership, actor: Membership, role: str, location_ids: list[int]
) -> Membership:
    if membership.role == Role.OWNER and role != Role.OWNER:
        owners = Membership.objects.filter(
            tenant=membership.tenant, role=Role.OWNER, is_active=True
        )
        if owners.count() <= 1:
            raise ValidationError(_("A business needs at least one owner."))
    membership.role = role
    membership.save(update_fields=["role"])
    locations = Location.objects.filter(tenant=membership.tenant, pk__in=location_ids)
    membership.locations.set(locations)
    return membership


@transaction.atomic
def membership_deactivate(*, membership: Membership, actor: Membership) -> None:
    if membership.pk == actor.pk:
        raise ValidationError(_("You cannot remove yourself."))
    if membership.role == Role.OWNER:
        raise ValidationError(_("Owners cannot be removed here."))
    membership.is_active = False
    membership.save(update_fields=["is_active"])


@transaction.atomic
def location_create(
    *,
    tenant: Tenant,
    name: str,
    address: str = "",
    latitude=None,
    longitude=None,  # type: ignore[no-untyped-def]
) -> Location:
    if Location.objects.filter(tenant=tenant, name=name).exists():
        raise ValidationError({"name": _("A location with this name already exists.")})
    return Location.objects.create(
        tenant=tenant, name=name, address=address, latitude=latitude, longitude=longitude
    )


def api_key_create(
    *, tenant: Tenant, name: str, created_by: User | None = None
) -> tuple[ApiKey, str]:
    """Returns the key and its raw secret, which is never stored and never shown again."""
    prefix = secrets.token_hex(4)
    raw_key = f"sw_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        tenant=tenant,
        name=name,
        prefix=prefix,
        hashed_key=hash_api_key(raw_key),
        created_by=created_by,
    )
    return key, raw_key


def api_key_revoke(*, api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])


def api_key_touch(*, api_key: ApiKey) -> None:
    # Written at most once a minute per key so a busy POS does not turn every call into a write.
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.with_scopes_disabled().filter(pk=api_key.pk).update(  # type: ignore[attr-defined]
            last_used_at=now
        )


def idempotency_purge(*, now: Any = None) -> int:
    """Forget idempotency keys older than IDEMPOTENCY_KEEP_FOR, across tenants (a periodic task)."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEEP_FOR
    deleted, _ = (
        IdempotencyRecord.objects.with_scopes_disabled()  # type: ignore[attr-defined]
        .filter(created_at__lt=cutoff)
        .delete()
    )
    return deleted


def alert_raise(*, tenant: Tenant, kind: str, message: str) -> Alert:
    return Alert.objects.create(tenant=tenant, kind=kind, message=message[:300])
