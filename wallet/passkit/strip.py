"""Images drawn in code: the stamp strip behind the primary field, and the default icon.

Every function here is a pure function of its arguments and is ``lru_cache``d, so a pass
rebuild for the same design and stamp count costs a dictionary look-up, not a PNG encode.
"""

from __future__ import annotations

import functools
import io
import math

from PIL import Image, ImageDraw

STRIP_WIDTH_PT = 375
# Apple's layout guide gives 375 x 123 pt for the strip of most pass styles; a store card
# strip may be taller, so the height stays a parameter.
STRIP_HEIGHT_PT = 123
MAX_GOAL = 40
ICON_SIZE_PT = 29

# Supersampled width in pixels: Pillow draws ellipses without anti-aliasing, so circles are
# drawn larger and shrunk with a Lanczos filter.
_SUPERSAMPLED_MIN_WIDTH = 1500

RGB = tuple[int, int, int]


def parse_hex_color(value: str) -> RGB:
    """``"#1a2b3c"``, ``"1a2b3c"`` or ``"#abc"`` to an ``(r, g, b)`` tuple.

    Raises:
        ValueError: not a hex colour.
    """
    text = value.strip().removeprefix("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    if len(text) != 6:
        raise ValueError(f"not a hex colour: {value!r}")
    try:
        number = int(text, 16)
    except ValueError as exc:
        raise ValueError(f"not a hex colour: {value!r}") from exc
    return (number >> 16) & 0xFF, (number >> 8) & 0xFF, number & 0xFF


def _encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def strip_layout(goal: int) -> tuple[int, int]:
    """``(rows, per_row)``: one row up to ten stamps, two rows above that."""
    rows = 1 if goal <= 10 else 2
    return rows, math.ceil(goal / rows)


def stamp_geometry(
    goal: int, *, scale: int, height_pt: int = STRIP_HEIGHT_PT
) -> tuple[list[tuple[float, float]], float]:
    """Pixel centres of the ``goal`` circles (row by row) and their diameter."""
    width, height = STRIP_WIDTH_PT * scale, height_pt * scale
    rows, per_row = strip_layout(goal)
    pad_x, pad_y = 14 * scale, 12 * scale
    cell_w = (width - 2 * pad_x) / per_row
    cell_h = (height - 2 * pad_y) / rows
    centres: list[tuple[float, float]] = []
    for row in range(rows):
        in_row = min(per_row, goal - row * per_row)
        # Centre a shorter last row instead of leaving a gap on the right.
        offset_x = pad_x + (per_row - in_row) * cell_w / 2
        centre_y = pad_y + cell_h * (row + 0.5)
        centres += [(offset_x + cell_w * (column + 0.5), centre_y) for column in range(in_row)]
    return centres, min(cell_w, cell_h) * 0.82


@functools.lru_cache(maxsize=512)
def render_strip(
    *,
    goal: int,
    filled: int,
    bg_hex: str,
    fg_hex: str,
    stamp_hex: str,
    scale: int,
    height_pt: int = STRIP_HEIGHT_PT,
) -> bytes:
    """PNG of ``goal`` stamp circles, the first ``filled`` of them stamped.

    Size is ``375 * scale`` by ``height_pt * scale`` pixels (``strip.png``, ``strip@2x.png``,
    ``strip@3x.png`` for scale 1, 2, 3). Filled circles are drawn in ``stamp_hex`` with a ring
    in the background colour; empty ones as an outline in ``fg_hex``. ``filled`` is clamped to
    ``0..goal`` (the card's count in the current cycle never exceeds the goal, but a display
    glitch is better than an exception in a push).

    Raises:
        ValueError: ``goal`` outside ``1..40``, ``scale`` not 1-3, or a colour is not hex.
    """
    if not 1 <= goal <= MAX_GOAL:
        raise ValueError(f"goal must be between 1 and {MAX_GOAL}, got {goal}")
    if scale not in (1, 2, 3):
        raise ValueError(f"scale must be 1, 2 or 3, got {scale}")
    filled = max(0, min(filled, goal))
    background, foreground, stamp = (
        parse_hex_color(bg_hex),
        parse_hex_color(fg_hex),
        parse_hex_color(stamp_hex),
    )

    width, height = STRIP_WIDTH_PT * scale, height_pt * scale
    factor = max(1, math.ceil(_SUPERSAMPLED_MIN_WIDTH / width))
    image = Image.new("RGB", (width * factor, height * factor), background)
    draw = ImageDraw.Draw(image)

    centres, diameter = stamp_geometry(goal, scale=scale, height_pt=height_pt)
    big_d = diameter * factor
    outline = max(2, round(big_d * 0.08))
    for index, (x, y) in enumerate(centres):
        cx, cy = x * factor, y * factor
        box = (cx - big_d / 2, cy - big_d / 2, cx + big_d / 2, cy + big_d / 2)
        if index < filled:
            draw.ellipse(box, fill=stamp)
            inset = big_d * 0.18
            draw.ellipse(
                (box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset),
                outline=background,
                width=max(1, outline // 2),
            )
        else:
            draw.ellipse(box, outline=foreground, width=outline)

    if factor > 1:
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    return _encode_png(image)


def strip_files(
    *, goal: int, filled: int, bg_hex: str, fg_hex: str, stamp_hex: str
) -> dict[str, bytes]:
    """``strip.png``, ``strip@2x.png`` and ``strip@3x.png`` for one design and count."""
    names = {1: "strip.png", 2: "strip@2x.png", 3: "strip@3x.png"}
    return {
        name: render_strip(
            goal=goal, filled=filled, bg_hex=bg_hex, fg_hex=fg_hex, stamp_hex=stamp_hex, scale=s
        )
        for s, name in names.items()
    }


@functools.lru_cache(maxsize=32)
def render_icon(*, scale: int, bg_hex: str = "#1f2937", fg_hex: str = "#f59e0b") -> bytes:
    """A square icon (29 pt) showing a stamp: used when a program has no icon of its own.

    Wallet refuses a pass without ``icon.png``, and shows the icon on lock-screen
    notifications, so every pass needs one.
    """
    size = ICON_SIZE_PT * scale
    factor = 8
    big = size * factor
    image = Image.new("RGB", (big, big), parse_hex_color(bg_hex))
    draw = ImageDraw.Draw(image)
    foreground = parse_hex_color(fg_hex)
    margin = big * 0.18
    draw.ellipse((margin, margin, big - margin, big - margin), fill=foreground)
    inset = big * 0.32
    draw.ellipse(
        (inset, inset, big - inset, big - inset),
        outline=parse_hex_color(bg_hex),
        width=max(1, round(big * 0.05)),
    )
    return _encode_png(image.resize((size, size), Image.Resampling.LANCZOS))


def default_icon_files() -> dict[str, bytes]:
    """``icon.png``, ``icon@2x.png``, ``icon@3x.png`` drawn in code (cached)."""
    return {
        "icon.png": render_icon(scale=1),
        "icon@2x.png": render_icon(scale=2),
        "icon@3x.png": render_icon(scale=3),
    }
