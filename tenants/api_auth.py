"""DRF authentication by tenant API key, and JSON errors as `{"detail", "code"}`."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from tenants.middleware import bearer_token
from tenants.services import api_key_touch


class ApiKeyPrincipal:
    """Stands in for `request.user` on API calls: the key, not a person, is the actor."""

    is_authenticated = True
    is_anonymous = False
    pk = None

    def __init__(self, api_key: Any) -> None:
        self.api_key = api_key

    def __str__(self) -> str:
        return f"API key {self.api_key.name}"


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiKeyPrincipal, Any] | None:
        if bearer_token(request._request) is None:
            return None
        api_key = getattr(request._request, "api_key", None)
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
        api_key_touch(api_key=api_key)
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class HasTenantApiKey(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return getattr(request._request, "api_key", None) is not None and isinstance(
            request.user, ApiKeyPrincipal
        )


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.api_auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A tenant API key."}
