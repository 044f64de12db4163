"""QR codes for printing and downloading, drawn server-side.

The SVG is built from the module matrix with one path of horizontal runs, so a sheet of a few
hundred codes stays small and fast to render (qrcode's own SVG writes one rectangle per module).
"""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M

BORDER = 2  # modules of quiet zone; printed codes sit on white paper or a white tile


def _matrix(data: str) -> list[list[bool]]:
    code = qrcode.QRCode(border=BORDER, error_correction=ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


@lru_cache(maxsize=4096)
def qr_svg(data: str, *, dark: str = "#000000", light: str = "#ffffff") -> str:
    """An inline <svg> that scales to its box (width/height set by CSS)."""
    matrix = _matrix(data)
    size = len(matrix)
    runs: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start},{y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img">'
        f'<rect width="{size}" height="{size}" fill="{light}"/>'
        f'<path fill="{dark}" d="{"".join(runs)}"/></svg>'
    )


def qr_svg_document(data: str) -> bytes:
    """A standalone SVG file (for download), 60 mm wide, black on white."""
    svg = qr_svg(data).replace("<svg ", '<svg width="60mm" height="60mm" ', 1)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n").encode()


@lru_cache(maxsize=256)
def qr_png(data: str, box_size: int = 16) -> bytes:
    """A PNG (black on white) big enough to print at poster size."""
    code = qrcode.QRCode(border=BORDER, box_size=box_size, error_correction=ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()
