"""Redeem codes: generated and from POS code pools; the voucher page's QR and barcode."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client

from loyalty.models import StampSource
from loyalty.services import card_add_stamps, customer_join, program_create
from redemption.services import RedemptionRefused
from tenants.scoping import tenant_scope
from tests.vouchers.conftest import make_template
from vouchers.models import CodeImport, PoolCode, Voucher
from vouchers.services import (
    code_import_check,
    code_import_confirm,
    code_pool_create,
    trigger_create,
)

pytestmark = pytest.mark.django_db


def zbar(png: bytes, tmp_path) -> list[str]:
    path = tmp_path / "code.png"
    path.write_bytes(png)
    out = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True, check=False
    )
    return out.stdout.split()


@pytest.mark.skipif(
    shutil.which("zbarimg") is None, reason="needs zbarimg (apt-get install zbar-tools)"
)
def test_voucher_page_qr_and_barcode_decode_to_the_code_shown(
    client, card, code_template, tmp_path
):
    card_add_stamps(card=card, count=10, source=StampSource.STAFF)
    voucher = Voucher.objects.get(card=card)
    page = client.get(f"/voucher/{voucher.token}/").content.decode()
    shown = page.split('data-testid="code-text">')[1].split("<")[0]
    assert shown == voucher.code_display
    assert "<svg" in page.split('class="code-qr"')[1][:300]
    assert "<svg" in page.split('class="code-barcode"')[1][:300]
    qr = client.get(f"/voucher/{voucher.token}/qr.png")
    barcode = client.get(f"/voucher/{voucher.token}/barcode.png")
    assert zbar(qr.content, tmp_path) == [shown.replace("-", "")]
    assert zbar(barcode.content, tmp_path) == [shown.replace("-", "")]


def test_unknown_voucher_token_is_404(client):
    assert client.get("/voucher/nope/").status_code == 404


@pytest.fixture
def confirm(django_capture_on_commit_callbacks):
    """code_import_confirm, with its after-commit task run as a real commit would."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return code_import_confirm(**kwargs)

    return run


def pool_csv(codes):
    return "code\n" + "\n".join(codes) + "\n"


def test_pool_import_rejects_a_file_with_bad_rows_listing_each(pool, scope_a):
    PoolCode.objects.create(tenant=scope_a, pool=pool, code="EXIST1", display="EXIST1")
    content = pool_csv(["GOOD-001", "x", "GOOD-002", "good-001", "BAD CODE!", "EXIST1", "GOOD-003"])
    checked = code_import_check(pool=pool, content=content, filename="till.csv")
    assert [(e["line"], e["code"]) for e in checked.errors] == [
        (3, "x"),
        (5, "good-001"),
        (6, "BAD CODE!"),
        (7, "EXIST1"),
    ]
    assert "Duplicate of line 2" in checked.errors[1]["error"]
    assert checked.valid_rows == 3
    result = code_import_confirm(code_import=checked, import_valid_rows=False)
    assert result.status == CodeImport.Status.REJECTED
    assert PoolCode.objects.filter(pool=pool).count() == 1  # nothing imported


def test_pool_import_of_valid_rows_only_when_chosen(pool, confirm):
    checked = code_import_check(pool=pool, content=pool_csv(["AAA-111", "?", "BBB-222"]))
    confirm(code_import=checked, import_valid_rows=True)
    checked.refresh_from_db()
    assert checked.status == CodeImport.Status.DONE
    assert checked.imported == 2
    assert set(PoolCode.objects.values_list("code", flat=True)) == {"AAA111", "BBB222"}


def test_ten_thousand_codes_import_in_seconds(pool, confirm):
    codes = [f"POS{i:07d}" for i in range(10_000)]
    started = time.perf_counter()
    checked = code_import_check(pool=pool, content=pool_csv(codes))
    confirm(code_import=checked, import_valid_rows=False)
    elapsed = time.perf_counter() - started
    checked.refresh_from_db()
    assert (checked.status, checked.imported, checked.processed) == ("done", 10_000, 10_000)
    assert PoolCode.objects.filter(pool=pool).count() == 10_000
    print(f"10,000-code import: {elapsed:.2f}s")  # the figure lives in bench/, not an assert


def test_pool_vouchers_show_the_pos_code_and_wait_when_the_pool_is_empty(
    scope_a, program, pool, confirm
):
    template = make_template(scope_a, code_source="pool", pool=pool)
    trigger_create(template=template, program=program, kind="stamp_goal")
    checked = code_import_check(pool=pool, content=pool_csv(["TILL-0001"]))
    confirm(code_import=checked, import_valid_rows=False)
    first, _ = customer_join(program=program, name="One")
    second, _ = customer_join(program=program, name="Two")
    card_add_stamps(card=first, count=10, source=StampSource.STAFF)
    card_add_stamps(card=second, count=10, source=StampSource.STAFF)
    v1 = Voucher.objects.get(card=first)
    v2 = Voucher.objects.get(card=second)
    assert (v1.code, v1.code_display, v1.awaiting_code) == ("TILL0001", "TILL-0001", False)
    assert (v2.code, v2.awaiting_code) == ("", True)
    page = Client().get(f"/voucher/{v2.token}/").content.decode()
    assert "Your code is on its way" in page
    checked = code_import_check(pool=pool, content=pool_csv(["TILL-0002"]))
    confirm(code_import=checked, import_valid_rows=False)
    v2.refresh_from_db()
    assert (v2.code_display, v2.awaiting_code) == ("TILL-0002", False)


