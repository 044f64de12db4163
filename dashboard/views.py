"""The owner's pages. Presentation only: they call the other apps' services and selectors."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard.forms import ApiKeyForm, LocationForm, MembershipForm
from loyalty import selectors as loyalty_selectors
from tenants import selectors as tenant_selectors
from tenants import services as tenant_services
from tenants.access import manager_required, owner_required
from tenants.forms import InvitationForm
from tenants.views import add_validation_error
from vouchers import selectors as voucher_selectors


@manager_required
def index(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    return render(
        request,
        "dashboard/index.html",
        {
            "stats": loyalty_selectors.tenant_stats(tenant=tenant),
            "programs": loyalty_selectors.program_list(tenant=tenant),
            "alerts": tenant_selectors.alert_list_recent(tenant=tenant),
            "voucher_counts": voucher_selectors.voucher_counts(tenant=tenant),
        },
    )


@owner_required
def team(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant_services.invitation_create(
                tenant=tenant,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("dashboard:team")
    return render(
        request,
        "dashboard/team.html",
        {
            "form": form,
            "memberships": tenant_selectors.membership_list(tenant=tenant),
            "invitations": tenant_selectors.invitation_list_pending(tenant=tenant),
        },
    )


@owner_required
def membership_edit(request: HttpRequest, membership_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    membership = tenant_selectors.access_membership(tenant=tenant, membership_id=membership_id)
    locations = tenant_selectors.location_list(tenant=tenant)
    form = MembershipForm(
        request.POST or None,
        locations=locations,
        initial={"role": membership.role, "locations": list(membership.locations.all())},
    )
    if request.method == "POST" and form.is_valid():
        try:
            tenant_services.membership_update(
                membership=membership,
                actor=request.membership,  # type: ignore[attr-defined]
                role=form.cleaned_data["role"],
                location_ids=[loc.pk for loc in form.cleaned_data["locations"]],
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("dashboard:team")
    return render(
        request, "dashboard/membership_edit.html", {"form": form, "membership": membership}
    )


@owner_required
@require_POST
def membership_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    membership = tenant_selectors.access_membership(tenant=tenant, membership_id=membership_id)
    try:
        tenant_services.membership_deactivate(
            membership=membership,
            actor=request.membership,  # type: ignore[attr-defined]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(user)s no longer has access.") % {"user": membership.user})
    return redirect("dashboard:team")


@manager_required
def locations(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = LocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant_services.location_create(tenant=tenant, **form.cleaned_data)
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(request, _("Location added."))
            return redirect("dashboard:locations")
    return render(
        request,
        "dashboard/locations.html",
        {"form": form, "locations": tenant_selectors.location_list(tenant=tenant)},
    )


@owner_required
def api_keys(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _key, new_key = tenant_services.api_key_create(
            tenant=tenant,
            name=form.cleaned_data["name"],
            created_by=request.user,  # type: ignore[arg-type]
        )
        form = ApiKeyForm()
    return render(
        request,
        "dashboard/api_keys.html",
        {"form": form, "new_key": new_key, "keys": tenant_selectors.api_key_list(tenant=tenant)},
    )


@owner_required
@require_POST
def api_key_revoke(request: HttpRequest, api_key_id: int) -> HttpResponse:
    key = tenant_selectors.access_api_key(
        tenant=request.tenant,
        api_key_id=api_key_id,  # type: ignore[attr-defined]
    )
    tenant_services.api_key_revoke(api_key=key)
    messages.success(request, _("Key %(name)s revoked.") % {"name": key.name})
    return redirect("dashboard:api_keys")
