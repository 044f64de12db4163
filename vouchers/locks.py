"""Row locks for vouchers, in one place."""

from __future__ import annotations

from vouchers.models import CodePool, PoolCode, Voucher


def lock_voucher(voucher_id: int) -> Voucher:
    """The voucher row, locked until the transaction ends."""
    return (
        Voucher.objects.select_for_update(of=("self",))
        .select_related("template", "card", "card__customer", "card__program", "tenant")
        .get(pk=voucher_id)
    )


def lock_free_pool_code(pool: CodePool) -> PoolCode | None:
    """The next unallocated code of a pool, skipping codes other transactions hold, so
    concurrent issuance never hands one code to two vouchers and never waits in line."""
    return (
        PoolCode.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pool=pool, voucher__isnull=True)
        .order_by("id")
        .first()
    )
