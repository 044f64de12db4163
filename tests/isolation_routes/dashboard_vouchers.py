"""The owner's Smart Voucher pages: rewards, triggers, vouchers, code pools, campaigns."""

from __future__ import annotations

from typing import Any

from tests.isolation import MARKER, Route


def _template(o: dict[str, Any]) -> dict[str, Any]:
    return {"template_id": o["dv_template"].pk}


def _import(o: dict[str, Any]) -> dict[str, Any]:
    return {"import_id": o["dv_import"].pk}


def _campaign(o: dict[str, Any]) -> dict[str, Any]:
    return {"campaign_id": o["dv_campaign"].pk}


REWARD_POST = {
    "reward_title": "Intruder",
    "method": "self",
    "code_source": "generated",
    "validity": "unlimited",
    "activation_delay_days": "0",
    "is_active": "on",
}

ROUTES: dict[str, Route] = {
    # List pages: must not show B's markers; POSTs there can only reach A's own rows.
    "dashboard:rewards": Route("session"),
    "dashboard:reward_create": Route("session", methods=("get", "post"), post_data={}),
    "dashboard:vouchers": Route("session"),
    "dashboard:pools": Route("session", methods=("get", "post"), post_data={}),
    "dashboard:campaigns": Route("session"),
    "dashboard:campaign_create": Route(
        "session",
        methods=("get", "post"),
        # "B" is B's tenant id: never one of A's program or reward ids the form offers.
        post_data={"name": "Intruder", "template": "B", "program": "B"},
    ),
    # Without a program it answers 400; with B's program id, 404 (tests/dashboard).
    "dashboard:campaign_segment_count": Route("session"),
    # Object pages with B's ids: 404, for GET and for POST.
    "dashboard:reward_edit": Route("session", _template, ("get", "post"), REWARD_POST),
    "dashboard:trigger_add": Route(
        "session", _template, ("post",), {"program": "B", "kind": "stamp_goal"}
    ),
    "dashboard:trigger_set_active": Route(
        "session",
        lambda o: {"template_id": o["dv_template"].pk, "trigger_id": o["dv_trigger"].pk},
        ("post",),
        {"active": "0"},
    ),
    "dashboard:voucher_void": Route(
        "session",
        lambda o: {"voucher_id": o["dv_voucher"].pk},
        ("get", "post"),
        {"reason": "intrusion"},
    ),
    "dashboard:pool_detail": Route(
        "session",
        lambda o: {"pool_id": o["dv_pool"].pk},
        ("get", "post"),
        {"kind": "codes", "text": "INTRUDER-0001"},
    ),
    "dashboard:code_import": Route("session", _import),
    "dashboard:code_import_confirm": Route("session", _import, ("post",), {"action": "valid"}),
    "dashboard:code_import_progress": Route("session", _import),
    "dashboard:campaign_detail": Route("session", _campaign),
    "dashboard:campaign_progress": Route("session", _campaign),
}


def build_objects(world_b: Any, objects: dict[str, Any]) -> dict[str, Any]:
    """B's reward, trigger, issued voucher, pool with a checked upload, and a campaign."""
    from loyalty.services import card_add_stamps, customer_join, program_create
    from tenants.scoping import tenant_scope
    from vouchers.models import Voucher
    from vouchers.services import (
        campaign_create,
        code_import_check,
        code_pool_create,
        template_create,
        trigger_create,
    )

    with tenant_scope(world_b.tenant):
        program = program_create(
            tenant=world_b.tenant,
            data={"name": f"{MARKER} voucher program", "stamp_goal": 3, "reward_text": "x"},
        )
        template = template_create(
            tenant=world_b.tenant,
            data={"reward_title": f"{MARKER} dashboard reward", "method": "redeem_code"},
        )
        trigger = trigger_create(template=template, program=program, kind="stamp_goal")
        card, _ = customer_join(program=program, name=f"{MARKER} Voucher Customer")
        card_add_stamps(card=card, count=program.stamp_goal, source="staff")
        voucher = Voucher.objects.get(card=card, template=template)
        pool = code_pool_create(tenant=world_b.tenant, name=f"{MARKER} dashboard pool")
        code_import = code_import_check(
            pool=pool, content="BRAVO-0001\nBRAVO-0002\n", filename=f"{MARKER}.csv"
        )
        campaign = campaign_create(
            tenant=world_b.tenant,
            name=f"{MARKER} campaign",
            template=template,
            program=program,
            segment={},
            actor=None,
        )
    return {
        "dv_template": template,
        "dv_trigger": trigger,
        "dv_voucher": voucher,
        "dv_pool": pool,
        "dv_import": code_import,
        "dv_campaign": campaign,
    }
