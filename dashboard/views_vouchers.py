"""Smart Vouchers, the owner's side: rewards (voucher templates) with a live preview, their
triggers, and the list of issued vouchers with voiding."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard import qr
from dashboard.forms_vouchers import (
    KINDS_WITH_THRESHOLD,
    TriggerForm,
    VoidForm,
    VoucherFilterForm,
    VoucherTemplateForm,
)
from loyalty import selectors as loyalty_selectors
from tenants.access import manager_required
from tenants.views import add_validation_error
from vouchers import images
from vouchers import selectors as voucher_selectors
from vouchers import services as voucher_services
from vouchers.errors import VoucherError
from vouchers.models import Voucher, VoucherTrigger
from vouchers.services.templates import trigger_set_active

PAGE_SIZE = 50
# The code the live preview shows; never a real one (real codes are random, 50 bits).
SAMPLE_CODE = "K7M2Q-9XRTA"


# --- Rewards ---------------------------------------------------------------------------------


def template_url(template: Any) -> str:
    return reverse("dashboard:reward_edit", args=[template.pk])


def _pools(tenant: Any) -> list[Any]:
    return [row["pool"] for row in voucher_selectors.pool_list(tenant=tenant)]


def _preview_colors(tenant: Any) -> dict[str, str]:
    """The voucher page is drawn in its program's colours; the preview uses the first one."""
    program = (
        loyalty_selectors.program_list_active(tenant=tenant).first()
        or loyalty_selectors.program_list(tenant=tenant).first()
    )
    if program is not None:
        return {
            "bg": program.card_color,
            "ink": program.text_color,
            "stamp": program.stamp_color,
        }
    return {"bg": tenant.brand_color, "ink": "#ffffff", "stamp": tenant.accent_color}


def _form_page(
    request: HttpRequest,
    *,
    form: VoucherTemplateForm,
    template: Any | None,
    trigger_form: TriggerForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "form": form,
        "template": template,
        "has_pools": bool(form.fields["pool"].choices[1:]),  # type: ignore[attr-defined]
        "preview": _preview_colors(tenant),
        "sample_code": SAMPLE_CODE,
        "sample_qr": mark_safe(qr.qr_svg(SAMPLE_CODE.replace("-", ""))),  # noqa: S308 - ours
        "sample_barcode": mark_safe(  # noqa: S308 - drawn by python-barcode from a constant
            images.code128_svg(SAMPLE_CODE.replace("-", ""))
        ),
    }
    if template is not None:
        programs = loyalty_selectors.program_list(tenant=tenant).order_by("name")
        context.update(
            {
                "triggers": voucher_selectors.trigger_list(tenant=tenant, template=template),
                "trigger_form": trigger_form or TriggerForm(programs=programs),
                "threshold_kinds": {k: str(v) for k, v in KINDS_WITH_THRESHOLD.items()},
                "has_programs": programs.exists(),
            }
        )
    return render(request, "dashboard/vouchers/reward_form.html", context, status=status)


def _pool_for(tenant: Any, form: VoucherTemplateForm) -> Any:
    pool_id = form.cleaned_data.get("pool")
    return voucher_selectors.access_pool(tenant=tenant, pool_id=pool_id) if pool_id else None


@manager_required
def reward_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    templates = voucher_selectors.template_list(tenant=tenant).prefetch_related("triggers__program")
    return render(request, "dashboard/vouchers/rewards.html", {"templates": templates})


