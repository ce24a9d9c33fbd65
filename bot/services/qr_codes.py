"""QR codes of links: a link as the matrix of its modules and as a PNG to send or print. The
reception desk's claim links and the stations' posters draw theirs here, and any other link
the bot hands out can too (the links themselves are made by bot.runtime.buttons.start)."""

from __future__ import annotations

import io

import qrcode  # type: ignore[import-untyped]
from PIL import Image

# The white margin around the code, in modules: the four the standard asks for.
QUIET_ZONE = 4
MODULE_PIXELS = 10  # a PNG module's side: a claim code's 41 modules make 410 pixels
# Medium error correction: a printed code still reads with some 15% of it smudged.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M


def qr_matrix(link: str) -> list[list[bool]]:
    """The code of `link`, row by row, quiet zone included: True for a dark module."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE)
    code.add_data(link)
    code.make(fit=True)
    return [[bool(module) for module in row] for row in code.get_matrix()]


def qr_png(link: str, module_pixels: int = MODULE_PIXELS) -> bytes:
    """The code of `link` as a black-on-white PNG, `module_pixels` pixels a module."""
    matrix = qr_matrix(link)
    size = len(matrix)
    modules = bytes(0 if dark else 255 for row in matrix for dark in row)
    image = Image.frombytes("L", (size, size), modules)
    image = image.resize((size * module_pixels, size * module_pixels), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
