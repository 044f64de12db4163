"""The customer's pages: join from the QR, the card, and claiming kiosk/receipt stamps.

No login: the unguessable token in the URL names the card (or program) and its tenant, and
each view runs inside that tenant's scope.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from loyalty import hooks, selectors, services
from loyalty.errors import JoinRefused, LoyaltyError
from loyalty.forms import ClaimForm, JoinForm
from loyalty.models import Card
from loyalty.qr import qr_svg
from loyalty.services.channels import kiosk_token_read
from tenants import ratelimit
from tenants.scoping import tenant_scope

JOIN_LIMIT = ratelimit.Limit("join-ip", *settings.JOIN_RATE_LIMIT)
CLAIM_FAIL_LIMIT = ratelimit.Limit("claim-fail-ip", 20, 15 * 60)
CARDS_COOKIE = "sw_cards"
CARDS_COOKIE_MAX = 8


def public_card_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Resolves `card_token` to the card (404 if unknown) and enters the card's tenant."""

    @wraps(view)
    def wrapped(request: HttpRequest, card_token: str, **kwargs: Any) -> HttpResponse:
        card = selectors.card_resolve_public(token=card_token)
        if card is None:
            raise Http404
        with tenant_scope(card.tenant):
            return view(request, card, **kwargs)

    return wrapped


def remembered_cards(request: HttpRequest) -> list[str]:
    """Card tokens this browser opened, so a kiosk or receipt QR scanned with the phone's
    camera knows whose card to stamp."""
    raw = request.get_signed_cookie(CARDS_COOKIE, default="", salt=CARDS_COOKIE)
    return [token for token in raw.split(",") if token][:CARDS_COOKIE_MAX]


