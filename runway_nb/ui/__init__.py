"""Notebook widgets: thin skins over the pure core. No torch is imported here.

    from runway_nb.ui import Studio, Player, Gallery, Renderer
    from runway_nb.ui import CameraPad, BrushPad          # Director Mode's pads

Each name loads its module on first use, so `import runway_nb.ui` costs nothing; the
engine (and torch with it) is loaded only when a Studio is made.
"""

from __future__ import annotations

import importlib

from .colab import enable_custom_widgets

enable_custom_widgets()      # on Colab, third-party widgets render only once this is on

__all__ = ["BrushPad", "CameraPad", "Gallery", "Player", "Renderer", "Studio"]

_LAZY = {"Studio": "studio", "Player": "player", "Gallery": "gallery", "Renderer": "worker",
         "CameraPad": "camera_pad", "BrushPad": "brush_pad"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'runway_nb.ui' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
