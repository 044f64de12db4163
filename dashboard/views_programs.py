"""Programs: list, create, edit with a live card preview, pause/resume, the join link and QR."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard import qr
from dashboard.forms import ProgramForm
from loyalty import selectors, services
from loyalty.models import Program
from tenants.access import manager_required
from tenants.views import add_validation_error
from wallet.tasks import fan_out_progress

POSTER_SIZES = {"a4": "A4", "a5": "A5"}
# The same glyphs as templates/dashboard/_stamp_icon.html, for the live preview's script.
STAMP_GLYPHS = {
    "coffee": "☕",
    "star": "★",
    "heart": "♥",
    "scissors": "✂",
    "car": "🚗",
    "leaf": "🍃",
    "check": "✓",
}


def _icon_choices() -> list[tuple[str, str]]:
    # The icons are the model's choices; the dashboard only presents them.
    return list(Program.StampIcon.choices)


def join_url(program: Any) -> str:
    return settings.PUBLIC_BASE_URL + reverse("join", args=[program.join_token])


def _show_errors(form: ProgramForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict") and "milestones" in error.error_dict:
        # The service checks milestones as one list; the form shows them above the rows.
        form.add_error(None, error.error_dict.pop("milestones"))
    if hasattr(error, "error_dict") and "logo" in error.error_dict:
        form.add_error("logo", error.error_dict.pop("logo"))
    if not hasattr(error, "error_dict") or error.error_dict:
        add_validation_error(form, error)


def _wallet_update(program: Any | None) -> dict[str, Any] | None:
    """The design change's push to every wallet card, while it runs or shortly after."""
    progress = fan_out_progress(program.pk) if program is not None else None
    if not progress or not progress.get("total"):
        return None  # none running lately, or a program without cards
    total, done = progress["total"], min(progress.get("done", 0), progress["total"])
    return {"total": total, "done": done, "percent": done * 100 // total, "finished": done >= total}


@manager_required
def program_wallet_update(request: HttpRequest, program_id: int) -> JsonResponse:
    """The design fan-out's progress, polled by the program page."""
    program = selectors.access_program(tenant=request.tenant, program_id=program_id)  # type: ignore[attr-defined]
    update = _wallet_update(program) or {"total": 0, "done": 0, "percent": 100, "finished": True}
    return JsonResponse({**update, "done_count": update["done"], "done": update["finished"]})


def _program_form_page(
    request: HttpRequest, form: ProgramForm, program: Any | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "dashboard/program_form.html",
        {
            "form": form,
            "program": program,
            "preview_stamps": 3,
            "stamp_glyphs": STAMP_GLYPHS,
            "wallet_update": _wallet_update(program),
        },
        status=status,
    )


@manager_required
def program_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    return render(
        request,
        "dashboard/programs.html",
        {"programs": selectors.program_list(tenant=tenant)},
    )


@manager_required
def program_create(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = ProgramForm(
        request.POST or None,
        request.FILES or None,
        icon_choices=_icon_choices(),
        initial={"card_color": tenant.brand_color, "stamp_color": tenant.accent_color},
    )
    if request.method == "POST" and form.is_valid():
        try:
            program = services.program_create(tenant=tenant, data=form.service_data())
        except ValidationError as error:
            _show_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is live. Print the join QR and put it on the counter.")
                % {"name": program.name},
            )
            return redirect("dashboard:program_share", program_id=program.pk)
    return _program_form_page(request, form, None, status=400 if form.errors else 200)


@manager_required
def program_edit(request: HttpRequest, program_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    program = selectors.access_program(tenant=tenant, program_id=program_id)
    form = ProgramForm(
        request.POST or None,
        request.FILES or None,
        icon_choices=_icon_choices(),
        initial=ProgramForm.initial_from(program),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.program_update(program=program, data=form.service_data())
        except ValidationError as error:
            _show_errors(form, error)
            # The service set the fields on this instance before refusing; show the saved one.
            program = selectors.access_program(tenant=tenant, program_id=program_id)
        else:
            messages.success(request, _("Saved. Wallet cards update in a moment."))
            return redirect("dashboard:program_edit", program_id=program.pk)
    return _program_form_page(request, form, program, status=400 if form.errors else 200)


@manager_required
@require_POST
def program_set_active(request: HttpRequest, program_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    program = selectors.access_program(tenant=tenant, program_id=program_id)
    active = request.POST.get("active") == "1"
    services.program_set_active(program=program, active=active)
    if active:
        messages.success(request, _("%(name)s is active again.") % {"name": program.name})
    else:
        messages.success(
            request,
            _("%(name)s is paused: no new members or stamps until you resume it.")
            % {"name": program.name},
        )
    target = request.POST.get("next", "")
    if target == "edit":
        return redirect("dashboard:program_edit", program_id=program.pk)
    return redirect("dashboard:programs")


@manager_required
def program_share(request: HttpRequest, program_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    program = selectors.access_program(tenant=tenant, program_id=program_id)
    url = join_url(program)
    return render(
        request,
        "dashboard/program_share.html",
        {
            "program": program,
            "join_url": url,
            "qr_svg": mark_safe(qr.qr_svg(url)),  # noqa: S308 - built by us from a URL
            "poster_sizes": POSTER_SIZES,
        },
    )


def _download_name(program: Any, extension: str) -> str:
    return f"join-{slugify(program.name) or program.pk}.{extension}"


@manager_required
def program_qr_png(request: HttpRequest, program_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    program = selectors.access_program(tenant=tenant, program_id=program_id)
    response = HttpResponse(qr.qr_png(join_url(program)), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="{_download_name(program, "png")}"'
    return response


@manager_required
def program_qr_svg(request: HttpRequest, program_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    program = selectors.access_program(tenant=tenant, program_id=program_id)
    response = HttpResponse(qr.qr_svg_document(join_url(program)), content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="{_download_name(program, "svg")}"'
    return response


@manager_required
def program_poster(request: HttpRequest, program_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    program = selectors.access_program(tenant=tenant, program_id=program_id)
    size = request.GET.get("size", "a4").lower()
    if size not in POSTER_SIZES:
        size = "a4"
    url = join_url(program)
    return render(
        request,
        "dashboard/program_poster.html",
        {
            "program": program,
            "tenant": tenant,
            "size": size,
            "size_label": POSTER_SIZES[size],
            "poster_sizes": POSTER_SIZES,
            "join_url": url,
            "qr_svg": mark_safe(qr.qr_svg(url)),  # noqa: S308 - built by us from a URL
        },
    )
