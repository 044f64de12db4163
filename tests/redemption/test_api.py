"""POST /api/v1/redeem: 200 / 409 with when and where / 404 / 410 / 429, exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from redemption.models import Redemption
from tenants.models import Alert
from tenants.scoping import tenant_scope
from vouchers.models import Voucher
from vouchers.services import voucher_void

pytestmark = pytest.mark.django_db


def redeem(world, **body):
    return world.api.post("/api/v1/redeem", body, content_type="application/json")


def test_redeem_code_then_again_gives_409_with_when_and_where(world_a, issue):
    voucher = issue("redeem_code")
    first = redeem(world_a, code=voucher.code_display.lower(), location=world_a.location.pk)
    assert first.status_code == 200
    body = first.json()
    assert body["voucher"]["state"] == "redeemed"
    assert body["redemption"]["location"] == world_a.location.name
    second = redeem(world_a, code=voucher.code)
    assert second.status_code == 409
    err = second.json()
    assert err["code"] == "already_redeemed"
    assert err["detail"].startswith("Already redeemed at ")
    assert world_a.location.name in err["detail"]
    assert err["redemption"]["redeemed_at"] == body["redemption"]["redeemed_at"]
    with tenant_scope(world_a.tenant):
        assert Redemption.objects.filter(voucher=voucher).count() == 1


def test_staff_scan_token_is_accepted_by_the_api(world_a, issue):
    voucher = issue("staff_scan")
    assert redeem(world_a, token=voucher.token).status_code == 200


def test_unknown_code_is_404_and_other_tenants_code_too(world_a, world_b, issue):
    assert redeem(world_a, code="ZZZZZ-ZZZZZ").json()["code"] == "unknown_code"
    voucher = issue("redeem_code")
    response = redeem(world_b, code=voucher.code)
    assert response.status_code == 404
    with tenant_scope(world_a.tenant):
        assert Voucher.objects.get(pk=voucher.pk).state == "active"


def test_expired_and_void_are_410(world_a, issue):
    expired = issue("redeem_code", validity="days", validity_value=1)
    with tenant_scope(world_a.tenant):
        Voucher.objects.filter(pk=expired.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        void = issue("redeem_code")
        voucher_void(voucher=void, reason="mistake", actor=world_a.manager)
    response = redeem(world_a, code=expired.code)
    assert (response.status_code, response.json()["code"]) == (410, "expired")
    response = redeem(world_a, code=void.code)
    assert (response.status_code, response.json()["code"]) == (410, "void")
    assert "mistake" in response.json()["detail"]


def test_not_yet_active_is_refused(world_a, issue):
    voucher = issue("redeem_code", activation_delay_days=1)
    response = redeem(world_a, code=voucher.code)
    assert (response.status_code, response.json()["code"]) == (409, "not_active_yet")


def test_bad_body_is_400(world_a):
    assert redeem(world_a).status_code == 400
    assert redeem(world_a, code="A", token="B").status_code == 400


def test_failed_lookups_are_limited_per_key_with_retry_after_and_an_alert(world_a, issue):
    voucher = issue("redeem_code")
    for i in range(10):
        assert redeem(world_a, code=f"WRONG{i:05d}").status_code == 404
    blocked = redeem(world_a, code=voucher.code)  # even a right code waits now
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    with tenant_scope(world_a.tenant):
        assert Voucher.objects.get(pk=voucher.pk).state == "active"
        assert Alert.objects.filter(kind="redeem_code_guessing").count() == 1
    page = world_a.owner_client.get("/dashboard/").content.decode()
    assert "unknown codes" in page