def remember_card(request: HttpRequest, response: HttpResponse, card: Card) -> None:
    tokens = [card.token] + [t for t in remembered_cards(request) if t != card.token]
    response.set_signed_cookie(
        CARDS_COOKIE,
        ",".join(tokens[:CARDS_COOKIE_MAX]),
        salt=CARDS_COOKIE,
        max_age=3 * 365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def join(request: HttpRequest, join_token: str) -> HttpResponse:
    program = selectors.program_resolve_join(join_token=join_token)
    if program is None:
        return render(request, "public/join_unknown.html", status=404)
    with tenant_scope(program.tenant):
        if not program.is_active:
            return render(request, "public/join_paused.html", {"program": program}, status=410)
        form = JoinForm(request.POST or None, initial={"receipt": request.GET.get("r", "")})
        status = 200
        if request.method == "POST":
            ip = ratelimit.client_ip(request)
            wait = ratelimit.is_limited(JOIN_LIMIT, ip)
            if wait:
                form.add_error(None, _("Too many sign-ups from this network. Try again later."))
                response = render(
                    request, "public/join.html", {"program": program, "form": form}, status=429
                )
                response["Retry-After"] = str(wait)
                return response
            if form.is_valid():
                data = form.cleaned_data
                try:
                    card, created = services.customer_join(
                        program=program,
                        name=data["name"],
                        email=data["email"],
                        phone=data["phone"],
                        birthday=data["birthday"],
                        marketing_consent=data["marketing_consent"],
                    )
                except JoinRefused as refusal:
                    form.add_error(None, refusal.message)
                    status = 400
                else:
                    ratelimit.hit(JOIN_LIMIT, ip)
                    if not created:
                        messages.info(request, _("Welcome back! This is your card."))
                    if data.get("receipt"):
                        _claim_receipt(request, card, data["receipt"])
                    response = redirect("card", card_token=card.token)
                    remember_card(request, response, card)
                    return response
            else:
                status = 400
        return render(
            request, "public/join.html", {"program": program, "form": form}, status=status
        )


def _card_context(card: Card) -> dict[str, Any]:
    program = card.program
    goal = program.stamp_goal
    milestones = {int(m["stamps"]): m["reward"] for m in program.milestone_list()}
    slots = [
        {"n": n, "filled": n <= card.stamps, "milestone": milestones.get(n)}
        for n in range(1, goal + 1)
    ]
    next_milestone = next(
        ({"stamps": n, "reward": r} for n, r in sorted(milestones.items()) if n > card.stamps),
        None,
    )
    extra: dict[str, Any] = {}
    for provider in hooks.card_page_providers:
        extra.update(provider(card))
    return {
        "card": card,
        "program": program,
        "tenant": card.tenant,
        "slots": slots,
        "remaining": goal - card.stamps,
        "percent": round(100 * card.stamps / goal),
        "next_milestone": next_milestone,
        **extra,
    }


@never_cache
@public_card_view
def card(request: HttpRequest, card: Card) -> HttpResponse:
    context = _card_context(card)
    context["claim_form"] = ClaimForm()
    context["card_qr"] = qr_svg(card.token)
    response = render(request, "public/card.html", context)
    remember_card(request, response, card)
    return response


@never_cache
@public_card_view
def card_state(request: HttpRequest, card: Card) -> HttpResponse:
    """The live part of the card page; 204 while the card's version is unchanged."""
    if request.GET.get("v") == str(card.version):
        return HttpResponse(status=204)
    return render(request, "public/_card_state.html", _card_context(card))


@public_card_view
def card_qr(request: HttpRequest, card: Card) -> HttpResponse:
    response = HttpResponse(qr_svg(card.token), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_POST
@public_card_view
def card_claim(request: HttpRequest, card: Card) -> HttpResponse:
    """A receipt code typed on the card page, or a kiosk QR scanned from it."""
    form = ClaimForm(request.POST)
    if form.is_valid() and form.cleaned_data["kiosk"]:
        _claim_kiosk(request, card, form.cleaned_data["kiosk"])
    elif form.is_valid() and form.cleaned_data["code"]:
        _claim_receipt(request, card, form.cleaned_data["code"])
    else:
        messages.error(request, _("Enter the code printed on your receipt."))
    return redirect("card", card_token=card.token)


def _claim_receipt(request: HttpRequest, card: Card, code: str) -> None:
    ip = ratelimit.client_ip(request)
    if ratelimit.is_limited(CLAIM_FAIL_LIMIT, ip):
        messages.error(request, _("Too many wrong codes. Try again in a few minutes."))
        return
    try:
        outcome = services.receipt_code_claim(card=card, code=code)
    except LoyaltyError as refusal:
        if refusal.code == "unknown_code":
            ratelimit.hit(CLAIM_FAIL_LIMIT, ip)
        messages.error(request, refusal.message)
    else:
        messages.success(request, outcome.message)


def _claim_kiosk(request: HttpRequest, card: Card, token: str) -> None:
    try:
        outcome = services.kiosk_claim(card=card, token=token)
    except LoyaltyError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, outcome.message)


def _remembered_card_for(request: HttpRequest, *, program_ids: set[int]) -> Card | None:
    for token in remembered_cards(request):
        found = selectors.card_resolve_public(token=token)
        if found is not None and found.program_id in program_ids:
            return found
    return None


def kiosk_scan(request: HttpRequest, kiosk_token: str) -> HttpResponse:
    """The kiosk QR opened with the phone's camera: stamps the card this browser holds."""
    payload = kiosk_token_read(kiosk_token)
    if payload is None:
        return render(
            request,
            "public/claim_problem.html",
            {"problem": _("This is not a valid kiosk code.")},
            status=400,
        )
    card = _remembered_card_for(request, program_ids={payload["p"]})
    if card is None:
        return render(
            request,
            "public/claim_problem.html",
            {
                "problem": _("Open your stamp card on this phone first, then scan the code again."),
            },
            status=404,
        )
    with tenant_scope(card.tenant):
        _claim_kiosk(request, card, kiosk_token)
    return redirect("card", card_token=card.token)


def receipt_scan(request: HttpRequest, code: str) -> HttpResponse:
    """A receipt's QR opened with the phone's camera."""
    tenant_ids = selectors.receipt_code_tenant_id(code=code)
    if not tenant_ids:
        ratelimit.hit(CLAIM_FAIL_LIMIT, ratelimit.client_ip(request))
        return render(
            request,
            "public/claim_problem.html",
            {"problem": _("We don't know this code.")},
            status=404,
        )
    for token in remembered_cards(request):
        card = selectors.card_resolve_public(token=token)
        if card is not None and card.tenant_id in tenant_ids:
            with tenant_scope(card.tenant):
                _claim_receipt(request, card, code)
            return redirect("card", card_token=card.token)
    program = selectors.receipt_code_program(code=code)
    if program is None or not program.is_active:
        return render(
            request,
            "public/claim_problem.html",
            {"problem": _("This code can no longer be used.")},
            status=410,
        )
    return redirect(f"{reverse('join', args=[program.join_token])}?r={code}")
