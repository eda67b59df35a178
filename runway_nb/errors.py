"""The exceptions runway_nb raises, written for people.

Every message says what was wrong (the field and the value), what is allowed, and —
where there is one — what to do. Catch `RunwayError` to catch them all.

    RunwayError
    ├── InvalidInput          (also a ValueError)  bad argument, Shot field, schedule, path…
    │   └── UnsupportedCapability                  the engine cannot do what was asked
    ├── EngineNotFound        (also a LookupError) unknown engine id or not a pipeline folder
    ├── WeightsError                               missing / corrupt / unsafe weights
    ├── MissingDependency     (also ImportError)   an optional package is not installed
    ├── Cancelled                                  a render was cancelled by the user
    └── StoreError            (also OSError)       the project folder cannot be written/read
        └── SequenceChanged                        an autosaved sequence's file was changed by
                                                   another writer: the edit is not saved over it
"""

from __future__ import annotations

import sys
from typing import Any

# the exit statuses of runway_nb's commands (runway-nb, python -m runway_nb.eval / .bench):
# 2 for a request that is not allowed, as argparse's own usage errors; 130 for a Ctrl-C
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class RunwayError(Exception):
    """Base class of every error runway_nb raises on purpose."""


class InvalidInput(RunwayError, ValueError):
    """A value was refused. Carries `field`, `value` and `allowed` for programs."""

    def __init__(self, field: str, value: Any, allowed: str, hint: str | None = None):
        self.field, self.value, self.allowed, self.hint = field, value, allowed, hint
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        message = f"{field}={shown} is not allowed: {allowed}."
        if hint:
            message += f" {hint}"
        super().__init__(message)


class UnsupportedCapability(InvalidInput):
    """The engine cannot do this (e.g. extend, a camera mode, a size)."""


class EngineNotFound(RunwayError, LookupError):
    pass


class WeightsError(RunwayError):
    pass


class MissingDependency(RunwayError, ImportError):
    def __init__(self, package: str, purpose: str, extra: str | None = None):
        cmd = f"pip install 'runway_nb[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{purpose} needs the optional package {package!r}, which is not "
                         f"installed. Install it with: {cmd}")
        self.package = package


class Cancelled(RunwayError):
    """Raised by `Engine.render` when its `cancel` signal was set; nothing was saved."""


class StoreError(RunwayError, OSError):
    pass


class SequenceChanged(StoreError):
    """An autosaved Sequence's file was saved by someone else (another Studio or notebook
    on the project) since this Sequence read or saved it: the edit is undone here, not
    saved over theirs. Reload with `store.load_sequence(name)` and redo it."""


def check_number(field: str, value: Any, *, low=None, high=None, integer=False,
                 low_inclusive=True) -> float | int:
    """Validate a finite number in a range; return it as a plain Python number (an int when
    `integer`: 2.0 and numpy's int64(2) come back as 2). numpy scalars are numbers too."""
    import math
    import numbers
    import sys

    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (
            integer and not isinstance(value, numbers.Integral) and not float(value).is_integer()):
        kind = "an integer" if integer else "a number"
        raise InvalidInput(field, value, f"must be {kind}")
    try:
        finite = math.isfinite(value)
    except OverflowError:       # an integer past what a float holds (10**400): finite, but too big
        finite = None
    if finite is False:
        raise InvalidInput(field, value, "must be a finite number (not NaN or infinity)")
    lo_ok = low is None or (value >= low if low_inclusive else value > low)
    if not lo_ok or (high is not None and value > high):
        lo = "" if low is None else (f"≥ {low}" if low_inclusive else f"> {low}")
        hi = "" if high is None else f"≤ {high}"
        raise InvalidInput(field, value, "must be " + " and ".join(x for x in (lo, hi) if x))
    if finite is None:
        raise InvalidInput(field, value, f"must be a number of at most {sys.float_info.max:.4g} in size")
    if integer:
        return int(value)
    return value if type(value) in (int, float) else (
        int(value) if isinstance(value, numbers.Integral) else float(value))


def say_failure(prog: str, exc: BaseException, parser=None) -> int:
    """What a command line says when `exc` stops it: one line on stderr, `<prog>: error: …`
    (never a traceback), and the exit status to leave with: EXIT_USAGE for what the user
    asked that is not allowed (a value, an engine), EXIT_ERROR for what stood in the way
    (weights not installed, a folder not writable, a full disk). With the command's argparse
    `parser`, a refused value is named by the flag the user typed (options.as_flag)."""
    from .options import as_flag

    exc = as_flag(parser, exc)
    if isinstance(exc, OSError) and not isinstance(exc, RunwayError):
        # an OSError's str() is "[Errno 28] No space left on device: 'out.mp4'": said plainly
        message = f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}"
    else:
        message = str(exc)
    print(f"{prog}: error: {message}", file=sys.stderr)
    return EXIT_USAGE if isinstance(exc, (InvalidInput, EngineNotFound)) else EXIT_ERROR
