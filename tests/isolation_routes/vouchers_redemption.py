"""Redemption (runs after vouchers.py, whose objects it uses): self-redeem, staff voucher
screens, and POST /api/v1/redeem."""

from __future__ import annotations

from typing import Any

from tests.isolation import Route

ROUTES: dict[str, Route] = {
    "voucher_self_redeem": Route("public"),  # the voucher token is the credential
    "api_redeem": Route("api", methods=("post",), post_data={"code": "NOT-B-CODE"}),
    "staff_vouchers:voucher": Route("session", lambda o: {"voucher_id": o["voucher"].pk}),
    "staff_vouchers:redeem": Route("session", lambda o: {"voucher_id": o["voucher"].pk}, ("post",)),
    "staff_vouchers:redeemed": Route("session", lambda o: {"redemption_id": o["redemption"].pk}),
    "staff_vouchers:undo": Route(
        "session", lambda o: {"redemption_id": o["redemption"].pk}, ("post",), {"reason": "x"}
    ),
}


def build_objects(world_b: Any, objects: dict[str, Any]) -> dict[str, Any]:
    from redemption.services import Actor, voucher_redeem
    from tenants.scoping import tenant_scope
    from vouchers.services import voucher_issue

    with tenant_scope(world_b.tenant):
        # A second voucher of B's, redeemed, so B's redemption exists to be asked for.
        spent = voucher_issue(
            template=objects["template"],
            card=objects["card"],
            trigger=objects["trigger"],
            issuance_key="isolation-spent",
        )
        redemption = voucher_redeem(voucher=spent, channel="pos_import", actor=Actor())
    return {"redemption": redemption}
