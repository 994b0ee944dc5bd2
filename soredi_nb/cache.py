"""On-disk cache of parsed extracts: one parquet file per table and a small JSON of the rest.

An entry is a folder named by a key that the loader derives from the file's content and every
input of its parsing, so an entry never needs invalidating: changed input means another key.
Caching is best effort: a damaged entry is ignored and rebuilt, and a failed write is skipped.

An entry is trusted only when it is exactly what :func:`write` stored: ``meta.json`` carries a
checksum of itself and the SHA-256 of every table file, the folder holds nothing else, and every
table has the canonical columns and dtypes of ``extract.canonical_frame``. Anything else (an
edited or shortened ``meta.json``, another table's parquet, other dtypes) is removed and the
extract parsed again, so a damaged entry can neither crash a report nor make a table "missing".
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import io
import json
import os
import re
import shutil
import uuid
from pathlib import Path

import pandas as pd
import platformdirs

from soredi_nb import schema
from soredi_nb.extract import Extract, ExtractInfo, Problem, canonical_frame

ENV_VAR = "SOREDI_NB_CACHE"
FORMAT = 2
"""Version of the entry layout below; entries of another format are ignored.

2: ``meta.json`` maps each table to the SHA-256 of its parquet file and carries a checksum."""
MAX_ENTRIES = 20
"""Entries kept; the least recently used beyond this are removed after each write."""
_META = "meta.json"
_KEY = re.compile(r"[0-9a-f]{64}")


def folder(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder of cache entries.

    It is the ``extracts`` subfolder of ``cache_dir``, else of ``$SOREDI_NB_CACHE``, else of the
    user cache folder: a subfolder, so that pruning never touches anything else in a folder the
    user chose.
    """
    base = cache_dir or os.environ.get(ENV_VAR) or platformdirs.user_cache_dir("soredi-nb")
    return Path(base) / "extracts"


def read(root: Path, key: str, file: str) -> Extract | None:
    """The cached extract for ``key`` with ``info.file`` set to ``file``, or ``None``.

    Parameters
    ----------
    root : pathlib.Path
        The folder of entries (:func:`folder`).
    key : str
        The entry's key, as the loader derives it.
    file : str
        The path the extract was asked for, set as ``info.file`` (the entry may have been written
        for a copy of the same file elsewhere).

    Returns
    -------
    Extract or None
        ``None`` for a missing entry, and for one that is not exactly what :func:`write` stored
        (damaged, edited, or with a table that has other columns or dtypes than the canonical
        ones): such an entry is removed, so the caller parses the extract again and caches that.
    """
    entry = root / key
    if not entry.is_dir():
        return None
    try:
        extract = _read_entry(entry, file)
    except Exception:
        # Any damage (truncated parquet, edited JSON, missing file, foreign content) means "not
        # cached": the extract is parsed again, never a traceback or a silently missing table.
        shutil.rmtree(entry, ignore_errors=True)
        return None
    _touch(entry)
    return extract


class _Mismatch(Exception):
    """An entry that is not what ``write`` stored."""


