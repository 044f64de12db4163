"""Self-redeem on the customer's phone: confirm, then a live 'redeemed' screen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from redemption import selectors
from redemption.models import Channel
from redemption.services import Actor, RedemptionRefused, voucher_redeem
from vouchers.models import RedemptionMethod, Voucher
from vouchers.public_views import public_voucher_view

# How long the redeemed screen stays "live" (running clock, animation) for staff to see.
LIVE_PROOF = timedelta(minutes=15)


def voucher_page_context(request: HttpRequest, voucher: Voucher) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if voucher.template.method == RedemptionMethod.SELF and voucher.is_usable:
        context["self_redeem_url"] = reverse("voucher_self_redeem", args=[voucher.token])
    if voucher.state == Voucher.State.REDEEMED:
        redemption = selectors.redemption_live_for_voucher(voucher=voucher)
        if redemption is not None:
            context["redemption"] = redemption
            context["live_proof"] = timezone.now() - redemption.created_at < LIVE_PROOF
    return context


@require_POST
@public_voucher_view
def self_redeem(request: HttpRequest, voucher: Voucher) -> HttpResponse:
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Confirm at the counter to redeem."))
        return redirect("voucher", voucher_token=voucher.token)
    try:
        voucher_redeem(voucher=voucher, channel=Channel.SELF, actor=Actor())
    except RedemptionRefused as refusal:
        messages.error(request, refusal.message)
    return redirect("voucher", voucher_token=voucher.token)
