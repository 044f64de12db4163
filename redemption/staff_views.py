"""Staff-scan and Redeem Code at the counter: find the voucher, one Redeem button, done."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from loyalty.staff_views import current_location
from redemption import ratelimits, selectors
from redemption.models import Channel
from redemption.services import (
    UNDO_WINDOW,
    Actor,
    RedemptionRefused,
    redemption_reverse,
    voucher_redeem,
)
from tenants import ratelimit
from tenants.access import manager_required, staff_required
from vouchers import selectors as voucher_selectors
from vouchers.models import Voucher
from vouchers.selectors import voucher_resolve_public
from vouchers.services import lookup_variants, voucher_refresh


def _idents(request: HttpRequest) -> list[tuple[ratelimit.Limit, str]]:
    return ratelimits.identities(ip=ratelimit.client_ip(request), user=request.user)


def _problem(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "redemption/staff_problem.html", {"problem": message}, status=status)


def scan_voucher(request: HttpRequest, scanned: Any) -> HttpResponse | None:
    """Scan handler for the counter: a voucher's token (its QR or URL) or a Redeem Code."""
    if scanned.page not in (None, "voucher"):
        return None
    tenant = request.tenant  # type: ignore[attr-defined]
    idents = _idents(request)
    wait = ratelimits.blocked_for(idents)
    if wait:
        response = _problem(
            request,
            _("Too many unknown codes. Wait %(m)d minutes, then try again.")
            % {"m": max(1, wait // 60)},
            429,
        )
        response["Retry-After"] = str(wait)
        return response
    voucher = voucher_selectors.voucher_get_by_token(tenant=tenant, token=scanned.token)
    if voucher is None and scanned.page is None:
        voucher = voucher_selectors.voucher_find_by_code(
            tenant=tenant, variants=lookup_variants(scanned.raw)
        )
    if voucher is not None:
        return redirect("staff_vouchers:voucher", voucher_id=voucher.pk)
    elsewhere = voucher_resolve_public(token=scanned.token)
    if elsewhere is not None:  # a 160-bit token: saying "not ours" reveals nothing guessable
        return _problem(request, _("This voucher is from another business."), 404)
    if scanned.page == "voucher" or _looks_like_redeem_code(scanned.raw):
        ratelimits.record_failure(
            idents=idents,
            tenant=tenant,
            who=str(request.user.display_name),  # type: ignore[union-attr]
        )
    return None


def _looks_like_redeem_code(raw: str) -> bool:
    """A typed Redeem Code, not a search: one word mixing letters and digits (phone numbers,
    all digits, and names, all letters, are searches)."""
    word = raw.strip().replace("-", "")
    return (
        4 <= len(word) <= 64
        and " " not in word
        and any(c.isdigit() for c in word)
        and any(c.isalpha() for c in word)
    )


def _voucher_context(voucher: Voucher) -> dict[str, Any]:
    customer = voucher.card.customer
    return {
        "voucher": voucher,
        "customer": customer,
        "program": voucher.card.program,
        "template": voucher.template,
        "winner": selectors.redemption_live_for_voucher(voucher=voucher),
    }


@never_cache
@staff_required
def voucher_detail(request: HttpRequest, voucher_id: int) -> HttpResponse:
    voucher = voucher_selectors.access_voucher(tenant=request.tenant, voucher_id=voucher_id)  # type: ignore[attr-defined]
    voucher_refresh(voucher=voucher)
    context = _voucher_context(voucher)
    context["location"] = current_location(request)
    return render(request, "redemption/staff_voucher.html", context)


@require_POST
@staff_required
def voucher_redeem_view(request: HttpRequest, voucher_id: int) -> HttpResponse:
    voucher = voucher_selectors.access_voucher(tenant=request.tenant, voucher_id=voucher_id)  # type: ignore[attr-defined]
    actor = Actor(
        user=request.user,
        membership=request.membership,  # type: ignore[attr-defined]
        location=current_location(request),
    )
    try:
        redemption = voucher_redeem(voucher=voucher, channel=Channel.STAFF, actor=actor)
    except RedemptionRefused as refusal:
        voucher.refresh_from_db()
        context = _voucher_context(voucher)
        context.update({"refusal": refusal, "location": actor.location})
        return render(request, "redemption/staff_voucher.html", context, status=refusal.status_code)
    return redirect("staff_vouchers:redeemed", redemption_id=redemption.pk)


@never_cache
@staff_required
def redeemed(request: HttpRequest, redemption_id: int) -> HttpResponse:
    redemption = selectors.access_redemption(tenant=request.tenant, redemption_id=redemption_id)  # type: ignore[attr-defined]
    can_undo = (
        redemption.reversed_at is None
        and request.membership.has_role("manager")  # type: ignore[attr-defined]
        and timezone.now() - redemption.created_at < UNDO_WINDOW
    )
    return render(
        request,
        "redemption/staff_redeemed.html",
        {
            "redemption": redemption,
            "voucher": redemption.voucher,
            "customer": redemption.voucher.card.customer,
            "can_undo": can_undo,
        },
    )


@require_POST
@manager_required
def undo(request: HttpRequest, redemption_id: int) -> HttpResponse:
    redemption = selectors.access_redemption(tenant=request.tenant, redemption_id=redemption_id)  # type: ignore[attr-defined]
    try:
        redemption_reverse(
            redemption=redemption,
            reason=request.POST.get("reason", ""),
            membership=request.membership,  # type: ignore[attr-defined]
        )
    except RedemptionRefused as refusal:
        messages.error(request, refusal.message)
        return redirect("staff_vouchers:redeemed", redemption_id=redemption.pk)
    messages.success(request, _("Redemption undone. The voucher can be used again."))
    return redirect("staff_vouchers:voucher", voucher_id=redemption.voucher_id)
