"""Receipt codes in the dashboard: batches, the printable QR sheet and the CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.conf import settings
from django.urls import reverse
from django_scopes import scopes_disabled

from loyalty.models import ReceiptBatch, ReceiptCode
from loyalty.services import receipt_batch_create
from tenants.codes import format_code
from tenants.scoping import tenant_scope
from tests.dashboard.conftest import make_program

pytestmark = pytest.mark.django_db


def batches_of(world):  # type: ignore[no-untyped-def]
    with scopes_disabled():
        return list(ReceiptBatch.objects.filter(tenant=world.tenant))


def test_manager_creates_a_batch(world_a, manager_client, program_a):
    # When a manager asks for 25 codes worth 2 stamps each
    response = manager_client.post(
        reverse("dashboard:receipt_batches"),
        {"program": str(program_a.pk), "size": "25", "stamps_each": "2", "note": "March"},
        follow=True,
    )
    # Then the batch and its 25 codes exist, and the list shows it
    [batch] = batches_of(world_a)
    with scopes_disabled():
        assert ReceiptCode.objects.filter(batch=batch).count() == 25
    assert (batch.program_id, batch.stamps_each, batch.note) == (program_a.pk, 2, "March")
    assert batch.created_by == world_a.manager
    body = response.content.decode()
    assert "25 codes created for Coffee card." in body
    assert "March" in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"size": "5001", "stamps_each": "1"}, "less than or equal to 5000"),
        ({"size": "0", "stamps_each": "1"}, "greater than or equal to 1"),
        ({"size": "10", "stamps_each": "11"}, "less than or equal to 10"),
    ],
)
def test_an_invalid_batch_is_refused(world_a, manager_client, program_a, data, message):
    response = manager_client.post(
        reverse("dashboard:receipt_batches"), {"program": str(program_a.pk), **data}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert batches_of(world_a) == []


def test_another_tenants_program_cannot_get_codes(world_a, world_b, manager_client):
    program_b = make_program(world_b)
    make_program(world_a)
    response = manager_client.post(
        reverse("dashboard:receipt_batches"),
        {"program": str(program_b.pk), "size": "5", "stamps_each": "1"},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert batches_of(world_b) == []


@pytest.fixture
def batch(world_a, program_a):  # type: ignore[no-untyped-def]
    with tenant_scope(world_a.tenant):
        return receipt_batch_create(program=program_a, size=7, stamps_each=1)


def codes_of(batch):  # type: ignore[no-untyped-def]
    with scopes_disabled():
        return list(ReceiptCode.objects.filter(batch=batch).order_by("id"))


def test_batch_list_shows_size_and_claimed(world_a, manager_client, batch):
    with scopes_disabled():
        ReceiptCode.objects.filter(pk=codes_of(batch)[0].pk).update(
            claimed_at="2026-01-01T10:00:00Z"
        )
    body = manager_client.get(reverse("dashboard:receipt_batches")).content.decode()
    assert '<td data-label="Codes">7</td>' in body
    assert '<td data-label="Claimed">1 ' in body


def test_codes_csv(world_a, manager_client, batch):
    response = manager_client.get(reverse("dashboard:receipt_csv", args=[batch.pk]))
    assert response["Content-Disposition"] == (
        f'attachment; filename="receipt-codes-{batch.pk}.csv"'
    )
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    codes = codes_of(batch)
    assert [row["Code"] for row in rows] == [format_code(c.code) for c in codes]
    assert rows[0]["Link"] == settings.PUBLIC_BASE_URL + reverse(
        "receipt_scan", args=[codes[0].code]
    )
    assert all(len(row["Code"]) == 11 and row["Code"][5] == "-" for row in rows)
    assert {row["Stamps"] for row in rows} == {"1"}


def test_printable_qr_sheet(world_a, manager_client, batch):
    response = manager_client.get(reverse("dashboard:receipt_sheet", args=[batch.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "@page { size: A4" in body
    assert body.count("<svg") == 7
    for code in codes_of(batch):
        assert format_code(code.code) in body


def test_a_sheet_qr_encodes_the_scan_url(world_a, manager_client, batch):
    # The sheet's first QR has the same modules as a QR of the first code's scan URL.
    import qrcode

    from dashboard import qr

    code = codes_of(batch)[0]
    url = settings.PUBLIC_BASE_URL + reverse("receipt_scan", args=[code.code])
    body = manager_client.get(reverse("dashboard:receipt_sheet", args=[batch.pk])).content
    expected = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    expected.add_data(url)
    assert qr.qr_svg(url).encode() in body
    assert f'viewBox="0 0 {len(expected.get_matrix())}' in qr.qr_svg(url)


def test_staff_and_other_tenants(world_a, world_b, batch):
    staff = world_a.staff_client
    for url in [
        reverse("dashboard:receipt_batches"),
        reverse("dashboard:receipt_sheet", args=[batch.pk]),
        reverse("dashboard:receipt_csv", args=[batch.pk]),
    ]:
        assert staff.get(url).status_code == 403, url
    owner_b = world_b.owner_client
    for name in ["dashboard:receipt_sheet", "dashboard:receipt_csv"]:
        assert owner_b.get(reverse(name, args=[batch.pk])).status_code == 404, name
