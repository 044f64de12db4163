"""Vouchers' public pages and API."""

from __future__ import annotations

from typing import Any

from tests.isolation import MARKER, Route

ROUTES: dict[str, Route] = {
    "voucher": Route("public"),
    "voucher_qr_png": Route("public"),
    "voucher_barcode_png": Route("public"),
    "api_vouchers": Route("api"),
    "api_voucher": Route("api", lambda o: {"voucher_id": o["voucher"].pk}),
    "api_card_vouchers": Route("api", lambda o: {"card_id": o["card"].pk}),
    "api_pool_codes": Route(
        "api", lambda o: {"pool_id": o["pool"].pk}, ("post",), {"codes": ["INTRUDER-1"]}
    ),
}


def build_objects(world_b: Any, objects: dict[str, Any]) -> dict[str, Any]:
    from loyalty.services import card_add_stamps
    from tenants.scoping import tenant_scope
    from vouchers.models import Voucher
    from vouchers.services import code_pool_create, template_create, trigger_create

    with tenant_scope(world_b.tenant):
        template = template_create(
            tenant=world_b.tenant,
            data={"reward_title": f"{MARKER} reward", "method": "redeem_code"},
        )
        trigger_create(template=template, program=objects["program"], kind="stamp_goal")
        card_add_stamps(card=objects["card"], count=objects["program"].stamp_goal, source="staff")
        voucher = Voucher.objects.get(card=objects["card"])
        pool = code_pool_create(tenant=world_b.tenant, name=f"{MARKER} pool")
    return {
        "voucher": voucher,
        "template": template,
        "pool": pool,
        "trigger": template.triggers.first(),
    }
