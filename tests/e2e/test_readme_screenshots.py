"""Pictures for the README, taken from the demo data in a real browser (docs/screenshots/).

Each picture is also a check: the page must show what the picture is meant to show.
Regenerate with: STAMPWISE_TESTING=1 .venv/bin/python -m pytest tests/e2e -k readme
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from loyalty.models import Card
from tenants.models import Tenant
from tenants.scoping import tenant_scope
from tests.e2e.helpers import (
    HAS_CHROMIUM,
    NO_CHROMIUM,
    doc_screenshot,
    end_state,
    log_in,
    read_codes,
)
from vouchers.models import Voucher, VoucherTrigger
from vouchers.services import template_create, trigger_create, voucher_issue

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM),
]

DEMO_PASSWORD = "stampwise-demo"


def demo_card(email: str) -> Card:
    with scopes_disabled():
        return Card.objects.select_related("program", "tenant", "customer").get(
            tenant__slug="demo-cafe", customer__email=email
        )


def demo_voucher(
    card: Card, *, method: str, reward_title: str, description: str = "", **template: object
) -> Voucher:
    """A usable voucher of this method (and these display options) on the card: the demo's
    own if seed_demo made one, else one issued here from a template of our own."""
    with tenant_scope(card.tenant):
        for voucher in Voucher.objects.filter(card=card, template__method=method).select_related(
            "template"
        ):
            shows = all(getattr(voucher.template, k) == v for k, v in template.items())
            if voucher.is_usable and shows:
                return voucher
        made = template_create(
            tenant=card.tenant,
            data={
                "reward_title": reward_title,
                "description": description,
                "method": method,
                **template,
            },
        )
        trigger = trigger_create(
            template=made, program=card.program, kind=VoucherTrigger.Kind.VISIT, threshold=999
        )
        voucher = voucher_issue(template=made, card=card, trigger=trigger, issuance_key="readme")
        assert voucher is not None
        return voucher


def test_readme_screenshots_from_the_demo_data(new_context, request):
    call_command("seed_demo", stdout=io.StringIO())
    with scopes_disabled():
        cafe = Tenant.objects.get(slug="demo-cafe")
    aiko = demo_card("aiko@example.test")  # 7 of 10 stamps, past the pastry milestone
    omar = demo_card("omar@example.test")  # one card completed, on the second
    jonas = demo_card("jonas@example.test")  # 3 stamps
    coffee = demo_voucher(
        omar,
        method="redeem_code",
        reward_title="A free coffee",
        description="Any hot drink, any size.",
        show_text=True,
        show_qr=True,
        show_barcode=True,
        code_source="generated",
    )
    treat = demo_voucher(
        jonas,
        method="self",
        reward_title="Welcome treat",
        description="A small thank-you for joining.",
    )
    phone = new_context(phone=True, timezone_id=cafe.timezone, locale="en-GB").new_page()

    # 1. The customer's card on a phone, a few stamps in, with a reward waiting
    phone.goto(f"/card/{aiko.token}/")
    assert "Hi Aiko Tanaka!" in phone.inner_text(".hello")
    assert phone.locator("#card-state .stamp.filled").count() == aiko.stamps > 0
    assert phone.locator(".vouchers .voucher-tile").count() >= 1  # a reward or two waiting
    doc_screenshot(phone, "customer-card-phone")

    # 2. A Redeem Code voucher: the code as text, QR and Code128 barcode
    phone.goto(f"/voucher/{coffee.token}/")
    code = phone.get_by_test_id("code-text").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code)
    assert phone.locator(".code-qr svg").count() == 1
    assert phone.locator(".code-barcode svg").count() == 1
    # A till's scanner could read both from the phone's screen.
    assert set(read_codes(phone.locator(".code-block").screenshot())) == {coffee.code}
    doc_screenshot(phone, "voucher-redeem-code", full_page=True)

    # 3. Self-redeem: two taps, then the live proof
    phone.goto(f"/voucher/{treat.token}/")
    phone.get_by_text("Redeem now", exact=True).tap()
    phone.get_by_role("button", name="Yes, redeem it now").tap()
    phone.get_by_test_id("live-proof").wait_for()
    phone.wait_for_timeout(1_200)  # a couple of seconds on the "ago" counter
    assert re.search(r"\d+ s ago", phone.inner_text("[data-ago]"))
    doc_screenshot(phone, "self-redeem-live-proof")

    # 4. The staff counter (a tablet) with a card found by name
    staff = new_context(viewport={"width": 1024, "height": 768}).new_page()
    log_in(staff, "staff@demo-cafe.test", DEMO_PASSWORD)
    staff.goto("/staff/")
    staff.get_by_label("Or type the code, or search by name, email or phone").fill("aiko")
    staff.get_by_role("button", name="Find").click()
    staff.locator(".result-row", has_text="Aiko Tanaka").click()
    staff.wait_for_url(re.compile(r"/staff/card/\d+/$"))
    assert "Aiko Tanaka" in staff.inner_text("h1")
    assert staff.get_by_role("button", name="+1 stamp").is_visible()
    doc_screenshot(staff, "staff-counter-card")

    # 5. The owner's dashboard overview
    owner = new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in(owner, "owner@demo-cafe.test", DEMO_PASSWORD)
    owner.goto("/dashboard/")
    assert "Demo Cafe" in owner.inner_text("h1")
    assert "Coffee Club" in owner.inner_text(".program-tiles")
    doc_screenshot(owner, "dashboard-overview")

    # 6. The program editor: editing the name updates the live preview
    owner.get_by_role("link", name="Edit design").first.click()
    owner.wait_for_url(re.compile(r"/dashboard/programs/\d+/$"))
    owner.get_by_label("Program name").fill("Coffee Club Gold")
    assert owner.inner_text("#preview-name") == "Coffee Club Gold"
    owner.locator("#preview-fill").fill("6")
    assert owner.locator("#preview-stamps .stamp.filled").count() == 6
    owner.get_by_label("Program name").fill("Coffee Club")
    owner.evaluate("document.activeElement.blur()")
    doc_screenshot(owner, "program-editor")
    end_state(owner, request.node.name)