def _read_entry(entry: Path, file: str) -> Extract:
    """Read and check one entry; raise on any difference from what ``write`` stores."""
    meta = json.loads((entry / _META).read_text("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _Mismatch("format")
    if meta.pop("checksum", None) != _checksum(meta):
        raise _Mismatch("meta.json edited")
    digests = {int(n): d for n, d in meta["tables"].items()}
    # A table file not listed in meta would be a table quietly missing from the extract.
    if {p.name for p in entry.iterdir()} != {_META, *map(_table_file, digests)}:
        raise _Mismatch("files")
    tables = {n: _read_table(entry, n, digest) for n, digest in sorted(digests.items())}
    sheets = {int(n): name for n, name in meta["sheets"].items()}
    if sheets.keys() != tables.keys() or not all(isinstance(s, str) for s in sheets.values()):
        raise _Mismatch("sheets")
    info = meta["info"]
    date = info["extract_date"]
    return Extract(
        info=ExtractInfo(
            file, info["sha256"], info["period"], dt.date.fromisoformat(date) if date else None
        ),
        tables=tables,
        sheets=sheets,
        warnings=[Problem(**p) for p in meta["warnings"]],
    )


def _read_table(entry: Path, number: int, digest: str) -> pd.DataFrame:
    """One table of an entry, checked against its recorded digest and the canonical schema."""
    raw = (entry / _table_file(number)).read_bytes()
    if hashlib.sha256(raw).hexdigest() != digest:
        raise _Mismatch(f"table {number} changed")
    df = pd.read_parquet(io.BytesIO(raw))
    if not fits_schema(number, df):
        raise _Mismatch(f"table {number} schema")
    return df


def fits_schema(number: int, df: pd.DataFrame) -> bool:
    """Whether ``df`` has the shape the loader gives table ``number``.

    Parameters
    ----------
    number : int
        The table number (1-7).
    df : pandas.DataFrame
        A table as read from the cache.

    Returns
    -------
    bool
        True when the columns start with exactly the canonical columns of the table and
        ``excel_row``, with the dtypes ``extract.canonical_frame`` gives them, every further
        column (an unknown column of the sheet) is text with a name of its own, and the index
        is ``0 … n-1``.
    """
    if number not in schema.TABLE_NUMBERS:
        return False
    expected = _canonical_dtypes(number)
    k = len(expected)
    if list(df.columns[:k]) != [name for name, _ in expected] or not df.columns.is_unique:
        return False
    if any(df.dtypes.iloc[i] != dtype for i, (_, dtype) in enumerate(expected)):
        return False
    if not all(df[c].dtype == "str" for c in df.columns[k:]):
        return False
    return df.index.equals(pd.RangeIndex(len(df)))


@functools.cache  # building the reference frame costs more than checking a table against it
def _canonical_dtypes(number: int) -> tuple[tuple[str, object], ...]:
    """Canonical columns of table ``number`` and their dtypes, ``excel_row`` last."""
    # The empty canonical frame is the reference: one home for the columns and their dtypes.
    return tuple(canonical_frame(number, pd.DataFrame()).dtypes.items())


def write(root: Path, key: str, extract: Extract) -> None:
    """Store ``extract`` under ``key``, atomically: written to a temporary folder, then renamed.

    An extract whose tables do not fit the canonical schema is not stored: :func:`read` would
    discard it anyway.
    """
    if not all(fits_schema(n, df) for n, df in extract.tables.items()):
        return
    tmp = root / f".tmp-{key}-{uuid.uuid4().hex}"
    try:
        tmp.mkdir(parents=True)
        digests = {}
        for number, df in extract.tables.items():
            raw = df.to_parquet()
            (tmp / _table_file(number)).write_bytes(raw)
            digests[str(number)] = hashlib.sha256(raw).hexdigest()
        meta = {
            "format": FORMAT,
            "tables": digests,
            "info": extract.info.to_dict(),
            "sheets": extract.sheets,
            "warnings": [p.to_dict() for p in extract.warnings],
        }
        # Checksummed as read back: JSON turns the sheets' int keys into text.
        meta = json.loads(json.dumps(meta, ensure_ascii=False))
        meta["checksum"] = _checksum(meta)
        (tmp / _META).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        tmp.rename(root / key)
    except OSError:
        # A read-only or full disk, or another process that wrote the same entry first: the
        # extract is loaded all the same, only not cached.
        shutil.rmtree(tmp, ignore_errors=True)
        return
    _prune(root)


def _table_file(number: int) -> str:
    """File name of a table in an entry."""
    return f"table_{number}.parquet"


def _checksum(meta: dict) -> str:
    """SHA-256 of the metadata (without its checksum), independent of key order."""
    text = json.dumps(meta, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _touch(entry: Path) -> None:
    """Mark an entry as recently used."""
    with contextlib.suppress(OSError):
        os.utime(entry)


def _prune(root: Path) -> None:
    """Remove the least recently used entries beyond ``MAX_ENTRIES``."""
    try:
        entries = [p for p in root.iterdir() if _KEY.fullmatch(p.name) and p.is_dir()]
        entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in entries[MAX_ENTRIES:]:
        shutil.rmtree(old, ignore_errors=True)
