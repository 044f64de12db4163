"""Core operations through the real services, on the configured database (SQLite by default,
DATABASE_URL for PostgreSQL): stamping, voucher issuance at the goal, redemption, the card
page's state poll, and a 10,000-code POS pool import. Prints figures; asserts nothing.

Run: ``python bench/bench_core.py`` (uses a throwaway database: a fresh SQLite file, or a
``bench_`` database next to the one DATABASE_URL names).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("STAMPWISE_TESTING", "1")
_tmp = tempfile.mkdtemp()
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{_tmp}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def timed(label: str, fn, n: int) -> None:  # type: ignore[no-untyped-def]
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    print(
        f"{label:<42} n={n:<6} median {statistics.median(samples):7.2f} ms   "
        f"p95 {samples[int(n * 0.95) - 1]:7.2f} ms   {1000 / statistics.mean(samples):8.0f}/s"
    )


def main() -> None:
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        run()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run() -> None:
    from django.test import Client

    from loyalty.models import StampSource
    from loyalty.services import card_add_stamps, customer_join, program_create
    from redemption.services import Actor, voucher_redeem
    from tenants.scoping import tenant_scope
    from tenants.services import api_key_create, tenant_sign_up
    from vouchers.services import (
        code_import_check,
        code_import_run,
        code_pool_create,
        template_create,
        trigger_create,
    )
    from vouchers.services.codes import code_import_confirm

    tenant, _owner = tenant_sign_up(business_name="Bench", email="b@bench.test", password="x" * 12)
    print(f"database: {connection.vendor}")
    with tenant_scope(tenant):
        program = program_create(
            tenant=tenant, data={"name": "B", "stamp_goal": 10, "reward_text": "x"}
        )
        template = template_create(
            tenant=tenant, data={"reward_title": "R", "method": "redeem_code"}
        )
        trigger_create(template=template, program=program, kind="stamp_goal")
        cards = [customer_join(program=program, name=f"C{i}")[0] for i in range(500)]
        timed(
            "card_add_stamps (1 stamp)",
            lambda i: card_add_stamps(card=cards[i % 500], count=1, source=StampSource.STAFF),
            2000,
        )
        timed(
            "card_add_stamps reaching the goal (+voucher)",
            lambda i: card_add_stamps(card=cards[i], count=10, source=StampSource.STAFF),
            400,
        )
        vouchers = [v for c in cards[:400] for v in c.vouchers.all()]
        key, raw = api_key_create(tenant=tenant, name="bench")
        timed(
            "voucher_redeem",
            lambda i: voucher_redeem(voucher=vouchers[i], channel="api", actor=Actor(api_key=key)),
            300,
        )
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    timed(
        "POST /api/v1/cards/<id>/stamps (HTTP stack)",
        lambda i: api.post(
            f"/api/v1/cards/{cards[i % 500].pk}/stamps",
            {"count": 1},
            content_type="application/json",
            headers={"Idempotency-Key": f"bench-{i}"},
        ),
        500,
    )
    public = Client()
    timed(
        "GET /card/<token>/state/ (unchanged, 204)",
        lambda i: public.get(f"/card/{cards[0].token}/state/?v={cards[0].version}"),
        1000,
    )
    with tenant_scope(tenant):
        pool = code_pool_create(tenant=tenant, name="P")
        content = "\n".join(f"POS{i:07d}" for i in range(10_000))
        start = time.perf_counter()
        checked = code_import_check(pool=pool, content=content)
        code_import_run(
            code_import=code_import_confirm(
                code_import=checked, import_valid_rows=False, run_async=False
            )
        )
        print(f"{'POS pool import, 10,000 codes':<42} {time.perf_counter() - start:7.2f} s")


if __name__ == "__main__":
    main()
