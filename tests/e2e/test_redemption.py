"""The three ways a Smart Voucher is redeemed, in real browsers: the customer self-redeems on
a phone, staff type a Redeem Code at the counter, and staff scan a voucher QR with the camera."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.e2e.helpers import (
    HAS_CHROMIUM,
    NO_CHROMIUM,
    camera_file_showing,
    end_state,
    log_in,
    read_codes,
)
from tests.redemption.conftest import Issuer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM),
]

SCAN_FIELD = "Or type the code, or search by name, email or phone"


def staff_voucher_url(voucher) -> re.Pattern[str]:
    return re.compile(re.escape(reverse("staff_vouchers:voucher", args=[voucher.pk])) + "$")


def test_customer_self_redeems_on_a_phone_and_sees_a_live_proof(new_context, world_a, request):
    voucher = Issuer(world_a)("self")
    phone = new_context(phone=True).new_page()
    phone.goto(f"/voucher/{voucher.token}/")
    assert "Free coffee (self)" in phone.inner_text("h1")
    assert "Ready to use" in phone.inner_text(".voucher-head")

    # Two deliberate taps: "Redeem now" opens the confirmation, which does the redeeming.
    confirm = phone.get_by_role("button", name="Yes, redeem it now")
    assert not confirm.is_visible()
    phone.get_by_text("Redeem now", exact=True).tap()
    assert "Are you at the counter?" in phone.inner_text(".confirm-panel")
    confirm.tap()

    proof = phone.get_by_test_id("live-proof")
    proof.wait_for()
    assert "Redeemed" in proof.inner_text()
    assert "Free coffee (self)" in proof.inner_text()
    assert phone.get_by_text("Redeem now", exact=True).count() == 0
    # Live, not a screenshot: the clock runs and the "ago" counter grows.
    clock = phone.locator("[data-clock]")
    first = clock.inner_text()
    assert re.fullmatch(r"\d\d:\d\d:\d\d", first)
    phone.wait_for_timeout(2_100)
    assert clock.inner_text() != first
    assert re.fullmatch(r"\d+ s ago", phone.inner_text("[data-ago]"))
    end_state(phone, request.node.name)

    # And it stays used: opening the voucher again offers no redeem button.
    phone.reload()
    assert phone.get_by_test_id("live-proof").is_visible()
    assert phone.get_by_test_id("redeem-start").count() == 0


def test_staff_types_a_redeem_code_redeems_it_and_cannot_redeem_it_twice(
    new_context, world_a, request
):
    voucher = Issuer(world_a)("redeem_code")
    # The customer's voucher page shows the code; staff type it as they read it, loosely.
    customer = new_context(phone=True).new_page()
    customer.goto(f"/voucher/{voucher.token}/")
    shown = customer.get_by_test_id("code-text").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", shown)
    typed = shown.lower().replace("-", " ")

    staff = new_context().new_page()
    log_in(staff, world_a.staff.email)
    staff.goto("/staff/")
    staff.get_by_label(SCAN_FIELD).fill(typed)
    staff.get_by_label(SCAN_FIELD).press("Enter")
    staff.wait_for_url(staff_voucher_url(voucher))
    card = staff.get_by_test_id("staff-voucher")
    assert "Maya Levi" in card.inner_text()
    assert "Free coffee (redeem_code)" in card.inner_text()
    assert "Ready to use" in card.inner_text()
    staff.get_by_role("button", name="Redeem", exact=True).click()

    done = staff.get_by_test_id("staff-redeemed")
    done.wait_for()
    assert "Redeemed" in done.inner_text()
    assert "Maya Levi" in done.inner_text()

    # The same code again, from the counter: it is already used.
    staff.get_by_role("link", name="Next customer").click()
    staff.wait_for_url("**/staff/?scan=1")
    staff.get_by_label(SCAN_FIELD).fill(typed)
    staff.get_by_role("button", name="Find").click()
    staff.wait_for_url(staff_voucher_url(voucher))
    again = staff.get_by_test_id("staff-voucher").inner_text()
    assert "Already redeemed" in again
    assert world_a.staff.first_name in again  # who redeemed it
    assert staff.get_by_role("button", name="Redeem", exact=True).count() == 0
    end_state(staff, request.node.name)

    # The customer's page no longer shows a usable code.
    customer.reload()
    assert customer.get_by_test_id("code-text").count() == 0
    assert "Redeemed" in customer.inner_text(".voucher-head")


def test_staff_scans_a_voucher_qr_with_the_camera_and_redeems_it(
    new_context, camera_browser, world_a, tmp_path, request
):
    voucher = Issuer(world_a)("staff_scan")
    # The customer's phone shows the voucher's QR; it carries the voucher token.
    customer = new_context(phone=True).new_page()
    customer.goto(f"/voucher/{voucher.token}/")
    assert "Staff scan the QR code" in customer.inner_text(".code-block")
    assert read_codes(customer.locator(".code-qr").screenshot()) == [voucher.token]

    # The counter's camera sees that QR.
    camera = camera_browser(camera_file_showing(voucher.token, tmp_path / "voucher.y4m"))
    staff = new_context(in_browser=camera, viewport={"width": 390, "height": 844}).new_page()
    log_in(staff, world_a.staff.email)
    staff.goto("/staff/")
    staff.get_by_role("button", name="Scan a card").click()
    staff.wait_for_url(staff_voucher_url(voucher), timeout=20_000)  # by itself, no typing
    card = staff.get_by_test_id("staff-voucher")
    assert "Maya Levi" in card.inner_text()
    assert "Free coffee (staff_scan)" in card.inner_text()
    staff.get_by_role("button", name="Redeem", exact=True).click()

    done = staff.get_by_test_id("staff-redeemed")
    done.wait_for()
    assert "Redeemed" in done.inner_text()
    assert "Free coffee (staff_scan) · Maya Levi" in done.inner_text()
    end_state(staff, request.node.name)
