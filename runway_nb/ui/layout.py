"""Layout helpers shared by the Studio, its form, the player and the pads. No torch here.

Why they exist: ipywidgets lays boxes out with CSS flexbox, where every child may shrink
by default. A button squeezed below its text's width shows "u…" or "delet…", and a
fixed-width text box in a box that is too narrow is cut off at the box's edge. So
controls here keep their natural width (`flex: 0 0 auto`), and rows *wrap* onto a new
line when the notebook is narrow, instead of shrinking or clipping what they hold.

    row(a, b, c)                       # a wrapping row
    tool_button("undo", icon="undo", tooltip="undo the last edit")
"""

from __future__ import annotations

import ipywidgets as widgets

KEEP_WIDTH = "0 0 auto"        # CSS flex: never grow, never shrink below the natural width


def row(*children, **layout) -> widgets.HBox:
    """An HBox whose children wrap onto the next line rather than shrink or overflow."""
    layout.setdefault("flex_flow", "row wrap")
    layout.setdefault("align_items", "center")
    return widgets.HBox(list(children), layout=widgets.Layout(**layout))


def tool_button(description: str = "", *, icon: str = "", tooltip: str = "", **kwargs) -> widgets.Button:
    """A button exactly as wide as its label (and icon): it never shows an ellipsis."""
    return widgets.Button(description=description, icon=icon, tooltip=tooltip or description,
                          layout=widgets.Layout(width="auto", flex=KEEP_WIDTH), **kwargs)


def keep_width(widget: widgets.DOMWidget) -> widgets.DOMWidget:
    """Stop `widget` from shrinking in its row (it wraps to the next line instead)."""
    widget.layout.flex = KEEP_WIDTH
    return widget


__all__ = ["KEEP_WIDTH", "keep_width", "row", "tool_button"]
