"""On-disk cache of parsed extracts: one parquet file per table and a small JSON of the rest.

An entry is a folder named by a key that the loader derives from the file's content and every
input of its parsing, so an entry never needs invalidating: changed input means another key.
Caching is best effort: a damaged entry is ignored and rebuilt, and a failed write is skipped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import uuid
from pathlib import Path

import pandas as pd
import platformdirs

from soredi_nb.extract import Extract, ExtractInfo, Problem

ENV_VAR = "SOREDI_NB_CACHE"
FORMAT = 1
"""Version of the entry layout below; entries of another format are ignored."""
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

    A missing, partial or unreadable entry gives ``None``; an unreadable one is removed.
    """
    entry = root / key
    if not entry.is_dir():
        return None
    try:
        meta = json.loads((entry / _META).read_text("utf-8"))
        if meta["format"] != FORMAT:
            raise ValueError(meta["format"])
        tables = {n: pd.read_parquet(entry / f"table_{n}.parquet") for n in meta["tables"]}
        info = meta["info"]
        date = info["extract_date"]
        extract = Extract(
            info=ExtractInfo(
                file, info["sha256"], info["period"], dt.date.fromisoformat(date) if date else None
            ),
            tables=tables,
            sheets={int(n): name for n, name in meta["sheets"].items()},
            warnings=[Problem(**p) for p in meta["warnings"]],
        )
    except Exception:
        # Any damage (truncated parquet, edited JSON, missing file) means "not cached".
        shutil.rmtree(entry, ignore_errors=True)
        return None
    _touch(entry)
    return extract


def write(root: Path, key: str, extract: Extract) -> None:
    """Store ``extract`` under ``key``, atomically: written to a temporary folder, then renamed."""
    tmp = root / f".tmp-{key}-{uuid.uuid4().hex}"
    try:
        tmp.mkdir(parents=True)
        for number, df in extract.tables.items():
            df.to_parquet(tmp / f"table_{number}.parquet")
        meta = {
            "format": FORMAT,
            "tables": list(extract.tables),
            "info": extract.info.to_dict(),
            "sheets": extract.sheets,
            "warnings": [p.to_dict() for p in extract.warnings],
        }
        (tmp / _META).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        tmp.rename(root / key)
    except OSError:
        # A read-only or full disk, or another process that wrote the same entry first: the
        # extract is loaded all the same, only not cached.
        shutil.rmtree(tmp, ignore_errors=True)
        return
    _prune(root)


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
