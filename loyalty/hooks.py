"""Extension points other apps plug into (registered in their AppConfig.ready()).

loyalty does not import vouchers or wallet; they register here instead:
- `stamp_listeners`: called inside the stamping transaction, with the card row locked, to
  issue what the stamp reached (vouchers). They return what they unlocked, for the answer.
- `card_changed_listeners`: called inside the transaction of any card change; they enqueue
  their side effects with `transaction.on_commit` (wallet pushes).
- `join_listeners`: called inside the join transaction (welcome vouchers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loyalty.models import Card, StampEvent

StampListener = Callable[["Card", "StampEvent", Any], list[Any]]
CardListener = Callable[["Card"], None]

stamp_listeners: list[StampListener] = []
card_changed_listeners: list[CardListener] = []
join_listeners: list[CardListener] = []
# The card page asks these for more context (vouchers add the customer's vouchers).
card_page_providers: list[Callable[[Any], dict[str, Any]]] = []
# Called inside the transaction when a program's look or goal changes (wallet fan-out).
program_changed_listeners: list[Callable[[Any], None]] = []


def card_changed(card: Card) -> None:
    for listener in card_changed_listeners:
        listener(card)
