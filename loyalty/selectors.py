"""Reads for loyalty."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate
from django.http import Http404
from django.utils import timezone as tz

from loyalty.models import Card, CardEvent, Customer, Program, ReceiptBatch, ReceiptCode, StampEvent
from tenants.codes import normalize_code


# Public token resolution: the token names its tenant, so these read across tenants.
def program_resolve_join(*, join_token: str) -> Program | None:
    return (
        Program.objects.with_scopes_disabled()  # type: ignore[attr-defined]
        .select_related("tenant")
        .filter(join_token=join_token)
        .first()
    )


def card_resolve_public(*, token: str) -> Card | None:
    return (
        Card.objects.with_scopes_disabled()  # type: ignore[attr-defined]
        .select_related("tenant", "program", "customer")
        .filter(token=token)
        .first()
    )


def card_resolve_by_serial(*, serial_number: str) -> Card | None:
    """The card of a wallet pass serial number (PassKit calls name no tenant)."""
    return (
        Card.objects.with_scopes_disabled()  # type: ignore[attr-defined]
        .select_related("tenant", "program", "customer")
        .filter(serial_number=serial_number)
        .first()
    )


def card_list_for_program(*, program: Program) -> QuerySet[Card]:
    return Card.objects.filter(program=program).order_by("pk")


def receipt_code_tenant_id(*, code: str) -> list[int]:
    """Tenants that issued this receipt code (a scanned receipt URL names no tenant)."""
    return list(
        ReceiptCode.objects.with_scopes_disabled()  # type: ignore[attr-defined]
        .filter(code=normalize_code(code))
        .values_list("tenant_id", flat=True)
    )


def receipt_code_program(*, code: str) -> Program | None:
    """The program of a receipt code (for joining straight from a scanned receipt)."""
    receipt = (
        ReceiptCode.objects.with_scopes_disabled()  # type: ignore[attr-defined]
        .select_related("batch__program")
        .filter(code=normalize_code(code))
        .first()
    )
    return receipt.batch.program if receipt else None


def program_list(*, tenant: Any) -> QuerySet[Program]:
    return Program.objects.filter(tenant=tenant).annotate(card_count=Count("cards"))


def program_list_active(*, tenant: Any) -> QuerySet[Program]:
    return Program.objects.filter(tenant=tenant, is_active=True)


def access_program(*, tenant: Any, program_id: int) -> Program:
    """The tenant's program or 404 (the same for another tenant's and a missing one)."""
    program = Program.objects.filter(tenant=tenant, pk=program_id).first()
    if program is None:
        raise Http404
    return program


def access_card(*, tenant: Any, card_id: int) -> Card:
    card = (
        Card.objects.filter(tenant=tenant, pk=card_id)
        .select_related("program", "customer", "tenant")
        .first()
    )
    if card is None:
        raise Http404
    return card


def card_get_by_token(*, tenant: Any, token: str) -> Card | None:
    return (
        Card.objects.filter(tenant=tenant, token=token.strip())
        .select_related("program", "customer", "tenant")
        .first()
    )


def card_search(*, tenant: Any, query: str, limit: int = 20) -> list[Card]:
    """Cards by customer name, email or phone, card token or serial (the counter's search)."""
    query = (query or "").strip()
    if not query:
        return []
    cards = Card.objects.filter(tenant=tenant, customer__erased_at__isnull=True).select_related(
        "program", "customer"
    )
    exact = cards.filter(Q(token=query) | Q(serial_number=query.upper()))
    if exact:
        return list(exact[:limit])
    digits = "".join(ch for ch in query if ch.isdigit() or ch == "+")
    condition = Q(customer__name__icontains=query) | Q(customer__email__icontains=query)
    if len(digits) >= 4:
        condition |= Q(customer__phone__contains=digits)
    return list(cards.filter(condition).order_by("customer__name", "program__name")[:limit])


def card_journal(*, card: Card, limit: int = 100) -> list[CardEvent]:
    return list(CardEvent.objects.filter(card=card).select_related("actor", "location")[:limit])


def card_list_for_customer(*, customer: Customer) -> QuerySet[Card]:
    return Card.objects.filter(customer=customer).select_related("program")


def access_customer(*, tenant: Any, customer_id: int) -> Customer:
    customer = Customer.objects.filter(tenant=tenant, pk=customer_id).first()
    if customer is None:
        raise Http404
    return customer


def customer_list(
    *,
    tenant: Any,
    query: str = "",
    program_id: int | None = None,
    joined_from: date | None = None,
    joined_to: date | None = None,
    last_visit_from: date | None = None,
    last_visit_to: date | None = None,
    min_stamps: int | None = None,
    include_erased: bool = False,
) -> QuerySet[Customer]:
    """Customers with their totals over all their cards; card filters apply to one card
    (e.g. "a Coffee card with a visit since May"), in a subquery so totals stay whole."""
    customers = Customer.objects.filter(tenant=tenant)
    if not include_erased:
        customers = customers.filter(erased_at__isnull=True)
    if query:
        customers = customers.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(phone__icontains=query)
        )
    if joined_from:
        customers = customers.filter(created_at__date__gte=joined_from)
    if joined_to:
        customers = customers.filter(created_at__date__lte=joined_to)
    card_filter = Q()
    if program_id:
        card_filter &= Q(program_id=program_id)
    if last_visit_from:
        card_filter &= Q(last_visit_date__gte=last_visit_from)
    if last_visit_to:
        card_filter &= Q(last_visit_date__lte=last_visit_to)
    if min_stamps is not None:
        card_filter &= Q(total_stamps__gte=min_stamps)
    if card_filter:
        customers = customers.filter(
            Exists(Card.objects.filter(card_filter, customer=OuterRef("pk")))
        )
    customers = customers.annotate(
        card_count=Count("cards", distinct=True),
        stamps_total=Sum("cards__total_stamps"),
        visits_total=Sum("cards__visits"),
    )
    return customers.order_by("-created_at", "-id")


