"""The customer's voucher page: the reward, its state, and the code as the template says."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from tenants.scoping import tenant_scope
from vouchers import images, selectors
from vouchers.models import RedemptionMethod, Voucher
from vouchers.services import voucher_refresh


def public_voucher_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Resolves `voucher_token` (404 if unknown) and enters the voucher's tenant."""

    @wraps(view)
    def wrapped(request: HttpRequest, voucher_token: str, **kwargs: Any) -> HttpResponse:
        voucher = selectors.voucher_resolve_public(token=voucher_token)
        if voucher is None:
            raise Http404
        with tenant_scope(voucher.tenant):
            return view(request, voucher, **kwargs)

    return wrapped


def scan_payload(voucher: Voucher) -> str:
    """What the voucher's QR and barcode carry: the code a POS types, or the token staff scan."""
    if voucher.template.method == RedemptionMethod.REDEEM_CODE:
        return voucher.code
    return voucher.token


def voucher_context(voucher: Voucher) -> dict[str, Any]:
    template = voucher.template
    payload = scan_payload(voucher) if (voucher.code or not template.has_code) else ""
    show_code = voucher.is_usable and bool(payload)
    context: dict[str, Any] = {
        "voucher": voucher,
        "template": template,
        "card": voucher.card,
        "program": voucher.card.program,
        "tenant": voucher.tenant,
        "is_code": template.method == RedemptionMethod.REDEEM_CODE,
        "is_self": template.method == RedemptionMethod.SELF,
        "is_staff_scan": template.method == RedemptionMethod.STAFF_SCAN,
        "now": timezone.now(),
    }
    if show_code and template.method == RedemptionMethod.REDEEM_CODE:
        context["qr_svg"] = images.qr_svg(payload) if template.show_qr else ""
        context["barcode_svg"] = images.code128_svg(payload) if template.show_barcode else ""
        context["code_text"] = voucher.code_display if template.show_text else ""
    elif show_code:
        context["qr_svg"] = images.qr_svg(payload)
    return context


@never_cache
@public_voucher_view
def voucher_page(request: HttpRequest, voucher: Voucher) -> HttpResponse:
    voucher_refresh(voucher=voucher)
    context = voucher_context(voucher)
    for provider in page_providers:
        context.update(provider(request, voucher))
    return render(request, "public/voucher.html", context)


# Redemption adds the self-redeem state and its live proof here.
page_providers: list[Callable[[HttpRequest, Voucher], dict[str, Any]]] = []


def _png(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@public_voucher_view
def voucher_qr_png(request: HttpRequest, voucher: Voucher) -> HttpResponse:
    payload = scan_payload(voucher)
    if not payload:
        raise Http404
    return _png(images.qr_png(payload))


@public_voucher_view
def voucher_barcode_png(request: HttpRequest, voucher: Voucher) -> HttpResponse:
    if not voucher.code:
        raise Http404
    return _png(images.code128_png(voucher.code))
