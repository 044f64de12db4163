"""The counter in a real browser: the vendored scanner reads a card QR from a (fake) camera."""

from __future__ import annotations

import shutil

import pytest
import qrcode
from django.conf import settings
from django.urls import reverse
from PIL import Image

from tests.staff.conftest import make_card, make_program, stamp_events

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def camera_file_showing(text: str, path) -> str:
    """A short Y4M video of a QR code, for Chromium's fake camera."""
    width, height = 640, 480
    frame = Image.new("RGB", (width, height), (200, 200, 200))
    frame.paste(qrcode.make(text, border=4).convert("RGB").resize((360, 360)), (140, 60))
    y, u, v = frame.convert("YCbCr").split()
    u, v = u.resize((width // 2, height // 2)), v.resize((width // 2, height // 2))
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            video.write(b"FRAME\n" + y.tobytes() + u.tobytes() + v.tobytes())
    return str(path)


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium)")
def test_scanning_a_card_qr_with_the_camera_then_one_tap_stamps(
    live_server, world_a, tmp_path, monkeypatch
):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright runs an event loop
    # Given a customer's card, and a camera that sees the QR of its card page
    program = make_program(world_a)
    card = make_card(world_a, program, name="Camera Customer", email="cam@example.test")
    card_url = f"{settings.PUBLIC_BASE_URL}{reverse('card', args=[card.token])}"
    camera = camera_file_showing(card_url, tmp_path / "camera.y4m")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={camera}",
            ],
        )
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(live_server.url + reverse("login"))
        page.fill("input[name=username]", world_a.staff.email)
        page.fill("input[name=password]", "pw-for-tests-1")
        page.click("form button.btn-primary")
        # When the staff member opens the camera at the counter
        page.goto(live_server.url + reverse("staff:counter"))
        page.click("[data-scanner-start]")
        # Then the card opens by itself, and one tap adds a stamp
        page.wait_for_url(f"**{reverse('staff:card', args=[card.pk])}", timeout=20_000)
        assert "Camera Customer" in page.content()
        page.click(".btn-stamp")
        page.wait_for_selector("[data-result]")
        assert "Now 1 of 10" in page.inner_text("[data-result]")
        browser.close()
    assert [(e.count, e.staff_user_id) for e in stamp_events(card)] == [(1, world_a.staff.pk)]
