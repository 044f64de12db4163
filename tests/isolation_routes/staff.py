"""The staff counter and kiosk (/staff/)."""

from __future__ import annotations

from typing import Any

from tests.isolation import MARKER, Route

_NONCE = "0b7f6a3c-1d2e-4f50-9a8b-7c6d5e4f3a21"

ROUTES: dict[str, Route] = {
    "staff:counter": Route("session"),
    # Take B's ids in POST data (filled in by build_objects below); `lambda o: {}` makes the
    # harness insist on 404/403. B's card token at the counter is also tested on its own in
    # tests/staff/test_staff_isolation.py.
    "staff:scan": Route("session", lambda o: {}, ("post",), {"code": "set by build_objects"}),
    "staff:location": Route("session", lambda o: {}, ("post",), {"location": "set below"}),
    "staff:card": Route("session", lambda o: {"card_id": o["staff_card"].pk}),
    "staff:card_stamp": Route(
        "session",
        lambda o: {"card_id": o["staff_card"].pk},
        ("post",),
        {"count": 1, "nonce": _NONCE},
    ),
    "staff:kiosk_list": Route("session"),
    "staff:kiosk": Route("session", lambda o: {"program_id": o["staff_program"].pk}),
    "staff:kiosk_token": Route("session", lambda o: {"program_id": o["staff_program"].pk}),
}


def build_objects(world_b: Any, objects: dict[str, Any]) -> dict[str, Any]:
    from loyalty.services import customer_join, program_create
    from tenants.scoping import tenant_scope

    with tenant_scope(world_b.tenant):
        program = program_create(
            tenant=world_b.tenant,
            data={
                "name": f"{MARKER} counter program",
                "stamp_goal": 6,
                "reward_text": f"{MARKER} reward",
            },
        )
        card, _ = customer_join(
            program=program, name=f"{MARKER} Counter Customer", phone="+15550001234"
        )
    ROUTES["staff:scan"].post_data["code"] = card.token
    ROUTES["staff:location"].post_data["location"] = str(world_b.location.pk)
    return {"staff_program": program, "staff_card": card}
