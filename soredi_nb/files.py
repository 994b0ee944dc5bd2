"""Writing output files: atomically, under safe names, with operating-system errors in Danish."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path

from soredi_nb.danish import fold
from soredi_nb.exceptions import SorediError
from soredi_nb.texts import text

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # reading the umask means setting it; put it straight back
_REASONS = {
    errno.EACCES: "no_access",
    errno.EPERM: "no_access",
    errno.ENOENT: "missing",
    errno.EISDIR: "is_folder",
    errno.ENOTDIR: "not_folder",
    errno.EEXIST: "exists",
    errno.ENOSPC: "disk_full",
    errno.EROFS: "read_only",
    errno.ENAMETOOLONG: "name_too_long",
}


def reason(err: OSError) -> str:
    """Why an operating-system call failed, in Danish."""
    key = _REASONS.get(err.errno or 0)
    if key is None:
        return text("files.reasons.other", code=errno.errorcode.get(err.errno or 0, "?"))
    return text(f"files.reasons.{key}")


def slugify(name: str) -> str:
    """A safe file name for an organisation: lower-case ASCII, digits and dashes.

    Danish letters are transliterated (æ→ae, ø→oe, å→aa); other accents are dropped; anything
    else becomes a dash, so the result never contains ``/``, ``\\`` or ``..``.
    """
    s = unicodedata.normalize("NFKD", fold(name)).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:80].strip("-")
    return s or "organisation"


def stamp(path: str | os.PathLike) -> tuple[str, int | None, int | None]:
    """What tells whether a file changed since it was read: its resolved path, size and
    modification time (``None`` for a file that cannot be read, whose reader says why)."""
    path = Path(path).resolve()
    try:
        stat = path.stat()
    except OSError:
        return str(path), None, None
    return str(path), stat.st_size, stat.st_mtime_ns


def temporary_name(path: Path) -> Path:
    """A hidden unused name next to ``path`` (same folder, so a rename is atomic)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Write to a temporary name next to ``path``, then put it in ``path``'s place.

    Parameters
    ----------
    path : str or path-like
        The file to write; missing parent folders are created.

    Yields
    ------
    Path
        Where to write. On success it replaces ``path``; on any error it is removed, so
        ``path`` is the old file or the complete new one, never half written.

    Raises
    ------
    SorediError
        An operating-system error, naming ``path`` (not the temporary file), in Danish.
    """
    path = Path(path)
    tmp = temporary_name(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # the folder is the problem (e.g. a file in its place), not the file
        folder = path.parent
        raise SorediError(text("files.folder_failed", path=folder, reason=reason(err))) from err
    try:
        yield tmp
        # Temporary files may be private (mkstemp, some writers); reports are shared.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except OSError as err:
        raise SorediError(text("files.write_failed", path=path, reason=reason(err))) from err
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def atomic_write(path: str | os.PathLike, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; see :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def check_writable_folder(folder: str | os.PathLike) -> Path:
    """Make sure ``folder`` is (or can become) a folder this process can write to.

    Raises
    ------
    SorediError
        If it is a file, or cannot be created or written, naming the folder in Danish.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".soredi-probe-{uuid.uuid4().hex[:12]}"
        probe.write_bytes(b"")
        probe.unlink()
    except FileExistsError as err:
        raise SorediError(text("files.not_a_folder", path=folder)) from err
    except OSError as err:
        raise SorediError(text("files.folder_failed", path=folder, reason=reason(err))) from err
    return folder
