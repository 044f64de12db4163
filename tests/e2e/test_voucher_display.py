"""What the voucher page shows, checked by looking at it: guards for two defects the
real-browser tests found (both fixed since).

- The live proof printed "Redeemed at" in UTC next to a clock in the phone's time zone.
- The Code128 barcode (an SVG sized in mm, without a viewBox) could not scale: it sat small
  at the left of its box.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.e2e.helpers import HAS_CHROMIUM, NO_CHROMIUM, end_state, read_codes
from tests.redemption.conftest import Issuer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAS_CHROMIUM, reason=NO_CHROMIUM),
]


def _seconds(hms: str) -> int:
    h, m, s = (int(part) for part in hms.split(":"))
    return h * 3600 + m * 60 + s


@pytest.mark.parametrize(
    "phone_zone", ["business", "America/New_York"], ids=["phone-local", "phone-abroad"]
)
def test_live_proof_redemption_time_agrees_with_its_clock(
    new_context, world_a, request, phone_zone
):
    voucher = Issuer(world_a)("self")
    # A customer's phone in the business's time zone, or a visitor's still on home time
    zone = world_a.tenant.timezone if phone_zone == "business" else phone_zone
    phone = new_context(phone=True, timezone_id=zone).new_page()
    phone.goto(f"/voucher/{voucher.token}/")
    phone.get_by_text("Redeem now", exact=True).tap()
    phone.get_by_role("button", name="Yes, redeem it now").tap()
    phone.get_by_test_id("live-proof").wait_for()
    clock = phone.inner_text("[data-clock]")
    redeemed_at = re.search(r"Redeemed at (\d\d:\d\d:\d\d)", phone.inner_text(".lp-ago"))
    assert redeemed_at is not None
    end_state(phone, request.node.name)
    gap = abs(_seconds(clock) - _seconds(redeemed_at.group(1))) % 86_400
    assert min(gap, 86_400 - gap) <= 10, f"clock {clock} but 'Redeemed at {redeemed_at.group(1)}'"


def test_voucher_barcode_fills_its_box_and_scans(new_context, world_a, request):
    voucher = Issuer(world_a)("redeem_code", show_barcode=True)
    phone = new_context(phone=True).new_page()
    phone.goto(f"/voucher/{voucher.token}/")
    box = phone.locator(".code-barcode")
    assert box.count() == 1
    end_state(phone, request.node.name, full_page=True)
    image = Image.open(io.BytesIO(box.screenshot())).convert("L")
    width, height = image.size
    dark = [x for x in range(width) if any(image.getpixel((x, y)) < 100 for y in range(height))]
    assert dark, "no bars drawn"
    left, right = dark[0], width - 1 - dark[-1]
    assert (dark[-1] - dark[0]) >= 0.7 * width, f"bars span {dark[-1] - dark[0]} of {width} px"
    assert abs(left - right) <= 0.1 * width, f"off centre: {left} px left, {right} px right"
    assert read_codes(box.screenshot()) == [voucher.code]  # and a till's scanner reads it
