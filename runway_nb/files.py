"""Writing files the way users expect: temp files beside the target (renamed over it, so a
failed write leaves nothing half-made) with the mode any new file gets, a check, made
before minutes of rendering, that the place can be written at all, and a report writer
that keeps minutes of results when the place fails anyway."""

from __future__ import annotations

import errno
import os
import secrets
import tempfile
from pathlib import Path

from .errors import InvalidInput, StoreError


def new_temp_file(path: Path) -> Path:
    """A new, empty hidden file beside `path` (same suffix) to write into and rename over it.
    Made with mode 0o666 less the umask, as open() makes files: tempfile.mkstemp's 0o600
    would travel with the rename and leave the user's video readable by its owner alone."""
    path = Path(path)
    for _ in range(100):
        tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}{path.suffix}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temp file name", str(path.parent))


def check_writable(path: Path, field: str, given=None) -> Path:
    """Refuse, naming `field`, a file path that cannot be written: a folder in its place, a
    missing folder, or one this user cannot write to (tried the way the write will: a temp
    file made beside it and removed)."""
    path = Path(path)
    given = str(path) if given is None else given
    if path.is_dir():
        raise InvalidInput(field, given, f"must not name a folder ({path} is one)")
    if not path.parent.is_dir():
        raise InvalidInput(field, given, "must be in an existing folder", f"Create {path.parent} first.")
    try:
        new_temp_file(path).unlink()
    except OSError as exc:
        raise InvalidInput(field, given, f"must be in a folder this user can write to "
                           f"({exc.strerror or exc})") from None
    return path


def write_report(path: Path, text: str, what: str = "the results") -> Path:
    """Write `text` (results that took minutes to make) to `path`: a temp file beside it,
    renamed over it. When that fails although `check_writable` passed before the work (a
    folder made in its place since, the disk full, the folder's rights changed), the text is
    not lost: it goes to a new file in the system's temp folder, or, if even that cannot be
    written, to stdout; then a StoreError says why and where the text went."""
    path = Path(path)
    try:
        tmp = new_temp_file(path)
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return path
    except OSError as exc:
        reason = exc.strerror or str(exc)
    try:
        fd, kept = tempfile.mkstemp(prefix=f"runway-nb-{path.stem}-", suffix=path.suffix or ".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        where = f"they were written to {kept} instead"
    except OSError:
        print(text, flush=True)
        where = "they were printed above instead"
    raise StoreError(f"could not write {what} to {path} ({reason}); {where}")


__all__ = ["check_writable", "new_temp_file", "write_report"]
