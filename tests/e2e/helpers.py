"""Shared helpers for the real-browser tests: paths, logging in, screenshots, a fake camera."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
import qrcode
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
# The README's pictures are refreshed only on request (STAMPWISE_UPDATE_SCREENSHOTS=1), so a
# test run never rewrites tracked files; otherwise they go with the other test artifacts.
DOC_SCREENSHOTS = (
    REPO_ROOT / "docs" / "screenshots"
    if os.environ.get("STAMPWISE_UPDATE_SCREENSHOTS") == "1"
    else ARTIFACTS / "readme"
)

CHROMIUM = "/usr/bin/chromium"
HAS_CHROMIUM = os.path.exists(CHROMIUM)
NO_CHROMIUM = "needs Chromium at /usr/bin/chromium (apt-get install chromium)"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's password
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


def log_in(page, email: str, password: str = PASSWORD) -> None:
    """Log in through the login form, as a person does, and wait to leave the login page."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def end_state(page, test_name: str, *, full_page: bool = False) -> Path:
    """The screenshot of a test's end state: test-artifacts/e2e/<test-name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', test_name)}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


def camera_file_showing(text: str, path: Path) -> str:
    """A short Y4M video of a QR code, for Chromium's fake camera
    (--use-file-for-fake-video-capture), as tests/staff/test_e2e_scanner.py does."""
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


def read_codes(png: bytes) -> list[str]:
    """What the QR codes and barcodes in a screenshot say (pyzbar): a test "scans" the page."""
    pyzbar = pytest.importorskip("pyzbar.pyzbar", reason="needs libzbar (apt-get install libzbar0)")
    image = Image.open(io.BytesIO(png)).convert("L")
    return [symbol.data.decode() for symbol in pyzbar.decode(image)]


def doc_screenshot(page, name: str, *, full_page: bool = False) -> Path:
    """A README picture in docs/screenshots/<name>.png, palette-compressed to stay small."""
    DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = page.screenshot(full_page=full_page, animations="disabled")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    # 256 colours with dithering is visually lossless for these flat UIs and ~3x smaller.
    small = image.quantize(
        colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG
    )
    path = DOC_SCREENSHOTS / f"{name}.png"
    small.save(path, optimize=True)
    return path
