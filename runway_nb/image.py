"""A still picture as a clip's first frame (image→video): read, cropped and resized.

`first_frame(image, width, height)` takes a file path, a PIL image or an (H, W, 3|4) /
(H, W) uint8 array and returns the (H, W, 3) uint8 frame the engine starts from, with a
note for the clip's provenance. A picture of another shape is centre-cropped to the
clip's aspect ratio, then resized (Lanczos) — the way photo tools "fill" a frame — so a
phone photo works on a 64 × 64 or an 832 × 480 engine alike; nothing is stretched.

A picture is read as it is shown, not as its bytes are stored:

- a photo's EXIF orientation is applied (a phone stores a portrait shot sideways, with
  Orientation = 6): provenance records `"exif_orientation"` when it turned the picture;
- a 16-bit (or 32-bit integer) greyscale picture is scaled to 8 bits (65535 → 255), not
  clipped (PIL's own conversion turns a mid-grey 16-bit PNG white);
- transparency is flattened over WHITE, as a picture viewer or a page shows it (PIL's own
  conversion drops the alpha, and a logo's transparent background becomes black):
  provenance records `"background": "white"` when any pixel was see-through. For another
  background, composite the picture yourself and pass the result;
- a picture over PIL's decompression-bomb limit (`PIL.Image.MAX_IMAGE_PIXELS` × 2, about
  179 megapixels) is refused by name; shrink it first, or raise that limit for a file you trust.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from .errors import InvalidInput

ALLOWED = "a picture file (.png, .jpg, .webp…), a PIL image, or an (H, W, 3) uint8 array"


def first_frame(image, width: int, height: int, field: str = "image") -> tuple[np.ndarray, dict]:
    """(frame (height, width, 3) uint8, provenance note) for `image`."""
    return fit(*read_picture(image, field), width, height)


def read_picture(image, field: str = "image"):
    """(RGB PIL image, note): the note is {"source": where it came from} plus what reading
    changed (`exif_orientation`, `background`, `bit_depth`); InvalidInput for anything that
    is not a picture. Cheap: callers read the picture before loading an engine, to refuse a
    bad one first."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, (str, Path)):
        path = Path(image).expanduser()
        try:
            with Image.open(path) as opened:
                picture, note = _as_shown(opened)
        except FileNotFoundError:
            raise InvalidInput(field, str(image), f"must be {ALLOWED}", f"No file at {path}.") from None
        except Image.DecompressionBombError as exc:
            found = re.search(r"\((\d+) pixels\)", str(exc))
            size = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
            limit = 2 * Image.MAX_IMAGE_PIXELS
            raise InvalidInput(field, str(image), f"must be a picture of at most {limit:,} pixels "
                               f"(PIL's decompression-bomb limit, PIL.Image.MAX_IMAGE_PIXELS × 2)",
                               f"{path} is {size}. Shrink it first (the clip is far smaller), or, "
                               f"for a file you trust, raise PIL.Image.MAX_IMAGE_PIXELS.") from None
        except (UnidentifiedImageError, OSError) as exc:
            raise InvalidInput(field, str(image), f"must be {ALLOWED}; this file is not a picture "
                               f"PIL can read ({exc})") from None
        return picture, {"source": path.name, **note}
    if isinstance(image, Image.Image):
        picture, note = _as_shown(image)
        return picture, {"source": "PIL image", **note}
    arr = np.asarray(image) if isinstance(image, np.ndarray) else None
    if arr is None or arr.dtype != np.uint8 or not (
            arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))) or min(arr.shape[:2]) < 1:
        shown = f"array {arr.dtype} {arr.shape}" if arr is not None else type(image).__name__
        raise InvalidInput(field, shown, f"must be {ALLOWED}")
    picture, note = _as_shown(Image.fromarray(arr))
    return picture, {"source": "array", **note}


def _as_shown(picture):
    """(RGB picture as a viewer shows it, note of what changed): EXIF orientation applied,
    high bit depths scaled to 8 bits, transparency flattened over white."""
    from PIL import Image, ImageOps

    note: dict = {}
    orientation = picture.getexif().get(0x0112, 1)
    if orientation in range(2, 9):            # 1 is upright; 2..8 mirror and/or turn it
        picture = ImageOps.exif_transpose(picture)
        note["exif_orientation"] = int(orientation)
    if picture.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        values = np.asarray(picture).astype(np.float64)
        # 16-bit pictures (PNG, TIFF) hold 0..65535; a 32-bit "I" picture may hold 8-bit values
        full = 65535.0 if picture.mode != "I" or values.max(initial=0) > 255 else 255.0
        if full == 65535.0:
            note["bit_depth"] = 16
        grey = np.clip(np.rint(values * (255.0 / full)), 0, 255).astype(np.uint8)
        picture = Image.fromarray(grey)
    elif picture.mode == "F":
        values = np.nan_to_num(np.asarray(picture, dtype=np.float64))
        full = 1.0 if values.max(initial=0) <= 1.0 else 255.0
        picture = Image.fromarray(np.clip(np.rint(values * (255.0 / full)), 0, 255).astype(np.uint8))
    see_through = picture.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        picture.mode in ("P", "L", "RGB") and "transparency" in picture.info)
    if see_through:
        rgba = picture.convert("RGBA")
        if rgba.getchannel("A").getextrema()[0] < 255:
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            note["background"] = "white"
            return Image.alpha_composite(white, rgba).convert("RGB"), note
        return rgba.convert("RGB"), note
    return picture.convert("RGB"), note


def fit(picture, source, width: int, height: int) -> tuple[np.ndarray, dict]:
    """The picture cropped to the clip's aspect ratio and resized: (frame, provenance note).
    `source` is read_picture's note (or just where the picture came from, a string)."""
    from PIL import Image

    base = dict(source) if isinstance(source, dict) else {"source": source}
    given = picture.size
    # centre crop to the clip's aspect ratio, then resize: fill the frame, never stretch
    scale = max(width / given[0], height / given[1])
    crop_w, crop_h = min(given[0], round(width / scale)), min(given[1], round(height / scale))
    left, top = (given[0] - crop_w) // 2, (given[1] - crop_h) // 2
    picture = picture.crop((left, top, left + crop_w, top + crop_h))
    if picture.size != (width, height):
        picture = picture.resize((width, height), Image.LANCZOS)
    frame = np.asarray(picture, dtype=np.uint8).copy()
    note = {**base, "size": list(given), "sha256": hashlib.sha256(frame.tobytes()).hexdigest()[:16]}
    if given != (width, height):
        note["fitted_to"] = [width, height]      # cropped to the aspect ratio and resized
    return frame, note


__all__ = ["first_frame", "fit", "read_picture"]