@manager_required
def reward_create(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = VoucherTemplateForm(request.POST or None, request.FILES or None, pools=_pools(tenant))
    if request.method == "POST" and form.is_valid():
        try:
            template = voucher_services.template_create(
                tenant=tenant, data=form.service_data(pool=_pool_for(tenant, form))
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(
                request,
                _("%(reward)s is saved. Now choose when it is issued.")
                % {"reward": template.reward_title},
            )
            return redirect(f"{template_url(template)}#triggers")
    return _form_page(request, form=form, template=None, status=400 if form.errors else 200)


@manager_required
def reward_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    template = voucher_selectors.access_template(tenant=tenant, template_id=template_id)
    form = VoucherTemplateForm(
        request.POST or None,
        request.FILES or None,
        pools=_pools(tenant),
        initial=VoucherTemplateForm.initial_from(template),
    )
    if request.method == "POST" and form.is_valid():
        try:
            voucher_services.template_update(
                template=template, data=form.service_data(pool=_pool_for(tenant, form))
            )
        except ValidationError as error:
            add_validation_error(form, error)
            # The service set the fields on this instance before refusing; show the saved one.
            template = voucher_selectors.access_template(tenant=tenant, template_id=template_id)
        else:
            messages.success(request, _("Saved. New vouchers use these settings."))
            return redirect("dashboard:reward_edit", template_id=template.pk)
    return _form_page(request, form=form, template=template, status=400 if form.errors else 200)


@manager_required
@require_POST
def trigger_add(request: HttpRequest, template_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    template = voucher_selectors.access_template(tenant=tenant, template_id=template_id)
    programs = loyalty_selectors.program_list(tenant=tenant).order_by("name")
    trigger_form = TriggerForm(request.POST, programs=programs)
    if trigger_form.is_valid():
        data = trigger_form.cleaned_data
        program = loyalty_selectors.access_program(tenant=tenant, program_id=data["program"])
        try:
            trigger = voucher_services.trigger_create(
                template=template, program=program, kind=data["kind"], threshold=data["threshold"]
            )
        except ValidationError as error:
            add_validation_error(trigger_form, error)
        else:
            messages.success(
                request,
                _("Added: %(reward)s is issued on %(program)s — %(when)s.")
                % {"reward": template.reward_title, "program": program.name, "when": trigger},
            )
            return redirect(f"{template_url(template)}#triggers")
    form = VoucherTemplateForm(
        pools=_pools(tenant), initial=VoucherTemplateForm.initial_from(template)
    )
    return _form_page(request, form=form, template=template, trigger_form=trigger_form, status=400)


@manager_required
@require_POST
def trigger_toggle(request: HttpRequest, template_id: int, trigger_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    template = voucher_selectors.access_template(tenant=tenant, template_id=template_id)
    trigger = voucher_selectors.access_trigger(tenant=tenant, trigger_id=trigger_id)
    if trigger.template_id != template.pk or trigger.kind == VoucherTrigger.Kind.BROADCAST:
        raise Http404
    active = request.POST.get("active") == "1"
    try:
        trigger_set_active(trigger=trigger, active=active)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(f"{template_url(template)}#triggers")
    if active:
        messages.success(request, _("The trigger is active again."))
    else:
        messages.success(
            request, _("The trigger is off: no new vouchers from it. Issued ones stay valid.")
        )
    return redirect(f"{template_url(template)}#triggers")


# --- Vouchers --------------------------------------------------------------------------------


@manager_required
def voucher_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = VoucherFilterForm(
        request.GET or None, templates=voucher_selectors.template_list(tenant=tenant)
    )
    vouchers = voucher_selectors.voucher_list(tenant=tenant, **form.filters())
    page = Paginator(vouchers, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dashboard/vouchers/vouchers.html",
        {
            "form": form,
            "page": page,
            "query_string": query.urlencode(),
            "is_filtered": form.is_filtered(),
            "voidable": {Voucher.State.ISSUED, Voucher.State.ACTIVE},
        },
    )


@manager_required
def voucher_void(request: HttpRequest, voucher_id: int) -> HttpResponse:
    """A confirmation page (GET) and the void itself (POST, with a reason)."""
    tenant = request.tenant  # type: ignore[attr-defined]
    voucher = voucher_selectors.access_voucher(tenant=tenant, voucher_id=voucher_id)
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            voucher_services.voucher_void(
                voucher=voucher, reason=form.cleaned_data["reason"], actor=request.user
            )
        except VoucherError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Voided: %(reward)s for %(customer)s. The customer's wallet updates shortly.")
                % {"reward": voucher.reward_title, "customer": voucher.card.customer.name},
            )
        return redirect("dashboard:vouchers")
    return render(
        request,
        "dashboard/vouchers/voucher_void.html",
        {
            "voucher": voucher,
            "form": form,
            "voidable": voucher.state in (Voucher.State.ISSUED, Voucher.State.ACTIVE),
        },
        status=400 if form.errors else 200,
    )
