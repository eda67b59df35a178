"""A still picture as a clip's first frame (image→video): read, cropped and resized.

`first_frame(image, width, height)` takes a file path, a PIL image or an (H, W, 3|4) /
(H, W) uint8 array and returns the (H, W, 3) uint8 frame the engine starts from, with a
note for the clip's provenance. A picture of another shape is centre-cropped to the
clip's aspect ratio, then resized (Lanczos) — the way photo tools "fill" a frame — so a
phone photo works on a 64 × 64 or an 832 × 480 engine alike; nothing is stretched.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .errors import InvalidInput

ALLOWED = "a picture file (.png, .jpg, .webp…), a PIL image, or an (H, W, 3) uint8 array"


def first_frame(image, width: int, height: int, field: str = "image") -> tuple[np.ndarray, dict]:
    """(frame (height, width, 3) uint8, provenance note) for `image`."""
    return fit(*read_picture(image, field), width, height)


def read_picture(image, field: str = "image"):
    """(RGB PIL image, where it came from); InvalidInput for anything that is not a picture.
    Cheap: callers read the picture before loading an engine, to refuse a bad one first."""
    from PIL import Image, UnidentifiedImageError

    source = "array"
    if isinstance(image, (str, Path)):
        path = Path(image).expanduser()
        try:
            with Image.open(path) as opened:
                picture = opened.convert("RGB")
        except FileNotFoundError:
            raise InvalidInput(field, str(image), f"must be {ALLOWED}", f"No file at {path}.") from None
        except (UnidentifiedImageError, OSError) as exc:
            raise InvalidInput(field, str(image), f"must be {ALLOWED}; this file is not a picture "
                               f"PIL can read ({exc})") from None
        source = path.name
    elif isinstance(image, Image.Image):
        picture, source = image.convert("RGB"), "PIL image"
    else:
        arr = np.asarray(image) if isinstance(image, np.ndarray) else None
        if arr is None or arr.dtype != np.uint8 or not (
                arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))) or min(arr.shape[:2]) < 1:
            shown = f"array {arr.dtype} {arr.shape}" if arr is not None else type(image).__name__
            raise InvalidInput(field, shown, f"must be {ALLOWED}")
        picture = Image.fromarray(arr).convert("RGB")
    return picture, source


def fit(picture, source: str, width: int, height: int) -> tuple[np.ndarray, dict]:
    """The picture cropped to the clip's aspect ratio and resized: (frame, provenance note)."""
    from PIL import Image

    given = picture.size
    # centre crop to the clip's aspect ratio, then resize: fill the frame, never stretch
    scale = max(width / given[0], height / given[1])
    crop_w, crop_h = min(given[0], round(width / scale)), min(given[1], round(height / scale))
    left, top = (given[0] - crop_w) // 2, (given[1] - crop_h) // 2
    picture = picture.crop((left, top, left + crop_w, top + crop_h))
    if picture.size != (width, height):
        picture = picture.resize((width, height), Image.LANCZOS)
    frame = np.asarray(picture, dtype=np.uint8).copy()
    note = {"source": source, "size": list(given), "sha256": hashlib.sha256(frame.tobytes()).hexdigest()[:16]}
    if given != (width, height):
        note["fitted_to"] = [width, height]      # cropped to the aspect ratio and resized
    return frame, note


__all__ = ["first_frame", "fit", "read_picture"]
