"""Webhooks: the owner tells Stampwise where to send stamp and voucher events."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tenants import webhooks
from tenants.access import owner_required
from tenants.models import WebhookEndpoint
from tenants.views import add_validation_error


class WebhookForm(forms.Form):
    url = forms.URLField(
        label=gettext_lazy("Send events to (URL)"), max_length=500, assume_scheme="https"
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=WebhookEndpoint.Event.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=webhooks.EVENTS,
    )


@owner_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhooks.webhook_endpoint_create(
                tenant=tenant, url=form.cleaned_data["url"], events=form.cleaned_data["events"]
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(request, _("Webhook added."))
            return redirect("dashboard:webhooks")
    return render(
        request,
        "dashboard/webhooks.html",
        {
            "form": form,
            "endpoints": webhooks.webhook_endpoint_list(tenant=tenant),
            "deliveries": webhooks.webhook_deliveries_recent(tenant=tenant),
        },
        status=400 if form.errors else 200,
    )


@owner_required
@require_POST
def webhook_toggle(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    endpoint = webhooks.access_webhook_endpoint(tenant=tenant, endpoint_id=endpoint_id)
    webhooks.webhook_endpoint_set_active(endpoint=endpoint, active=not endpoint.is_active)
    return redirect("dashboard:webhooks")
