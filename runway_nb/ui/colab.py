"""Google Colab: switch on its custom widget manager, once, before any widget is shown.

Colab's front end renders only its built-in widgets until the notebook calls
`google.colab.output.enable_custom_widget_manager()`; without it the Studio, the camera
pad (ipycanvas) and the player show as an error box. `runway_nb.ui` calls
`enable_custom_widgets()` when it is imported, so users never have to. Everywhere else
(JupyterLab, Notebook 7, VS Code, Binder) it does nothing.
"""

from __future__ import annotations

import sys
import warnings

MANUAL = "from google.colab import output; output.enable_custom_widget_manager()"
_enabled = False


def in_colab() -> bool:
    """True inside a Colab kernel (which always has `google.colab` imported)."""
    return "google.colab" in sys.modules


def enable_custom_widgets() -> bool:
    """Turn Colab's custom widget manager on (once). True when it is on, False outside
    Colab; if Colab refuses, a warning gives the one line to run by hand."""
    global _enabled
    if _enabled or not in_colab():
        return _enabled
    try:
        from google.colab import output

        output.enable_custom_widget_manager()
    except Exception as exc:  # noqa: BLE001 - an old or changed Colab: say what to run instead
        warnings.warn(f"runway_nb could not enable Colab's custom widgets ({type(exc).__name__}: {exc}); "
                      f"run `{MANUAL}` before showing a Studio.", RuntimeWarning, stacklevel=2)
        return False
    _enabled = True
    return True


__all__ = ["enable_custom_widgets", "in_colab"]
