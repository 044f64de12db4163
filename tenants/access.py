"""Who may open a staff or dashboard page: a member of the active business with a role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from tenants.models import Role


def member_required(
    role: str = Role.STAFF,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Requires a logged-in member of the active tenant with at least `role` (403 otherwise)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "membership", None)
            if membership is None:
                return redirect("no_business")
            if not membership.has_role(role):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped

    return decorator


staff_required = member_required(Role.STAFF)
manager_required = member_required(Role.MANAGER)
owner_required = member_required(Role.OWNER)
