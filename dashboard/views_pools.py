"""Code pools: codes from the business's own POS, uploaded (checked first, then imported with
visible progress) so vouchers show the same codes the till accepts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from dashboard import queries
from dashboard.forms_vouchers import CodePoolForm, CodeUploadForm
from tenants.access import manager_required
from tenants.views import add_validation_error
from vouchers import selectors as voucher_selectors
from vouchers import services as voucher_services
from vouchers.errors import VoucherError
from vouchers.models import CodeImport

FINISHED = {CodeImport.Status.DONE, CodeImport.Status.REJECTED}


def _status_row(pool: Any) -> dict[str, Any]:
    status = voucher_selectors.pool_status(pool=pool)
    return {
        "pool": pool,
        **status,
        "low": status["free"] < pool.low_threshold,
        "empty": status["free"] == 0,
    }


@manager_required
def pool_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = CodePoolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pool = voucher_services.code_pool_create(
                tenant=tenant,
                name=form.cleaned_data["name"],
                low_threshold=form.cleaned_data["low_threshold"],
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(
                request, _("%(name)s is ready. Upload its first codes.") % {"name": pool.name}
            )
            return redirect("dashboard:pool_detail", pool_id=pool.pk)
    return render(
        request,
        "dashboard/vouchers/pools.html",
        {"pools": voucher_selectors.pool_list(tenant=tenant), "form": form},
        status=400 if form.errors else 200,
    )


def _pool_page(
    request: HttpRequest, pool: Any, form: CodeUploadForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "dashboard/vouchers/pool_detail.html",
        {
            "row": _status_row(pool),
            "pool": pool,
            "form": form,
            "imports": voucher_selectors.code_import_list(pool=pool),
        },
        status=status,
    )


@manager_required
def pool_detail(request: HttpRequest, pool_id: int) -> HttpResponse:
    """The pool's figures, its recent uploads, and the upload form (POST: check the file)."""
    tenant = request.tenant  # type: ignore[attr-defined]
    pool = voucher_selectors.access_pool(tenant=tenant, pool_id=pool_id)
    form = CodeUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            code_import = voucher_services.code_import_check(
                pool=pool,
                content=form.cleaned_data["content"],
                kind=form.cleaned_data["kind"],
                filename=form.cleaned_data["filename"],
                actor=request.user,
            )
        except VoucherError as error:
            form.add_error(None, error.message)
        else:
            return redirect("dashboard:code_import", import_id=code_import.pk)
    return _pool_page(request, pool, form, status=400 if form.errors else 200)


@manager_required
def code_import_page(request: HttpRequest, import_id: int) -> HttpResponse:
    """The check report with the two import choices, then the progress and the result."""
    tenant = request.tenant  # type: ignore[attr-defined]
    code_import = voucher_selectors.access_code_import(tenant=tenant, import_id=import_id)
    return render(
        request,
        "dashboard/vouchers/code_import.html",
        {
            "code_import": code_import,
            "pool": code_import.pool,
            "is_used": code_import.kind == CodeImport.Kind.USED,
            "checked": code_import.status == CodeImport.Status.CHECKED,
            "finished": code_import.status in FINISHED,
            "percent": _percent(code_import),
            "row": _status_row(code_import.pool),
        },
    )


@manager_required
@require_POST
def code_import_confirm(request: HttpRequest, import_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    code_import = voucher_selectors.access_code_import(tenant=tenant, import_id=import_id)
    action = request.POST.get("action", "")
    try:
        code_import = voucher_services.code_import_confirm(
            code_import=code_import, import_valid_rows=action == "valid"
        )
    except VoucherError as error:
        messages.error(request, error.message)
    else:
        if code_import.status == CodeImport.Status.REJECTED:
            messages.info(request, _("Nothing was imported. Fix the file and upload it again."))
    return redirect("dashboard:code_import", import_id=code_import.pk)


def _percent(code_import: Any) -> int:
    return queries.progress_percent(
        code_import.processed, code_import.valid_rows, code_import.status in FINISHED
    )


@never_cache
@manager_required
def code_import_progress(request: HttpRequest, import_id: int) -> JsonResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    code_import = voucher_selectors.access_code_import(tenant=tenant, import_id=import_id)
    return JsonResponse(
        {
            "status": code_import.status,
            "status_label": str(code_import.get_status_display()),
            "processed": code_import.processed,
            "total": code_import.valid_rows,
            "imported": code_import.imported,
            "errors": len(code_import.errors),
            "percent": _percent(code_import),
            "done": code_import.status in FINISHED,
        }
    )
