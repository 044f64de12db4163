"""Campaigns: a one-off voucher for a segment of a program's customers, with a live count of
who matches and a progress bar while it is sent."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from dashboard import queries
from dashboard.forms_vouchers import CampaignForm, SegmentCountForm
from loyalty import selectors as loyalty_selectors
from tenants.access import manager_required
from vouchers import selectors as voucher_selectors
from vouchers import services as voucher_services
from vouchers.models import Campaign

FINISHED = {Campaign.Status.DONE, Campaign.Status.FAILED}


def _percent(campaign: Any) -> int:
    return queries.progress_percent(campaign.processed, campaign.total, campaign.status in FINISHED)


def _choices(tenant: Any) -> dict[str, Any]:
    return {
        "templates": voucher_selectors.template_list(tenant=tenant).filter(is_active=True),
        "programs": loyalty_selectors.program_list(tenant=tenant).order_by("name"),
    }


@manager_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    rows = [
        {"campaign": campaign, "percent": _percent(campaign)}
        for campaign in voucher_selectors.campaign_list(tenant=tenant)
    ]
    return render(request, "dashboard/vouchers/campaigns.html", {"rows": rows})


@manager_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    choices = _choices(tenant)
    form = CampaignForm(request.POST or None, **choices)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        campaign = voucher_services.campaign_create(
            tenant=tenant,
            name=data["name"],
            template=voucher_selectors.access_template(tenant=tenant, template_id=data["template"]),
            program=loyalty_selectors.access_program(tenant=tenant, program_id=data["program"]),
            segment=form.segment(),
            actor=request.user,
        )
        messages.success(
            request,
            ngettext(
                "%(name)s is on its way to %(n)d customer.",
                "%(name)s is on its way to %(n)d customers.",
                campaign.total,
            )
            % {"name": campaign.name, "n": campaign.total},
        )
        return redirect("dashboard:campaign_detail", campaign_id=campaign.pk)
    return render(
        request,
        "dashboard/vouchers/campaign_form.html",
        {
            "form": form,
            "can_send": choices["templates"].exists() and choices["programs"].exists(),
            "has_templates": choices["templates"].exists(),
        },
        status=400 if form.errors else 200,
    )


@never_cache
@manager_required
def campaign_segment_count(request: HttpRequest) -> JsonResponse:
    """How many of a program's customers the segment matches (the form's live count)."""
    tenant = request.tenant  # type: ignore[attr-defined]
    raw_program = request.GET.get("program", "")
    if not raw_program.isdigit():
        return JsonResponse(
            {"detail": _("Choose a program."), "code": "program_required"}, status=400
        )
    program = loyalty_selectors.access_program(tenant=tenant, program_id=int(raw_program))
    form = SegmentCountForm(request.GET, templates=[], programs=[program])
    if not form.is_valid():
        return JsonResponse(
            {
                "detail": _("Check the filters."),
                "code": "invalid",
                "errors": {name: [str(e) for e in errs] for name, errs in form.errors.items()},
            },
            status=400,
        )
    count = loyalty_selectors.cards_for_segment(program=program, segment=form.segment()).count()
    return JsonResponse({"count": count})


@manager_required
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    campaign = voucher_selectors.access_campaign(tenant=tenant, campaign_id=campaign_id)
    trigger = voucher_selectors.access_trigger(tenant=tenant, trigger_id=campaign.trigger_id)
    return render(
        request,
        "dashboard/vouchers/campaign_detail.html",
        {
            "campaign": campaign,
            "template": trigger.template,
            "program": trigger.program,
            "segment": _segment_lines(campaign.segment),
            "percent": _percent(campaign),
            "finished": campaign.status in FINISHED,
        },
    )


def _segment_lines(segment: dict[str, Any]) -> list[str]:
    """The segment in words, for the campaign page."""
    labels = {
        "min_stamps": _("At least %(v)s stamps"),
        "min_visits": _("At least %(v)s visits"),
        "joined_after": _("Joined on or after %(v)s"),
        "last_visit_after": _("Last visit on or after %(v)s"),
        "last_visit_before": _("Last visit before %(v)s"),
    }
    lines = [
        labels[key] % {"v": _shown(segment[key])}
        for key in labels
        if segment.get(key) not in (None, "")
    ]
    if segment.get("marketing_consent"):
        lines.append(_("Only customers with marketing consent"))
    return lines or [_("Every customer of the program")]


def _shown(value: Any) -> str:
    """Segment dates are stored as ISO strings; show them in the business's date format."""
    if isinstance(value, str):
        try:
            return date_format(date.fromisoformat(value), "DATE_FORMAT")
        except ValueError:
            return value
    return str(value)


@never_cache
@manager_required
def campaign_progress(request: HttpRequest, campaign_id: int) -> JsonResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    campaign = voucher_selectors.access_campaign(tenant=tenant, campaign_id=campaign_id)
    return JsonResponse(
        {
            "status": campaign.status,
            "status_label": str(campaign.get_status_display()),
            "processed": campaign.processed,
            "total": campaign.total,
            "issued": campaign.issued,
            "percent": _percent(campaign),
            "done": campaign.status in FINISHED,
        }
    )
