"""The gallery: a thumbnail for every clip in the project folder; click one to restore it.

    gallery = Gallery(store, on_pick=lambda entry: print(entry.shot), on_error=print)
    gallery.refresh()         # re-read the project folder (e.g. after a kernel restart)

The refresh button never raises into the browser (where the error would vanish): what
went wrong (the project folder deleted, say) goes to `on_error(exc)` — the Studio's
status line — and shows in the gallery's title. `gallery.refresh()` itself raises.

Reads only `Store.gallery()` (complete entries: the store writes a clip's JSON last),
so a clip that is half-written, or that failed, never shows up here. A damaged
thumbnail shows as a grey tile and still restores. No torch is imported here.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np

from .player import png_bytes

LIMIT = 24           # newest clips shown; older ones stay in the store
THUMB = 72           # tile height, pixels


def thumbnail_bytes(entry) -> bytes:
    """The entry's PNG thumbnail as stored, or a grey tile if it cannot be read."""
    try:
        data = entry.thumbnail.read_bytes()
        if data.startswith(b"\x89PNG"):
            return data
    except (OSError, AttributeError):
        pass
    return png_bytes(np.full((8, 8, 3), 96, np.uint8), THUMB)


def caption(entry, width: int = 16) -> str:
    """A one-line tile caption: the prompt's start (whole prompt in the tooltip)."""
    text = " ".join(str(getattr(entry, "prompt", "") or entry.id).split())
    return text if len(text) <= width else text[: width - 1] + "…"


class Gallery(widgets.VBox):
    """Thumbnails of `store.gallery()`, newest first; `on_pick(entry)` on click."""

    def __init__(self, store=None, on_pick: Callable | None = None, *, limit: int = LIMIT,
                 on_error: Callable[[BaseException], object] | None = None, **kwargs):
        self.store, self.on_pick, self.limit, self.on_error = store, on_pick, limit, on_error
        self.entries: list = []
        self.tiles: list[widgets.VBox] = []
        self._made: dict[str, widgets.VBox] = {}     # tiles by clip id, reused across refreshes
        self._seen: frozenset | None = None          # the clip records listed at the last refresh
        self.title = widgets.HTML("<b>Gallery</b>")
        self.grid = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap", overflow="auto",
                                                       max_height="260px"))
        self.refresh_button = widgets.Button(icon="refresh", tooltip="re-read the project folder",
                                             layout=widgets.Layout(width="36px"))
        self.refresh_button.on_click(lambda _b: self._refresh_clicked())
        super().__init__([widgets.HBox([self.title, self.refresh_button]), self.grid], **kwargs)
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the tiles from the store (newest `limit` clips)."""
        seen = self._listing()
        all_entries = [] if self.store is None else self.store.gallery()
        self._seen = seen
        self.entries = all_entries[: self.limit]
        self.tiles = [self._made.get(e.id) or self._tile(e) for e in self.entries]
        shown = {e.id for e in self.entries}
        for cid in [c for c in self._made if c not in shown]:
            tile = self._made.pop(cid)            # a clip that left the newest `limit`
            for w in (*tile.children, tile):
                w.close()
        self._made.update({e.id: t for e, t in zip(self.entries, self.tiles, strict=True)})
        self.grid.children = self.tiles
        more = len(all_entries) - len(self.entries)
        self.title.value = (f"<b>Gallery</b> · {len(all_entries)} clip{'' if len(all_entries) == 1 else 's'}"
                            + (f" (newest {self.limit} shown)" if more > 0 else ""))

    def refresh_if_changed(self) -> bool:
        """Refresh if clips were saved in (or removed from) the project folder since the
        last refresh — by another Studio or notebook, say. Only lists the folder when
        nothing changed. True when it refreshed."""
        if self._listing() == self._seen:
            return False
        self.refresh()
        return True

    def _listing(self) -> frozenset:
        if self.store is None:
            return frozenset()
        return frozenset(p.name for p in self.store.clips_dir.glob("*.json") if not p.name.startswith("."))

    def _refresh_clicked(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - a button callback: said, never raised into nowhere
            self.title.value = "<b>Gallery</b> · could not re-read the project folder" + (
                "" if self.on_error is not None else f": {html.escape(str(exc))}")
            if self.on_error is not None:
                self.on_error(exc)

    def pick(self, index_or_id) -> None:
        """The Python twin of clicking a tile: by position, or by clip id."""
        if isinstance(index_or_id, str):
            matches = [e for e in self.entries if e.id == index_or_id]
            if not matches:
                raise KeyError(f"clip {index_or_id!r} is not in the gallery")
            entry = matches[0]
        else:
            entry = self.entries[index_or_id]
        if self.on_pick is not None:
            self.on_pick(entry)

    def _tile(self, entry) -> widgets.VBox:
        image = widgets.Image(value=thumbnail_bytes(entry), format="png",
                              layout=widgets.Layout(height=f"{THUMB}px", width=f"{THUMB}px",
                                                    object_fit="contain"))
        # as wide as its caption (never cut into a second "…"), at least a tile wide
        button = widgets.Button(description=caption(entry), tooltip=getattr(entry, "prompt", ""),
                                layout=widgets.Layout(width="auto", min_width=f"{THUMB + 40}px"))
        button.on_click(lambda _b, e=entry: self.on_pick and self.on_pick(e))
        return widgets.VBox([image, button], layout=widgets.Layout(margin="2px", align_items="center"))
