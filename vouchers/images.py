"""Code images for vouchers, rendered server-side and cached: QR and Code128, SVG and PNG."""

from __future__ import annotations

import io
import re
from functools import lru_cache

import barcode
from barcode.writer import ImageWriter, SVGWriter

from loyalty.qr import qr_png, qr_svg

__all__ = ["code128_png", "code128_svg", "qr_png", "qr_svg"]


@lru_cache(maxsize=2048)
def code128_svg(data: str) -> str:
    buffer = io.BytesIO()
    barcode.get("code128", data, writer=SVGWriter()).write(
        buffer,
        options={"module_height": 18.0, "quiet_zone": 4.0, "font_size": 0, "text_distance": 1},
    )
    svg = buffer.getvalue().decode()
    # python-barcode writes an XML declaration and a DOCTYPE: drop them for inline use.
    return scalable_svg(svg[svg.index("<svg") :])


_MM_SIZE = re.compile(r'width="([0-9.]+)mm" height="([0-9.]+)mm"')


def scalable_svg(svg: str) -> str:
    """python-barcode sizes its SVG in mm without a viewBox, so CSS cannot scale it; give it
    one (1 mm = 96/25.4 CSS px) so the barcode fills its box like the QR code."""
    match = _MM_SIZE.search(svg)
    if match is None:
        return svg
    width, height = (float(v) * 96 / 25.4 for v in match.groups())
    return svg.replace(match.group(0), f'viewBox="0 0 {width:.2f} {height:.2f}"', 1)


@lru_cache(maxsize=512)
def code128_png(data: str) -> bytes:
    buffer = io.BytesIO()
    barcode.get("code128", data, writer=ImageWriter()).write(
        buffer,
        options={
            "module_width": 0.4,
            "module_height": 18.0,
            "quiet_zone": 6.0,
            "write_text": False,
            "dpi": 300,
        },
    )
    return buffer.getvalue()