def test_pos_used_codes_upload_marks_vouchers_redeemed(scope_a, program, pool, world_a, confirm):
    template = make_template(scope_a, code_source="pool", pool=pool)
    trigger_create(template=template, program=program, kind="stamp_goal")
    confirm(
        code_import=code_import_check(pool=pool, content=pool_csv(["U-1001", "U-1002"])),
        import_valid_rows=False,
    )
    card, _ = customer_join(program=program, name="Used")
    card_add_stamps(card=card, count=10, source=StampSource.STAFF)
    used = code_import_check(
        pool=pool, content=pool_csv(["U-1001", "U-9999"]), kind="used", actor=world_a.owner
    )
    confirm(code_import=used, import_valid_rows=True)
    used.refresh_from_db()
    assert used.imported == 1
    assert [e["code"] for e in used.errors] == ["U-9999"]
    assert Voucher.objects.get(card=card).state == Voucher.State.REDEEMED


def test_api_finds_vouchers_by_code_forgivingly(world_a, card, code_template):
    card_add_stamps(card=card, count=10, source=StampSource.STAFF)
    voucher = Voucher.objects.get(card=card)
    typed = voucher.code_display.lower().replace("0", "o").replace("1", "l")
    body = world_a.api.get("/api/v1/vouchers", {"code": f" {typed} "}).json()
    assert body["id"] == voucher.pk
    assert {"id", "token", "state", "method", "code", "reward", "expires_at"} <= body.keys()
    assert world_a.api.get("/api/v1/vouchers", {"code": "ZZZZZ-ZZZZZ"}).status_code == 404
    assert world_a.api.get(f"/api/v1/vouchers/{voucher.pk}").json()["code"] == voucher.code_display
    assert [v["id"] for v in world_a.api.get(f"/api/v1/cards/{card.pk}/vouchers").json()] == [
        voucher.pk
    ]


def test_api_pool_import_all_or_nothing(world_a, pool):
    url = f"/api/v1/code-pools/{pool.pk}/codes"
    bad = world_a.api.post(url, {"codes": ["OK-0001", "no"]}, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_codes"
    assert bad.json()["errors"][0]["line"] == 2
    assert PoolCode.objects.count() == 0
    ok = world_a.api.post(
        url,
        {"codes": ["OK-0001", "no"], "import_valid_rows": True},
        content_type="application/json",
    )
    assert ok.status_code == 201
    assert ok.json()["imported"] == 1


def test_expiry_and_activation_are_enforced_at_the_moment_of_use(scope_a, program, card, world_a):
    from datetime import timedelta

    from django.utils import timezone

    from redemption.services import Actor, voucher_redeem

    template = make_template(scope_a, validity="days", validity_value=7, activation_delay_days=1)
    trigger_create(template=template, program=program, kind="stamp_goal")
    issued_at = timezone.now() - timedelta(days=3)
    card_add_stamps(card=card, count=10, source=StampSource.STAFF, now=issued_at)
    voucher = Voucher.objects.get(card=card)
    actor = Actor(api_key=None, user=None)
    from tenants.selectors import membership_list_for_user

    staff = Actor(user=world_a.staff, membership=membership_list_for_user(user=world_a.staff)[0])
    # Not yet active, even though no job ran: refused at the moment of use.
    with pytest.raises(RedemptionRefused) as early:
        voucher_redeem(
            voucher=voucher, channel="staff", actor=staff, now=issued_at + timedelta(hours=1)
        )
    assert early.value.code == "not_active_yet"
    # Expired (the beat job never ran): refused with 410.
    with pytest.raises(RedemptionRefused) as late:
        voucher_redeem(
            voucher=voucher, channel="staff", actor=staff, now=issued_at + timedelta(days=9)
        )
    assert (late.value.code, late.value.status_code) == ("expired", 410)
    assert "expired on" in late.value.message
    assert actor.label


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issuance_never_hands_one_pool_code_to_two_vouchers(world_a):
    with tenant_scope(world_a.tenant):
        program = program_create(
            tenant=world_a.tenant, data={"name": "P", "stamp_goal": 1, "reward_text": "x"}
        )
        pool = code_pool_create(tenant=world_a.tenant, name="P")
        template = make_template(world_a.tenant, code_source="pool", pool=pool)
        trigger_create(template=template, program=program, kind="stamp_goal")
        code_import_confirm(
            code_import=code_import_check(
                pool=pool, content=pool_csv([f"C{i:05d}" for i in range(30)])
            ),
            import_valid_rows=False,
        )
        cards = [customer_join(program=program, name=f"N{i}")[0] for i in range(40)]
    barrier = threading.Barrier(len(cards))

    def stamp(card):
        barrier.wait()
        with tenant_scope(world_a.tenant), transaction.atomic():
            card_add_stamps(card=card, count=1, source=StampSource.STAFF)
        connection.close()

    threads = [threading.Thread(target=stamp, args=(c,)) for c in cards]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    with tenant_scope(world_a.tenant):
        vouchers = list(Voucher.objects.filter(template=template))
        allocated = PoolCode.objects.filter(pool=pool, voucher__isnull=False).count()
    codes = [v.code for v in vouchers if v.code]
    assert len(vouchers) == 40
    assert len(codes) == len(set(codes)) == 30 == allocated
    assert sum(v.awaiting_code for v in vouchers) == 10
