"""People's pictures: an uploaded image made into a small square WebP (Pillow), or by default
an SVG of their initials on a colour derived from who they are.

An upload is never served as sent: Pillow decodes it (PNG, JPEG, WebP or GIF only; never every
plugin it has), refuses animations and decompression bombs, applies and drops the EXIF
orientation, crops it square and encodes a fresh WebP without metadata.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from xml.sax.saxutils import escape

from PIL import Image, ImageOps, UnidentifiedImageError

from discussit import limits

MAX_PIXELS = 24_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # above it a warning (refused below), above twice an error
FORMATS = ["PNG", "JPEG", "WEBP", "GIF"]
REFUSED = "That picture could not be used: send a PNG, JPEG or WebP image."


class BadImage(ValueError):
    """The upload cannot be a picture; str(error) is said to the person who sent it."""


def make_avatar(data: bytes, size: int = limits.AVATAR_SIZE) -> bytes:
    """The upload as a `size`-pixel square WebP, or BadImage. CPU-bound: run it in a thread."""
    if len(data) > limits.AVATAR_UPLOAD_MAX:
        raise BadImage(
            f"That picture is too large: at most {limits.AVATAR_UPLOAD_MAX // 1024} KiB."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as probe:
                # (Checked here too: the warnings filter is process-wide, and threads share it.)
                if probe.width * probe.height > MAX_PIXELS:
                    raise BadImage("That picture has too many pixels: send a smaller one.")
                probe.verify()  # the file's structure (verify leaves it unusable)
            with Image.open(io.BytesIO(data), formats=FORMATS) as image:
                if getattr(image, "n_frames", 1) > 1:
                    raise BadImage("Moving pictures cannot be used: send a still image.")
                image.draft("RGB", (size * 2, size * 2))  # a JPEG decodes at a smaller scale
                upright = ImageOps.exif_transpose(image)
                upright = upright.convert("RGBA" if upright.has_transparency_data else "RGB")
                square = ImageOps.fit(upright, (size, size), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                square.save(out, "WEBP", quality=82, method=4)
                return out.getvalue()
    except BadImage:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ):
        raise BadImage(REFUSED) from None


def initials(name: str) -> str:
    """Up to two letters for a name: the first of its first two words ("Ana Lima" -> "AL")."""
    words = [w for w in name.replace(".", " ").replace("_", " ").replace("-", " ").split() if w]
    letters = "".join(w[0] for w in words[:2]) or name[:1] or "?"
    return letters.upper()


def colour(user_id: int) -> str:
    """A hue of the user's own, dark enough for white letters (contrast above 4.5:1)."""
    hue = int.from_bytes(hashlib.sha256(b"avatar:%d" % user_id).digest()[:2], "big") % 360
    return f"hsl({hue}, 45%, 30%)"


def initials_svg(name: str, user_id: int) -> str:
    """The default picture: the name's initials, white on the user's colour."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
        f'<rect width="64" height="64" fill="{colour(user_id)}"/>'
        '<text x="32" y="33" fill="#fff" font-family="system-ui, sans-serif" font-size="26" '
        'font-weight="600" text-anchor="middle" dominant-baseline="central">'
        f"{escape(initials(name))}</text></svg>"
    )
