"""Demo rewards: all three redemption methods, a POS code pool, vouchers in every state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from loyalty.services import customer_join
from redemption.services import Actor, voucher_redeem
from vouchers.models import CodePool, Voucher, VoucherTemplate, VoucherTrigger
from vouchers.services import (
    code_import_check,
    code_import_run,
    code_pool_create,
    template_create,
    trigger_create,
    voucher_issue,
    voucher_refresh,
    voucher_void,
)
from vouchers.services.codes import code_import_confirm


def _template(tenant: Any, reward_title: str, **data: Any) -> VoucherTemplate:
    found = VoucherTemplate.objects.filter(tenant=tenant, reward_title=reward_title).first()
    return found or template_create(tenant=tenant, data={"reward_title": reward_title, **data})


def _trigger(
    template: VoucherTemplate, program: Any, kind: str, threshold: int | None = None
) -> VoucherTrigger:
    found = VoucherTrigger.objects.filter(template=template, program=program, kind=kind).first()
    return found or trigger_create(
        template=template, program=program, kind=kind, threshold=threshold
    )


def seed_rewards(demo: Any, program: Any) -> dict[str, VoucherTrigger]:
    """Before the customers collect stamps, so their stamps issue vouchers."""
    tenant = demo.tenant
    goal_reward = program.reward_text[:1].upper() + program.reward_text[1:]
    at_goal = _template(
        tenant,
        goal_reward,
        method="redeem_code",
        show_text=True,
        show_qr=True,
        show_barcode=True,
        description="Any hot drink from the menu, any size.",
        validity="days",
        validity_value=60,
        reminder_days=7,
    )
    milestone = _template(
        tenant,
        "A free pastry",
        method="staff_scan",
        validity="days",
        validity_value=30,
        description="Any pastry from the counter.",
    )
    welcome = _template(
        tenant,
        "Welcome treat",
        method="self",
        validity="days",
        validity_value=14,
        description="A small thank-you for joining.",
    )
    pool = CodePool.objects.filter(tenant=tenant, name="Till discount codes").first()
    if pool is None:
        pool = code_pool_create(tenant=tenant, name="Till discount codes", low_threshold=10)
        content = "code\n" + "\n".join(f"TILL-{tenant.pk:02d}{i:04d}" for i in range(1, 41))
        checked = code_import_check(pool=pool, content=content, filename="pos-export.csv")
        code_import_run(
            code_import=code_import_confirm(
                code_import=checked, import_valid_rows=False, run_async=False
            )
        )
    pos = _template(
        tenant,
        "10% off your next visit",
        method="redeem_code",
        code_source="pool",
        pool=pool,
        show_text=True,
        show_qr=False,
        show_barcode=True,
        validity="months",
        validity_value=2,
    )
    triggers = {
        "goal": _trigger(at_goal, program, "stamp_goal"),
        "welcome": _trigger(welcome, program, "welcome"),
        "pos": _trigger(pos, program, "visit", 3),
    }
    if program.stamp_goal > 5:
        triggers["milestone"] = _trigger(milestone, program, "milestone", 5)
    return triggers


def seed_voucher_states(demo: Any, program: Any, triggers: dict[str, VoucherTrigger]) -> None:
    """A customer holding vouchers in each state: issued, active, redeemed, expired, void."""
    card, created = customer_join(program=program, name="Sam Rivera", email="sam@example.test")
    if not created and Voucher.objects.filter(card=card, issuance_key__startswith="demo:").exists():
        return
    goal = triggers["goal"]
    now = timezone.now()
    issued = {}
    for state in ("issued", "active", "redeemed", "expired", "void"):
        voucher = voucher_issue(
            template=goal.template,
            card=card,
            trigger=goal,
            issuance_key=f"demo:{state}",
            now=now - timedelta(days=2),
        )
        if voucher is not None:
            issued[state] = voucher
    if "issued" in issued:
        Voucher.objects.filter(pk=issued["issued"].pk).update(
            state=Voucher.State.ISSUED, active_from=now + timedelta(days=1), activated_at=None
        )
    if "redeemed" in issued:
        voucher_redeem(
            voucher=issued["redeemed"],
            channel="staff",
            actor=Actor(
                user=demo.staff,
                location=demo.location,
                membership=demo.staff.memberships.get(tenant=demo.tenant),
            ),
        )
    if "expired" in issued:
        Voucher.objects.filter(pk=issued["expired"].pk).update(expires_at=now - timedelta(hours=1))
        voucher_refresh(voucher=Voucher.objects.get(pk=issued["expired"].pk))
    if "void" in issued:
        voucher_void(voucher=issued["void"], reason="Demo: issued by mistake", actor=demo.manager)
