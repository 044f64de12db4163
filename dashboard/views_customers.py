"""Customers: search and filters, CSV export, the customer's cards and journal, corrections,
and erasure on request."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard import queries
from dashboard.forms import CustomerFilterForm, StampCorrectionForm
from loyalty import selectors, services
from loyalty.errors import StampRefused
from tenants.access import manager_required, owner_required
from wallet.selectors import wallet_status_for_cards

PAGE_SIZE = 50
JOURNAL_LIMIT = 50


def _filtered(request: HttpRequest) -> tuple[CustomerFilterForm, Any]:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = CustomerFilterForm(
        request.GET or None, programs=selectors.program_list(tenant=tenant).order_by("name")
    )
    customers = selectors.customer_list(tenant=tenant, **form.filters())
    return form, customers


@manager_required
def customer_list(request: HttpRequest) -> HttpResponse:
    form, customers = _filtered(request)
    page = Paginator(queries.with_cards(customers), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dashboard/customers.html",
        {
            "form": form,
            "page": page,
            "rows": [queries.customer_row(customer) for customer in page.object_list],
            "query_string": query.urlencode(),
            "is_filtered": form.is_filtered(),
        },
    )


@manager_required
def customer_export(request: HttpRequest) -> StreamingHttpResponse:
    _form, customers = _filtered(request)
    tenant = request.tenant  # type: ignore[attr-defined]
    writer = csv.writer(queries.EchoBuffer())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # so spreadsheet apps read the file as UTF-8
        yield writer.writerow(
            [
                _("Name"),
                _("Email"),
                _("Phone"),
                _("Joined"),
                _("Programs"),
                _("Stamps"),
                _("Visits"),
                _("Last visit"),
                _("Marketing consent"),
            ]
        )
        for customer in queries.with_cards(customers).iterator(chunk_size=500):
            row = queries.customer_row(customer)
            yield writer.writerow(
                [
                    queries.csv_safe(customer.name),
                    queries.csv_safe(customer.email),
                    queries.csv_safe(customer.phone),
                    timezone.localtime(customer.created_at, tenant.tzinfo).date().isoformat(),
                    queries.csv_safe("; ".join(row["programs"])),
                    row["stamps"],
                    row["visits"],
                    row["last_visit"].isoformat() if row["last_visit"] else "",
                    _("yes") if customer.marketing_consent else _("no"),
                ]
            )

    stamp = timezone.localtime(timezone.now(), tenant.tzinfo).strftime("%Y-%m-%d")
    response = StreamingHttpResponse(
        queries.scoped_stream(tenant, lines()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
    return response


def _detail_page(
    request: HttpRequest,
    customer: Any,
    *,
    bound_form: StampCorrectionForm | None = None,
    bound_card_id: int | None = None,
    status: int = 200,
) -> HttpResponse:
    cards = []
    customer_cards = list(selectors.card_list_for_customer(customer=customer))
    wallets = wallet_status_for_cards(cards=customer_cards)
    for card in customer_cards:
        form = (
            bound_form
            if card.pk == bound_card_id
            else StampCorrectionForm(auto_id=f"id_c{card.pk}_%s")
        )
        cards.append(
            {
                "card": card,
                "journal": selectors.card_journal(card=card, limit=JOURNAL_LIMIT),
                "form": form,
                "public_url": reverse("card", args=[card.token]),
                "wallet": wallets.get(card.pk),
            }
        )
    return render(
        request,
        "dashboard/customer_detail.html",
        {"customer": customer, "cards": cards, "journal_limit": JOURNAL_LIMIT},
        status=status,
    )


@manager_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    customer = selectors.access_customer(tenant=tenant, customer_id=customer_id)
    return _detail_page(request, customer)


@manager_required
@require_POST
def card_correct(request: HttpRequest, customer_id: int, card_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    customer = selectors.access_customer(tenant=tenant, customer_id=customer_id)
    card = selectors.access_card(tenant=tenant, card_id=card_id)
    if card.customer_id != customer.pk:
        raise Http404
    form = StampCorrectionForm(request.POST, auto_id=f"id_c{card.pk}_%s")
    if form.is_valid():
        try:
            outcome = services.card_correct_stamps(
                card=card,
                delta=form.cleaned_data["delta"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except StampRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(
                request,
                _("Corrected. The card has %(stamps)d of %(goal)d stamps now.")
                % {"stamps": outcome.card.stamps, "goal": card.program.stamp_goal},
            )
            return redirect(
                f"{reverse('dashboard:customer_detail', args=[customer.pk])}#card-{card.pk}"
            )
    return _detail_page(request, customer, bound_form=form, bound_card_id=card.pk, status=400)


@owner_required
def customer_erase(request: HttpRequest, customer_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    customer = selectors.access_customer(tenant=tenant, customer_id=customer_id)
    if customer.erased_at is not None:
        messages.info(request, _("This customer's personal data was already erased."))
        return redirect("dashboard:customer_detail", customer_id=customer.pk)
    if request.method == "POST":
        if request.POST.get("confirm") != "erase":
            messages.error(request, _("Tick the box to confirm the erasure."))
            return redirect("dashboard:customer_erase", customer_id=customer.pk)
        services.customer_erase(customer=customer, actor=request.user)
        messages.success(
            request,
            _("Personal data erased. The anonymous stamp history stays for your numbers."),
        )
        return redirect("dashboard:customers")
    return render(
        request,
        "dashboard/customer_erase.html",
        {
            "customer": customer,
            "cards": selectors.card_list_for_customer(customer=customer),
        },
    )
