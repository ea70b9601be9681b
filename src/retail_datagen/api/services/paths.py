"""Every file-related request parameter passes through here: nothing leaves the data folder.

* export folders must lie inside the data folder;
* ``file://`` sinks must lie inside the data folder or a directory listed in
  ``RETAIL_DATAGEN_ALLOWED_SINK_DIRS`` (``os.pathsep``-separated);
* table names must be registry names (``schema.get_table``, a 404 for any other name).

Paths are resolved (``..`` and symlinks followed) before the check, so ``../`` tricks and
symlinks pointing outside are refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from retail_datagen.api.services.errors import Forbidden
from retail_datagen.errors import UserError

__all__ = ["checked_export_dir", "checked_sink_file", "inside"]


def inside(path: Path, folder: Path) -> bool:
    """True when ``path`` (resolved) is ``folder`` or below it."""
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _resolve_under(raw: str, root: Path) -> Path:
    if "\x00" in raw:
        raise UserError("path contains a NUL character")
    path = Path(raw).expanduser()
    return (path if path.is_absolute() else root / path).resolve()


def checked_export_dir(raw: str | None, root: Path) -> Path | None:
    """The export folder (None: the default ``<data>/export``); only inside the data folder."""
    if raw is None or not raw.strip():
        return None
    path = _resolve_under(raw.strip(), root)
    if path == root.resolve() or not inside(path, root):
        raise Forbidden(
            f"out_dir {raw!r} resolves to {path}, which is not inside the data folder {root}; "
            "exports are written below the data folder only"
        )
    return path


def checked_sink_file(path: Path, root: Path, allowed: Iterable[Path]) -> Path:
    """A file sink's target (already parsed by the sink URL parser) in an allowed folder."""
    resolved = path.resolve()
    places = [p.resolve() for p in (root, *allowed)]
    if resolved in places or not any(inside(resolved, p) for p in places):
        where = ", ".join(str(p) for p in places)
        raise Forbidden(
            f"file sink {resolved} is outside the allowed folders ({where}); write below the "
            "data folder or add a directory to RETAIL_DATAGEN_ALLOWED_SINK_DIRS"
        )
    return resolved
