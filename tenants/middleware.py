"""Tenant resolution: every request runs inside its tenant's scope, or in none at all."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django_scopes import scopes_disabled

from tenants import selectors
from tenants.scoping import tenant_scope

SESSION_TENANT_KEY = "active_tenant_id"


def bearer_token(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


class TenantScopeMiddleware:
    """Sets `request.tenant` (and `membership` or `api_key`) and enters that tenant's scope.

    The API key's tenant for `/api/`, the logged-in user's active business otherwise. Public
    token pages enter the token's tenant themselves. With no tenant, no scope is entered, so a
    tenant-owned query raises instead of answering with every tenant's rows.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        request.api_key = None  # type: ignore[attr-defined]

        if request.path.startswith("/admin/"):
            # Django admin is for platform operators only (is_staff), across tenants.
            with scopes_disabled():
                return self.get_response(request)

        if request.path.startswith("/api/"):
            raw_key = bearer_token(request)
            api_key = selectors.api_key_resolve(raw_key=raw_key) if raw_key else None
            if api_key is not None:
                request.api_key = api_key  # type: ignore[attr-defined]
                request.tenant = api_key.tenant  # type: ignore[attr-defined]
        elif request.user.is_authenticated:
            memberships = list(selectors.membership_list_for_user(user=request.user))  # type: ignore[arg-type]
            request.memberships = memberships  # type: ignore[attr-defined]
            membership = selectors.membership_choose(
                memberships=memberships, tenant_id=request.session.get(SESSION_TENANT_KEY)
            )
            if membership is not None:
                request.membership = membership  # type: ignore[attr-defined]
                request.tenant = membership.tenant  # type: ignore[attr-defined]
                if request.session.get(SESSION_TENANT_KEY) != membership.tenant_id:
                    request.session[SESSION_TENANT_KEY] = membership.tenant_id

        if request.tenant is None:  # type: ignore[attr-defined]
            return self.get_response(request)
        with tenant_scope(request.tenant):  # type: ignore[attr-defined]
            return self.get_response(request)
