"""The counter at /staff/: scan or find a card, add stamps; redeem vouchers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.access import staff_required


@staff_required
def counter(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/counter.html", {})
