"""QR codes rendered server-side (SVG for pages, PNG for downloads), cached per content."""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
import qrcode.image.svg


@lru_cache(maxsize=2048)
def qr_svg(data: str, box_size: int = 10) -> str:
    image = qrcode.make(
        data, image_factory=qrcode.image.svg.SvgPathImage, box_size=box_size, border=2
    )
    return image.to_string(encoding="unicode")


@lru_cache(maxsize=256)
def qr_png(data: str, box_size: int = 12) -> bytes:
    qr = qrcode.QRCode(
        border=2, box_size=box_size, error_correction=qrcode.constants.ERROR_CORRECT_M
    )
    qr.add_data(data)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()
