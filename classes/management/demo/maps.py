"""Map images for the demo venues, drawn with Pillow: a clean schematic (a grid of streets, the
venue's street named, the venue marked, its name, a "P" for parking, a north arrow), so a demo
reminder shows a real embedded map without calling any map service.

Real venues get a map that staff upload in the back office (``Venue.map_image``); these are only
for the demo semester (``manage.py seed_demo``). Drawing is deterministic — the same venue gives
the same picture — and takes a few milliseconds.
"""

import hashlib
import io
import re
from collections.abc import Iterable

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw, ImageFont

from classes.models import Venue

WIDTH, HEIGHT = 600, 400
TITLE_H, FOOTER_H = 44, 30
STREET = 26  # street width in pixels

INK = (26, 26, 26)
NAVY = (31, 58, 95)  # the e-mails' header colour
BLOCK = (236, 231, 219)
STREET_FILL = (255, 255, 255)
STREET_EDGE = (178, 172, 160)
LOT = (214, 219, 226)
PARKING_BLUE = (11, 79, 156)
MARKER_RED = (186, 33, 33)
WHITE = (255, 255, 255)


def _font(size: int, *, bold: bool = False) -> ImageFont.ImageFont:
    """Pillow's built-in font (no system fonts needed), scalable when FreeType is there."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ValueError, OSError, ImportError):  # Pillow without FreeType: the bitmap font
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, size: int, minimum: int = 11) -> ImageFont.ImageFont:
    """The largest font up to ``size`` in which ``text`` fits ``width`` pixels."""
    while size > minimum:
        font = _font(size)
        if draw.textlength(text, font=font) <= width:
            return font
        size -= 1
    return _font(minimum)


def street_name(street_address: str) -> str:
    """ "1120 N. Ninth Street" → "N. Ninth Street" (the number and any suite dropped)."""
    name = re.sub(r"^\s*\d+[A-Za-z]?\s+", "", street_address or "").split(",")[0].strip()
    return name or "Main Street"


def _seed(venue: Venue) -> int:
    return int.from_bytes(hashlib.sha256((venue.slug or venue.name).encode()).digest()[:4], "big")


def venue_map_png(venue: Venue) -> bytes:
    """A schematic map of ``venue`` as PNG bytes (600×400, a small palette image)."""
    seed = _seed(venue)
    image = Image.new("RGB", (WIDTH, HEIGHT), BLOCK)
    draw = ImageDraw.Draw(image)
    top, bottom = TITLE_H, HEIGHT - FOOTER_H

    # The street grid: three cross streets, two avenues; the venue's street runs across the middle.
    north = bool(seed & 1)  # the venue's side of its street
    main_y = top + (bottom - top) // 2 + (seed % 3 - 1) * 12
    other_y = bottom - 34 if north else top + 34  # a second avenue, on the far side from the venue
    xs = [90 + (seed >> 4) % 30, 300 + (seed >> 6) % 20 - 10, 510 - (seed >> 8) % 30]

    def street_h(y):
        draw.rectangle([0, y - STREET // 2, WIDTH, y + STREET // 2], fill=STREET_FILL, outline=STREET_EDGE)

    def street_v(x):
        draw.rectangle([x - STREET // 2, top, x + STREET // 2, bottom], fill=STREET_FILL, outline=STREET_EDGE)

    street_h(other_y)
    for x in xs:
        street_v(x)
    street_h(main_y)
    for x in xs:  # clean crossings: the cross streets over the main street's edges
        draw.rectangle([x - STREET // 2 + 1, main_y - STREET // 2 + 1, x + STREET // 2 - 1, main_y + STREET // 2 - 1],
                       fill=STREET_FILL)
        draw.rectangle([x - STREET // 2 + 1, other_y - STREET // 2 + 1, x + STREET // 2 - 1,
                        other_y + STREET // 2 - 1], fill=STREET_FILL)
    label = street_name(venue.street_address)
    label_font = _font(14)
    label_x = xs[0] + STREET // 2 + 8
    draw.text((label_x, main_y), label, font=label_font, fill=INK, anchor="lm")

    # The venue: a building on the main street, in the block between the first two cross streets
    # (north or south side), with a red marker; its parking lot next to it.
    block_left, block_right = xs[1] + STREET // 2 + 10, xs[2] - STREET // 2 - 10
    if north:
        b_top, b_bottom = main_y - STREET // 2 - 86, main_y - STREET // 2 - 10
    else:
        b_top, b_bottom = main_y + STREET // 2 + 10, main_y + STREET // 2 + 86
    lot_first = bool(seed & 2)
    mid = block_left + (block_right - block_left) * 11 // 20
    building = [block_left, b_top, mid - 6, b_bottom] if not lot_first else [mid + 6, b_top, block_right, b_bottom]
    lot = [mid + 6, b_top, block_right, b_bottom] if not lot_first else [block_left, b_top, mid - 6, b_bottom]
    draw.rectangle(building, fill=NAVY, outline=INK, width=2)
    draw.rectangle(lot, fill=LOT, outline=STREET_EDGE, width=2)
    for x in range(lot[0] + 12, lot[2] - 6, 16):  # parking stalls
        draw.line([x, lot[1] + 6, x, lot[1] + 24], fill=WHITE, width=2)
        draw.line([x, lot[3] - 24, x, lot[3] - 6], fill=WHITE, width=2)
    # the "P" sign
    cx, cy = (lot[0] + lot[2]) // 2, (lot[1] + lot[3]) // 2
    draw.rounded_rectangle([cx - 16, cy - 16, cx + 16, cy + 16], radius=5, fill=PARKING_BLUE, outline=WHITE, width=2)
    draw.text((cx, cy + 1), "P", font=_font(24), fill=WHITE, anchor="mm")
    # the marker: a red pin on the building
    px, py = (building[0] + building[2]) // 2, (building[1] + building[3]) // 2
    draw.ellipse([px - 13, py - 13, px + 13, py + 13], fill=MARKER_RED, outline=WHITE, width=3)
    draw.ellipse([px - 4, py - 4, px + 4, py + 4], fill=WHITE)
    # the venue's name in a box beside the building, on the far side from the street
    name_font = _fit(draw, venue.name, 260, 15)
    name_w = int(draw.textlength(venue.name, font=name_font)) + 12
    name_x = max(6, min((building[0] + building[2]) // 2 - name_w // 2, WIDTH - name_w - 6))
    name_y = b_top - 24 if north else b_bottom + 6
    draw.rectangle([name_x, name_y, name_x + name_w, name_y + 20], fill=WHITE, outline=INK)
    draw.text((name_x + 6, name_y + 10), venue.name, font=name_font, fill=INK, anchor="lm")

    # Title band, with a north arrow at its right end; footer band
    draw.rectangle([0, 0, WIDTH, TITLE_H], fill=NAVY)
    draw.text((14, TITLE_H // 2), venue.name, font=_fit(draw, venue.name, WIDTH - 70, 22), fill=WHITE, anchor="lm")
    nx, ny = WIDTH - 36, TITLE_H // 2
    draw.polygon([(nx, ny - 14), (nx - 7, ny + 8), (nx, ny + 4), (nx + 7, ny + 8)], fill=WHITE)
    draw.text((nx + 16, ny), "N", font=_font(14), fill=WHITE, anchor="mm")
    draw.rectangle([0, bottom, WIDTH, HEIGHT], fill=WHITE)
    draw.line([0, bottom, WIDTH, bottom], fill=STREET_EDGE)
    footer = f"{venue.full_address}  ·  P = parking  ·  not to scale"
    draw.text((14, bottom + FOOTER_H // 2), footer, font=_fit(draw, footer, WIDTH - 28, 13, 9), fill=INK,
              anchor="lm")
    draw.rectangle([0, 0, WIDTH - 1, HEIGHT - 1], outline=STREET_EDGE)

    out = io.BytesIO()
    image.convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(out, format="PNG", optimize=True)
    return out.getvalue()


def map_file_name(venue: Venue) -> str:
    return f"{Venue._meta.get_field('map_image').upload_to}{venue.slug}.png"


def venue_maps_ensure(venues: Iterable[Venue]) -> int:
    """Give each venue without a map image (or whose file is gone) the demo map; returns how many
    were set. Idempotent: a venue that has its file is left alone, and a file already drawn for a
    venue is reused rather than drawn again under a new name."""
    done = 0
    for venue in venues:
        field = venue.map_image
        storage = field.storage
        if field.name and storage.exists(field.name):
            continue
        name = map_file_name(venue)
        if storage.exists(name):
            field.name = name
        else:
            field.save(f"{venue.slug}.png", ContentFile(venue_map_png(venue)), save=False)
        venue.save(update_fields=["map_image", "updated_at"])
        done += 1
    return done
