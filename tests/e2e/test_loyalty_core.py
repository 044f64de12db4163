"""Loyalty core in real browsers: the owner creates a program and prints its poster, a
customer joins on a phone, staff add a stamp, and the customer's open card page updates."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from tests.e2e.helpers import HAS_CHROMIUM, NO_CHROMIUM, end_state, log_in, read_codes

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM),
]

FILLED = "#card-state .stamp.filled"


def test_owner_creates_program_customer_joins_staff_stamps_card_updates_live(
    new_context, world_a, request
):
    # --- the owner creates a program in the dashboard -----------------------------------
    owner = new_context().new_page()
    log_in(owner, world_a.owner.email)
    owner.locator("nav.sidenav").get_by_role("link", name="Programs").click()
    owner.get_by_role("link", name="New program").first.click()
    owner.wait_for_url("**/dashboard/programs/new/")
    owner.get_by_label("Program name").fill("Bagel Club")
    owner.get_by_label("Stamps for the reward").fill("5")
    owner.get_by_label("Reward at the goal").fill("a free bagel")
    owner.get_by_role("button", name="Create program").click()
    # Created: the join page of the new program, with the success message
    owner.wait_for_url(re.compile(r"/dashboard/programs/\d+/join/$"))
    assert "Bagel Club is live" in owner.inner_text("body")

    # --- its A4 poster carries a scannable join QR ------------------------------------------
    with owner.context.expect_page() as opened:
        owner.get_by_role("link", name="Poster A4").click()
    poster = opened.value
    poster.wait_for_load_state()
    assert "size=a4" in poster.url
    assert "Scan to join" in poster.inner_text(".poster")
    assert "Collect 5 stamps and get a free bagel" in poster.inner_text(".poster")
    qr = poster.locator(".poster-qr svg")
    assert qr.count() == 1
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box is not None
    assert box["width"] > 200  # big enough to scan from across the counter
    scanned = read_codes(poster.locator(".poster-qr").screenshot())
    assert len(scanned) == 1, scanned
    join_url = scanned[0]
    assert "/join/" in join_url
    assert join_url == owner.input_value("#join-url")  # the same link the join page shows
    assert join_url in poster.inner_text(".poster-url")
    poster.emulate_media(media="print")  # what comes out of the printer: no toolbar
    assert not poster.locator(".poster-toolbar").is_visible()
    assert poster.locator(".poster-qr svg").is_visible()
    end_state(poster, f"{request.node.name}--poster", full_page=True)

    # --- a customer scans it with a phone and joins ---------------------------------------------
    customer = new_context(phone=True).new_page()
    customer.goto(join_url)
    assert "Bagel Club" in customer.inner_text("h1")
    customer.get_by_label("Your name").fill("Priya Nair")
    customer.get_by_label("Email (optional)").fill("priya@example.test")
    customer.get_by_role("button", name="Get my stamp card").tap()
    customer.wait_for_url(re.compile(r"/card/[^/]+/$"))
    assert "Hi Priya Nair!" in customer.inner_text(".hello")
    assert customer.locator(FILLED).count() == 0
    assert customer.locator("#card-state .stamp").count() == 5
    assert "5 more stamps for a free bagel" in customer.inner_text("#card-state")
    # A marker that a reload would wipe: the update must come without one.
    customer.evaluate("window.__stillTheSamePage = true")

    # --- staff find the customer at the counter and add a stamp ---------------------------------
    staff = new_context().new_page()
    log_in(staff, world_a.staff.email)
    staff.goto("/staff/")
    staff.get_by_label("Or type the code, or search by name, email or phone").fill("priya")
    staff.get_by_role("button", name="Find").click()
    staff.wait_for_url("**/staff/?q=priya")
    rows = staff.locator(".result-list .result-row")
    assert rows.count() == 1
    assert "Priya Nair" in rows.first.inner_text()
    assert "0/5" in rows.first.inner_text()
    rows.first.click()
    staff.wait_for_url(re.compile(r"/staff/card/\d+/$"))
    assert "Priya Nair" in staff.inner_text("h1")
    if connection.vendor == "sqlite":
        # The open card page polls every 2.5 s. SQLite's in-memory test database (shared
        # cache) fails a write that overlaps a read ("database table is locked") instead of
        # waiting as a file database does; so the tap comes just after a poll.
        with customer.expect_response(lambda response: "/state/" in response.url):
            pass
    staff.get_by_role("button", name="+1 stamp").click()
    staff.wait_for_selector("[data-result]")
    assert "Now 1 of 5" in staff.inner_text("[data-result]")

    # --- the customer's open card page fills the stamp by itself ---------------------------------
    customer.wait_for_function(
        "n => document.querySelectorAll('#card-state .stamp.filled').length === n",
        arg=1,
        timeout=8_000,  # the page polls every 2.5 s
    )
    assert customer.evaluate("window.__stillTheSamePage === true"), "the page was reloaded"
    assert customer.locator(FILLED).count() == 1
    assert "4 more stamps for a free bagel" in customer.inner_text("#card-state")
    assert customer.inner_text("#card-state .sc-count").replace(" ", "") == "1/5"
    end_state(customer, request.node.name)
