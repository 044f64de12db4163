"""Loyalty's public pages and API."""

from __future__ import annotations

from typing import Any

from tests.isolation import MARKER, Route

ROUTES: dict[str, Route] = {
    # Public token pages: the token is the credential; a wrong one is tested for 404 in
    # tests/loyalty/test_public.py.
    "join": Route("public"),
    "card": Route("public"),
    "card_state": Route("public"),
    "card_qr": Route("public"),
    "card_claim": Route("public"),
    "kiosk_scan": Route("public"),
    "receipt_scan": Route("public"),
    "api_programs": Route("api"),
    "api_program": Route("api", lambda o: {"program_id": o["program"].pk}),
    "api_program_cards": Route(
        "api",
        lambda o: {"program_id": o["program"].pk},
        ("post",),
        {"customer": {"name": "Intruder"}},
    ),
    "api_card": Route("api", lambda o: {"card_id": o["card"].pk}),
    "api_card_stamps": Route("api", lambda o: {"card_id": o["card"].pk}, ("post",), {"count": 1}),
}


def build_objects(world_b: Any, objects: dict[str, Any]) -> dict[str, Any]:
    from loyalty.services import customer_join, program_create
    from tenants.scoping import tenant_scope

    with tenant_scope(world_b.tenant):
        program = program_create(
            tenant=world_b.tenant,
            data={"name": f"{MARKER} program", "stamp_goal": 5, "reward_text": f"{MARKER} gift"},
        )
        card, _ = customer_join(program=program, name=f"{MARKER} Customer", email="b@bravo.test")
    return {"program": program, "card": card, "customer": card.customer}
