"""Reads for tenants, memberships and API keys."""

from __future__ import annotations

import hashlib

from django.db.models import QuerySet
from django.http import Http404

from tenants.models import Alert, ApiKey, Invitation, Location, Membership, Tenant, User


def hash_api_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    """Every business this user may act for. Keyed by user, so it is not a cross-tenant read."""
    return (
        Membership.objects.with_scopes_disabled()  # type: ignore[attr-defined]
        .filter(user=user, is_active=True)
        .select_related("tenant")
        .order_by("tenant__name")
    )


def membership_choose(*, memberships: list[Membership], tenant_id: int | None) -> Membership | None:
    """The membership of the business the user last chose, else their first."""
    for membership in memberships:
        if membership.tenant_id == tenant_id:
            return membership
    return memberships[0] if memberships else None


def api_key_resolve(*, raw_key: str) -> ApiKey | None:
    """The active API key for a raw secret, across tenants (the key names its tenant)."""
    return (
        ApiKey.objects.with_scopes_disabled()  # type: ignore[attr-defined]
        .select_related("tenant")
        .filter(hashed_key=hash_api_key(raw_key), revoked_at__isnull=True)
        .first()
    )


def invitation_resolve(*, token: str) -> Invitation | None:
    return (
        Invitation.objects.with_scopes_disabled()  # type: ignore[attr-defined]
        .select_related("tenant")
        .filter(token=token)
        .first()
    )


def tenant_get_by_slug(*, slug: str) -> Tenant | None:
    return Tenant.objects.filter(slug=slug).first()


def location_list(*, tenant: Tenant) -> QuerySet[Location]:
    return Location.objects.filter(tenant=tenant)


def access_location(*, tenant: Tenant, location_id: int) -> Location:
    """The tenant's location, or 404 (the same for another tenant's and a missing one)."""
    location = Location.objects.filter(tenant=tenant, pk=location_id).first()
    if location is None:
        raise Http404
    return location


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .prefetch_related("locations")
        .order_by("role", "user__email")
    )


def access_membership(*, tenant: Tenant, membership_id: int) -> Membership:
    membership = Membership.objects.filter(tenant=tenant, pk=membership_id).first()
    if membership is None:
        raise Http404
    return membership


def api_key_list(*, tenant: Tenant) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(tenant=tenant)


def access_api_key(*, tenant: Tenant, api_key_id: int) -> ApiKey:
    key = ApiKey.objects.filter(tenant=tenant, pk=api_key_id).first()
    if key is None:
        raise Http404
    return key


def invitation_list_pending(*, tenant: Tenant) -> QuerySet[Invitation]:
    return Invitation.objects.filter(tenant=tenant, accepted_at__isnull=True)


def alert_list_recent(*, tenant: Tenant, limit: int = 5) -> list[Alert]:
    return list(Alert.objects.filter(tenant=tenant)[:limit])
