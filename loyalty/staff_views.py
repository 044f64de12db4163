"""The counter at /staff/: scan or find a card, add stamps; the kiosk QR for tablets.

Every action is attributed to the logged-in person and the location chosen on the counter.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from loyalty import hooks, selectors
from loyalty.errors import StampRefused
from loyalty.models import Card, Program, StampSource
from loyalty.qr import qr_svg
from loyalty.services import StampOutcome, card_add_stamps, kiosk_token_issue
from loyalty.services.channels import KIOSK_ROTATION_SECONDS
from loyalty.staff_forms import MAX_STAMPS_AT_COUNTER, LocationForm, ScanForm, StampForm
from loyalty.staff_queries import staff_recent_events
from tenants import ratelimit
from tenants.access import staff_required
from tenants.models import Location
from tenants.selectors import access_location, location_list

NONCE_TTL = 10 * 60  # a stamp form can be submitted once within ten minutes
# Unknown codes scanned or typed: a person gets 30 per 15 minutes, a shop's IP (shared by
# its counters) 100. Tokens are unguessable; this is for the short codes handlers to come.
SCAN_MISS_LIMITS = (
    (ratelimit.Limit("staff-scan-miss-user", 30, 15 * 60), "user"),
    (ratelimit.Limit("staff-scan-miss-ip", 100, 15 * 60), "ip"),
)
_PENDING = "pending"
_TOKENISH = re.compile(r"^[A-Za-z0-9_\-:.]{16,}$")


# --- location -------------------------------------------------------------------------------


def _location_session_key(request: HttpRequest) -> str:
    return f"staff_location:{request.tenant.pk}"  # type: ignore[attr-defined]


def allowed_locations(request: HttpRequest) -> list[Location]:
    """The locations this membership may work at: its own list, or every one if it has none."""
    membership = request.membership  # type: ignore[attr-defined]
    own = list(membership.locations.all())
    return own or list(location_list(tenant=request.tenant))  # type: ignore[attr-defined]


def current_location(request: HttpRequest) -> Location | None:
    """The location chosen on the counter (remembered in the session), else the first allowed."""
    allowed = allowed_locations(request)
    chosen = request.session.get(_location_session_key(request))
    for location in allowed:
        if location.pk == chosen:
            return location
    return allowed[0] if allowed else None


# --- scanning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scanned:
    """A scanned or typed value. A URL of one of our public pages is read as that page's
    token (`page` is its URL name, e.g. "card"); anything else is kept as typed."""

    raw: str
    page: str | None
    token: str

    @property
    def looks_like_code(self) -> bool:
        return self.page is not None or bool(_TOKENISH.match(self.raw))


def read_scan(raw: str) -> Scanned:
    value = raw.strip()
    parts = urlsplit(value)
    if parts.scheme in {"http", "https"} and parts.path:
        try:
            match = resolve(parts.path)
        except Resolver404:
            return Scanned(value, "", value)
        tokens = [str(v) for k, v in match.kwargs.items() if k.endswith(("token", "code"))]
        if tokens:
            return Scanned(value, match.url_name or "", tokens[0])
        return Scanned(value, "", value)
    return Scanned(value, None, value)


def _scan_card(request: HttpRequest, scanned: Scanned) -> HttpResponse | None:
    if scanned.page not in (None, "card"):
        return None
    card = selectors.card_get_by_token(tenant=request.tenant, token=scanned.token)  # type: ignore[attr-defined]
    if card is None:
        return None
    return redirect("staff:card", card_id=card.pk)


# Each handler answers for what it recognises (a redirect to its confirm screen) or None.
# Vouchers (staff-scan token, redeem code) plug in here next to the card.
SCAN_HANDLERS: list[Callable[[HttpRequest, Scanned], HttpResponse | None]] = [_scan_card]


def _scan_limits(request: HttpRequest) -> list[tuple[ratelimit.Limit, str]]:
    idents = {"user": str(request.user.pk), "ip": ratelimit.client_ip(request)}
    return [(limit, idents[kind]) for limit, kind in SCAN_MISS_LIMITS]


@require_POST
@staff_required
def scan(request: HttpRequest) -> HttpResponse:
    """What was scanned or typed: one of ours -> its screen; otherwise a customer search."""
    form = ScanForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Scan a code or type a name, email or phone number."))
        return redirect("staff:counter")
    limits = _scan_limits(request)
    if any(ratelimit.is_limited(limit, ident) for limit, ident in limits):
        return _counter_page(
            request,
            error=_("Too many unknown codes. Wait a few minutes, then try again."),
            status=429,
        )
    scanned = read_scan(form.cleaned_data["code"])
    for handler in SCAN_HANDLERS:
        response = handler(request, scanned)
        if response is not None:
            return response
    if scanned.looks_like_code:
        for limit, ident in limits:
            ratelimit.hit(limit, ident)
        return _counter_page(
            request,
            error=_("No card matches this code. Is it one of our cards? Try searching by name."),
            status=404,
        )
    return redirect(f"{reverse('staff:counter')}?{urlencode({'q': scanned.raw})}")


# --- the counter ----------------------------------------------------------------------------


def _counter_page(
    request: HttpRequest, *, error: str = "", status: int = 200, query: str = ""
) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    results = selectors.card_search(tenant=tenant, query=query) if query else []
    context = {
        "scan_form": ScanForm(initial={"code": query} if query else None),
        "query": query,
        "results": [_card_summary(card) for card in results],
        "error": error,
        "locations": allowed_locations(request),
        "location": current_location(request),
        "recent": staff_recent_events(tenant=tenant, user=request.user),
        "autostart_scanner": request.GET.get("scan") == "1",
    }
    return render(request, "staff/counter.html", context, status=status)


@require_GET
@never_cache
@staff_required
def counter(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    return _counter_page(request, query=query)


@require_POST
@staff_required
def location_set(request: HttpRequest) -> HttpResponse:
    """Choose where this person works now. Another tenant's location is 404; one of ours that
    the membership is not allowed at is 403 (the counter never offers it)."""
    form = LocationForm(request.POST)
    if not form.is_valid():
        raise Http404
    location = access_location(tenant=request.tenant, location_id=form.cleaned_data["location"])  # type: ignore[attr-defined]
    if location.pk not in {allowed.pk for allowed in allowed_locations(request)}:
        raise PermissionDenied
    request.session[_location_session_key(request)] = location.pk
    messages.success(request, _("You are working at %(location)s.") % {"location": location.name})
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("staff:counter")
    return redirect(next_url)


# --- a card ---------------------------------------------------------------------------------


def _card_extras(card: Card) -> dict[str, Any]:
    """What other apps add to a card's page (the customer's vouchers)."""
    extra: dict[str, Any] = {}
    for provider in hooks.card_page_providers:
        extra.update(provider(card))
    return extra


def _card_summary(card: Card) -> dict[str, Any]:
    program = card.program
    goal = program.stamp_goal
    return {
        "card": card,
        "goal": goal,
        "to_go": max(goal - card.stamps, 0),
        "percent": round(100 * card.stamps / goal) if goal else 0,
    }


def stamp_slots(card: Card, *, landed: range | None = None) -> list[dict[str, Any]]:
    """One entry per stamp position of the current cycle, for the stamp-card picture."""
    program = card.program
    milestones = {int(m["stamps"]): m.get("reward", "") for m in program.milestone_list()}
    landed = landed or range(0)
    return [
        {
            "position": position,
            "filled": position <= card.stamps,
            "milestone": milestones.get(position, ""),
            "goal": position == program.stamp_goal,
            "landed": position in landed,
            "delay": 120 * (position - landed.start) if position in landed else 0,
        }
        for position in range(1, program.stamp_goal + 1)
    ]


def _nonce_key(request: HttpRequest, nonce: str) -> str:
    return f"staff-stamp:{request.tenant.pk}:{request.user.pk}:{nonce}"  # type: ignore[attr-defined]


def _outcome_result(outcome: StampOutcome) -> dict[str, Any]:
    """What the result screen shows, kept in the cache (plain data, not model objects)."""
    card, event = outcome.card, outcome.event
    unlocked = []
    for item in outcome.unlocked:
        reward = getattr(item, "reward_title", "") or ""
        unlocked.append({"text": str(item), "reward": str(reward)})
    return {
        "card_id": card.pk,
        "added": event.count,
        "stamps": card.stamps,
        "goal": card.program.stamp_goal,
        "stamps_before": event.stamps_before,
        "cycles_completed": outcome.cycles_completed,
        "reward": card.program.reward_text,
        "milestones": [
            {"stamps": int(m["stamps"]), "reward": str(m.get("reward", ""))}
            for m in outcome.milestones
        ],
        "unlocked": unlocked,
    }


def _card_page(
    request: HttpRequest,
    card: Card,
    *,
    result: dict[str, Any] | None = None,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    landed = None
    if result:
        first = 1 if result["cycles_completed"] else result["stamps_before"] + 1
        landed = range(first, card.stamps + 1)
    # A fresh nonce on every render: each shown form may stamp once.
    form = StampForm(initial={"count": 1, "nonce": uuid.uuid4()})
    count_labels = {
        n: ngettext("Add %(n)d stamp", "Add %(n)d stamps", n) % {"n": n}
        for n in range(1, MAX_STAMPS_AT_COUNTER + 1)
    }
    context = {
        **_card_summary(card),
        "program": card.program,
        "customer": card.customer,
        "slots": stamp_slots(card, landed=landed),
        "milestones": card.program.milestone_list(),
        "form": form,
        "nonce": form.initial["nonce"],
        "max_count": MAX_STAMPS_AT_COUNTER,
        "count_labels": count_labels,
        "add_label": count_labels[2],
        "result": result,
        "refusal": refusal,
        "journal": selectors.card_journal(card=card, limit=10),
        "rewards": [v for v in _card_extras(card).get("vouchers", []) if v.is_usable],
        "location": current_location(request),
        "locations": allowed_locations(request),
        "last_stamp_just_now": card.last_stamp_at is not None
        and (timezone.now() - card.last_stamp_at).total_seconds() < 60,
    }
    return render(request, "staff/card.html", context, status=status)


@require_GET
@never_cache
@staff_required
def card_detail(request: HttpRequest, card_id: int) -> HttpResponse:
    card = selectors.access_card(tenant=request.tenant, card_id=card_id)  # type: ignore[attr-defined]
    result = None
    done = request.GET.get("done", "")
    if done:
        cached = cache.get(_nonce_key(request, done[:64]))
        if isinstance(cached, dict) and cached.get("card_id") == card.pk:
            result = cached
    return _card_page(request, card, result=result)


@require_POST
@staff_required
def card_stamp(request: HttpRequest, card_id: int) -> HttpResponse:
    """Add 1..10 stamps. The form's one-time nonce makes a second submit a replay, not a
    second stamp: the first answer is shown again."""
    card = selectors.access_card(tenant=request.tenant, card_id=card_id)  # type: ignore[attr-defined]
    form = StampForm(request.POST)
    if not form.is_valid():
        problem = _("Choose between 1 and %(max)d stamps.") % {"max": MAX_STAMPS_AT_COUNTER}
        if "nonce" in form.errors:
            problem = _("This form has expired. Please try again.")
        return _card_page(request, card, refusal=problem, status=400)
    nonce = form.cleaned_data["nonce"].hex
    key = _nonce_key(request, nonce)
    done_url = f"{reverse('staff:card', args=[card.pk])}?{urlencode({'done': nonce})}"
    if not cache.add(key, _PENDING, timeout=NONCE_TTL):
        if isinstance(cache.get(key), dict):
            return redirect(done_url)
        messages.info(request, _("That was already sent; the stamps were added once."))
        return redirect("staff:card", card_id=card.pk)
    try:
        outcome = card_add_stamps(
            card=card,
            count=form.cleaned_data["count"],
            source=StampSource.STAFF,
            actor=request.user,
            location=current_location(request),
        )
    except StampRefused as refusal:
        cache.delete(key)  # nothing happened: the same form may be sent again
        card.refresh_from_db()
        return _card_page(request, card, refusal=refusal.message, status=refusal.status_code)
    cache.set(key, _outcome_result(outcome), timeout=NONCE_TTL)
    return redirect(done_url)


# --- the kiosk ------------------------------------------------------------------------------


@require_GET
@staff_required
def kiosk_list(request: HttpRequest) -> HttpResponse:
    programs = selectors.program_list_active(tenant=request.tenant)  # type: ignore[attr-defined]
    return render(request, "staff/kiosk_list.html", {"programs": programs})


def _kiosk_state(program: Program) -> dict[str, Any]:
    now = timezone.now()
    token = kiosk_token_issue(program=program, now=now)
    url = settings.PUBLIC_BASE_URL + reverse("kiosk_scan", args=[token])
    expires_in = KIOSK_ROTATION_SECONDS - int(now.timestamp()) % KIOSK_ROTATION_SECONDS
    return {"url": url, "svg": qr_svg(url), "expires_in": expires_in}


@require_GET
@never_cache
@staff_required
def kiosk(request: HttpRequest, program_id: int) -> HttpResponse:
    program = selectors.access_program(tenant=request.tenant, program_id=program_id)  # type: ignore[attr-defined]
    context = {
        "program": program,
        "state": _kiosk_state(program) if program.is_active else None,
        "rotation": KIOSK_ROTATION_SECONDS,
    }
    return render(request, "staff/kiosk.html", context)


@require_GET
@never_cache
@staff_required
def kiosk_token(request: HttpRequest, program_id: int) -> JsonResponse:
    program = selectors.access_program(tenant=request.tenant, program_id=program_id)  # type: ignore[attr-defined]
    if not program.is_active:
        return JsonResponse(
            {"detail": _("This program is paused; it takes no stamps."), "code": "program_paused"},
            status=409,
        )
    return JsonResponse(_kiosk_state(program))
