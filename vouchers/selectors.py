"""Reads for Smart Vouchers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone as tz

from vouchers.models import (
    Campaign,
    CodeImport,
    CodePool,
    PoolCode,
    Voucher,
    VoucherTemplate,
    VoucherTrigger,
)


def voucher_resolve_public(*, token: str) -> Voucher | None:
    """The voucher for a public token, across tenants (the token names its tenant)."""
    return (
        Voucher.objects.with_scopes_disabled()  # type: ignore[attr-defined]
        .select_related("tenant", "template", "card", "card__program", "card__customer")
        .filter(token=token)
        .first()
    )


def access_voucher(*, tenant: Any, voucher_id: int) -> Voucher:
    voucher = (
        Voucher.objects.filter(tenant=tenant, pk=voucher_id)
        .select_related("template", "card", "card__customer", "card__program", "tenant")
        .first()
    )
    if voucher is None:
        raise Http404
    return voucher


def voucher_find_by_code(*, tenant: Any, variants: list[str]) -> Voucher | None:
    variants = [v for v in variants if v]
    if not variants:
        return None
    return (
        Voucher.objects.filter(tenant=tenant, code__in=variants)
        .select_related("template", "card", "card__customer", "card__program", "tenant")
        .first()
    )


def voucher_get_by_token(*, tenant: Any, token: str) -> Voucher | None:
    return (
        Voucher.objects.filter(tenant=tenant, token=token)
        .select_related("template", "card", "card__customer", "card__program", "tenant")
        .first()
    )


def voucher_list_for_card(*, card: Any, recent_only: bool = False) -> list[Voucher]:
    vouchers = Voucher.objects.filter(card=card).select_related("template")
    if recent_only:
        vouchers = vouchers.filter(
            Q(state__in=[Voucher.State.ISSUED, Voucher.State.ACTIVE]) | Q(redeemed_at__isnull=False)
        )[:10]
    return list(vouchers)


def voucher_list(
    *, tenant: Any, state: str = "", template_id: int | None = None, query: str = ""
) -> QuerySet[Voucher]:
    vouchers = Voucher.objects.filter(tenant=tenant).select_related(
        "template", "card__customer", "card__program"
    )
    if state:
        vouchers = vouchers.filter(state=state)
    if template_id:
        vouchers = vouchers.filter(template_id=template_id)
    if query:
        vouchers = vouchers.filter(
            Q(card__customer__name__icontains=query) | Q(code__icontains=query.replace("-", ""))
        )
    return vouchers


def template_list(*, tenant: Any) -> QuerySet[VoucherTemplate]:
    return VoucherTemplate.objects.filter(tenant=tenant).annotate(
        issued=Count("vouchers", distinct=True),
        redeemed=Count("vouchers", filter=Q(vouchers__state=Voucher.State.REDEEMED), distinct=True),
    )


def access_template(*, tenant: Any, template_id: int) -> VoucherTemplate:
    template = VoucherTemplate.objects.filter(tenant=tenant, pk=template_id).first()
    if template is None:
        raise Http404
    return template


def trigger_list(
    *, tenant: Any, template: VoucherTemplate | None = None
) -> QuerySet[VoucherTrigger]:
    triggers = (
        VoucherTrigger.objects.filter(tenant=tenant)
        .exclude(kind=VoucherTrigger.Kind.BROADCAST)
        .select_related("program", "template")
    )
    if template is not None:
        triggers = triggers.filter(template=template)
    return triggers


def access_trigger(*, tenant: Any, trigger_id: int) -> VoucherTrigger:
    trigger = VoucherTrigger.objects.filter(tenant=tenant, pk=trigger_id).first()
    if trigger is None:
        raise Http404
    return trigger


def pool_list(*, tenant: Any) -> list[dict[str, Any]]:
    pools = CodePool.objects.filter(tenant=tenant).annotate(
        total=Count("codes"), free=Count("codes", filter=Q(codes__voucher__isnull=True))
    )
    waiting = dict(
        Voucher.objects.filter(tenant=tenant, awaiting_code=True)
        .values_list("template__pool")
        .annotate(n=Count("id"))
    )
    return [
        {
            "pool": pool,
            "total": pool.total,
            "free": pool.free,
            "waiting": waiting.get(pool.pk, 0),
            "low": pool.free < pool.low_threshold,
            "empty": pool.free == 0,
        }
        for pool in pools
    ]


def access_pool(*, tenant: Any, pool_id: int) -> CodePool:
    pool = CodePool.objects.filter(tenant=tenant, pk=pool_id).first()
    if pool is None:
        raise Http404
    return pool


def pool_status(*, pool: CodePool) -> dict[str, int]:
    codes = PoolCode.objects.filter(pool=pool)
    return {
        "total": codes.count(),
        "free": codes.filter(voucher__isnull=True).count(),
        "waiting": Voucher.objects.filter(template__pool=pool, awaiting_code=True).count(),
    }


def access_code_import(*, tenant: Any, import_id: int) -> CodeImport:
    code_import = (
        CodeImport.objects.filter(tenant=tenant, pk=import_id).select_related("pool").first()
    )
    if code_import is None:
        raise Http404
    return code_import


def campaign_list(*, tenant: Any) -> QuerySet[Campaign]:
    return Campaign.objects.filter(tenant=tenant).select_related(
        "trigger__template", "trigger__program"
    )


def access_campaign(*, tenant: Any, campaign_id: int) -> Campaign:
    campaign = Campaign.objects.filter(tenant=tenant, pk=campaign_id).first()
    if campaign is None:
        raise Http404
    return campaign


def voucher_counts(*, tenant: Any) -> dict[str, int]:
    rows = Voucher.objects.filter(tenant=tenant).values_list("state").annotate(n=Count("id"))
    return {state: n for state, n in rows}


def code_import_list(*, pool: CodePool, limit: int = 10) -> list[CodeImport]:
    return list(
        CodeImport.objects.filter(pool=pool)
        .select_related("created_by")
        .order_by("-created_at", "-id")[:limit]
    )


def daily_voucher_counts(*, tenant: Any, days: int = 30) -> dict[str, dict[Any, int]]:
    """Per local day: vouchers issued and redeemed."""
    since = tz.now() - timedelta(days=days)
    issued = (
        Voucher.objects.filter(tenant=tenant, issued_at__gte=since)
        .annotate(day=TruncDate("issued_at", tzinfo=tenant.tzinfo))
        .values("day")
        .annotate(n=Count("id"))
    )
    redeemed = (
        Voucher.objects.filter(tenant=tenant, redeemed_at__gte=since)
        .annotate(day=TruncDate("redeemed_at", tzinfo=tenant.tzinfo))
        .values("day")
        .annotate(n=Count("id"))
    )
    return {
        "issued": {row["day"]: row["n"] for row in issued},
        "redeemed": {row["day"]: row["n"] for row in redeemed},
    }


def redemption_by_method(*, tenant: Any) -> dict[str, dict[str, int]]:
    """Issued and redeemed per redemption method (which way works for this business)."""
    rows = (
        Voucher.objects.filter(tenant=tenant)
        .values("template__method")
        .annotate(issued=Count("id"), redeemed=Count("id", filter=Q(state=Voucher.State.REDEEMED)))
    )
    return {
        row["template__method"]: {"issued": row["issued"], "redeemed": row["redeemed"]}
        for row in rows
    }
