"""The owner's dashboard: programs, customers, receipt codes."""

from __future__ import annotations

from typing import Any

from tests.isolation import MARKER, Route


def _program(o: dict[str, Any]) -> dict[str, Any]:
    return {"program_id": o["dash_program"].pk}


def _customer(o: dict[str, Any]) -> dict[str, Any]:
    return {"customer_id": o["dash_customer"].pk}


def _batch(o: dict[str, Any]) -> dict[str, Any]:
    return {"batch_id": o["dash_receipt_batch"].pk}


PROGRAM_POST = {
    "name": "Intruder",
    "stamp_goal": "5",
    "reward_text": "Intruder",
    "card_color": "#000000",
    "text_color": "#ffffff",
    "stamp_color": "#ff0000",
    "stamp_icon": "star",
}

ROUTES: dict[str, Route] = {
    # List pages: must not show B's markers; POSTs there can only reach A's own rows.
    "dashboard:programs": Route("session"),
    "dashboard:program_create": Route("session", methods=("get", "post"), post_data={}),
    "dashboard:customers": Route("session"),
    # A streamed CSV: exercise() reads its streaming_content for B's markers.
    "dashboard:customers_csv": Route("session"),
    "dashboard:receipt_batches": Route(
        "session",
        methods=("get", "post"),
        # "B" is B's tenant id: never one of A's program ids the form offers.
        post_data={"program": "B", "size": "3", "stamps_each": "1"},
    ),
    # Object pages with B's ids: 404.
    "dashboard:program_edit": Route("session", _program, ("get", "post"), PROGRAM_POST),
    "dashboard:program_wallet_update": Route("session", _program),
    "dashboard:program_set_active": Route("session", _program, ("post",), {"active": "0"}),
    "dashboard:program_share": Route("session", _program),
    "dashboard:program_qr_png": Route("session", _program),
    "dashboard:program_qr_svg": Route("session", _program),
    "dashboard:program_poster": Route("session", _program),
    "dashboard:customer_detail": Route("session", _customer),
    "dashboard:card_correct": Route(
        "session",
        lambda o: {"customer_id": o["dash_customer"].pk, "card_id": o["dash_card"].pk},
        ("post",),
        {"delta": "5", "reason": "intrusion"},
    ),
    "dashboard:customer_erase": Route("session", _customer, ("get", "post"), {"confirm": "erase"}),
    "dashboard:receipt_sheet": Route("session", _batch),
    "dashboard:receipt_csv": Route("session", _batch),
}


def build_objects(world_b: Any, objects: dict[str, Any]) -> dict[str, Any]:
    """B's program, customer (named with the marker), card and receipt batch, via the services."""
    from loyalty.services import customer_join, program_create, receipt_batch_create
    from tenants.scoping import tenant_scope

    with tenant_scope(world_b.tenant):
        program = program_create(
            tenant=world_b.tenant,
            data={
                "name": f"{MARKER} dashboard program",
                "stamp_goal": 8,
                "reward_text": f"{MARKER} reward",
            },
        )
        card, _ = customer_join(
            program=program,
            name=f"{MARKER} Dashboard Customer",
            email="dash@bravo.test",
            phone="+4915112345678",
        )
        batch = receipt_batch_create(program=program, size=3, stamps_each=1)
    return {
        "dash_program": program,
        "dash_customer": card.customer,
        "dash_card": card,
        "dash_receipt_batch": batch,
    }
