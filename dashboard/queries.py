"""Presentation-level shaping of selector results for the dashboard's tables and exports."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from django.db.models import QuerySet

from tenants.scoping import tenant_scope

# Cells a spreadsheet would run as a formula (CSV injection); a phone number like +4512345678
# is data, so a leading + or - followed only by digits and separators is kept as it is.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_LIKE = re.compile(r"^[+-]?[0-9][0-9 ().\-]*$")


def csv_safe(value: str) -> str:
    if value and value.startswith(_FORMULA_START) and not _NUMBER_LIKE.match(value):
        return "'" + value
    return value


def with_cards(customers: QuerySet[Any]) -> QuerySet[Any]:
    """Customers with their cards and programs loaded in two queries, whatever the page size."""
    return customers.prefetch_related("cards__program")


def customer_row(customer: Any) -> dict[str, Any]:
    """One table row / CSV line; reads only what `with_cards` prefetched and the annotations."""
    cards = list(customer.cards.all())
    visits: list[date] = [card.last_visit_date for card in cards if card.last_visit_date]
    return {
        "customer": customer,
        "programs": sorted({card.program.name for card in cards}),
        "cards": cards,
        # Summed here over all the customer's cards: the selector's annotations follow its
        # filters (a program filter narrows them to that program's card).
        "stamps": sum(card.total_stamps for card in cards),
        "visits": sum(card.visits for card in cards),
        "last_visit": max(visits) if visits else None,
    }


class EchoBuffer:
    """A file-like object for csv.writer that hands each line back, for streamed CSV."""

    def write(self, value: str) -> str:
        return value


def scoped_stream(tenant: Any, lines: Iterator[str]) -> Iterator[str]:
    """A streamed body is read after the view returned, when the request's tenant scope is
    closed; each chunk is produced inside the tenant's scope again, one at a time, so a
    scope never stays open while the server waits on the client."""
    while True:
        with tenant_scope(tenant):
            try:
                line = next(lines)
            except StopIteration:
                return
        yield line


def progress_percent(done: int, total: int, finished: bool) -> int:
    """0-100 for a progress bar; an empty job that finished is complete."""
    if total <= 0:
        return 100 if finished else 0
    return max(0, min(100, done * 100 // total))
