"""Code pools in the dashboard: create, warnings, upload -> report -> import with progress."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from tenants.scoping import tenant_scope
from tests.dashboard.conftest import join, stamp
from vouchers.models import CodeImport, CodePool, PoolCode, Voucher
from vouchers.services import (
    code_import_check,
    code_import_confirm,
    code_import_run,
    code_pool_create,
    template_create,
    trigger_create,
)

pytestmark = pytest.mark.django_db


def make_pool(world, name="Till codes", low_threshold=5):  # type: ignore[no-untyped-def]
    with tenant_scope(world.tenant):
        return code_pool_create(tenant=world.tenant, name=name, low_threshold=low_threshold)


def fill(world, pool, codes):  # type: ignore[no-untyped-def]
    with tenant_scope(world.tenant):
        code_import = code_import_check(pool=pool, content="\n".join(codes))
        code_import_confirm(code_import=code_import, import_valid_rows=False, run_async=False)
        code_import.refresh_from_db()
        code_import_run(code_import=code_import)


def pool_voucher(world, program, pool, name):  # type: ignore[no-untyped-def]
    """A customer whose completed card issued a Redeem Code voucher from the pool."""
    with tenant_scope(world.tenant):
        template = pool.templates.first() or template_create(
            tenant=world.tenant,
            data={
                "reward_title": "POS coffee",
                "method": "redeem_code",
                "code_source": "pool",
                "pool": pool,
            },
        )
        if not template.triggers.exists():
            trigger_create(template=template, program=program, kind="stamp_goal")
    card = join(program, name)
    stamp(world, card, program.stamp_goal)
    with scopes_disabled():
        return Voucher.objects.get(card=card)


def codes_in(pool):  # type: ignore[no-untyped-def]
    with scopes_disabled():
        return sorted(PoolCode.objects.filter(pool=pool).values_list("display", flat=True))


def imports_of(pool):  # type: ignore[no-untyped-def]
    with scopes_disabled():
        return list(CodeImport.objects.filter(pool=pool).order_by("pk"))


def test_manager_creates_a_pool(world_a, manager_client):
    # Given the pools page, when a manager creates a pool
    response = manager_client.post(
        reverse("dashboard:pools"), {"name": "Spring coupons", "low_threshold": "10"}
    )
    # Then it exists and they land on its page, ready to upload
    with scopes_disabled():
        [pool] = CodePool.objects.filter(tenant=world_a.tenant)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:pool_detail", args=[pool.pk])
    assert (pool.name, pool.low_threshold) == ("Spring coupons", 10)
    page = manager_client.get(response["Location"]).content.decode()
    assert "Upload codes" in page
    assert 'name="file"' in page
    assert 'name="text"' in page


def test_an_empty_pool_with_waiting_vouchers_says_issuance_is_waiting(
    world_a, manager_client, program_a
):
    # Given an empty pool whose reward was earned by two customers
    pool = make_pool(world_a)
    first = pool_voucher(world_a, program_a, pool, "Ada")
    pool_voucher(world_a, program_a, pool, "Ben")
    assert first.awaiting_code
    # When the manager opens the pools list and the pool page
    listing = manager_client.get(reverse("dashboard:pools")).content.decode()
    page = manager_client.get(reverse("dashboard:pool_detail", args=[pool.pk])).content.decode()
    # Then both say clearly that issuance is waiting
    for body in (listing, page):
        assert "Till codes has no free codes." in body
        assert "Issuance is waiting: 2 vouchers have no code yet." in body


def test_a_low_pool_is_flagged(world_a, manager_client):
    pool = make_pool(world_a, low_threshold=5)
    fill(world_a, pool, ["LOW-0001", "LOW-0002"])
    body = manager_client.get(reverse("dashboard:pools")).content.decode()
    assert "Till codes is running low: 2 free codes left" in body


def test_an_upload_with_bad_rows_reports_each_line_and_imports_nothing(world_a, manager_client):
    # Given a pool and a pasted list with a too-short code and a duplicate
    pool = make_pool(world_a)
    text = "GOOD-0001\nx\nGOOD-0001\nGOOD-0002\n"
    # When the manager checks it
    response = manager_client.post(
        reverse("dashboard:pool_detail", args=[pool.pk]), {"kind": "codes", "text": text}
    )
    # Then they land on a report listing every bad row by line, and nothing is imported yet
    [code_import] = imports_of(pool)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:code_import", args=[code_import.pk])
    body = manager_client.get(response["Location"]).content.decode()
    assert "2 rows have a problem" in body
    assert "Line </span>2</td>" in body
    assert "Use 4 to 64 letters" in body
    assert "Line </span>3</td>" in body
    assert "Duplicate of line 1." in body
    assert "Import the 2 valid rows" in body
    assert 'value="all" disabled' in body
    assert codes_in(pool) == []
    # When they press "Import" anyway, then the upload is rejected and nothing is imported
    manager_client.post(
        reverse("dashboard:code_import_confirm", args=[code_import.pk]), {"action": "all"}
    )
    assert imports_of(pool)[0].status == CodeImport.Status.REJECTED
    assert codes_in(pool) == []


def test_importing_the_valid_rows_imports_them_with_progress(
    world_a, manager_client, django_capture_on_commit_callbacks
):
    # Given a checked CSV file with one bad row
    pool = make_pool(world_a)
    upload = SimpleUploadedFile(
        "codes.csv", b"code\nAAA-1111\nBBB-2222\n!!\n", content_type="text/csv"
    )
    manager_client.post(
        reverse("dashboard:pool_detail", args=[pool.pk]), {"kind": "codes", "file": upload}
    )
    [code_import] = imports_of(pool)
    assert code_import.filename == "codes.csv"
    # When the manager chooses "Import the 2 valid rows" (the task runs after commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("dashboard:code_import_confirm", args=[code_import.pk]), {"action": "valid"}
        )
    # Then the valid codes are in the pool, and the progress answer says it is done
    assert response.status_code == 302
    assert codes_in(pool) == ["AAA-1111", "BBB-2222"]
    progress = manager_client.get(reverse("dashboard:code_import_progress", args=[code_import.pk]))
    assert progress.json() == {
        "status": "done",
        "status_label": "Done",
        "processed": 2,
        "total": 2,
        "imported": 2,
        "errors": 1,
        "percent": 100,
        "done": True,
    }
    page = manager_client.get(response["Location"]).content.decode()
    assert "2 codes imported." in page
    assert "data-progress-url" not in page  # finished: nothing left to poll


def test_a_running_import_page_polls_its_progress(world_a, manager_client):
    # Given an import confirmed but whose task has not run yet
    pool = make_pool(world_a)
    manager_client.post(
        reverse("dashboard:pool_detail", args=[pool.pk]),
        {"kind": "codes", "text": "RUN-0001\nRUN-0002"},
    )
    [code_import] = imports_of(pool)
    manager_client.post(
        reverse("dashboard:code_import_confirm", args=[code_import.pk]), {"action": "all"}
    )
    # When the manager looks at the import page and its progress
    page = manager_client.get(reverse("dashboard:code_import", args=[code_import.pk]))
    progress_url = reverse("dashboard:code_import_progress", args=[code_import.pk])
    progress = manager_client.get(progress_url).json()
    # Then the page polls the JSON with the progress script, which reports 0 of 2 running
    body = page.content.decode()
    assert f'data-progress-url="{progress_url}"' in body
    assert "js/dashboard-progress.js" in body
    assert (progress["status"], progress["processed"], progress["total"]) == ("running", 0, 2)
    assert progress["percent"] == 0
    assert progress["done"] is False


def test_new_codes_go_to_the_vouchers_that_waited(
    world_a, manager_client, program_a, django_capture_on_commit_callbacks
):
    # Given a voucher waiting for a code from an empty pool
    pool = make_pool(world_a)
    waiting = pool_voucher(world_a, program_a, pool, "Cleo")
    # When codes are uploaded and imported
    manager_client.post(
        reverse("dashboard:pool_detail", args=[pool.pk]), {"kind": "codes", "text": "NEW-0001"}
    )
    [code_import] = imports_of(pool)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(
            reverse("dashboard:code_import_confirm", args=[code_import.pk]), {"action": "all"}
        )
    # Then the waiting voucher shows the new code
    with scopes_disabled():
        waiting.refresh_from_db()
    assert (waiting.code_display, waiting.awaiting_code) == ("NEW-0001", False)


def test_codes_used_at_the_pos_redeem_their_vouchers(
    world_a, manager_client, program_a, django_capture_on_commit_callbacks
):
    # Given a voucher that shows a POS code
    pool = make_pool(world_a)
    fill(world_a, pool, ["POS-0001"])
    voucher = pool_voucher(world_a, program_a, pool, "Dan")
    assert voucher.code_display == "POS-0001"
    # When the POS's used codes are uploaded (one unknown) and imported
    manager_client.post(
        reverse("dashboard:pool_detail", args=[pool.pk]),
        {"kind": "used", "text": "POS-0001\nPOS-9999"},
    )
    code_import = imports_of(pool)[-1]
    assert code_import.kind == CodeImport.Kind.USED
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(
            reverse("dashboard:code_import_confirm", args=[code_import.pk]), {"action": "all"}
        )
    # Then the voucher is redeemed, and the unknown code is listed on the result page
    with scopes_disabled():
        voucher.refresh_from_db()
    assert voucher.state == Voucher.State.REDEEMED
    body = manager_client.get(reverse("dashboard:code_import", args=[code_import.pk])).content
    assert "1 voucher marked as redeemed." in body.decode()
    assert "No voucher has this code." in body.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "codes", "text": "   "}, "Choose a file or paste the codes."),
        (
            {"kind": "codes", "file": SimpleUploadedFile("e.csv", b"", content_type="text/csv")},
            "The file is empty.",
        ),
        (
            {
                "kind": "codes",
                "file": SimpleUploadedFile("h.csv", b"code\n", content_type="text/csv"),
            },
            "The file has no codes.",
        ),
        (
            {
                "kind": "codes",
                "file": SimpleUploadedFile(
                    "big.csv", b"ABCD-1234\n" * (5 * 1024 * 1024 // 10 + 1), content_type="text/csv"
                ),
            },
            "at most 5 MB is allowed",
        ),
    ],
)
def test_bad_uploads_are_refused_with_a_message(world_a, manager_client, data, message):
    pool = make_pool(world_a)
    response = manager_client.post(reverse("dashboard:pool_detail", args=[pool.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert imports_of(pool) == []


def test_the_pool_page_lists_recent_uploads(world_a, manager_client):
    pool = make_pool(world_a)
    fill(world_a, pool, ["HIST-0001", "HIST-0002"])
    body = manager_client.get(reverse("dashboard:pool_detail", args=[pool.pk])).content.decode()
    assert "Recent uploads" in body
    assert "2/2" in body


def test_staff_cannot_reach_pools(world_a):
    pool = make_pool(world_a)
    client = world_a.staff_client
    assert client.get(reverse("dashboard:pools")).status_code == 403
    assert client.get(reverse("dashboard:pool_detail", args=[pool.pk])).status_code == 403


def test_another_businesss_pool_and_import_answer_404(world_a, world_b, manager_client):
    # Given B's pool with a checked upload
    pool_b = make_pool(world_b, name="Bravo pool")
    with tenant_scope(world_b.tenant):
        import_b = code_import_check(pool=pool_b, content="BRAVO-0001")
    # When A's manager asks for them, then 404, and B's upload is still waiting
    assert manager_client.get(reverse("dashboard:pool_detail", args=[pool_b.pk])).status_code == 404
    response = manager_client.post(
        reverse("dashboard:pool_detail", args=[pool_b.pk]), {"kind": "codes", "text": "X-0001"}
    )
    assert response.status_code == 404
    for name in ("dashboard:code_import", "dashboard:code_import_progress"):
        assert manager_client.get(reverse(name, args=[import_b.pk])).status_code == 404
    confirm = reverse("dashboard:code_import_confirm", args=[import_b.pk])
    assert manager_client.post(confirm, {"action": "valid"}).status_code == 404
    assert imports_of(pool_b)[0].status == CodeImport.Status.CHECKED
    assert len(imports_of(pool_b)) == 1
