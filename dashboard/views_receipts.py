"""Receipt codes: one-time stamp codes printed on receipts, made in batches."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from dashboard import qr, queries
from dashboard.forms import ReceiptBatchForm
from loyalty import selectors, services
from loyalty.errors import StampRefused
from tenants.access import manager_required
from tenants.codes import format_code

# A sheet page renders each QR server-side; 120 codes fill three A4 pages and render in well
# under a second. Larger batches print page by page.
SHEET_PAGE_SIZE = 120


def receipt_url(code: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("receipt_scan", args=[code])


@manager_required
def receipt_batches(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    programs = list(selectors.program_list(tenant=tenant).order_by("name"))
    form = ReceiptBatchForm(request.POST or None, programs=programs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        program = selectors.access_program(tenant=tenant, program_id=data["program"])
        try:
            batch = services.receipt_batch_create(
                program=program,
                size=data["size"],
                stamps_each=data["stamps_each"],
                note=data["note"],
                actor=request.user,
            )
        except StampRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(
                request,
                _("%(size)d codes created for %(program)s.")
                % {"size": batch.size, "program": program.name},
            )
            return redirect("dashboard:receipt_batches")
    return render(
        request,
        "dashboard/receipts.html",
        {
            "form": form,
            "programs": programs,
            "batches": selectors.receipt_batch_list(tenant=tenant),
        },
        status=400 if form.errors else 200,
    )


@manager_required
def receipt_sheet(request: HttpRequest, batch_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    batch = selectors.access_receipt_batch(tenant=tenant, batch_id=batch_id)
    page = Paginator(selectors.receipt_codes(batch=batch), SHEET_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    codes = [
        {
            "text": format_code(code.code),
            "claimed": code.claimed_at is not None,
            "qr": mark_safe(qr.qr_svg(receipt_url(code.code))),  # noqa: S308 - built by us
        }
        for code in page.object_list
    ]
    return render(
        request,
        "dashboard/receipt_sheet.html",
        {"batch": batch, "tenant": tenant, "page": page, "codes": codes},
    )


@manager_required
def receipt_csv(request: HttpRequest, batch_id: int) -> StreamingHttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    batch = selectors.access_receipt_batch(tenant=tenant, batch_id=batch_id)
    writer = csv.writer(queries.EchoBuffer())

    def lines() -> Iterator[Any]:
        yield writer.writerow([_("Code"), _("Link"), _("Stamps"), _("Claimed at")])
        for code in selectors.receipt_codes(batch=batch).iterator(chunk_size=1000):
            yield writer.writerow(
                [
                    format_code(code.code),
                    receipt_url(code.code),
                    batch.stamps_each,
                    code.claimed_at.isoformat() if code.claimed_at else "",
                ]
            )

    response = StreamingHttpResponse(
        queries.scoped_stream(tenant, lines()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="receipt-codes-{batch.pk}.csv"'
    return response