def stamp_events_for_card(*, card: Card) -> QuerySet[StampEvent]:
    return StampEvent.objects.filter(card=card).order_by("created_at", "id")


def receipt_batch_list(*, tenant: Any) -> QuerySet[ReceiptBatch]:
    return (
        ReceiptBatch.objects.filter(tenant=tenant)
        .select_related("program")
        .annotate(claimed=Count("codes", filter=Q(codes__claimed_at__isnull=False)))
    )


def access_receipt_batch(*, tenant: Any, batch_id: int) -> ReceiptBatch:
    batch = (
        ReceiptBatch.objects.filter(tenant=tenant, pk=batch_id).select_related("program").first()
    )
    if batch is None:
        raise Http404
    return batch


def receipt_codes(*, batch: ReceiptBatch) -> QuerySet[ReceiptCode]:
    return ReceiptCode.objects.filter(batch=batch).order_by("id")


def tenant_stats(*, tenant: Any) -> dict[str, int]:
    """Headline numbers for the dashboard overview."""
    cards = Card.objects.filter(tenant=tenant)
    totals = cards.aggregate(cards=Count("id"), stamps=Sum("total_stamps"), visits=Sum("visits"))
    return {
        "customers": Customer.objects.filter(tenant=tenant, erased_at__isnull=True).count(),
        "cards": totals["cards"] or 0,
        "stamps": totals["stamps"] or 0,
        "visits": totals["visits"] or 0,
        "completed": StampEvent.objects.filter(tenant=tenant)
        .exclude(cycle_after=F("cycle_before"))
        .count(),
    }


def cards_for_segment(*, program: Program, segment: dict[str, Any]) -> QuerySet[Card]:
    """Cards of a program matching an owner's broadcast segment."""
    cards = Card.objects.filter(program=program, customer__erased_at__isnull=True)
    if segment.get("min_stamps") not in (None, ""):
        cards = cards.filter(total_stamps__gte=int(segment["min_stamps"]))
    if segment.get("min_visits") not in (None, ""):
        cards = cards.filter(visits__gte=int(segment["min_visits"]))
    if segment.get("joined_after"):
        cards = cards.filter(created_at__date__gte=segment["joined_after"])
    if segment.get("last_visit_before"):
        cards = cards.filter(last_visit_date__lt=segment["last_visit_before"])
    if segment.get("last_visit_after"):
        cards = cards.filter(last_visit_date__gte=segment["last_visit_after"])
    if segment.get("marketing_consent"):
        cards = cards.filter(customer__marketing_consent=True)
    return cards


def daily_counts(*, tenant: Any, days: int = 30) -> dict[str, dict[date, int]]:
    """Per local day over the last `days`: stamps given, new cards, visits (first stamp of a
    card that day)."""
    since = tz.now() - timedelta(days=days)
    local = TruncDate("created_at", tzinfo=tenant.tzinfo)
    stamps = (
        StampEvent.objects.filter(tenant=tenant, created_at__gte=since, count__gt=0)
        .exclude(source="correction")
        .annotate(day=local)
        .values("day")
        .annotate(n=Sum("count"))
    )
    joins = (
        Card.objects.filter(tenant=tenant, created_at__gte=since)
        .annotate(day=local)
        .values("day")
        .annotate(n=Count("id"))
    )
    return {
        "stamps": {row["day"]: row["n"] for row in stamps},
        "joins": {row["day"]: row["n"] for row in joins},
    }


def stamp_hours(*, tenant: Any, days: int = 90) -> list[list[int]]:
    """Stamps by local weekday (Mon=0) and hour over the last `days`: when the counter is busy."""
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        StampEvent.objects.filter(
            tenant=tenant, created_at__gte=tz.now() - timedelta(days=days), count__gt=0
        )
        .annotate(
            weekday=ExtractIsoWeekDay("created_at", tzinfo=tenant.tzinfo),
            hour=ExtractHour("created_at", tzinfo=tenant.tzinfo),
        )
        .values("weekday", "hour")
        .annotate(n=Sum("count"))
    )
    for row in rows:
        grid[row["weekday"] - 1][row["hour"]] += row["n"]
    return grid
