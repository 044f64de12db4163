"""The customer's wallet buttons: Add to Apple Wallet (.pkpass) and Save to Google Wallet."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

from loyalty.models import Card
from loyalty.public_views import public_card_view
from wallet import google, passes, selectors, services
from wallet.google_wallet import GoogleWalletError

logger = logging.getLogger(__name__)


@never_cache
@public_card_view
def card_pass(request: HttpRequest, card: Card) -> HttpResponse:
    wallet_pass = services.wallet_pass_ensure(card=card)
    vouchers, locations = selectors.pass_inputs(card=card)
    data = passes.build_card_pass(
        card, wallet_pass=wallet_pass, vouchers=vouchers, locations=locations
    )
    response = HttpResponse(data, content_type="application/vnd.apple.pkpass")
    response["Content-Disposition"] = f'attachment; filename="{card.serial_number}.pkpass"'
    return response


@never_cache
@public_card_view
def google_save(request: HttpRequest, card: Card) -> HttpResponse:
    if not google.google_enabled():
        raise Http404
    wallet_pass = services.wallet_pass_ensure(card=card)
    if not wallet_pass.google_object_id:
        vouchers, locations = selectors.pass_inputs(card=card)
        try:
            object_id = google.insert_object(card, vouchers, locations)
        except GoogleWalletError:
            logger.exception("Google Wallet insert failed for card %s", card.pk)
            return HttpResponse(status=503)
        services.google_object_saved(
            wallet_pass=wallet_pass, object_id=object_id, version=card.version
        )
    return redirect(google.save_url(card))


def wallet_buttons(card: Card) -> dict[str, object]:
    """For the card page (loyalty's page provider hook)."""
    return {
        "apple_pass_url": f"/card/{card.token}/pass.pkpass",
        "apple_dev_certificate": passes.is_development_certificate(),
        "google_enabled": google.google_enabled(),
        "google_save_url": f"/card/{card.token}/google/",
    }
