"""Apple's PassKit web service, as Apple specifies it ("Wallet Passes: web service").

POST|DELETE /passkit/v1/devices/<device>/registrations/<passTypeId>/<serial>
GET /passkit/v1/devices/<device>/registrations/<passTypeId>?passesUpdatedSince=<tag>
GET /passkit/v1/passes/<passTypeId>/<serial>        (honours If-Modified-Since)
POST /passkit/v1/log
Requests for a pass carry `Authorization: ApplePass <authenticationToken>`; a wrong serial and
a wrong token get the same 401.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from loyalty.selectors import card_resolve_by_serial
from tenants.scoping import tenant_scope
from wallet import passes, selectors, services

MAX_BODY = 64 * 1024


def _unauthorized() -> HttpResponse:
    return HttpResponse(status=401)


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"detail": message, "code": "invalid"}, status=400)


def passkit_authorized(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Resolves pass type + serial + ApplePass token to the card (in its tenant's scope)."""

    @csrf_exempt
    @wraps(view)
    def wrapped(
        request: HttpRequest, pass_type_id: str, serial: str, **kwargs: Any
    ) -> HttpResponse:
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme != "ApplePass" or not token.strip():
            return _unauthorized()
        if pass_type_id != passes.pass_type_identifier():
            return _unauthorized()
        card = card_resolve_by_serial(serial_number=serial)
        if card is None:
            return _unauthorized()
        with tenant_scope(card.tenant):
            wallet_pass = selectors.wallet_pass_for_card(card=card)
            if wallet_pass is None or not constant_time_compare(
                wallet_pass.authentication_token, token.strip()
            ):
                return _unauthorized()
            return view(request, card=card, wallet_pass=wallet_pass, **kwargs)

    return wrapped


@require_http_methods(["POST", "DELETE"])
@passkit_authorized
def registration(request: HttpRequest, *, card: Any, wallet_pass: Any, device: str) -> HttpResponse:
    if len(device) > 128:
        return _bad_request("deviceLibraryIdentifier is too long.")
    if request.method == "DELETE":
        services.device_unregister(wallet_pass=wallet_pass, device_library_identifier=device)
        return HttpResponse(status=200)
    if len(request.body) > MAX_BODY:
        return _bad_request("Body too large.")
    try:
        payload = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _bad_request("Body must be JSON.")
    push_token = payload.get("pushToken") if isinstance(payload, dict) else None
    if not isinstance(push_token, str) or not push_token.strip() or len(push_token) > 512:
        return _bad_request("pushToken is required.")
    created = services.device_register(
        wallet_pass=wallet_pass, device_library_identifier=device, push_token=push_token.strip()
    )
    return HttpResponse(status=201 if created else 200)


def tag_of(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1_000_000))


@csrf_exempt
@require_http_methods(["GET"])
def serials_updated(request: HttpRequest, device: str, pass_type_id: str) -> HttpResponse:
    since_raw = request.GET.get("passesUpdatedSince")
    since = None
    if since_raw:
        if not since_raw.isdigit() or len(since_raw) > 20:
            return _bad_request("passesUpdatedSince must be a tag this service returned.")
        since = datetime.fromtimestamp(int(since_raw) / 1_000_000, tz=UTC)
    registrations = selectors.registrations_for_device(
        device_library_identifier=device,
        pass_type_matches=pass_type_id == passes.pass_type_identifier(),
        since=since,
    )
    if not registrations:
        return HttpResponse(status=204)
    latest = max(r.wallet_pass.changed_at for r in registrations)
    serials = sorted({r.wallet_pass.card.serial_number for r in registrations})
    return JsonResponse({"serialNumbers": serials, "lastUpdated": tag_of(latest)})


@require_http_methods(["GET"])
@passkit_authorized
def latest_pass(request: HttpRequest, *, card: Any, wallet_pass: Any) -> HttpResponse:
    changed = int(wallet_pass.changed_at.timestamp())
    since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    if since is not None and changed <= since:
        response = HttpResponse(status=304)
    else:
        vouchers, locations = selectors.pass_inputs(card=card)
        data = passes.build_card_pass(
            card, wallet_pass=wallet_pass, vouchers=vouchers, locations=locations
        )
        response = HttpResponse(data, content_type="application/vnd.apple.pkpass")
        services.wallet_pass_mark_fetched(wallet_pass=wallet_pass)
    response["Last-Modified"] = http_date(changed)
    response["Cache-Control"] = "no-cache"
    return response


@csrf_exempt
@require_http_methods(["POST"])
def log(request: HttpRequest) -> HttpResponse:
    if len(request.body) > MAX_BODY:
        return _bad_request("Body too large.")
    try:
        payload = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _bad_request("Body must be JSON.")
    logs = payload.get("logs") if isinstance(payload, dict) else None
    if not isinstance(logs, list):
        return _bad_request("logs must be a list.")
    services.passkit_log_store(messages=logs)
    return HttpResponse(status=200)
