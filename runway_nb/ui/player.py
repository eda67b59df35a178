"""An inline clip player made of plain ipywidgets: play/pause, scrub, loop, frame step, speed.

    from runway_nb.ui.player import Player
    Player(clip)          # or player.show(clip) to swap clips in place

The Play widget ticks in the browser and is linked to the scrub slider with `jslink`,
so play/pause/scrub/loop need no kernel round trip; each new frame index reaches the
kernel, which sends that frame as PNG bytes (pre-encoded once per clip, sent as
bytes, never base64 strings). Below the controls, the clip's own HTML5 <video> is the
static fallback: it survives a saved notebook, nbconvert and GitHub, where widget
views do not. No torch is imported here.
"""

from __future__ import annotations

import html
import io

import ipywidgets as widgets
import numpy as np

from .layout import keep_width, row

SPEEDS = (("¼×", 0.25), ("½×", 0.5), ("1×", 1.0), ("2×", 2.0), ("4×", 4.0))
DISPLAY_HEIGHT = 192        # pixels: toy clips are 64×64, shown crisp (nearest) and larger


def png_bytes(image: np.ndarray, height: int | None = None) -> bytes:
    """A (h, w, 3) uint8 picture as PNG bytes, enlarged with nearest-neighbour to about
    `height` pixels (integer factor, so pixels stay square and sharp)."""
    from PIL import Image

    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected a (h, w, 3) uint8 picture, got {arr.dtype} {arr.shape}")
    if height and arr.shape[0] < height:
        k = max(1, height // arr.shape[0])
        arr = arr.repeat(k, axis=0).repeat(k, axis=1)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def blank_png(width: int, height: int) -> bytes:
    """A dark placeholder picture: an <img> with no picture yet would show a broken icon."""
    return png_bytes(np.full((height, width, 3), 42, np.uint8))


def filmstrip(frames: np.ndarray, count: int = 4) -> np.ndarray:
    """Up to `count` evenly spaced frames of (t, h, w, 3) side by side: (h, count·w, 3)."""
    frames = np.asarray(frames)
    if frames.ndim == 3:
        return frames
    idx = np.unique(np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int))
    return np.concatenate(list(frames[idx]), axis=1)


def video_html(clip) -> str:
    """The clip's static HTML5 player (its own mimebundle), or a line saying why not."""
    try:
        bundle = clip._repr_mimebundle_()
        if isinstance(bundle, tuple):
            bundle = bundle[0]
        return bundle.get("text/html") or f"<pre>{html.escape(repr(clip))}</pre>"
    except Exception as exc:  # noqa: BLE001 - the fallback must not break the player
        return f"<i>no HTML5 video ({html.escape(type(exc).__name__)}: {html.escape(str(exc))})</i>"


class Player(widgets.VBox):
    """Plays a clip's frames in the notebook; `player.show(clip)` replaces the clip."""

    def __init__(self, clip=None, *, height: int = DISPLAY_HEIGHT, fallback: bool = True, **kwargs):
        self.height, self.clip, self._pngs = height, None, []
        # shown at its pixel size (not stretched to the column), smaller in a narrow one
        self.image = widgets.Image(value=blank_png(height, height), format="png", layout=widgets.Layout(
            min_height=f"{height}px", max_width="100%", margin="2px 0", align_self="flex-start"))
        self.play = keep_width(widgets.Play(value=0, min=0, max=0, step=1, interval=125, repeat=True,
                                            description="play", tooltip="play / pause",
                                            layout=widgets.Layout(width="auto")))
        self.slider = widgets.IntSlider(value=0, min=0, max=0, description="frame",
                                        continuous_update=True, style={"description_width": "40px"},
                                        layout=widgets.Layout(width="auto", flex="1 1 160px", min_width="160px",
                                                              max_width="300px"))
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.loop = widgets.Checkbox(value=True, description="loop", indent=False,
                                     layout=widgets.Layout(width="auto", flex="0 0 auto"))
        widgets.jslink((self.loop, "value"), (self.play, "repeat"))
        self.back = widgets.Button(icon="step-backward", tooltip="previous frame",
                                   layout=widgets.Layout(width="36px", flex="0 0 auto"))
        self.forward = widgets.Button(icon="step-forward", tooltip="next frame",
                                      layout=widgets.Layout(width="36px", flex="0 0 auto"))
        self.speed = widgets.Dropdown(options=SPEEDS, value=1.0, description="speed",
                                      style={"description_width": "44px"},
                                      layout=widgets.Layout(width="120px", flex="0 0 auto"))
        self.info = widgets.HTML()
        self.video = widgets.HTML()
        self.back.on_click(lambda _b: self.step(-1))
        self.forward.on_click(lambda _b: self.step(+1))
        self.slider.observe(self._on_frame, "value")
        self.speed.observe(lambda _c: self._set_interval(), "value")
        controls = row(self.play, self.back, self.forward, self.slider, self.loop, self.speed)
        children = [self.image, controls, self.info]
        if fallback:
            children.append(widgets.Accordion(children=[self.video], titles=("HTML5 video",),
                                              selected_index=None))
        super().__init__(children, **kwargs)
        if clip is not None:
            self.show(clip)

    @property
    def frame(self) -> int:
        return self.slider.value

    def show(self, clip) -> None:
        """Load `clip` (anything with .frames (t, h, w, 3) uint8 and .fps) at frame 0."""
        frames = np.asarray(clip.frames)
        self._pngs = [png_bytes(f, self.height) for f in frames]
        self.clip = clip
        self.play.playing = False
        self.slider.value = 0
        self.play.max = self.slider.max = max(0, len(frames) - 1)
        self._set_interval()
        self.image.value = self._pngs[0] if self._pngs else b""
        shot = getattr(clip, "shot", None)
        seed = f" · seed {shot.seed}" if shot is not None else ""
        self.info.value = (f"<small>{len(frames)} frames · {clip.fps:g} fps · "
                           f"{len(frames) / clip.fps:.2f} s{seed}</small>")
        self.video.value = video_html(clip)

    def step(self, delta: int) -> None:
        """Frame step: move `delta` frames, wrapping around when looping."""
        n = self.slider.max + 1
        target = self.slider.value + delta
        self.slider.value = target % n if self.loop.value else min(max(target, 0), n - 1)

    def _set_interval(self) -> None:
        fps = getattr(self.clip, "fps", 8.0) or 8.0
        self.play.interval = max(10, round(1000 / (fps * self.speed.value)))

    def _on_frame(self, change) -> None:
        i = change["new"]
        if 0 <= i < len(self._pngs):
            self.image.value = self._pngs[i]
