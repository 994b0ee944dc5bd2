"""The reference layout of the extract: canonical columns, their types and the seven tables.

The facts live in ``data/tables.yaml``; this module gives them types and one access point.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from soredi_nb.reference import package_yaml

TABLE_NUMBERS = range(1, 8)


@dataclass(frozen=True)
class Column:
    """A canonical column: its name, Danish label (reference header) and cell type."""

    name: str
    label: str
    type: str


@dataclass(frozen=True)
class Table:
    """One of the seven tables of the extract."""

    number: int
    slug: str
    name: str
    counts: str | None
    """What ``antal`` counts: ``"messages"``, ``"negative_receipts"``, or ``None`` (no count)."""
    headers: dict[str, str]
    """Canonical column -> reference header, identity columns first, then the table's own."""
    guide_title: str = ""
    """The table's title in MedCom's cleanup guide; sheets are often named by it."""

    @property
    def columns(self) -> list[str]:
        """Canonical column names in reference order."""
        return list(self.headers)


@cache
def _raw() -> dict:
    """Parse ``tables.yaml`` once."""
    return package_yaml("tables.yaml")


@cache
def columns() -> dict[str, Column]:
    """All canonical columns by name."""
    return {name: Column(name, c["label"], c["type"]) for name, c in _raw()["columns"].items()}


def identity_columns() -> list[str]:
    """Columns present on every table, in reference order."""
    return list(_raw()["identity"])


def required_columns() -> list[str]:
    """Columns without which a table sheet cannot be read."""
    return list(_raw()["required"])


def optional_columns() -> list[str]:
    """Columns whose absence is not worth a warning."""
    return list(_raw()["optional"])


@cache
def tables() -> dict[int, Table]:
    """The seven tables by number."""
    cols = columns()
    out = {}
    for number, t in _raw()["tables"].items():
        headers = {name: cols[name].label for name in identity_columns()} | dict(t["columns"])
        counts = t["counts"] or None
        title = t.get("guide_title", "")
        out[int(number)] = Table(int(number), t["slug"], t["name"], counts, headers, title)
    return out


def table(number: int) -> Table:
    """The table with this number (1-7)."""
    return tables()[number]


def info_sheet() -> tuple[str, dict[str, str]]:
    """Name of the metadata sheet and its keys mapped to ``ExtractInfo`` field names."""
    info = _raw()["info"]
    return info["sheet"], dict(info["keys"])
