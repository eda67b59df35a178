"""The toy world: procedurally rendered, captioned video clips with exact ground truth.

It is three things at once: the tiny engine's training data, the evaluation oracle
(we know what *should* be in every frame), and teaching material.

Coordinates (shared with `runway_nb.camera`):
  * World units are frame heights at zoom 1; x points right, y points up, the first
    frame's centre is the origin. The horizon sits at y = HORIZON.
  * A per-frame camera is an array (T, 4) of [x, y, zoom, roll]: the camera centre's
    offset from frame 0 (world units), a zoom factor relative to frame 0, and a roll
    in degrees, positive = the camera rolls clockwise (so the scene turns
    counter-clockwise on screen). Film convention: pan_left moves the camera centre
    left, so the scene slides right across the frame; tilt_up makes the scene move down.

Every pixel is evaluated analytically through the inverse camera transform, with
edges anti-aliased by their distance in pixels, so a scene renders at any resolution
and frame rate with physically consistent motion (ground truth for upscaling and
interpolation too).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

HORIZON = -0.12  # world y of the ground line

# ---- vocabulary ---------------------------------------------------------------------

BACKGROUNDS = ("black", "white", "gray", "blue", "green", "yellow", "sunset", "night")
COLORS = ("red", "green", "blue", "yellow", "white", "purple", "orange")
SHAPES = ("circle", "square", "triangle")
MOTIONS = ("left", "right", "up", "down", "bounce", "grow", "shrink", "still")
CAMERA_MOVES = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down",
                "zoom_in", "zoom_out", "roll_cw", "roll_ccw")

# Sky colours (RGB 0..1). sunset and night are gradients: (top, bottom).
SKY = {
    "black": ((0.03, 0.03, 0.04), (0.06, 0.06, 0.07)),
    "white": ((0.97, 0.97, 0.97), (0.90, 0.90, 0.92)),
    "gray": ((0.55, 0.55, 0.57), (0.47, 0.47, 0.49)),
    "blue": ((0.22, 0.45, 0.88), (0.50, 0.70, 0.97)),
    "green": ((0.30, 0.68, 0.35), (0.45, 0.78, 0.45)),
    "yellow": ((0.96, 0.86, 0.30), (0.99, 0.93, 0.55)),
    "sunset": ((0.38, 0.20, 0.50), (0.98, 0.55, 0.22)),
    "night": ((0.02, 0.03, 0.14), (0.08, 0.10, 0.28)),
}
OBJECT_RGB = {
    "red": (0.90, 0.12, 0.12),
    "green": (0.10, 0.80, 0.20),
    "blue": (0.10, 0.25, 0.95),
    "yellow": (0.98, 0.90, 0.10),
    "white": (1.00, 1.00, 1.00),
    "purple": (0.60, 0.15, 0.80),
    "orange": (1.00, 0.55, 0.05),
}
# Skies of stars (small soft dots) rather than clouds: the one texture in the toy world whose
# detail is finer than a latent pixel, and the skies on which native camera moves go wrong most.
STARRY = ("black", "night")
CLOUDY = tuple(b for b in BACKGROUNDS if b not in STARRY)
UNIFORM_STARRY = len(STARRY) / len(BACKGROUNDS)   # their share when every sky is equally likely
# An object colour is never drawn on a background of its own colour.
CLASHES = {("white", "white"), ("green", "green"), ("blue", "blue"), ("yellow", "yellow"),
           ("white", "yellow"), ("yellow", "white"), ("orange", "sunset"), ("blue", "night")}

# Speeds at intensity 1, per second.
OBJECT_SPEED = 0.30       # world units / s
GROW_RATE = 0.45          # log-size / s
CAMERA_SPEED = {"pan": 0.22, "tilt": 0.22, "zoom": 0.22, "roll": 18.0}  # units, log-zoom, deg


@dataclass(frozen=True)
class ToyObject:
    shape: str
    color: str
    motion: str
    x: float        # centre at t = 0, world units
    y: float
    size: float     # half-extent (radius), world units
    speed: float = 1.0  # multiplies OBJECT_SPEED / GROW_RATE


@dataclass(frozen=True)
class ToyScene:
    background: str
    objects: tuple[ToyObject, ...]
    camera: str = "static"
    camera_intensity: float = 1.0
    texture_seed: int = 0
    caption: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    def object_state(self, obj: ToyObject, t: np.ndarray):
        """Centre (x, y) and size of `obj` at times `t` (seconds) — the ground truth."""
        s = OBJECT_SPEED * obj.speed * t
        x = np.full_like(t, obj.x)
        y = np.full_like(t, obj.y)
        size = np.full_like(t, obj.size)
        if obj.motion == "left":
            x = x - s
        elif obj.motion == "right":
            x = x + s
        elif obj.motion == "up":
            y = y + s
        elif obj.motion == "down":
            y = y - s
        elif obj.motion == "bounce":
            y = y + 0.22 * np.abs(np.sin(np.pi * 1.1 * obj.speed * t))
        elif obj.motion == "grow":
            size = size * np.exp(GROW_RATE * obj.speed * t)
        elif obj.motion == "shrink":
            size = size * np.exp(-GROW_RATE * obj.speed * t)
        return x, y, size


def camera_for_move(move: str, intensity: float, n_frames: int, fps: float) -> np.ndarray:
    """Per-frame camera (T, 4) for a named move — the toy world's own camera model.

    `runway_nb.camera.presets` produces the same arrays for users; this copy keeps the
    toy world free of the package's camera layer so it can serve as an oracle.
    """
    t = np.arange(n_frames, dtype=np.float64) / fps
    cam = np.zeros((n_frames, 4))
    cam[:, 2] = 1.0
    k = float(intensity)
    if move == "pan_left":
        cam[:, 0] = -CAMERA_SPEED["pan"] * k * t
    elif move == "pan_right":
        cam[:, 0] = CAMERA_SPEED["pan"] * k * t
    elif move == "tilt_up":
        cam[:, 1] = CAMERA_SPEED["tilt"] * k * t
    elif move == "tilt_down":
        cam[:, 1] = -CAMERA_SPEED["tilt"] * k * t
    elif move == "zoom_in":
        cam[:, 2] = np.exp(CAMERA_SPEED["zoom"] * k * t)
    elif move == "zoom_out":
        cam[:, 2] = np.exp(-CAMERA_SPEED["zoom"] * k * t)
    elif move == "roll_cw":
        cam[:, 3] = CAMERA_SPEED["roll"] * k * t
    elif move == "roll_ccw":
        cam[:, 3] = -CAMERA_SPEED["roll"] * k * t
    elif move != "static":
        raise ValueError(f"unknown camera move {move!r}; allowed: {', '.join(CAMERA_MOVES)}")
    return cam


# ---- rendering ---------------------------------------------------------------------

def _hash01(ix: np.ndarray, iy: np.ndarray, seed: int) -> np.ndarray:
    """A cheap integer hash of grid cells to [0, 1): unbounded, repeatable texture."""
    h = (ix.astype(np.int64) * 374761393 + iy.astype(np.int64) * 668265263 + seed * 2147483647)
    h = (h ^ (h >> 13)) * 1274126177
    h = h ^ (h >> 16)
    return (h & 0xFFFF).astype(np.float32) / 65536.0


def _sky(bg: str, wx, wy, seed: int, px: float):
    top, bottom = (np.array(c, np.float32) for c in SKY[bg])
    a = np.clip((wy - HORIZON) / 0.9, 0.0, 1.0)[..., None]
    rgb = bottom * (1 - a) + top * a
    if bg in STARRY:
        # stars: one candidate per grid cell, jittered, small soft dots
        cell = 0.09
        ix, iy = np.floor(wx / cell), np.floor(wy / cell)
        keep = _hash01(ix, iy, seed) < 0.35
        sx = (ix + 0.2 + 0.6 * _hash01(ix, iy, seed + 1)) * cell
        sy = (iy + 0.2 + 0.6 * _hash01(ix, iy, seed + 2)) * cell
        d = np.hypot(wx - sx, wy - sy)
        star = np.clip(1.0 - d / (0.012 + px), 0, 1) * keep
        rgb = rgb + star[..., None] * 0.85
    else:
        # soft clouds: a smooth periodic field, brighter (or darker on white skies)
        f = (np.sin(wx * 7.1 + 1.3 * seed) * np.sin(wy * 9.3 + 0.7 * seed)
             + 0.6 * np.sin(wx * 13.7 - wy * 4.1 + seed))
        cloud = np.clip(f - 0.55, 0, 1)[..., None]
        shade = -0.18 if bg in ("white", "yellow") else 0.30
        rgb = rgb + cloud * shade
    return rgb


def _ground(bg: str, wx, wy, seed: int):
    """Ground below the horizon, hills at it: darker shades of the sky with stripes."""
    base = np.array(SKY[bg][1], np.float32)
    dark = 0.55 if bg not in ("black", "night") else 1.6
    ground = np.clip(base * dark + (0.0 if bg not in ("black", "night") else 0.05), 0, 1)
    # stripes that run along x, so both horizontal and vertical motion show
    stripe = 0.5 + 0.5 * np.sin(wx * 23.0 + np.sin(wy * 17.0 + seed) * 2.0) * np.sin(wy * 31.0)
    rgb = ground * (0.80 + 0.35 * stripe[..., None])
    return np.clip(rgb, 0, 1)


def _hills(bg: str, wx, wy, seed: int, px: float):
    """A mid-distance hill silhouette just above the horizon; returns (rgb, coverage)."""
    base = np.array(SKY[bg][1], np.float32)
    tone = 0.75 if bg not in ("black", "night") else 2.0
    rgb = np.clip(base * tone + (0.02 if bg in ("black", "night") else 0.0), 0, 1)
    height = HORIZON + 0.10 + 0.07 * np.sin(wx * 4.3 + seed) + 0.04 * np.sin(wx * 9.7 + 2 * seed)
    cover = np.clip((height - wy) / px + 0.5, 0, 1)
    return rgb * np.ones_like(wx)[..., None], cover


def shape_coverage(shape: str, dx, dy, r, px: float):
    """Anti-aliased coverage of a shape of half-extent r centred at the origin."""
    if shape == "circle":
        d = np.hypot(dx, dy) - r
    elif shape == "square":
        d = np.maximum(np.abs(dx), np.abs(dy)) - 0.88 * r
    elif shape == "triangle":
        # equilateral, pointing up: signed distance to three edges
        k = np.sqrt(3.0)
        d = np.maximum.reduce([
            -dy - 0.6 * r,
            (k * dx + dy) / 2.0 - 0.6 * r,
            (-k * dx + dy) / 2.0 - 0.6 * r,
        ])
    else:
        raise ValueError(f"unknown shape {shape!r}; allowed: {', '.join(SHAPES)}")
    return np.clip(0.5 - d / px, 0, 1)


def _world_grid(camera: np.ndarray, width: int, height: int):
    """World coordinates (wx, wy) of every pixel centre, (T, H, W) each, and the size of one
    pixel in world units per frame, for a (T, 4) camera path."""
    aspect = width / height
    # Screen coordinates of pixel centres, in frame heights: (H, W)
    sx = ((np.arange(width) + 0.5) / width - 0.5) * aspect
    sy = 0.5 - (np.arange(height) + 0.5) / height
    sx, sy = np.meshgrid(sx, sy)
    # Inverse camera per frame: world = c + Rot(-roll) s / zoom  -> (T, H, W)
    zoom = camera[:, 2][:, None, None]
    th = np.deg2rad(-camera[:, 3])[:, None, None]
    cos, sin = np.cos(th), np.sin(th)
    wx = (camera[:, 0][:, None, None] + (cos * sx - sin * sy) / zoom).astype(np.float32)
    wy = (camera[:, 1][:, None, None] + (sin * sx + cos * sy) / zoom).astype(np.float32)
    px = (1.0 / height / zoom).astype(np.float32)  # one pixel in world units, per frame
    return wx, wy, px


def _object_layers(scene: ToyScene, t: np.ndarray, wx, wy, px, rim: bool = True):
    """Per object, back to front: (object, coverage (T, H, W), inner coverage for the rim,
    or None without `rim`)."""
    for obj in scene.objects:
        ox, oy, size = scene.object_state(obj, t)
        dx = wx - ox[:, None, None].astype(np.float32)
        dy = wy - oy[:, None, None].astype(np.float32)
        r = size[:, None, None].astype(np.float32)
        yield (obj, shape_coverage(obj.shape, dx, dy, r, px),
               shape_coverage(obj.shape, dx, dy, r * 0.82, px) if rim else None)


def _scene_camera(scene: ToyScene, n_frames: int, fps: float, camera, t0: float) -> np.ndarray:
    if camera is None:
        camera = camera_for_move(scene.camera, scene.camera_intensity, n_frames + int(round(t0 * fps)), fps)
        camera = camera[-n_frames:]
    camera = np.asarray(camera, np.float64)
    if camera.shape != (n_frames, 4):
        raise ValueError(f"camera must have shape ({n_frames}, 4), got {camera.shape}")
    return camera


def render(scene: ToyScene, n_frames: int = 16, fps: float = 8.0, width: int = 64,
           height: int = 64, camera: np.ndarray | None = None, t0: float = 0.0) -> np.ndarray:
    """Render `scene` to uint8 frames (T, H, W, 3).

    `camera` overrides the scene's named move with an explicit (T, 4) array;
    `t0` starts the clock later (to render the continuation of a clip).
    """
    camera = _scene_camera(scene, n_frames, fps, camera, t0)
    t = t0 + np.arange(n_frames) / fps
    wx, wy, px = _world_grid(camera, width, height)

    seed = scene.texture_seed
    img = _sky(scene.background, wx, wy, seed, px)
    hill_rgb, hill_a = _hills(scene.background, wx, wy, seed, px)
    img = img * (1 - hill_a[..., None]) + hill_rgb * hill_a[..., None]
    ground_a = np.clip((HORIZON - wy) / px + 0.5, 0, 1)[..., None]
    img = img * (1 - ground_a) + _ground(scene.background, wx, wy, seed) * ground_a

    for obj, cover, rim in _object_layers(scene, t, wx, wy, px):
        color = np.array(OBJECT_RGB[obj.color], np.float32)
        body = color * (0.72 + 0.28 * rim[..., None])   # a darker rim: shapes read on light skies
        img = img * (1 - cover[..., None]) + body * cover[..., None]
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def object_coverage(scene: ToyScene, n_frames: int = 16, fps: float = 8.0, width: int = 64,
                    height: int = 64, camera: np.ndarray | None = None, t0: float = 0.0) -> np.ndarray:
    """Where the objects are, as `render` draws them: (T, H, W) coverage in [0, 1] (the union
    of all objects). Ground truth for an object-weighted training loss and for tests."""
    camera = _scene_camera(scene, n_frames, fps, camera, t0)
    t = t0 + np.arange(n_frames) / fps
    wx, wy, px = _world_grid(camera, width, height)
    union = np.zeros(wx.shape, np.float32)
    for _, cover, _ in _object_layers(scene, t, wx, wy, px, rim=False):   # the rim is a colour only
        union = np.maximum(union, cover)
    return union


# ---- captions -------------------------------------------------------------------------

COLOR_WORDS = {
    "red": ["red", "crimson", "scarlet"], "green": ["green", "emerald", "lime"],
    "blue": ["blue", "azure", "cobalt"], "yellow": ["yellow", "golden", "lemon"],
    "white": ["white", "snowy", "ivory"], "purple": ["purple", "violet", "lilac"],
    "orange": ["orange", "tangerine", "amber"],
}
SHAPE_WORDS = {
    "circle": ["circle", "ball", "disc", "dot", "sphere"],
    "square": ["square", "box", "block", "cube"],
    "triangle": ["triangle", "wedge", "pyramid"],
}
MOTION_WORDS = {
    "left": ["moving left", "rolls to the left", "drifts left", "slides to the left", "heading left"],
    "right": ["moving right", "rolls to the right", "drifts right", "slides to the right", "heading right"],
    "up": ["moving up", "rising", "floats upward", "climbs up", "going up"],
    "down": ["moving down", "falling", "sinks down", "drops", "going down"],
    "bounce": ["bouncing", "bounces up and down", "hopping", "jumping"],
    "grow": ["growing", "getting bigger", "expanding", "swelling"],
    "shrink": ["shrinking", "getting smaller", "contracting", "dwindling"],
    "still": ["standing still", "resting", "sitting still", "motionless", "not moving"],
}
BACKGROUND_WORDS = {
    "black": ["on a black background", "against a black sky", "in the black void", "on black"],
    "white": ["on a white background", "against a white sky", "on white", "in a white room"],
    "gray": ["on a gray background", "under a gray sky", "on an overcast gray day", "on grey"],
    "blue": ["on a blue background", "across a blue sky", "under a clear blue sky", "on blue"],
    "green": ["on a green background", "on a green field", "over green meadows", "on green"],
    "yellow": ["on a yellow background", "across a yellow sky", "in yellow desert light", "on yellow"],
    "sunset": ["at sunset", "against a sunset sky", "in the evening sunset", "at dusk"],
    "night": ["at night", "under a night sky", "under the stars", "in the dark night"],
}
CAMERA_WORDS = {
    "static": ["static camera", "the camera holds still", "locked-off shot", "still camera"],
    "pan_left": ["camera pans left", "the camera pans to the left", "pan left"],
    "pan_right": ["camera pans right", "the camera pans to the right", "pan right"],
    "tilt_up": ["camera tilts up", "the camera tilts upward", "tilt up"],
    "tilt_down": ["camera tilts down", "the camera tilts downward", "tilt down"],
    "zoom_in": ["camera zooms in", "the camera pushes in", "zoom in"],
    "zoom_out": ["camera zooms out", "the camera pulls back", "zoom out"],
    "roll_cw": ["camera rolls clockwise", "the camera rotates clockwise", "roll clockwise"],
    "roll_ccw": ["camera rolls counterclockwise", "the camera rotates counterclockwise",
                 "roll counterclockwise"],
}


def _speed_word(intensity: float, rng: np.random.Generator) -> str:
    if intensity < 0.75:
        return rng.choice(["slowly ", "gently "])
    if intensity > 1.35:
        return rng.choice(["quickly ", "fast "])
    return ""


def caption_for(scene: ToyScene, rng: np.random.Generator, camera_in_text: bool = True) -> str:
    parts = []
    for obj in scene.objects:
        color = rng.choice(COLOR_WORDS[obj.color])
        art = "an" if color[0] in "aeiou" else "a"
        parts.append(f"{art} {color} {rng.choice(SHAPE_WORDS[obj.shape])} "
                     f"{rng.choice(MOTION_WORDS[obj.motion])}")
    body = " and ".join(parts) + " " + rng.choice(BACKGROUND_WORDS[scene.background])
    if not camera_in_text:
        return body
    cam = rng.choice(CAMERA_WORDS[scene.camera])
    if scene.camera != "static" and cam.startswith("camera "):
        cam = "camera " + _speed_word(scene.camera_intensity, rng) + cam[len("camera "):]
    return rng.choice([f"{body}, {cam}", f"{cam}: {body}", f"{body}; {cam}"])


# ---- sampling scenes and the held-out split -----------------------------------------------

def combo_key(color: str, shape: str, background: str, motion: str) -> str:
    return f"{color}|{shape}|{background}|{motion}"


def is_held_out(color: str, shape: str, background: str, motion: str) -> bool:
    """About 1 in 8 (colour, shape, background, motion) combinations never appear in
    training; the evaluation draws only from them, so it measures generalisation."""
    digest = hashlib.sha256(combo_key(color, shape, background, motion).encode()).digest()
    return digest[0] % 8 == 0


def _start_position(motion: str, rng: np.random.Generator, aspect: float):
    half_w = 0.5 * aspect
    x = rng.uniform(-0.18, 0.18) * aspect
    y = rng.uniform(-0.05, 0.18)
    if motion == "left":
        x = rng.uniform(0.05, 0.25) * half_w * 2
    elif motion == "right":
        x = -rng.uniform(0.05, 0.25) * half_w * 2
    elif motion == "up":
        y = rng.uniform(-0.25, -0.1)
    elif motion == "down":
        y = rng.uniform(0.1, 0.28)
    elif motion == "bounce":
        y = rng.uniform(-0.2, -0.05)
    return float(x), float(y)


def sample_scene(rng: np.random.Generator, split: str = "train", aspect: float = 1.0,
                 camera_probability: float = 0.6, two_object_probability: float = 0.15,
                 camera_in_text_probability: float = 0.7, starry_share: float = UNIFORM_STARRY) -> ToyScene:
    """Draw a random captioned scene. split='train' never yields a held-out combination
    for its first object; split='eval' yields only held-out ones. `starry_share`: the
    share of scenes under a starry sky (`STARRY`); the default, every sky equally likely,
    draws exactly as before it existed."""
    if split not in ("train", "eval"):
        raise ValueError(f"split must be 'train' or 'eval', got {split!r}")
    if not 0.0 <= starry_share <= 1.0:
        raise ValueError(f"starry_share must be between 0 and 1, got {starry_share!r}")
    while True:
        if starry_share == UNIFORM_STARRY:
            bg = str(rng.choice(BACKGROUNDS))
        else:
            bg = str(rng.choice(STARRY if rng.random() < starry_share else CLOUDY))
        color = str(rng.choice(COLORS))
        shape = str(rng.choice(SHAPES))
        motion = str(rng.choice(MOTIONS))
        if (color, bg) in CLASHES:
            continue
        if is_held_out(color, shape, bg, motion) == (split == "eval"):
            break
    objs = []
    x, y = _start_position(motion, rng, aspect)
    objs.append(ToyObject(shape, color, motion, x, y, float(rng.uniform(0.08, 0.13)),
                          float(rng.uniform(0.7, 1.3))))
    if split == "train" and rng.random() < two_object_probability:
        while True:
            c2, s2, m2 = str(rng.choice(COLORS)), str(rng.choice(SHAPES)), str(rng.choice(MOTIONS))
            if (c2, bg) not in CLASHES and c2 != color and not is_held_out(c2, s2, bg, m2):
                break
        x2, y2 = _start_position(m2, rng, aspect)
        if abs(x2 - x) < 0.25 and abs(y2 - y) < 0.25:
            y2 = y + (0.25 if y < 0.05 else -0.25)
        objs.append(ToyObject(s2, c2, m2, x2, y2, float(rng.uniform(0.06, 0.10)),
                              float(rng.uniform(0.7, 1.3))))
    move = "static"
    if rng.random() < camera_probability:
        move = str(rng.choice(CAMERA_MOVES[1:]))
    scene = ToyScene(bg, tuple(objs), move, float(rng.uniform(0.6, 1.5)),
                     int(rng.integers(0, 1000)))
    text = caption_for(scene, rng, camera_in_text=rng.random() < camera_in_text_probability)
    return ToyScene(scene.background, scene.objects, scene.camera, scene.camera_intensity,
                    scene.texture_seed, text)
