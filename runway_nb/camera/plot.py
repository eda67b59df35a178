"""Small SVG plots for Director Mode: measured camera paths and object tracks over the
requested ones (no matplotlib needed; they display inline in Jupyter and VS Code).

    compare_paths(requested, {"warp": measured_warp, "virtual": measured_virtual}, fps=8)
    compare_tracks(wanted_xy, {"brushed": xy, "no brush": xy0}, width=64, height=64)
"""

from __future__ import annotations

import html

import numpy as np

COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
PANELS = (("x (frame heights)", lambda c: c[:, 0]), ("y (frame heights)", lambda c: c[:, 1]),
          ("ln zoom", lambda c: np.log(c[:, 2])), ("roll (°)", lambda c: c[:, 3]))


class SVG:
    """A picture that shows itself in a notebook (`_repr_svg_`)."""

    def __init__(self, text: str):
        self.text = text

    def _repr_svg_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<SVG plot, {len(self.text)} characters>"


def _polyline(xs, ys, colour, dashed=False) -> str:
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys) if np.isfinite(x) and np.isfinite(y))
    dash = " stroke-dasharray='4 3'" if dashed else ""
    return f"<polyline points='{pts}' fill='none' stroke='{colour}' stroke-width='1.6'{dash}/>"


def _legend(names, x0, y) -> str:
    parts = []
    for j, (name, colour, dashed) in enumerate(names):
        x = x0 + j * 92
        parts.append(_polyline([x, x + 16], [y - 3, y - 3], colour, dashed))
        parts.append(f"<text x='{x + 20}' y='{y}'>{html.escape(name)}</text>")
    return "".join(parts)


def compare_paths(requested, measured: dict, fps: float = 8.0, size: int = 150) -> SVG:
    """Four panels (x, y, ln zoom, roll over time): the requested path dashed, each measured
    path (T, 4) solid in its colour."""
    req = np.asarray(requested, np.float64)
    series = {name: np.asarray(m, np.float64) for name, m in measured.items()}
    t = np.arange(len(req)) / fps
    parts, pad = [], 22
    for k, (label, get) in enumerate(PANELS):
        values = [get(req)] + [get(m) for m in series.values()]
        lo = min(float(np.nanmin(v)) for v in values)
        hi = max(float(np.nanmax(v)) for v in values)
        if hi - lo < 1e-6:
            lo, hi = lo - 0.5, hi + 0.5
        x0 = k * (size + 10)

        def sx(v, x0=x0):
            return x0 + pad + (v / max(t[-1], 1e-9)) * (size - pad - 4)

        def sy(v, lo=lo, hi=hi):
            return 14 + (hi - v) / (hi - lo) * (size - 34)

        parts.append(f"<rect x='{x0 + pad}' y='14' width='{size - pad - 4}' height='{size - 34}' "
                     f"fill='none' stroke='#ddd'/>")
        parts.append(f"<text x='{x0 + pad}' y='10'>{html.escape(label)}</text>")
        parts.append(f"<text x='{x0 + pad - 2}' y='{sy(hi) + 8:.1f}' text-anchor='end'>{hi:.2g}</text>")
        parts.append(f"<text x='{x0 + pad - 2}' y='{sy(lo):.1f}' text-anchor='end'>{lo:.2g}</text>")
        parts.append(_polyline(sx(t), sy(get(req)), "#000", dashed=True))
        for j, m in enumerate(series.values()):
            parts.append(_polyline(sx(t[: len(m)]), sy(get(m)), COLOURS[j % len(COLOURS)]))
    names = [("requested", "#000", True)] + [(n, COLOURS[j % len(COLOURS)], False) for j, n in enumerate(series)]
    width = 4 * (size + 10)
    parts.append(_legend(names, 30, size + 8))
    return SVG(f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{size + 14}' "
               f"font-family='sans-serif' font-size='10'>{''.join(parts)}</svg>")


def compare_tracks(requested, measured: dict, width: int, height: int, scale: float = 3.0) -> SVG:
    """Object centroids (T, 2) in pixels drawn in the frame: requested dashed, measured solid,
    a dot where each starts."""
    w, h = width * scale, height * scale
    parts = [f"<rect x='0.5' y='0.5' width='{w - 1}' height='{h - 1}' fill='#fafafa' stroke='#999'/>"]
    curves = [("requested", np.asarray(requested, float), "#000", True)]
    curves += [(n, np.asarray(m, float), COLOURS[j % len(COLOURS)], False) for j, (n, m) in enumerate(measured.items())]
    for _, xy, colour, dashed in curves:
        xs, ys = (xy[:, 0] + 0.5) * scale, (xy[:, 1] + 0.5) * scale
        parts.append(_polyline(xs, ys, colour, dashed))
        first = np.flatnonzero(np.isfinite(xs))
        if len(first):
            parts.append(f"<circle cx='{xs[first[0]]:.1f}' cy='{ys[first[0]]:.1f}' r='3' fill='{colour}'/>")
    parts.append(_legend([(n, c, d) for n, _, c, d in curves], 4, h + 14))
    return SVG(f"<svg xmlns='http://www.w3.org/2000/svg' width='{max(w, 92 * len(curves) + 8)}' "
               f"height='{h + 20}' font-family='sans-serif' font-size='10'>{''.join(parts)}</svg>")
