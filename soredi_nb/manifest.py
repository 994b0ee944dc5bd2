"""A report site's memory: which folder belongs to which organisation, and what each page was made
from.

The manifest (``DIR/.soredi-site.json``) gives every report set's identity its folder name once
and keeps it, so two organisations whose names make the same slug can never take turns in one
folder. Every page is recorded with the key of everything it depends on, by content (extract,
alias file, notebook, parameters, package), never by how a path was typed; a page is reused only
when its key is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path

from soredi_nb import __version__, readers
from soredi_nb.extract import Extract
from soredi_nb.files import atomic_write, slugify
from soredi_nb.targets import Target

NAME = ".soredi-site.json"
FORMAT = 1


@cache
def package_digest() -> str:
    """SHA-256 of the package's code and data: a new version re-renders every page."""
    digest = hashlib.sha256(__version__.encode())
    root = Path(str(files("soredi_nb")))
    suffixes = {".py", ".yaml", ".csv", ".j2", ".css", ".json", ".mplstyle", ".ipynb"}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in suffixes:
            digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


def source_key(extract: Extract, previous: Extract | None = None, history=None) -> dict:
    """What every output of a run depends on, by content.

    Returns
    -------
    dict
        SHA-256 of the extract, of the alias file (``None`` without one), of the previous
        extract, of each extract of the history (``history.History``, in period order), and
        ``package_digest``. Paths as typed play no part.
    """
    aliases = extract.info.aliases
    past = None
    if history is not None:
        past = [[p, e.info.sha256] for p, e in zip(history.periods, history.extracts, strict=True)]
    return {
        "extract": extract.info.sha256,
        "aliases": readers.file_sha256(Path(aliases)) if aliases else None,
        "previous": previous.info.sha256 if previous is not None else None,
        "history": past,
        "package": package_digest(),
    }


def key(source: dict, what: str | bytes, selection: dict) -> str:
    """The key of one output (a page or a worklist).

    Parameters
    ----------
    source : dict
        The run's :func:`source_key`.
    what : str or bytes
        The notebook's content, or the kind of output (``"arbejdsliste.xlsx"``).
    selection : dict
        The target's parameters: organisation selector and filters.

    Returns
    -------
    str
        A SHA-256: equal keys mean the output would come out the same.
    """
    what = what if isinstance(what, bytes) else what.encode()
    parts = source | {"what": hashlib.sha256(what).hexdigest(), "selection": selection}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@dataclass
class Manifest:
    """The manifest of the site in ``folder``.

    Attributes
    ----------
    folder : Path
    slugs : dict
        Report-set identity -> its folder name.
    pages : dict
        ``"<slug>/<file>"`` -> key of the inputs it was made from (failed pages are absent).
    """

    folder: Path
    slugs: dict[str, str] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    # ``render`` records the worklists from one thread while it records pages from another.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """The manifest of ``folder``; empty when there is none or it is unreadable."""
        try:
            data = json.loads((folder / NAME).read_text("utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(data.get("format"))
            slugs, pages = dict(data["slugs"]), dict(data["pages"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls(folder)
        return cls(folder, slugs, pages)

    def slug(self, target: Target) -> str:
        """The folder name of ``target``: kept from earlier runs, else a new unused slug."""
        with self._lock:
            if target.identity not in self.slugs:
                taken = set(self.slugs.values())
                slug = base = slugify(target.label)
                n = 2
                while slug in taken:  # two names may fold to one slug
                    slug, n = f"{base}-{n}", n + 1
                self.slugs[target.identity] = slug
            return self.slugs[target.identity]

    def is_current(self, slug: str, name: str, key_: str) -> bool:
        """True when the file exists and was made from inputs with this key."""
        entry = f"{slug}/{name}"
        return (self.folder / entry).exists() and self.pages.get(entry) == key_

    def record(self, slug: str, name: str, key_: str | None) -> None:
        """Remember what a file was made from; ``None`` forgets it (it failed: run it again)."""
        entry = f"{slug}/{name}"
        with self._lock:
            if key_ is None:
                self.pages.pop(entry, None)
            else:
                self.pages[entry] = key_

    def write(self) -> None:
        """Save the manifest atomically."""
        with self._lock:
            data = {"format": FORMAT, "slugs": self.slugs, "pages": self.pages}
            atomic_write(self.folder / NAME, json.dumps(data, indent=1, sort_keys=True))
