"""Self-redeem, staff-scan and Redeem Code at the counter; undo; every refusal in plain words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from loyalty.models import CardEvent
from redemption.models import Redemption
from tenants.models import Membership
from tenants.scoping import tenant_scope
from vouchers.models import Voucher
from vouchers.services import voucher_void

pytestmark = pytest.mark.django_db


def page(client, voucher):
    return client.get(f"/voucher/{voucher.token}/").content.decode()


def test_customer_self_redeems_and_sees_a_live_screen_then_never_the_button(world_a, issue):
    voucher = issue("self")
    phone = Client()
    before = page(phone, voucher)
    assert 'data-testid="redeem-start"' in before
    # Without confirming nothing happens.
    phone.post(f"/voucher/{voucher.token}/redeem/", {})
    with tenant_scope(world_a.tenant):
        assert Voucher.objects.get(pk=voucher.pk).state == "active"
    response = phone.post(f"/voucher/{voucher.token}/redeem/", {"confirm": "yes"}, follow=True)
    html = response.content.decode()
    assert 'data-testid="live-proof"' in html
    assert "data-clock" in html
    assert 'data-testid="redeem-start"' not in html
    # Later, the screen is a plain record.
    with tenant_scope(world_a.tenant):
        Redemption.objects.filter(voucher=voucher).update(
            created_at=timezone.now() - timedelta(hours=2)
        )
    later = page(phone, voucher)
    assert 'data-testid="redeemed-note"' in later
    assert "live-proof" not in later
    assert 'data-testid="redeem-start"' not in later
    again = phone.post(f"/voucher/{voucher.token}/redeem/", {"confirm": "yes"}, follow=True)
    assert "Already redeemed" in again.content.decode()


def test_a_staff_scan_voucher_cannot_be_self_redeemed(world_a, issue):
    voucher = issue("staff_scan")
    assert 'data-testid="redeem-start"' not in page(Client(), voucher)
    response = Client().post(f"/voucher/{voucher.token}/redeem/", {"confirm": "yes"}, follow=True)
    assert "Show this voucher to the staff" in response.content.decode()
    with tenant_scope(world_a.tenant):
        assert Voucher.objects.get(pk=voucher.pk).state == "active"


def scan(client, value):
    return client.post("/staff/scan/", {"code": value})


def test_staff_scans_a_voucher_qr_and_redeems_it(world_a, issue):
    voucher = issue("staff_scan")
    staff = world_a.staff_client
    response = scan(staff, voucher.token)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/vouchers/{voucher.pk}/"
    screen = staff.get(response["Location"]).content.decode()
    assert "Maya Levi" in screen
    assert 'data-testid="staff-redeem"' in screen
    done = staff.post(f"/staff/vouchers/{voucher.pk}/redeem/", follow=True)
    assert 'data-testid="staff-redeemed"' in done.content.decode()
    with tenant_scope(world_a.tenant):
        redemption = Redemption.objects.get(voucher=voucher)
    assert (redemption.actor, redemption.channel) == (world_a.staff, "staff")


def test_staff_types_a_redeem_code_and_a_url_scan_works_too(world_a, issue):
    voucher = issue("redeem_code")
    staff = world_a.staff_client
    typed = voucher.code_display.lower().replace("-", " ")
    assert scan(staff, typed)["Location"] == f"/staff/vouchers/{voucher.pk}/"
    other = issue("staff_scan")
    url = f"http://testserver/voucher/{other.token}/"
    assert scan(staff, url)["Location"] == f"/staff/vouchers/{other.pk}/"


@pytest.mark.parametrize(
    ("setup", "status", "text"),
    [
        ("redeemed", 409, "Already redeemed at"),
        ("expired", 410, "expired on"),
        ("void", 410, "voided: broken"),
        ("not_active", 409, "Not active yet"),
    ],
)
def test_each_refusal_has_its_own_plain_message_on_the_staff_page(
    world_a, issue, setup, status, text
):
    voucher = issue("staff_scan", activation_delay_days=1 if setup == "not_active" else 0)
    with tenant_scope(world_a.tenant):
        if setup == "expired":
            Voucher.objects.filter(pk=voucher.pk).update(
                expires_at=timezone.now() - timedelta(seconds=1)
            )
        if setup == "void":
            voucher_void(voucher=voucher, reason="broken", actor=world_a.manager)
    staff = world_a.staff_client
    if setup == "redeemed":
        world_a.client_for(world_a.manager).post(f"/staff/vouchers/{voucher.pk}/redeem/")
    response = staff.post(f"/staff/vouchers/{voucher.pk}/redeem/")
    assert response.status_code == status
    html = response.content.decode()
    assert 'data-testid="refusal"' in html
    assert text in html
    if setup == "redeemed":
        assert "by Manageralpha" in html


def test_another_businesss_voucher_gets_its_own_message(world_a, world_b, issue):
    voucher = issue("staff_scan")
    response = scan(world_b.staff_client, voucher.token)
    assert response.status_code == 404
    assert "from another business" in response.content.decode()
    assert world_b.staff_client.get(f"/staff/vouchers/{voucher.pk}/").status_code == 404


def test_staff_limited_to_one_location_redeems_there_and_nowhere_else(world_a, issue):
    from redemption.services import Actor, RedemptionRefused, voucher_redeem
    from tenants.models import Location

    voucher = issue("staff_scan")
    with tenant_scope(world_a.tenant):
        airport = Location.objects.create(tenant=world_a.tenant, name="Airport")
        membership = Membership.objects.get(user=world_a.staff)
        membership.locations.set([airport])
        # The service refuses a location the membership does not allow...
        with pytest.raises(RedemptionRefused) as refused:
            voucher_redeem(
                voucher=voucher,
                channel="staff",
                actor=Actor(user=world_a.staff, membership=membership, location=world_a.location),
            )
        assert refused.value.code == "wrong_location"
    # ...and the counter only ever acts at the allowed one.
    world_a.staff_client.post(f"/staff/vouchers/{voucher.pk}/redeem/")
    with tenant_scope(world_a.tenant):
        redemption = Redemption.objects.get(voucher=voucher)
    assert redemption.location == airport


def test_manager_undoes_a_redemption_once_within_the_window(world_a, issue):
    voucher = issue("staff_scan")
    manager = world_a.client_for(world_a.manager)
    done = manager.post(f"/staff/vouchers/{voucher.pk}/redeem/")
    redemption_url = done["Location"]
    assert "Undo this redemption" in manager.get(redemption_url).content.decode()
    rid = redemption_url.rstrip("/").split("/")[-1]
    assert (
        world_a.staff_client.post(
            f"/staff/vouchers/redemptions/{rid}/undo/", {"reason": "x"}
        ).status_code
        == 403
    )
    manager.post(f"/staff/vouchers/redemptions/{rid}/undo/", {"reason": "wrong customer"})
    again = manager.post(
        f"/staff/vouchers/redemptions/{rid}/undo/", {"reason": "again"}, follow=True
    )
    assert "already undone" in again.content.decode()
    with tenant_scope(world_a.tenant):
        assert Voucher.objects.get(pk=voucher.pk).state == "active"
        kinds = list(CardEvent.objects.filter(card=voucher.card).values_list("kind", flat=True))
    assert kinds.count("voucher_redeemed") == 1
    assert kinds.count("redemption_reversed") == 1
    # Usable again: a second redemption is allowed, and it is the only live one.
    assert manager.post(f"/staff/vouchers/{voucher.pk}/redeem/").status_code == 302
    with tenant_scope(world_a.tenant):
        assert Redemption.objects.filter(voucher=voucher, reversed_at__isnull=True).count() == 1


def test_undo_after_the_window_is_refused(world_a, issue):
    voucher = issue("staff_scan")
    manager = world_a.client_for(world_a.manager)
    rid = (
        manager.post(f"/staff/vouchers/{voucher.pk}/redeem/")["Location"].rstrip("/").split("/")[-1]
    )
    with tenant_scope(world_a.tenant):
        Redemption.objects.filter(pk=rid).update(created_at=timezone.now() - timedelta(minutes=11))
    response = manager.post(
        f"/staff/vouchers/redemptions/{rid}/undo/", {"reason": "late"}, follow=True
    )
    assert "Too late to undo" in response.content.decode()
    with tenant_scope(world_a.tenant):
        assert Voucher.objects.get(pk=voucher.pk).state == "redeemed"


def test_after_redemption_the_card_shows_the_next_cycle_unchanged(world_a, issue):
    from loyalty.services import card_add_stamps

    with tenant_scope(world_a.tenant):
        card = issue.card
        card_add_stamps(card=card, count=12, source="staff")
    voucher = issue("staff_scan")
    world_a.staff_client.post(f"/staff/vouchers/{voucher.pk}/redeem/")
    with tenant_scope(world_a.tenant):
        card.refresh_from_db()
    assert (card.cycle, card.stamps) == (2, 2)
    html = Client().get(f"/card/{card.token}/").content.decode()
    assert "8 more stamps for a coffee" in html


def test_staff_guessing_codes_is_limited_and_the_owner_is_told(world_a, issue):
    from tenants.models import Alert

    voucher = issue("redeem_code")
    staff = world_a.staff_client
    for i in range(10):
        response = scan(staff, f"ZZ{i:03d}-WRONG")
        assert response.status_code in (302, 404)  # unknown: a search, then nothing found
    blocked = scan(staff, voucher.code_display)
    assert blocked.status_code == 429
    assert "Too many unknown codes" in blocked.content.decode()
    assert int(blocked["Retry-After"]) > 0
    with tenant_scope(world_a.tenant):
        assert Voucher.objects.get(pk=voucher.pk).state == "active"
        assert Alert.objects.filter(kind="redeem_code_guessing").exists()


def test_times_on_the_voucher_page_are_the_business_local_time(world_a, issue):
    from datetime import UTC, datetime

    voucher = issue("self")
    Client().post(f"/voucher/{voucher.token}/redeem/", {"confirm": "yes"})
    with tenant_scope(world_a.tenant):  # Europe/Berlin: UTC+1 in January
        moment = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
        Redemption.objects.filter(voucher=voucher).update(created_at=moment)
        Voucher.objects.filter(pk=voucher.pk).update(redeemed_at=moment)
    assert "10:30" in page(Client(), voucher)


def test_the_staff_card_screen_lists_ready_rewards_with_a_way_to_redeem(world_a, issue):
    voucher = issue("staff_scan")
    html = world_a.staff_client.get(f"/staff/card/{issue.card.pk}/").content.decode()
    assert 'data-testid="ready-rewards"' in html
    assert f'href="/staff/vouchers/{voucher.pk}/"' in html
